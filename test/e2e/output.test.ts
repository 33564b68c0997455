// Every byte reaches a slow reader. A pipe takes 64 KiB; what porthole writes beyond that waits in the process
// until the reader makes room, and an exit at that moment would drop it while reporting success (seen in CI: the
// tar of `cp C:/d -` short by 7 KiB, exit code 0). Here the reader starts late, so an output a little over a
// pipe's worth is cut for sure if porthole does not wait for it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, porthole, runProcess } from '../support/cli.js';
import { docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';

let c = '';

before(() => {
  ensureBusyboxImage();
  c = runContainer(uniqueName('output'), [], undefined, [
    'sh',
    '-c',
    // 72 KiB: over a pipe's 64 KiB, under what makes a writer wait for the reader; 1500 names for a long listing.
    'head -c 73728 /dev/urandom > /f72 && mkdir /many && cd /many && for i in $(seq 1 1500); do : > "file-with-a-rather-long-name-$i"; done && touch /ready && exec sleep 100000',
  ]);
  for (let i = 0; i < 100 && dockerStatus(['exec', c, 'test', '-e', '/ready']).status !== 0; i++) execFileSync('sleep', ['0.1']);
});

after(() => removeContainers(c));

/**
 * Runs porthole into a pipe whose reader starts reading 1.5 s later (a shell pipeline: nothing between porthole
 * and the pipe buffers more than the pipe's own 64 KiB). Returns porthole's exit code and what the reader got.
 */
async function withSlowReader(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pt-output-'));
  try {
    const quoted = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await runProcess('bash', ['-c', `{ ${quoted} 2>"$1/err"; echo $? > "$1/code"; } | { sleep 1.5; cat > "$1/out"; }`, 'bash', dir]);
    assert.equal(r.code, 0, r.stderr);
    return { code: Number(readFileSync(join(dir, 'code'), 'utf8')), stdout: readFileSync(join(dir, 'out')), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('cat, cp to stdout and a long listing: a reader that starts late still gets every byte', async () => {
  const cat = await withSlowReader(['cat', c, '/f72']);
  assert.equal(cat.code, 0, cat.stderr);
  assert.ok(cat.stdout.equals(Buffer.from(docker(['exec', c, 'base64', '/f72']).replace(/\s/g, ''), 'base64')), `cat gave ${cat.stdout.length} of 73728 bytes`);

  const tar = await withSlowReader(['cp', `${c}:/f72`, '-']);
  assert.equal(tar.code, 0, tar.stderr);
  const viaDocker = execFileSync('docker', ['cp', `${c}:/f72`, '-']);
  assert.equal(tar.stdout.length, viaDocker.length);
  assert.ok(tar.stdout.equals(viaDocker));

  // A rendered result is written in one piece at the end.
  const listing = await withSlowReader(['ls', '-l', c, '/many']);
  assert.equal(listing.code, 0, listing.stderr);
  const fast = await porthole(['ls', '-l', c, '/many']);
  assert.ok(fast.stdoutBytes.length > 80 * 1024, `the listing is ${fast.stdoutBytes.length} bytes`);
  assert.equal(listing.stdout.toString('utf8'), fast.stdout);
});
