import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { containerFingerprint, docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { waitFor } from '../support/crash.js';
import { readFileSync } from 'node:fs';

/** The container's json-file log as the engine stored it, one entry per line written. */
function logEntries(name: string): { log: string; stream: string }[] {
  const file = docker(['inspect', '-f', '{{.LogPath}}', name]);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; stream: string });
}

const made: string[] = [];
after(() => removeContainers(...made));

let mixed: string;
before(async () => {
  ensureBusyboxImage();
  mixed = uniqueName('logs-mixed');
  made.push(mixed);
  // Lines 1-5 on stdout, e1-e3 on stderr, one with escape sequences and a carriage return, one without a newline.
  runContainer(mixed, [], undefined, [
    'sh',
    '-c',
    'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done; printf "paint \\033[31mred\\033]0;title\\007\\r\\n"; echo "out 4"; echo "out 5 error"; printf "no newline"',
  ]);
  await waitFor(mixed, (s) => s.Status === 'exited');
  // The engine's log copier may still be writing when the container is seen exited (seen under load in CI):
  // start once the log file holds the line without a newline, which the copier writes last, at end of output.
  const deadline = Date.now() + 10000;
  while (!logEntries(mixed).some((e) => e.log === 'no newline') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(logEntries(mixed).some((e) => e.log === 'no newline'), 'the engine never wrote the whole log');
});

test('stdout goes to stdout and stderr to stderr, byte for byte through a pipe', async () => {
  const r = await porthole(['logs', mixed]);
  assert.equal(r.code, 0, r.stderr);
  const expected = Buffer.from('out 1\nout 2\nout 3\npaint \x1b[31mred\x1b]0;title\x07\r\nout 4\nout 5 error\nno newline');
  assert.deepEqual(r.stdoutBytes, expected);
  assert.equal(r.stderr, 'err 1\nerr 2\nerr 3\n');
  // the same bytes docker itself gives
  assert.equal(r.stdout, docker(['logs', mixed]) + '');
});

test('--tail N keeps the last N lines of the log (both streams together, as docker counts them)', async () => {
  // The engine's json-file log is the truth: which stream's copier wrote first is up to scheduling, so the
  // expected answer is computed from the file's own order, not written down.
  const entries = logEntries(mixed);
  assert.equal(entries.length, 10);
  for (const n of [1, 2, 5, 8]) {
    const last = entries.slice(-n);
    const ours = await porthole(['logs', '--tail', String(n), mixed]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, last.filter((e) => e.stream === 'stdout').map((e) => e.log).join(''), `stdout of --tail ${n}`);
    assert.equal(ours.stderr, last.filter((e) => e.stream === 'stderr').map((e) => e.log).join(''), `stderr of --tail ${n}`);
  }
  for (const n of ['3', 'all']) {
    const ours = await porthole(['logs', '--tail', n, mixed]);
    const theirs = dockerStatus(['logs', '--tail', n, mixed]);
    assert.equal(ours.stdout, theirs.stdout, `stdout of --tail ${n}`);
    assert.equal(ours.stderr, theirs.stderr, `stderr of --tail ${n}`);
  }
  const bad = await porthole(['logs', '--tail', 'many', mixed]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--tail takes a whole number/);
});

test('--grep filters lines by regular expression and keeps stdout and stderr apart', async () => {
  const r = await porthole(['logs', '--grep', '(2|error)$', mixed]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'out 2\nout 5 error\n');
  assert.equal(r.stderr, 'err 2\n');
  const bad = await porthole(['logs', '--grep', '(', mixed]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a valid regular expression/);
});

test('--timestamps puts an RFC 3339 time before each line; --grep looks past it', async () => {
  const r = await porthole(['logs', '-t', '--grep', '^out 1$', mixed]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out 1\n$/);
  const all = await porthole(['logs', '--timestamps', mixed]);
  for (const line of all.stderr.trim().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z err \d$/);
});

test('--since and --until select by time (durations, RFC 3339, unix seconds)', async () => {
  const stamps = (await porthole(['logs', '-t', mixed])).stdout.trim().split('\n').map((l) => l.split(' ')[0]!);
  const first = Date.parse(stamps[0]!);
  const future = new Date(first + 3600_000).toISOString();
  assert.equal((await porthole(['logs', '--since', future, mixed])).stdout, '');
  assert.equal((await porthole(['logs', '--since', '1h', mixed])).stdout.split('\n')[0], 'out 1');
  assert.equal((await porthole(['logs', '--until', String(Math.floor(first / 1000) - 60), mixed])).stdout, '');
  const bad = await porthole(['logs', '--since', 'last tuesday', mixed]);
  assert.equal(bad.code, 2);
});

test('on a terminal, control characters are shown escaped and cannot repaint the screen', async () => {
  const r = await portholeInTty(['logs', mixed], '');
  assert.equal(r.code, 0, r.stdout);
  assert.ok(r.stdout.includes('paint \\e[31mred\\e]0;title\\x07\\r'), r.stdout);
  assert.ok(!r.stdout.includes('\x1b[31m'), 'raw escape reached the terminal');
  assert.ok(!r.stdout.includes('\x07'));
  assert.match(r.stdout, /err 1/); // stderr shows on the same terminal
});

test('a container with a TTY has one raw stream, all on stdout', async () => {
  const name = uniqueName('logs-tty');
  made.push(name);
  runContainer(name, ['-t'], undefined, ['sh', '-c', 'echo to-out; echo to-err >&2']);
  await waitFor(name, (s) => s.Status === 'exited');
  const r = await porthole(['logs', name]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'to-out\r\nto-err\r\n');
  assert.equal(r.stderr, '');
});

test('-f follows new lines until the container stops, then ends with 0', async () => {
  const name = uniqueName('logs-follow');
  made.push(name);
  runContainer(name, [], undefined, ['sh', '-c', 'for i in 1 2 3 4; do echo "tick $i"; echo "warn $i" >&2; sleep 0.5; done']);
  const r = await porthole(['logs', '-f', name], { timeoutMs: 20000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'tick 1\ntick 2\ntick 3\ntick 4\n');
  assert.equal(r.stderr, 'warn 1\nwarn 2\nwarn 3\nwarn 4\n');
});

test('-f ends promptly and cleanly on Ctrl-C, and the container is untouched', async () => {
  const name = uniqueName('logs-ctrlc');
  made.push(name);
  runContainer(name, [], undefined, ['sh', '-c', 'while date; do sleep 0.2; done']);
  const child = spawnPorthole(['logs', '-f', '--tail', '1', name]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const deadline = Date.now() + 10000;
  while (out.split('\n').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(out.split('\n').length >= 4, 'new lines were followed');
  const before = containerFingerprint(name).config;
  const sentAt = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.ok(Date.now() - sentAt < 3000, 'ended promptly');
  assert.equal(code, 130);
  assert.equal(err, '', 'no error message or stack trace');
  assert.equal(JSON.parse(docker(['inspect', '-f', '{{json .State.Running}}', name])), true);
  assert.deepEqual(containerFingerprint(name).config, before);
});

test('a missing container is one sentence with exit code 3', async () => {
  const r = await porthole(['logs', 'pt-no-such-container-at-all']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^porthole: No such container: pt-no-such-container-at-all\./);
});
