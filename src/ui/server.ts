// The `porthole ui` server: Node's own http, bound to loopback, every request checked (Host, Origin, token) before
// it reaches a route, every route a read through a command module (src/ui/data.ts). It lives as long as the
// command: Ctrl-C or SIGTERM closes it, ends every stream it opened, and runs what those created to clean up.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { findCommand } from '../commands/registry.js';
import { parseCommand } from '../cli/args.js';
import { Failure, InvalidArgument, NotFound, PortholeError } from '../errors.js';
import { redactRendered } from '../report/findings.js';
import { renderJson } from '../render/json.js';
import { Collector, containerPath, containerRef, containerRows, portholeCommand, runCommand, shellCommand } from './data.js';
import type { UiOptions } from './options.js';
import { figuresStream } from './figures.js';
import { whyMarkdown } from './markdown.js';
import { podRef, PodSource, splitNamespace } from './pods.js';
import { listServiceRows, serviceRef } from './services.js';
import type { TerminalSession } from './terminal.js';
import { changes, contentHash, downloadFolder, parseSaveRequest, processesStream, saveFile, sendAttachment, statsStream } from './views.js';
import { SECURITY_HEADERS, TOKEN_PARAM, newNonce, pageHeaders, allowedHosts, cookieName, hostAllowed, newToken, originAllowed, readCookie, tokenMatches } from './security.js';

declare const PORTHOLE_VERSION: string;

/** The page's own files, read once from the package (dist/ui/): nothing comes from another origin. */
const ASSETS: Record<string, string> = {
  '/assets/app.js': 'text/javascript; charset=utf-8',
  '/assets/app.css': 'text/css; charset=utf-8',
  // the Terminal tab's xterm.js 6 and its stylesheet, copied from the package at build time, loaded by that tab only
  '/assets/xterm.js': 'text/javascript; charset=utf-8',
  '/assets/xterm.css': 'text/css; charset=utf-8',
  '/assets/addon-fit.js': 'text/javascript; charset=utf-8',
};
const FILE_VIEW_LIMIT = 1024 * 1024;
const LISTING_LIMIT = 64 * 1024 * 1024;
/** A saved file's JSON: 1 MB of text, escaped, fits. */
const SAVE_BODY_LIMIT = 8 * 1024 * 1024;

function assetFolder(): string {
  // bundled: dist/porthole-app.cjs, assets in dist/ui/; PORTHOLE_UI_ASSETS lets a source run point elsewhere
  return process.env.PORTHOLE_UI_ASSETS ?? join(__dirname, 'ui');
}

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = assetFolder();
  const assets = new Map<string, { type: string; body: Buffer }>();
  assets.set('/', { type: 'text/html; charset=utf-8', body: readFileSync(join(dir, 'index.html')) });
  for (const [path, type] of Object.entries(ASSETS)) assets.set(path, { type, body: readFileSync(join(dir, path.slice('/assets/'.length))) });
  return assets;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof NotFound ? 404 : err instanceof InvalidArgument ? 400 : 500;
  const message = err instanceof PortholeError ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: message });
}

export async function serveUi(ctx: Context, opts: UiOptions): Promise<void> {
  // Connect before printing the URL: an engine that cannot be reached is this command's error, not a blank page.
  const engine = await ctx.engine();
  await engine.apiVersion();
  const assets = loadAssets();
  const token = newToken();
  let tokenUsed = false;
  let port = opts.port;
  let allowed = allowedHosts(port, opts.exposedHost);
  const live = new Set<AbortController>();
  const pods = new PodSource(ctx);
  /** A container name or id, or pod/NAME (checked by the CLI's own parseTarget): nothing else reaches a command. */
  const targetRef = (value: string): string => (value.startsWith('pod/') ? podRef(value) : value.startsWith('service/') ? serviceRef(value) : containerRef(value));
  /**
   * What a page's name means: the ref, and the context its commands run in. NS/pod/NAME (the list of every
   * namespace, `ui -A`) is pod/NAME with --namespace NS, as the CLI's own flag gives it.
   */
  const uiTarget = (value: string): { ref: string; ctx: Context } => {
    const named = splitNamespace(value);
    if (named) return { ref: podRef(named.ref), ctx: { ...ctx, kube: { ...ctx.kube, namespace: named.namespace } } };
    return { ref: targetRef(value), ctx };
  };

  /** The checks every request and upgrade passes; returns the refusal, or undefined to go on. */
  const refuse = (req: IncomingMessage, url: URL): { status: number; message: string } | undefined => {
    if (!hostAllowed(req.headers.host, allowed)) return { status: 403, message: 'This server answers only to 127.0.0.1, localhost or [::1] at its own port.' };
    const write = req.method !== 'GET' || req.headers.upgrade !== undefined;
    if (write && !originAllowed(req.headers.origin, allowed)) return { status: 403, message: 'Requests that are not plain reads must come from this page.' };
    if (url.searchParams.has(TOKEN_PARAM)) return undefined; // handled by the exchange below
    const cookie = readCookie(req.headers.cookie, cookieName(port));
    if (cookie === undefined) return { status: 401, message: 'Open the URL porthole ui printed (with its token).' };
    if (!tokenMatches(cookie, token)) return { status: 403, message: 'That cookie is not this run\'s: open the URL porthole ui printed.' };
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'Bad request.\n');
      return;
    }
    const refusal = refuse(req, url);
    if (refusal) {
      send(res, refusal.status, 'text/plain; charset=utf-8', `${refusal.message}\n`);
      return;
    }
    if (url.searchParams.has(TOKEN_PARAM)) {
      // The token is good once, in the URL printed; after that only the cookie it was swapped for counts.
      const presented = url.searchParams.get(TOKEN_PARAM) ?? undefined;
      if (tokenUsed || req.method !== 'GET' || !tokenMatches(presented, token)) {
        send(res, 403, 'text/plain; charset=utf-8', tokenUsed ? 'This token was already used: it works once.\n' : 'Wrong token.\n');
        return;
      }
      tokenUsed = true;
      url.searchParams.delete(TOKEN_PARAM);
      send(res, 303, 'text/plain; charset=utf-8', 'See Other\n', {
        // one leading slash: `/.//evil.test` has the pathname `//evil.test`, which a browser would follow off-site
        Location: `${url.pathname.replace(/^\/+/, '/')}${url.search}`,
        'Set-Cookie': `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return;
    }
    if (req.method === 'POST' && /^\/api\/c\/[^/]+\/save$/.test(url.pathname)) return await save(req, url, res);
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'Only GET is served here.\n', { Allow: 'GET' });
      return;
    }
    const asset = assets.get(url.pathname) ?? (url.pathname.startsWith('/c/') ? assets.get('/') : undefined);
    if (asset?.type.startsWith('text/html')) {
      // the page carries a fresh style nonce, in its policy and in a meta element the page's script reads
      const nonce = newNonce();
      send(res, 200, asset.type, asset.body.toString('utf8').replace('__STYLE_NONCE__', nonce), pageHeaders(nonce));
      return;
    }
    if (asset) {
      send(res, 200, asset.type, asset.body);
      return;
    }
    if (url.pathname === '/api/info') {
      sendJson(res, 200, { version: typeof PORTHOLE_VERSION === 'string' ? PORTHOLE_VERSION : 'dev', readOnly: opts.readOnly, terminal: !opts.readOnly });
      return;
    }
    if (url.pathname === '/api/pods') {
      // no cluster (no kubeconfig, unreachable, forbidden) is an empty answer: the page then shows nothing of it
      const found = await pods.rows(opts.allNamespaces);
      const scope = found?.namespace === null ? ['-A'] : ['-n', found?.namespace ?? ''];
      sendJson(res, 200, found ? { ...found, command: shellCommand(['kubectl', 'get', 'pods', ...scope]) } : { pods: [] });
      return;
    }
    if (url.pathname === '/api/services') {
      const services = await listServiceRows(engine);
      sendJson(res, 200, services.length ? { services, command: 'docker service ls' } : { services: [] });
      return;
    }
    if (url.pathname === '/api/containers') {
      const rows = containerRows(await engine.listContainers({ all: true }));
      sendJson(res, 200, { containers: rows, command: 'docker ps -a' });
      return;
    }
    if (url.pathname === '/api/containers/figures') {
      // the list's restart counts and CPU/memory sparklines, asked for after the list is drawn
      const abort = new AbortController();
      live.add(abort);
      res.on('close', () => abort.abort());
      try {
        return await figuresStream(ctx, res, abort.signal);
      } finally {
        live.delete(abort);
      }
    }
    const m = /^\/api\/c\/([^/]+)\/(why|ls|file|download|logs|ps|stats|changes|tar)$/.exec(url.pathname);
    if (!m) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found.\n');
      return;
    }
    let ref: string;
    let on: Context;
    try {
      ({ ref, ctx: on } = uiTarget(decodeURIComponent(m[1]!)));
    } catch {
      sendJson(res, 400, { error: 'That is not a container name or id.' });
      return;
    }
    // a service has why, logs and ps as on the command line; nothing that reads or writes a container's files
    if (ref.startsWith('service/') && !['why', 'logs', 'ps'].includes(m[2]!)) {
      sendJson(res, 400, { error: 'A service has Why, Logs and Processes here.' });
      return;
    }
    const abort = new AbortController();
    live.add(abort);
    res.on('close', () => abort.abort());
    try {
      switch (m[2]) {
        case 'why':
          return await why(on, ref, res, abort.signal);
        case 'ls':
          return await listFolder(on, ref, containerPath(url.searchParams.get('path')), res, abort.signal);
        case 'file':
          return await viewFile(on, ref, containerPath(url.searchParams.get('path')), res, abort.signal);
        case 'download':
          return await download(on, ref, containerPath(url.searchParams.get('path')), res, abort.signal);
        case 'logs':
          return await logs(on, ref, url.searchParams, res, abort.signal);
        case 'ps':
          return await processesStream(on, ref, res, abort.signal);
        case 'stats':
          return await statsStream(on, ref, res, abort.signal);
        case 'changes':
          return sendJson(res, 200, await changes(on, ref, abort.signal));
        case 'tar':
          return await downloadFolder(on, ref, containerPath(url.searchParams.get('path')), res, abort.signal);
      }
    } finally {
      live.delete(abort);
    }
  };

  /** POST /api/c/NAME/save?path=P: the only write. Origin was checked with the rest; JSON only; never in --read-only. */
  const save = async (req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> => {
    if (opts.readOnly) return sendJson(res, 403, { error: 'This server is read-only (--read-only): nothing is written.' });
    if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { error: 'Send JSON.' });
    let ref: string;
    let path: string;
    try {
      ref = containerRef(decodeURIComponent(url.pathname.split('/')[3]!));
      path = containerPath(url.searchParams.get('path'));
    } catch (err) {
      return sendError(res, err);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > SAVE_BODY_LIMIT) return sendJson(res, 413, { error: 'The page edits files up to 1 MB.' });
      chunks.push(chunk);
    }
    const abort = new AbortController();
    live.add(abort);
    try {
      sendJson(res, 200, await saveFile(ctx, ref, path, parseSaveRequest(Buffer.concat(chunks)), abort.signal));
    } finally {
      live.delete(abort);
    }
  };

  const why = async (ctx: Context, ref: string, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const mod = await findCommand('why')!.load();
    const sink = new Collector(0);
    const result = await runCommand(ctx, 'why', [ref], { stdout: sink, signal });
    const fakeCtx = { ...ctx, stdout: sink } as Context;
    const text = mod.render!(result, parseCommand(mod.spec, [ref]), fakeCtx);
    // secrets masked in the text are masked in the data too (as `why --json` does)
    const report = JSON.parse(redactRendered(result as never, renderJson(result)));
    const command = portholeCommand(ctx, ref, ['why', ref]);
    // the tab's headline and the Markdown its copy button copies, both from this same report
    const headline: string = report.happened?.meaning || report.happened?.state || '';
    const markdown = whyMarkdown({ ref, headline, text, command, points: Array.isArray(report.points) ? report.points : [] });
    sendJson(res, 200, { report, text, headline, markdown, command });
  };

  const listFolder = async (ctx: Context, ref: string, path: string, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const out = new Collector(LISTING_LIMIT);
    await runCommand(ctx, 'ls', ['-la', '--json', ref, path], { stdout: out, signal });
    const entries = JSON.parse(out.buffer().toString('utf8') || '[]');
    sendJson(res, 200, { path, entries, command: portholeCommand(ctx, ref, ['ls', '-la', ref, path]) });
  };

  const viewFile = async (ctx: Context, ref: string, path: string, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const out = new Collector(FILE_VIEW_LIMIT);
    try {
      await runCommand(ctx, 'cat', [ref, path], { stdout: out, signal });
    } catch (err) {
      if (!out.truncated) throw err;
    }
    const bytes = out.buffer();
    const binary = bytes.includes(0);
    sendJson(res, 200, {
      path,
      size: bytes.length,
      truncated: out.truncated,
      binary,
      text: binary ? null : bytes.toString('utf8'),
      // what the page sends back with an edit, so a file changed meanwhile is never overwritten
      hash: out.truncated || binary ? null : contentHash(bytes),
      command: portholeCommand(ctx, ref, ['cat', ref, path]),
    });
  };

  // a file as it is (`porthole cat NAME PATH`)
  const download = (ctx: Context, ref: string, path: string, res: ServerResponse, signal: AbortSignal): Promise<void> =>
    sendAttachment(ctx, 'cat', [ref, path], path.split('/').pop() || 'file', 'application/octet-stream', res, signal);

  const logs = async (ctx: Context, ref: string, params: URLSearchParams, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    // jump to time: everything since then (the logs command reads the time: 10m, an ISO time, unix seconds), else the last lines
    const since = params.get('since')?.trim();
    const args = ['--follow', since ? `--since=${since}` : `--tail=${/^\d{1,6}$/.test(params.get('tail') ?? '') ? params.get('tail') : '200'}`];
    const grep = params.get('grep');
    if (grep) args.push(`--grep=${grep}`);
    args.push(ref);
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
      res.write(`event: command\ndata: ${JSON.stringify(portholeCommand(ctx, ref, ['logs', '-f', ...args.slice(1)]))}\n\n`);
    };
    const lines = (event: 'out' | 'err') => {
      let pending = '';
      return new Writable({
        decodeStrings: true,
        write(chunk: Buffer, _enc, cb) {
          open();
          const text = pending + chunk.toString('utf8');
          const parts = text.split('\n');
          pending = parts.pop()!;
          let frame = '';
          for (const line of parts) frame += `event: ${event}\ndata: ${JSON.stringify(line)}\n\n`;
          // the engine waits while the browser is slow: memory here stays bounded whatever the container prints
          if (!frame || res.write(frame)) cb();
          else res.once('drain', () => cb());
        },
      });
    };
    const heartbeat = setInterval(() => {
      if (opened) res.write(': keep-alive\n\n');
    }, 15_000);
    try {
      open();
      await runCommand(ctx, 'logs', args, { stdout: lines('out'), stderr: lines('err'), signal });
      // a bad pattern or an unknown container arrives as a `failed` event with the command's own sentence
      if (!signal.aborted) res.end('event: end\ndata: "the container stopped"\n\n');
    } catch (err) {
      if (signal.aborted) return;
      const message = err instanceof PortholeError ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : (err as Error).message;
      res.end(`event: failed\ndata: ${JSON.stringify(message)}\n\n`);
    } finally {
      clearInterval(heartbeat);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => sendError(res, err));
  };
  const sessions = new Set<TerminalSession>();
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      socket.destroy();
      return;
    }
    // destroyed once written: a socket taken over by 'upgrade' is not the http server's to close at the end
    socket.on('error', () => undefined);
    const answer = (status: number, message: string) =>
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : status === 400 ? 'Bad Request' : 'Forbidden'}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`, () => socket.destroy());
    // the same checks as every request (Host, Origin, cookie; the token never opens a socket), before anything else
    const refusal = refuse(req, url) ?? (url.searchParams.has(TOKEN_PARAM) ? { status: 403, message: 'The token is not accepted here.' } : undefined);
    if (refusal) return answer(refusal.status, refusal.message);
    if (url.pathname !== '/ws/terminal') return answer(404, 'Not found.');
    if (opts.readOnly) return answer(403, 'This server is read-only (--read-only): no terminal.');
    let ref: string;
    let on: Context;
    try {
      ({ ref, ctx: on } = uiTarget(url.searchParams.get('c') ?? ''));
      if (ref.startsWith('service/')) throw new InvalidArgument('A service has no terminal here.');
    } catch {
      return answer(400, 'That is not a container name or id.');
    }
    void import('./terminal.js').then(({ upgradeToTerminal, initialSize }) =>
      upgradeToTerminal(
        on,
        req,
        socket,
        head,
        ref,
        initialSize(url.searchParams),
        (session) => {
          sessions.add(session);
          void session.done.then(() => sessions.delete(session));
        },
        ref.startsWith('pod/') ? () => pods.execOnly(ref, on.kube?.namespace) : undefined,
      ),
    );
  };

  const servers: Server[] = [];
  const listen = (host: string, wanted: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(onRequest);
      server.on('upgrade', onUpgrade);
      server.once('error', reject);
      server.listen({ host, port: wanted, exclusive: true }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  try {
    servers.push(await listen(opts.hosts[0]!, port));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Failure(`Port ${port} is taken.`, 'Choose another with --port, or leave it out.');
    if (code === 'EADDRNOTAVAIL') throw new InvalidArgument(`${opts.hosts[0]} is not an address of this machine.`);
    throw err;
  }
  port = (servers[0]!.address() as AddressInfo).port;
  allowed = allowedHosts(port, opts.exposedHost);
  for (const host of opts.hosts.slice(1)) {
    // ::1 where the machine has IPv6; without it 127.0.0.1 alone is fine
    servers.push(await listen(host, port).catch(() => undefined as never));
  }
  const stop = async () => {
    for (const abort of live) abort.abort();
    // terminal tabs first: their snapshots and sidecars are removed before the server says it is gone
    for (const session of sessions) session.close();
    await Promise.race([Promise.all([...sessions].map((s) => s.done)), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    // every connection is closed at once; the wait for the sockets to report it is bounded, so a peer that never
    // answers cannot keep porthole running after Ctrl-C
    const closed = Promise.all(
      servers.filter(Boolean).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  };
  ctx.cleanup.add('stop the ui server', stop);

  const shown = opts.hosts[0]!.includes(':') ? `[${opts.hosts[0]}]` : opts.hosts[0]!;
  ctx.stdout.write(`porthole ui: http://${shown}:${port}/?${TOKEN_PARAM}=${token}\n`);
  ctx.notice(`porthole ui: serving until Ctrl-C${opts.readOnly ? ' (read-only)' : ''}; open the URL above (its token works once).`);
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  await stop();
  throw ctx.signal.reason;
}
