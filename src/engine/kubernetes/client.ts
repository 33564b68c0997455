// The Kubernetes API over plain node:https (no client library: the API porthole needs is a handful of GETs, and
// @kubernetes/client-node costs far more to load than the requests take). One keep-alive agent per run, so the
// several reads of one report share a TLS connection. Failures become porthole's typed errors, one sentence each.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isAbsolute, join } from 'node:path';
import { AccessDenied, EngineError, EngineUnavailable, NotFound } from '../../errors.js';
import type { KubeAuth, KubeTarget } from './kubeconfig.js';

/** What a request is for, in words for errors: "get pods", "list events". */
export interface Purpose {
  verb: 'get' | 'list' | 'watch' | 'create' | 'delete' | 'patch';
  resource: string;
  namespace?: string;
  name?: string;
}

export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

type RequestFn = typeof import('node:https').request;

export class KubeClient {
  private agent: import('node:https').Agent | import('node:http').Agent | undefined;
  private request: RequestFn | undefined;
  private execAuth: Promise<{ token?: string; cert?: Buffer; key?: Buffer }> | undefined;
  private readonly url: URL;

  constructor(readonly target: KubeTarget) {
    this.url = new URL(target.server);
  }

  /** GET a path as JSON. */
  async get<T>(path: string, purpose: Purpose, timeoutMs?: number): Promise<T> {
    const res = await this.open(path, purpose, undefined, timeoutMs);
    const body = await readAll(res);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new EngineError(res.statusCode ?? 0, `The Kubernetes API at ${this.target.server} answered ${path} with something that is not JSON.`, 'Check that the kubeconfig points at an API server.');
    }
  }

  /** POST or DELETE (or another method) with a JSON body; the answer as JSON. */
  async send<T>(method: 'POST' | 'DELETE' | 'PATCH' | 'PUT', path: string, body: unknown, purpose: Purpose, timeoutMs?: number): Promise<T> {
    const res = await this.open(path, purpose, undefined, timeoutMs, method, body);
    const answer = await readAll(res);
    try {
      return JSON.parse(answer.toString('utf8')) as T;
    } catch {
      return {} as T;
    }
  }

  /** GET a path as a stream (logs); the caller reads or destroys it. */
  async stream(path: string, purpose: Purpose, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.open(path, purpose, signal);
  }

  close(): void {
    this.agent?.destroy();
  }

  /**
   * Runs a command in a container over the exec WebSocket (no stdin) and collects its output, at most `maxBytes`
   * of it, within `timeoutMs`. The same upgrade as an interactive exec (upgrade(): the keep-alive agent, its TLS
   * options and a credential plugin's certificate, the same headers), so `why` and `shell` authenticate alike.
   */
  async exec(namespace: string, pod: string, container: string, command: string[], maxBytes = 256 * 1024, timeoutMs = 10_000): Promise<{ stdout: Buffer; stderr: Buffer; status: Status | null }> {
    const path = execPath({ namespace, pod, container, command, stdin: false, tty: false });
    const { socket, head } = await this.upgrade(path, { verb: 'create', resource: 'pods/exec', namespace, name: pod }, EXEC_PROTOCOLS, timeoutMs);
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let status: Status | null = null;
      let pending: Buffer = Buffer.alloc(0);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), status });
      };
      // A command that never ends (or a server that never closes) is cut off: status stays null, which callers read as unknown.
      const timer = setTimeout(finish, timeoutMs);
      const onData = (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        for (;;) {
          const frame = readFrame(pending);
          if (!frame) break;
          pending = pending.subarray(frame.used);
          if (frame.opcode === 8) return finish();
          if ((frame.opcode === 2 || frame.opcode === 0 || frame.opcode === 1) && frame.payload.length) {
            const channel = frame.payload[0];
            const data = frame.payload.subarray(1);
            if (channel === 1 && size < maxBytes) out.push(data);
            else if (channel === 2 && size < maxBytes) err.push(data);
            else if (channel === 3) {
              try {
                status = JSON.parse(data.toString('utf8')) as Status;
              } catch {
                status = { status: 'Failure', message: data.toString('utf8').trim() };
              }
            }
            size += data.length;
            if (size >= maxBytes) return finish();
          }
        }
      };
      socket.on('data', onData);
      socket.on('end', finish);
      socket.on('close', finish);
      socket.on('error', finish);
      if (head.length) onData(head);
    });
  }

  /**
   * Opens a WebSocket upgrade on `path` (exec, attach), offering `protocols` in order of preference. Resolves with
   * the raw socket, the bytes that came with the answer, and the subprotocol the server chose. A refusal (4xx/5xx
   * instead of 101) becomes porthole's typed error.
   */
  async upgrade(path: string, purpose: Purpose, protocols: string[], timeoutMs = 30_000): Promise<{ socket: import('node:net').Socket; head: Buffer; protocol: string }> {
    await this.setup();
    const headers = await this.headers();
    const { randomBytes } = await import('node:crypto');
    const full = `${this.url.pathname.replace(/\/+$/, '')}${path}`;
    return new Promise((resolve, reject) => {
      const req = this.request!({
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443),
        path: full,
        method: 'GET',
        // The keep-alive agent: the upgrade takes the connection the pod was just read on (no second TLS
        // handshake), and an upgraded socket leaves the agent's pool for good. Its TLS options (and a credential
        // plugin's client certificate) are the agent's.
        agent: this.agent as import('node:https').Agent,
        headers: {
          ...headers,
          accept: '*/*',
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
          'sec-websocket-protocol': protocols.join(', '),
        },
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(this.unreachable(err));
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        readAll(res).then(
          (body) => {
            let status: Status = {};
            try {
              status = JSON.parse(body.toString('utf8')) as Status;
            } catch {
              status = { message: body.toString('utf8').slice(0, 200).trim() };
            }
            reject(this.failure(res.statusCode ?? 0, status, purpose));
          },
          (err: NodeJS.ErrnoException) => reject(this.unreachable(err)),
        );
      });
      req.on('upgrade', (res, socket, head) => {
        clearTimeout(timer);
        const chosen = res.headers['sec-websocket-protocol'];
        resolve({ socket: socket as import('node:net').Socket, head, protocol: Array.isArray(chosen) ? chosen[0] ?? '' : chosen ?? '' });
      });
      req.end();
    });
  }

  private async setup(): Promise<void> {
    if (this.request) return;
    if (this.url.protocol === 'http:') {
      const http = await import('node:http');
      this.agent = new http.Agent({ keepAlive: true });
      this.request = http.request as unknown as RequestFn;
      return;
    }
    const https = await import('node:https');
    const t = this.target;
    let cert = t.auth.clientCert;
    let key = t.auth.clientKey;
    if (t.auth.exec) {
      const got = await this.credential();
      cert = got.cert ?? cert;
      key = got.key ?? key;
    }
    this.agent = new https.Agent({
      keepAlive: true,
      ca: t.ca,
      cert,
      key,
      rejectUnauthorized: !t.insecureSkipTlsVerify,
      servername: t.tlsServerName,
    });
    this.request = https.request;
  }

  private credential() {
    this.execAuth ??= runExecPlugin(this.target.auth);
    return this.execAuth;
  }

  private async headers(): Promise<Record<string, string>> {
    const a = this.target.auth;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'porthole' };
    let token = a.token;
    if (!token && a.tokenFile) {
      try {
        token = readFileSync(a.tokenFile, 'utf8').trim();
      } catch (err) {
        throw new EngineUnavailable(`Cannot read the token file ${a.tokenFile}: ${(err as NodeJS.ErrnoException).code}.`, 'Fix the kubeconfig, or use another --kube-context.');
      }
    }
    if (a.exec) token = (await this.credential()).token ?? token;
    if (token) headers.authorization = `Bearer ${token}`;
    else if (a.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
    return headers;
  }

  private async open(path: string, purpose: Purpose, signal?: AbortSignal, timeoutMs = 30_000, method = 'GET', json?: unknown): Promise<IncomingMessage> {
    await this.setup();
    const headers = await this.headers();
    const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    if (payload) headers['content-type'] = 'application/json';
    const base = this.url.pathname.replace(/\/+$/, '');
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.request!(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443),
          path: base + path,
          method,
          headers,
          agent: this.agent as import('node:https').Agent,
          signal,
        },
        resolve,
      );
      // An idle follow (-f on a quiet pod) is not a dead server: only the wait for the answer's headers times out.
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
      req.on('response', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.unreachable(err)));
      req.end(payload);
    });
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return res;
    const body = await readAll(res).catch(() => Buffer.alloc(0));
    let status: Status = {};
    try {
      status = JSON.parse(body.toString('utf8')) as Status;
    } catch {
      status = { message: body.toString('utf8').slice(0, 200).trim() };
    }
    throw this.failure(code, status, purpose);
  }

  private unreachable(err: NodeJS.ErrnoException): Error {
    if (err.name === 'AbortError') return err;
    if (err instanceof EngineUnavailable) return err;
    const t = this.target;
    const tlsProblem = /certificate|self.signed|SSL|TLS|CERT_/i.test(`${err.code} ${err.message}`);
    return new EngineUnavailable(
      `Cannot reach the Kubernetes cluster "${t.clusterName}" at ${t.server} (context "${t.contextName}"): ${err.code ?? ''}${err.code ? ' ' : ''}${err.message}.`.replace(/\.\.$/, '.'),
      tlsProblem
        ? "The server's certificate is not the one the kubeconfig expects: check certificate-authority(-data) for this cluster."
        : 'Check that the cluster is running and the server address is right (`porthole engine` shows which one is used).',
    );
  }

  private failure(code: number, status: Status, p: Purpose): Error {
    const t = this.target;
    const where = p.namespace ? ` in namespace "${p.namespace}"` : '';
    const what = `${p.resource}${p.name ? ` "${p.name}"` : ''}`;
    if (code === 401) {
      return new AccessDenied(
        `The Kubernetes cluster "${t.clusterName}" does not accept the credentials of user "${t.userName}" (context "${t.contextName}"): Unauthorized.`,
        'Log in again or refresh the token in the kubeconfig (an expired token is the usual cause).',
      );
    }
    if (code === 403 && /violates PodSecurity/.test(status.message ?? '')) {
      // Admission, not RBAC: the namespace's Pod Security level forbids what porthole would add.
      const level = /PodSecurity "([^"]+)"/.exec(status.message ?? '')?.[1] ?? 'its level';
      const why = (status.message ?? '').replace(/^.*violates PodSecurity "[^"]+":\s*/, '');
      return new AccessDenied(
        `The namespace "${p.namespace ?? '?'}" enforces the Pod Security level "${level}", which refuses the ${what.replace(/^pods\/ephemeralcontainers/, 'toolbox container for pod')}: ${why}.`,
        p.resource === 'pods/ephemeralcontainers' ? 'Add --profile restricted (or baseline) for a toolbox that fits that level.' : 'Ask an admin, or use a namespace with a looser level.',
      );
    }
    if (code === 403) {
      const who = /User "([^"]*)"/.exec(status.message ?? '')?.[1] ?? t.userName;
      return new AccessDenied(
        `Kubernetes does not allow user "${who}" to ${p.verb} ${p.resource}${where}.`,
        `Ask a cluster admin for a Role that grants "${p.verb}" on "${p.resource}", or use another --kube-context.`,
      );
    }
    if (code === 404) {
      if (p.name) {
        return new NotFound(`No ${what}${where} (context "${t.contextName}").`, `List them with \`kubectl get ${p.resource.split('/')[0]}${p.namespace ? ` -n ${p.namespace}` : ''}\`, or give another namespace with -n.`);
      }
      return new NotFound(`The Kubernetes API has no ${what}${where}: ${status.message ?? 'not found'}.`, 'Check the namespace and that the cluster serves this kind.');
    }
    return new EngineError(code, `Kubernetes refused to ${p.verb} ${what}${where}: ${status.message ?? `status ${code}`}.`, status.reason === 'BadRequest' ? undefined : 'Run again with --debug for details.');
  }
}

/** The exec subprotocols offered, newest first (v5 can signal the end of stdin; v4 cannot). */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface ExecSpec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  tty: boolean;
}

/** The exec subresource's path and query for a command: the one place both exec ways build it. */
export function execPath(spec: ExecSpec): string {
  const q = new URLSearchParams({ container: spec.container, stdout: 'true' });
  // With a TTY the terminal merges the streams, and the API refuses stderr with tty.
  if (!spec.tty) q.set('stderr', 'true');
  if (spec.stdin) q.set('stdin', 'true');
  if (spec.tty) q.set('tty', 'true');
  for (const word of spec.command) q.append('command', word);
  return `/api/v1/namespaces/${encodeURIComponent(spec.namespace)}/pods/${encodeURIComponent(spec.pod)}/exec?${q}`;
}

/** One WebSocket frame from the server (never masked), or null when more bytes are needed. */
export function readFrame(buf: Buffer): { opcode: number; payload: Buffer; used: number; fin: boolean } | null {
  if (buf.length < 2) return null;
  const opcode = buf[0]! & 0x0f;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (buf[1]! & 0x80) offset += 4;
  if (buf.length < offset + length) return null;
  return { opcode, payload: buf.subarray(offset, offset + length), used: offset + length, fin: (buf[0]! & 0x80) !== 0 };
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** Runs a client.authentication.k8s.io exec plugin, as kubectl does, and takes its token or client certificate. */
export function runExecPlugin(auth: KubeAuth): Promise<{ token?: string; cert?: Buffer; key?: Buffer }> {
  const plugin = auth.exec!;
  const command = plugin.command.includes('/') && !isAbsolute(plugin.command) ? join(plugin.baseDir, plugin.command) : plugin.command;
  const env = { ...process.env };
  for (const e of plugin.env) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: plugin.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  return new Promise((resolve, reject) => {
    execFile(command, plugin.args, { env, timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new EngineUnavailable(
            missing
              ? `The kubeconfig's credential plugin ${plugin.command} is not installed.`
              : `The kubeconfig's credential plugin ${plugin.command} failed: ${String(stderr).trim().split('\n').pop() || err.message}.`,
            plugin.installHint?.trim() || 'Run it by hand to see why, or use another --kube-context.',
          ),
        );
        return;
      }
      try {
        const status = (JSON.parse(stdout) as { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string } }).status ?? {};
        resolve({
          token: status.token,
          cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
          key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
        });
      } catch {
        reject(new EngineUnavailable(`The kubeconfig's credential plugin ${plugin.command} printed something that is not an ExecCredential.`, 'Run it by hand to see why.'));
      }
    });
  });
}
