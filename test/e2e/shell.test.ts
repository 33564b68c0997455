// `porthole shell` on running containers (the exec way), through the built CLI on the real engine: TTY and
// pipes, exit codes, the login shell, -u/-w/-e, detach keys, the terminal restored, no hang, paused refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, porthole, portholeInTty } from '../support/cli.js';
import { docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { inTerminal, killInContainer, portholeBytes, portholeCommand, sleep, stableFingerprint, terminalCooked, waitFor } from '../support/shell.js';
import { engineProxy } from '../support/engine-proxy.js';

const made: string[] = [];
let box: string; // a running busybox container
let users: string; // a running container with a custom /etc/passwd
let before_: ReturnType<typeof stableFingerprint>;

before(() => {
  ensureBusyboxImage();
  box = runContainer(uniqueName('shell'), [], undefined, ['sleep', '1000000']);
  made.push(box);
  // root's login shell is ash (not the sh fallback), app's is nologin, ops has a shell that does not exist.
  const passwd = 'root:x:0:0:root:/root:/bin/ash\\napp:x:1000:1000:app:/home/app:/sbin/nologin\\nops:x:1001:1001:ops:/tmp:/bin/zsh\\n';
  users = runContainer(uniqueName('shell-users'), [], undefined, ['sh', '-c', `printf '${passwd}' > /etc/passwd; exec sleep 1000000`]);
  made.push(users);
  before_ = stableFingerprint(box);
});

after(() => {
  removeContainers(...made);
});

function unchanged(name: string, fingerprint: ReturnType<typeof stableFingerprint>) {
  assert.deepEqual(stableFingerprint(name), fingerprint, `${name} changed`);
}

test('interactive TTY session: raw mode, the shell answers, its exit code comes back', async () => {
  const r = await portholeInTty(['shell', box], 'echo $((6*7)); exit 3\r');
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^42\r?$/m);
  unchanged(box, before_);
});

test('the window size is set at start and follows the terminal when it changes (tmux)', async () => {
  const socket = `pt-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const cmd = `${portholeCommand(['shell', box])}; echo "EXIT=$?"; sleep 30`;
  assert.equal(tmux('new-session', '-d', '-x', '91', '-y', '27', cmd).status, 0);
  try {
    const pane = () => tmux('capture-pane', '-p', '-S', '-50').stdout;
    await waitFor('the prompt', () => /#\s*$/m.test(pane()));
    tmux('send-keys', 'stty size', 'Enter');
    await waitFor('27 91', () => /^27 91\s*$/m.test(pane()));
    assert.equal(tmux('resize-window', '-x', '120', '-y', '40').status, 0);
    await sleep(300);
    tmux('send-keys', 'stty size', 'Enter');
    await waitFor('40 120 after resize', () => /^40 120\s*$/m.test(pane()));
    tmux('send-keys', 'exit 4', 'Enter');
    await waitFor('exit', () => /EXIT=4/.test(pane()));
  } finally {
    tmux('kill-server');
  }
  unchanged(box, before_);
});

test('the terminal is cooked again after the session, after SIGTERM, and after the engine goes away', async () => {
  const normal = await inTerminal(`$PORTHOLE shell ${box} -- sh -c 'exit 0'; stty -a`, '');
  assert.equal(normal.code, 0, normal.stdout);
  assert.ok(terminalCooked(normal.stdout), normal.stdout);

  // An interactive shell in raw mode; a background job sends porthole SIGTERM after a moment.
  const pidFile = `/tmp/porthole-test-${process.pid}-${Date.now()}.pid`;
  const killed = await inTerminal(
    `(sleep 2; kill -TERM $(cat ${pidFile})) & sh -c 'echo $$ > ${pidFile}; exec '"$PORTHOLE"' shell ${box}'; echo "EXIT=$?"; stty -a; rm -f ${pidFile}`,
    '',
  );
  assert.match(killed.stdout, /EXIT=143/);
  assert.ok(terminalCooked(killed.stdout), killed.stdout);

  const proxy = await engineProxy();
  try {
    const started = Date.now();
    const gone = inTerminal(`$PORTHOLE -H ${proxy.host} shell ${box}; echo "EXIT=$?"; stty -a`, '');
    await sleep(2500);
    proxy.cut();
    const r = await gone;
    assert.ok(Date.now() - started < 20_000, 'porthole hung after the engine went away');
    assert.match(r.stdout, /EXIT=125/);
    assert.match(r.stdout, /porthole: .*engine/i);
    assert.ok(terminalCooked(r.stdout), r.stdout);
  } finally {
    await proxy.close();
  }
  unchanged(box, before_);
});

test('detach keys end the session and leave the process running, as docker does', async () => {
  const marker = `detach-${Date.now()}`;
  // ctrl-x,x instead of the default, to show --detach-keys is honoured; the shell keeps running a sleep.
  const r = await portholeInTty(['shell', '--detach-keys', 'ctrl-x,x', box, '--', 'sh', '-c', `sleep 1000 & echo ${marker}; cat`], '\x18x');
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /detached/);
  await waitFor('the detached sleep', () => /sleep 1000$/m.test(docker(['top', box, '-o', 'pid,args'])));
  assert.ok(killInContainer(box, /^sleep 1000$/) >= 1);
  const bad = await porthole(['shell', '--detach-keys', 'ctrl-!', box]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a valid detach key sequence/);
});

test('piped stdin reaches the command and its end is delivered (echo hi | porthole shell c -- cat)', async () => {
  const r = await porthole(['shell', box, '--', 'cat'], { input: 'hi\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  // output after end-of-input still arrives: the socket was half-closed, not torn down
  const later = await porthole(['shell', box, '--', 'sh', '-c', 'cat; sleep 0.5; echo after'], { input: 'x\n' });
  assert.equal(later.stdout, 'x\nafter\n');
  // stdin from /dev/null: the command gets none (as docker exec without -i), which it reads as end of input
  for (const [stdin, expected] of [['/dev/null', /^\/dev\/null\nend 0\n$/], ['pipe', /^pipe:\[\d+\]\nend 0\n$/]] as const) {
    const r = spawnSync(BIN, ['shell', box, '--', 'sh', '-c', 'readlink /proc/self/fd/0; cat; echo end $?'], {
      input: stdin === 'pipe' ? '' : undefined,
      stdio: [stdin === 'pipe' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, expected, stdin);
  }
  unchanged(box, before_);
});

test('stdout and stderr stay apart, byte-exact, binary included, with large volumes', async () => {
  const payload = randomBytes(3 * 1024 * 1024);
  const r = await portholeBytes(['shell', box, '--', 'sh', '-c', 'cat; printf "\\000\\001\\377\\033[31m err" >&2; printf "\\376end"'], payload);
  assert.equal(r.code, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(Buffer.concat([payload, Buffer.from([0xfe]), Buffer.from('end')])), 'stdout differs');
  assert.ok(r.stderr.equals(Buffer.from([0, 1, 0xff, 0x1b, ...Buffer.from('[31m err')])), `stderr differs: ${r.stderr.toString('hex')}`);
  unchanged(box, before_);
});

test("the command's exit code passes through; a missing command gives docker exec's code", async () => {
  const seven = await porthole(['shell', box, '--', 'sh', '-c', 'exit 7']);
  assert.equal(seven.code, 7);
  const missing = await porthole(['shell', box, '--', 'no-such-program']);
  const dockers = dockerStatus(['exec', box, 'no-such-program']).status;
  assert.ok(missing.code === 126 || missing.code === 127, String(missing.code));
  assert.equal(missing.code, dockers);
  assert.match(missing.stdout + missing.stderr, /no-such-program.*not found/);
  // words after the container name without `--` are the command too, like docker exec
  const plain = await porthole(['shell', box, 'echo', 'plain']);
  assert.equal(plain.stdout, 'plain\n');
  unchanged(box, before_);
});

test("no command: the user's login shell from the container's /etc/passwd, else sh", async () => {
  const root = await porthole(['shell', users], { input: 'echo "$0"\n' });
  assert.equal(root.code, 0, root.stderr);
  assert.equal(root.stdout, '/bin/ash\n');
  const nologin = await porthole(['shell', '-u', 'app', users], { input: 'echo "$0"; id -u\n' });
  assert.equal(nologin.stdout, '/bin/sh\n1000\n');
  const missingShell = await porthole(['shell', '-u', '1001', users], { input: 'echo "$0"; id -u\n' });
  assert.equal(missingShell.stdout, '/bin/sh\n1001\n');
});

test('-u, -w and -e (repeatable; KEY alone comes from porthole\'s environment)', async () => {
  const r = await porthole(['shell', '-u', '1000:1000', '-w', '/tmp', '-e', 'FOO=bar baz', '-e', 'FROM_HOST', '-e', 'UNSET_HERE', box, '--', 'sh', '-c', 'id -u; id -g; pwd; echo "$FOO|$FROM_HOST|${UNSET_HERE-unset}"'], {
    env: { FROM_HOST: 'here', UNSET_HERE: undefined },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1000\n1000\n/tmp\nbar baz|here|unset\n');
  unchanged(box, before_);
});

test('a child that keeps stdout open does not hang porthole', async () => {
  const started = Date.now();
  const r = await porthole(['shell', box, '--', 'sh', '-c', 'sleep 300 & echo started'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'started\n');
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
  killInContainer(box, /^sleep 300$/);
});

test('a container that dies mid-exec ends the session instead of hanging', async () => {
  const victim = runContainer(uniqueName('shell-dies'), [], undefined, ['sleep', '1000000']);
  made.push(victim);
  const session = porthole(['shell', victim, '--', 'sh', '-c', 'echo up; sleep 300'], { timeoutMs: 30_000 });
  await sleep(1500);
  docker(['kill', victim]);
  const r = await session;
  assert.equal(r.stdout, 'up\n');
  assert.notEqual(r.code, 0);
});

test('a paused container is refused with a sentence and stays paused', async () => {
  const paused = runContainer(uniqueName('shell-paused'), [], undefined, ['sleep', '1000000']);
  made.push(paused);
  docker(['pause', paused]);
  const fingerprint = stableFingerprint(paused);
  const r = await porthole(['shell', paused, '--', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^porthole: .* is paused, and porthole never unpauses a container\./);
  assert.equal(docker(['inspect', '--format', '{{.State.Status}}', paused]), 'paused');
  unchanged(paused, fingerprint);
  docker(['unpause', paused]);
});

test("porthole's own failures exit 125; usage errors 2", async () => {
  const missing = await porthole(['shell', `no-such-${Date.now()}`, '--', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /No such container/);
  const empty = await porthole(['shell', box, '--']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /Nothing after "--"/);
});
