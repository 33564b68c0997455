// The raw HTTP reader used for archive streams (src/engine/docker/raw-get.ts), against a fake engine on a unix
// socket: chunked bodies split at every awkward place, sized bodies, error statuses, and a connection cut mid-body.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rawGet } from '../../src/engine/docker/raw-get.js';
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

const explain = (err: NodeJS.ErrnoException) => err;

test('a chunked body is decoded exactly, whatever the socket splits', async () => {
  const parts = [Buffer.alloc(32768, 1), Buffer.from('\r\n0\r\n'), Buffer.alloc(70000, 2), Buffer.from('x')];
  const expected = Buffer.concat(parts);
  const head = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Docker-Container-Path-Stat: abc\r\n\r\n');
  for (const piece of [1, 2, 3, 7, 511, 4096, 1 << 20]) {
    const engine = await fakeEngine(Buffer.concat([head, chunked(parts)]), piece);
    const res = await rawGet({ socketPath: engine.path }, '/v1.41/containers/c/archive?path=%2Fx', explain);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-docker-container-path-stat'], 'abc');
    assert.ok((await readAll(res.body)).equals(expected), `piece ${piece}`);
    assert.equal(engine.requests[0], 'GET /v1.41/containers/c/archive?path=%2Fx HTTP/1.1');
    engine.close();
  }
});

test('a sized body ends at Content-Length; a body cut short is an error, not a quiet end', async () => {
  const sized = await fakeEngine(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'), 3);
  const res = await rawGet({ socketPath: sized.path }, '/x', explain);
  assert.equal((await readAll(res.body)).toString(), 'hello');
  sized.close();
  const head = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
  const cut = await fakeEngine(Buffer.concat([head, Buffer.from('8000\r\n'), Buffer.alloc(1000)]), 100, { cut: true });
  const res2 = await rawGet({ socketPath: cut.path }, '/x', explain);
  await assert.rejects(readAll(res2.body), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
  cut.close();
});

test('Transport.streamGet turns error statuses into porthole errors and refuses nothing else', async () => {
  const body = JSON.stringify({ message: 'Could not find the file /nope in container c' });
  const engine = await fakeEngine(Buffer.from(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`), 10);
  const transport = new Transport({ host: `unix://${engine.path}`, via: 'test', skipped: [] } as never);
  await assert.rejects(transport.streamGet('/v1.41/containers/c/archive', { path: '/nope' }), (err: Error) => err instanceof NotFound && /Could not find the file \/nope/.test(err.message));
  assert.equal(engine.requests[0], 'GET /v1.41/containers/c/archive?path=%2Fnope HTTP/1.1');
  transport.close();
  engine.close();
});
