import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker } from '../support/docker.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('diff');
  hostile = makeHostile('diff');
});
after(() => removeFixtures(...fx.all, hostile));

// The engine lists changes in Go map order, different on every call (docker diff's own order changes from one run
// to the next), so the comparison is of the exact lines, each byte for byte, as sorted sets.
const sortedLines = (text: string) => text.split('\n').filter(Boolean).sort();

test('diff prints docker diff\'s exact lines, on running, stopped and shell-less containers', async () => {
  for (const c of fx.all) {
    const before = stableFingerprint(c);
    const r = await porthole(['diff', c]);
    assert.equal(r.code, 0, r.stderr);
    const expected = docker(['diff', c]);
    assert.deepEqual(sortedLines(r.stdout), sortedLines(expected), `container ${c}`);
    assert.equal(r.stdout.endsWith('\n') || r.stdout === '', true);
    assert.equal(Buffer.byteLength(r.stdout), expected ? Buffer.byteLength(expected) + 1 : 0);
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.match((await porthole(['diff', fx.stopped])).stdout, /^D \/home\/app$/m);
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('diff filters, -l details from one export pass, --json shape, --tree totals', async () => {
  const added = await porthole(['diff', '--added', '--deleted', fx.stopped]);
  assert.ok(added.stdout.split('\n').filter(Boolean).every((l) => /^[AD] /.test(l)));
  assert.match(added.stdout, /^D \/home\/app$/m);
  assert.doesNotMatch(added.stdout, /^C /m);
  const long = await porthole(['diff', '-l', fx.stopped]);
  assert.equal(long.code, 0, long.stderr);
  assert.match(long.stdout, /^A file\s+-rw-r--r--\s+512B \/app\/binary\.bin$/m);
  assert.match(long.stdout, /^A symlink lrwxrwxrwx\s+- \/app\/link-to-config$/m);
  assert.match(long.stdout, /^D -\s+-\s+- \/home\/app$/m);
  const json = JSON.parse((await porthole(['diff', '--json', fx.stopped])).stdout);
  assert.deepEqual(json.find((r: { path: string }) => r.path === '/app/logs/big.log'), { path: '/app/logs/big.log', kind: 'A', type: 'file', size: 300000, mode: '-rw-r--r--' });
  assert.deepEqual(json.find((r: { path: string }) => r.path === '/home/app'), { path: '/home/app', kind: 'D', type: null, size: null, mode: null });
  assert.equal(json.length, docker(['diff', fx.stopped]).split('\n').length);
  const tree = await porthole(['diff', '--tree', fx.stopped]);
  assert.match(tree.stdout, /^├── A app\/ \(294KiB\)$/m);
  assert.match(tree.stdout, /│   ├── A logs\/ \(293KiB\)/);
  assert.match(tree.stdout, /D app \(deleted\)/);
});

test('diff of a hostile container: names escaped, a newline cannot forge a row, deep folder fine', async () => {
  const r = await porthole(['diff', hostile]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b|\x07|\r/);
  assert.match(r.stdout, /^A \/h\/nl\\nA forged-row$/m);
  assert.doesNotMatch(r.stdout, /^A forged-row$/m);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, docker(['diff', hostile]).split('\n').length - 1); // docker's own output has the forged row
  const tree = await porthole(['diff', '--tree', hostile]);
  assert.equal(tree.code, 0, tree.stderr);
  assert.match(tree.stdout, /\[depth \d+\] └── A bottom \(4B\)/);
  const json = JSON.parse((await porthole(['diff', '--json', hostile])).stdout);
  assert.ok(json.some((e: { path: string }) => e.path === '/h/nl\nA forged-row'));
  assert.ok(json.some((e: { path: string }) => e.path === '/h/esc\x1b]0;pwned\x07\x1b[2Jname'));
});

test('diff on a missing container is a sentence with exit 3', async () => {
  const r = await porthole(['diff', 'pt-no-such-container-xyz']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /No such container/);
});
