import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { DetachWatcher, parseDetachKeys } from '../../src/tty/detach-keys.js';
import { initialResize, watchResize } from '../../src/tty/resize.js';
import { InvalidArgument } from '../../src/errors.js';

test("parseDetachKeys reads docker's format", () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[,ctrl-\\,ctrl-_,ctrl-Z')], [97, 0, 27, 28, 31, 26]);
  for (const bad of ['', 'ctrl-', 'ctrl-1', 'ab', 'ctrl-p,', 'é']) assert.throws(() => parseDetachKeys(bad), InvalidArgument, bad);
});

test('DetachWatcher forwards everything but the sequence, across chunk boundaries', () => {
  const w = new DetachWatcher(Buffer.from([16, 17]));
  assert.deepEqual(w.feed(Buffer.from('ls\r')), { forward: Buffer.from('ls\r'), detach: false });
  // a lone ctrl-p is held until the next byte shows it is not the sequence, then released with it
  assert.deepEqual(w.feed(Buffer.from([16])), { forward: Buffer.alloc(0), detach: false });
  assert.deepEqual(w.feed(Buffer.from('x')), { forward: Buffer.from([16, 120]), detach: false });
  // ctrl-p ctrl-p ctrl-q: the first is released, the last two detach
  assert.deepEqual(w.feed(Buffer.from([97, 16, 16, 17, 98])), { forward: Buffer.from([97, 16]), detach: true });
  // split over two chunks
  const v = new DetachWatcher(Buffer.from([16, 17]));
  assert.equal(v.feed(Buffer.from([65, 16])).detach, false);
  assert.deepEqual(v.feed(Buffer.from([17])), { forward: Buffer.alloc(0), detach: true });
  // a one-key sequence
  assert.deepEqual(new DetachWatcher(Buffer.from([24])).feed(Buffer.from([1, 24, 2])), { forward: Buffer.from([1]), detach: true });
});

test('initialResize retries like docker/cli while the process is not there yet', async () => {
  let calls = 0;
  const ok = await initialResize(24, 80, async () => {
    if (++calls < 3) throw new Error('no such process yet');
  });
  assert.equal(ok, true);
  assert.equal(calls, 3);
  let tries = 0;
  assert.equal(await initialResize(24, 80, async () => void (tries++, (() => { throw new Error('x'); })()), 4), false);
  assert.equal(tries, 4);
});

test('watchResize sends the size at once and on every resize, and stops when told', async () => {
  const out = Object.assign(new EventEmitter(), { rows: 30, columns: 100 });
  const seen: string[] = [];
  const stop = watchResize(out as never, async (r, c) => void seen.push(`${r}x${c}`));
  await new Promise((r) => setTimeout(r, 5));
  out.rows = 40;
  out.columns = 120;
  out.emit('resize');
  await new Promise((r) => setTimeout(r, 5));
  stop();
  out.rows = 50;
  out.emit('resize');
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, ['30x100', '40x120']);
});
