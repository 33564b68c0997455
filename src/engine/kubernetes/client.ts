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
  verb: 'get' | 'list' | 'watch';
  resource: string;
  namespace?: string;
  name?: string;
}

interface Status {
  kind?: string;
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

  /** GET a path as a stream (logs); the caller reads or destroys it. */
  async stream(path: string, purpose: Purpose, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.open(path, purpose, signal);
  }

  close(): void {
    this.agent?.destroy();
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
      const got = await this.exec();
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

  private exec() {
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
    if (a.exec) token = (await this.exec()).token ?? token;
    if (token) headers.authorization = `Bearer ${token}`;
    else if (a.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
    return headers;
  }

  private async open(path: string, purpose: Purpose, signal?: AbortSignal, timeoutMs = 30_000): Promise<IncomingMessage> {
    await this.setup();
    const headers = await this.headers();
    const base = this.url.pathname.replace(/\/+$/, '');
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.request!(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || (this.url.protocol === 'http:' ? 80 : 443),
          path: base + path,
          method: 'GET',
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
      req.end();
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
