// `porthole gc` on the real engine: a kill -9'd session's leftovers are listed (--dry-run) and removed; a live
// session's things, and anything without io.porthole.owned=true, are never touched.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, removeContainers, uniqueName } from '../support/docker.js';
import { processStartTicks } from '../../src/enter/session.js';
import { containerId, crashedContainer, leftoversFor, portholeCommand, stableFingerprint, waitFor } from '../support/shell.js';

const made: string[] = [];
const volumes: string[] = [];
let crashed: string;
let crashedId: string;

before(() => {
  ensureBusyboxImage();
  crashed = crashedContainer(uniqueName('gc-crashed'));
  made.push(crashed);
  crashedId = containerId(crashed);
});

after(() => {
  removeContainers(...made);
  if (volumes.length) dockerStatus(['volume', 'rm', '-f', ...volumes]);
});

/** A PID that no process has right now: a child that has exited. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

interface GcJson {
  dryRun: boolean;
  removed: { kind: string; id: string; name: string; pid: number | null }[];
  kept: { kind: string; id: string; name: string; reason: string }[];
  failed: unknown[];
}

async function gc(...flags: string[]): Promise<GcJson> {
  const r = await porthole(['gc', '--json', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('after kill -9 of a snapshot session, gc --dry-run lists the leftovers and gc removes them', async () => {
  const fingerprint = stableFingerprint(crashed);
  const session = spawnPorthole(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 60']);
  let out = '';
  session.stdout.on('data', (d) => (out += d));
  await waitFor('the session', () => out.includes('ready'));
  session.kill('SIGKILL');
  await new Promise((r) => session.on('close', r));
  const left = leftoversFor(crashedId);
  assert.equal(left.length, 2, 'expected the debug container and the snapshot image to be left by kill -9');
  const copy = docker(['ps', '-aq', '--no-trunc', '--filter', `label=io.porthole.target=${crashedId}`]);

  const dry = await gc('--dry-run');
  assert.equal(dry.dryRun, true);
  const listed = dry.removed.filter((x) => x.pid === session.pid);
  assert.deepEqual(listed.map((x) => x.kind).sort(), ['container', 'image']);
  assert.ok(listed.some((x) => x.id === copy));
  assert.equal(leftoversFor(crashedId).length, 2, '--dry-run removed something');
  const human = await porthole(['gc', '--dry-run']);
  assert.match(human.stdout, new RegExp(`would remove container ${copy.slice(0, 12)} .*pid ${session.pid}`));

  const real = await gc();
  assert.deepEqual(real.removed.filter((x) => x.pid === session.pid).map((x) => x.kind).sort(), ['container', 'image']);
  assert.deepEqual(leftoversFor(crashedId), []);
  assert.deepEqual(stableFingerprint(crashed), fingerprint);
});

test("gc leaves a live session's copy alone", async () => {
  const session = spawnPorthole(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 60']);
  let out = '';
  session.stdout.on('data', (d) => (out += d));
  try {
    await waitFor('the session', () => out.includes('ready'));
    const result = await gc();
    assert.ok(!result.removed.some((x) => x.pid === session.pid), 'gc removed a live session\'s things');
    assert.ok(result.kept.some((x) => x.kind === 'container' && /still running/.test(x.reason)));
    assert.equal(leftoversFor(crashedId).length, 2);
    session.stdin.end('');
  } finally {
    session.kill('SIGTERM');
    await new Promise((r) => session.on('close', r));
  }
  assert.deepEqual(leftoversFor(crashedId), []);
});

test('gc never touches things without io.porthole.owned=true, and judges owners by PID and start time', async () => {
  const dead = deadPid();
  const fakeSession = ['--label', 'io.porthole.session=fake', '--label', `io.porthole.host=${hostname()}`];
  const unlabelled = uniqueName('gc-unlabelled');
  const notOwned = uniqueName('gc-owned-false');
  const orphan = uniqueName('gc-orphan');
  const reused = uniqueName('gc-reused-pid');
  const live = uniqueName('gc-live');
  made.push(unlabelled, notOwned, orphan, reused, live);
  const create = (name: string, labels: string[]) => docker(['create', '--name', name, '--label', TEST_LABEL, ...labels, 'porthole-fixture/busybox:1', 'true']);
  create(unlabelled, ['--label', `io.porthole.pid=${dead}`, ...fakeSession]);
  create(notOwned, ['--label', 'io.porthole.owned=false', '--label', `io.porthole.pid=${dead}`, ...fakeSession]);
  create(orphan, ['--label', 'io.porthole.owned=true', '--label', `io.porthole.pid=${dead}`, ...fakeSession]);
  // this test process is alive, but the recorded start time is not its own: the PID was reused
  create(reused, ['--label', 'io.porthole.owned=true', '--label', `io.porthole.pid=${process.pid}`, '--label', 'io.porthole.pid-start=1', ...fakeSession]);
  const ownStart = processStartTicks(process.pid)!;
  create(live, ['--label', 'io.porthole.owned=true', '--label', `io.porthole.pid=${process.pid}`, '--label', `io.porthole.pid-start=${ownStart}`, ...fakeSession]);
  const orphanVolume = uniqueName('gc-vol');
  const plainVolume = uniqueName('gc-plain-vol');
  volumes.push(orphanVolume, plainVolume);
  docker(['volume', 'create', '--label', 'io.porthole.owned=true', '--label', `io.porthole.pid=${dead}`, orphanVolume]);
  docker(['volume', 'create', '--label', `io.porthole.pid=${dead}`, plainVolume]);

  const dry = await gc('--dry-run');
  const names = dry.removed.map((x) => x.name);
  assert.ok(names.includes(orphan) && names.includes(reused) && names.includes(orphanVolume), JSON.stringify(dry.removed));
  for (const n of [unlabelled, notOwned, live, plainVolume]) assert.ok(!names.includes(n), `${n} would be removed`);
  assert.ok(dry.kept.some((x) => x.name === live));

  const result = await gc();
  const removed = result.removed.map((x) => x.name);
  assert.ok(removed.includes(orphan) && removed.includes(reused) && removed.includes(orphanVolume));
  const exists = (name: string) => dockerStatus(['inspect', name]).status === 0;
  assert.ok(!exists(orphan) && !exists(reused));
  assert.ok(exists(unlabelled) && exists(notOwned) && exists(live), 'gc removed something it must not');
  assert.equal(dockerStatus(['volume', 'inspect', orphanVolume]).status, 1);
  assert.equal(dockerStatus(['volume', 'inspect', plainVolume]).status, 0);
  const again = await porthole(['gc']);
  assert.doesNotMatch(again.stdout, new RegExp(`${unlabelled}|${notOwned}|${plainVolume}`));
  assert.match(again.stdout, new RegExp(`kept container .*${live}.*still running`));
});

test('a session killed with -9 whose parent has not reaped it yet (a zombie) counts as dead', async () => {
  // sh starts porthole in the background and execs into sleep, which never reaps it
  const parent = spawn('sh', ['-c', `${portholeCommand(['shell', crashed, '--', 'sh', '-c', 'echo ready; sleep 60'])} & echo "$!"; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  parent.stdout.on('data', (d) => (out += d));
  try {
    const pid = Number(await waitFor('the pid and the session', () => (out.includes('ready') ? out.split('\n')[0] : undefined)));
    process.kill(pid, 'SIGKILL');
    await waitFor('the zombie', () => /\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
    const result = await gc();
    assert.deepEqual(result.removed.filter((x) => x.pid === pid).map((x) => x.kind).sort(), ['container', 'image']);
    assert.deepEqual(leftoversFor(crashedId), []);
  } finally {
    parent.kill('SIGKILL');
  }
});
