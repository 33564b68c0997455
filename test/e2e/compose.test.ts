// Compose services by name, on the real engine: the project made by `docker compose` itself (Debian's
// docker-compose v1 here, or the v2 plugin) where the machine has it, else by containers carrying the same labels.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { porthole } from '../support/cli.js';
import { docker, dockerStatus, ensureBusyboxImage, removeContainers, TEST_LABEL, uniqueName } from '../support/docker.js';

/** How this machine runs Compose: ['docker-compose'] (v1), ['docker', 'compose'] (v2), or none. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

const base = mkdtempSync(join(tmpdir(), 'pt-compose-'));
const tag = uniqueName('c').replace(/^pt-c-/, '');
// A folder name compose normalizes: upper case and a dot go, as compose-go's NormalizeProjectName drops them.
const folder = join(base, `Shop.App-${tag}`);
const project = `shopapp-${tag}`.toLowerCase().replace(/[^a-z0-9_-]/g, '');
const exact = uniqueName('compose-exact');
const made: string[] = [exact];
let compose: string[] | undefined;
const run = (args: string[]) => {
  const r = spawnSync(compose![0]!, [...compose!.slice(1), ...args], { cwd: folder, encoding: 'utf8' });
  assert.equal(r.status, 0, `${compose!.join(' ')} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inProject = (args: string[], env: Record<string, string> = {}) => porthole(args, { cwd: folder, env: { COMPOSE_PROJECT_NAME: '', ...env } });
/** The project's containers by service and number, as the engine lists them. */
function replica(service: string, number: number): string {
  const names = docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`, '--filter', `label=com.docker.compose.container-number=${number}`, '--format', '{{.Names}}']);
  assert.ok(names, `no replica ${number} of ${service}`);
  return names.split('\n')[0]!;
}

before(() => {
  ensureBusyboxImage();
  mkdirSync(folder, { recursive: true });
  compose = composeCommand();
  writeFileSync(
    join(folder, 'docker-compose.yml'),
    [
      'version: "2.4"',
      'services:',
      '  web:',
      '    image: porthole-fixture/busybox:1',
      '    command: ["sh", "-c", "echo web up on $$HOSTNAME; sleep 3600"]',
      '    labels: ["io.porthole.test=1"]',
      '  db:',
      '    image: porthole-fixture/busybox:1',
      '    command: ["sh", "-c", "echo db: DB_PASSWORD is not set >&2; exit 3"]',
      '    labels: ["io.porthole.test=1"]',
      `  ${exact}:`,
      '    image: porthole-fixture/busybox:1',
      '    command: ["sh", "-c", "echo service > /who; sleep 3600"]',
      '    labels: ["io.porthole.test=1"]',
      '',
    ].join('\n'),
  );
  if (compose) {
    run(['up', '-d', '--scale', 'web=3']);
  } else {
    // the labels Compose itself puts on its containers
    const labels = (service: string, n: number, oneoff = 'False') => [
      '--label', TEST_LABEL, '--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`,
      '--label', `com.docker.compose.container-number=${n}`, '--label', `com.docker.compose.oneoff=${oneoff}`,
    ];
    for (const n of [1, 2, 3]) docker(['run', '-d', '--name', `${project}-web-${n}`, ...labels('web', n), 'porthole-fixture/busybox:1', 'sh', '-c', 'echo web up on $HOSTNAME; sleep 3600']);
    docker(['run', '-d', '--name', `${project}-db-1`, ...labels('db', 1), 'porthole-fixture/busybox:1', 'sh', '-c', 'echo db: DB_PASSWORD is not set >&2; exit 3']);
    docker(['run', '-d', '--name', `${project}-${exact}-1`, ...labels(exact, 1), 'porthole-fixture/busybox:1', 'sh', '-c', 'echo service > /who; sleep 3600']);
  }
  // a plain container whose name is also a service's: the container wins
  docker(['run', '-d', '--name', exact, '--label', TEST_LABEL, 'porthole-fixture/busybox:1', 'sh', '-c', 'echo container > /who; sleep 3600']);
  // the db service has exited 3 by now (it exits at once); wait for its log to be there
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && !docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'status=exited', '--format', '{{.Names}}'])) spawnSync('sleep', ['0.2']);
});

after(() => {
  if (compose) spawnSync(compose[0]!, [...compose.slice(1), 'down', '-t', '0'], { cwd: folder });
  const left = docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
  if (left) removeContainers(...left.split('\n'));
  removeContainers(...made);
  rmSync(base, { recursive: true, force: true });
});

test('made by compose itself where the machine has it', () => {
  // say in the output which way the project was made, so a run without compose is visible
  console.log(`compose: ${compose ? compose.join(' ') : 'not installed; containers made with the same labels'}`);
  assert.ok(replica('web', 3));
});

test('why SERVICE from the project folder: the project is the folder name, normalized as compose does', async () => {
  const r = await inProject(['why', 'db']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${replica('db', 1)} `));
  assert.match(r.stdout, /exited with code 3/);
  assert.match(r.stdout, /DB_PASSWORD is not set/);
  // one replica: nothing to say about picking
  assert.doesNotMatch(r.stderr, /replicas/);
});

test('a subfolder finds the compose file above it', async () => {
  const sub = join(folder, 'src', 'deep');
  mkdirSync(sub, { recursive: true });
  const r = await porthole(['cat', 'web-2', '/etc/hostname'], { cwd: sub });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), docker(['inspect', '-f', '{{.Config.Hostname}}', replica('web', 2)]));
});

test('SERVICE-N, SERVICE_N and --index N name one replica; a missing one is exit 3', async () => {
  const host = (n: number) => docker(['inspect', '-f', '{{.Config.Hostname}}', replica('web', n)]);
  assert.equal((await inProject(['cat', 'web-3', '/etc/hostname'])).stdout.trim(), host(3));
  assert.equal((await inProject(['cat', 'web_1', '/etc/hostname'])).stdout.trim(), host(1));
  const indexed = await inProject(['cat', 'web', '/etc/hostname', '--index', '2']);
  assert.equal(indexed.stdout.trim(), host(2));
  assert.equal(indexed.stderr, '');
  const missing = await inProject(['cat', 'web', '/etc/hostname', '--index', '9']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /has no replica 9 \(it has 1, 2, 3\)/);
  const bad = await inProject(['cat', 'web', '/etc/hostname', '--index', 'x']);
  assert.equal(bad.code, 2);
});

test('logs SERVICE: every replica, each line prefixed with its container', async () => {
  const r = await inProject(['logs', 'web']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  for (const n of [1, 2, 3]) {
    const name = replica('web', n);
    const host = docker(['inspect', '-f', '{{.Config.Hostname}}', name]);
    assert.ok(lines.some((l) => new RegExp(`^${name} *  \\| web up on ${host}$`).test(l)), `${name} missing in:\n${r.stdout}`);
  }
  // one replica named: its lines alone, unprefixed, as docker logs prints them
  const one = await inProject(['logs', 'web-2']);
  assert.equal(one.stdout, `web up on ${docker(['inspect', '-f', '{{.Config.Hostname}}', replica('web', 2)])}\n`);
  // stderr stays stderr, prefixed too
  const db = await inProject(['logs', 'db']);
  assert.equal(db.stdout, '');
  assert.equal(db.stderr, 'db: DB_PASSWORD is not set\n');
});

test('shell SERVICE with several replicas: the first when none is in trouble, and says so', async () => {
  const r = await inProject(['shell', 'web', '--', 'hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), docker(['inspect', '-f', '{{.Config.Hostname}}', replica('web', 1)]));
  assert.match(r.stderr, new RegExp(`service web has 3 replicas; using ${replica('web', 1)} \\(running; none is in trouble\\)`));
});

test('exact container names always win over a service of that name', async () => {
  const r = await inProject(['cat', exact, '/who']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'container\n');
  // the service's own container is still reached by its number
  const s = await inProject(['cat', `${exact}-1`, '/who']);
  assert.equal(s.stdout, 'service\n');
});

test('ps -p and stats -p show the project only; a bad project name is exit 2', async () => {
  const ps = await porthole(['ps', '-p', project]);
  assert.equal(ps.code, 0, ps.stderr);
  const shown = [...ps.stdout.matchAll(/^(\S+) \([0-9a-f]{12}\)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(shown, [replica(exact, 1), replica('web', 1), replica('web', 2), replica('web', 3)].sort());
  const stats = await porthole(['stats', '-p', project, '--json']);
  assert.equal(stats.code, 0, stats.stderr);
  const names = (JSON.parse(stats.stdout) as { name: string }[]).map((s) => s.name).sort();
  assert.deepEqual(names, [replica(exact, 1), replica('web', 1), replica('web', 2), replica('web', 3)].sort());
  // a service named: each of its replicas
  const one = await inProject(['stats', 'web', '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual((JSON.parse(one.stdout) as { name: string }[]).map((s) => s.name).sort(), [1, 2, 3].map((n) => replica('web', n)).sort());
  const psWeb = await inProject(['ps', 'web']);
  assert.deepEqual([...psWeb.stdout.matchAll(/^(\S+) \([0-9a-f]{12}\)$/gm)].map((m) => m[1]).sort(), [1, 2, 3].map((n) => replica('web', n)).sort());
  const bad = await porthole(['ps', '-p', 'Not A Project']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is not a Compose project name/);
});

test('why SERVICE picks the replica in trouble first and names it on stderr', async () => {
  docker(['kill', replica('web', 2)]);
  const r = await inProject(['why', 'web']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${replica('web', 2)} `));
  assert.match(r.stderr, new RegExp(`using ${replica('web', 2)} \\(the one in trouble: exited with code 137\\)`));
  // -p from anywhere, and COMPOSE_PROJECT_NAME, name the same project
  const elsewhere = await porthole(['why', '-p', project, 'web'], { cwd: tmpdir() });
  assert.match(elsewhere.stdout, new RegExp(`^${replica('web', 2)} `));
  const byEnv = await porthole(['why', 'web-1'], { cwd: tmpdir(), env: { COMPOSE_PROJECT_NAME: project } });
  assert.match(byEnv.stdout, new RegExp(`^${replica('web', 1)} `));
});

test('outside the project: no such container, and the project that has the service is named', async () => {
  const r = await porthole(['cat', 'db', '/etc/hostname'], { cwd: tmpdir(), env: { COMPOSE_PROJECT_NAME: '' } });
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`no such service in any Compose project here.*Compose projects? .*${project}.*--project`));
});

test("a compose file's top-level name: wins over its folder; one-off containers are left out unless named", async () => {
  const dir = join(base, 'other-folder');
  mkdirSync(dir, { recursive: true });
  const named = `Named_Proj-${tag}`;
  writeFileSync(join(dir, 'compose.yaml'), `name: "${named}"\nservices:\n  tool:\n    image: porthole-fixture/busybox:1\n`);
  const normalized = named.toLowerCase();
  const oneoff = uniqueName('compose-oneoff');
  made.push(oneoff);
  const labels = (oneoffValue: string) => [
    '--label', TEST_LABEL, '--label', `com.docker.compose.project=${normalized}`, '--label', 'com.docker.compose.service=tool',
    '--label', 'com.docker.compose.container-number=1', '--label', `com.docker.compose.oneoff=${oneoffValue}`,
  ];
  docker(['run', '-d', '--name', oneoff, ...labels('True'), 'porthole-fixture/busybox:1', 'sh', '-c', 'echo oneoff > /who; sleep 3600']);
  const r = await porthole(['cat', 'tool', '/who'], { cwd: dir, env: { COMPOSE_PROJECT_NAME: '' } });
  assert.equal(r.code, 3, r.stdout);
  assert.equal((await porthole(['cat', oneoff, '/who'], { cwd: dir })).stdout, 'oneoff\n');
  const service = uniqueName('compose-named');
  made.push(service);
  docker(['run', '-d', '--name', service, ...labels('False'), 'porthole-fixture/busybox:1', 'sh', '-c', 'echo service > /who; sleep 3600']);
  const found = await porthole(['cat', 'tool', '/who'], { cwd: dir, env: { COMPOSE_PROJECT_NAME: '' } });
  assert.equal(found.code, 0, found.stderr);
  assert.equal(found.stdout, 'service\n');
  assert.equal(dockerStatus(['inspect', oneoff]).status, 0);
});
