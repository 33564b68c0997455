import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RememberedVersion } from '../../src/engine/docker/remembered-version.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-remember-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function listen(path: string): Promise<net.Server> {
  const server = net.createServer();
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

test('a version is remembered for the socket it was settled with, and only for that very socket', async () => {
  const sock = join(dir, 'engine.sock');
  const first = await listen(sock);
  const memory = new RememberedVersion(dir, sock);
  assert.equal(memory.recall(), undefined);
  memory.remember('1.41');
  assert.equal(memory.recall(), '1.41');
  assert.equal(new RememberedVersion(dir, join(dir, 'other.sock')).recall(), undefined);
  await new Promise((r) => first.close(r));
  assert.equal(memory.recall(), undefined, 'no socket there any more');
  const second = await listen(sock);
  assert.equal(memory.recall(), undefined, 'a socket made anew is another engine');
  memory.remember('1.43');
  assert.equal(memory.recall(), '1.43');
  memory.forget();
  assert.equal(memory.recall(), undefined);
  await new Promise((r) => second.close(r));
});

test('a damaged or foreign memory file is ignored, and a plain file at the socket path is no engine', async () => {
  const sock = join(dir, 'damaged.sock');
  const server = await listen(sock);
  const memory = new RememberedVersion(dir, sock);
  for (const text of ['{not json', '[]', 'null', JSON.stringify({ [sock]: { id: 'x', api: '1.41' } })]) {
    writeFileSync(join(dir, 'engines.json'), text);
    assert.equal(memory.recall(), undefined, text);
  }
  memory.remember('1.41');
  assert.equal(memory.recall(), '1.41');
  const doc = JSON.parse(readFileSync(join(dir, 'engines.json'), 'utf8'));
  doc[sock].api = '1.41; rm -rf /';
  writeFileSync(join(dir, 'engines.json'), JSON.stringify(doc));
  assert.equal(memory.recall(), undefined, 'only a version number is taken');
  await new Promise((r) => server.close(r));

  const plain = join(dir, 'plain');
  writeFileSync(plain, '');
  const notSocket = new RememberedVersion(dir, plain);
  notSocket.remember('1.41');
  assert.equal(notSocket.recall(), undefined);

  // a cache folder that cannot be written (here: a file where it should be): nothing remembered, nothing thrown
  const sock2 = join(dir, 'unwritable.sock');
  const s2 = await listen(sock2);
  const m2 = new RememberedVersion(plain, sock2);
  m2.remember('1.41');
  assert.equal(m2.recall(), undefined);
  await new Promise((r) => s2.close(r));
});
