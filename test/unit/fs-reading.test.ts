import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { buildTree, renderTree } from '../../src/fs/changes.js';
import { modeString, parseIdFile } from '../../src/fs/entry.js';
import { LineMatcher } from '../../src/fs/grep.js';
import { BlockGrouper, longLines } from '../../src/fs/listing.js';
import { largest, widest } from '../../src/render/table.js';
import { globToRegExp, parseSize, sizeMatches } from '../../src/fs/match.js';
import { archiveEntryPath, isWithin, jsonBytes, normalize, resolveLink, show } from '../../src/fs/paths.js';
import { readTar, type TarEntry } from '../../src/fs/tar-reader.js';
import type { FsEntry } from '../../src/fs/entry.js';

/** One 512-byte ustar header (name as raw bytes) with a valid checksum. */
function header(name: Buffer, opts: { type?: string; size?: number; link?: string; mode?: number } = {}): Buffer {
  const block = Buffer.alloc(512);
  name.copy(block, 0, 0, Math.min(100, name.length));
  block.write(`${(opts.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${(opts.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write(`${(1700000000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  block.write(opts.type ?? '0', 156, 'latin1');
  if (opts.link) block.write(opts.link, 157, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  block.write('root', 265, 'latin1');
  block.write('root', 297, 'latin1');
  fixChecksum(block);
  return block;
}

/** Recomputes a header's checksum after a test changed a field. */
function fixChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

async function list(tar: Buffer, chunk = 100): Promise<(TarEntry & { data: Buffer })[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) chunks.push(tar.subarray(i, i + chunk));
  const out = [];
  for await (const e of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    if (e.name.includes('read-me')) for await (const c of e.body()) parts.push(c);
    const { body: _b, ...rest } = e;
    out.push({ ...rest, data: Buffer.concat(parts) });
  }
  return out;
}

test('tar reader keeps exact name bytes from PAX headers, reads bodies, skips unread ones', async () => {
  const raw = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]); // "bad" + invalid UTF-8
  const pax = paxRecord('path', Buffer.concat([Buffer.from('dir/'), raw]));
  const content = Buffer.from(Array.from({ length: 700 }, (_, i) => i % 256));
  const tar = Buffer.concat([
    header(Buffer.from('dir/'), { type: '5', mode: 0o755 }),
    header(Buffer.from('PaxHeaders/x'), { type: 'x', size: pax.length }),
    pad(pax),
    header(Buffer.from('placeholder'), { size: 3 }),
    pad(Buffer.from('abc')),
    header(Buffer.from('dir/read-me'), { size: content.length }),
    pad(content),
    header(Buffer.from('dir/link'), { type: '2', link: '../../etc' }),
    Buffer.alloc(1024),
  ]);
  const entries = await list(tar, 97);
  assert.deepEqual(entries.map((e) => e.name), ['dir/', `dir/${raw.toString('latin1')}`, 'dir/read-me', 'dir/link']);
  assert.equal(Buffer.from(entries[1]!.name, 'latin1').subarray(4).equals(raw), true);
  assert.deepEqual(entries.map((e) => e.type), ['dir', 'file', 'file', 'symlink']);
  assert.ok(entries[2]!.data.equals(content));
  assert.equal(entries[3]!.linkName, '../../etc');
  assert.equal(entries[0]!.mode, 0o755);
});

test('tar reader: GNU long names, and a clean error on truncated or corrupt streams', async () => {
  const long = Buffer.from(`${'d/'.repeat(300)}file`);
  const tar = Buffer.concat([header(Buffer.from('././@LongLink'), { type: 'L', size: long.length + 1 }), pad(Buffer.concat([long, Buffer.from([0])])), header(Buffer.from('short'), { size: 0 }), Buffer.alloc(1024)]);
  assert.equal((await list(tar))[0]!.name, long.toString('latin1'));
  const truncated = Buffer.concat([header(Buffer.from('dir/read-me'), { size: 5000 }), Buffer.alloc(1000)]);
  await assert.rejects(list(truncated), /ended in the middle of an entry/);
  const bad = header(Buffer.from('x'));
  bad[0] = 0x79; // checksum no longer matches
  await assert.rejects(list(Buffer.concat([bad, Buffer.alloc(1024)])), /checksum/);
  const hugePax = header(Buffer.from('p'), { type: 'x', size: 64 * 1024 * 1024 });
  await assert.rejects(list(Buffer.concat([hugePax, Buffer.alloc(1024)])), /extended header of/);
});

test('tar reader reads every header field as GNU tar does, in the gnu, ustar, posix and v7 formats', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pt-tar-fields-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, `${'long-folder-name/'.repeat(5)}end`), { recursive: true });
  writeFileSync(join(dir, `${'long-folder-name/'.repeat(5)}end/file-past-a-hundred-bytes`), 'twelve bytes');
  writeFileSync(join(dir, 'setuid'), Buffer.alloc(1500, 1));
  chmodSync(join(dir, 'setuid'), 0o4751);
  symlinkSync('../somewhere', join(dir, 'link'));
  utimesSync(join(dir, 'setuid'), 1234567890, 1234567890);
  // An owner too big for the eight octal digits of a ustar field: GNU tar writes it in base-256.
  const cases: [string, string[]][] = [
    ['gnu', ['--owner=:3000000', '--group=:12']],
    ['ustar', ['--owner=:1000', '--group=:1000']],
    ['posix', ['--owner=:3000000', '--group=:4000000']],
    ['v7', ['--owner=:7', '--group=:8']],
  ];
  for (const [format, owner] of cases) {
    const members = format === 'v7' ? ['setuid', 'link'] : ['.'];
    const tar = execFileSync('tar', ['-C', dir, `--format=${format}`, ...owner, '--sort=name', '-cf', '-', ...members]);
    const expected = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', '-'], { input: tar, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
      .trim()
      .split('\n');
    const entries = await list(tar, 333);
    const lines = entries.map((e) => {
      // PAX times have fractions; the comparison is to the second.
      const time = new Date(Math.floor(e.mtime) * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
      return `${modeString(e.type, e.mode)} ${e.uid}/${e.gid} ${e.size} ${time} ${e.name}${e.type === 'symlink' ? ` -> ${e.linkName}` : ''}`;
    });
    assert.deepEqual(lines, expected.map((l) => l.replace(/ +/g, ' ').replace(/(:\d\d)\.\d+ /, '$1 ')), format);
  }
});

test('tar reader: number fields with leading spaces or trailing junk read like parseInt; one without digits is corrupt', async () => {
  const spaced = header(Buffer.from('spaced'), { size: 3 });
  spaced.write('     17\0', 100, 'latin1'); // mode, right-aligned with spaces as some old writers do
  const junk = header(Buffer.from('junk'));
  junk.write('0644x\0\0\0', 100, 'latin1');
  for (const block of [spaced, junk]) fixChecksum(block);
  const entries = await list(Buffer.concat([spaced, pad(Buffer.from('abc')), junk, Buffer.alloc(1024)]));
  assert.deepEqual(entries.map((e) => [e.name, e.mode, e.size]), [['spaced', 0o17, 3], ['junk', 0o644, 0]]);
  const bad = header(Buffer.from('bad'));
  bad.write('x12\0', 108, 'latin1');
  fixChecksum(bad);
  await assert.rejects(list(Buffer.concat([bad, Buffer.alloc(1024)])), /a number field holds "x12"/);
});

test('container paths: normalized, .. clamped at the root, symlinks resolved inside the root', () => {
  assert.equal(normalize('/a/../../..//b/./c/'), '/b/c');
  assert.equal(resolveLink('/app/sub/up', '../../../../etc/passwd'), '/etc/passwd');
  assert.equal(resolveLink('/app/link', 'config.txt'), '/app/config.txt');
  assert.equal(resolveLink('/app/link', '/etc/x'), '/etc/x');
  assert.equal(archiveEntryPath('/', 'data/x'), '/data/x');
  assert.equal(archiveEntryPath('/', '/bin/'), '/bin');
  assert.equal(archiveEntryPath('/srv', 'data/'), '/srv/data');
  assert.equal(archiveEntryPath('/srv', './data/../../x'), '/x');
  assert.equal(isWithin('/data-x', '/data'), false);
  assert.equal(isWithin('/data/x', '/data'), true);
  assert.equal(show('a\x1b[2Jb\nc'), 'a\\e[2Jb\\nc');
  assert.equal(show(Buffer.from([0x61, 0xff]).toString('latin1')), 'a\\xff');
  assert.deepEqual(jsonBytes('name', 'plain'), { name: 'plain' });
  assert.deepEqual(jsonBytes('name', Buffer.from('ü').toString('latin1')), { name: 'ü' });
  assert.deepEqual(jsonBytes('name', Buffer.from([0x61, 0xff]).toString('latin1')), { name: 'a\ufffd', nameBytes: Buffer.from([0x61, 0xff]).toString('base64') });
});

test('mode strings, owner files, globs and size tests', () => {
  assert.equal(modeString('dir', 0o755), 'drwxr-xr-x');
  assert.equal(modeString('file', 0o4755), '-rwsr-xr-x');
  assert.equal(modeString('dir', 0o1777), 'drwxrwxrwt');
  assert.equal(modeString('file', 0o2644), '-rw-r-Sr--');
  assert.deepEqual([...parseIdFile('root:x:0:0::/:/bin/sh\n#c\nbad\napp:x:1000:1000::/:/bin/sh\n')], [[0, 'root'], [1000, 'app']]);
  assert.ok(globToRegExp('*.log').test('app.log'));
  assert.ok(!globToRegExp('*.log').test('app.log.1'));
  assert.ok(globToRegExp('[!a]?.t*').test('bc.txt'));
  assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'));
  assert.deepEqual(parseSize('+10k'), { op: '>', bytes: 10240 });
  assert.deepEqual(parseSize('-1M'), { op: '<', bytes: 1048576 });
  assert.ok(sizeMatches(parseSize('512'), 512));
  assert.throws(() => parseSize('10x'), /--size takes/);
});

test('ls -R grouping emits a folder when the walk leaves it, skipping hidden folders, without recursion', async () => {
  const e = (path: string, type: 'dir' | 'file' = 'file'): FsEntry => ({ path, name: path, linkName: '', type, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, uname: '', gname: '' });
  const blocks: string[] = [];
  const g = new BlockGrouper('/r', async (b) => void blocks.push(`${b.dir}:${b.entries.map((x) => x.path.split('/').pop()).join(',')}`), (x) => !x.path.split('/').pop()!.startsWith('.'));
  for (const x of [e('/r', 'dir'), e('/r/a', 'dir'), e('/r/a/1'), e('/r/.h', 'dir'), e('/r/.h/secret'), e('/r/b')]) await g.add(x);
  await g.end();
  assert.deepEqual(blocks, ['/r/a:1', '/r:a,b']);
  // 20,000 levels: a recursive walk would overflow the stack.
  const deep = new BlockGrouper('/', async () => undefined, () => true);
  let p = '';
  for (let i = 0; i < 20_000; i++) {
    p += '/d';
    await deep.add(e(p, 'dir'));
  }
  await deep.end();
});

test('diff tree: folder totals, deep trees without recursion, escaped names', () => {
  const tree = buildTree([
    { path: '/app', kind: 'A', info: { type: 'dir', size: 0, mode: 'drwxr-xr-x' } },
    { path: '/app/a', kind: 'A', info: { type: 'file', size: 1000, mode: '-rw-r--r--' } },
    { path: '/app/n\nD forged', kind: 'A', info: { type: 'file', size: 24, mode: '-rw-r--r--' } },
    { path: '/gone', kind: 'D' },
  ]);
  const lines = renderTree(tree);
  assert.deepEqual(lines, ['/ (1.0KiB)', '├── A app/ (1.0KiB)', '│   ├── A a (1000B)', '│   └── A n\\nD forged (24B)', '└── D gone (deleted)']);
  const deep = Array.from({ length: 12_000 }, (_, i) => ({ path: '/d'.repeat(i + 1), kind: 'A' as const }));
  const drawn = renderTree(buildTree(deep));
  assert.equal(drawn.length, 12_001);
  assert.match(drawn[12_000]!, /\[depth 12000\] └── A d\/? \(0B\)$/);
});

test('grep line matcher: lines across chunks, numbers, binary files, -l stops early', async () => {
  const run = async (chunks: Buffer[], opts: { namesOnly?: boolean } = {}) => {
    const out: string[] = [];
    const m = new LineMatcher({ regex: /err/i, lineNumbers: true, namesOnly: !!opts.namesOnly, prefix: 'f:', display: 'f' }, async (t) => void out.push(t));
    for (const c of chunks) {
      await m.push(c);
      if (m.done) break;
    }
    await m.end();
    return { out, matched: m.matched };
  };
  assert.deepEqual((await run([Buffer.from('ok\nan E'), Buffer.from('RR\x1b[2J\nlast err')])).out, ['f:2:an ERR\\e[2J\n', 'f:3:last err\n']);
  assert.deepEqual((await run([Buffer.from('x\0yerr\n')])).out, ['Binary file f matches\n']);
  assert.deepEqual((await run([Buffer.from('err\nerr\n')], { namesOnly: true })).out, ['f\n']);
  assert.equal((await run([Buffer.from('nothing\n')])).matched, false);
});

test('grep: a line longer than a window is searched window by window, in linear time, each match shown with its byte offset', async () => {
  const run = async (data: Buffer, chunkSize: number, regex = /NEEDLE-\d/u) => {
    const out: string[] = [];
    const m = new LineMatcher({ regex, lineNumbers: true, namesOnly: false, prefix: '', display: 'f', window: 64, overlap: 8 }, async (t) => void out.push(t));
    for (let i = 0; i < data.length; i += chunkSize) await m.push(data.subarray(i, i + chunkSize));
    await m.end();
    return out;
  };
  const data = Buffer.from(`${'a'.repeat(100)}NEEDLE-1${'é'.repeat(150)}NEEDLE-2${'c'.repeat(50)}\nshort NEEDLE-3\n${'x'.repeat(60)}NEEDLE-4`);
  for (const size of [1, 5, 64, 4096]) {
    const out = await run(data, size);
    assert.equal(out.length, 4, `${size}: ${out.join('')}`);
    assert.match(out[0]!, /^1:\[byte 100\] \.\.\.a+NEEDLE-1é+\.\.\.\n$/);
    assert.match(out[1]!, /^1:\[byte 408\] \.\.\.é+NEEDLE-2c+(\.\.\.)?\n$/); // 100 + 8 + 150 two-byte characters
    assert.equal(out[2], '2:short NEEDLE-3\n');
    assert.match(out[3]!, /^3:\[byte 542\] \.\.\.x+NEEDLE-4\n$/);
  }
  // a match across a window's cut is found once
  const cut = await run(Buffer.from(`${'z'.repeat(60)}NEEDLE-5${'z'.repeat(100)}`), 7);
  assert.equal(cut.length, 1);
  assert.match(cut[0]!, /^1:\[byte 60\] /);
});

test('ls -l columns: widths from a loop (no call stack limit), owner and group names from the container escaped', () => {
  assert.equal(widest(Array.from({ length: 300_000 }, (_, i) => String(i))), 6);
  assert.equal(largest(Array.from({ length: 300_000 }, (_, i) => i), 0), 299_999);
  const entry = (path: string, uid: number): FsEntry => ({ path, name: path, linkName: '', type: 'file', mode: 0o644, uid, gid: uid, size: 1, mtime: 0, uname: '', gname: '' });
  const many = Array.from({ length: 200_000 }, (_, i) => entry(`/d/f${i}`, 0));
  assert.equal(longLines(many, { users: new Map(), groups: new Map() }).length, 200_000);
  const owners = { users: new Map([[7, 'ev\x1b[2Jil\nroot']]), groups: new Map([[7, 'g\x07']]) };
  const [line] = longLines([entry('/x', 7)], owners);
  assert.match(line!, /^-rw-r--r-- ev\\e\[2Jil\\nroot g\\x07 1 /);
  assert.doesNotMatch(line!, /[\x00-\x1f]/);
});

test('basename and dirname agree with normalize on clean and unusual paths', async () => {
  const { basename, dirname } = await import('../../src/fs/paths.js');
  for (const [path, dir, base] of [
    ['/a/b', '/a', 'b'],
    ['/a', '/', 'a'],
    ['/', '/', '/'],
    ['/a/b/', '/a', 'b'],
    ['/a//b', '/a', 'b'],
    ['/a/./b/..', '/', 'a'],
    ['a/b', '/a', 'b'],
    ['/a/.hidden', '/a', '.hidden'],
    ['/a/..b', '/a', '..b'],
  ]) {
    assert.equal(dirname(path!), dir, `dirname ${path}`);
    assert.equal(basename(path!), base, `basename ${path}`);
  }
});
