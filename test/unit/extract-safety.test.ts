// The extractor against crafted streams for the cp-out holes of issue 11: entries made out of order (a hardlink
// made before the symlink that replaced its target) and names that are not valid UTF-8 (merged into one file
// when the stream's PAX records were decoded as text). Each checks what lands on disk and what is said.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { craftTar, extractBuffer } from '../support/cp.js';

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'pt-extract-safety-'));
  roots.push(root);
  const dest = join(root, 'dest');
  mkdirSync(dest);
  return dest;
}

test('each entry is made before the next one: a hardlink after a symlink of the same name never reaches the file it replaced', async () => {
  // The whole stream in one chunk: the parser has every header at hand, so resuming the symlink entry used to
  // hand the hardlink over before the symlink was made.
  for (const chunk of [100, 1000, 1 << 20]) {
    const dest = scratch();
    const tar = craftTar([
      { name: 'top/', type: 'dir' },
      { name: 'top/f', body: 'old file' },
      { name: 'top/f', type: 'symlink', linkname: '/etc/hostname' },
      { name: 'top/h2', type: 'hardlink', linkname: 'top/f' },
      { name: 'top/after', body: 'after' },
    ]);
    const run = await extractBuffer(tar, dest, { chunk });
    assert.equal(run.error, undefined, `chunk ${chunk}`);
    assert.equal(readlinkSync(join(dest, 'top/f')), '/etc/hostname');
    assert.deepEqual(readdirSync(join(dest, 'top')).sort(), ['after', 'f'], `chunk ${chunk}: h2 must not exist`);
    assert.deepEqual(run.warnings, ['refused top/h2: it is a hardlink to top/f, which is not a file this copy wrote before it.'], `chunk ${chunk}`);
    assert.equal(run.result?.refused, 1);
    assert.equal(readFileSync(join(dest, 'top/after'), 'utf8'), 'after');
  }
});

test('a symlink entry over a folder made just before is refused; what follows lands in the folder, never through a link', async () => {
  for (const chunk of [100, 1 << 20]) {
    const dest = scratch();
    const outside = join(dest, '..', `outside-${chunk}`);
    mkdirSync(outside);
    const tar = craftTar([
      { name: 'top/', type: 'dir' },
      { name: 'top/d/', type: 'dir' },
      { name: 'top/d', type: 'symlink', linkname: outside },
      { name: 'top/d/x', body: 'pwned' },
    ]);
    const run = await extractBuffer(tar, dest, { chunk });
    assert.equal(run.error, undefined);
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(lstatSync(join(dest, 'top/d')).isDirectory(), true);
    assert.deepEqual(run.warnings, ['refused top/d: a folder already stands at top/d; porthole does not replace a folder with a link.']);
    assert.equal(readFileSync(join(dest, 'top/d/x'), 'utf8'), 'pwned');
  }
});
