// `porthole shell` on containers that are not running (the snapshot way), through the built CLI on the real
// engine: the crash's files readable in the copy, what the copy keeps and never inherits, exit codes, signals
// leaving nothing behind, and the original unchanged after every case.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { TEST_LABEL, createContainer, docker, dockerStatus, removeContainers, uniqueName } from '../support/docker.js';
import { containerId, crashedContainer, inTerminal, leftoversFor, portholeCommand, portholeBytes, sleep, stableFingerprint, waitFor } from '../support/shell.js';
import { engineProxy } from '../support/engine-proxy.js';

const made: string[] = [];
const volumes: string[] = [];
let hostDir: string;
let crashed: string;
let crashedId: string;
let fingerprint: ReturnType<typeof stableFingerprint>;

before(() => {
  hostDir = mkdtempSync(join(tmpdir(), 'porthole-bind-'));
  writeFileSync(join(hostDir, 'from-host.txt'), 'bound\n');
  const volume = uniqueName('vol');
  docker(['volume', 'create', '--label', TEST_LABEL, volume]);
  volumes.push(volume);
  docker(['run', '--rm', '--label', TEST_LABEL, '-v', `${volume}:/v`, 'porthole-fixture/busybox:1', 'sh', '-c', 'echo in-volume > /v/f']);
  crashed = crashedContainer(uniqueName('crashed'), {
    exitCode: 3,
    args: [
      '-v', `${volume}:/data`,
      '-v', `${hostDir}:/host`,
      '--restart', 'on-failure:1',
      '--health-cmd', 'true',
      '-p', '127.0.0.1::80',
      '--label', 'com.docker.compose.project=porthole-test',
      '--label', 'com.docker.compose.service=web',
      '--label', 'keep.me=yes',
    ],
  });
  made.push(crashed);
  crashedId = containerId(crashed);
  // on-failure:1 restarts it once; wait until it has given up, so its state no longer moves on its own
  const settled = () => JSON.parse(docker(['inspect', crashed]))[0].State;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const s = settled();
    if (!s.Running && !s.Restarting && Number(docker(['inspect', '--format', '{{.RestartCount}}', crashed])) >= 1) break;
    spawnSyncSleep(200);
  }
  fingerprint = stableFingerprint(crashed);
});

function spawnSyncSleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

after(() => {
  removeContainers(...made);
  if (volumes.length) dockerStatus(['volume', 'rm', '-f', ...volumes]);
  rmSync(hostDir, { recursive: true, force: true });
});

function untouched() {
  assert.deepEqual(stableFingerprint(crashed), fingerprint, 'the original changed');
  assert.deepEqual(leftoversFor(crashedId), [], 'porthole left its snapshot or debug container behind');
}

test("the crash's error log is readable through the snapshot, and the user is told what is happening", async () => {
  const r = await porthole(['shell', crashed, '--', 'cat', '/var/log/app/error.log']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '[emerg] unknown directive "invalid_directive" in /etc/app.conf:1\n');
  assert.match(r.stderr, /is not running \(exited with code 3\): working in a snapshot of it\. Changes you make stay in the copy; the original is not touched\./);
  untouched();
});

test('interactive TTY session in the copy: the shell answers and its exit code comes back', async () => {
  const r = await portholeInTty(['shell', crashed], 'cat /var/log/app/error.log; echo $((6*7)); touch /made-in-copy; exit 3\r');
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^42\r?$/m);
  assert.match(r.stdout, /invalid_directive/);
  // the copy's TTY gets the terminal's size
  const sized = await inTerminal(`stty rows 33 cols 101; $PORTHOLE shell ${crashed}`, 'stty size; exit 0\r');
  assert.match(sized.stdout, /^33 101\r?$/m, sized.stdout);
  untouched();
});

test("the copy keeps the original's environment and working directory; -u, -w and -e override", async () => {
  const r = await porthole(['shell', crashed, '--', 'sh', '-c', 'echo "$APP_MODE"; pwd; id -u']);
  assert.equal(r.stdout, 'crashy\n/var/log\n0\n', r.stderr);
  const o = await porthole(['shell', '-u', '1000', '-w', '/tmp', '-e', 'APP_MODE=calm', crashed, '--', 'sh', '-c', 'echo "$APP_MODE"; pwd; id -u']);
  assert.equal(o.stdout, 'calm\n/tmp\n1000\n', o.stderr);
  untouched();
});

test('a different command runs in the copy and its exit code comes back; a missing one gives 127', async () => {
  const nine = await porthole(['shell', crashed, '--', 'sh', '-c', 'echo rerun; exit 9']);
  assert.equal(nine.code, 9);
  assert.equal(nine.stdout, 'rerun\n');
  const missing = await porthole(['shell', crashed, '--', 'no-such-program']);
  assert.equal(missing.code, 127, missing.stderr);
  assert.match(missing.stderr, /no-such-program/);
  untouched();
});

test('pipes through the copy: stdin with its end, stdout and stderr apart and byte-exact', async () => {
  const echo = await porthole(['shell', crashed, '--', 'cat'], { input: 'hi\n' });
  assert.equal(echo.stdout, 'hi\n');
  const r = await portholeBytes(['shell', crashed, '--', 'sh', '-c', 'cat; printf "\\000\\377err" >&2'], Buffer.from([1, 2, 0, 255, 10]));
  assert.ok(r.stdout.equals(Buffer.from([1, 2, 0, 255, 10])), r.stdout.toString('hex'));
  assert.ok(r.stderr.subarray(r.stderr.length - 5).equals(Buffer.from([0, 0xff, 0x65, 0x72, 0x72])), r.stderr.toString('hex'));
  untouched();
});

test('volumes and bind mounts at the same paths, read-only unless --rw-mounts', async () => {
  const ro = await porthole(['shell', crashed, '--', 'sh', '-c', 'cat /data/f /host/from-host.txt; touch /data/new 2>&1; touch /host/new 2>&1; exit 0']);
  assert.equal(ro.code, 0, ro.stderr);
  assert.match(ro.stdout, /^in-volume\nbound\n/);
  assert.match(ro.stdout, /touch: \/data\/new: Read-only file system/);
  assert.match(ro.stdout, /touch: \/host\/new: Read-only file system/);
  assert.deepEqual(readdirSync(hostDir), ['from-host.txt']);
  const rw = await porthole(['shell', '--rw-mounts', crashed, '--', 'sh', '-c', 'touch /host/new && echo wrote']);
  assert.equal(rw.stdout, 'wrote\n', rw.stderr);
  assert.deepEqual(readdirSync(hostDir).sort(), ['from-host.txt', 'new']);
  rmSync(join(hostDir, 'new'));
  untouched();
});

test('the network is kept unless --network none', async () => {
  const kept = await porthole(['shell', crashed, '--', 'ls', '/sys/class/net']);
  assert.match(kept.stdout, /eth0/);
  const cut = await porthole(['shell', '--network', 'none', crashed, '--', 'ls', '/sys/class/net']);
  assert.equal(cut.stdout, 'lo\n');
  untouched();
});

test('the copy never inherits restart policy, healthcheck, published ports or compose labels', async () => {
  const session = spawnPorthole(['shell', crashed, '--', 'sleep', '30']);
  try {
    const copy = await waitFor('the debug container', () => docker(['ps', '-q', '--filter', `label=io.porthole.target=${crashedId}`]));
    const inspect = JSON.parse(docker(['inspect', copy]))[0];
    assert.equal(inspect.HostConfig.RestartPolicy.Name, 'no');
    assert.deepEqual(inspect.Config.Healthcheck?.Test, ['NONE']);
    assert.ok(!inspect.HostConfig.PortBindings || !Object.keys(inspect.HostConfig.PortBindings).length, JSON.stringify(inspect.HostConfig.PortBindings));
    assert.deepEqual(inspect.NetworkSettings.Ports ?? {}, Object.fromEntries(Object.keys(inspect.NetworkSettings.Ports ?? {}).map((k) => [k, null])));
    for (const [key, value] of Object.entries<string>(inspect.Config.Labels)) {
      if (key.startsWith('com.docker.compose.')) assert.equal(value, '', `${key} carried over`);
    }
    assert.equal(inspect.Config.Labels['keep.me'], 'yes');
    assert.equal(inspect.Config.Labels['io.porthole.owned'], 'true');
    // compose finds its containers by project=NAME: the copy is not among them
    assert.equal(docker(['ps', '-q', '--filter', 'label=com.docker.compose.project=porthole-test', '--filter', `label=io.porthole.target=${crashedId}`]), '');
  } finally {
    session.kill('SIGTERM');
    await new Promise((r) => session.on('close', r));
  }
  untouched();
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} during a snapshot session removes the copy and the snapshot image`, async () => {
    const session = spawnPorthole(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 60']);
    let out = '';
    session.stdout.on('data', (d) => (out += d));
    await waitFor('the session', () => out.includes('ready'));
    assert.ok(leftoversFor(crashedId).length >= 2, 'expected a debug container and an image during the session');
    session.kill(signal);
    const exit = await new Promise<number | null>((r) => session.on('close', (c) => r(c)));
    assert.equal(exit, code);
    untouched();
  });
}

test('the engine connection drops mid-session and comes back: porthole says so and still removes its copy', async () => {
  const proxy = await engineProxy();
  try {
    const session = spawnPorthole(['-H', proxy.host, 'shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 60']);
    let out = '';
    let err = '';
    session.stdout.on('data', (d) => (out += d));
    session.stderr.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((r) => session.on('close', (c) => r(c)));
    await waitFor('the session', () => out.includes('ready'));
    proxy.cut();
    await sleep(1000);
    assert.ok(leftoversFor(crashedId).length >= 1, 'the copy should still be there while the engine is unreachable');
    await proxy.resume();
    const code = await closed;
    assert.equal(code, 125, err);
    assert.match(err, /porthole: .*(engine|connection)/i);
    untouched();
  } finally {
    await proxy.close();
  }
});

test('a signal during the commit itself still removes the image once the engine has made it', async () => {
  const session = spawnPorthole(['shell', crashed, '--', 'true']);
  await sleep(120);
  session.kill('SIGTERM');
  await new Promise((r) => session.on('close', r));
  await sleep(300);
  untouched();
});

test('--keep keeps the snapshot image, names it, and gc leaves it', async () => {
  const r = await porthole(['shell', '--keep', crashed, '--', 'sh', '-c', 'echo kept > /kept.txt']);
  assert.equal(r.code, 0, r.stderr);
  const name = /kept the snapshot image (\S+) /.exec(r.stderr)?.[1];
  assert.ok(name, r.stderr);
  try {
    assert.equal(docker(['image', 'inspect', '--format', '{{index .Config.Labels "io.porthole.owned"}}', name]), '');
    const gc = await porthole(['gc', '--dry-run', '--json']);
    assert.ok(!JSON.parse(gc.stdout).removed.some((x: { name: string }) => x.name === name));
    // the kept image is the snapshot of the original, not of the session's changes
    const inside = docker(['run', '--rm', '--label', TEST_LABEL, '--entrypoint', 'cat', name, '/var/log/app/error.log']);
    assert.match(inside, /invalid_directive/);
  } finally {
    dockerStatus(['rmi', '-f', name]);
  }
  assert.deepEqual(stableFingerprint(crashed), fingerprint);
});

test('a created, never started container works too', async () => {
  const created = createContainer(uniqueName('never-started'), ['-e', 'WHO=created'], undefined, ['sh', '-c', 'exit 1']);
  made.push(created);
  const before = stableFingerprint(created);
  const r = await porthole(['shell', created, '--', 'sh', '-c', 'echo "$WHO"']);
  assert.equal(r.stdout, 'created\n', r.stderr);
  assert.match(r.stderr, /created but never started/);
  assert.deepEqual(stableFingerprint(created), before);
  assert.deepEqual(leftoversFor(containerId(created)), []);
});

test('a crash-looping container (restarting) is entered through a snapshot too', async () => {
  const looping = uniqueName('crash-loop');
  made.push(looping);
  docker(['run', '-d', '--name', looping, '--label', TEST_LABEL, '--restart', 'always', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo boom > /boom; exit 4']);
  await waitFor('a restart loop', () => docker(['inspect', '--format', '{{.State.Status}}', looping]) === 'restarting', 20_000);
  const r = await porthole(['shell', looping, '--', 'cat', '/boom']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'boom\n');
  assert.match(r.stderr, /crash-looping: restarted \d+ times, last exit code 4/);
  assert.deepEqual(leftoversFor(containerId(looping)), []);
});

test('Ctrl-C typed in a TTY session goes to the program in the copy (as with docker run -ti); leaving removes everything', async () => {
  const socket = `pt-snap-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  assert.equal(tmux('new-session', '-d', '-x', '100', '-y', '30', `${portholeCommand(['shell', crashed])}; echo "EXIT=$?"; sleep 30`).status, 0);
  try {
    const pane = () => tmux('capture-pane', '-p', '-S', '-50').stdout;
    await waitFor('the prompt', () => /#\s*$/m.test(pane()));
    tmux('send-keys', 'sleep 100; echo after-sleep', 'Enter');
    await sleep(700);
    tmux('send-keys', 'C-c');
    await waitFor('the interrupted sleep', () => /after-sleep\s*\n.*#/m.test(pane()) || /\^C/.test(pane()));
    assert.ok(leftoversFor(crashedId).length >= 2, 'Ctrl-C must not end the porthole session itself');
    tmux('send-keys', 'exit 5', 'Enter');
    await waitFor('exit', () => /EXIT=5/.test(pane()));
  } finally {
    tmux('kill-server');
  }
  untouched();
});
