// An interactive exec over the API server's WebSocket (v5.channel.k8s.io, else v4), as a Node Duplex that the
// shared session pump (enter/attach.ts) drives like a Docker exec socket:
// - reading gives the command's output: raw bytes with a TTY; without one, Docker's multiplexed frames (stream
//   byte, 4-byte length) so stdout and stderr stay apart through the same demux the Docker ways use;
// - writing sends stdin (channel 0); ending the writable side is end of input (v5's close signal, channel 255);
// - resize goes on channel 4; the status (channel 3) is kept for the exit code.
// Plain node:net frames, no WebSocket library: Node 20 has no client WebSocket, and the protocol needed is small.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { frame as dockerFrame } from '../stdio.js';
import type { ExecSpec, KubeClient, Status } from './client.js';
import { EXEC_PROTOCOLS, execPath, readFrame } from './client.js';

export { EXEC_PROTOCOLS, type ExecSpec };

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** A masked client frame (RFC 6455 5.3: every frame a client sends is masked). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 0x10000) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

/** The exit code a Kubernetes exec status stands for, or an error sentence when it holds none. */
export function exitFromStatus(status: Status | null): { code: number } | { error: string } {
  if (!status) return { error: 'the API server closed the session without reporting the exit status' };
  if (status.status === 'Success') return { code: 0 };
  const details = (status as Status & { details?: { causes?: { reason?: string; message?: string }[] } }).details;
  const cause = details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause && /^\d+$/.test(cause.message ?? '')) return { code: Number(cause.message) };
  return { error: status.message || status.reason || 'the exec failed without a reason' };
}

export class ExecStream extends Duplex {
  /** The status the server sent on channel 3; null until then (and if it never does). */
  status: Status | null = null;
  private pending: Buffer = Buffer.alloc(0);
  private fragmentChannel = -1;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    readonly protocol: string,
    private readonly tty: boolean,
  ) {
    super({ allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finishRead());
    socket.on('close', () => {
      this.finishRead();
      if (!this.destroyed) this.destroy();
    });
    socket.on('error', (err) => this.destroy(err));
    if (head.length) this.onData(head);
  }

  /** Whether the server can be told that stdin ended (v5 only). */
  get canCloseStdin(): boolean {
    return this.protocol === 'v5.channel.k8s.io';
  }

  resize(rows: number, cols: number): Promise<void> {
    if (!this.socket.writable) return Promise.reject(new Error('the session is closed'));
    this.sendChannel(RESIZE, Buffer.from(JSON.stringify({ Width: cols, Height: rows })));
    return Promise.resolve();
  }

  private sendChannel(channel: number, data: Buffer): boolean {
    return this.socket.write(clientFrame(2, Buffer.concat([Buffer.from([channel]), data])));
  }

  private finishRead(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const frame = readFrame(this.pending);
      if (!frame) return;
      this.pending = this.pending.subarray(frame.used);
      if (frame.opcode === 8) {
        // The server's close: answer it, then the stream is over.
        if (this.socket.writable) this.socket.end(clientFrame(8, frame.payload.subarray(0, 2)));
        this.finishRead();
        return;
      }
      if (frame.opcode === 9) {
        if (this.socket.writable) this.socket.write(clientFrame(10, frame.payload));
        continue;
      }
      if (frame.opcode === 10) continue;
      let channel: number;
      let data: Buffer;
      if (frame.opcode === 0 && this.fragmentChannel >= 0) {
        channel = this.fragmentChannel;
        data = frame.payload;
      } else {
        if (!frame.payload.length) continue;
        channel = frame.payload[0]!;
        data = frame.payload.subarray(1);
      }
      this.fragmentChannel = frame.fin ? -1 : channel;
      this.deliver(channel, data);
    }
  }

  private deliver(channel: number, data: Buffer): void {
    if (channel === ERROR) {
      try {
        this.status = JSON.parse(data.toString('utf8')) as Status;
      } catch {
        this.status = { status: 'Failure', message: data.toString('utf8').trim() };
      }
      return;
    }
    if ((channel !== STDOUT && channel !== STDERR) || !data.length || this.ended) return;
    const out = this.tty ? data : dockerFrame(channel === STDERR ? 2 : 1, data);
    if (!this.push(out)) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (!this.socket.writable) return callback();
    if (this.sendChannel(STDIN, chunk)) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (err?: Error | null) => void): void {
    // v5 tells the process that its input ended; v4 has no way to, so the process keeps waiting for input.
    if (this.canCloseStdin && this.socket.writable) this.sendChannel(CLOSE, Buffer.from([STDIN]));
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}

/** Starts the command in the container and returns its stream once the server has accepted the upgrade. */
export async function openExec(client: KubeClient, spec: ExecSpec): Promise<ExecStream> {
  const { socket, head, protocol } = await client.upgrade(execPath(spec), { verb: 'create', resource: 'pods/exec', namespace: spec.namespace, name: spec.pod }, EXEC_PROTOCOLS);
  socket.setNoDelay(true);
  return new ExecStream(socket, head, protocol, spec.tty);
}
