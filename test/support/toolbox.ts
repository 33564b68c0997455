// Fixtures for the toolbox tests: a shell-less image holding one static C program, the toolbox itself, and a
// custom toolbox image with a tool of its own. Images are shared between runs (fixed names, test label);
// containers are the tests' own and removed by them.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { TEST_LABEL, docker, dockerStatus, ensureStaticImage, importRootfs } from './docker.js';

export const DEFAULT_TOOLBOX = 'porthole/toolbox:1';
export const STATIC_IMAGE = 'porthole-fixture/toolbox-static:1';
export const CUSTOM_TOOLBOX = 'porthole-fixture/custom-toolbox:1';
export const PASSWD_IMAGE = 'porthole-fixture/toolbox-static-passwd:1';
export const CUSTOM_TOOL_OUTPUT = 'hello from the custom toolbox';

/** Writes /started when it can (a root target), then waits for a signal; nothing else in the image. */
const STATIC_SOURCE = `
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static void bye(int s) { (void)s; _exit(0); }
int main(void) {
  signal(SIGTERM, bye);
  FILE *f = fopen("/started", "w");
  if (f) { fputs("yes\\n", f); fclose(f); }
  for (;;) pause();
}
`;

const TOOL_SOURCE = `
#include <stdio.h>
int main(void) { puts("${CUSTOM_TOOL_OUTPUT}"); return 0; }
`;

function imageExists(ref: string): boolean {
  return dockerStatus(['image', 'inspect', ref]).status === 0;
}

export function ensureShellLessImage(): string {
  return ensureStaticImage(STATIC_IMAGE, STATIC_SOURCE, [`LABEL ${TEST_LABEL}`]);
}

/** The same program with an /etc/passwd and /etc/group naming its users, like distroless's nonroot images. */
export function ensurePasswdImage(): string {
  if (imageExists(PASSWD_IMAGE)) return PASSWD_IMAGE;
  const root = mkdtempSync(join(tmpdir(), 'porthole-passwd-'));
  try {
    mkdirSync(join(root, 'etc'));
    const src = join(root, 'prog.c');
    writeFileSync(src, STATIC_SOURCE);
    execFileSync('gcc', ['-static', '-O2', '-o', join(root, 'app'), src]);
    rmSync(src);
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000:app:/home/app:/sbin/nologin\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
    importRootfs(root, PASSWD_IMAGE, ['ENTRYPOINT ["/app"]', `LABEL ${TEST_LABEL}`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return PASSWD_IMAGE;
}

/**
 * Starts as root and switches to uid/gid 1000 when run with "drop", then re-executes itself, as gosu does;
 * exits with 3 at once when run with "exit".
 */
const DROPPING_SOURCE = `
#include <signal.h>
#include <string.h>
#include <unistd.h>
static void bye(int s) { (void)s; _exit(0); }
int main(int argc, char **argv) {
  signal(SIGTERM, bye);
  if (argc > 1 && strcmp(argv[1], "exit") == 0) return 3;
  if (argc > 1 && strcmp(argv[1], "drop") == 0) {
    if (setgid(1000) || setuid(1000)) return 1;
    execl("/app", "/app", "dropped", (char *)0);
    return 1;
  }
  for (;;) pause();
}
`;

export const DROPPING_IMAGE = 'porthole-fixture/toolbox-static-drop:2';

/** A running container configured as root whose process runs as 1000:1000. */
export function runDropping(name: string): string {
  ensureStaticImage(DROPPING_IMAGE, DROPPING_SOURCE, [`LABEL ${TEST_LABEL}`]);
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, DROPPING_IMAGE, 'drop']);
  return name;
}

/** A shell-less container that exits at once and is restarted by its policy, again and again. */
export function runCrashLooping(name: string): string {
  ensureStaticImage(DROPPING_IMAGE, DROPPING_SOURCE, [`LABEL ${TEST_LABEL}`]);
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, '--restart', 'always', DROPPING_IMAGE, 'exit']);
  return name;
}

/** The default toolbox, built with the CLI under test when it is not there yet (it is a kept tool, not debris). */
export function ensureToolbox(): string {
  if (!imageExists(DEFAULT_TOOLBOX)) execFileSync(BIN, ['toolbox', 'build'], { stdio: 'ignore' });
  return DEFAULT_TOOLBOX;
}

/** A toolbox of the user's own: a static tool in /opt/tools/bin (on the image's PATH), and nothing else. */
export function ensureCustomToolbox(): string {
  if (imageExists(CUSTOM_TOOLBOX)) return CUSTOM_TOOLBOX;
  const root = mkdtempSync(join(tmpdir(), 'porthole-custom-tb-'));
  try {
    mkdirSync(join(root, 'opt/tools/bin'), { recursive: true });
    const src = join(root, 'tool.c');
    writeFileSync(src, TOOL_SOURCE);
    execFileSync('gcc', ['-static', '-O2', '-o', join(root, 'opt/tools/bin/custom-tool'), src]);
    rmSync(src);
    copyFileSync('/bin/busybox', join(root, 'opt/tools/bin/busybox'));
    chmodSync(join(root, 'opt/tools/bin/busybox'), 0o755);
    importRootfs(root, CUSTOM_TOOLBOX, ['ENV PATH=/opt/tools/bin', `LABEL ${TEST_LABEL}`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return CUSTOM_TOOLBOX;
}

/** docker run -d of the shell-less image with the test label; returns once its program has started. */
export function runShellLess(name: string, args: string[] = []): string {
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, ...args, ensureShellLessImage()]);
  return name;
}

export function createShellLess(name: string, args: string[] = []): string {
  docker(['create', '--name', name, '--label', TEST_LABEL, ...args, ensureShellLessImage()]);
  return name;
}

/** The sidecars and snapshot things porthole made for sessions on this container that are still there. */
export function toolboxLeftovers(containerId: string): string[] {
  const filter = ['--filter', `label=io.porthole.target=${containerId}`];
  const imageFilter = ['--filter', `label=io.porthole.image.target=${containerId}`];
  return [docker(['ps', '-a', '-q', ...filter]), docker(['images', '-q', ...filter]), docker(['images', '-q', ...imageFilter])].join('\n').split('\n').filter(Boolean);
}
