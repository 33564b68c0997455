// `porthole gc` on the real engine: a kill -9'd session's leftovers are listed (--dry-run) and removed; a live
// session's things, containers that only inherit porthole's labels from their image (issue 11), and anything
// porthole cannot prove it made, are never touched.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, importRootfs, removeContainers, uniqueName } from '../support/docker.js';
import { processStartTicks } from '../../src/enter/session.js';
import { ensureToolbox, runShellLess, toolboxLeftovers } from '../support/toolbox.js';
import { containerId, crashedContainer, leftoversFor, portholeCommand, stableFingerprint, waitFor } from '../support/shell.js';

const made: string[] = [];
const volumes: string[] = [];
const images: string[] = [];
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
  if (images.length) dockerStatus(['rmi', '-f', ...images]);
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

/** A session id of the form porthole writes, unused by any real session. */
function fakeSession(): string {
  return randomBytes(6).toString('hex');
}

/** Every owner label porthole writes on a container, for a made-up session of process `pid` started at `start`. */
function ownerLabels(session: string, pid: number, start: string): string[] {
  return ['owned=true', `session=${session}`, `pid=${pid}`, `pid-start=${start}`, `host=${hostname()}`].map((l) => `io.porthole.${l}`);
}

test('issue 11: containers that inherit porthole labels from their image, running or not, and the image, are never removed', async () => {
  const dead = deadPid();
  const session = fakeSession();
  // the attack as filed: an image carrying porthole's labels (here all of them, well formed, owner dead)
  const evilImage = `${uniqueName('gc-evil').toLowerCase()}:1`;
  const root = mkdtempSync(join(tmpdir(), 'gc-evil-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'sleep', 'true']) symlinkSync('busybox', join(root, 'bin', applet));
  importRootfs(root, evilImage, [`LABEL ${ownerLabels(session, dead, '1').join(' ')}`, 'ENV PATH=/bin']);
  rmSync(root, { recursive: true, force: true });
  images.push(evilImage);
  const victim = uniqueName('gc-victim');
  const lookalike = `${uniqueName('gc-lookalike')}-porthole-${session}`; // porthole's name for a debug copy of that session
  const filler = `porthole-toolbox-fill-${session}`; // porthole's name for a never-started helper
  made.push(victim, lookalike, filler);
  docker(['run', '-d', '--name', victim, '--label', TEST_LABEL, evilImage, 'sleep', '100000']);
  docker(['run', '-d', '--name', lookalike, '--label', TEST_LABEL, evilImage, 'sleep', '100000']);
  docker(['create', '--name', filler, '--label', TEST_LABEL, evilImage, 'true']);
  // an image with porthole's image labels forged, tagged as anything pulled or built is
  const evilSnapshot = `${uniqueName('gc-evil-snapshot').toLowerCase()}:1`;
  const snapshotLabels = ['owned=true', `session=${session}`, `pid=${dead}`, 'pid-start=1', `host=${hostname()}`].map((l) => `io.porthole.image.${l}`);
  docker(['commit', '-m', 'porthole snapshot of x', '-c', `LABEL ${snapshotLabels.join(' ')}`, filler, evilSnapshot]);
  images.push(evilSnapshot);
  const ids = Object.fromEntries([victim, lookalike, filler].map((n) => [n, containerId(n)]));

  const dry = await gc('--dry-run');
  const result = await gc();
  for (const run of [dry, result]) {
    const touched = run.removed.filter((x) => Object.values(ids).includes(x.id) || x.name === evilImage || x.name === evilSnapshot);
    assert.deepEqual(touched, [], 'gc removed what it never made');
    for (const name of [victim, lookalike, filler]) {
      const kept = run.kept.find((x) => x.id === ids[name]);
      assert.match(kept?.reason ?? '', /io\.porthole\.owned label comes from its image/, name);
    }
    assert.match(run.kept.find((x) => x.name === evilSnapshot)?.reason ?? '', /name or a digest/);
  }
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', victim]), 'true', 'the victim was stopped');
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', lookalike]), 'true');
  assert.equal(dockerStatus(['inspect', filler]).status, 0);
  assert.equal(dockerStatus(['image', 'inspect', evilImage]).status, 0, 'the image was removed');
  assert.equal(dockerStatus(['image', 'inspect', evilSnapshot]).status, 0);
  const human = await porthole(['gc', '--dry-run']);
  assert.match(human.stdout, new RegExp(`kept container ${ids[victim]!.slice(0, 12)} ${victim} .*: not porthole's: its io\\.porthole\\.owned label comes from its image`));
});

test('labels porthole wrote, a name porthole gives, the kind porthole makes, a dead owner: only then removed', async () => {
  const dead = deadPid();
  const ownStart = processStartTicks(process.pid)!;
  const filler = (session: string) => `porthole-toolbox-fill-${session}`;
  const orphan = filler(fakeSession());
  const reused = filler(fakeSession()); // this test's PID, but another start time: the PID was reused
  const live = filler(fakeSession());
  const misnamed = uniqueName('gc-misnamed');
  const started = filler(fakeSession()); // porthole never starts a filler
  const partial = filler(fakeSession()); // no pid-start label
  made.push(orphan, reused, live, misnamed, started, partial);
  const session = (name: string) => name.slice(-12);
  const create = (name: string, labels: string[], cmd = ['true']) => docker(['create', '--name', name, '--label', TEST_LABEL, ...labels.flatMap((l) => ['--label', l]), BUSYBOX_IMAGE, ...cmd]);
  create(orphan, ownerLabels(session(orphan), dead, '12345'));
  create(reused, ownerLabels(session(reused), process.pid, '1'));
  create(live, ownerLabels(session(live), process.pid, ownStart));
  create(misnamed, ownerLabels(fakeSession(), dead, '12345'));
  create(partial, ownerLabels(session(partial), dead, '12345').filter((l) => !l.includes('pid-start')));
  docker(['run', '-d', '--name', started, '--label', TEST_LABEL, ...ownerLabels(session(started), dead, '12345').flatMap((l) => ['--label', l]), BUSYBOX_IMAGE, 'sleep', '100000']);
  const volume = uniqueName('gc-vol');
  volumes.push(volume);
  docker(['volume', 'create', ...ownerLabels(fakeSession(), dead, '12345').flatMap((l) => ['--label', l]), volume]);

  const dry = await gc('--dry-run');
  const names = dry.removed.map((x) => x.name);
  assert.ok(names.includes(orphan) && names.includes(reused), JSON.stringify(dry.removed));
  for (const n of [live, misnamed, started, partial, volume]) assert.ok(!names.includes(n), `${n} would be removed`);
  const reason = (n: string) => dry.kept.find((x) => x.name === n)?.reason ?? '';
  assert.match(reason(live), /still running/);
  assert.match(reason(misnamed), /name is not one porthole gives/);
  assert.match(reason(started), /never starts/);
  assert.match(reason(partial), /pid-start label is missing/);
  assert.match(reason(volume), /makes no volumes/);

  const result = await gc();
  const removed = result.removed.map((x) => x.name);
  assert.ok(removed.includes(orphan) && removed.includes(reused));
  const exists = (name: string) => dockerStatus(['inspect', name]).status === 0;
  assert.ok(!exists(orphan) && !exists(reused));
  assert.ok(exists(live) && exists(misnamed) && exists(started) && exists(partial), 'gc removed something it must not');
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', started]), 'true');
  assert.equal(dockerStatus(['volume', 'inspect', volume]).status, 0);
  const again = await porthole(['gc']);
  assert.match(again.stdout, new RegExp(`kept container .*${live}.*still running`));
});

test('after kill -9 of a toolbox session, gc removes its running sidecar (the toolbox command proves it)', async () => {
  ensureToolbox();
  const target = runShellLess(uniqueName('gc-shell-less'));
  made.push(target);
  const targetId = containerId(target);
  const session = spawnPorthole(['shell', target, '--', 'sleep', '600']);
  const sidecar = await waitFor('the sidecar', () => docker(['ps', '-q', '--no-trunc', '--filter', `label=io.porthole.target=${targetId}`]), 30_000);
  session.kill('SIGKILL');
  await new Promise((r) => session.on('close', r));
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', sidecar]), 'true', 'the sidecar stopped by itself');
  const result = await gc();
  assert.deepEqual(result.removed.filter((x) => x.pid === session.pid).map((x) => [x.kind, x.id]), [['container', sidecar]]);
  assert.deepEqual(toolboxLeftovers(targetId), []);
  assert.equal(docker(['inspect', '--format', '{{.State.Running}}', target]), 'true');
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
