// The toolbox way into containers without a shell, on the real engine through the built CLI: a running one
// (sidecar + chroot into /proc/PID/root) and a never-started one (snapshot + the toolbox volume), and
// `porthole toolbox build|rm`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { inTerminal } from '../support/shell.js';
import { containerFingerprint, docker, dockerStatus, removeContainers, uniqueName } from '../support/docker.js';
import {
  CUSTOM_TOOL_OUTPUT,
  DEFAULT_TOOLBOX,
  createShellLess,
  ensureCustomToolbox,
  ensurePasswdImage,
  ensureShellLessImage,
  ensureToolbox,
  runCrashLooping,
  runDropping,
  runShellLess,
  toolboxLeftovers,
} from '../support/toolbox.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function id(name: string): string {
  return docker(['inspect', '--format', '{{.Id}}', name]);
}

describe('a running container without a shell', () => {
  const root = uniqueName('tb-root');
  const nonRoot = uniqueName('tb-user');
  let rootId = '';
  let nonRootId = '';

  before(() => {
    ensureToolbox();
    runShellLess(root);
    runShellLess(nonRoot, ['-u', '1000:1000']);
    rootId = id(root);
    nonRootId = id(nonRoot);
  });
  after(() => removeContainers(root, nonRoot));

  test('`-- ls /` lists the target\'s root, not the toolbox\'s; nothing written, nothing left', async () => {
    const before = containerFingerprint(root);
    assert.match(before.diff, /^A \/started$/m, 'the fixture wrote its file at start');
    const r = await porthole(['shell', root, '--', 'ls', '-a', '/']);
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.split('\n').filter(Boolean);
    assert.ok(names.includes('app') && names.includes('started'), r.stdout);
    assert.ok(!names.includes('.porthole') && !names.includes('bin') && !names.includes('tmp'), `toolbox files leaked into /: ${r.stdout}`);
    assert.deepEqual(containerFingerprint(root), before, 'the target changed');
    assert.deepEqual(toolboxLeftovers(rootId), []);
  });

  test('the target\'s own files and processes are what the session sees', async () => {
    const cmdline = await porthole(['shell', root, '--', 'cat', '/proc/1/cmdline']);
    assert.equal(cmdline.code, 0, cmdline.stderr);
    assert.equal(cmdline.stdout, '/app\0');
    const ps = await porthole(['shell', root, '--', 'ps']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^\s*1 \S+\s+\/app$/m);
    const file = await porthole(['shell', root, '--', 'cat', '/started']);
    assert.equal(file.stdout, 'yes\n');
    const hosts = await porthole(['shell', root, '--', 'cat', '/etc/hostname']);
    assert.equal(hosts.stdout.trim(), docker(['inspect', '--format', '{{.Config.Hostname}}', root]));
  });

  test('exit codes pass through; a missing command is 127 with a sentence', async () => {
    const seven = await porthole(['shell', root, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(seven.code, 7);
    assert.equal(seven.stdout, 'out\n');
    assert.equal(seven.stderr, 'err\n');
    const missing = await porthole(['shell', root, '--', 'no-such-tool']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /no-such-tool: no such command in the container or in the toolbox/);
  });

  test('stdin is passed through and its end ends the command', async () => {
    const r = await porthole(['shell', root, '--', 'cat'], { input: 'hello\nworld\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\nworld\n');
  });

  test('the target keeps running with the same start time after many sessions', async () => {
    const startedAt = docker(['inspect', '--format', '{{.State.StartedAt}} {{.State.Pid}} {{.RestartCount}}', root]);
    await Promise.all([1, 2, 3].map(() => porthole(['shell', root, '--', 'true'])));
    assert.equal(docker(['inspect', '--format', '{{.State.StartedAt}} {{.State.Pid}} {{.RestartCount}}', root]), startedAt);
    assert.equal(docker(['inspect', '--format', '{{.State.Running}}', root]), 'true');
  });

  test('an interactive TTY session: prompt, the target\'s files, exit code', async () => {
    const before = containerFingerprint(root);
    const r = await portholeInTty(['shell', root], 'ls /\nexit 3\n', { timeoutMs: 30_000 });
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /\(toolbox\) \/ [#$]/);
    assert.match(r.stdout, /app\s+dev\s+etc\s+proc\s+started\s+sys/);
    assert.match(r.stdout, /has no shell of its own/);
    assert.deepEqual(containerFingerprint(root), before);
    assert.deepEqual(toolboxLeftovers(rootId), []);
  });

  test("the session's terminal has the user's window size", async () => {
    const r = await inTerminal(`stty cols 123 rows 45; $PORTHOLE shell ${root}`, 'stty size\nexit\n', { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^45 123\r?$/m);
  });

  test('a non-root target is entered as its user by default; root needs SYS_PTRACE, and says so', async () => {
    const asUser = await porthole(['shell', nonRoot, '--', 'id']);
    assert.equal(asUser.code, 0, asUser.stderr);
    assert.match(asUser.stdout, /^uid=1000 gid=1000/);
    const ls = await porthole(['shell', nonRoot, '--', 'ls', '/']);
    assert.equal(ls.stdout, 'app\ndev\netc\nproc\nsys\n');
    const asRoot = await porthole(['shell', '-u', '0', nonRoot, '--', 'id', '-u']);
    assert.equal(asRoot.code, 125);
    assert.match(asRoot.stderr, /runs as uid 1000.*--cap-add SYS_PTRACE/);
    assert.doesNotMatch(asRoot.stderr, /OCI|runc|container_linux/);
    const withPtrace = await porthole(['shell', '-u', '0', '--cap-add', 'SYS_PTRACE', nonRoot, '--', 'id', '-u']);
    assert.equal(withPtrace.code, 0, withPtrace.stderr);
    assert.equal(withPtrace.stdout, '0\n');
    const otherUser = await porthole(['shell', '-u', '1234', root, '--', 'true']);
    assert.equal(otherUser.code, 125);
    assert.match(otherUser.stderr, /runs as uid 0 gid 0.*-u 0:0/);
    assert.deepEqual(toolboxLeftovers(nonRootId), []);
  });

  test('a custom --toolbox image brings its own tools; / is still the target\'s', async () => {
    const custom = ensureCustomToolbox();
    const before = containerFingerprint(root);
    const tool = await porthole(['shell', '--toolbox', custom, root, '--', 'custom-tool']);
    assert.equal(tool.code, 0, tool.stderr);
    assert.equal(tool.stdout, `${CUSTOM_TOOL_OUTPUT}\n`);
    const ls = await porthole(['shell', '--toolbox', custom, root, '--', 'ls', '/']);
    assert.match(ls.stdout, /^app$/m);
    assert.doesNotMatch(ls.stdout, /^opt$/m);
    // As a non-root target's user too: the chroot helper comes from the toolbox volume with its capability.
    const asUser = await porthole(['shell', '--toolbox', custom, nonRoot, '--', 'sh', '-c', 'id -u; custom-tool']);
    assert.equal(asUser.code, 0, asUser.stderr);
    assert.equal(asUser.stdout, `1000\n${CUSTOM_TOOL_OUTPUT}\n`);
    const missing = await porthole(['shell', '--toolbox', 'porthole-fixture/no-such-toolbox:1', root, '--', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /no image porthole-fixture\/no-such-toolbox:1/);
    assert.deepEqual(containerFingerprint(root), before);
    assert.deepEqual(toolboxLeftovers(rootId), []);
  });

  test('SIGTERM during a session removes the sidecar', async () => {
    const child = spawnPorthole(['shell', root, '--', 'sleep', '60']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !docker(['ps', '-q', '--filter', `label=io.porthole.target=${rootId}`]); i++) await sleep(50);
    assert.notEqual(docker(['ps', '-q', '--filter', `label=io.porthole.target=${rootId}`]), '', 'the sidecar never ran');
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.deepEqual(toolboxLeftovers(rootId), []);
    assert.equal(docker(['inspect', '--format', '{{.State.Running}}', root]), 'true');
  });
});

describe('pre-flight: what the sidecar needs, said plainly', () => {
  const names: string[] = [];
  before(() => {
    ensureToolbox();
    ensureShellLessImage();
  });
  after(() => removeContainers(...names));

  test('a target without SYS_CHROOT: the flag to add, and it works with it (the target keeps its caps)', async () => {
    const name = runShellLess(uniqueName('tb-nochroot'), ['--cap-drop', 'SYS_CHROOT']);
    names.push(name);
    const before = containerFingerprint(name);
    const refused = await porthole(['shell', name, '--', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /without the SYS_CHROOT capability.*--cap-add SYS_CHROOT/);
    const ok = await porthole(['shell', '--cap-add', 'SYS_CHROOT', name, '--', 'ls', '/started']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(containerFingerprint(name), before);
  });

  test('a read-only root and a no-new-privileges root target work; nnp with a non-root user says what to do', async () => {
    const ro = runShellLess(uniqueName('tb-ro'), ['--read-only']);
    const nnp = runShellLess(uniqueName('tb-nnp'), ['--security-opt', 'no-new-privileges']);
    const nnpUser = runShellLess(uniqueName('tb-nnpu'), ['--security-opt', 'no-new-privileges', '-u', '1000:1000']);
    names.push(ro, nnp, nnpUser);
    const roBefore = containerFingerprint(ro);
    const r1 = await porthole(['shell', ro, '--', 'ls', '/']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /^app$/m);
    assert.deepEqual(containerFingerprint(ro), roBefore);
    const r2 = await porthole(['shell', nnp, '--', 'cat', '/proc/1/cmdline']);
    assert.equal(r2.code, 0, r2.stderr);
    const r3 = await porthole(['shell', nnpUser, '--', 'true']);
    assert.equal(r3.code, 125);
    assert.match(r3.stderr, /no-new-privileges.*-u 0/);
  });

  test('a seccomp profile that forbids chroot: a plain sentence, no runtime error', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-seccomp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const profile = join(dir, 'no-chroot.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chroot'], action: 'SCMP_ACT_ERRNO' }] }));
    const name = runShellLess(uniqueName('tb-seccomp'), ['--security-opt', `seccomp=${profile}`]);
    names.push(name);
    const before = containerFingerprint(name);
    const r = await porthole(['shell', name, '--', 'ls', '/']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "porthole: the container's seccomp or AppArmor profile forbids chroot, and the toolbox sidecar runs under the same profile, so it cannot use the container's files as its root; read them with porthole ls, cat or cp instead.\n");
    assert.deepEqual(containerFingerprint(name), before);
    assert.deepEqual(toolboxLeftovers(id(name)), []);
  });

  test('the container stopping mid-session ends it with a sentence, and the sidecar is removed', async () => {
    const name = runShellLess(uniqueName('tb-dies'));
    names.push(name);
    const session = porthole(['shell', name, '--', 'sleep', '60']);
    const targetId = id(name);
    for (let i = 0; i < 200 && !docker(['ps', '-q', '--filter', `label=io.porthole.target=${targetId}`]); i++) await sleep(50);
    docker(['kill', name]);
    const r = await session;
    assert.equal(r.code, 137);
    assert.match(r.stderr, /stopped, and that ended the session/);
    assert.deepEqual(toolboxLeftovers(targetId), []);
  });

  test('a missing toolbox: run `porthole toolbox build`', async () => {
    const name = runShellLess(uniqueName('tb-missing'));
    names.push(name);
    const r = await porthole(['shell', name, '--', 'true'], { env: { PORTHOLE_TOOLBOX_IMAGE: 'porthole-fixture/missing-toolbox:1' } });
    assert.equal(r.code, 125);
    // Where the engine can pull, it would; here there is no registry, so: why, and what to run.
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /porthole-fixture\/missing-toolbox:1 is not on this engine; pulling it/);
    assert.match(lines[1]!, /porthole-fixture\/missing-toolbox:1 is not on this engine and could not be pulled \(.+\), .*porthole toolbox build/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(toolboxLeftovers(id(name)), []);
  });
});

describe('users by name, and shared PID namespaces', () => {
  const names: string[] = [];
  before(() => ensureToolbox());
  after(() => removeContainers(...names));

  test("a user named in the container's /etc/passwd (and a group in /etc/group) is resolved there", async () => {
    const name = uniqueName('tb-named');
    names.push(name);
    docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', '-u', 'app', ensurePasswdImage()]);
    const byDefault = await porthole(['shell', name, '--', 'id']);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.match(byDefault.stdout, /^uid=1000\(app\) gid=1000\(app\)/);
    const home = await porthole(['shell', name, '--', 'sh', '-c', 'echo $HOME']);
    assert.equal(home.stdout, '/home/app\n');
    const group = await porthole(['shell', '-u', 'app:staff', name, '--', 'id', '-g']);
    assert.equal(group.code, 125, 'gid 50 is not the process\'s gid 1000');
    assert.match(group.stderr, /-u 1000:1000/);
    const unknown = await porthole(['shell', '-u', 'nobody', name, '--', 'true']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no user "nobody" in the container's \/etc\/passwd/);
  });

  test('a process that switched its own user (like gosu) is entered as the user it runs as', async () => {
    const name = runDropping(uniqueName('tb-drop'));
    names.push(name);
    assert.equal(docker(['inspect', '--format', '{{.Config.User}}', name]), '');
    const before = containerFingerprint(name);
    const r = await porthole(['shell', name, '--', 'sh', '-c', 'id; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'uid=1000 gid=1000 groups=1000\n/app dropped ');
    assert.deepEqual(containerFingerprint(name), before);
  });

  test('a container in another container\'s PID namespace: its own root, not PID 1\'s', async () => {
    const first = runShellLess(uniqueName('tb-pid1'));
    const second = runShellLess(uniqueName('tb-pid2'), ['--pid', `container:${first}`]);
    names.push(second, first);
    docker(['cp', '/bin/busybox', `${second}:/only-in-second`]);
    const r = await porthole(['shell', second, '--', 'ls', '/']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^only-in-second$/m);
    const firstLs = await porthole(['shell', first, '--', 'ls', '/']);
    assert.doesNotMatch(firstLs.stdout, /only-in-second/);
  });
});

describe('a never-started container without a shell', () => {
  const name = uniqueName('tb-created');
  before(() => {
    ensureToolbox();
    createShellLess(name);
  });
  after(() => removeContainers(name));

  test('the snapshot way brings the toolbox into the copy: its files are the root, the original is untouched', async () => {
    const before = containerFingerprint(name);
    const r = await porthole(['shell', name], { input: 'ls /\necho "$PATH"\nexit 4\n' });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /^app$/m);
    assert.match(r.stdout, /:\/\.porthole\/bin$/m);
    assert.match(r.stderr, /not running/);
    assert.deepEqual(containerFingerprint(name), before);
    assert.equal(docker(['inspect', '--format', '{{.State.Status}}', name]), 'created');
    assert.deepEqual(toolboxLeftovers(id(name)), []);
  });
});

describe('a never-started container without a shell, with a command', () => {
  const name = uniqueName('tb-created-cmd');
  before(() => {
    ensureToolbox();
    createShellLess(name);
  });
  after(() => removeContainers(name));

  test('`-- CMD` runs toolbox programs in the copy and passes their exit code through', async () => {
    const before = containerFingerprint(name);
    const r = await porthole(['shell', name, '--', 'sh', '-c', 'ls /; exit 5']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stdout, /^app$/m);
    assert.deepEqual(containerFingerprint(name), before);
    assert.deepEqual(toolboxLeftovers(id(name)), []);
  });
});

describe('a crash-looping container without a shell', () => {
  const name = uniqueName('tb-loop');
  before(() => {
    ensureToolbox();
    runCrashLooping(name);
  });
  after(() => removeContainers(name));

  test('is entered like a stopped one: a snapshot with the toolbox, its own files as the root', async () => {
    // A few restarts in, the engine waits a second or more between them, so the snapshot way is the one taken.
    for (let i = 0; i < 200 && Number(docker(['inspect', '--format', '{{.RestartCount}}', name])) < 4; i++) await sleep(100);
    const r = await porthole(['shell', name], { input: 'ls /\nexit 6\n' });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stdout, /^app$/m);
    assert.match(r.stderr, /not running and has no shell: working in a snapshot/);
    assert.deepEqual(toolboxLeftovers(id(name)), []);
  });
});

describe('porthole toolbox build|rm', () => {
  // A toolbox under its own name, so building and removing it never disturbs sessions running at the same time.
  const image = `porthole-fixture/toolbox-${uniqueName('b').toLowerCase()}:1`;
  const env = { PORTHOLE_TOOLBOX_IMAGE: image };
  const volume = `porthole-toolbox-${image.replace(/[^a-z0-9_.-]+/g, '-')}`;
  after(() => {
    dockerStatus(['rmi', '-f', image]);
    dockerStatus(['volume', 'rm', '-f', volume]);
  });

  test('build makes a kept tool (toolbox label, no owned label) and its volume; rm removes both', async () => {
    const built = await porthole(['toolbox', 'build', '--json'], { env });
    assert.equal(built.code, 0, built.stderr);
    const result = JSON.parse(built.stdout);
    assert.equal(result.image, image);
    assert.ok(result.tools > 100);
    const labels = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image]));
    assert.equal(labels['io.porthole.toolbox'], '1');
    assert.equal(labels['io.porthole.owned'], undefined);
    assert.equal(docker(['volume', 'ls', '-q', '--filter', `name=${volume}`]), volume);
    // The chroot helper keeps its file capability through the engine's import.
    const caps = docker(['run', '--rm', '--label', 'io.porthole.test=1', '-u', '1000', '--entrypoint', '/.porthole/chroot', image, '/', '/.porthole/bin/true']);
    assert.equal(caps, '');
    assert.equal(result.upToDate, false);
    // Built again from the same busybox: nothing to do, the same image, the same line.
    const human = await porthole(['toolbox', 'build'], { env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /already made from this busybox; nothing to rebuild/);
    assert.equal(docker(['image', 'inspect', '--format', '{{.Id}}', image]), result.id);
    assert.match(human.stdout, new RegExp(`^${image.replace(/[./]/g, '\\$&')} [0-9a-f]{12} \\(\\d+ tools from /bin/busybox, \\w+\\)\\n$`));
    const rm = await porthole(['toolbox', 'rm'], { env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, `Removed ${image} and volume ${volume}\n`);
    assert.equal(dockerStatus(['image', 'inspect', image]).status, 1);
    const again = await porthole(['toolbox', 'rm'], { env });
    assert.equal(again.code, 0);
    assert.match(again.stderr, /nothing to remove/);
  });

  test('build refuses a dynamic binary or a missing file with a sentence', async () => {
    const dynamic = await porthole(['toolbox', 'build', '--from', '/bin/ls'], { env });
    assert.equal(dynamic.code, 2);
    assert.match(dynamic.stderr, /dynamically linked.*busybox-static/);
    const missing = await porthole(['toolbox', 'build', '--from', '/nonexistent/busybox'], { env });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /No busybox at \/nonexistent\/busybox/);
    const bad = await porthole(['toolbox', 'frob'], { env });
    assert.equal(bad.code, 2);
  });

  test('gc leaves the toolbox alone', async () => {
    ensureToolbox();
    const gc = await porthole(['gc']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal(dockerStatus(['image', 'inspect', DEFAULT_TOOLBOX]).status, 0);
  });
});
