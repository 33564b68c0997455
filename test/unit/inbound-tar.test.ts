// The rules a tar given on stdin must pass before `cp -` sends it (fs/inbound-tar.ts): names, links made by the
// stream, hardlinks, entry types; and the folders it writes into, which the pod side checks for links.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { InboundRules, inboundSegments, readInboundTar } from '../../src/fs/inbound-tar.js';
import { readTar } from '../../src/fs/tar-reader.js';
import { craftTar } from '../support/cp.js';

test('names: absolute, .. anywhere and NUL refused; ./ and doubled slashes folded', () => {
  assert.deepEqual(inboundSegments('./a//b/'), { ok: true, segments: ['a', 'b'] });
  assert.deepEqual(inboundSegments('/etc/x'), { ok: false, reason: 'its name is absolute' });
  assert.deepEqual(inboundSegments('a/../../x'), { ok: false, reason: 'its name climbs out with ..' });
  assert.deepEqual(inboundSegments('..'), { ok: false, reason: 'its name climbs out with ..' });
  assert.equal(inboundSegments('a\0b').ok, false);
});

test('the folders written into, parents first, once each; nothing through a link of the stream', () => {
  const rules = new InboundRules();
  rules.entry('pkg/', 'dir', '');
  rules.entry('pkg/sub/a', 'file', '');
  rules.entry('pkg/b', 'file', '');
  rules.entry('pkg/l', 'symlink', '/etc');
  rules.entry('pkg/l/x', 'file', '');
  rules.entry('pkg/l/deeper/y', 'file', '');
  assert.deepEqual(rules.folders, ['pkg', 'pkg/sub']);
  assert.deepEqual(rules.problems.map((p) => p.name), ['pkg/l/x', 'pkg/l/deeper/y']);
});

test('hardlinks only to files made earlier; devices, FIFOs and unknown types refused; "." only as a folder', () => {
  const rules = new InboundRules();
  rules.entry('f', 'file', '');
  rules.entry('ok', 'hardlink', 'f');
  rules.entry('ahead', 'hardlink', 'later');
  rules.entry('out', 'hardlink', '../x');
  rules.entry('dev', 'block', '');
  rules.entry('pipe', 'fifo', '');
  rules.entry('odd', 'other', '');
  rules.entry('./', 'dir', '');
  rules.entry('.', 'symlink', '/');
  assert.deepEqual(rules.problems.map((p) => p.name), ['ahead', 'out', 'dev', 'pipe', 'odd', '.']);
});

test('readInboundTar sends a plain tar as it came (written anew, same bytes), padded to a record, and removes its copy', async () => {
  const tar = craftTar([{ name: 'a', body: 'x'.repeat(1000) }]);
  const removed: (() => Promise<void>)[] = [];
  const got = await readInboundTar(Readable.from([tar.subarray(0, 700), tar.subarray(700)]), (remove) => {
    removed.push(remove);
    return () => undefined;
  });
  assert.equal(got.bytes, tar.length);
  assert.equal(got.entries, 1);
  assert.equal(got.problem, undefined);
  const parts: Buffer[] = [];
  for await (const c of got.open()) parts.push(c as Buffer);
  const sent = Buffer.concat(parts);
  assert.equal(sent.length % 10240, 0);
  assert.ok(sent.subarray(0, tar.length).equals(tar));
  assert.ok(sent.subarray(tar.length).every((b) => b === 0));
  await got.remove();
  await assert.rejects(readInboundTar(Readable.from([Buffer.alloc(1024, 0x41)]), () => () => undefined), /The tar on stdin cannot be read/);
});

test('what is sent is written anew from the entries checked: nothing hidden after the end blocks, names byte for byte', async () => {
  const checked = craftTar([{ name: 'a', body: 'one' }, { name: 'd/', type: 'dir' }, { name: 'long/'.repeat(30) + 'f', body: 'two' }]);
  // a second archive after the end-of-archive blocks: a reader that skips zero blocks (tar -i) would extract it
  const hidden = craftTar([{ name: '../../etc/cron.d/x', body: 'evil' }]);
  const given = Buffer.concat([checked, hidden]);
  const got = await readInboundTar(Readable.from([given]), () => () => undefined);
  assert.equal(got.entries, 3, 'the reader stops at the end of the first archive');
  assert.equal(got.problem, undefined);
  const parts: Buffer[] = [];
  for await (const c of got.open()) parts.push(c as Buffer);
  const sent = Buffer.concat(parts);
  assert.equal(sent.length % 10240, 0);
  assert.equal(sent.indexOf('cron.d'), -1, 'the hidden entry is not sent');
  assert.equal(sent.indexOf('evil'), -1);
  const names: string[] = [];
  for await (const e of readTar(Readable.from([sent]))) {
    names.push(e.name);
    if (e.type === 'file') for await (const c of e.body()) names.push(`=${c.toString()}`);
  }
  assert.deepEqual(names, ['a', '=one', 'd/', 'long/'.repeat(30) + 'f', '=two']);
  await got.remove();
});

test('a name with bytes that are not UTF-8 reaches the receiver with the same bytes', async () => {
  const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x1b, 0x5b, 0x32, 0x4a]).toString('latin1'); // "caf\xe9" + ESC[2J
  const header = craftTar([{ name: 'x', body: 'z' }], { end: false });
  header.write(name, 0, 'latin1'); // the raw bytes in the ustar name field
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header.subarray(0, 512)) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  const got = await readInboundTar(Readable.from([Buffer.concat([header, Buffer.alloc(1024)])]), () => () => undefined);
  const parts: Buffer[] = [];
  for await (const c of got.open()) parts.push(c as Buffer);
  const seen: string[] = [];
  for await (const e of readTar(Readable.from([Buffer.concat(parts)]))) seen.push(e.name);
  assert.deepEqual(seen, [name]);
  await got.remove();
});
