// The rules a tar given on stdin must pass before `cp -` sends it (fs/inbound-tar.ts): names, links made by the
// stream, hardlinks, entry types; and the folders it writes into, which the pod side checks for links.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { InboundRules, inboundSegments, readInboundTar } from '../../src/fs/inbound-tar.js';
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

test('readInboundTar keeps the bytes exactly, pads to a record, and removes its copy', async () => {
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
