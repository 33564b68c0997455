// `porthole shell pod/X` on the real test cluster, through the built CLI: the exec WebSocket with a TTY (raw mode,
// window size at start and after a resize, the terminal cooked again), pipes (stdin's end is the command's end of
// input, stdout and stderr apart, bytes exact), exit codes passed through. One namespace, deleted afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { porthole, portholeInTty } from '../support/cli.js';
import { apply, clusterKubeconfig, kubectlOk, podManifest, skipReason, useNamespace, waitForReady } from '../support/k8s.js';
import { inTerminal, portholeBytes, portholeCommand, sleep, terminalCooked, waitFor } from '../support/shell.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes shell tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });

useNamespace('inside-shell', async (made) => {
  ns = made;
  apply(
    ns,
    podManifest('box', {
      containers: [
        { name: 'main', command: ['sh', '-c', 'echo original > /tmp/mark; exec sleep 100000'] },
        { name: 'side', command: ['sleep', '100000'] },
      ],
    }),
  );
  await waitForReady(ns, 'box', 2);
});

test('piped stdin: its end is the end of input, and the command ends (echo hi | shell pod/x -- cat)', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', 'pod/box', '--', 'cat'], { input: 'hi\n', env: env(), timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.stderr, '');
});

test('binary stdin round-trips byte for byte, and stdout and stderr stay apart', { skip }, async () => {
  const data = randomBytes(300_000);
  const r = await portholeBytes(['-n', ns, 'shell', 'pod/box', '--', 'sh', '-c', 'cat; echo to-stderr >&2'], data, env());
  assert.equal(r.code, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(data), `stdout differs: ${r.stdout.length} bytes instead of ${data.length}`);
  assert.equal(r.stderr.toString(), 'to-stderr\n');
});

test('the exit code passes through (7), a missing program is 127, and the container is chosen with pod/X/C', { skip }, async () => {
  const seven = await porthole(['-n', ns, 'shell', 'pod/box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], { env: env() });
  assert.equal(seven.code, 7, seven.stderr);
  assert.equal(seven.stdout, 'out\n');
  assert.equal(seven.stderr, 'err\n');

  const missing = await porthole(['-n', ns, 'shell', 'pod/box', '--', 'no-such-program'], { env: env() });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /no-such-program.*not found/);

  // Only main wrote /tmp/mark: pod/box/side has none.
  const main = await porthole(['-n', ns, 'shell', 'pod/box/main', '--', 'cat', '/tmp/mark'], { env: env() });
  assert.equal(main.stdout, 'original\n');
  const side = await porthole(['-n', ns, 'shell', 'pod/box/side', '--', 'cat', '/tmp/mark'], { env: env() });
  assert.equal(side.code, 1);
  const wrong = await porthole(['-n', ns, 'shell', 'pod/box/nope', '--', 'true'], { env: env() });
  assert.equal(wrong.code, 125, wrong.stderr); // shell: porthole's own failures are 125, never the command's code
  assert.match(wrong.stderr, /no container "nope".*main, side/);
});

test('-w and -e reach the command; -u is refused in a sentence', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', '-w', '/tmp', '-e', 'GREETING=hello there', 'pod/box', '--', 'sh', '-c', 'echo "$PWD $GREETING"'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/tmp hello there\n');
  const u = await porthole(['-n', ns, 'shell', '-u', 'nobody', 'pod/box', '--', 'true'], { env: env() });
  assert.equal(u.code, 125);
  assert.match(u.stderr, /cannot run a command as another user/);
});

test('a missing pod is exit 125 (shell keeps its own failures apart from the command\'s codes) with a sentence', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', 'pod/nothing-here', '--', 'true'], { env: env() });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /nothing-here/);
});

test('interactive TTY: raw mode, the shell answers, its exit code comes back, the terminal is cooked after', { skip }, async () => {
  const r = await portholeInTty(['-n', ns, 'shell', 'pod/box'], 'echo $((6*7)); exit 3\r', { env: env() });
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^42\r?$/m);

  const cooked = await inTerminal(`$PORTHOLE -n ${ns} shell pod/box -- sh -c 'exit 0'; echo "EXIT=$?"; stty -a`, '', { env: env() });
  assert.match(cooked.stdout, /EXIT=0/);
  assert.ok(terminalCooked(cooked.stdout), cooked.stdout);
});

test('TTY: the window size is set at start and follows the terminal when it changes (channel 4)', { skip }, async () => {
  const socket = `pt-k8s-${process.pid}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const cmd = `KUBECONFIG=${clusterKubeconfig()} ${portholeCommand(['-n', ns, 'shell', 'pod/box'])}; echo "EXIT=$?"; stty -a | tr ';' '\\n' | grep -c -- -icanon; sleep 30`;
  assert.equal(tmux('new-session', '-d', '-x', '91', '-y', '27', cmd).status, 0);
  try {
    const pane = () => tmux('capture-pane', '-p', '-S', '-50').stdout;
    await waitFor('the prompt', () => /#\s*$/m.test(pane()), 30_000);
    tmux('send-keys', 'stty size', 'Enter');
    await waitFor('27 91', () => /^27 91\s*$/m.test(pane()), 15_000);
    assert.equal(tmux('resize-window', '-x', '120', '-y', '40').status, 0);
    await sleep(300);
    tmux('send-keys', 'stty size', 'Enter');
    await waitFor('40 120 after resize', () => /^40 120\s*$/m.test(pane()), 15_000);
    tmux('send-keys', 'exit 4', 'Enter');
    await waitFor('exit', () => /EXIT=4/.test(pane()), 15_000);
    // Cooked again: stty no longer shows -icanon (0 lines match).
    await waitFor('stty after', () => /EXIT=4\s+0\s*$/m.test(pane()), 15_000);
  } finally {
    tmux('kill-server');
  }
});

test('SIGTERM during a TTY session: exit 143 and the terminal cooked again; the pod is untouched', { skip }, async () => {
  const pidFile = `/tmp/porthole-k8s-test-${process.pid}-${Date.now()}.pid`;
  const killed = await inTerminal(
    `(sleep 3; kill -TERM $(cat ${pidFile})) & sh -c 'echo $$ > ${pidFile}; exec '"$PORTHOLE"' -n ${ns} shell pod/box'; echo "EXIT=$?"; stty -a; rm -f ${pidFile}`,
    '',
    { env: env() },
  );
  assert.match(killed.stdout, /EXIT=143/);
  assert.ok(terminalCooked(killed.stdout), killed.stdout);
  const restarts = kubectlOk(['get', 'pod', 'box', '-n', ns, '-o', 'jsonpath={.status.containerStatuses[*].restartCount}']);
  assert.equal(restarts.trim(), '0 0');
});
