// `porthole ui` from the tests' side: start the built CLI, read its URL line, make raw HTTP requests and WebSocket
// upgrades with any Host, Origin and Cookie, trade the token for the cookie, stop it with SIGTERM.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { spawnPorthole } from './cli.js';

export interface Ui {
  child: ChildProcess;
  port: number;
  token: string;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

export async function startUi(args: string[] = [], children: ChildProcess[] = []): Promise<Ui> {
  const child = spawnPorthole(['ui', ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL line within 30 s; stderr: ${err}`)), 30000);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`porthole ui exited with ${code}: ${err}`)));
  });
  const m = /^porthole ui: (http:\/\/127\.0\.0\.1:(\d+)\/\?t=([A-Za-z0-9_-]{43}))$/.exec(line);
  assert.ok(m, `first stdout line is the URL: ${line}`);
  return { child, url: m[1]!, port: Number(m[2]), token: m[3]!, stdout: () => out, stderr: () => err };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; host?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { Host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A WebSocket upgrade request; resolves with 101 (socket closed at once) or the refusal's status. */
export function upgrade(port: number, path: string, headers: Record<string, string>, host = `127.0.0.1:${port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      headers: { Host: host, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode!);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Swaps the URL's token for the cookie, as the browser does; returns the Cookie header to send. */
export async function login(ui: Ui): Promise<string> {
  const r = await request(ui.port, `/?t=${ui.token}`);
  assert.equal(r.status, 303);
  return String(r.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
}

export async function stopUi(ui: Ui): Promise<number | null> {
  if (ui.child.exitCode !== null) return ui.child.exitCode;
  const exited = new Promise<number | null>((resolve) => ui.child.on('exit', (code) => resolve(code)));
  ui.child.kill('SIGTERM');
  const timer = setTimeout(() => ui.child.kill('SIGKILL'), 40000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Reads Server-Sent Events from path until `until` says enough (or the timeout); returns them. */
export function readEvents(port: number, path: string, cookie: string, until: (events: { event: string; data: any }[]) => boolean, timeoutMs = 20000): Promise<{ event: string; data: any }[]> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: any }[] = [];
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`timed out; events so far: ${JSON.stringify(events).slice(0, 2000)}`));
    }, timeoutMs);
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Cookie: cookie, Host: `127.0.0.1:${port}` } }, (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buffer += d;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}
