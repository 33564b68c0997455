import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker } from '../support/docker.js';

test('engine reports the reached engine, how, and its versions', async () => {
  const r = await porthole(['engine', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.host, 'unix:///var/run/docker.sock');
  assert.equal(report.via, 'default socket');
  assert.equal(report.engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  assert.equal(report.engineApiVersion, docker(['version', '--format', '{{.Server.APIVersion}}']));
  assert.ok(report.skipped.some((s: { way: string }) => s.way === 'DOCKER_HOST'));
  const human = await porthole(['engine']);
  assert.match(human.stdout, /Found via:\s+default socket/);
});

test('DOCKER_HOST wins over the default socket, and -H over DOCKER_HOST', async () => {
  const viaEnv = await porthole(['engine', '--json'], { env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } });
  assert.equal(JSON.parse(viaEnv.stdout).via, 'DOCKER_HOST');
  const viaFlag = await porthole(['-H', 'unix:///var/run/docker.sock', 'engine', '--json'], { env: { DOCKER_HOST: 'unix:///nowhere.sock' } });
  assert.equal(viaFlag.code, 0, viaFlag.stderr);
  assert.equal(JSON.parse(viaFlag.stdout).via, '--host flag');
});

test('a docker context named by DOCKER_CONTEXT or config.json is used', async () => {
  const config = mkdtempSync(join(tmpdir(), 'porthole-cfg-'));
  const digest = createHash('sha256').update('mine').digest('hex');
  mkdirSync(join(config, 'contexts/meta', digest), { recursive: true });
  writeFileSync(join(config, 'contexts/meta', digest, 'meta.json'), JSON.stringify({ Name: 'mine', Endpoints: { docker: { Host: 'unix:///var/run/docker.sock' } } }));
  const viaEnv = await porthole(['engine', '--json'], { env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'mine', DOCKER_HOST: undefined } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(JSON.parse(viaEnv.stdout).via, 'context "mine"');
  writeFileSync(join(config, 'config.json'), JSON.stringify({ currentContext: 'mine' }));
  const viaConfig = await porthole(['engine', '--json'], { env: { DOCKER_CONFIG: config, DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined } });
  assert.equal(JSON.parse(viaConfig.stdout).context, 'mine');
  const missing = await porthole(['--context', 'nope', 'engine'], { env: { DOCKER_CONFIG: config } });
  assert.equal(missing.code, 5);
  assert.match(missing.stderr, /^porthole: Docker context "nope" not found/);
});

test('no engine: one sentence, exit code 5, no stack trace', async () => {
  const refused = await porthole(['engine'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
  assert.equal(refused.code, 5);
  assert.match(refused.stderr, /refused the connection .* it is not running\. Start the Docker engine/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  const missing = await porthole(['engine'], { env: { DOCKER_HOST: 'unix:///tmp/porthole-no-such.sock' } });
  assert.equal(missing.code, 5);
  assert.match(missing.stderr, /No engine socket at \/tmp\/porthole-no-such\.sock/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});

test('permission denied on the socket is named as such', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to make an unreadable socket for another user');
  const r = await porthole(['engine'], { env: { DOCKER_HOST: 'unix:///var/run/docker.sock' }, ...{} });
  assert.equal(r.code, 0);
  // Run as nobody: the socket is root:docker 0660, so connect() fails with EACCES.
  const { runProcess, BIN } = await import('../support/cli.js');
  const denied = await runProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', BIN, 'engine']);
  assert.equal(denied.code, 5, denied.stderr);
  assert.match(denied.stderr, /Permission denied on the engine socket \/var\/run\/docker\.sock/);
});

test('usage errors exit 2 with a sentence', async () => {
  const unknown = await porthole(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  const flag = await porthole(['engine', '--bogus']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Unknown option '--bogus'/);
});

test('works as a docker CLI plugin', async () => {
  const meta = await porthole(['docker-cli-plugin-metadata']);
  assert.equal(JSON.parse(meta.stdout).SchemaVersion, '0.1.0');
  const viaDocker = await porthole(['porthole', 'engine', '--json'], { env: { DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: 'docker' } });
  assert.equal(viaDocker.code, 0, viaDocker.stderr);
});
