// Listing from the container's overlay2 layers instead of receiving everything below a folder from the engine:
// `ls` of one folder (the merged layers, checked against the engine), and `diff -l/--tree/--json`, `du` and
// `find --newer-than-image` (the container's own layer, which holds every change). These tests build layered
// images for real (commits of containers that delete, replace and make folders opaque), and check, on a running
// and on a stopped container, that the layers' answer is byte for byte the engine's own (PORTHOLE_LAYER_READS=0
// forces the engine's way), that the layers were really used (PORTHOLE_TRACE shows no archive or export GET), and
// that what the layers cannot answer for sure goes to the engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, porthole, runProcess, type CliResult } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { leftoversFor, stableFingerprint } from '../support/fs.js';

const names: string[] = [];
const images: string[] = [];
let running: string;
let stopped: string;
let withVolume: string;
let cleanRunning: string;
let cleanStopped: string;

/** Runs `script` in a container of `image` to its end and commits the result as a new image layer. */
function commitStep(image: string, script: string): string {
  const name = uniqueName('lsl-step');
  names.push(name);
  docker(['run', '--name', name, '--label', TEST_LABEL, image, 'sh', '-ec', script]);
  const ref = `porthole-test/${name}:1`;
  docker(['commit', '--change', `LABEL ${TEST_LABEL}`, name, ref]);
  images.push(ref);
  return ref;
}

// What the container itself changes on top of the image: folders replaced (opaque in its own layer), a file
// deleted (a whiteout), new names with escapes and bytes that are not UTF-8, a folder holding only such a name
// (its layer cannot be checked through the API), a FIFO, and a 64 MiB file the engine's archive would send.
const CONTAINER_SCRIPT = [
  'rm -rf /w/keep && mkdir /w/keep && echo z > /w/keep/z',
  'rm -rf /w/emptied && mkdir /w/emptied',
  'rm /w/b',
  'echo d > /w/d',
  'printf x > "/w/$(printf "esc\\033[2Jname")"',
  'printf y > "/w/$(printf "bad\\377")"',
  'mkdir /w/onlybad && printf z > "/w/onlybad/$(printf "\\377")"',
  'mkfifo /w/pipe',
  'dd if=/dev/zero of=/w/big bs=1048576 count=64 2>/dev/null',
].join(' && ');

// Changes whose names are all UTF-8 (the engine's change list loses other bytes): nested folders, names that sort
// differently as paths and as walk order (/w/x/y before /w/x-z), a link, an escape, a replaced folder, a deletion.
const CLEAN_SCRIPT = [
  'rm -rf /w/keep && mkdir /w/keep && echo z > /w/keep/z',
  'rm /w/b',
  'mkdir -p /w/x/y && printf 12345 > /w/x/y/f && printf 1 > /w/x-z && ln -s x/y /w/xl',
  'printf x > "/w/$(printf "esc\\033[2Jname")"',
  'dd if=/dev/zero of=/w/big bs=1048576 count=3 2>/dev/null',
].join(' && ');

before(() => {
  ensureBusyboxImage();
  const first = commitStep(
    BUSYBOX_IMAGE,
    'mkdir -p /w/keep /w/gone /w/sub /w/deep/in /w/emptied && echo old > /w/emptied/old && echo a > /w/a && echo x > /w/gone/x && echo k > /w/keep/k && echo b > /w/b && ln -s b /w/rel && echo 1 > /w/deep/in/one',
  );
  // the second layer: a folder replaced (opaque), a file deleted, a file added, and an opaque folder above another
  const second = commitStep(first, 'rm -rf /w/gone && mkdir /w/gone && echo n > /w/gone/new && rm /w/a && echo c > /w/c && rm -rf /w/deep && mkdir -p /w/deep/in && echo 2 > /w/deep/in/two');
  running = runContainer(uniqueName('lsl-run'), [], second, ['sh', '-c', `${CONTAINER_SCRIPT} && touch /ready && exec sleep 3600`]);
  stopped = uniqueName('lsl-stopped');
  docker(['run', '--name', stopped, '--label', TEST_LABEL, second, 'sh', '-ec', CONTAINER_SCRIPT]);
  withVolume = runContainer(uniqueName('lsl-vol'), ['-v', '/w/vol'], second, ['sleep', '3600']);
  cleanRunning = runContainer(uniqueName('lsl-clean-run'), [], second, ['sh', '-c', `${CLEAN_SCRIPT} && touch /ready && exec sleep 3600`]);
  cleanStopped = uniqueName('lsl-clean-stopped');
  docker(['run', '--name', cleanStopped, '--label', TEST_LABEL, second, 'sh', '-ec', CLEAN_SCRIPT]);
  names.push(running, stopped, withVolume, cleanRunning, cleanStopped);
  for (const c of [running, cleanRunning]) {
    for (let i = 0; i < 200 && dockerStatus(['exec', c, 'test', '-e', '/ready']).status !== 0; i++) spawnSyncSleep(50);
  }
});

after(() => {
  removeContainers(...names);
  if (images.length) dockerStatus(['rmi', ...images.reverse()]);
});

function spawnSyncSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const archiveGets = (r: CliResult) => (r.stderr.match(/ GET \S+\/archive\?/g) ?? []).length;
const exportGets = (r: CliResult) => (r.stderr.match(/ GET \S+\/export /g) ?? []).length;

/** The same command the layer way (traced) and the engine's way. */
async function bothWays(args: string[], command = 'ls'): Promise<{ layers: CliResult; engine: CliResult }> {
  const [layers, engine] = await Promise.all([
    porthole([command, ...args], { env: { PORTHOLE_TRACE: '1' } }),
    porthole([command, ...args], { env: { PORTHOLE_LAYER_READS: '0' } }),
  ]);
  assert.equal(layers.code, 0, layers.stderr);
  assert.equal(engine.code, 0, engine.stderr);
  return { layers, engine };
}

test('one folder from the layers is exactly what the engine lists, running or stopped, whiteouts and opaque folders included', async () => {
  for (const c of [running, stopped]) {
    const before = stableFingerprint(c);
    for (const dir of ['/', '/w', '/w/gone', '/w/keep', '/w/emptied', '/w/deep/in', '/w/sub', '/bin']) {
      for (const flags of [['-la', '--json'], ['-la']]) {
        const { layers, engine } = await bothWays([...flags, c, dir]);
        assert.equal(layers.stdout, engine.stdout, `ls ${flags.join(' ')} ${c} ${dir}`);
        assert.equal(archiveGets(layers), 0, `ls ${flags.join(' ')} ${dir} read the layers, not an archive:\n${layers.stderr}`);
      }
    }
    // what the merge must hide: replaced folders' old names, deleted files
    assert.equal((await porthole(['ls', c, '/w/gone'])).stdout, 'new\n');
    assert.equal((await porthole(['ls', c, '/w/keep'])).stdout, 'z\n');
    assert.equal((await porthole(['ls', c, '/w/deep/in'])).stdout, 'two\n');
    assert.equal((await porthole(['ls', '-a', c, '/w/emptied'])).stdout, '');
    const w = (await porthole(['ls', c, '/w'])).stdout;
    assert.equal(w, 'bad\\xff\nbig\nc\nd\ndeep\nemptied\nesc\\e[2Jname\ngone\nkeep\nonlybad\npipe\nrel\nsub\n');
    const json = JSON.parse((await porthole(['ls', '-l', '--json', c, '/w'])).stdout) as { name: string; nameBytes?: string; type: string; size: number; linkTarget: string | null }[];
    assert.equal(json.find((e) => e.name === 'big')?.size, 64 << 20);
    assert.equal(json.find((e) => e.name === 'pipe')?.type, 'fifo');
    assert.equal(json.find((e) => e.name === 'rel')?.linkTarget, 'b');
    assert.equal(json.find((e) => e.name === 'esc\x1b[2Jname')?.type, 'file');
    assert.ok(json.some((e) => e.nameBytes !== undefined), 'the name that is not UTF-8 keeps its bytes');
    assert.deepEqual(stableFingerprint(c), before, 'looking changed nothing');
  }
  assert.deepEqual(leftoversFor(running, stopped), []);
});

test('one file: plain ls needs only the stat, -l reads its folder from the layers, never the 64 MiB', async () => {
  for (const c of [running, stopped]) {
    const plain = await porthole(['ls', c, '/w/big'], { env: { PORTHOLE_TRACE: '1' } });
    assert.equal(plain.stdout, '/w/big\n');
    assert.equal(archiveGets(plain), 0);
    const { layers, engine } = await bothWays(['-l', c, '/w/big']);
    assert.match(layers.stdout, /^-rw-r--r-- root root 67108864 \d{4}-\d\d-\d\d \d\d:\d\d \/w\/big\n$/);
    assert.equal(layers.stdout, engine.stdout);
    assert.equal(archiveGets(layers), 0);
  }
});

test('what the layers cannot answer for sure goes to the engine, with the same output', async () => {
  // a folder whose layer adds only a name the API cannot carry, a volume right inside, the engine's /etc files
  for (const [c, dir] of [[running, '/w/onlybad'], [withVolume, '/w'], [running, '/etc']] as const) {
    const { layers, engine } = await bothWays(['-la', '--json', c, dir]);
    assert.equal(layers.stdout, engine.stdout, `${c} ${dir}`);
    assert.ok(archiveGets(layers) >= 1, `${dir} went to the engine`);
  }
  const vol = JSON.parse((await porthole(['ls', '-la', '--json', withVolume, '/w'])).stdout) as { name: string }[];
  assert.ok(vol.some((e) => e.name === 'vol'));
});

/** docker diff lists changes in no fixed order from one call to the next: compare lines (or JSON rows) as a sorted set. */
const sortedLines = (text: string) => (text.startsWith('[') ? (JSON.parse(text) as unknown[]).map((row) => JSON.stringify(row)) : text.split('\n')).sort().join('\n');

test('diff -l/--tree/--json, du and find --newer-than-image read the container\'s own layer, not an export of everything', async () => {
  for (const c of [cleanRunning, cleanStopped]) {
    const before = stableFingerprint(c);
    const runs: [string, string[], boolean][] = [
      ['diff', ['-l', c], true],
      ['diff', ['--json', c], true],
      ['diff', ['--tree', c], false],
      ['du', [c], false],
      ['du', ['--json', c, '/w/x'], false],
      ['find', [c, '/', '--newer-than-image'], false],
      ['find', ['--json', c, '/w', '--newer-than-image'], false],
      ['find', [c, '/', '--newer-than-image', '--type', 'f', '--size', '+1k'], false],
    ];
    for (const [command, args, unordered] of runs) {
      const { layers, engine } = await bothWays(args, command);
      const what = `${command} ${args.join(' ')}`;
      if (unordered) assert.equal(sortedLines(layers.stdout), sortedLines(engine.stdout), what);
      else assert.equal(layers.stdout, engine.stdout, what);
      assert.equal(exportGets(layers) + archiveGets(layers), 0, `${what} read the layer:\n${layers.stderr}`);
    }
    const diff = JSON.parse((await porthole(['diff', '--json', c])).stdout) as { path: string; kind: string; type: string | null; size: number | null }[];
    assert.deepEqual(diff.find((d) => d.path === '/w/big'), { path: '/w/big', kind: 'A', type: 'file', size: 3 << 20, mode: '-rw-r--r--' });
    assert.equal(diff.find((d) => d.path === '/w/xl')?.type, 'symlink');
    assert.equal(diff.find((d) => d.path === '/w/b')?.type, null, 'a deletion has no details');
    const find = (await porthole(['find', c, '/w', '--newer-than-image'])).stdout;
    assert.equal(find, '/w\n/w/big\n/w/esc\\e[2Jname\n/w/keep\n/w/keep/z\n/w/x\n/w/x/y\n/w/x/y/f\n/w/x-z\n/w/xl\n');
    assert.match((await porthole(['du', c, '/w/x'])).stdout, /^\s*5B {2}\/w\/x\n\s*5B {2}\/w\/x\/y\n$/);
    assert.deepEqual(stableFingerprint(c), before, 'looking changed nothing');
  }
  assert.deepEqual(leftoversFor(cleanRunning, cleanStopped), []);
});

test('a change the engine\'s list cannot name exactly (bytes that are not UTF-8) sends diff, du and find to the export', async () => {
  for (const [command, args, unordered] of [['diff', ['-l', stopped], true], ['du', [stopped], false], ['find', [stopped, '/w', '--newer-than-image'], false]] as const) {
    const { layers, engine } = await bothWays([...args], command);
    if (unordered) assert.equal(sortedLines(layers.stdout), sortedLines(engine.stdout));
    else assert.equal(layers.stdout, engine.stdout);
    assert.ok(exportGets(layers) + archiveGets(layers) >= 1, `${command} went to the engine`);
  }
});

test('a user who may use the engine but not read its storage (the docker group) gets the same answers from the engine', async (t) => {
  // the group that owns the engine's socket (docker.io makes it), as the package's users get it
  const group = /^docker:[^:]*:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1];
  if (!group || process.getuid?.() !== 0) return t.skip('needs root and a docker group to switch to a member of it');
  const home = mkdtempSync(join(tmpdir(), 'pt-nobody-'));
  chmodSync(home, 0o777);
  try {
    const asNobody = (args: string[]) =>
      runProcess('setpriv', ['--reuid', '65534', '--regid', '65534', '--groups', group, 'env', `HOME=${home}`, 'PORTHOLE_TRACE=1', BIN, ...args]);
    for (const [command, args] of [['ls', ['-la', cleanStopped, '/w']], ['diff', ['--json', cleanStopped]], ['du', [cleanStopped]], ['cat', [cleanStopped, '/w/x/y/f']]] as const) {
      const [nobody, root] = await Promise.all([asNobody([command, ...args]), porthole([command, ...args])]);
      assert.equal(nobody.code, 0, nobody.stderr);
      const what = `${command} ${args.join(' ')}`;
      if (command === 'diff') assert.equal(sortedLines(nobody.stdout), sortedLines(root.stdout), what);
      else assert.equal(nobody.stdout, root.stdout, what);
      assert.ok(exportGets(nobody) + archiveGets(nobody) >= 1, `${what} went through the engine`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

