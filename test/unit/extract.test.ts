// The extractor against crafted tar streams: every "Copying out" case of BAD-INPUT.md that a stream can express,
// checked on the host filesystem afterwards and in the warnings.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { encodeHeader, endOfArchive } from '../../src/fs/pack.js';
import { BlockAligner, Extraction } from '../../src/fs/extract.js';
import { craftTar, extractBuffer, sha256, snapshotTree } from '../support/cp.js';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A sandbox: `dest` to extract into, `outside` beside it (and `dest-evil`, a string-prefix sibling). */
function sandbox() {
  const root = mkdtempSync(join(tmpdir(), 'pt-extract-'));
  roots.push(root);
  const dest = join(root, 'dest');
  const outside = join(root, 'outside');
  const prefixTwin = join(root, 'dest-evil');
  for (const d of [dest, outside, prefixTwin]) mkdirSync(d);
  writeFileSync(join(outside, 'keep'), 'untouched');
  return { root, dest, outside, prefixTwin, before: () => snapshotTree(root) };
}

function assertOutsideUntouched(box: ReturnType<typeof sandbox>, snapshotBefore: ReturnType<typeof snapshotTree>) {
  const now = snapshotTree(box.root);
  for (const [path, entry] of Object.entries(now)) {
    if (path === 'dest' || path.startsWith('dest/')) continue;
    assert.deepEqual(entry, snapshotBefore[path], `${path} changed outside the destination`);
  }
  for (const path of Object.keys(snapshotBefore)) {
    if (!path.startsWith('dest/') && path !== 'dest') assert.ok(path in now, `${path} disappeared`);
  }
}

function noTempFiles(dir: string) {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return lstatSync(p).isDirectory() ? [p, ...walk(p)] : [p];
  });
  assert.deepEqual(walk(dir).filter((p) => p.includes('.porthole-cp-')), []);
}

test('a normal tree: folders, files byte-exact, modes, a symlink and a hardlink', async () => {
  const box = sandbox();
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  const tar = craftTar([
    { name: 'top/', type: 'dir', mode: 0o750 },
    { name: 'top/a.txt', body: 'hello\n', mode: 0o640 },
    { name: 'top/sub/', type: 'dir', mode: 0o755 },
    { name: 'top/sub/big.bin', body: big, mode: 0o600 },
    { name: 'top/link', type: 'symlink', linkname: 'sub/big.bin' },
    { name: 'top/hard', type: 'hardlink', linkname: 'top/a.txt' },
  ]);
  const run = await extractBuffer(tar, box.dest, { chunk: 4096 });
  assert.equal(run.error, undefined);
  assert.deepEqual(run.warnings, []);
  const tree = snapshotTree(box.dest);
  assert.equal(tree['top']!.mode, 0o750);
  assert.equal(tree['top/a.txt']!.sha256, sha256('hello\n'));
  assert.equal(tree['top/a.txt']!.mode, 0o640);
  assert.equal(tree['top/sub/big.bin']!.sha256, sha256(big));
  assert.equal(tree['top/sub/big.bin']!.mode, 0o600);
  assert.equal(tree['top/link']!.type, 'symlink');
  assert.equal(tree['top/link']!.target, 'sub/big.bin');
  assert.equal(tree['top/hard']!.ino, tree['top/a.txt']!.ino);
  assert.equal(lstatSync(join(box.dest, 'top/a.txt')).mtimeMs, 1_600_000_000_000);
  assert.deepEqual(run.result && { files: run.result.files, links: run.result.links, refused: run.result.refused }, { files: 2, links: 2, refused: 0 });
  noTempFiles(box.dest);
});

test('names with .. or absolute names never land outside; each is named in a warning', async () => {
  const box = sandbox();
  const before = box.before();
  const hostile = ['../x', 'top/../../x', '..', 'top/../../../dest-evil/x', '/etc/x', '////x', '/x', 'top/a/../../../x'];
  const tar = craftTar([{ name: 'top/', type: 'dir' }, ...hostile.map((name) => ({ name, body: 'pwned' })), { name: 'top/ok', body: 'fine' }]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(run.error, undefined);
  assert.equal(run.result!.refused, hostile.length);
  for (const name of hostile) assert.ok(run.warnings.some((w) => w.startsWith(`refused ${name}:`)), `no warning names ${name}: ${run.warnings.join(' | ')}`);
  assert.equal(readFileSync(join(box.dest, 'top/ok'), 'utf8'), 'fine');
  assert.deepEqual(Object.keys(snapshotTree(box.dest)).sort(), ['top', 'top/ok']);
  assertOutsideUntouched(box, before);
});

test('a symlink out of the destination is made as a link, and nothing is written through it (also via a chain)', async () => {
  const box = sandbox();
  const before = box.before();
  const tar = craftTar([
    { name: 'top/', type: 'dir' },
    { name: 'top/evil', type: 'symlink', linkname: box.outside },
    { name: 'top/evil/keep', body: 'pwned' },
    { name: 'top/evil/new', body: 'pwned' },
    { name: 'top/up', type: 'symlink', linkname: '../..' },
    { name: 'top/up/outside/keep', body: 'pwned' },
    { name: 'top/l1', type: 'symlink', linkname: 'l2' },
    { name: 'top/l2', type: 'symlink', linkname: 'l3' },
    { name: 'top/l3', type: 'symlink', linkname: box.outside },
    { name: 'top/l1/chained', body: 'pwned' },
    { name: 'top/evil/', type: 'dir' },
    { name: 'top/twin', type: 'symlink', linkname: '../../dest-evil' },
    { name: 'top/twin/x', body: 'pwned' },
  ]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(run.error, undefined);
  assert.equal(readlinkSync(join(box.dest, 'top/evil')), box.outside);
  assert.equal(readlinkSync(join(box.dest, 'top/up')), '../..');
  assert.equal(readlinkSync(join(box.dest, 'top/l1')), 'l2');
  assert.equal(run.result!.refused, 6);
  for (const name of ['top/evil/keep', 'top/evil/new', 'top/up/outside/keep', 'top/l1/chained', 'top/evil/', 'top/twin/x']) {
    assert.ok(run.warnings.some((w) => w.startsWith(`refused ${name}:`)), `no warning for ${name}`);
  }
  assert.ok(run.warnings.some((w) => /top\/evil is a symbolic link, and porthole never writes through links/.test(w)));
  assertOutsideUntouched(box, before);
});

test('hardlinks outside the destination, to absolute paths, or placed before their target are refused', async () => {
  const box = sandbox();
  writeFileSync(join(box.dest, 'preexisting'), 'the user\'s own file');
  const before = box.before();
  const tar = craftTar([
    { name: 'top/', type: 'dir' },
    { name: 'top/early', type: 'hardlink', linkname: 'top/later' },
    { name: 'top/later', body: 'later' },
    { name: 'top/abs', type: 'hardlink', linkname: join(box.outside, 'keep') },
    { name: 'top/dotdot', type: 'hardlink', linkname: '../outside/keep' },
    { name: 'top/dotdot2', type: 'hardlink', linkname: 'top/../../outside/keep' },
    { name: 'top/user', type: 'hardlink', linkname: 'preexisting' },
    { name: 'top/fine', type: 'hardlink', linkname: 'top/later' },
  ]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(run.error, undefined);
  assert.equal(run.result!.refused, 5);
  for (const name of ['top/early', 'top/abs', 'top/dotdot', 'top/dotdot2', 'top/user']) assert.ok(run.warnings.some((w) => w.startsWith(`refused ${name}:`)), name);
  assert.equal(lstatSync(join(box.dest, 'top/fine')).ino, lstatSync(join(box.dest, 'top/later')).ino);
  assert.equal(existsSync(join(box.dest, 'top/early')), false);
  assert.equal(lstatSync(join(box.dest, 'preexisting')).nlink, 1);
  assertOutsideUntouched(box, before);
});

test('a symlink already standing in the destination is never followed', async () => {
  const box = sandbox();
  mkdirSync(join(box.dest, 'top'));
  symlinkSync(box.outside, join(box.dest, 'top/pre'));
  symlinkSync(join(box.outside, 'keep'), join(box.dest, 'top/prefile'));
  symlinkSync(box.prefixTwin, join(box.dest, 'top/twin'));
  const before = box.before();
  const tar = craftTar([
    { name: 'top/', type: 'dir' },
    { name: 'top/pre/', type: 'dir' },
    { name: 'top/pre/keep', body: 'pwned' },
    { name: 'top/twin/x', body: 'pwned' },
    { name: 'top/prefile', body: 'replaced, not written through' },
  ]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(run.error, undefined);
  assert.equal(run.result!.refused, 3);
  assert.ok(run.warnings.some((w) => w.startsWith('refused top/pre/: a symbolic link already stands at top/pre')));
  // The file entry replaced the link itself (rename over it), the link's target kept its content.
  assert.equal(lstatSync(join(box.dest, 'top/prefile')).isFile(), true);
  assert.equal(readFileSync(join(box.dest, 'top/prefile'), 'utf8'), 'replaced, not written through');
  assert.equal(readFileSync(join(box.outside, 'keep'), 'utf8'), 'untouched');
  assert.deepEqual(readdirSync(box.prefixTwin), []);
  const now = snapshotTree(box.root);
  assert.equal(now['outside/keep']!.sha256, before['outside/keep']!.sha256);
});

test('devices and FIFOs are skipped with a warning; setuid, setgid and sticky bits are dropped', async () => {
  const box = sandbox();
  const tar = craftTar([
    { name: 'top/', type: 'dir', mode: 0o1777 },
    { name: 'top/null', type: 'char', mode: 0o666 },
    { name: 'top/sda', type: 'block', mode: 0o660 },
    { name: 'top/fifo\x1b]0;pwned\x07', type: 'fifo', mode: 0o644 },
    { name: 'top/suid', body: 'x', mode: 0o4755 },
    { name: 'top/sgid', body: 'x', mode: 0o2711 },
    { name: 'top/sgiddir/', type: 'dir', mode: 0o2775 },
  ]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(run.error, undefined);
  assert.equal(run.result!.skipped, 3);
  assert.deepEqual(Object.keys(snapshotTree(box.dest)).sort(), ['top', 'top/sgid', 'top/sgiddir', 'top/suid']);
  assert.ok(run.warnings.includes('skipped top/null: it is a device file.'));
  assert.ok(run.warnings.includes('skipped top/sda: it is a device file.'));
  // The ESC and BEL of the FIFO's name are shown escaped, never raw.
  assert.ok(run.warnings.includes('skipped top/fifo\\e]0;pwned\\x07: it is a FIFO.'), run.warnings.join('|'));
  assert.ok(run.warnings.every((w) => !/[\x00-\x1f]/.test(w)));
  const tree = snapshotTree(box.dest);
  assert.equal(tree['top']!.mode, 0o777);
  assert.equal(tree['top/suid']!.mode, 0o755);
  assert.equal(tree['top/sgid']!.mode, 0o711);
  assert.equal(tree['top/sgiddir']!.mode, 0o775);
});

test('names with ESC and newlines are created exactly, and a name cannot forge a warning line', async () => {
  const box = sandbox();
  const tar = craftTar([
    { name: 'top/', type: 'dir' },
    { name: 'top/esc\x1b[31mred', body: 'esc' },
    { name: 'top/new\nline', body: 'nl' },
    { name: 'top/../\nporthole: all good\x1b[2J', body: 'x' },
  ]);
  const run = await extractBuffer(tar, box.dest);
  assert.equal(readFileSync(join(box.dest, 'top', 'esc\x1b[31mred'), 'utf8'), 'esc');
  assert.equal(readFileSync(join(box.dest, 'top', 'new\nline'), 'utf8'), 'nl');
  assert.deepEqual(run.warnings, ['refused top/../\\nporthole: all good\\e[2J: its name climbs out with ...']);
});

test('files belong to the user running the copy unless ownership is kept', async () => {
  const box = sandbox();
  const tar = craftTar([
    { name: 'top/', type: 'dir', uid: 1234, gid: 4321 },
    { name: 'top/f', body: 'x', uid: 1234, gid: 4321 },
    { name: 'top/l', type: 'symlink', linkname: 'f', uid: 1234, gid: 4321 },
  ]);
  const mine = await extractBuffer(tar, join(box.dest));
  assert.equal(mine.error, undefined);
  const uid = process.getuid!();
  assert.equal(lstatSync(join(box.dest, 'top/f')).uid, uid);
  if (uid !== 0) return; // keeping someone else's ids needs root
  rmSync(join(box.dest, 'top'), { recursive: true });
  const kept = await extractBuffer(tar, box.dest, { keepOwnership: true });
  assert.equal(kept.error, undefined);
  for (const p of ['top', 'top/f', 'top/l']) {
    const st = lstatSync(join(box.dest, p));
    assert.deepEqual([st.uid, st.gid], [1234, 4321], p);
  }
});

test('a truncated stream is a clean error and leaves nothing behind, not even a half-written file', async () => {
  const box = sandbox();
  writeFileSync(join(box.dest, 'mine'), 'the user\'s');
  const full = craftTar([
    { name: 'top/', type: 'dir' },
    { name: 'top/done', body: 'complete' },
    { name: 'top/half', body: Buffer.alloc(200_000, 1) },
  ]);
  const run = await extractBuffer(full.subarray(0, 1536 + 100_000), box.dest);
  assert.ok(run.error, 'expected an error');
  assert.match(run.error!.message, /damaged: it ends in the middle of an entry|ended/);
  assert.deepEqual(readdirSync(box.dest), ['mine']);
  // Cut exactly between entries (no end marker): still an error.
  const cut = await extractBuffer(full.subarray(0, 512 * 3 + 512), box.dest);
  assert.match(cut.error!.message, /end marker|ends in the middle/);
  assert.deepEqual(readdirSync(box.dest), ['mine']);
});

test('a corrupt header (bad checksum) or garbage is a clean error', async () => {
  const box = sandbox();
  const good = craftTar([{ name: 'top/', type: 'dir' }, { name: 'top/a', body: 'a' }, { name: 'top/b', body: 'b' }]);
  const bad = Buffer.from(good);
  bad[1024 + 512 + 10] ^= 0xff; // inside top/b's header
  const run = await extractBuffer(bad, box.dest);
  assert.match(run.error!.message, /checksum|damaged/);
  assert.deepEqual(readdirSync(box.dest), []);
  const garbage = await extractBuffer(Buffer.alloc(4096, 0x41), box.dest);
  assert.ok(garbage.error);
  assert.deepEqual(readdirSync(box.dest), []);
});

test('an absurd size is a clean error with nothing left behind', async () => {
  const box = sandbox();
  // A header that claims 1 TiB, followed by a few bytes and the end of the stream.
  const header = encodeHeader({ name: 'top/huge', type: 'file', size: 2 ** 40 });
  const run = await extractBuffer(Buffer.concat([encodeHeader({ name: 'top/', type: 'dir' }), header, Buffer.alloc(4096, 1)]), box.dest);
  assert.ok(run.error);
  assert.deepEqual(readdirSync(box.dest), []);
  // A PAX size beyond what a number holds exactly.
  const paxSize = Buffer.concat([encodeHeader({ name: 'top/', type: 'dir' }), paxHeader('size', '99999999999999999999'), encodeHeader({ name: 'top/x', type: 'file', size: 1 }), Buffer.alloc(512), endOfArchive()]);
  const run2 = await extractBuffer(paxSize, box.dest);
  assert.ok(run2.error);
  assert.deepEqual(readdirSync(box.dest), []);
});

function paxHeader(key: string, value: string): Buffer {
  let record = ` ${key}=${value}\n`;
  const len = record.length + String(record.length + 2).length;
  record = `${len}${record}`;
  const body = Buffer.from(record);
  const h = encodeHeader({ name: 'PaxHeader', type: 'file', size: body.length });
  h.write('x', 156, 1, 'ascii');
  let sum = 0;
  h.fill(' ', 148, 156);
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

test('too many entries and too-deep paths stop with a clean error and remove what was written', async () => {
  const box = sandbox();
  const many = craftTar([{ name: 'top/', type: 'dir' }, ...Array.from({ length: 50 }, (_, i) => ({ name: `top/f${i}`, body: 'x' }))]);
  const run = await extractBuffer(many, box.dest, { limits: { maxEntries: 20 } });
  assert.match(run.error!.message, /more than 20 entries/);
  assert.deepEqual(readdirSync(box.dest), []);
  const deepName = `top/${Array.from({ length: 600 }, () => 'd').join('/')}/f`;
  const deep = await extractBuffer(craftTar([{ name: 'top/', type: 'dir' }, { name: 'top/ok', body: 'x' }, { name: deepName, body: 'x' }]), box.dest);
  assert.match(deep.error!.message, /nested 602 folders deep, more than the 512/);
  assert.deepEqual(readdirSync(box.dest), []);
  const longName = `top/${'n'.repeat(200)}/${'m'.repeat(200)}/${'o'.repeat(200)}`;
  const long = await extractBuffer(craftTar([{ name: 'top/', type: 'dir' }, { name: longName, body: 'x' }]), box.dest, { limits: { maxPathBytes: 300 } });
  assert.match(long.error!.message, /bytes long, more than the 300/);
  assert.deepEqual(readdirSync(box.dest), []);
});

test('memory stays flat over a 512 MiB stream and over 100,000 entries', async () => {
  const box = sandbox();
  const size = 512 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 3);
  async function* bigStream() {
    yield encodeHeader({ name: 'top/', type: 'dir' });
    yield encodeHeader({ name: 'top/big', type: 'file', size });
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
    yield endOfArchive();
  }
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const run = await extractBuffer(Readable.from(bigStream(), { objectMode: false }), box.dest);
  clearInterval(timer);
  assert.equal(run.error, undefined);
  assert.equal(lstatSync(join(box.dest, 'top/big')).size, size);
  assert.ok(peak - rssBefore < 128 * 1024 * 1024, `RSS grew by ${((peak - rssBefore) / 1048576).toFixed(0)} MiB`);
  rmSync(join(box.dest, 'top'), { recursive: true });

  async function* manyEntries() {
    yield encodeHeader({ name: 'top/', type: 'dir' });
    for (let i = 0; i < 100_000; i++) yield encodeHeader({ name: `top/d${i % 100}/`, type: 'dir' });
    yield endOfArchive();
  }
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const many = await extractBuffer(Readable.from(manyEntries(), { objectMode: false }), box.dest);
  assert.equal(many.error, undefined);
  assert.equal(many.result!.entries, 100_001);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024);
});

test('abort() stops a copy in progress and removes what it wrote; a replaced file keeps its new whole content', async () => {
  const box = sandbox();
  writeFileSync(join(box.dest, 'keep.txt'), 'old');
  const extraction = new Extraction({ parentDir: box.dest, expectTop: '.', renameTop: '.', keepOwnership: false, warn: () => undefined });
  async function* slow() {
    yield encodeHeader({ name: './', type: 'dir' });
    yield encodeHeader({ name: './new/', type: 'dir' });
    yield encodeHeader({ name: './new/f', type: 'file', size: 1024 * 1024 });
    yield Buffer.alloc(512 * 1024);
    await new Promise((r) => setTimeout(r, 5000));
    yield Buffer.alloc(512 * 1024);
    yield endOfArchive();
  }
  const running = extraction.run(Readable.from(slow(), { objectMode: false }));
  await new Promise((r) => setTimeout(r, 300));
  await extraction.abort();
  await assert.rejects(running, /stopped/);
  assert.deepEqual(readdirSync(box.dest), ['keep.txt']);
});

test('the top entry is renamed as docker cp does, and entries outside the copied path are refused', async () => {
  const box = sandbox();
  const tar = craftTar([
    { name: 'src/', type: 'dir' },
    { name: 'src/a', body: 'a' },
    { name: 'srcx/b', body: 'b' },
    { name: 'other', body: 'o' },
  ]);
  const run = await extractBuffer(tar, box.dest, { expectTop: 'src', renameTop: 'renamed' });
  assert.deepEqual(Object.keys(snapshotTree(box.dest)).sort(), ['renamed', 'renamed/a']);
  assert.equal(run.result!.refused, 2);
  const root = await extractBuffer(craftTar([{ name: '/', type: 'dir' }, { name: '/etc/', type: 'dir' }, { name: '/etc/hosts', body: 'h' }]), box.dest, { expectTop: '/', renameTop: 'rootfs' });
  assert.equal(root.error, undefined);
  assert.equal(readFileSync(join(box.dest, 'rootfs/etc/hosts'), 'utf8'), 'h');
});

test('-a without root: one warning, the copy goes on, files belong to the user', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root to switch to an unprivileged user for the check');
  const box = sandbox();
  const { chmodSync, chownSync } = await import('node:fs');
  chmodSync(box.root, 0o755);
  chownSync(box.dest, 65534, 65534);
  const tarPath = join(box.root, 'in.tar');
  writeFileSync(tarPath, craftTar([{ name: 'top/', type: 'dir', uid: 1234, gid: 1234 }, { name: 'top/f', body: 'x', uid: 1234, gid: 1234 }]));
  const script = join(box.root, 'run.mts');
  writeFileSync(script, [
    `import { createReadStream } from 'node:fs';`,
    `import { Extraction } from ${JSON.stringify(new URL('../../src/fs/extract.ts', import.meta.url).pathname)};`,
    `const warnings = [];`,
    `const r = await new Extraction({ parentDir: ${JSON.stringify(box.dest)}, expectTop: 'top', renameTop: 'top', keepOwnership: true, warn: (w) => warnings.push(w) }).run(createReadStream(${JSON.stringify(tarPath)}));`,
    `console.log(JSON.stringify({ files: r.files, warnings }));`,
  ].join('\n'));
  chmodSync(script, 0o644);
  chmodSync(tarPath, 0o644);
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', script], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
  assert.deepEqual(JSON.parse(out), { files: 1, warnings: ["cannot keep the container's owners without root; the files belong to you."] });
  assert.equal(lstatSync(join(box.dest, 'top/f')).uid, 65534);
});

test('BlockAligner hands on whole 512-byte blocks, every byte once and in order, and passes back-pressure on', () => {
  const input = Buffer.from(Array.from({ length: 512 * 37 + 300 }, (_, i) => (i * 7 + (i >> 9)) & 0xff));
  for (const sizes of [[1], [511], [512], [513], [1000, 24, 7], [34_000], [300, 212, 1024, 5]]) {
    const aligner = new BlockAligner();
    const out: Buffer[] = [];
    let pos = 0;
    for (let i = 0; pos < input.length; i++) {
      const size = sizes[i % sizes.length]!;
      aligner.write(input.subarray(pos, pos + size), (b) => {
        assert.equal(b.length % 512, 0, `a piece of ${b.length} bytes with sizes ${sizes}`);
        out.push(Buffer.from(b));
        return true;
      });
      pos += size;
    }
    const rest = aligner.rest();
    assert.equal(rest?.length, 300);
    assert.deepEqual(Buffer.concat([...out, rest!]), input, `sizes ${sizes}`);
    assert.equal(aligner.rest(), undefined);
  }
  // the sink's "wait" comes back, even when a carried block went first
  const a = new BlockAligner();
  a.write(Buffer.alloc(100), () => true);
  // the carried block says wait, the rest does not; then the other way round
  assert.equal(a.write(Buffer.alloc(2000), (b) => b.length !== 512), false);
  assert.equal(a.write(Buffer.alloc(2000), (b) => b.length === 512), false);
  assert.equal(a.write(Buffer.alloc(2000), () => true), true);
});

test('extraction gives the same tree whatever sizes the stream arrives in', async () => {
  const tar = Buffer.concat([
    encodeHeader({ name: 'top/', type: 'dir', mode: 0o755 }),
    encodeHeader({ name: 'top/a', type: 'file', size: 1300, mode: 0o644 }),
    Buffer.alloc(1300, 0x61), Buffer.alloc(236),
    encodeHeader({ name: 'top/b', type: 'file', size: 5, mode: 0o600 }),
    Buffer.from('hello'), Buffer.alloc(507),
    endOfArchive(),
  ]);
  for (const chunk of [1, 300, 511, 512, 513, 4096]) {
    const box = sandbox();
    const r = await extractBuffer(tar, box.dest, { chunk });
    assert.deepEqual(r.warnings, [], `chunk ${chunk}`);
    assert.equal(readFileSync(join(box.dest, 'top/a'), 'utf8'), 'a'.repeat(1300), `chunk ${chunk}`);
    assert.equal(readFileSync(join(box.dest, 'top/b'), 'utf8'), 'hello', `chunk ${chunk}`);
  }
});
