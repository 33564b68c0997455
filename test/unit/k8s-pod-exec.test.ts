// The bulk exec reader of cp and the file commands (engine/kubernetes/pod-exec.ts): frames split anywhere across
// socket reads, fragmented frames, channels kept apart, the status kept, stdin frames masked and split; and the
// toolbox wrapper of file reads (no fallback to /proc/1/root without chroot).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { readFrame } from '../../src/engine/kubernetes/client.js';
import { clientFrameFast, maskInPlace, RawExec } from '../../src/engine/kubernetes/pod-exec.js';
import { toolboxFilesCommand } from '../../src/engine/kubernetes/pod-tar.js';

/** A server frame (unmasked): FIN + opcode, the payload as sent. */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0, n]) : n < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (n >= 126 && n < 0x10000) {
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else if (n >= 0x10000) {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

const channel = (c: number, data: Buffer | string) => Buffer.concat([Buffer.from([c]), Buffer.from(data)]);

function fakeSocket(): { socket: Duplex; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      sent.push(chunk);
      cb();
    },
  });
  return { socket, sent };
}

test('stdout comes out raw from frames split at every byte boundary; stderr and the status kept apart', async () => {
  const big = randomBytes(70_000);
  const wire = Buffer.concat([
    serverFrame(2, channel(1, 'hello ')),
    serverFrame(2, channel(2, 'warning\n')),
    serverFrame(2, channel(1, big.subarray(0, 40_000)), false),
    serverFrame(0, big.subarray(40_000)),
    serverFrame(9, Buffer.from('ping')),
    serverFrame(2, channel(3, JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } }))),
    serverFrame(8, Buffer.from([3, 232])),
  ]);
  for (const step of [1, 3, 7, 1000, wire.length]) {
    const { socket, sent } = fakeSocket();
    const exec = new RawExec(socket as never, Buffer.alloc(0), 'v5.channel.k8s.io', false);
    const out: Buffer[] = [];
    exec.stdout.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((r) => exec.stdout.on('end', r));
    for (let i = 0; i < wire.length; i += step) socket.push(wire.subarray(i, i + step));
    await ended;
    assert.ok(Buffer.concat(out).equals(Buffer.concat([Buffer.from('hello '), big])), `step ${step}`);
    assert.equal(exec.stderrText(), 'warning\n');
    assert.equal(exec.status?.reason, 'NonZeroExitCode');
    // the ping is answered with a pong, the close with a close
    const opcodes = sent.map((f) => readFrame(f)?.opcode);
    assert.deepEqual(opcodes, [10, 8]);
  }
});

test('stdin goes out masked, split into frames of at most 256 KiB, each on channel 0; the end is v5\'s close of channel 0', async () => {
  const { socket, sent } = fakeSocket();
  const exec = new RawExec(socket as never, Buffer.alloc(0), 'v5.channel.k8s.io', true);
  const data = randomBytes(600_000);
  await new Promise<void>((resolve, reject) => exec.stdin!.end(data, (err?: Error | null) => (err ? reject(err) : resolve())));
  const frames: Buffer[] = [];
  let pending = Buffer.concat(sent);
  for (let f = readFrame(pending); f; f = readFrame(pending)) {
    const mask = pending.subarray(f.used - f.payload.length - 4, f.used - f.payload.length);
    const payload = Buffer.from(f.payload);
    maskInPlace(payload, mask);
    frames.push(payload);
    pending = pending.subarray(f.used);
  }
  assert.equal(pending.length, 0);
  assert.deepEqual(frames.map((p) => p.length), [256 * 1024 + 1, 256 * 1024 + 1, 600_000 - 512 * 1024 + 1, 2]);
  assert.ok(frames.every((p) => p[0] === (p.length === 2 ? 255 : 0)));
  assert.ok(Buffer.concat(frames.slice(0, 3).map((p) => p.subarray(1))).equals(data));
  assert.deepEqual([...frames[3]!], [255, 0]);
});

test('masking four bytes at a time gives the byte-wise result at every length and offset', () => {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  for (const size of [0, 1, 3, 4, 15, 16, 17, 100, 1001]) {
    for (const offset of [0, 1, 4]) {
      const backing = randomBytes(size + offset);
      const data = backing.subarray(offset);
      const expected = Buffer.from(data.map((b, i) => b ^ mask[i & 3]!));
      maskInPlace(data, mask);
      assert.ok(data.equals(expected), `size ${size} offset ${offset}`);
    }
  }
  const frame = clientFrameFast(Buffer.from('abc'));
  assert.equal(frame[1]! & 0x80, 0x80);
});

test('the toolbox wrapper chroots into the target\'s root with the toolbox\'s tools only, and stops (23) where it may not', () => {
  const cmd = toolboxFilesCommand(['sh', '-c', 'exec cat -- "$1"', 'porthole', '/etc/x']);
  assert.deepEqual(cmd.slice(0, 2), ['/bin/sh', '-c']);
  assert.deepEqual(cmd.slice(3), ['porthole', 'sh', '-c', 'exec cat -- "$1"', 'porthole', '/etc/x'], 'arguments passed as they are, never pasted');
  const script = cmd[2]!;
  assert.match(script, /\|\| exit 23/);
  assert.match(script, /export PATH=\/proc\/self\/fd\/9\/bin:\/proc\/self\/fd\/9\/usr\/bin:\/proc\/self\/fd\/9\/sbin:\/proc\/self\/fd\/9\/usr\/sbin\n/);
  assert.doesNotMatch(script, /cd \/proc\/1\/root/, 'no unchrooted fallback: absolute links would resolve in the toolbox');
});

test('ls -l owner files come before the listing as hex, each ended by a NUL; none when the pod could not send them', async () => {
  const { splitOwners } = await import('../../src/engine/kubernetes/pod-files.js');
  const hex = (text: string) => ` ${[...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nodd\0name:x:7:7::/:/bin/false\n';
  const out = Buffer.concat([Buffer.from(`U${hex(passwd)}\0${hex('root:x:0:\n')}\0`), Buffer.from('Bx\0')]);
  const { owners, listing } = splitOwners(out);
  assert.deepEqual(owners, { passwd, group: 'root:x:0:\n' });
  assert.equal(listing.toString(), 'Bx\0');
  assert.deepEqual(splitOwners(Buffer.from('Bx\0')), { listing: Buffer.from('Bx\0') });
  assert.throws(() => splitOwners(Buffer.from(`U${hex('root')}`)), /cut short/);
});
