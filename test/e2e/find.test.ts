import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('find');
  hostile = makeHostile('find');
});
after(() => removeFixtures(...fx.all, hostile));

test('find by name, type and size on running and stopped containers', async () => {
  for (const c of [fx.running, fx.stopped]) {
    const before = stableFingerprint(c);
    const logs = await porthole(['find', c, '/app', '--name', '*.log']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, '/app/logs/app.log\n/app/logs/big.log\n');
    const dirs = await porthole(['find', c, '/app', '--type', 'd']);
    assert.equal(dirs.stdout, '/app\n/app/logs\n/app/sub\n/app/sub/deeper\n');
    const links = await porthole(['find', c, '/app', '--type', 'l']);
    assert.equal(links.stdout, '/app/dirlink\n/app/link-to-config\n/app/sub/up-link\n');
    const big = await porthole(['find', c, '/app', '--size', '+100k']);
    assert.equal(big.stdout, '/app/logs/big.log\n');
    const small = await porthole(['find', c, '/app', '--type', 'f', '--size=-30']);
    assert.equal(small.stdout, '/app/.hidden\n/app/config.txt\n/app/logs/app.log\n/app/sub/deeper/leaf\n');
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('find --newer-than-image keeps only what the container changed', async () => {
  const r = await porthole(['find', fx.stopped, '--newer-than-image', '--type', 'f']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/app/.hidden\n/app/binary.bin\n/app/config.txt\n/app/logs/app.log\n/app/logs/big.log\n/app/sub/deeper/leaf\n/etc/passwd\n');
  const none = await porthole(['find', fx.shellless, '--newer-than-image']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, '');
  const all = await porthole(['find', fx.shellless, '/', '--type', 'f']);
  assert.match(all.stdout, /^\/app$/m);
});

test('find on hostile names: escaped lines, -0 gives the exact bytes, --json exact', async () => {
  const r = await porthole(['find', hostile, '/h', '--type', 'f']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f]/);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 5);
  assert.match(r.stdout, /^\/h\/nl\\nA forged-row$/m);
  const raw = await porthole(['find', hostile, '/h', '--type', 'f', '-0']);
  const paths = raw.stdoutBytes.toString('latin1').split('\0').filter(Boolean);
  assert.ok(paths.includes(Buffer.from([...Buffer.from('/h/bad'), 0xff, 0xfe, ...Buffer.from('bytes')]).toString('latin1')));
  assert.ok(paths.includes('/h/nl\nA forged-row'));
  assert.ok(paths.some((p) => p.endsWith('/bottom') && p.split('/d').length === 601));
  const json = JSON.parse((await porthole(['find', hostile, '/h', '--name', 'cr*', '--json'])).stdout);
  assert.deepEqual(json.map((e: { path: string }) => e.path), ['/h/cr\rback']);
});

test('find: bad flags are usage errors, a missing path exit 3', async () => {
  assert.equal((await porthole(['find', fx.stopped, '--type', 'x'])).code, 2);
  assert.equal((await porthole(['find', fx.stopped, '--size', '10q'])).code, 2);
  const missing = await porthole(['find', fx.stopped, '/nope']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /No such file or directory in the container: \/nope/);
});
