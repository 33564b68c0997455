import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { discover, normalizeHost, tlsFromEnv } from '../../src/engine/docker/discovery.js';
import { parseGlobal } from '../../src/cli/global.js';
import { resolveContainer } from '../../src/engine/resolve.js';
import { Ambiguous, EngineError, EngineUnavailable, InvalidArgument, NotFound } from '../../src/errors.js';
import type { EngineClient } from '../../src/engine/types.js';

function contextDir(name: string, host: string, tls = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-ctx-'));
  const digest = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(dir, 'contexts/meta', digest), { recursive: true });
  writeFileSync(join(dir, 'contexts/meta', digest, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  if (tls) {
    mkdirSync(join(dir, 'contexts/tls', digest, 'docker'), { recursive: true });
    writeFileSync(join(dir, 'contexts/tls', digest, 'docker', 'ca.pem'), 'CA');
  }
  return dir;
}

test('precedence: --context, -H, DOCKER_HOST, DOCKER_CONTEXT, currentContext, sockets', async () => {
  const cfg = contextDir('remote', 'tcp://10.0.0.1:2376', true);
  writeFileSync(join(cfg, 'config.json'), JSON.stringify({ currentContext: 'remote' }));
  const env = { DOCKER_CONFIG: cfg, DOCKER_HOST: 'unix:///env.sock', DOCKER_CONTEXT: 'remote' };
  assert.equal((await discover({ contextFlag: 'remote', env })).via, 'context "remote"');
  assert.equal((await discover({ hostFlag: 'unix:///flag.sock', env })).host, 'unix:///flag.sock');
  assert.equal((await discover({ env })).via, 'DOCKER_HOST');
  const viaEnvContext = await discover({ env: { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'remote' } });
  assert.equal(viaEnvContext.host, 'tcp://10.0.0.1:2376');
  assert.equal(viaEnvContext.tls?.ca, 'CA');
  assert.equal(viaEnvContext.tls?.verify, true);
  const viaConfig = await discover({ env: { DOCKER_CONFIG: cfg } });
  assert.equal(viaConfig.context, 'remote');
  assert.deepEqual(viaConfig.skipped.map((s) => s.way), ['--context', '-H/--host', 'DOCKER_HOST', 'DOCKER_CONTEXT']);
});

test('--context default and DOCKER_CONTEXT=default fall through to the sockets', async () => {
  const cfg = mkdtempSync(join(tmpdir(), 'porthole-ctx-'));
  try {
    const ep = await discover({ contextFlag: 'default', env: { DOCKER_CONFIG: cfg, XDG_RUNTIME_DIR: cfg } });
    assert.equal(ep.via, 'default socket');
  } catch (err) {
    // No socket on this machine: then the error must name where it looked.
    assert.ok(err instanceof EngineUnavailable);
    assert.match(err.message, /\/var\/run\/docker\.sock/);
  }
});

test('--context with --host is refused; an unknown context says where it looked', async () => {
  await assert.rejects(() => discover({ contextFlag: 'a', hostFlag: 'tcp://x:1', env: {} }), InvalidArgument);
  const cfg = mkdtempSync(join(tmpdir(), 'porthole-ctx-'));
  await assert.rejects(() => discover({ contextFlag: 'nope', env: { DOCKER_CONFIG: cfg } }), /Docker context "nope" not found \(looked for .*meta\.json\)/);
});

test('host forms', async () => {
  assert.equal(normalizeHost('/run/x.sock'), 'unix:///run/x.sock');
  assert.equal(normalizeHost('localhost:2375'), 'tcp://localhost:2375');
  assert.equal(normalizeHost('ssh://me@box'), 'ssh://me@box');
  assert.throws(() => normalizeHost('fd://'), InvalidArgument);
});

test('TLS from the environment: DOCKER_TLS_VERIFY turns on verification, DOCKER_CERT_PATH holds the files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'cert.pem'), 'CERT');
  writeFileSync(join(dir, 'key.pem'), 'KEY');
  assert.equal(tlsFromEnv({}), undefined);
  const { described, ...files } = tlsFromEnv({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir })!;
  assert.deepEqual(files, { ca: 'CA', cert: 'CERT', key: 'KEY', verify: true });
  assert.match(described!, /^DOCKER_TLS_VERIFY: verify the engine against .*ca\.pem, client certificate .*cert\.pem$/);
  assert.equal(tlsFromEnv({ DOCKER_TLS: '1', DOCKER_CERT_PATH: dir })?.verify, false);
});

test("TLS flags with docker's meanings: --tlsverify (even =false) turns TLS on, flags beat the environment, named files must exist", () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'other-ca.pem'), 'OTHER');
  const env = { DOCKER_CERT_PATH: dir };
  assert.equal(tlsFromEnv(env, { tls: false }), undefined);
  assert.equal(tlsFromEnv(env, { tls: true })?.verify, false);
  assert.equal(tlsFromEnv(env, { tlsVerify: true })?.verify, true);
  assert.equal(tlsFromEnv(env, { tlsVerify: false })?.verify, false, '--tlsverify=false: TLS, not verified');
  assert.equal(tlsFromEnv({ ...env, DOCKER_TLS_VERIFY: '1' }, { tlsVerify: false })?.verify, false, 'the flag beats the variable');
  assert.equal(tlsFromEnv(env, { tlsVerify: true, caCert: join(dir, 'other-ca.pem') })?.ca, 'OTHER');
  // defaults that are missing are skipped (cert.pem, key.pem here); a file named by a flag must be readable
  assert.equal(tlsFromEnv(env, { tls: true })?.cert, undefined);
  assert.throws(() => tlsFromEnv(env, { tls: true, cert: join(dir, 'nope.pem') }), /Could not read the TLS certificate .*nope\.pem given by --tlscert: no such file\./);
  // ~/.docker (DOCKER_CONFIG) when DOCKER_CERT_PATH is not set
  assert.equal(tlsFromEnv({ DOCKER_CONFIG: dir }, { tlsVerify: true })?.ca, 'CA');
});

test('docker\'s TLS global flags parse in all their forms', () => {
  assert.deepEqual(parseGlobal(['--tls', '--tlsverify=false', '--tlscacert', 'a', '--tlscert=b', '--tlskey', 'c', 'ps']).tls, { tls: true, tlsVerify: false, caCert: 'a', cert: 'b', key: 'c' });
  assert.deepEqual(parseGlobal(['ps', '--tls']).tls, {});
  assert.throws(() => parseGlobal(['--tls=maybe', 'ps']), /--tls takes true or false/);
});

function fakeEngine(overrides: Partial<EngineClient>): EngineClient {
  return new Proxy(overrides as EngineClient, {
    get(target, prop) {
      if (prop in target) return (target as any)[prop];
      throw new Error(`fake engine: ${String(prop)} not expected in this test`);
    },
  });
}

test('resolveContainer: unknown names and ambiguous prefixes are sentences; ambiguity lists the matches', async () => {
  const notFound = fakeEngine({ inspectContainer: async () => Promise.reject(new NotFound('No such container: x.')) });
  await assert.rejects(resolveContainer(notFound, 'web'), (err: Error) => err instanceof NotFound && /No such container: web\./.test(err.message));
  const ambiguous = fakeEngine({
    inspectContainer: async () => Promise.reject(new EngineError(500, 'Multiple IDs found with provided prefix: ab.')),
    listContainers: async () => [
      { id: 'ab12', names: ['one'] } as any,
      { id: 'ab34', names: ['two'] } as any,
      { id: 'cd56', names: ['three'] } as any,
    ],
  });
  await assert.rejects(resolveContainer(ambiguous, 'ab'), (err: Error) => {
    assert.ok(err instanceof Ambiguous);
    assert.deepEqual(err.matches, ['ab12 (one)', 'ab34 (two)']);
    return true;
  });
  await assert.rejects(resolveContainer(notFound, 'bad\x1bname'), InvalidArgument);
});
