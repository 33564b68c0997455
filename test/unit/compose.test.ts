import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentProject, dotEnvProjectName, normalizeProjectName, topLevelName } from '../../src/engine/compose/project.js';
import { pickReplica, troubleRank } from '../../src/engine/compose/services.js';
import { InvalidArgument } from '../../src/errors.js';
import type { ContainerSummary } from '../../src/engine/types.js';

test("project names normalize as compose-go's NormalizeProjectName: lower case, [a-z0-9_-] only, no leading _ or -", () => {
  assert.equal(normalizeProjectName('Shop.App'), 'shopapp');
  assert.equal(normalizeProjectName('_-My Project_1'), 'myproject_1');
  assert.equal(normalizeProjectName('été'), 't');
});

test('name: and .env are read as compose reads them', () => {
  assert.equal(topLevelName('services:\n  web: {}\nname: "Shop"\n'), 'Shop');
  assert.equal(topLevelName("name: 'x' # comment\n"), 'x');
  assert.equal(topLevelName('services:\n  name: inner\n'), undefined);
  assert.equal(topLevelName('name: ${PROJECT}\n'), undefined);
  assert.equal(dotEnvProjectName('A=1\nCOMPOSE_PROJECT_NAME="shop"\n'), 'shop');
});

test('precedence: -p, COMPOSE_PROJECT_NAME, .env, name:, the folder; the file found here or above', () => {
  const root = mkdtempSync(join(tmpdir(), 'pt-compose-unit-'));
  try {
    const dir = join(root, 'My.Shop');
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    const cwd = join(dir, 'a', 'b');
    assert.equal(currentProject({ env: {}, cwd }), undefined);
    writeFileSync(join(dir, 'compose.yml'), 'services: {}\n');
    assert.deepEqual(currentProject({ env: {}, cwd }), { name: 'myshop', source: join(dir, 'compose.yml') });
    writeFileSync(join(dir, 'compose.yml'), 'name: Named\nservices: {}\n');
    assert.equal(currentProject({ env: {}, cwd })?.name, 'named');
    writeFileSync(join(dir, '.env'), 'COMPOSE_PROJECT_NAME=fromdotenv\n');
    assert.equal(currentProject({ env: {}, cwd })?.name, 'fromdotenv');
    assert.equal(currentProject({ env: { COMPOSE_PROJECT_NAME: 'FromEnv' }, cwd })?.name, 'fromenv');
    assert.equal(currentProject({ flag: 'flag', env: { COMPOSE_PROJECT_NAME: 'x' }, cwd })?.name, 'flag');
    assert.throws(() => currentProject({ flag: 'Bad Name', env: {}, cwd }), InvalidArgument);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('replicas: the one in trouble first, else the lowest number', () => {
  const c = (n: number, state: ContainerSummary['state'], status: string): ContainerSummary => ({
    id: `id${n}`, names: [`p-web-${n}`], image: '', imageId: '', command: '', created: 0, state, status,
    labels: { 'com.docker.compose.container-number': String(n) },
  });
  assert.equal(pickReplica([c(2, 'running', 'Up 1 minute'), c(1, 'running', 'Up 1 minute')]).id, 'id1');
  assert.equal(pickReplica([c(1, 'running', 'Up'), c(2, 'exited', 'Exited (1) 2 seconds ago'), c(3, 'restarting', 'Restarting (1)')]).id, 'id3');
  assert.equal(pickReplica([c(1, 'exited', 'Exited (0) 1 minute ago'), c(2, 'running', 'Up 5 minutes (unhealthy)')]).id, 'id2');
  assert.equal(troubleRank(c(1, 'exited', 'Exited (0) now')), 1);
});
