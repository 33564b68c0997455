// The HTTP/1.1 client that speaks to the engine, over any byte stream (unix socket, TCP, TLS, ssh dial-stdio).
// Why not node:http: measured here, loading and first use of node:http cost about 24 ms of every command's
// start-up (a /_ping + inspect took +48 ms over `node -e 0` through node:http, +24 ms over a raw socket), and its
// parser delivers the engine's 32 KiB chunked archive frames at about half the socket's rate (256 MiB in 1.3-2.2 s
// against 0.5-0.8 s raw). The engine's side of HTTP is small: status line, headers, a sized, chunked or
// close-delimited body, and 101 Switching Protocols for exec/attach.
import type { Duplex, Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';

export type Connector = () => Promise<Duplex>;

export interface WireRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Ask the engine to hand the connection over (exec start, attach). */
  upgrade?: boolean;
  timeoutMs?: number;
}

/** A response: its body as a stream, with the status and lower-cased headers on it (like IncomingMessage). */
export type WireResponse = Readable & { statusCode: number; headers: Record<string, string> };

export interface Upgraded {
  statusCode: number;
  headers: Record<string, string>;
  socket: Duplex;
  /** Bytes that arrived with the response head, before the socket was handed over. */
  head: Buffer;
}

const MAX_HEAD = 64 * 1024;

/** Whether a request body can be sent again: none or a buffer, not a stream already (partly) consumed. */
export function isReplayable(body: WireRequest['body']): boolean {
  return body === undefined || Buffer.isBuffer(body);
}
const TRACE = !!process.env.PORTHOLE_TRACE;

export function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('aborted: the engine closed the connection before it finished answering'), { code: 'ECONNRESET' });
}

/** One connection; it routes the socket's bytes to whichever response is reading it now. */
class Connection {
  readonly socket: Duplex;
  private onData: ((chunk: Buffer) => void) | undefined;
  private onGone: ((err: Error) => void) | undefined;
  gone = false;

  constructor(socket: Duplex) {
    this.socket = socket;
    // Plain 'data' events: every read is a fresh buffer, so slices of it can wait behind back-pressure safely.
    socket.on('data', (chunk: Buffer) => this.onData?.(chunk));
    const gone = (err?: Error) => {
      if (this.gone) return;
      this.gone = true;
      this.onGone?.(err ?? prematureClose());
    };
    socket.on('end', () => gone());
    socket.on('close', () => gone());
    socket.on('error', (err) => gone(err));
  }

  route(onData: ((chunk: Buffer) => void) | undefined, onGone: ((err: Error) => void) | undefined): void {
    this.onData = onData;
    this.onGone = onGone;
  }

  /** Hands the socket over whole (after an upgrade): our listeners stop routing, the new owner reads it. */
  detach(): Duplex {
    this.socket.pause();
    this.route(undefined, undefined);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    // As node:http does on upgrade: neither paused nor flowing, so the new owner's first 'data' listener (or pipe)
    // starts the flow and nothing is lost meanwhile.
    (this.socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    return this.socket;
  }

  destroy(): void {
    this.gone = true;
    this.socket.destroy();
  }
}

/** Decodes a response body (sized, chunked, or until close) into a readable stream with back-pressure. */
class ResponseBody extends ReadableStream {
  private state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining: number;
  private readonly chunked: boolean;
  private complete = false;

  constructor(
    private readonly conn: Connection,
    mode: { chunked: boolean; length?: number },
    private readonly release: (reusable: boolean) => void,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.chunked = mode.chunked;
    this.remaining = mode.chunked ? 0 : (mode.length ?? Infinity);
    conn.route(
      (chunk) => this.feed(chunk),
      (err) => {
        if (!this.chunked && this.remaining === Infinity && !(err as NodeJS.ErrnoException).code?.startsWith('ERR_SSL')) this.finish(false);
        else if (!this.complete) this.destroy(err);
      },
    );
    if (!mode.chunked && this.remaining === 0) queueMicrotask(() => this.finish(true));
  }

  _read(): void {
    this.conn.socket.resume();
  }

  _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (!this.complete) {
      this.complete = true;
      this.conn.destroy();
      this.release(false);
    }
    cb(err);
  }

  private finish(reusable: boolean): void {
    if (this.complete) return;
    this.complete = true;
    this.state = 'done';
    this.push(null);
    this.release(reusable);
  }

  private emitData(piece: Buffer): void {
    if (!this.push(piece)) this.conn.socket.pause();
  }

  feed(data: Buffer): void {
    if (this.complete || this.destroyed) return;
    if (!this.chunked) {
      const take = Math.min(data.length, this.remaining);
      if (take) this.emitData(take === data.length ? data : data.subarray(0, take));
      if (this.remaining !== Infinity) this.remaining -= take;
      if (this.remaining === 0) this.finish(true);
      return;
    }
    let pos = 0;
    while (pos < data.length && !this.complete) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, data.length - pos);
        this.emitData(data.subarray(pos, pos + take));
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'crlf';
        continue;
      }
      // size, crlf and trailer are lines ending in \r\n.
      const nl = data.indexOf(0x0a, pos);
      const end = nl < 0 ? data.length : nl + 1;
      this.line += data.toString('latin1', pos, end);
      pos = end;
      if (nl < 0) {
        if (this.line.length > 1024) return void this.destroy(new Error('malformed chunked encoding from the engine'));
        continue;
      }
      const line = this.line.replace(/\r?\n$/, '');
      this.line = '';
      if (this.state === 'crlf') {
        if (line !== '') return void this.destroy(new Error('malformed chunked encoding from the engine'));
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = parseInt(line.split(';')[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) return void this.destroy(new Error('malformed chunked encoding from the engine'));
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (this.state === 'trailer' && line === '') {
        this.finish(pos === data.length);
      }
    }
  }
}

function parseHead(text: string): { statusCode: number; headers: Record<string, string> } | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusCode: Number(status[1]), headers };
}

/** Writes a streamed request body with chunked framing, honouring the socket's back-pressure. */
async function writeChunked(socket: Duplex, body: Readable): Promise<void> {
  const drained = () => new Promise<void>((resolve, reject) => {
    const onDrain = () => { socket.off('close', onClose); resolve(); };
    const onClose = () => { socket.off('drain', onDrain); reject(prematureClose()); };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (!buf.length) continue;
    socket.write(`${buf.length.toString(16)}\r\n`);
    socket.write(buf);
    if (!socket.write('\r\n')) await drained();
  }
  socket.write('0\r\n\r\n');
}

export class Wire {
  private idle: Connection[] = [];
  private closed = false;

  constructor(private readonly connect: Connector) {}

  private async acquire(): Promise<{ conn: Connection; reused: boolean }> {
    while (this.idle.length) {
      const conn = this.idle.pop()!;
      if (!conn.gone) {
        (conn.socket as any).ref?.();
        return { conn, reused: true };
      }
    }
    return { conn: new Connection(await this.connect()), reused: false };
  }

  private park(conn: Connection): void {
    if (this.closed || conn.gone) return conn.destroy();
    conn.route(undefined, undefined);
    // An idle connection must not keep the process alive.
    (conn.socket as any).unref?.();
    this.idle.push(conn);
  }

  request(req: WireRequest & { upgrade: true }): Promise<Upgraded>;
  request(req: WireRequest): Promise<WireResponse>;
  async request(req: WireRequest): Promise<WireResponse | Upgraded> {
    if (TRACE) return this.traced(req);
    return this.send(req);
  }

  /** PORTHOLE_TRACE=1: one line on stderr per request, with the time to the answer's head (for profiling). */
  private async traced(req: WireRequest): Promise<WireResponse | Upgraded> {
    const started = performance.now();
    // at: when it was sent, in ms since the process started (Node's own start-up included)
    const line = (what: string) =>
      process.stderr.write(`porthole-trace: at ${started.toFixed(1).padStart(6)} ms ${(performance.now() - started).toFixed(1).padStart(7)} ms ${req.method} ${req.path} ${what}\n`);
    try {
      const answer = await this.send(req);
      line(String(answer.statusCode));
      return answer;
    } catch (err) {
      line(`failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private async send(req: WireRequest): Promise<WireResponse | Upgraded> {
    const { conn, reused } = await this.acquire();
    try {
      return await this.exchange(conn, req);
    } catch (err) {
      // A kept-alive connection the engine closed meanwhile: try once more on a fresh one, unless a streamed
      // body was already (partly) consumed.
      if (reused && (err as { beforeAnswer?: boolean }).beforeAnswer && isReplayable(req.body)) {
        return this.exchange(new Connection(await this.connect()), req);
      }
      throw err;
    }
  }

  private exchange(conn: Connection, req: WireRequest): Promise<WireResponse | Upgraded> {
    return new Promise((resolve, reject) => {
      let head: Buffer = Buffer.alloc(0);
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: Error, beforeAnswer: boolean) => {
        if (answered) return;
        answered = true;
        if (timer) clearTimeout(timer);
        conn.destroy();
        reject(Object.assign(err, { beforeAnswer: beforeAnswer && head.length === 0 }));
      };
      if (req.timeoutMs) {
        timer = setTimeout(() => fail(Object.assign(new Error(`the engine did not answer within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT' }), false), req.timeoutMs);
      }
      conn.route(
        (chunk) => {
          head = head.length ? Buffer.concat([head, chunk]) : chunk;
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > MAX_HEAD) fail(new Error('the engine sent response headers larger than 64 KiB'), false);
            return;
          }
          const parsed = parseHead(head.toString('latin1', 0, end));
          if (!parsed) return fail(new Error(`the engine answered something that is not HTTP: ${JSON.stringify(head.toString('latin1', 0, Math.min(end, 80)))}`), false);
          answered = true;
          if (timer) clearTimeout(timer);
          const rest = head.subarray(end + 4);
          if (parsed.statusCode === 101) {
            resolve({ ...parsed, socket: conn.detach(), head: rest });
            return;
          }
          const noBody = req.method === 'HEAD' || parsed.statusCode === 204 || parsed.statusCode === 304 || parsed.statusCode < 200;
          const chunked = !noBody && /chunked/i.test(parsed.headers['transfer-encoding'] ?? '');
          const lengthHeader = parsed.headers['content-length'];
          const length = noBody ? 0 : lengthHeader !== undefined && !chunked ? Number(lengthHeader) : undefined;
          const keepAlive = !/close/i.test(parsed.headers.connection ?? '') && !req.upgrade;
          const body = new ResponseBody(conn, { chunked, ...(length !== undefined && Number.isFinite(length) ? { length } : {}) }, (reusable) => {
            if (reusable && keepAlive) this.park(conn);
            else conn.destroy();
          }) as unknown as WireResponse;
          body.statusCode = parsed.statusCode;
          body.headers = parsed.headers;
          if (rest.length) (body as unknown as ResponseBody).feed(rest);
          resolve(body);
        },
        (err) => fail(err, true),
      );

      const headers: Record<string, string> = { Host: 'docker', 'User-Agent': 'porthole', ...req.headers };
      if (req.upgrade) {
        headers.Connection = 'Upgrade';
        headers.Upgrade = 'tcp';
      }
      const streamed = req.body !== undefined && !Buffer.isBuffer(req.body);
      if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
      else if (streamed) headers['Transfer-Encoding'] = 'chunked';
      else if (req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] = '0';
      let text = `${req.method} ${req.path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
      conn.socket.write(text + '\r\n');
      if (Buffer.isBuffer(req.body)) conn.socket.write(req.body);
      else if (streamed) {
        const body = req.body as Readable;
        writeChunked(conn.socket, body).catch((err) => {
          // The engine may answer (an error) and close before the whole body is sent: that answer wins.
          body.destroy();
          fail(err, false);
        });
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const conn of this.idle) conn.destroy();
    this.idle = [];
  }
}
