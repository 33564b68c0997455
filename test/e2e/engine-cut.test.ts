// The engine going away in the middle of a stream (issue 11, "not tried by the probe"): `cp` from the engine,
// `logs -f` and `shell`. The shared engine is never restarted: porthole talks to it through a unix-socket proxy
// (test/support/engine-proxy.ts) that the test cuts mid-stream, every connection dropped and nobody listening,
// as a dockerd that dies looks from the client. Each case wants: prompt exit, one sentence on stderr (no stack
// trace), the documented exit code, no half-written file, and, checked on the real engine once the proxy is
// gone, nothing porthole made left there and the target unchanged.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, containerFingerprint, docker, dockerStatus, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { engineProxy } from '../support/engine-proxy.js';
import { containerId, crashedContainer, sleep, waitFor } from '../support/shell.js';
import { ensureToolbox, runShellLess, toolboxLeftovers } from '../support/toolbox.js';

const made: string[] = [];
let work: string;
let box: string;
let boxId: string;

before(() => {
  ensureBusyboxImage();
  work = mkdtempSync(join(tmpdir(), 'porthole-cut-'));
  box = runContainer(uniqueName('cut-box'), [], BUSYBOX_IMAGE, [
    'sh',
    '-c',
    'mkdir -p /d/sub && head -c 4000000 /dev/urandom > /d/big && head -c 3000000 /dev/urandom > /d/sub/big2 && echo small > /d/small && touch /ready && exec sleep 100000',
  ]);
  made.push(box);
  boxId = containerId(box);
});

after(() => {
  removeContainers(...made);
  rmSync(work, { recursive: true, force: true });
});

/** What porthole printed on stderr is one line, a sentence, and no stack trace. */
function oneSentence(stderr: string): void {
  assert.match(stderr, /^porthole: [^\n]+[.)]\n$/, `not one sentence: ${JSON.stringify(stderr)}`);
  assert.doesNotMatch(stderr, /^\s+at /m, 'a stack trace');
}

/** Runs `args` through a slow proxy, cuts the proxy once `afterBytes` came down, and returns the result and how long the exit took after the cut. */
async function cutDuring(args: string[], afterBytes: number, env: Record<string, string> = {}, ready?: (out: string) => boolean) {
  const proxy = await engineProxy({ delayMs: 5 });
  const child = spawnPorthole(args, { DOCKER_HOST: proxy.host, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor('the stream to run', () => proxy.bytesDown() >= afterBytes && (!ready || ready(stdout)), 30_000);
    const cutAt = Date.now();
    proxy.cut();
    const code = await Promise.race([exited, sleep(20_000).then(() => 'hung' as const)]);
    if (code === 'hung') child.kill('SIGKILL');
    return { code, stdout, stderr, afterCutMs: Date.now() - cutAt, proxy };
  } finally {
    await proxy.close();
  }
}

function fresh(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  docker(['inspect', box]); // the engine is fine
  return mkdtempSync(`${dir}-`);
}

test('cp out through the engine, the engine gone mid-copy: exit 1, one sentence, no file left claimed as complete', async () => {
  await waitFor('the fixture', () => dockerStatus(['exec', box, 'test', '-e', '/ready']).status === 0);
  const before_ = containerFingerprint(box);
  for (const [src, destName] of [[`${box}:/d/big`, 'big'], [`${box}:/d`, 'd']] as const) {
    const dest = fresh('cp');
    const r = await cutDuring(['cp', src, join(dest, destName)], 600_000, { PORTHOLE_LAYER_READS: '0' });
    assert.equal(r.code, 1, r.stderr);
    oneSentence(r.stderr);
    assert.match(r.stderr, /engine/i);
    assert.match(r.stderr, /Nothing of this copy was left in the destination\./);
    assert.ok(r.afterCutMs < 10_000, `took ${r.afterCutMs} ms after the cut`);
    assert.deepEqual(readdirSync(dest), [], `${src}: something was left`);
  }
  // to stdout, the tar that got out cannot be taken back: porthole says it is incomplete
  const toStdout = await cutDuring(['cp', `${box}:/d`, '-'], 600_000, { PORTHOLE_LAYER_READS: '0' });
  assert.equal(toStdout.code, 1, toStdout.stderr);
  oneSentence(toStdout.stderr);
  assert.match(toStdout.stderr, /What reached stdout is an incomplete tar\./);
  assert.deepEqual(leftoversFor(boxId), []);
  assert.deepEqual(containerFingerprint(box), before_);
});

test('logs -f, the engine gone mid-stream: ends promptly with one sentence and exit 5', async () => {
  const chatty = runContainer(uniqueName('cut-chatty'), [], BUSYBOX_IMAGE, ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); usleep 20000; done']);
  made.push(chatty);
  const r = await cutDuring(['logs', '-f', chatty], 2000, {}, (out) => /line 20\n/.test(out));
  assert.equal(r.code, 5, r.stderr);
  oneSentence(r.stderr);
  assert.equal(r.stderr, 'porthole: The engine closed the connection in the middle of logs: it stopped, restarted, or the connection was cut.\n');
  assert.ok(r.afterCutMs < 10_000, `took ${r.afterCutMs} ms after the cut`);
  // what did come through is whole lines of the log
  assert.match(r.stdout, /^(line \d+\n)+$/);
  assert.deepEqual(leftoversFor(containerId(chatty)), []);
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', chatty]), 'true');
});

test('shell into a running container, the engine gone mid-session: exit 125, one sentence that says the command may live on', async () => {
  const before_ = containerFingerprint(box);
  const loop = 'echo ready; while true; do echo tick; usleep 50000; done';
  const r = await cutDuring(['shell', box, '--', 'sh', '-c', loop], 0, {}, (out) => out.includes('tick'));
  assert.equal(r.code, 125, r.stderr);
  oneSentence(r.stderr);
  assert.equal(r.stderr, `porthole: The engine went away during the session, so the command's exit code is unknown and the command may still be running in ${box}.\n`);
  assert.ok(r.afterCutMs < 10_000, `took ${r.afterCutMs} ms after the cut`);
  // As with docker exec, nothing can stop the command without the engine: it is there, as porthole said.
  assert.match(docker(['top', box, '-o', 'pid,args']), /while true; do echo tick/);
  for (const line of docker(['top', box, '-o', 'pid,args']).split('\n').filter((l) => /do echo tick/.test(l))) {
    try {
      process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL'); // host PIDs, as docker top gives them
    } catch {
      // gone already
    }
  }
  await waitFor('the loop to go', () => !/do echo tick/.test(docker(['top', box, '-o', 'pid,args'])));
  assert.deepEqual(leftoversFor(boxId), []);
  assert.deepEqual(containerFingerprint(box).config, before_.config);
});

test('shell into a stopped container (a snapshot), the engine gone mid-session and back: the copy and the image are removed', async () => {
  const crashed = crashedContainer(uniqueName('cut-crashed'));
  made.push(crashed);
  const crashedId = containerId(crashed);
  const proxy = await engineProxy();
  const child = spawnPorthole(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 600'], { DOCKER_HOST: proxy.host });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor('the session', () => stdout.includes('ready'), 30_000);
    assert.equal(leftoversFor(crashedId).length, 2, 'the copy and the snapshot image exist');
    proxy.cut();
    await sleep(1500);
    await proxy.resume(); // the engine back, as after a restart
    const code = await exited;
    assert.equal(code, 125, stderr);
    const lines = stderr.split('\n').filter(Boolean);
    assert.match(lines[0]!, /is not running .*working in a snapshot of it/);
    assert.deepEqual(lines.slice(1), ['porthole: The engine closed the connection in the middle of shell: it stopped, restarted, or the connection was cut.']);
    assert.deepEqual(leftoversFor(crashedId), []);
  } finally {
    child.kill('SIGKILL');
    await proxy.close();
  }
});

test('shell into a stopped container, the engine gone for good: porthole says what it could not remove, and gc removes it later', async () => {
  const crashed = crashedContainer(uniqueName('cut-crashed-gone'));
  made.push(crashed);
  const crashedId = containerId(crashed);
  const proxy = await engineProxy();
  const child = spawnPorthole(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 600'], { DOCKER_HOST: proxy.host });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor('the session', () => stdout.includes('ready'), 30_000);
    proxy.cut();
    const code = await exited;
    assert.equal(code, 125, stderr);
    const left = leftoversFor(crashedId);
    assert.equal(left.length, 2, 'the copy and the snapshot image stay: the engine cannot be reached to remove them');
    const lines = stderr.split('\n').filter(Boolean);
    assert.equal(lines[1], 'porthole: The engine closed the connection in the middle of shell: it stopped, restarted, or the connection was cut.');
    // each thing left is named, with the way it goes
    assert.equal(lines.length, 4, stderr);
    for (const [line, what] of [[lines[2], 'debug container'], [lines[3], 'snapshot image']] as const) {
      assert.match(line!, new RegExp(`^porthole: could not remove the ${what}: [0-9a-f]{12} is left on the engine, which went away; \`porthole gc\` removes it once the engine is back\.$`));
      assert.ok(left.includes(line!.match(/[0-9a-f]{12}/)![0]), `${line} names what is left`);
    }
    // the engine back (here: asked directly), gc proves them this dead session's and removes them
    const gc = await porthole(['gc', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    const removed = (JSON.parse(gc.stdout) as { removed: { kind: string; pid: number }[] }).removed.filter((x) => x.pid === child.pid);
    assert.deepEqual(removed.map((x) => x.kind).sort(), ['container', 'image']);
    assert.deepEqual(leftoversFor(crashedId), []);
  } finally {
    child.kill('SIGKILL');
    await proxy.close();
  }
});

test('shell through the toolbox, the engine gone for good: the sidecar left is named, and gc removes it later', async () => {
  ensureToolbox();
  const target = runShellLess(uniqueName('cut-shell-less'));
  made.push(target);
  const targetId = containerId(target);
  const proxy = await engineProxy();
  const child = spawnPorthole(['shell', target, '--', 'sleep', '600'], { DOCKER_HOST: proxy.host });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const sidecar = await waitFor('the sidecar', () => docker(['ps', '-q', '--filter', `label=io.porthole.target=${targetId}`]), 30_000);
    await sleep(500);
    proxy.cut();
    assert.equal(await exited, 125, stderr);
    const lines = stderr.split('\n').filter(Boolean);
    assert.equal(lines[0], 'porthole: The engine closed the connection in the middle of shell: it stopped, restarted, or the connection was cut.');
    assert.deepEqual(lines.slice(1), [`porthole: could not remove the toolbox sidecar: ${sidecar.slice(0, 12)} is left on the engine, which went away; \`porthole gc\` removes it once the engine is back.`]);
    assert.deepEqual(toolboxLeftovers(targetId), [sidecar.slice(0, 12)]);
    const gc = await porthole(['gc', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    const removed = (JSON.parse(gc.stdout) as { removed: { id: string; pid: number }[] }).removed.filter((x) => x.pid === child.pid);
    assert.deepEqual(removed.map((x) => x.id.slice(0, 12)), [sidecar.slice(0, 12)]);
    assert.deepEqual(toolboxLeftovers(targetId), []);
    assert.equal(docker(['inspect', '--format', '{{.State.Running}}', target]), 'true');
  } finally {
    child.kill('SIGKILL');
    await proxy.close();
  }
});
