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
import { BUSYBOX_IMAGE, TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, ensureStaticImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { leftoversFor, stableFingerprint } from '../support/fs.js';
import { waitFor } from '../support/shell.js';

const names: string[] = [];
const images: string[] = [];
let running: string;
let stopped: string;
let withVolume: string;
let cleanRunning: string;
let cleanStopped: string;
let unverifiable: string;

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
// differently as paths and as walk order (/w/x/y before /w/x-z), a link, an escape, a replaced folder, a deletion,
// a file with two names, and a second name for a file of the image.
const CLEAN_SCRIPT = [
  'rm -rf /w/keep && mkdir /w/keep && echo z > /w/keep/z',
  'rm /w/b',
  'mkdir -p /w/x/y && printf 12345 > /w/x/y/f && printf 1 > /w/x-z && ln -s x/y /w/xl',
  'ln /w/x/y/f /w/x/f-too && ln /w/c /w/c-too',
  'printf x > "/w/$(printf "esc\\033[2Jname")"',
  'dd if=/dev/zero of=/w/big bs=1048576 count=3 2>/dev/null',
].join(' && ');

before(async () => {
  ensureBusyboxImage();
  const first = commitStep(
    BUSYBOX_IMAGE,
    'mkdir -p /w/keep /w/gone /w/sub /w/deep/in /w/emptied && echo old > /w/emptied/old && echo a > /w/a && ln /w/a /w/sub/a-too && echo x > /w/gone/x && echo k > /w/keep/k && echo b > /w/b && ln -s b /w/rel && echo 1 > /w/deep/in/one',
  );
  // the second layer: a folder replaced (opaque), a file deleted, a file added, and an opaque folder above another
  const second = commitStep(first, 'rm -rf /w/gone && mkdir /w/gone && echo n > /w/gone/new && rm /w/a && echo c > /w/c && rm -rf /w/deep && mkdir -p /w/deep/in && echo 2 > /w/deep/in/two && echo h > /w/h1 && ln /w/h1 /w/h2 && mkdir /w/hd && ln /w/h1 /w/hd/h3');
  running = runContainer(uniqueName('lsl-run'), [], second, ['sh', '-c', `${CONTAINER_SCRIPT} && touch /ready && exec sleep 3600`]);
  stopped = uniqueName('lsl-stopped');
  docker(['run', '--name', stopped, '--label', TEST_LABEL, second, 'sh', '-ec', CONTAINER_SCRIPT]);
  withVolume = runContainer(uniqueName('lsl-vol'), ['-v', '/w/vol'], second, ['sleep', '3600']);
  // a folder of the image whose lower layer adds only a name the API cannot carry, which leaves no way to check it
  const third = commitStep(second, 'mkdir /u && printf q > "/u/$(printf "\\377")"');
  unverifiable = runContainer(uniqueName('lsl-unverifiable'), [], third, ['sh', '-c', 'echo ok > /u/ok && touch /ready && exec sleep 3600']);
  cleanRunning = runContainer(uniqueName('lsl-clean-run'), [], second, ['sh', '-c', `${CLEAN_SCRIPT} && touch /ready && exec sleep 3600`]);
  cleanStopped = uniqueName('lsl-clean-stopped');
  docker(['run', '--name', cleanStopped, '--label', TEST_LABEL, second, 'sh', '-ec', CLEAN_SCRIPT]);
  names.push(running, stopped, withVolume, cleanRunning, cleanStopped, unverifiable);
  for (const c of [running, cleanRunning, unverifiable]) await waitFor(`${c} ready`, () => dockerStatus(['exec', c, 'test', '-e', '/ready']).status === 0);
});

after(() => {
  removeContainers(...names);
  if (images.length) dockerStatus(['rmi', ...images.reverse()]);
});

// archives and exports the engine sent (a 404 for an image without /etc/passwd sends nothing)
const archiveGets = (r: CliResult) => (r.stderr.match(/ GET \S+\/archive\?\S* 200/g) ?? []).length;
const exportGets = (r: CliResult) => (r.stderr.match(/ GET \S+\/export 200/g) ?? []).length;

/**
 * The same command the layer way (traced) and the engine's way, one after the other: while the engine serves an
 * archive request it mounts the container's /etc files into its root, and an export running at that moment shows
 * them instead of the layer's (seen: /etc/hosts 174 bytes in one export, 0 in the other).
 */
async function bothWays(args: string[], command = 'ls'): Promise<{ layers: CliResult; engine: CliResult }> {
  const layers = await porthole([command, ...args], { env: { PORTHOLE_TRACE: '1' } });
  const engine = await porthole([command, ...args], { env: { PORTHOLE_LAYER_READS: '0' } });
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
    assert.equal(w, 'bad\\xff\nbig\nc\nd\ndeep\nemptied\nesc\\e[2Jname\ngone\nh1\nh2\nhd\nkeep\nonlybad\npipe\nrel\nsub\n');
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
  // an image layer adding only a name the API cannot carry (no way to check it), a volume, the engine's /etc files
  for (const [c, dir, flags] of [[unverifiable, '/u', []], [unverifiable, '/', ['-R']], [withVolume, '/w', []], [withVolume, '/w', ['-R']], [running, '/etc', []]] as const) {
    const { layers, engine } = await bothWays([...flags, '-la', '--json', c, dir]);
    assert.equal(layers.stdout, engine.stdout, `${c} ${dir}`);
    assert.ok(archiveGets(layers) + exportGets(layers) >= 1, `${flags.join(' ')} ${dir} went to the engine`);
  }
  // a name only the container's own layer has needs no check: answered from the layers
  const only = await bothWays(['-la', '--json', running, '/w/onlybad']);
  assert.equal(only.layers.stdout, only.engine.stdout);
  assert.equal(archiveGets(only.layers), 0);
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
      ['find', ['--json', c, '/w/x', '--newer-than-image'], false],
    ];
    for (const [command, args, unordered] of runs) {
      const { layers, engine } = await bothWays(args, command);
      const what = `${command} ${args.join(' ')}`;
      if (unordered) assert.equal(sortedLines(layers.stdout), sortedLines(engine.stdout), what);
      else assert.equal(layers.stdout, engine.stdout, what);
      assert.equal(exportGets(layers) + archiveGets(layers), 0, `${what} read the layers:\n${layers.stderr}`);
    }
    const diff = JSON.parse((await porthole(['diff', '--json', c])).stdout) as { path: string; kind: string; type: string | null; size: number | null }[];
    assert.deepEqual(diff.find((d) => d.path === '/w/big'), { path: '/w/big', kind: 'A', type: 'file', size: 3 << 20, mode: '-rw-r--r--' });
    assert.equal(diff.find((d) => d.path === '/w/xl')?.type, 'symlink');
    assert.equal(diff.find((d) => d.path === '/w/b')?.type, null, 'a deletion has no details');
    const find = (await porthole(['find', c, '/w', '--newer-than-image'])).stdout;
    assert.equal(find, '/w\n/w/big\n/w/c-too\n/w/esc\\e[2Jname\n/w/keep\n/w/keep/z\n/w/x\n/w/x/f-too\n/w/x/y\n/w/x/y/f\n/w/x-z\n/w/xl\n');
    // the file with two names counts once, under the name the walk meets first (as du and the engine's tar do)
    assert.match((await porthole(['du', c, '/w/x'])).stdout, /^\s*5B {2}\/w\/x\n\s*0B {2}\/w\/x\/y\n$/);
    assert.deepEqual(stableFingerprint(c), before, 'looking changed nothing');
  }
  assert.deepEqual(leftoversFor(cleanRunning, cleanStopped), []);
});

test('a change the engine\'s list cannot name exactly (bytes that are not UTF-8): diff, du and find walk the whole tree instead', async () => {
  for (const [command, args, unordered] of [['diff', ['-l', stopped], true], ['du', [stopped], false], ['find', [stopped, '/w', '--newer-than-image'], false]] as const) {
    const { layers, engine } = await bothWays([...args], command);
    if (unordered) assert.equal(sortedLines(layers.stdout), sortedLines(engine.stdout));
    else assert.equal(layers.stdout, engine.stdout);
    // the walk of the whole tree comes from the layers too
    assert.equal(exportGets(layers) + archiveGets(layers), 0, `${command}: ${layers.stderr}`);
  }
  const diff = (await porthole(['diff', '-l', stopped])).stdout;
  assert.match(diff, /^A file -rw-r--r-- +1B \/w\/bad\\u\{fffd\}$/m, 'the size of the change with a lost byte is found');
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
      const nobody = await asNobody([command, ...args]);
      const root = await porthole([command, ...args]);
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


test('ls -R, find and du --all walk the layers: the engine\'s own listing byte for byte, hardlinks included', async () => {
  for (const c of [running, stopped, cleanRunning, cleanStopped]) {
    const before = stableFingerprint(c);
    const runs: [string, string[]][] = [
      ['ls', ['-R', '-la', '--json', c, '/']],
      ['ls', ['-R', '-la', c, '/w']],
      ['find', [c, '/']],
      ['find', ['--json', c, '/w', '--type', 'f']],
      ['du', ['--all', c]],
      ['du', ['--all', '--json', c, '/w']],
    ];
    for (const [command, args] of runs) {
      const { layers, engine } = await bothWays(args, command);
      const what = `${command} ${args.join(' ')}`;
      assert.equal(layers.stdout, engine.stdout, what);
      assert.equal(exportGets(layers) + archiveGets(layers), 0, `${what} read the layers:\n${layers.stderr}`);
    }
    const long = (await porthole(['ls', '-R', '-l', c, '/w'])).stdout;
    // the tar's way with a file of several names: the first met is the file, the others link to it
    assert.match(long, /^-rw-r--r-- root root +2 .* h1$/m);
    assert.match(long, /^-rw-r--r-- root root +0 .* h2 link to w\/h1$/m);
    assert.match(long, /^-rw-r--r-- root root +0 .* h3 link to w\/h1$/m);
    assert.deepEqual(stableFingerprint(c), before, 'looking changed nothing');
  }
});

test('a unix socket in the container is left out, as the engine\'s tar leaves it out', async () => {
  const image = ensureStaticImage(
    'porthole-fixture/socket-maker:1',
    [
      '#include <sys/socket.h>',
      '#include <sys/stat.h>',
      '#include <sys/un.h>',
      '#include <string.h>',
      '#include <unistd.h>',
      '#include <fcntl.h>',
      'int main(void) {',
      '  mkdir("/s", 0755);',
      '  close(open("/s/file", O_CREAT | O_WRONLY, 0644));',
      '  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX; strcpy(a.sun_path, "/s/sock");',
      '  int fd = socket(AF_UNIX, SOCK_STREAM, 0);',
      '  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) return 1;',
      '  close(open("/s/ready", O_CREAT | O_WRONLY, 0644));',
      '  pause();',
      '}',
    ].join('\n'),
  );
  const c = runContainer(uniqueName('lsl-socket'), [], image);
  names.push(c);
  await waitFor('the socket bound', async () => /ready/.test((await porthole(['ls', c, '/s'])).stdout));
  for (const [command, args] of [['ls', ['-la', c, '/s']], ['ls', ['-R', '-la', c, '/']], ['find', [c, '/']], ['diff', ['-l', c]]] as const) {
    const { layers, engine } = await bothWays([...args], command);
    const what = `${command} ${args.join(' ')}`;
    if (command === 'diff') assert.equal(sortedLines(layers.stdout), sortedLines(engine.stdout), what);
    else assert.equal(layers.stdout, engine.stdout, what);
    // docker diff names the socket, without details: the engine's export leaves it out
    if (command === 'diff') assert.match(layers.stdout, /^A - +- +- \/s\/sock$/m);
    else assert.doesNotMatch(layers.stdout, /sock$/m, `${what}: no socket`);
    assert.equal(exportGets(layers) + archiveGets(layers), 0, `${what} read the layers`);
  }
});
