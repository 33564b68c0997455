// The engine reached over every transport porthole supports: a real engine behind a TCP proxy, a TLS proxy
// with client certificates, and `ssh HOST docker system dial-stdio` (ssh replaced by a local stand-in).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, porthole, runProcess } from '../support/cli.js';
import { docker } from '../support/docker.js';
import { engineProxy } from '../support/engine-proxy.js';

const SOCKET = '/var/run/docker.sock';
let work: string;
const servers: net.Server[] = [];

function forwardToEngine(client: net.Socket) {
  const upstream = net.connect(SOCKET);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
}

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function openssl(args: string[]) {
  execFileSync('openssl', args, { cwd: work, stdio: 'ignore' });
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'porthole-transport-'));
});
after(() => {
  for (const s of servers) s.close();
  rmSync(work, { recursive: true, force: true });
});

test('tcp:// reaches the engine through -H', async () => {
  const port = await listen(net.createServer(forwardToEngine));
  const r = await porthole(['-H', `tcp://127.0.0.1:${port}`, 'engine', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.host, `tcp://127.0.0.1:${port}`);
  assert.equal(report.tls, false);
  assert.equal(report.engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
});

let tlsEngine: Promise<{ port: number; read: (f: string) => Buffer; clientCertSeen: () => boolean }> | undefined;
/** A TLS server with its own CA that asks for a client certificate and forwards to the engine (made once). */
function tlsProxy() {
  tlsEngine ??= (async () => {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem']);
    const issue = (name: string, ext: string) => {
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
      writeFileSync(join(work, `${name}.ext`), ext);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
    };
    issue('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    issue('client', 'extendedKeyUsage=clientAuth\n');
    const read = (f: string) => readFileSync(join(work, f));
    let seen = false;
    const server = tls.createServer({ key: read('server-key.pem'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (socket) => {
      seen = socket.authorized;
      forwardToEngine(socket);
    });
    return { port: await listen(server), read, clientCertSeen: () => seen };
  })();
  return tlsEngine;
}

test('tcp:// with TLS uses DOCKER_TLS_VERIFY and the certificates in DOCKER_CERT_PATH', async () => {
  const { port, read, clientCertSeen } = await tlsProxy();
  const certDir = mkdtempSync(join(work, 'certs-'));
  for (const [from, to] of [['ca.pem', 'ca.pem'], ['client.pem', 'cert.pem'], ['client-key.pem', 'key.pem']]) writeFileSync(join(certDir, to), read(from));
  const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir };
  const r = await porthole(['engine', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).tls, true);
  assert.ok(clientCertSeen(), 'the server saw a verified client certificate');
  // Without the client certificate the TLS server refuses: a sentence, exit 5.
  const noCerts = await porthole(['engine'], { env: { ...env, DOCKER_CERT_PATH: mkdtempSync(join(work, 'empty-')) } });
  assert.equal(noCerts.code, 5, noCerts.stderr);
  assert.match(noCerts.stderr, /^porthole: /);
});

test('TLS without a ca.pem trusts what NODE_EXTRA_CA_CERTS adds', async () => {
  const { port, read } = await tlsProxy();
  const certDir = mkdtempSync(join(work, 'certs-'));
  for (const [from, to] of [['client.pem', 'cert.pem'], ['client-key.pem', 'key.pem']]) writeFileSync(join(certDir, to), read(from));
  const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir, NODE_EXTRA_CA_CERTS: join(work, 'ca.pem') };
  // the executable as a user runs it
  const r = await runProcess(BIN, ['engine', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).tls, true);
  // without it, the test CA is unknown and verification fails: a sentence, exit 5
  const unknown = await runProcess(BIN, ['engine'], { env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
  assert.equal(unknown.code, 5, unknown.stderr);
  assert.match(unknown.stderr, /^porthole: .*certificate/i);
});

test('ssh:// runs `ssh HOST docker system dial-stdio` with the user and port from the URL', async () => {
  const bin = mkdtempSync(join(work, 'bin-'));
  const argsLog = join(work, 'ssh-args');
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\necho "$@" >> ${argsLog}\nexec docker system dial-stdio\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  const r = await porthole(['-H', 'ssh://ops@build-box:2222', 'engine', '--json'], { env: { PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  const args = readFileSync(argsLog, 'utf8');
  assert.match(args, /-p 2222 -l ops -- build-box docker system dial-stdio/);
});

test('an engine older than API 1.40 is refused with a sentence', async () => {
  const sock = join(work, 'old.sock');
  const server = http.createServer((_req, res) => {
    res.setHeader('API-Version', '1.30');
    res.end('OK');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const r = await porthole(['-H', `unix://${sock}`, 'engine']);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /speaks API 1\.30, older than the 1\.40 porthole needs/);
});

test('the API version settled with a local engine is remembered: the next command skips /_ping, a refused one is asked again', async () => {
  const cache = join(work, 'xdg-cache');
  const sock = join(work, 'remember.sock');
  const env = { XDG_CACHE_HOME: cache, DOCKER_HOST: `unix://${sock}` };
  const memory = join(cache, 'porthole', 'engines.json');
  const proxy = await engineProxy({ socketPath: sock });
  try {
    const pings = async (args: string[], extra: Record<string, string> = {}) => {
      const before = proxy.requests().length;
      const r = await porthole(args, { env: { ...env, ...extra } });
      assert.equal(r.code, 0, r.stderr);
      return proxy.requests().slice(before).filter((line) => line === 'GET /_ping').length;
    };
    assert.equal(await pings(['ps', '--json']), 1, 'the first command asks');
    const api = docker(['version', '-f', '{{.Server.APIVersion}}']);
    assert.equal(JSON.parse(readFileSync(memory, 'utf8'))[sock].api, api);
    assert.equal(await pings(['ps', '--json']), 0, 'the next one remembers');
    assert.equal(await pings(['ps', '--json'], { PORTHOLE_REMEMBER_API: '0' }), 1, 'PORTHOLE_REMEMBER_API=0 always asks');
    assert.equal(await pings(['engine']), 1, '`porthole engine` reports what the engine says now');

    // An engine swapped behind the same socket (systemd keeps it across restarts) refuses the remembered version:
    // the command still works, and the version the engine takes is remembered instead.
    for (const stale of ['1.99', '1.11']) {
      const doc = JSON.parse(readFileSync(memory, 'utf8'));
      doc[sock].api = stale;
      writeFileSync(memory, JSON.stringify(doc));
      const before = proxy.requests().length;
      const r = await porthole(['ps', '--json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Array.isArray(JSON.parse(r.stdout)));
      assert.ok(proxy.requests().slice(before).includes('GET /_ping'), stale);
      assert.equal(JSON.parse(readFileSync(memory, 'utf8'))[sock].api, api, stale);
    }

    // A new socket at the same path (the engine restarted) is a new engine: asked again.
    await proxy.close();
    const again = await engineProxy({ socketPath: sock });
    try {
      const r = await porthole(['ps', '--json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(again.requests().filter((line) => line === 'GET /_ping'), ['GET /_ping']);
    } finally {
      await again.close();
    }
  } finally {
    await proxy.close().catch(() => undefined);
  }
});
