import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('du');
  hostile = makeHostile('du');
});
after(() => removeFixtures(...fx.all, hostile));

// 512 + 29 + 23 + 300000 + 1 + 7 bytes under /app, plus the grown /etc/passwd.
const APP = 512 + 29 + 23 + 300000 + 1 + 7;

test('du counts what the container\'s layer adds, biggest first, on running and stopped containers', async () => {
  for (const c of [fx.running, fx.stopped]) {
    const before = stableFingerprint(c);
    const r = await porthole(['du', '--json', c]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { path: string; size: number }[];
    const passwd = rows.find((x) => x.path === '/etc')!.size;
    assert.ok(passwd > 100);
    assert.deepEqual(rows.slice(0, 4), [
      { path: '/', size: APP + passwd },
      { path: '/app', size: APP },
      { path: '/app/logs', size: 300023 },
      { path: '/etc', size: passwd },
    ]);
    assert.deepEqual(rows.map((x) => x.size), [...rows.map((x) => x.size)].sort((a, b) => b - a));
    const human = await porthole(['du', c, '/app']);
    assert.equal(human.stdout, '294KiB  /app\n293KiB  /app/logs\n    1B  /app/sub\n    1B  /app/sub/deeper\n');
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('du --all counts the whole filesystem, image included; a never-started container adds nothing', async () => {
  const layer = await porthole(['du', fx.shellless]);
  assert.equal(layer.code, 0, layer.stderr);
  assert.equal(layer.stdout, '0B  /\n');
  const all = JSON.parse((await porthole(['du', '--all', '--json', fx.shellless])).stdout);
  assert.ok(all[0].path === '/' && all[0].size > 10000);
  const bin = JSON.parse((await porthole(['du', '--all', '--json', fx.stopped, '/bin'])).stdout);
  assert.equal(bin[0].path, '/bin');
  assert.ok(bin[0].size > 100000);
});

test('du of a hostile container: escaped names, a deep folder counted without trouble', async () => {
  const r = await porthole(['du', hostile]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b/);
  assert.match(r.stdout, /^ *19B {2}\/$/m);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 602); // /, /h and 600 nested folders
});
