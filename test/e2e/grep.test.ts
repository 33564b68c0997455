import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('grep');
  hostile = makeHostile('grep');
});
after(() => removeFixtures(...fx.all, hostile));

test('grep a file: matching lines, -n, -i; exit 0 on a match and 1 on none, as grep', async () => {
  for (const c of [fx.running, fx.stopped]) {
    const before = stableFingerprint(c);
    const r = await porthole(['grep', c, 'error', '/app/config.txt']);
    assert.equal(r.code, 1, r.stderr); // case matters without -i
    assert.equal(r.stdout, '');
    const i = await porthole(['grep', '-in', c, 'error', '/app/config.txt']);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout, '3:ERROR: disk full\n');
    const two = await porthole(['grep', c, 'o', '/app/config.txt', '/app/logs/app.log']);
    assert.equal(two.stdout, '/app/config.txt:hello\n/app/config.txt:world\n/app/logs/app.log:line one\n/app/logs/app.log:an error here\n');
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('grep -r, -l, and binary files reported as grep does', async () => {
  const r = await porthole(['grep', '-rl', fx.stopped, 'error', '/app']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/app/logs/app.log\n');
  const rec = await porthole(['grep', '-r', fx.stopped, 'error|hello', '/app']);
  assert.equal(rec.stdout, '/app/config.txt:hello\n/app/logs/app.log:an error here\n');
  const bin = await porthole(['grep', fx.stopped, 'ABC', '/app/binary.bin']);
  assert.equal(bin.code, 0, bin.stderr);
  assert.equal(bin.stdout, 'Binary file /app/binary.bin matches\n');
  const elf = await porthole(['grep', fx.shellless, 'GLIBC|libc', '/app']);
  assert.equal(elf.code, 0, elf.stderr);
  assert.equal(elf.stdout, 'Binary file /app matches\n');
  const dir = await porthole(['grep', fx.stopped, 'x', '/app']);
  assert.equal(dir.code, 3);
  assert.match(dir.stderr, /\/app is a directory\. Add -r/);
  const link = await porthole(['grep', fx.stopped, '^extra', '/app/sub/up-link']);
  assert.equal(link.stdout, 'extra:x:2000:2000::/:/bin/false\n');
});

test('grep shows hostile contents and names escaped', async () => {
  const r = await porthole(['grep', '-r', hostile, 'evil|forged', '/h']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b|\x07/);
  assert.equal(r.stdout, '/h/esc\\e]0;pwned\\x07\\e[2Jname:evil\n/h/nl\\nA forged-row:forged\n');
  const deep = await porthole(['grep', '-rl', hostile, 'deep', '/h']);
  assert.match(deep.stdout, /^\/h(\/d){600}\/bottom\n$/);
});

test('grep: a bad pattern or no PATH without -r is a usage error', async () => {
  assert.equal((await porthole(['grep', fx.stopped, '(', '/app/config.txt'])).code, 2);
  assert.equal((await porthole(['grep', fx.stopped, 'x'])).code, 2);
});
