// The extractor against crafted streams for the cp-out holes of issue 11: entries made out of order (a hardlink
// made before the symlink that replaced its target) and names that are not valid UTF-8 (merged into one file
// when the stream's PAX records were decoded as text). Each checks what lands on disk and what is said.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { craftTar, extractBuffer } from '../support/cp.js';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'pt-extract-safety-'));
  roots.push(root);
  const dest = join(root, 'dest');
  mkdirSync(dest);
  return dest;
}

test('each entry is made before the next one: a hardlink after a symlink of the same name never reaches the file it replaced', async () => {
  // The whole stream in one chunk: the parser has every header at hand, so resuming the symlink entry used to
  // hand the hardlink over before the symlink was made.
  for (const chunk of [100, 1000, 1 << 20]) {
    const dest = scratch();
    const tar = craftTar([
      { name: 'top/', type: 'dir' },
      { name: 'top/f', body: 'old file' },
      { name: 'top/f', type: 'symlink', linkname: '/etc/hostname' },
      { name: 'top/h2', type: 'hardlink', linkname: 'top/f' },
      { name: 'top/after', body: 'after' },
    ]);
    const run = await extractBuffer(tar, dest, { chunk });
    assert.equal(run.error, undefined, `chunk ${chunk}`);
    assert.equal(readlinkSync(join(dest, 'top/f')), '/etc/hostname');
    assert.deepEqual(readdirSync(join(dest, 'top')).sort(), ['after', 'f'], `chunk ${chunk}: h2 must not exist`);
    assert.deepEqual(run.warnings, ['refused top/h2: it is a hardlink to top/f, which is not a file this copy wrote before it.'], `chunk ${chunk}`);
    assert.equal(run.result?.refused, 1);
    assert.equal(readFileSync(join(dest, 'top/after'), 'utf8'), 'after');
  }
});

test('a symlink entry over a folder made just before is refused; what follows lands in the folder, never through a link', async () => {
  for (const chunk of [100, 1 << 20]) {
    const dest = scratch();
    const outside = join(dest, '..', `outside-${chunk}`);
    mkdirSync(outside);
    const tar = craftTar([
      { name: 'top/', type: 'dir' },
      { name: 'top/d/', type: 'dir' },
      { name: 'top/d', type: 'symlink', linkname: outside },
      { name: 'top/d/x', body: 'pwned' },
    ]);
    const run = await extractBuffer(tar, dest, { chunk });
    assert.equal(run.error, undefined);
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(lstatSync(join(dest, 'top/d')).isDirectory(), true);
    assert.deepEqual(run.warnings, ['refused top/d: a folder already stands at top/d; porthole does not replace a folder with a link.']);
    assert.equal(readFileSync(join(dest, 'top/d/x'), 'utf8'), 'pwned');
  }
});

// ---------------------------------------------------------------- names that are not valid UTF-8

/** One ustar header block with byte-exact fields (the name and link target as bytes, as Go writes them). */
function ustar(f: { name: Buffer | string; type: string; size?: number; linkname?: Buffer | string; mode?: number }): Buffer {
  const block = Buffer.alloc(512);
  Buffer.from(f.name).copy(block, 0, 0, 100);
  block.write(`${(f.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${(f.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write(`${(1_600_000_000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  block.write(f.type, 156, 'latin1');
  if (f.linkname) Buffer.from(f.linkname).copy(block, 157, 0, 100);
  block.write('ustar\x0000', 257, 'latin1');
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function withBody(body: Buffer): Buffer[] {
  return body.length ? [body, Buffer.alloc((512 - (body.length % 512)) % 512)] : [];
}

function paxRecord(key: string, value: Buffer | string): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = rest.length + String(rest.length).length;
  if (String(len).length !== String(rest.length).length) len = rest.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

/** An entry as the engine's Go archive/tar writes a non-ASCII name: a PAX record with the bytes, ustar with the ASCII left. */
function goEntry(name: Buffer, type: string, opts: { body?: Buffer | string; linkname?: Buffer } = {}): Buffer {
  const body = Buffer.from(opts.body ?? '');
  const ascii = (b: Buffer) => Buffer.from(b.filter((c) => c < 0x80));
  const records: Buffer[] = [];
  if (name.some((c) => c >= 0x80)) records.push(paxRecord('path', name));
  if (opts.linkname?.some((c) => c >= 0x80)) records.push(paxRecord('linkpath', opts.linkname));
  const parts: Buffer[] = [];
  if (records.length) {
    const pax = Buffer.concat(records);
    parts.push(ustar({ name: 'PaxHeaders/x', type: 'x', size: pax.length }), ...withBody(pax));
  }
  parts.push(ustar({ name: ascii(name), type, size: body.length, ...(opts.linkname ? { linkname: ascii(opts.linkname) } : {}) }), ...withBody(body));
  return Buffer.concat(parts);
}

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const END = Buffer.alloc(1024);

test('names that are not valid UTF-8 arrive byte for byte: name\\xff, name and na\\xffme stay three files', async () => {
  const tar = Buffer.concat([
    goEntry(bytes('top/'), '5'),
    goEntry(bytes('top/name', [0xff]), '0', { body: 'one' }),
    goEntry(bytes('top/name'), '0', { body: 'two' }),
    goEntry(bytes('top/na', [0xff], 'me'), '0', { body: 'three' }),
    goEntry(bytes('top/d', [0xfe], '/'), '5'),
    goEntry(bytes('top/d', [0xfe], '/in'), '0', { body: 'inside' }),
    goEntry(bytes('top/lnk'), '2', { linkname: bytes('/t', [0xff]) }),
    goEntry(bytes('top/hard', [0xc3]), '1', { linkname: bytes('top/na', [0xff], 'me') }),
    // valid UTF-8 with a character whose UTF-16 low half lies in the escape range (U+1F480)
    goEntry(bytes('top/skull-\u{1f480}'), '0', { body: 'valid' }),
    END,
  ]);
  for (const chunk of [512, 1 << 20]) {
    const dest = scratch();
    const run = await extractBuffer(tar, dest, { chunk });
    assert.equal(run.error, undefined);
    assert.deepEqual(run.warnings, []);
    const top = Buffer.from(join(dest, 'top'));
    const at = (...parts: (string | number[])[]) => Buffer.concat([top, Buffer.from('/'), bytes(...parts)]);
    const names = readdirSync(top, { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
    const expected = [bytes('name', [0xff]), bytes('name'), bytes('na', [0xff], 'me'), bytes('d', [0xfe]), bytes('lnk'), bytes('hard', [0xc3]), bytes('skull-\u{1f480}')];
    assert.deepEqual(names, expected.map((n) => n.toString('hex')).sort());
    assert.equal(readFileSync(at('name', [0xff]), 'utf8'), 'one');
    assert.equal(readFileSync(at('name'), 'utf8'), 'two');
    assert.equal(readFileSync(at('na', [0xff], 'me'), 'utf8'), 'three');
    assert.equal(readFileSync(at('d', [0xfe], '/in'), 'utf8'), 'inside');
    assert.deepEqual(readlinkSync(at('lnk'), { encoding: 'buffer' }), bytes('/t', [0xff]));
    assert.equal(lstatSync(at('hard', [0xc3])).ino, lstatSync(at('na', [0xff], 'me')).ino);
    assert.equal(readFileSync(at('skull-\u{1f480}'), 'utf8'), 'valid');
    assert.equal(run.result?.files, 5);
  }
});

test('a refused or failed name that is not valid UTF-8 is shown with \\xHH, and nothing lands outside', async () => {
  const dest = scratch();
  const tar = Buffer.concat([
    goEntry(bytes('top/'), '5'),
    goEntry(bytes('top/../', [0xff], 'x'), '0', { body: 'pwned' }),
    goEntry(bytes('top/l', [0xfe]), '2', { linkname: bytes('/etc') }),
    goEntry(bytes('top/l', [0xfe], '/passwd'), '0', { body: 'pwned' }),
    END,
  ]);
  const run = await extractBuffer(tar, dest);
  assert.equal(run.error, undefined);
  assert.deepEqual(run.warnings, [
    'refused top/../\\xffx: its name climbs out with ...',
    'refused top/l\\xfe/passwd: its folder top/l\\xfe is a symbolic link, and porthole never writes through links.',
  ]);
  assert.deepEqual(readdirSync(join(dest, '..')).sort(), ['dest']);
});

test('a GNU long name (type L) that is not valid UTF-8 is kept byte for byte too', async () => {
  const dest = scratch();
  const long = bytes('top/', 'x'.repeat(120), [0xff]);
  const tar = Buffer.concat([
    goEntry(bytes('top/'), '5'),
    ustar({ name: '././@LongLink', type: 'L', size: long.length + 1 }),
    ...withBody(Buffer.concat([long, Buffer.from([0])])),
    ustar({ name: long.subarray(0, 99), type: '0', size: 4 }),
    ...withBody(Buffer.from('long')),
    END,
  ]);
  const run = await extractBuffer(tar, dest);
  assert.equal(run.error, undefined, String(run.error));
  assert.equal(readFileSync(Buffer.concat([Buffer.from(`${dest}/`), long]), 'utf8'), 'long');
});

test('a stream whose headers read two ways (a size hidden in a PAX path that node-tar splits on newlines) is refused whole', async () => {
  const dest = scratch();
  // Read by its length, the record is one path holding "\n12 size=0\n"; read line by line, it is a size of 0.
  const hidden = Buffer.concat([paxRecord('path', bytes('top/a\n', paxRecord('size', '0').toString())), paxRecord('mtime', '1')]);
  const body = Buffer.from('smuggled-header-would-be-here');
  const tar = Buffer.concat([
    goEntry(bytes('top/'), '5'),
    ustar({ name: 'PaxHeaders/x', type: 'x', size: hidden.length }),
    ...withBody(hidden),
    ustar({ name: 'top/a', type: '0', size: body.length }),
    ...withBody(body),
    END,
  ]);
  const run = await extractBuffer(tar, dest);
  assert.match(String(run.error?.message), /headers can be read in two ways/);
  assert.deepEqual(readdirSync(dest), []);
});

test('decodeName and fsPath give back the exact bytes, for random bytes and for valid UTF-8 alike', async () => {
  const { decodeName, fsPath, hasRawBytes } = await import('../../src/fs/tar-names.js');
  const samples = [bytes('plain'), bytes('\u{1f480}\u00e9'), bytes([0xff, 0xfe, 0xc3]), bytes([0xed, 0xb2, 0x80]), bytes([0xf0, 0x9f, 0x92])];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    const len = (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 12;
    samples.push(Buffer.from(Array.from({ length: len }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8) & 0xff)));
  }
  for (const sample of samples) {
    const name = decodeName(sample);
    const back = fsPath(name);
    assert.deepEqual(Buffer.from(back), sample, sample.toString('hex'));
    const validUtf8 = Buffer.from(sample.toString('utf8')).equals(sample);
    assert.equal(hasRawBytes(name), !validUtf8, sample.toString('hex'));
  }
});
