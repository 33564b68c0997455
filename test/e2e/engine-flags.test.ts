// docker's engine flags and the errors of reaching an engine, against the real engine: TLS (--tls, --tlsverify,
// --tlscacert, --tlscert, --tlskey, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, ~/.docker) through a mutual-TLS proxy in
// front of the engine's socket; plain HTTP to a TLS port; tcp:// without a port; ssh's own errors (ssh is replaced
// by a stand-in that prints what ssh prints; the engine is the real one when the stand-in runs dial-stdio).
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker } from '../support/docker.js';
import { tlsEngine, type TlsEngine } from '../support/tls-engine.js';

let engine: TlsEngine;
let work: string;
let plain: net.Server;
let plainPort: number;
const noTlsEnv = { DOCKER_TLS_VERIFY: undefined, DOCKER_TLS: undefined, DOCKER_CERT_PATH: undefined, DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined };

before(async () => {
  engine = await tlsEngine();
  work = mkdtempSync(join(tmpdir(), 'porthole-flags-errors-'));
  plain = net.createServer((client) => {
    const upstream = net.connect('/var/run/docker.sock');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  plainPort = await new Promise<number>((resolve) => plain.listen(0, '127.0.0.1', () => resolve((plain.address() as net.AddressInfo).port)));
});
after(() => {
  engine.close();
  plain.close();
  rmSync(work, { recursive: true, force: true });
});

const host = () => `tcp://127.0.0.1:${engine.port}`;
const certFlags = () => ['--tlscacert', engine.file('ca.pem'), '--tlscert', engine.file('client.pem'), '--tlskey', engine.file('client-key.pem')];

test('--tlsverify with --tlscacert/--tlscert/--tlskey reaches a mutual-TLS engine, and commands work through it', async () => {
  const r = await porthole(['--tlsverify', ...certFlags(), '-H', host(), 'engine', '--json'], { env: noTlsEnv });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.tls, true);
  assert.equal(report.engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  assert.ok(engine.clientCertSeen(), 'the engine saw a verified client certificate');
  const ps = await porthole(['--tlsverify', ...certFlags(), '-H', host(), 'ps', '--json'], { env: noTlsEnv });
  assert.equal(ps.code, 0, ps.stderr);
  assert.ok(Array.isArray(JSON.parse(ps.stdout)));
});

test("--tlsverify alone takes ca.pem, cert.pem, key.pem from docker's config folder (~/.docker, DOCKER_CONFIG), as docker does", async () => {
  const config = mkdtempSync(join(work, 'docker-config-'));
  copyFileSync(engine.file('ca.pem'), join(config, 'ca.pem'));
  copyFileSync(engine.file('client.pem'), join(config, 'cert.pem'));
  copyFileSync(engine.file('client-key.pem'), join(config, 'key.pem'));
  const r = await porthole(['--tlsverify', '-H', host(), 'engine', '--json'], { env: { ...noTlsEnv, DOCKER_CONFIG: config } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).tls, true);
  // and DOCKER_CERT_PATH wins over the config folder, as in docker
  const empty = mkdtempSync(join(work, 'empty-'));
  const other = await porthole(['--tlsverify', '-H', host(), 'engine'], { env: { ...noTlsEnv, DOCKER_CONFIG: config, DOCKER_CERT_PATH: empty } });
  assert.equal(other.code, 5, other.stderr);
});

test('plain HTTP to a TLS engine: says so, names the TLS settings, exit 5', async () => {
  const r = await porthole(['-H', host(), 'ps'], { env: noTlsEnv });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /^porthole: The engine at 127\.0\.0\.1:\d+ speaks TLS \(HTTPS\), and porthole spoke plain HTTP to it/);
  assert.match(r.stderr, /--tlsverify with --tlscacert, --tlscert and --tlskey/);
  assert.match(r.stderr, /DOCKER_TLS_VERIFY=1/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /Client sent an HTTP request/);
});

test('the wrong CA, no client certificate, a missing --tlscert file: each a sentence naming the TLS settings, exit 5', async () => {
  const wrongCa = await porthole(['--tlsverify', '--tlscacert', engine.file('other-ca.pem'), '--tlscert', engine.file('client.pem'), '--tlskey', engine.file('client-key.pem'), '-H', host(), 'ps'], { env: noTlsEnv });
  assert.equal(wrongCa.code, 5, wrongCa.stderr);
  assert.match(wrongCa.stderr, /failed TLS verification .*TLS settings: --tlsverify: verify the engine against .*other-ca\.pem/);
  assert.match(wrongCa.stderr, /--tlscacert/);

  const empty = mkdtempSync(join(work, 'empty-'));
  const noCert = await porthole(['--tlsverify', '--tlscacert', engine.file('ca.pem'), '-H', host(), 'ps'], { env: { ...noTlsEnv, DOCKER_CERT_PATH: empty } });
  assert.equal(noCert.code, 5, noCert.stderr);
  assert.match(noCert.stderr, /client certificate/);
  assert.match(noCert.stderr, /no client certificate \(none at .*cert\.pem\)/);
  assert.match(noCert.stderr, /--tlscert and --tlskey/);

  const missing = await porthole(['--tlsverify', '--tlscert', join(empty, 'nope.pem'), '-H', host(), 'ps'], { env: noTlsEnv });
  assert.equal(missing.code, 5, missing.stderr);
  assert.match(missing.stderr, /^porthole: Could not read the TLS certificate .*nope\.pem given by --tlscert: no such file\./);
});

test('--tls without verification takes any certificate; TLS to a plain engine says it does not speak TLS', async () => {
  // --tls: encrypted, the engine not verified (its CA unknown here); the proxy still wants a client certificate
  const r = await porthole(['--tls', '--tlscert', engine.file('client.pem'), '--tlskey', engine.file('client-key.pem'), '-H', host(), 'engine', '--json'], { env: noTlsEnv });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).tls, true);
  // DOCKER_TLS_VERIFY=1 is overridden by --tlsverify=false, as in docker
  const off = await porthole(['--tlsverify=false', '-H', host(), 'engine', '--json', ], { env: { ...noTlsEnv, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.dir } });
  assert.equal(off.code, 5, 'the proxy wants client.pem, not in DOCKER_CERT_PATH under the name cert.pem: ' + off.stderr);
  assert.match(off.stderr, /--tlsverify=false: TLS without verifying the engine/);

  const toPlain = await porthole(['--tls', '-H', `tcp://127.0.0.1:${plainPort}`, 'ps'], { env: noTlsEnv });
  assert.equal(toPlain.code, 5, toPlain.stderr);
  assert.match(toPlain.stderr, /^porthole: The engine at 127\.0\.0\.1:\d+ does not speak TLS, but porthole was told to use it/);
});

test('tcp://HOST without a port says which port was tried: 2375, or 2376 with TLS', async () => {
  const r = await porthole(['-H', 'tcp://127.0.0.1', 'ps'], { env: noTlsEnv });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /127\.0\.0\.1:2375 refused the connection .*no port in tcp:\/\/127\.0\.0\.1, so docker's default 2375 was tried/);
  const withTls = await porthole(['--tls', '-H', 'tcp://127.0.0.1', 'ps'], { env: noTlsEnv });
  assert.equal(withTls.code, 5, withTls.stderr);
  assert.match(withTls.stderr, /127\.0\.0\.1:2376 .*docker's default 2376 for TLS was tried/);
});

/** A stand-in for ssh that prints what ssh prints for a failure, and exits as ssh does. */
function fakeSsh(name: string, script: string): string {
  const bin = join(work, `ssh-${name}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

test("ssh engines: ssh's own error reaches the person, exit 5", async () => {
  const cases: [string, string, RegExp][] = [
    ['refused', 'echo "ssh: connect to host box port 22: Connection refused" >&2; exit 255', /ssh exited with 255: ssh: connect to host box port 22: Connection refused/],
    ['denied', 'echo "ops@box: Permission denied (publickey,password)." >&2; exit 255', /ssh exited with 255: ops@box: Permission denied \(publickey,password\)/],
    [
      'hostkey',
      'printf "No ED25519 host key is known for box and you have requested strict checking.\\nHost key verification failed.\\n" >&2; exit 255',
      /ssh exited with 255: Host key verification failed/,
    ],
    ['no-docker', 'echo "bash: line 1: docker: command not found" >&2; exit 127', /ssh exited with 127: bash: line 1: docker: command not found/],
  ];
  for (const [name, script, expected] of cases) {
    const r = await porthole(['-H', 'ssh://ops@box', 'ps'], { env: { ...noTlsEnv, PATH: fakeSsh(name, script) } });
    assert.equal(r.code, 5, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /^porthole: Could not reach the engine over ssh ops@box \(reached through --host flag\): /, name);
    assert.match(r.stderr, expected, name);
    assert.doesNotMatch(r.stderr, /closed the connection/, name);
    assert.match(r.stderr, /Check that `ssh ops@box docker version` works\./, name);
  }
  // a remote docker that starts and then fails: its words too
  const remote = await porthole(['-H', 'ssh://box', 'ps'], {
    env: { ...noTlsEnv, PATH: fakeSsh('dial-fails', 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1') },
  });
  assert.equal(remote.code, 5, remote.stderr);
  assert.match(remote.stderr, /ssh exited with 1: Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\. Is the docker daemon running\?/);
  // and a working stand-in (the real engine through dial-stdio) still works
  const ok = await porthole(['-H', 'ssh://box', 'ps', '--json'], { env: { ...noTlsEnv, PATH: fakeSsh('works', 'exec docker system dial-stdio') } });
  assert.equal(ok.code, 0, ok.stderr);
});
