// `npm test` (scripts/test.mjs) fails fast, with one sentence, when the engine answers but cannot start a
// container. The broken engine is the real one behind a socket that refuses every container start with the
// error a broken network bridge gives (the failure that made 129 tests fail with stack dumps); everything else
// passes through to the engine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runProcess } from '../support/cli.js';
import { docker } from '../support/docker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BRIDGE_ERROR = 'failed to create endpoint porthole-test-probe on network bridge: failed to add the host (veth1a2b3c) <=> sandbox (veth4d5e6f) pair interfaces: operation not supported';
let dir: string;
let server: net.Server;
let socketPath: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'porthole-probe-'));
  socketPath = join(dir, 'engine.sock');
  server = net.createServer((client) => {
    const upstream = net.connect('/var/run/docker.sock');
    // Request heads are small and start requests have no body: a chunk that holds a start request line is one.
    client.on('data', (chunk: Buffer) => {
      if (/(^|\r\n)POST \/v[\d.]+\/containers\/[^/ ]+\/start[ ?]/.test(chunk.toString('latin1'))) {
        const body = JSON.stringify({ message: BRIDGE_ERROR });
        client.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an engine that answers but cannot start a container: one sentence with its error, exit 1, no tests run', async () => {
  const started = Date.now();
  const r = await runProcess(process.execPath, ['scripts/test.mjs', 'test/unit/why-meanings.test.ts'], { cwd: ROOT, env: { DOCKER_HOST: `unix://${socketPath}`, NODE_TEST_CONTEXT: undefined }, timeoutMs: 120000 });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^npm test: the engine answers but cannot start a container \(Error response from daemon: failed to create endpoint porthole-test-probe on network bridge: .*operation not supported\), so every test would fail; fix the engine \(its log says more\), then run npm test again\.$/);
  assert.doesNotMatch(r.stdout, /test files/, 'no test ran');
  assert.ok(Date.now() - started < 60000, 'fails fast');
  // the probe's container is gone
  assert.equal(docker(['ps', '-aq', '--filter', 'name=porthole-test-probe-']), '');
});

test('with a working engine the probe passes and the tests run', async () => {
  const r = await runProcess(process.execPath, ['scripts/test.mjs', 'test/unit/why-meanings.test.ts'], { cwd: ROOT, env: { NODE_TEST_CONTEXT: undefined }, timeoutMs: 120000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /npm test: 1 test files/);
  assert.match(r.stdout, /# pass 4|ℹ pass 4/);
});
