// The Kubernetes client's protocol edges against a stand-in HTTP server (unit tests only; the e2e tests use the
// real cluster): typed errors for 401/403/404/unreachable, and exec credential plugins.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeClient } from '../../src/engine/kubernetes/client.js';
import type { KubeTarget } from '../../src/engine/kubernetes/kubeconfig.js';
import { AccessDenied, EngineUnavailable, EXIT, NotFound } from '../../src/errors.js';

function target(server: string, auth: KubeTarget['auth'] = { token: 't0k' }): KubeTarget {
  return { server, clusterName: 'c1', contextName: 'ctx1', userName: 'u1', namespace: 'default', insecureSkipTlsVerify: false, auth, via: 'test', contextVia: 'test', namespaceVia: 'test', files: [] };
}

async function serve(handler: (req: IncomingMessage) => [number, unknown]): Promise<{ url: string; server: Server; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const [code, body] = handler(req);
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

test('a GET sends the bearer token and parses JSON', async () => {
  const s = await serve(() => [200, { kind: 'Pod', metadata: { name: 'p' } }]);
  const client = new KubeClient(target(s.url));
  const pod = await client.get<{ metadata: { name: string } }>('/api/v1/namespaces/default/pods/p', { verb: 'get', resource: 'pods', namespace: 'default', name: 'p' });
  assert.equal(pod.metadata.name, 'p');
  assert.equal(s.seen[0]!.headers.authorization, 'Bearer t0k');
  client.close();
  s.server.close();
});

test('401, 403, 404 and an unreachable server become one sentence each, with the exit code for each', async () => {
  const s = await serve((req) =>
    req.url!.includes('unauth')
      ? [401, { kind: 'Status', message: 'Unauthorized', code: 401 }]
      : req.url!.includes('forbid')
        ? [403, { kind: 'Status', message: 'pods "x" is forbidden: User "porthole-nobody" cannot get resource "pods" in API group "" in the namespace "default"', code: 403 }]
        : [404, { kind: 'Status', message: 'pods "x" not found', code: 404 }],
  );
  const client = new KubeClient(target(s.url));
  const p = { verb: 'get', resource: 'pods', namespace: 'default', name: 'x' } as const;
  await assert.rejects(client.get('/unauth', p), (e: Error) => e instanceof AccessDenied && (e as AccessDenied).exitCode === EXIT.engine && /does not accept the credentials of user "u1"/.test(e.message));
  await assert.rejects(client.get('/forbid', p), (e: Error) => e instanceof AccessDenied && e.message === 'Kubernetes does not allow user "porthole-nobody" to get pods in namespace "default".');
  await assert.rejects(client.get('/missing', p), (e: Error) => e instanceof NotFound && e.message === 'No pods "x" in namespace "default" (context "ctx1").');
  client.close();
  s.server.close();
  const gone = new KubeClient(target(s.url));
  await assert.rejects(gone.get('/x', p), (e: Error) => e instanceof EngineUnavailable && /Cannot reach the Kubernetes cluster "c1" at http/.test(e.message) && /ECONNREFUSED/.test(e.message));
});

test('an exec credential plugin is run once, with KUBERNETES_EXEC_INFO, and its token used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-k8s-exec-'));
  const plugin = join(dir, 'cred');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> ${dir}/runs\necho "$KUBERNETES_EXEC_INFO" > ${dir}/info\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-'$MYVAR'"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  const s = await serve(() => [200, {}]);
  const client = new KubeClient(target(s.url, { exec: { command: './cred', args: [], env: [{ name: 'MYVAR', value: 'plugin' }], apiVersion: 'client.authentication.k8s.io/v1', baseDir: dir, installHint: null } }));
  const p = { verb: 'get', resource: 'pods' } as const;
  await client.get('/a', p);
  await client.get('/b', p);
  assert.equal(s.seen[0]!.headers.authorization, 'Bearer from-plugin');
  assert.equal(s.seen[1]!.headers.authorization, 'Bearer from-plugin');
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(join(dir, 'runs'), 'utf8'), 'run\n');
  assert.equal(JSON.parse(readFileSync(join(dir, 'info'), 'utf8')).kind, 'ExecCredential');
  client.close();
  s.server.close();
  const missing = new KubeClient(target(s.url, { exec: { command: 'no-such-plugin-xyz', args: [], env: [], apiVersion: 'v1', baseDir: dir, installHint: 'Install it with foo.' } }));
  await assert.rejects(missing.get('/a', p), (e: Error) => e instanceof EngineUnavailable && /not installed/.test(e.message) && (e as EngineUnavailable).hint === 'Install it with foo.');
});

test('exec WebSocket frames: short, 16-bit and split lengths', async () => {
  const { readFrame } = await import('../../src/engine/kubernetes/client.js');
  const small = Buffer.from([0x82, 3, 1, 0x68, 0x69]);
  assert.deepEqual(readFrame(small) && { ...readFrame(small)!, payload: [...readFrame(small)!.payload] }, { fin: true, opcode: 2, payload: [1, 0x68, 0x69], used: 5 });
  // a frame without FIN (0x02: binary, more to come) says so
  assert.equal(readFrame(Buffer.from([0x02, 1, 7]))!.fin, false);
  const body = Buffer.alloc(300, 0x61);
  const big = Buffer.concat([Buffer.from([0x82, 126, 1, 44]), body]);
  assert.equal(readFrame(big)!.payload.length, 300);
  assert.equal(readFrame(big.subarray(0, 100)), null);
  assert.equal(readFrame(Buffer.from([0x88])), null);
});

test("exec() goes through the one upgrade path: the credential plugin's token, the exec query, output and status", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-k8s-exec-up-'));
  writeFileSync(join(dir, 'cred'), '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}\'\n');
  chmodSync(join(dir, 'cred'), 0o755);
  const seen: IncomingMessage[] = [];
  const server = createServer((_req, res) => res.writeHead(400).end());
  server.on('upgrade', (req: IncomingMessage, socket: import('node:net').Socket) => {
    seen.push(req);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n`);
    const frame = (channel: number, text: string) => {
      const payload = Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);
      return Buffer.concat([Buffer.from([0x82, payload.length]), payload]);
    };
    socket.write(Buffer.concat([frame(1, 'hi\n'), frame(2, 'oops\n'), frame(3, '{"status":"Success"}'), Buffer.from([0x88, 0])]));
    socket.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KubeClient(target(url, { exec: { command: './cred', args: [], env: [], apiVersion: 'client.authentication.k8s.io/v1', baseDir: dir, installHint: null } }));
  const got = await client.exec('ns1', 'p1', 'c1', ['sed', '-n', '1p', '/etc/x y']);
  assert.equal(got.stdout.toString(), 'hi\n');
  assert.equal(got.stderr.toString(), 'oops\n');
  assert.deepEqual(got.status, { status: 'Success' });
  const req = seen[0]!;
  assert.equal(req.headers.authorization, 'Bearer from-plugin');
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io, v4.channel.k8s.io');
  const u = new URL(req.url!, url);
  assert.equal(u.pathname, '/api/v1/namespaces/ns1/pods/p1/exec');
  assert.deepEqual(u.searchParams.getAll('command'), ['sed', '-n', '1p', '/etc/x y']);
  assert.equal(u.searchParams.get('container'), 'c1');
  assert.equal(u.searchParams.get('stdin'), null);
  client.close();
  server.close();
});
