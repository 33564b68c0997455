// The pure parts of entering pods: WebSocket client frames, exec statuses to exit codes, the way a container's
// state calls for, and the pod copy (kubectl debug --copy-to rules).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { readFrame } from '../../src/engine/kubernetes/client.js';
import { clientFrame, ExecStream, exitFromStatus } from '../../src/engine/kubernetes/exec-stream.js';
import { buildPodCopy, copyName, labelSafe, SLEEPER } from '../../src/engine/kubernetes/pod-copy.js';
import type { Pod } from '../../src/engine/kubernetes/wire.js';
import { pickWay, wrapCommand } from '../../src/enter/pod.js';

function unmask(frame: Buffer): { opcode: number; payload: Buffer } {
  const parsed = readFrame(frame)!;
  const length = parsed.payload.length;
  const mask = frame.subarray(parsed.used - length - 4, parsed.used - length);
  const payload = Buffer.from(parsed.payload.map((b, i) => b ^ mask[i & 3]!));
  return { opcode: parsed.opcode, payload };
}

test('client frames are masked and carry any length (7-bit, 16-bit, 64-bit)', () => {
  for (const size of [0, 5, 125, 126, 65535, 65536, 200_000]) {
    const data = Buffer.alloc(size, 0x61);
    const frame = clientFrame(2, data);
    assert.equal(frame[1]! & 0x80, 0x80, 'masked');
    const { opcode, payload } = unmask(frame);
    assert.equal(opcode, 2);
    assert.ok(payload.equals(data), `size ${size}`);
  }
});

test('exec statuses: Success is 0, NonZeroExitCode carries the code, no status is never 0', () => {
  assert.deepEqual(exitFromStatus({ status: 'Success' }), { code: 0 });
  const seven = { status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code', details: { causes: [{ reason: 'ExitCode', message: '7' }] } };
  assert.deepEqual(exitFromStatus(seven), { code: 7 });
  assert.ok('error' in exitFromStatus(null));
  assert.ok('error' in exitFromStatus({ status: 'Failure', reason: 'InternalError', message: 'exec: "x": executable file not found' }));
});

function serverFrame(channel: number, data: string | Buffer, opcode = 2): Buffer {
  const payload = Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

test('the stream splits channels: stdout and stderr as Docker frames, the status kept, a close ends it', async () => {
  const socket = new PassThrough() as unknown as import('node:net').Socket;
  const stream = new ExecStream(socket, Buffer.alloc(0), 'v5.channel.k8s.io', false);
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => stream.on('end', r));
  (socket as unknown as PassThrough).emit('data', Buffer.concat([serverFrame(1, 'out'), serverFrame(2, 'err'), serverFrame(3, '{"status":"Success"}')]));
  (socket as unknown as PassThrough).emit('data', Buffer.from([0x88, 0x02, 0x03, 0xe8]));
  await ended;
  const all = Buffer.concat(chunks);
  assert.equal(all[0], 1);
  assert.equal(all.readUInt32BE(4), 3);
  assert.equal(all.subarray(8, 11).toString(), 'out');
  assert.equal(all[11], 2);
  assert.equal(all.subarray(19, 22).toString(), 'err');
  assert.deepEqual(stream.status, { status: 'Success' });
});

test('-w and -e wrap the command in sh and env; nothing to add leaves it alone', () => {
  assert.deepEqual(wrapCommand(['ls'], { env: [] }), ['ls']);
  assert.deepEqual(wrapCommand(['ls', '-l'], { workdir: '/srv', env: ['A=b c'] }), ['/bin/sh', '-c', 'cd -- "$1" || exit 125; shift; exec env "$@"', 'porthole', '/srv', 'A=b c', 'ls', '-l']);
});

const base = (status: NonNullable<Pod['status']>): Pod => ({
  metadata: { name: 'api-1', namespace: 'shop', labels: { app: 'api' }, annotations: { note: 'x' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'api', uid: 'u', controller: true }], uid: 'abc' },
  spec: {
    restartPolicy: 'Always',
    nodeName: 'node1',
    containers: [
      { name: 'app', image: 'img', command: ['/app'], args: ['--serve'], env: [{ name: 'A', value: '1' }], livenessProbe: { tcpSocket: { port: 80 } }, readinessProbe: { tcpSocket: { port: 80 } }, resources: { limits: { memory: '64Mi' } } },
      { name: 'side', image: 'img2', startupProbe: { tcpSocket: { port: 81 } } },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
  status,
});

test('the way in follows the container state', () => {
  assert.equal(pickWay(base({ phase: 'Running', containerStatuses: [{ name: 'app', state: { running: {} } }] }), 'app').way, 'exec');
  assert.equal(pickWay(base({ phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), 'app').way, 'copy');
  assert.equal(pickWay(base({ phase: 'Succeeded', containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), 'app').way, 'copy');
  assert.equal(pickWay(base({ phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }] }), 'app').way, 'refuse');
  assert.equal(pickWay(base({ phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] }), 'app').way, 'refuse');
  // Running again right after a crash (restarts > 0, started 2 s ago): a copy; after a while running: exec.
  const now = Date.parse('2026-12-05T08:00:00Z');
  const rerun = (startedAt: string) => base({ phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 3, state: { running: { startedAt } }, lastState: { terminated: { exitCode: 3 } } }] });
  assert.equal(pickWay(rerun('2026-12-05T07:59:58Z'), 'app', now).way, 'copy');
  assert.equal(pickWay(rerun('2026-12-05T07:59:00Z'), 'app', now).way, 'exec');
});

test('the copy drops owners, labels and probes, replaces only the chosen command, keeps the rest', () => {
  const original = base({ phase: 'Running' });
  const labels = { 'io.porthole.owned': 'true', 'io.porthole.session': 'abcd', 'io.porthole.host': 'Bad Host!' };
  const copy = buildPodCopy(original, { name: 'api-1-porthole-abcd', container: 'app', command: SLEEPER, labels });
  assert.equal(copy.metadata.ownerReferences, undefined);
  assert.deepEqual(copy.metadata.labels, { 'io.porthole.owned': 'true', 'io.porthole.session': 'abcd' });
  assert.equal(copy.metadata.annotations!['io.porthole.host'], 'Bad Host!');
  assert.equal(copy.metadata.annotations!.note, 'x');
  assert.equal(copy.metadata.uid, undefined);
  assert.equal((copy as { status?: unknown }).status, undefined);
  const [app, side] = copy.spec.containers;
  assert.deepEqual(app!.command, SLEEPER);
  assert.equal(app!.args, undefined);
  assert.equal(app!.livenessProbe, undefined);
  assert.equal(app!.readinessProbe, undefined);
  assert.deepEqual(app!.env, [{ name: 'A', value: '1' }]);
  assert.deepEqual(app!.resources, { limits: { memory: '64Mi' } });
  assert.equal(side!.startupProbe, undefined);
  assert.equal(side!.command, undefined);
  assert.deepEqual(copy.spec.volumes, original.spec.volumes);
  assert.equal(copy.spec.nodeName, 'node1');
  assert.equal(copy.spec.restartPolicy, 'Never');
  // The original is not changed by building the copy.
  assert.ok(original.spec.containers[0]!.livenessProbe);
});

test('copy names fit 63 characters and end in the session', () => {
  const name = copyName('a'.repeat(80), 'beef01234567');
  assert.ok(name.length <= 63);
  assert.ok(name.endsWith('-porthole-beef01234567'));
  assert.deepEqual(labelSafe({ ok: 'a.b-c_d', bad: '-x', long: 'x'.repeat(64) }).labels, { ok: 'a.b-c_d' });
});
