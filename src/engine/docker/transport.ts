// The engine's address turned into connections: a unix socket, TCP (optionally TLS) or
// `ssh HOST docker system dial-stdio`; HTTP itself is spoken by wire.ts on whichever stream that gives.
import net from 'node:net';
import { Duplex, type Readable } from 'node:stream';
import type { Endpoint } from '../endpoint.js';
import { EngineError, EngineUnavailable, NotFound, PortholeError } from '../../errors.js';
import { isReplayable, Wire, type Connector, type Upgraded, type WireRequest, type WireResponse } from './wire.js';

export type { WireResponse } from './wire.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown; // JSON-encoded unless a stream or Buffer
  headers?: Record<string, string>;
  /** Status codes that are not errors for this call (e.g. 304 on start of a running container). */
  okStatus?: number[];
  timeoutMs?: number;
}

/** ssh's failure, in its own words (the last lines it printed on stderr). */
function sshFailure(code: number, stderr: string): NodeJS.ErrnoException {
  const said = stderr.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !/^(@+|Warning: Permanently added)/.test(l));
  // ssh says many lines for an unknown or changed host key: the sentence that names the problem is the one to keep
  const key = said.find((l) => /host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|authenticity of host/i.test(l));
  const words = (key ? [key] : said.slice(-2)).join(' ').replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 400).replace(/\.$/, '');
  return Object.assign(new Error(words ? `ssh exited with ${code}: ${words}` : `ssh exited with ${code} and said nothing`), { code: 'ESSH' });
}

/** A Duplex over an ssh child's stdio, speaking to `docker system dial-stdio` on the far side. */
async function sshDuplex(target: URL): Promise<Duplex> {
  // node:child_process is loaded only for ssh engines.
  const { spawn } = await import('node:child_process');
  const args = ['-o', 'ConnectTimeout=30', '-T'];
  if (target.port) args.push('-p', target.port);
  if (target.username) args.push('-l', decodeURIComponent(target.username));
  args.push('--', target.hostname, 'docker', 'system', 'dial-stdio');
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const duplex = new Duplex({
    // A write to an ssh that already failed (EPIPE) is not the news: its exit status and words follow.
    write(chunk, _enc, cb) {
      child.stdin.write(chunk, () => cb());
    },
    final(cb) {
      child.stdin.end(() => cb());
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      child.kill();
      cb(err);
    },
  });
  child.stdout.on('data', (d) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  // ssh's stdout ends before its exit status is known: wait for it, so a failed ssh (refused, denied, unknown host
  // key, no docker on the far side) reaches the person in ssh's own words, not as a connection closed early.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdout.on('end', () => {
    void exited.then((code) => {
      if (code) duplex.destroy(sshFailure(code, stderr));
      else duplex.push(null);
    });
  });
  child.on('error', (err) => duplex.destroy(err));
  child.stdin.on('error', () => undefined);
  return duplex;
}

export class Transport {
  readonly endpoint: Endpoint;
  private readonly wire: Wire;
  private readonly where: string;
  /** Said after the address when the port was docker's default, not given: "no port given, so 2375 was tried". */
  private readonly portNote: string = '';

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    const url = new URL(endpoint.host);
    let connect: Connector;
    if (url.protocol === 'unix:') {
      const socketPath = decodeURIComponent(url.pathname);
      this.where = socketPath;
      connect = async () => net.connect(socketPath);
    } else if (url.protocol === 'tcp:') {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const tlsFiles = endpoint.tls;
      // docker's default ports: 2376 for TLS, 2375 for plain TCP
      const port = Number(url.port || (tlsFiles ? 2376 : 2375));
      this.where = `${url.hostname}:${port}`;
      if (!url.port) this.portNote = `; no port in ${endpoint.host}, so docker's default ${port}${tlsFiles ? ' for TLS' : ''} was tried`;
      if (tlsFiles) {
        connect = async () => {
          // node:tls is loaded only for TLS engines.
          const tls = await import('node:tls');
          return tls.connect({
            host,
            port,
            // without a ca.pem, Node's own trust store, which NODE_EXTRA_CA_CERTS extends
            ca: tlsFiles.ca,
            cert: tlsFiles.cert,
            key: tlsFiles.key,
            rejectUnauthorized: tlsFiles.verify,
            ...(net.isIP(host) ? {} : { servername: host }),
          });
        };
      } else {
        connect = async () => net.connect(port, host);
      }
    } else if (url.protocol === 'ssh:') {
      this.where = `ssh ${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}`;
      // Each connection is its own `docker system dial-stdio`, like the docker CLI's; wire.ts keeps them alive.
      connect = () => sshDuplex(url);
    } else {
      throw new EngineUnavailable(`Unsupported engine address ${endpoint.host}.`);
    }
    this.wire = new Wire(connect);
  }

  private explainConnectError(err: NodeJS.ErrnoException): PortholeError {
    const how = `(reached through ${this.endpoint.via}${this.portNote})`;
    const tls = this.explainTlsError(err, how);
    if (tls) return tls;
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
      case 'ETIMEDOUT':
        return new EngineUnavailable(`The engine at ${this.where} did not answer in time ${how}.`, 'Check that the engine is running and not overloaded.');
      case 'ESSH': {
        const url = new URL(this.endpoint.host);
        const login = `${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.hostname}`;
        return new EngineUnavailable(
          `Could not reach the engine over ${this.where} (reached through ${this.endpoint.via}): ${err.message}.`,
          `Check that \`ssh ${url.port ? `-p ${url.port} ` : ''}${login} docker version\` works.`,
        );
      }
      default:
        return new EngineUnavailable(`Could not reach the engine at ${this.where} ${how}: ${err.message}.`);
    }
  }

  /** A TLS handshake that failed, or TLS spoken to a plain engine: a sentence that names the TLS settings in force. */
  private explainTlsError(err: NodeJS.ErrnoException, how: string): PortholeError | undefined {
    const tls = this.endpoint.tls;
    if (!tls || !this.endpoint.host.startsWith('tcp:')) return undefined;
    const settings = `TLS settings: ${tls.described ?? (tls.verify ? 'verify the engine' : 'no verification')}`;
    const text = `${err.code ?? ''} ${err.message}`;
    if (/wrong version number|packet length too long|unknown protocol|http request/i.test(text)) {
      return new EngineUnavailable(
        `The engine at ${this.where} does not speak TLS, but porthole was told to use it ${how}; ${settings}.`,
        'Leave out --tls/--tlsverify (and unset DOCKER_TLS_VERIFY, DOCKER_TLS), or point -H at the engine\'s TLS port (2376).',
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME|certificate/i.test(text)) {
      const certificateRequired = /certificate required|alert bad certificate|alert unknown ca|handshake failure/i.test(text);
      return new EngineUnavailable(
        certificateRequired
          ? `The engine at ${this.where} refused porthole's TLS client certificate (${err.message.replace(/\.$/, '')}) ${how}; ${settings}.`
          : `The engine at ${this.where} failed TLS verification (${err.message.replace(/\.$/, '')}) ${how}; ${settings}.`,
        certificateRequired
          ? 'Give the client certificate the engine trusts with --tlscert and --tlskey (or cert.pem and key.pem in DOCKER_CERT_PATH).'
          : 'Give the CA that signed the engine\'s certificate with --tlscacert (or ca.pem in DOCKER_CERT_PATH), or use --tls without --tlsverify to skip verification.',
      );
    }
    if ((err.code === 'ECONNRESET' || err.code === 'EPIPE') && !(tls.cert && tls.key)) {
      return new EngineUnavailable(
        `The engine at ${this.where} closed the TLS connection ${how}, as an engine that wants a client certificate does; ${settings}.`,
        'Give the client certificate the engine trusts with --tlscert and --tlskey (or cert.pem and key.pem in DOCKER_CERT_PATH).',
      );
    }
    return undefined;
  }

  /** The engine's 400 to plain HTTP on its TLS port: a sentence that names the TLS settings, exit 5. */
  private plainHttpToTls(status: number, text: Buffer): PortholeError | undefined {
    if (status !== 400 || this.endpoint.tls || !/Client sent an HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i.test(text.toString('utf8'))) return undefined;
    return new EngineUnavailable(
      `The engine at ${this.where} speaks TLS (HTTPS), and porthole spoke plain HTTP to it (reached through ${this.endpoint.via}${this.portNote}; TLS is off: no --tls, --tlsverify, DOCKER_TLS or DOCKER_TLS_VERIFY).`,
      'Add --tlsverify with --tlscacert, --tlscert and --tlskey (or DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH holding ca.pem, cert.pem, key.pem), or --tls to skip verifying the engine.',
    );
  }

  private buildPath(path: string, query?: RequestOptions['query']): string {
    if (!query) return path;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
  }

  /** One exchange on the wire; a connection that fails becomes a sentence about this engine. */
  private send(req: WireRequest & { upgrade: true }): Promise<Upgraded | WireResponse>;
  private send(req: WireRequest): Promise<WireResponse>;
  private async send(req: WireRequest): Promise<WireResponse | Upgraded> {
    try {
      return await this.wire.request(req);
    } catch (err) {
      throw err instanceof PortholeError ? err : this.explainConnectError(err as NodeJS.ErrnoException);
    }
  }

  /** Sends a request and resolves with the response once its head arrives; error statuses become errors. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<WireResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body)) body = opts.body;
      else if (typeof (opts.body as Readable).pipe === 'function') body = opts.body as Readable;
      else {
        body = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
    }
    const res = await this.send({ method, path: this.buildPath(path, opts.query), headers, body, timeoutMs: opts.timeoutMs });
    const status = res.statusCode;
    if (status < 400 || opts.okStatus?.includes(status)) return res;
    const text = await readBody(res);
    const plain = this.plainHttpToTls(status, text);
    if (plain) throw plain;
    // A body already streamed cannot be sent again; the version is forgotten all the same, for the next run.
    const retry = await this.retryPath(method, status, text, path);
    if (retry && isReplayable(body)) return this.request(method, retry, opts);
    throw engineErrorFor(status, text, method, path);
  }

  /**
   * Set while requests carry a version remembered from an earlier run: called when the engine refuses it, gives
   * the version to send instead (once).
   */
  onStaleVersion: (() => Promise<string>) | undefined;

  /**
   * The path to send again when the engine refused the remembered version, with the one it takes. The answer to
   * a HEAD has no text to say why: a bare 400 there is taken for the same refusal (at worst one ping too many).
   */
  private async retryPath(method: string, status: number, text: Buffer, path: string): Promise<string | undefined> {
    if (status !== 400 || !this.onStaleVersion) return undefined;
    if (!(method === 'HEAD' && !text.length) && !/client version [\d.]+ is too (new|old)/i.test(text.toString('utf8'))) return undefined;
    const retry = path.replace(/^\/v\d+\.\d+\//, `/v${await this.onStaleVersion()}/`);
    return retry === path ? undefined : retry;
  }

  async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const body = await readBody(res);
    if (!body.length) return undefined as T;
    return JSON.parse(body.toString('utf8')) as T;
  }

  /** Sends a request that the engine answers by handing over the raw connection (exec start, attach). */
  async hijack(method: string, path: string, body: unknown, query?: RequestOptions['query']): Promise<{ socket: Duplex; head: Buffer }> {
    // Attach takes no body: bytes sent after its head would reach the container's stdin once it is hijacked.
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const answer = await this.send({
      method,
      path: this.buildPath(path, query),
      headers: payload ? { 'Content-Type': 'application/json' } : {},
      body: payload,
      upgrade: true,
    });
    if ('socket' in answer) return { socket: answer.socket, head: answer.head };
    const res = answer as WireResponse;
    const text = await readBody(res);
    const plain = this.plainHttpToTls(res.statusCode, text);
    if (plain) throw plain;
    const retry = await this.retryPath(method, res.statusCode, text, path);
    if (retry) return this.hijack(method, retry, body, query);
    if (res.statusCode >= 400) throw engineErrorFor(res.statusCode, text, method, path);
    throw new EngineError(res.statusCode, `The engine did not hand over the connection for ${method} ${path} (answered ${res.statusCode}).`);
  }

  /** Frees idle connections so the process can end. */
  close(): void {
    this.wire.close();
  }
}

export function readBody(res: Readable, limit = 64 * 1024 * 1024): Promise<Buffer> {
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
