import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker } from '../support/docker.js';
import { BINARY_CONTENT, leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('cat');
  hostile = makeHostile('cat');
});
after(() => removeFixtures(...fx.all, hostile));

test('cat is byte-exact, binary included, on running and stopped containers', async () => {
  for (const c of [fx.running, fx.stopped]) {
    const before = stableFingerprint(c);
    const bin = await porthole(['cat', c, '/app/binary.bin']);
    assert.equal(bin.code, 0, bin.stderr);
    assert.ok(bin.stdoutBytes.equals(BINARY_CONTENT));
    const two = await porthole(['cat', c, '/app/config.txt', '/app/logs/app.log']);
    assert.equal(two.stdout, 'hello\nworld\nERROR: disk full\nline one\nan error here\n');
    const big = await porthole(['cat', c, '/app/logs/big.log']);
    assert.ok(big.stdoutBytes.equals(Buffer.alloc(300000)));
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('cat of a shell-less, never started container', async () => {
  const r = await porthole(['cat', fx.shellless, '/app']);
  assert.equal(r.code, 0, r.stderr);
  const fromDocker = docker(['export', fx.shellless]).length;
  assert.ok(r.stdoutBytes.length > 10000 && fromDocker > 0);
  assert.equal(r.stdoutBytes.subarray(0, 4).toString('latin1'), '\x7fELF');
});

test('cat follows symlinks inside the container root, never on the host', async () => {
  const rel = await porthole(['cat', fx.stopped, '/app/link-to-config']);
  assert.equal(rel.stdout, 'hello\nworld\nERROR: disk full\n');
  // ../../etc/passwd from /app/sub is the container's /etc/passwd (with the line the fixture added).
  const up = await porthole(['cat', fx.stopped, '/app/sub/up-link']);
  assert.match(up.stdout, /^extra:x:2000:2000/m);
  // A link climbing above the root stays inside it: /etc/shadow-out does not exist in the container.
  const out = await porthole(['cat', hostile, '/h/up']);
  assert.equal(out.code, 3);
  assert.match(out.stderr, /is a symlink to \/etc\/shadow-out, which does not exist in the container/);
});

test('a folder or a missing path is a sentence with exit 3; the other files are still printed', async () => {
  const dir = await porthole(['cat', fx.stopped, '/app']);
  assert.equal(dir.code, 3);
  assert.equal(dir.stderr, `porthole: /app is a directory, not a file. List it with \`porthole ls ${fx.stopped} /app\`.\n`);
  const mixed = await porthole(['cat', fx.stopped, '/nope', '/app/config.txt']);
  assert.equal(mixed.code, 3);
  assert.equal(mixed.stdout, 'hello\nworld\nERROR: disk full\n');
  assert.match(mixed.stderr, /No such file or directory in the container: \/nope\./);
});

test('cat of a hostile file prints its bytes; the error for a hostile name is escaped', async () => {
  const r = await porthole(['cat', hostile, '/h/esc\x1b]0;pwned\x07\x1b[2Jname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'evil');
  const missing = await porthole(['cat', hostile, '/h/\x1b[2Jmissing']);
  assert.equal(missing.code, 3);
  assert.doesNotMatch(missing.stderr, /\x1b/);
  assert.match(missing.stderr, /\\e\[2Jmissing/);
});
