import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, removeContainers, uniqueName } from '../support/docker.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
let dir: string;
before(() => {
  fx = makeFixtures('export');
  hostile = makeHostile('export');
  dir = mkdtempSync(join(tmpdir(), 'porthole-export-'));
});
after(() => {
  removeFixtures(...fx.all, hostile);
  rmSync(dir, { recursive: true, force: true });
});

function tarList(file: string): string {
  return execFileSync('tar', ['-tvf', file], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, TZ: 'UTC' } });
}

test('export -o writes the same archive docker export does, on running, stopped and shell-less containers', async () => {
  for (const c of fx.all) {
    const before = stableFingerprint(c);
    const mine = join(dir, `${c}.tar`);
    const r = await porthole(['export', c, '-o', mine]);
    assert.equal(r.code, 0, r.stderr);
    const theirs = join(dir, `${c}-docker.tar`);
    execFileSync('docker', ['export', c, '-o', theirs]);
    assert.equal(tarList(mine), tarList(theirs));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.porthole-')), [], 'a temp file was left');
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('export to a pipe streams the tar; --list prints tar tv lines as GNU tar does', async () => {
  const piped = await porthole(['export', fx.stopped]);
  assert.equal(piped.code, 0, piped.stderr);
  const file = join(dir, 'piped.tar');
  writeFileSync(file, piped.stdoutBytes);
  const expected = tarList(file);
  assert.match(expected, /app\/binary\.bin/);
  const list = await porthole(['export', '--list', fx.stopped], { env: { TZ: 'UTC' } });
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, expected);
});

test('export refuses to write tar to a terminal, and --list works there', async () => {
  const r = await portholeInTty(['export', fx.stopped], '');
  assert.equal(r.code, 2);
  assert.match(r.stdout, /Refusing to write a tar archive to the terminal\. Use -o FILE/);
  assert.doesNotMatch(r.stdout, /ustar/);
  const list = await portholeInTty(['export', '--list', fx.stopped], '');
  assert.equal(list.code, 0);
  assert.match(list.stdout, /app\/config\.txt/);
});

test('export -o: a failure leaves no file, an existing symlink at FILE is replaced, not written through', async () => {
  const target = join(dir, 'fail.tar');
  const r = await porthole(['export', 'pt-no-such-container-xyz', '-o', target]);
  assert.equal(r.code, 3);
  assert.equal(existsSync(target), false);
  const noDir = await porthole(['export', fx.stopped, '-o', join(dir, 'missing-dir', 'x.tar')]);
  // one sentence about FILE and its folder: no errno text, no temporary name (exit 3, as cp says it)
  assert.equal(noDir.code, 3, noDir.stderr);
  assert.equal(noDir.stderr, `porthole: Cannot write ${join(dir, 'missing-dir', 'x.tar')}: the folder ${join(dir, 'missing-dir')} does not exist. Create it, or choose another -o FILE.\n`);
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'keep me');
  const link = join(dir, 'link.tar');
  symlinkSync(victim, link);
  const ok = await porthole(['export', fx.stopped, '-o', link]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(execFileSync('cat', [victim], { encoding: 'utf8' }), 'keep me');
  assert.match(tarList(link), /app\/config\.txt/);
});

test('export --list of hostile names: escaped, one line per entry', async () => {
  const r = await porthole(['export', '--list', hostile]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f]/);
  assert.match(r.stdout, / h\/nl\\nA forged-row$/m);
  assert.match(r.stdout, / h\/bad\\xff\\xfebytes$/m);
  assert.match(r.stdout, / h\/up -> \.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow-out$/m);
  const count = execFileSync('sh', ['-c', `docker export ${hostile} | tar t | wc -l`], { encoding: 'utf8' }).trim();
  // GNU tar escapes the newline too: one line per entry on both sides.
  assert.equal(r.stdout.split('\n').filter(Boolean).length, Number(count));
});

test('export -o interrupted by Ctrl-C (SIGINT) leaves neither FILE nor a temp file', async () => {
  const big = uniqueName('export-big');
  docker(['run', '--name', big, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', 'head -c 400000000 /dev/urandom > /big']);
  try {
    const out = mkdtempSync(join(tmpdir(), 'porthole-export-int-'));
    const target = join(out, 'big.tar');
    const child = spawnPorthole(['export', big, '-o', target]);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupt once the temp file is being written.
    for (let i = 0; i < 200 && !readdirSync(out).some((f) => f.includes('.porthole-')); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(readdirSync(out).some((f) => f.includes('.porthole-')), 'the temp file never appeared');
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.deepEqual(readdirSync(out), []);
    rmSync(out, { recursive: true, force: true });
  } finally {
    removeContainers(big);
  }
});
