// Test fixtures on the real engine, made offline (no registry here): images from Debian's static busybox and
// from programs compiled with gcc -static. Everything a test creates carries TEST_LABEL.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, symlinkSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_LABEL_KEY = 'io.porthole.test';
export const TEST_LABEL = `${TEST_LABEL_KEY}=1`;
export const BUSYBOX_IMAGE = 'porthole-fixture/busybox:1';

export function docker(args: string[], input?: string | Buffer): string {
  return execFileSync('docker', args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

export function dockerStatus(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function imageExists(ref: string): boolean {
  return dockerStatus(['image', 'inspect', ref]).status === 0;
}

/** Imports a root filesystem folder as an image. */
export function importRootfs(dir: string, ref: string, changes: string[] = []): void {
  const tar = execFileSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 512 * 1024 * 1024 });
  docker(['import', ...changes.flatMap((c) => ['--change', c]), '-', ref], tar);
}

/** A busybox root: every applet linked, /etc/passwd with root and an unprivileged user. */
export function ensureBusyboxImage(): string {
  if (imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  const root = mkdtempSync(join(tmpdir(), 'porthole-bb-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'root', 'home/app', 'var/log']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n');
    chmodSync(join(root, 'tmp'), 0o1777);
    importRootfs(root, BUSYBOX_IMAGE, ['ENV PATH=/bin', 'CMD ["sh"]']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return BUSYBOX_IMAGE;
}

/** Compiles a C program with gcc -static and imports an image holding only it (no shell, no libc files). */
export function ensureStaticImage(ref: string, source: string, changes: string[] = []): string {
  if (imageExists(ref)) return ref;
  const root = mkdtempSync(join(tmpdir(), 'porthole-static-'));
  try {
    const src = join(root, 'prog.c');
    writeFileSync(src, source);
    const image = join(root, 'image');
    mkdirSync(image);
    execFileSync('gcc', ['-static', '-O2', '-o', join(image, 'app'), src]);
    rmSync(src);
    importRootfs(image, ref, [`ENTRYPOINT ["/app"]`, ...changes]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return ref;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  return `pt-${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** docker run -d with the test label; returns the container name. */
export function runContainer(name: string, args: string[], image = BUSYBOX_IMAGE, cmd: string[] = []): string {
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, ...args, image, ...cmd]);
  return name;
}

export function createContainer(name: string, args: string[], image = BUSYBOX_IMAGE, cmd: string[] = []): string {
  docker(['create', '--name', name, '--label', TEST_LABEL, ...args, image, ...cmd]);
  return name;
}

export function removeContainers(...names: string[]): void {
  if (names.length) dockerStatus(['rm', '-f', '-v', ...names]);
}

/**
 * What porthole left on the engine: containers and volumes labelled io.porthole.owned=true, images labelled
 * io.porthole.image.owned=true (porthole's snapshot images use their own namespace, see src/enter/session.ts),
 * and any image with the container label, which porthole must no longer write on one.
 */
export function portholeLeftovers(): string[] {
  const owned = ['--filter', 'label=io.porthole.owned=true'];
  const out = [
    docker(['ps', '-a', '-q', ...owned]),
    docker(['images', '-q', ...owned]),
    docker(['images', '-q', '--filter', 'label=io.porthole.image.owned=true']),
    docker(['volume', 'ls', '-q', ...owned]),
  ];
  return [...new Set(out.join('\n').split('\n').filter(Boolean))];
}

/** The parts of a container that looking must never change. */
export function containerFingerprint(name: string): { state: unknown; diff: string; logs: string; config: unknown } {
  const inspect = JSON.parse(docker(['inspect', name]))[0];
  return {
    state: inspect.State,
    // The engine lists changes in no fixed order: compare them as a sorted set.
    diff: docker(['diff', name]).split('\n').sort().join('\n'),
    logs: dockerStatus(['logs', name]).stdout + '\u0000' + dockerStatus(['logs', name]).stderr,
    // Mount points come in map order too, which varies between calls for a container with volumes.
    config: {
      Config: inspect.Config,
      HostConfig: inspect.HostConfig,
      Mounts: [...(inspect.Mounts ?? [])].sort((a: { Destination: string }, b: { Destination: string }) => a.Destination.localeCompare(b.Destination)),
    },
  };
}

/**
 * What porthole left for the sessions that targeted this container id (label io.porthole.target): unlike
 * portholeLeftovers(), blind to other sessions working on the same engine at the same time.
 */
export function leftoversFor(containerId: string): string[] {
  const filters = ['--filter', 'label=io.porthole.owned=true', '--filter', `label=io.porthole.target=${containerId}`];
  const imageFilters = ['--filter', 'label=io.porthole.image.owned=true', '--filter', `label=io.porthole.image.target=${containerId}`];
  return [docker(['ps', '-aq', ...filters]), docker(['images', '-q', ...filters]), docker(['images', '-q', ...imageFilters]), docker(['volume', 'ls', '-q', ...filters])]
    .join('\n')
    .split('\n')
    .filter(Boolean);
}
