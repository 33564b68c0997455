// docker cp's path rules (cp-paths.ts), path containment (safe-path.ts), the tar header encoder (pack.ts) and the
// progress line of `porthole cp`, as plain functions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  assertsDirectory,
  cleanPath,
  CopyRuleError,
  goBase,
  planCopy,
  rebaseAfterLink,
  resolveLinkTarget,
  splitCpArg,
  splitPathDirEntry,
  statIsDir,
  statIsRegular,
  statIsSymlink,
} from '../../src/fs/cp-paths.js';
import { checkLimits, entrySegments, isInside, safeMode } from '../../src/fs/safe-path.js';
import { encodeHeader, packPath } from '../../src/fs/pack.js';
import { formatBytes, Progress, progressLine } from '../../src/commands/cp.js';

test('splitCpArg: CONTAINER:PATH, and local paths that hold a colon', () => {
  assert.deepEqual(splitCpArg('web:/etc/nginx'), { container: 'web', path: '/etc/nginx' });
  assert.deepEqual(splitCpArg('web:'), { container: 'web', path: '' });
  assert.deepEqual(splitCpArg('/abs/a:b'), { path: '/abs/a:b' });
  assert.deepEqual(splitCpArg('./file:name'), { path: './file:name' });
  assert.deepEqual(splitCpArg('plain'), { path: 'plain' });
  assert.deepEqual(splitCpArg('-'), { path: '-' });
});

test('splitPathDirEntry and friends follow Go filepath semantics', () => {
  assert.deepEqual(splitPathDirEntry('/d'), { dir: '/', base: 'd' });
  assert.deepEqual(splitPathDirEntry('/d/'), { dir: '/', base: 'd' });
  assert.deepEqual(splitPathDirEntry('/d/.'), { dir: '/d', base: '.' });
  assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
  assert.deepEqual(splitPathDirEntry('/.'), { dir: '/', base: '.' });
  assert.deepEqual(splitPathDirEntry('a/b/../c'), { dir: 'a', base: 'c' });
  assert.equal(cleanPath('/a//b/./c/'), '/a/b/c');
  assert.equal(cleanPath(''), '.');
  assert.equal(goBase('/a/b/'), 'b');
  assert.equal(goBase('///'), '/');
  assert.equal(assertsDirectory('x/'), true);
  assert.equal(assertsDirectory('x/.'), true);
  assert.equal(assertsDirectory('x'), false);
});

test('rebaseAfterLink keeps a trailing / or /. and the name asked for', () => {
  assert.deepEqual(rebaseAfterLink('/dl', '/d'), { path: '/d', rebaseName: 'dl' });
  assert.deepEqual(rebaseAfterLink('/dl/', '/d'), { path: '/d/', rebaseName: 'dl' });
  assert.deepEqual(rebaseAfterLink('/dl/.', '/d'), { path: '/d/.', rebaseName: undefined });
  assert.deepEqual(rebaseAfterLink('/d', '/d'), { path: '/d', rebaseName: undefined });
  assert.equal(resolveLinkTarget('/a/b/link', '../c'), '/a/c');
  assert.equal(resolveLinkTarget('/a/link', '/abs'), '/abs');
});

test('planCopy: docker cp\'s table of source and destination cases', () => {
  const dir = { path: '/d', isDir: true };
  const file = { path: '/d/a', isDir: false };
  const contents = { path: '/d/.', isDir: true };
  // DEST exists as a folder: the copy goes inside it, under its own name (or its contents with /.).
  assert.deepEqual(planCopy(dir, { path: '/out', exists: true, isDir: true }), { extractDir: '/out', archiveTop: 'd', renameTop: 'd' });
  assert.deepEqual(planCopy(contents, { path: '/out', exists: true, isDir: true }), { extractDir: '/out', archiveTop: '.', renameTop: '.' });
  assert.deepEqual(planCopy(file, { path: '/out/', exists: true, isDir: true }), { extractDir: '/out/', archiveTop: 'a', renameTop: 'a' });
  // DEST is missing: the copy takes DEST's name in DEST's parent.
  assert.deepEqual(planCopy(dir, { path: '/new', exists: false, isDir: false }), { extractDir: '/', archiveTop: 'd', renameTop: 'new' });
  assert.deepEqual(planCopy(contents, { path: '/x/new', exists: false, isDir: false }), { extractDir: '/x', archiveTop: '.', renameTop: 'new' });
  assert.deepEqual(planCopy(file, { path: '/x/new', exists: false, isDir: false }), { extractDir: '/x', archiveTop: 'a', renameTop: 'new' });
  // DEST exists as a file: a file replaces it, a folder cannot.
  assert.deepEqual(planCopy(file, { path: '/x/f', exists: true, isDir: false }), { extractDir: '/x', archiveTop: 'a', renameTop: 'f' });
  assert.throws(() => planCopy(dir, { path: '/x/f', exists: true, isDir: false }), CopyRuleError);
  // DEST ending in / must be a folder that exists, for a file source.
  assert.throws(() => planCopy(file, { path: '/x/new/', exists: false, isDir: false }), /no such directory/);
  assert.deepEqual(planCopy(dir, { path: '/x/new/', exists: false, isDir: false }), { extractDir: '/x', archiveTop: 'd', renameTop: 'new' });
  // -L: the link's own name is kept.
  assert.deepEqual(planCopy({ path: '/d', isDir: true, rebaseName: 'dl' }, { path: '/out', exists: true, isDir: true }), { extractDir: '/out', archiveTop: 'd', renameTop: 'dl' });
  // The root: its entries go straight into an existing folder, or under DEST's name.
  assert.deepEqual(planCopy({ path: '/', isDir: true }, { path: '/out', exists: true, isDir: true }), { extractDir: '/out', archiveTop: '/', renameTop: '.' });
  assert.deepEqual(planCopy({ path: '/', isDir: true }, { path: '/x/rootfs', exists: false, isDir: false }), { extractDir: '/x', archiveTop: '/', renameTop: 'rootfs' });
});

test('Go FileMode bits from the engine\'s path stat', () => {
  assert.equal(statIsDir(2147484141), true);
  assert.equal(statIsSymlink(134218239), true);
  assert.equal(statIsRegular(420), true);
  assert.equal(statIsRegular(2147484141), false);
  assert.equal(statIsRegular(134218239), false);
  assert.equal(statIsRegular(420 + 2 ** 25), false); // a named pipe
});

test('entrySegments refuses .., absolute names, NUL and names outside the copied path', () => {
  assert.deepEqual(entrySegments('d/a/b', 'd', 'd'), { ok: true, segments: ['d', 'a', 'b'] });
  assert.deepEqual(entrySegments('d/', 'd', 'new'), { ok: true, segments: ['new'] });
  assert.deepEqual(entrySegments('./a', '.', '.'), { ok: true, segments: ['a'] });
  assert.deepEqual(entrySegments('./', '.', 'x'), { ok: true, segments: ['x'] });
  assert.deepEqual(entrySegments('d//a/./b', 'd', 'd'), { ok: true, segments: ['d', 'a', 'b'] });
  assert.deepEqual(entrySegments('/bin/sh', '/', 'root'), { ok: true, segments: ['root', 'bin', 'sh'] });
  for (const bad of ['../x', 'd/../../x', '..', 'd/..', '/etc/x', '////x', 'dx/a', 'other', 'd/a\0b']) {
    assert.equal(entrySegments(bad, 'd', 'd').ok, false, bad);
  }
  assert.equal(entrySegments('//bin', '/', 'root').ok, false);
  assert.equal(entrySegments('/../x', '/', 'root').ok, false);
  assert.equal(entrySegments('./../x', '.', '.').ok, false);
});

test('isInside compares whole segments: out does not contain out-evil', () => {
  assert.equal(isInside('/tmp/out', '/tmp/out'), true);
  assert.equal(isInside('/tmp/out', '/tmp/out/a/b'), true);
  assert.equal(isInside('/tmp/out', '/tmp/out-evil'), false);
  assert.equal(isInside('/tmp/out', '/tmp/out-evil/x'), false);
  assert.equal(isInside('/tmp/out', '/tmp'), false);
  assert.equal(isInside('/tmp/out', 'relative'), false);
});

test('checkLimits and safeMode', () => {
  const limits = { maxDepth: 3, maxPathBytes: 40 };
  assert.equal(checkLimits('/d', ['a', 'b'], limits), undefined);
  assert.match(checkLimits('/d', ['a', 'b', 'c', 'd'], limits)!, /nested 4 folders deep/);
  assert.match(checkLimits('/d', ['a'.repeat(50)], limits)!, /bytes long/);
  assert.match(checkLimits('/d', ['a'.repeat(256)], { maxDepth: 3, maxPathBytes: 4000 })!, /longer than 255 bytes/);
  assert.equal(safeMode(0o4755, 0o644), 0o755);
  assert.equal(safeMode(0o3777, 0o644), 0o777);
  assert.equal(safeMode(undefined, 0o644), 0o644);
});

test('encodeHeader writes tar that GNU tar reads: long and non-ASCII names via PAX, links, modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pt-pack-'));
  try {
    const long = `top/${'x'.repeat(150)}/${'é'.repeat(40)}`;
    const tar = Buffer.concat([
      encodeHeader({ name: 'top/', type: 'dir', mode: 0o755 }),
      encodeHeader({ name: long, type: 'file', size: 3, mode: 0o640 }),
      Buffer.from('abc'), Buffer.alloc(509),
      encodeHeader({ name: 'top/l', type: 'symlink', linkname: `../${'y'.repeat(120)}` }),
      Buffer.alloc(1024),
    ]);
    // A UTF-8 locale, or GNU tar prints é as \\303\\251 (CI runs with no LANG at all)
    const listing = execFileSync('tar', ['-tvf', '-'], { input: tar, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    assert.match(listing, /-rw-r----- .* 3 .*top\/x{150}\/(é){40}/);
    assert.match(listing, /lrwxrwxrwx .* top\/l -> \.\.\/y{120}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('packPath: symlinks stay links, hardlinks are sent once, FIFOs are skipped with a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pt-pack-'));
  try {
    mkdirSync(join(dir, 'src/sub'), { recursive: true });
    writeFileSync(join(dir, 'src/a'), 'alpha');
    linkSync(join(dir, 'src/a'), join(dir, 'src/sub/a-hard'));
    symlinkSync('/etc/passwd', join(dir, 'src/link'));
    mkfifoSync(join(dir, 'src/fifo'));
    const warnings: string[] = [];
    const chunks: Buffer[] = [];
    for await (const c of packPath(join(dir, 'src'), 'renamed', { warn: (w) => warnings.push(w) })) chunks.push(c);
    const listing = execFileSync('tar', ['-tvf', '-'], { input: Buffer.concat(chunks), encoding: 'utf8' });
    assert.match(listing, /^d.* renamed\/$/m);
    assert.match(listing, /^l.* renamed\/link -> \/etc\/passwd$/m);
    // Whichever of the two names the walk meets first carries the bytes; the other is a hardlink to it.
    const first = /^-.* 5 .* (renamed\/a|renamed\/sub\/a-hard)$/m.exec(listing)?.[1];
    assert.ok(first, listing);
    const second = first === 'renamed/a' ? 'renamed/sub/a-hard' : 'renamed/a';
    assert.match(listing, new RegExp(`^h.* ${second} link to ${first}$`, 'm'));
    assert.doesNotMatch(listing, /fifo/);
    assert.deepEqual(warnings, [`skipped ${join(dir, 'src/fifo')}: it is a FIFO.`]);
    const contents: Buffer[] = [];
    for await (const c of packPath(join(dir, 'src'), '.', { warn: () => undefined })) contents.push(c);
    assert.match(execFileSync('tar', ['-tf', '-'], { input: Buffer.concat(contents), encoding: 'utf8' }), /^\.\/\n(.*\n)*\.\/a\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** mkfifo without a package: node has no mkfifo, so ask the system's. */
function mkfifoSync(path: string): void {
  execFileSync('mkfifo', [path]);
}

test('progress: bytes and rate, only on a terminal, only after the delay, cleared at the end', async () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(256 * 1024 * 1024), '256.0 MiB');
  assert.equal(progressLine(100 * 1024 * 1024, 2000), 'Copying: 100.0 MiB, 50.0 MiB/s');
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  let shown = '';
  tty.on('data', (d) => (shown += d));
  const progress = new Progress(tty, true, 10);
  progress.add(5 * 1024 * 1024);
  await new Promise((r) => setTimeout(r, 60));
  progress.stop(true, 'out');
  assert.match(shown, /\r\x1b\[KCopying: 5\.0 MiB, [\d.]+ (MiB|GiB)\/s/);
  assert.match(shown, /Copied 5\.0 MiB to out in [\d.]+ s/);
  const pipe = Object.assign(new PassThrough(), { isTTY: false });
  let piped = '';
  pipe.on('data', (d) => (piped += d));
  const silent = new Progress(pipe, true, 0);
  silent.add(1);
  await new Promise((r) => setTimeout(r, 30));
  silent.stop(true, 'out');
  const quiet = new Progress(tty, false, 0);
  await new Promise((r) => setTimeout(r, 30));
  quiet.stop(true, 'out');
  assert.equal(piped, '');
  const fast = new Progress(tty, true, 1000);
  shown = '';
  fast.stop(true, 'out');
  assert.equal(shown, '');
});
