// Fixtures for the crash report, logs and edit tests: a real nginx that fails at start on line 1 of its config
// (built with the demo's own builder, under a test name and label), and helpers to wait on container states.
import { connectEngine } from '../../src/engine/index.js';
import { buildCrash, findNginx } from '../../src/demo/images.js';
import { docker, dockerStatus, TEST_LABEL_KEY } from './docker.js';

export { containerFingerprint as stableFingerprint, leftoversFor } from './docker.js';

export const NGINX_CRASH_IMAGE = 'porthole-fixture/nginx-crash:1';
export const STANDIN_CRASH_IMAGE = 'porthole-fixture/standin-crash:1';

let building: Promise<string> | undefined;
let buildingStandIn: Promise<string> | undefined;

async function build(image: string, forceStandIn: boolean): Promise<string> {
  if (dockerStatus(['image', 'inspect', image]).status === 0) return image;
  const engine = await connectEngine({ env: process.env });
  try {
    const nginx = forceStandIn ? { ok: false as const, reason: 'the test asked for the stand-in' } : findNginx();
    await buildCrash(engine, () => undefined, { image, labels: { [TEST_LABEL_KEY]: '1' } }, nginx);
  } finally {
    engine.close();
  }
  return image;
}

/** nginx from this machine, crashing at start on `invalid_directive;` (the seed's crash image). */
export function ensureNginxCrashImage(): Promise<string> {
  building ??= build(NGINX_CRASH_IMAGE, false);
  return building;
}

/** The busybox stand-in the demo uses when nginx is not installed. */
export function ensureStandInCrashImage(): Promise<string> {
  buildingStandIn ??= build(STANDIN_CRASH_IMAGE, true);
  return buildingStandIn;
}

export function nginxAvailable(): boolean {
  return findNginx().ok;
}

export function inspectState(name: string): { Status: string; ExitCode: number; OOMKilled: boolean; Running: boolean; Health?: { Status: string } } {
  return JSON.parse(docker(['inspect', '-f', '{{json .State}}', name]));
}

/** Polls until `check` holds for the container's state, or fails after `timeoutMs`. */
export async function waitFor(name: string, check: (state: ReturnType<typeof inspectState>) => boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = inspectState(name);
    if (check(state)) return;
    if (Date.now() > deadline) throw new Error(`container ${name} did not reach the expected state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Container and image ids on the engine, to prove a command created nothing. */
export function engineObjects(): { containers: string[]; images: string[] } {
  const containers = docker(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean).sort();
  const images = docker(['images', '-aq', '--no-trunc']).split('\n').filter(Boolean).sort();
  return { containers, images };
}


