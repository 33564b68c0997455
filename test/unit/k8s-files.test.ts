// The pod listing's records (engine/kubernetes/pod-files.ts): hostile names kept exact, entries named under the
// folder asked (never where the pod says), a cut or malformed record refused rather than guessed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListing } from '../../src/engine/kubernetes/pod-files.js';

const rec = (stat: string, name: string, link = '') => Buffer.concat([Buffer.from(`${stat}\n`), Buffer.from(name, 'latin1'), Buffer.from([0]), Buffer.from(link, 'latin1'), Buffer.from([0])]);

test('a folder: types from the raw mode, names exact, link targets, paths under the folder asked', () => {
  const out = Buffer.concat([
    Buffer.from('D'),
    rec('81a4 0 0 6 1700000000', '/data/new\nline'),
    rec('41ed 1000 1000 4096 1700000001', '/data/sub'),
    rec('a1ff 0 0 4 1700000002', '/data/link', '/etc\nx'),
    rec('81a4 0 0 1 1700000003', '/elsewhere/../../etc/\x1b[31m'),
  ]);
  const { isDir, entries } = parseListing(out, '/data');
  assert.equal(isDir, true);
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.mode, e.size]), [
    ['/data/new\nline', 'file', 0o644, 6],
    ['/data/sub', 'dir', 0o755, 0],
    ['/data/link', 'symlink', 0o777, 0],
    ['/data/\x1b[31m', 'file', 0o644, 1],
  ]);
  assert.equal(entries[2]!.linkName, '/etc\nx');
  assert.equal(entries[1]!.uid, 1000);
  assert.equal(entries[0]!.mtime, 1700000000);
});

test('a single path is named as asked; cut or malformed records are refused', () => {
  const one = parseListing(Buffer.concat([Buffer.from('F'), rec('81ed 0 0 9 1', '/bin/x')]), '/bin/x');
  assert.equal(one.isDir, false);
  assert.equal(one.entries[0]!.path, '/bin/x');
  assert.equal(one.entries[0]!.mode, 0o755);
  assert.throws(() => parseListing(Buffer.from('D81a4 0 0 6 1\n/data/a'), '/data'), /cut short/);
  assert.throws(() => parseListing(Buffer.concat([Buffer.from('D'), rec('81a4 0 0 6', '/data/a')]), '/data'), /bad stat line/);
  assert.throws(() => parseListing(Buffer.from('oops'), '/data'), /cannot read/);
});

test('a walk keeps full paths, and refuses a path outside the one asked', () => {
  const ok = parseListing(Buffer.concat([Buffer.from('W'), rec('41ed 0 0 0 1', '/data'), rec('81a4 0 0 1 1', '/data/a/b\nc')]), '/data');
  assert.deepEqual(ok.entries.map((e) => e.path), ['/data', '/data/a/b\nc']);
  assert.throws(() => parseListing(Buffer.concat([Buffer.from('W'), rec('81a4 0 0 1 1', '/database')]), '/data'), /outside/);
  assert.throws(() => parseListing(Buffer.concat([Buffer.from('W'), rec('81a4 0 0 1 1', '/etc/shadow')]), '/data'), /outside/);
});

test('a folder in batch form: stat lines matched to the known names byte for byte, skipped names left out', () => {
  const hostile = '/data/a\n81a4 0 0 9 9 forged';
  const z = (...parts: string[]) => Buffer.from(parts.map((p) => `${p}\0`).join(''), 'latin1');
  const out = Buffer.concat([
    Buffer.from('B'),
    z(hostile, '/data/gone', '/data/link', '/data/.[!.]*', ''),
    Buffer.from('R'),
    z('/data/link', '../x\ny\n', ''),
    Buffer.from(`81a4 0 0 5 100 ${hostile}\na1ff 1 2 4 200 /data/link\n`, 'latin1'),
  ]);
  const { isDir, entries } = parseListing(out, '/data');
  assert.equal(isDir, true);
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.size, e.linkName]), [
    ['/data/a\n81a4 0 0 9 9 forged', 'file', 5, ''],
    ['/data/link', 'symlink', 0, '../x\ny'],
  ]);
  // a line that matches no expected name is refused, not guessed
  const stray = Buffer.concat([Buffer.from('B'), z('/data/a', ''), Buffer.from('R'), z(''), Buffer.from('81a4 0 0 5 100 /etc/shadow\n')]);
  assert.throws(() => parseListing(stray, '/data'), /match no name/);
});

test("busybox's stat %N lines: link targets taken by their length, quotes and newlines in names and targets exact", () => {
  const z = (...parts: string[]) => Buffer.from(parts.map((p) => `${p}\0`).join(''), 'latin1');
  const weird = "/data/l'q -> 'x";
  const out = Buffer.concat([
    Buffer.from('B'),
    z('/data/f', weird, '/data/gone', '/data/d', ''),
    Buffer.from('N'),
    Buffer.from(`81a4 0 0 3 1 /data/f\na1ff 0 0 6 2 '${weird}' -> 't'a\n"g'\n41ed 0 0 0 3 /data/d\n`, 'latin1'),
  ]);
  const { entries } = parseListing(out, '/data');
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.linkName]), [
    ['/data/f', 'file', ''],
    [weird, 'symlink', 't\'a\n"g'],
    ['/data/d', 'dir', ''],
  ]);
  const cut = Buffer.concat([Buffer.from('B'), z('/data/l', ''), Buffer.from('N'), Buffer.from("a1ff 0 0 9 2 '/data/l' -> 'short'\n")]);
  assert.throws(() => parseListing(cut, '/data'), /match no name/);
});
