// A non-interactive exec for moving files (cp, and the file reads of ls/cat/find/grep): the command's stdout as
// a plain byte stream, its stderr kept apart (the first 4 KiB, for the error sentence), stdin as a writable whose
// end is end of input (v5), and the status. Apart from exec-stream.ts because bulk bytes want a different reader:
// that one re-frames stdout for the shared session pump and joins frames that span socket reads; here a frame's
// payload goes out as slices of the socket's own buffers the moment they arrive (no copy, no wait for the whole
// frame), which is what makes `cp pod/x:/big` keep up with kubectl.
import type { Socket } from 'node:net';
import { endianness } from 'node:os';
import { Readable, Writable } from 'node:stream';
import type { KubeClient, Status } from './client.js';
import { EXEC_PROTOCOLS } from './exec-stream.js';

export interface RawExecSpec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
}

const STDERR_KEEP = 4096;
/** Largest stdin frame sent: the API server's WebSocket reader takes far more; small enough to keep the socket moving. */
const STDIN_FRAME = 256 * 1024;

export class RawExec {
  /** The command's stdout, raw. */
  readonly stdout: Readable;
  /** The command's stdin (only when asked for); ending it tells the command its input ended (v5). */
  readonly stdin: Writable | undefined;
  /** The status from channel 3; null until it came (and if it never does). */
  status: Status | null = null;
  /** Resolves when the connection closed (the command ended, or the connection broke). */
  readonly closed: Promise<void>;
  private stderrChunks: Buffer[] = [];
  private stderrSize = 0;
  // frame reader state
  private header = Buffer.alloc(14);
  private headerHave = 0;
  private headerNeed = 2;
  private payloadLeft = 0;
  private opcode = 0;
  private fin = true;
  /** Channel of the data frame being read; -1 until its first payload byte came. */
  private channel = -1;
  private fragmentChannel = -1;
  private control: Buffer[] = [];
  private ended = false;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    readonly protocol: string,
    withStdin: boolean,
  ) {
    this.stdout = new Readable({ read: () => socket.resume(), highWaterMark: 4 * 1024 * 1024 });
    this.stdin = withStdin
      ? new Writable({
          highWaterMark: 4 * 1024 * 1024,
          write: (chunk: Buffer, _enc, cb) => this.sendStdin(chunk, cb),
          final: (cb) => {
            // v5's close signal for stdin; v4 cannot say it (the command keeps waiting for input).
            if (this.protocol === 'v5.channel.k8s.io' && socket.writable) socket.write(clientFrameFast(Buffer.from([255, 0])));
            cb();
          },
        })
      : undefined;
    this.stdin?.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.endStdout();
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.endStdout());
    socket.on('error', (err) => {
      if (!this.ended) this.stdout.destroy(err);
    });
    if (head.length) this.onData(head);
  }

  get canCloseStdin(): boolean {
    return this.protocol === 'v5.channel.k8s.io';
  }

  /** The first 4 KiB the command wrote to stderr. */
  stderrText(): string {
    return Buffer.concat(this.stderrChunks).toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private endStdout(): void {
    if (this.ended) return;
    this.ended = true;
    this.stdout.push(null);
  }

  private sendStdin(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (!this.socket.writable) return cb(new Error('the connection to the pod closed while the copy was sent'));
    let ok = true;
    for (let at = 0; at < chunk.length; at += STDIN_FRAME) {
      const part = chunk.subarray(at, Math.min(chunk.length, at + STDIN_FRAME));
      const payload = Buffer.allocUnsafeSlow(part.length + 1);
      payload[0] = 0;
      part.copy(payload, 1);
      const [header, body] = clientFrameParts(payload);
      this.socket.cork();
      this.socket.write(header);
      ok = this.socket.write(body);
      this.socket.uncork();
    }
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft === 0 && this.headerNeed > 0) {
        // reading a header: 2 bytes, then the extended length (and a mask key the server should never send)
        const take = Math.min(this.headerNeed - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + take);
        this.headerHave += take;
        at += take;
        if (this.headerHave < this.headerNeed) return;
        if (this.headerNeed === 2) {
          const len7 = this.header[1]! & 0x7f;
          const masked = (this.header[1]! & 0x80) !== 0;
          const extra = (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
          if (extra) {
            this.headerNeed = 2 + extra;
            continue;
          }
        }
        this.startFrame();
        if (this.payloadLeft === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.payloadLeft, chunk.length - at);
      this.payload(chunk.subarray(at, at + take));
      at += take;
      this.payloadLeft -= take;
      if (this.payloadLeft === 0) this.endFrame();
    }
  }

  private startFrame(): void {
    const h = this.header;
    this.opcode = h[0]! & 0x0f;
    this.fin = (h[0]! & 0x80) !== 0;
    const len7 = h[1]! & 0x7f;
    this.payloadLeft = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
    this.channel = this.opcode === 0 && this.fragmentChannel >= 0 ? this.fragmentChannel : -1;
    this.headerHave = 0;
    this.headerNeed = 0;
    this.control = [];
  }

  private payload(data: Buffer): void {
    if (this.opcode >= 8) {
      this.control.push(data);
      return;
    }
    if (this.channel < 0) {
      if (!data.length) return;
      this.channel = data[0]!;
      data = data.subarray(1);
    }
    if (!data.length) return;
    if (this.channel === 1) {
      if (!this.ended && !this.stdout.push(data)) this.socket.pause();
    } else if (this.channel === 2) {
      if (this.stderrSize < STDERR_KEEP) this.stderrChunks.push(data.subarray(0, STDERR_KEEP - this.stderrSize));
      this.stderrSize += data.length;
    } else if (this.channel === 3) {
      this.control.push(data);
    }
  }

  private endFrame(): void {
    const opcode = this.opcode;
    this.headerNeed = 2;
    this.headerHave = 0;
    if (opcode === 8) {
      if (this.socket.writable) this.socket.end(clientFrameFast(Buffer.concat(this.control).subarray(0, 2), 8));
      this.endStdout();
      return;
    }
    if (opcode === 9) {
      if (this.socket.writable) this.socket.write(clientFrameFast(Buffer.concat(this.control), 10));
      return;
    }
    if (opcode === 10) return;
    if (this.channel === 3) {
      const text = Buffer.concat(this.control).toString('utf8');
      try {
        this.status = JSON.parse(text) as Status;
      } catch {
        this.status = { status: 'Failure', message: text.trim() };
      }
      this.control = [];
    }
    this.fragmentChannel = this.fin ? -1 : this.channel;
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * A masked client frame (RFC 6455 5.3), masked four bytes at a time: the byte loop of exec-stream's clientFrame
 * costs a second of CPU per 256 MiB sent. `payload` is masked in place.
 */
export function clientFrameFast(payload: Buffer, opcode = 2): Buffer {
  const [header, body] = clientFrameParts(payload, opcode);
  return Buffer.concat([header, body]);
}

/** The frame as its header and its (masked in place) payload, to be written one after the other. */
export function clientFrameParts(payload: Buffer, opcode = 2): [Buffer, Buffer] {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const header = Buffer.allocUnsafe(headerLength + 4);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 0x10000) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = header.subarray(headerLength);
  for (let i = 0; i < 4; i++) mask[i] = (Math.random() * 256) | 0;
  maskInPlace(payload, mask);
  return [header, payload];
}

/** XORs `data` with the 4-byte `mask`, repeating, in place. */
export function maskInPlace(data: Buffer, mask: Buffer): void {
  let i = 0;
  const aligned = data.byteOffset % 4 === 0;
  if (aligned && LITTLE_ENDIAN && data.length >= 16) {
    const words = Math.floor(data.length / 4);
    const view = new Uint32Array(data.buffer, data.byteOffset, words);
    const m = mask.readUInt32LE(0);
    for (let w = 0; w < words; w++) view[w] = view[w]! ^ m;
    i = words * 4;
  }
  for (; i < data.length; i++) data[i] = data[i]! ^ mask[i & 3]!;
}

/** Starts a command in the container; resolves once the server accepted the upgrade. */
export async function openRawExec(client: KubeClient, spec: RawExecSpec): Promise<RawExec> {
  const q = new URLSearchParams({ container: spec.container, stdout: 'true', stderr: 'true' });
  if (spec.stdin) q.set('stdin', 'true');
  for (const word of spec.command) q.append('command', word);
  const path = `/api/v1/namespaces/${encodeURIComponent(spec.namespace)}/pods/${encodeURIComponent(spec.pod)}/exec?${q}`;
  const { socket, head, protocol } = await client.upgrade(path, { verb: 'create', resource: 'pods/exec', namespace: spec.namespace, name: spec.pod }, EXEC_PROTOCOLS);
  socket.setNoDelay(true);
  return new RawExec(socket, head, protocol, spec.stdin);
}
