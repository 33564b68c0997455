// The wire: HTTP over a unix socket, TCP (optionally TLS) or `ssh HOST docker system dial-stdio`.
// A thin client on node:http, because the full client libraries cost 75-125 ms of start-up (ENGINE-NOTES.md).
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Duplex, type Readable } from 'node:stream';
import type { Endpoint } from '../endpoint.js';
import { EngineError, EngineUnavailable, NotFound, PortholeError } from '../../errors.js';
import { rawGet, type RawResponse } from './raw-get.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown; // JSON-encoded unless a stream or Buffer
  headers?: Record<string, string>;
  /** Status codes that are not errors for this call (e.g. 304 on start of a running container). */
  okStatus?: number[];
  timeoutMs?: number;
}

/** A Duplex over an ssh child's stdio, speaking to `docker system dial-stdio` on the far side. */
function sshDuplex(target: URL): Duplex {
  const args = ['-o', 'ConnectTimeout=30', '-T'];
  if (target.port) args.push('-p', target.port);
  if (target.username) args.push('-l', decodeURIComponent(target.username));
  args.push('--', target.hostname, 'docker', 'system', 'dial-stdio');
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const duplex = new Duplex({
    write(chunk, _enc, cb) {
      child.stdin.write(chunk, cb);
    },
    final(cb) {
      child.stdin.end(cb);
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      child.kill();
      cb(err);
    },
  });
  // node:http treats its connection as a net.Socket; the socket-only knobs mean nothing over a pipe.
  Object.assign(duplex, { setTimeout: () => duplex, setNoDelay: () => duplex, setKeepAlive: () => duplex, ref: () => duplex, unref: () => duplex });
  child.stdout.on('data', (d) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => duplex.push(null));
  child.on('error', (err) => duplex.destroy(err));
  child.on('exit', (code) => {
    if (code) duplex.destroy(Object.assign(new Error(`ssh exited with ${code}: ${stderr.trim()}`), { code: 'ESSH' }));
  });
  return duplex;
}

export class Transport {
  readonly endpoint: Endpoint;
  private agent: http.Agent;
  private readonly base: http.RequestOptions;
  private readonly secure: boolean;
  private readonly where: string;
  private readonly sshTarget: URL | undefined;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    const url = new URL(endpoint.host);
    this.secure = false;
    this.sshTarget = undefined;
    if (url.protocol === 'unix:') {
      const socketPath = decodeURIComponent(url.pathname);
      this.base = { socketPath };
      this.where = socketPath;
      this.agent = new http.Agent({ keepAlive: true });
    } else if (url.protocol === 'tcp:') {
      this.where = url.host;
      if (endpoint.tls) {
        this.secure = true;
        this.base = {
          host: url.hostname,
          port: Number(url.port || 2376),
          ca: endpoint.tls.ca,
          cert: endpoint.tls.cert,
          key: endpoint.tls.key,
          rejectUnauthorized: endpoint.tls.verify,
        } as http.RequestOptions;
      } else {
        this.base = { host: url.hostname, port: Number(url.port || 2375) };
      }
      this.agent = new http.Agent({ keepAlive: true });
    } else if (url.protocol === 'ssh:') {
      this.where = `ssh ${url.host}`;
      this.sshTarget = url;
      this.base = { host: 'docker' };
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      // Each connection is its own `docker system dial-stdio`, like the docker CLI does.
      (agent as any).createConnection = () => sshDuplex(url);
      this.agent = agent;
    } else {
      throw new EngineUnavailable(`Unsupported engine address ${endpoint.host}.`);
    }
  }

  private async httpModule(): Promise<typeof http> {
    if (!this.secure) return http;
    const https = await import('node:https');
    // TLS connections need an https.Agent; node:https is loaded only for TLS engines.
    if (!(this.agent instanceof https.Agent)) {
      this.agent.destroy();
      this.agent = new https.Agent({ keepAlive: true });
    }
    return https as unknown as typeof http;
  }

  private explainConnectError(err: NodeJS.ErrnoException): PortholeError {
    const how = `(reached through ${this.endpoint.via})`;
    switch (err.code) {
      case 'EACCES':
      case 'EPERM':
        return new EngineUnavailable(
          `Permission denied on the engine socket ${this.where} ${how}.`,
          'Run porthole as a user in the "docker" group, or with sudo.',
        );
      case 'ENOENT':
        return new EngineUnavailable(
          `No engine socket at ${this.where} ${how}.`,
          'Start the Docker engine (e.g. `dockerd` or `systemctl start docker`), or point -H/DOCKER_HOST elsewhere.',
        );
      case 'ECONNREFUSED':
        return new EngineUnavailable(
          `The engine at ${this.where} refused the connection ${how}: it is not running.`,
          'Start the Docker engine (e.g. `dockerd` or `systemctl start docker`), or point -H/DOCKER_HOST elsewhere.',
        );
      case 'ECONNRESET':
      case 'EPIPE':
        return new EngineUnavailable(`The engine at ${this.where} closed the connection ${how}.`, 'Check that the engine is still running.');
      case 'ESSH':
        return new EngineUnavailable(`Could not reach the engine over ${this.where}: ${err.message}.`, 'Check `ssh HOST docker version` works.');
      default:
        return new EngineUnavailable(`Could not reach the engine at ${this.where} ${how}: ${err.message}.`);
    }
  }

  private buildPath(path: string, query?: RequestOptions['query']): string {
    if (!query) return path;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  }

  /** Sends a request and resolves with the response once its headers arrive; error statuses become errors. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const mod = await this.httpModule();
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body)) payload = opts.body;
      else if (typeof (opts.body as Readable).pipe === 'function') payload = opts.body as Readable;
      else {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
      if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = mod.request(
        { ...this.base, agent: this.agent, method, path: this.buildPath(path, opts.query), headers },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 400 || opts.okStatus?.includes(status)) return resolve(res);
          readBody(res).then(
            (body) => reject(engineErrorFor(status, body, method, path)),
            (err) => reject(err),
          );
        },
      );
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof PortholeError ? err : this.explainConnectError(err)));
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }

  async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const body = await readBody(res);
    if (!body.length) return undefined as T;
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Sends a request that the engine answers by handing over the raw connection (exec start, attach). */
  async hijack(method: string, path: string, body: unknown, query?: RequestOptions['query']): Promise<{ socket: Duplex; head: Buffer }> {
    const mod = await this.httpModule();
    const payload = Buffer.from(JSON.stringify(body ?? {}));
    return new Promise((resolve, reject) => {
      const req = mod.request({
        ...this.base,
        // A hijacked socket must not go back to the keep-alive pool: it gets a connection of its own.
        agent: false,
        ...(this.sshTarget ? { createConnection: () => sshDuplex(this.sshTarget!) as any } : {}),
        method,
        path: this.buildPath(path, query),
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(payload.length),
          Connection: 'Upgrade',
          Upgrade: 'tcp',
        },
      });
      req.on('upgrade', (_res, socket, head) => resolve({ socket, head }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readBody(res).then((b) => reject(engineErrorFor(status, b, method, path)), reject);
        } else {
          // Engines that do not upgrade still stream the body on this response.
          resolve({ socket: res.socket as unknown as Duplex, head: Buffer.alloc(0) });
        }
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof PortholeError ? err : this.explainConnectError(err)));
      req.end(payload);
    });
  }

  /**
   * GET of a big streamed body (archives), read straight off the socket: about twice node's http client's rate on
   * the engine's chunked streams (see raw-get.ts). Unix and plain TCP engines; undefined for TLS and ssh, which use
   * request(). Error statuses become errors as in request().
   */
  async streamGet(path: string, query?: RequestOptions['query']): Promise<RawResponse | undefined> {
    if (this.secure || this.sshTarget) return undefined;
    const full = this.buildPath(path, query);
    const res = await rawGet(this.base as { socketPath?: string; host?: string; port?: number }, full, (err) => this.explainConnectError(err));
    if (res.statusCode < 400) return res;
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    throw engineErrorFor(res.statusCode, Buffer.concat(chunks), 'GET', path);
  }

  close(): void {
    this.agent.destroy();
  }
}

export function readBody(res: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy();
        reject(new EngineError(0, `The engine's answer was larger than ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new EngineUnavailable('The engine closed the connection before it finished answering.')));
  });
}

function engineErrorFor(status: number, body: Buffer, method: string, path: string): Error {
  let message = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(message);
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // plain-text error body
  }
  message = message.replace(/\s+$/, '');
  const sentence = message ? message.charAt(0).toUpperCase() + message.slice(1) : `The engine answered ${status} to ${method} ${path}`;
  const withStop = /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  if (status === 404) return new NotFound(withStop);
  return new EngineError(status, withStop);
}
