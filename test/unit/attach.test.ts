// runAttached against a fake hijacked socket: what reaches the user, what reaches the engine, and how the
// session ends (stream end, detach, process gone with the stream held open, reset, a signal's cleanup).
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Cleanup } from '../../src/cleanup.js';
import type { Context } from '../../src/context.js';
import { frame } from '../../src/engine/stdio.js';
import { runAttached } from '../../src/enter/attach.js';

class FakeSocket extends Duplex {
  written: Buffer[] = [];
  halfClosed = false;
  constructor() {
    super({ allowHalfOpen: true });
  }
  _read() {}
  _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.written.push(chunk);
    cb();
  }
  _final(cb: () => void) {
    this.halfClosed = true;
    cb();
  }
  get sent(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

function collector() {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; rows?: number; columns?: number };
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

function fakeContext(tty: boolean) {
  const stdout = collector();
  const stderr = collector();
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (m: boolean) => void };
  const rawModes: boolean[] = [];
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (m: boolean) => void rawModes.push(m);
    stdout.stream.isTTY = true;
    stdout.stream.rows = 24;
    stdout.stream.columns = 80;
  }
  const cleanup = new Cleanup();
  const ctx = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    env: {},
    cleanup,
    signal: new AbortController().signal,
    notice: () => undefined,
    engine: async () => {
      throw new Error('no engine in unit tests');
    },
  } as unknown as Context;
  return { ctx, stdout, stderr, stdin, rawModes, cleanup };
}

const tick = () => new Promise((r) => setImmediate(r));

test('without a TTY: frames split to stdout and stderr byte-exact, stdin ends with a half-close, output after it still arrives', async () => {
  const { ctx, stdout, stderr, stdin, rawModes } = fakeContext(false);
  const socket = new FakeSocket();
  const binary = Buffer.from([0, 1, 2, 255, 254, 10]);
  const head = frame(1, 'from-head\n');
  const session = runAttached(ctx, { socket, head }, { tty: false });
  stdin.write('abc');
  stdin.end();
  await tick();
  assert.equal(socket.sent, 'abc');
  assert.equal(socket.halfClosed, true, 'stdin EOF must end() the socket');
  assert.equal(socket.destroyed, false, 'stdin EOF must not destroy the socket');
  // split frames across pushes to exercise the demuxer
  const frames = Buffer.concat([frame(2, 'err1\n'), frame(1, binary), frame(2, Buffer.from([0xff, 0]))]);
  socket.push(frames.subarray(0, 5));
  socket.push(frames.subarray(5));
  socket.push(null);
  const outcome = await session;
  assert.deepEqual(outcome, { detached: false, cut: false });
  assert.ok(stdout.bytes().equals(Buffer.concat([Buffer.from('from-head\n'), binary])));
  assert.ok(stderr.bytes().equals(Buffer.from([...Buffer.from('err1\n'), 0xff, 0])));
  assert.deepEqual(rawModes, []);
});

test('with a TTY: raw mode on and back off, the size sent, bytes both ways raw', async () => {
  const { ctx, stdout, stdin, rawModes, cleanup } = fakeContext(true);
  const socket = new FakeSocket();
  const sizes: string[] = [];
  const session = runAttached(ctx, { socket, head: Buffer.from('$ ') }, { tty: true, resize: async (r, c) => void sizes.push(`${r}x${c}`) });
  assert.deepEqual(rawModes, [true]);
  assert.equal(cleanup.size, 2, 'terminal restore and stream close registered for signals');
  stdin.write('echo hi\r');
  await tick();
  socket.push('echo hi\r\nhi\r\n');
  socket.push(null);
  const outcome = await session;
  assert.equal(outcome.detached, false);
  assert.equal(socket.sent, 'echo hi\r');
  assert.equal(stdout.bytes().toString(), '$ echo hi\r\nhi\r\n');
  assert.deepEqual(rawModes, [true, false]);
  assert.deepEqual(sizes, ['24x80']);
  assert.equal(cleanup.size, 0, 'cleanup entries dropped after a normal end');
});

test('with a TTY, what is typed before the window size is set waits for it (the engine starts the TTY at 0x0)', async () => {
  const { ctx, stdin } = fakeContext(true);
  const socket = new FakeSocket();
  let release!: () => void;
  const resized = new Promise<void>((r) => (release = r));
  const order: string[] = [];
  const resize = async () => {
    await resized;
    order.push('size');
  };
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: true, resize });
  stdin.write('stty size\r');
  await tick();
  await tick();
  assert.equal(socket.sent, '', 'nothing reaches the session before its size');
  release();
  await tick();
  await tick();
  order.push(`sent ${socket.sent}`);
  assert.deepEqual(order, ['size', 'sent stty size\r']);
  socket.push(null);
  await session;
});

test('detach keys end the session without sending them; what came before them is sent', async () => {
  const { ctx, stdin, rawModes } = fakeContext(true);
  const socket = new FakeSocket();
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: true });
  stdin.write(Buffer.from([0x6c, 0x73, 16, 17, 0x78]));
  const outcome = await session;
  assert.equal(outcome.detached, true);
  assert.equal(socket.sent, 'ls');
  assert.equal(socket.destroyed, true);
  assert.deepEqual(rawModes, [true, false]);
});

test('the process ended but something holds the stream open: the session ends after the drain time', async () => {
  const { ctx, stdout } = fakeContext(false);
  const socket = new FakeSocket();
  const started = Date.now();
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: false, exited: async () => undefined, drainMs: 50 });
  socket.push(frame(1, 'started\n'));
  const outcome = await session;
  assert.equal(outcome.cut, true);
  assert.ok(Date.now() - started < 2000);
  assert.equal(stdout.bytes().toString(), 'started\n');
  assert.equal(socket.destroyed, true);
});

test('a reset connection ends the session with an error, and the terminal is restored', async () => {
  const { ctx, rawModes } = fakeContext(true);
  const socket = new FakeSocket();
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: true });
  socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  const outcome = await session;
  assert.match(String(outcome.error?.message), /ECONNRESET/);
  assert.deepEqual(rawModes, [true, false]);
});

test('a signal (cleanup.runAll) mid-session restores the terminal and closes the stream', async () => {
  const { ctx, rawModes, cleanup } = fakeContext(true);
  const socket = new FakeSocket();
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: true });
  await cleanup.runAll();
  assert.deepEqual(rawModes, [true, false]);
  assert.equal(socket.destroyed, true);
  await session;
});

test('a system-error frame from the engine is shown on stderr and ends the session', async () => {
  const { ctx, stderr } = fakeContext(false);
  const socket = new FakeSocket();
  const session = runAttached(ctx, { socket, head: Buffer.alloc(0) }, { tty: false });
  socket.push(frame(3, 'container is dead'));
  await session;
  assert.match(stderr.bytes().toString(), /porthole: container is dead/);
});
