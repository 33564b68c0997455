// `porthole toolbox build --with PROGRAM,...` (issue 16 part 4) on the real engine: host programs carried with
// every library they load and their loader, so Debian's dynamic strace runs next to a container that has no libc
// at all; the sentence for a command the toolbox lacks; a user's toolbox holding a dynamic binary without its
// loader; `--from /missing`. The toolbox built here has a name of its own (PORTHOLE_TOOLBOX_IMAGE), so the shared
// porthole/toolbox:1 is never touched, and it is removed at the end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, hasCommand, porthole, runProcess } from '../support/cli.js';
import { TEST_LABEL, containerFingerprint, docker, dockerStatus, ensureStaticImage, importRootfs, removeContainers, uniqueName } from '../support/docker.js';
import { containerId } from '../support/procs.js';
import { toolboxLeftovers } from '../support/toolbox.js';

const TOOLBOX = `porthole-fixture/toolbox-with-${process.pid}:1`;
const DYNAMIC_TOOLBOX = 'porthole-fixture/toolbox-with-dynamic:1';
const env = { PORTHOLE_TOOLBOX_IMAGE: TOOLBOX };
const writer = uniqueName('toolbox-with-writer');
const skip = !hasCommand('strace') || !hasCommand('ldd');

/** Writes a line to stdout ten times a second: a shell-less, libc-less process with system calls to watch. */
const WRITER_SOURCE = `
#include <time.h>
#include <unistd.h>
int main(void) {
  struct timespec t = { 0, 100000000 };
  for (;;) { if (write(1, "tick\\n", 5) < 0) return 1; nanosleep(&t, 0); }
}
`;
const WRITER_IMAGE = 'porthole-fixture/toolbox-with-writer:1';

let fingerprint: ReturnType<typeof containerFingerprint>;

before(() => {
  if (skip) return;
  ensureStaticImage(WRITER_IMAGE, WRITER_SOURCE, [`LABEL ${TEST_LABEL}`]);
  docker(['run', '-d', '--name', writer, '--label', TEST_LABEL, '--log-driver', 'none', WRITER_IMAGE]);
  fingerprint = containerFingerprint(writer);
});

after(async () => {
  removeContainers(writer);
  if (!skip) await porthole(['toolbox', 'rm'], { env });
  dockerStatus(['rmi', DYNAMIC_TOOLBOX]);
});

test('toolbox build --with: says what it carried (with its libraries) and what it could not find', { skip }, async () => {
  const r = await porthole(['toolbox', 'build', '--with', 'strace,no-such-program-xyz', '--with', '/usr/bin/lsof'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${TOOLBOX.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} [0-9a-f]{12} \\(\\d+ tools from /bin/busybox, amd64\\)\\n`));
  const strace = /^ {2}with strace {2}(\S+), (\d+) libraries$/m.exec(r.stdout);
  assert.ok(strace, r.stdout);
  assert.equal(strace[1], execFileSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).trim());
  // ldd's own count: every library with a path, the loader included, vdso left out.
  const ldd = execFileSync('ldd', [strace[1]!], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('/')).length;
  assert.equal(Number(strace[2]), ldd);
  if (hasCommand('lsof')) assert.match(r.stdout, /^ {2}with lsof {2}\/usr\/bin\/lsof, \d+ libraries$/m);
  assert.match(r.stdout, /^ {2}without no-such-program-xyz {2}not on PATH$/m);
  assert.match(r.stderr, /^porthole: building .* from \/bin\/busybox with strace, lsof \.\.\.\nporthole: could not carry no-such-program-xyz: not on PATH\.\n$/);
  // The same files again: nothing rebuilt.
  const again = await porthole(['toolbox', 'build', '--with', 'strace,no-such-program-xyz,/usr/bin/lsof', '--json'], { env });
  assert.equal(again.code, 0, again.stderr);
  const json = JSON.parse(again.stdout);
  assert.equal(json.upToDate, true);
  assert.deepEqual(json.with.map((p: { name: string }) => p.name), ['strace', 'lsof']);
  assert.equal(json.with[0].static, false);
  assert.ok(json.with[0].libraries.includes('libc.so.6') && json.with[0].libraries.includes('ld-linux-x86-64.so.2'), JSON.stringify(json.with[0]));
  assert.deepEqual(json.missing, [{ name: 'no-such-program-xyz', reason: 'not on PATH' }]);
});

test("strace -p 1 of a shell-less, libc-less container's process through the toolbox sidecar shows its writes", { skip }, async () => {
  const r = await porthole(['shell', writer, '--cap-add', 'SYS_PTRACE', '--', 'timeout', '2', 'strace', '-p', '1', '-e', 'trace=write', '-c'], { env });
  // busybox timeout ends strace with SIGTERM; strace prints its table as it goes.
  assert.equal(r.code, 143, r.stderr);
  const row = r.stderr.split('\n').find((l) => /\swrite$/.test(l));
  assert.ok(row, r.stderr);
  const calls = Number(row.trim().split(/\s+/)[3]);
  assert.ok(calls >= 5, `about 10 writes a second, got ${calls}`);
  assert.match(r.stderr, /strace: Process 1 attached/);
  assert.deepEqual(toolboxLeftovers(containerId(writer)), [], 'the sidecar is gone');
  assert.deepEqual(containerFingerprint(writer), fingerprint, 'the target is unchanged');
});

test("tool through the sidecar (porthole in another PID namespace): strace -p {} with the toolbox's strace", { skip: skip || !hasCommand('unshare') }, async () => {
  const r = await runProcess('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, 'tool', writer, '--', 'timeout', '2', 'strace', '-p', '{}', '-e', 'trace=write', '-c'], { env });
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /^porthole: the processes of .* are not visible here \(a remote engine\): running timeout in a toolbox sidecar that shares their PID namespace; \{\} is 1, the PID there\.\n/);
  const row = r.stderr.split('\n').find((l) => /\swrite$/.test(l));
  assert.ok(row && Number(row.trim().split(/\s+/)[3]) >= 5, r.stderr);
  assert.deepEqual(toolboxLeftovers(containerId(writer)), []);
});

test('a command neither the container nor the toolbox has: one sentence naming it and the --with that adds it', { skip }, async () => {
  const r = await porthole(['shell', writer, '--', 'tcpdump-xyz', '-i', 'eth0'], { env });
  assert.equal(r.code, 127);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "porthole: tcpdump-xyz: no such command in the container or in the toolbox; `porthole toolbox build --with tcpdump-xyz` adds it to porthole's toolbox.\n");
});

test("a dynamic program in a user's toolbox, whose loader the container lacks, is named as such", { skip }, async () => {
  if (dockerStatus(['image', 'inspect', DYNAMIC_TOOLBOX]).status !== 0) {
    const root = mkdtempSync(join(tmpdir(), 'toolbox-with-dyn-'));
    try {
      mkdirSync(join(root, 'opt/bin'), { recursive: true });
      copyFileSync(execFileSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).trim(), join(root, 'opt/bin/strace'));
      importRootfs(root, DYNAMIC_TOOLBOX, ['ENV PATH=/opt/bin', `LABEL ${TEST_LABEL}`]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const r = await porthole(['shell', writer, '--toolbox', DYNAMIC_TOOLBOX, '--', 'strace', '-V'], { env });
  assert.equal(r.code, 126, r.stderr);
  assert.equal(
    r.stderr,
    `porthole: strace in the toolbox ${DYNAMIC_TOOLBOX} is dynamically linked and its loader /lib64/ld-linux-x86-64.so.2 is not in the container, so it cannot run there; \`porthole toolbox build --with strace\` carries a program with its loader and libraries.\n`,
  );
});

test('toolbox build --from a missing file: one sentence, nothing announced, nothing built', async () => {
  const r = await porthole(['toolbox', 'build', '--from', '/no/such/busybox'], { env: { PORTHOLE_TOOLBOX_IMAGE: 'porthole-fixture/toolbox-with-never:1' } });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'porthole: No busybox at /no/such/busybox. Give the path of a static busybox with --from PATH.\n');
  assert.notEqual(dockerStatus(['image', 'inspect', 'porthole-fixture/toolbox-with-never:1']).status, 0);
  const none = await porthole(['toolbox', 'build', '--with', 'no-such-program-xyz'], { env: { PORTHOLE_TOOLBOX_IMAGE: 'porthole-fixture/toolbox-with-never:1' } });
  assert.equal(none.code, 3);
  assert.equal(none.stderr, "porthole: None of the programs to carry could be found: no-such-program-xyz (not on PATH). Name programs on this host's PATH, or give their paths.\n");
  const misplaced = await porthole(['toolbox', 'rm', '--with', 'strace']);
  assert.equal(misplaced.code, 2);
});
