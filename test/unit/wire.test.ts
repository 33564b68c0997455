// The HTTP/1.1 client every engine request goes through (src/engine/docker/wire.ts), against a fake engine on a
// unix socket: chunked bodies split at every awkward place, sized bodies, error statuses, a connection cut
// mid-body, HEAD, keep-alive reuse, upgrades, and streamed request bodies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { once } from 'node:events';
import { Wire } from '../../src/engine/docker/wire.js';
import { Transport } from '../../src/engine/docker/transport.js';
import { NotFound } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-rawget-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A one-shot server that answers every connection with `answer`, written in pieces of `piece` bytes. */
async function fakeEngine(answer: Buffer, piece: number, { cut = false } = {}): Promise<{ path: string; requests: string[]; close(): void }> {
  const path = join(dir, `e${n++}.sock`);
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    socket.once('data', async (d) => {
      requests.push(d.toString('latin1').split('\r\n')[0]!);
      for (let i = 0; i < answer.length; i += piece) {
        socket.write(answer.subarray(i, i + piece));
        await new Promise((r) => setImmediate(r));
      }
      if (cut) socket.destroy();
      else socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, requests, close: () => server.close() };
}

function chunked(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) out.push(Buffer.from(`${p.length.toString(16)};ext=1\r\n`), p, Buffer.from('\r\n'));
  out.push(Buffer.from('0\r\nX-Trailer: y\r\n\r\n'));
  return Buffer.concat(out);
}

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const get = (socketPath: string, path: string) => new Wire(async () => net.connect(socketPath)).request({ method: 'GET', path });

test('a chunked body is decoded exactly, whatever the socket splits', async () => {
  const parts = [Buffer.alloc(32768, 1), Buffer.from('\r\n0\r\n'), Buffer.alloc(70000, 2), Buffer.from('x')];
  const expected = Buffer.concat(parts);
  const head = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Docker-Container-Path-Stat: abc\r\n\r\n');
  for (const piece of [1, 2, 3, 7, 511, 4096, 1 << 20]) {
    const engine = await fakeEngine(Buffer.concat([head, chunked(parts)]), piece);
    const res = await get(engine.path, '/v1.41/containers/c/archive?path=%2Fx');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-docker-container-path-stat'], 'abc');
    assert.ok((await readAll(res)).equals(expected), `piece ${piece}`);
    assert.equal(engine.requests[0], 'GET /v1.41/containers/c/archive?path=%2Fx HTTP/1.1');
    engine.close();
  }
});

test('a sized body ends at Content-Length; a body cut short is an error, not a quiet end', async () => {
  const sized = await fakeEngine(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'), 3);
  const res = await get(sized.path, '/x');
  assert.equal((await readAll(res)).toString(), 'hello');
  sized.close();
  const head = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
  const cut = await fakeEngine(Buffer.concat([head, Buffer.from('8000\r\n'), Buffer.alloc(1000)]), 100, { cut: true });
  const res2 = await get(cut.path, '/x');
  await assert.rejects(readAll(res2), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
  cut.close();
});

test('Transport turns error statuses into porthole errors', async () => {
  const body = JSON.stringify({ message: 'Could not find the file /nope in container c' });
  const engine = await fakeEngine(Buffer.from(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`), 10);
  const transport = new Transport({ host: `unix://${engine.path}`, via: 'test', skipped: [] } as never);
  await assert.rejects(transport.request('GET', '/v1.41/containers/c/archive', { query: { path: '/nope' } }), (err: Error) => err instanceof NotFound && /Could not find the file \/nope/.test(err.message));
  assert.equal(engine.requests[0], 'GET /v1.41/containers/c/archive?path=%2Fnope HTTP/1.1');
  transport.close();
  engine.close();
});

/** A server that keeps connections open and answers each request on them with `answer(requestHead, body)`. */
async function keepAliveEngine(answer: (head: string, body: Buffer) => Buffer | string): Promise<{ path: string; connections: number; requests: string[]; close(): void }> {
  const path = join(dir, `k${n++}.sock`);
  const state = { path, connections: 0, requests: [] as string[], close: () => server.close() };
  const server = net.createServer((socket) => {
    state.connections++;
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        let rest = buf.subarray(end + 4);
        let body = Buffer.alloc(0);
        const len = /content-length: (\d+)/i.exec(head);
        if (/transfer-encoding: chunked/i.test(head)) {
          const last = rest.indexOf('0\r\n\r\n');
          if (last < 0) return;
          const parts: Buffer[] = [];
          let pos = 0;
          while (pos < last) {
            const nl = rest.indexOf('\r\n', pos);
            const size = parseInt(rest.toString('latin1', pos, nl), 16);
            parts.push(rest.subarray(nl + 2, nl + 2 + size));
            pos = nl + 2 + size + 2;
          }
          body = Buffer.concat(parts);
          rest = rest.subarray(last + 5);
        } else if (len) {
          if (rest.length < Number(len[1])) return;
          body = rest.subarray(0, Number(len[1]));
          rest = rest.subarray(Number(len[1]));
        }
        buf = rest;
        state.requests.push(head.split('\r\n')[0]!);
        socket.write(answer(head, body));
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return state;
}

test('keep-alive: requests reuse one connection; HEAD has no body even with a Content-Length', async () => {
  const engine = await keepAliveEngine((head) =>
    head.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nX-Stat: s\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  );
  const wire = new Wire(async () => net.connect(engine.path));
  for (let i = 0; i < 3; i++) assert.equal((await readAll(await wire.request({ method: 'GET', path: `/r${i}` }))).toString(), 'ok');
  const head = await wire.request({ method: 'HEAD', path: '/h' });
  assert.equal(head.headers['x-stat'], 's');
  assert.equal((await readAll(head)).length, 0);
  assert.equal((await readAll(await wire.request({ method: 'GET', path: '/after-head' }))).toString(), 'ok');
  assert.equal(engine.connections, 1);
  assert.deepEqual(engine.requests, ['GET /r0 HTTP/1.1', 'GET /r1 HTTP/1.1', 'GET /r2 HTTP/1.1', 'HEAD /h HTTP/1.1', 'GET /after-head HTTP/1.1']);
  wire.close();
  engine.close();
});

test('a streamed request body goes out chunked and arrives whole', async () => {
  const engine = await keepAliveEngine((_head, body) => `HTTP/1.1 200 OK\r\nContent-Length: ${String(body.length).length}\r\n\r\n${body.length}`);
  const wire = new Wire(async () => net.connect(engine.path));
  const { Readable } = await import('node:stream');
  const payload = Readable.from([Buffer.alloc(100000, 7), Buffer.alloc(0), Buffer.from('end')]);
  const res = await wire.request({ method: 'PUT', path: '/archive', body: payload });
  assert.equal((await readAll(res)).toString(), '100003');
  wire.close();
  engine.close();
});

test('101 Switching Protocols hands over the socket with the bytes that came with the head', async () => {
  const path = join(dir, `u${n++}.sock`);
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst');
      socket.on('data', (d) => socket.write(`echo:${d}`));
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const wire = new Wire(async () => net.connect(path));
  const up = await wire.request({ method: 'POST', path: '/exec/x/start', body: Buffer.from('{}'), upgrade: true });
  assert.equal(up.statusCode, 101);
  assert.equal(up.head.toString(), 'first');
  up.socket.write('hi');
  const [echo] = (await once(up.socket, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'echo:hi');
  up.socket.destroy();
  server.close();
});
