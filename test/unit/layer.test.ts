// openLayerFile on a made-up overlay2 upper directory: it answers only where the layer is certainly what the
// container sees, and says "ask the engine" everywhere else.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { goTimeNs, openImageLayerFile, openOwnLayerFile } from '../../src/engine/docker/layer.js';
import type { LayerFile } from '../../src/engine/types.js';
import { Extraction } from '../../src/fs/extract.js';
import { layerFileArchive } from '../../src/fs/pack.js';

const root = mkdtempSync(join(tmpdir(), 'pt-layer-'));
after(() => rmSync(root, { recursive: true, force: true }));
const upper = join(root, 'diff');
mkdirSync(join(upper, 'var/log/app'), { recursive: true });
writeFileSync(join(upper, 'var/log/app/app.log'), 'one\ntwo\nthree\n');
mkdirSync(join(upper, 'real'));
writeFileSync(join(upper, 'real/x.conf'), 'x');
symlinkSync('/real', join(upper, 'conf'));
mkdirSync(join(upper, 'data'));
writeFileSync(join(upper, 'data/in-volume.log'), 'hidden by the volume');
mkdirSync(join(upper, 'etc'));
writeFileSync(join(upper, 'etc/hosts'), 'the engine mounts its own');
execFileSync('mkfifo', [join(upper, 'var/log/app/pipe')]);

// two image layers below: the top one replaces app.conf and deletes old.conf (a whiteout)
const [top, bottom] = [join(root, 'l2'), join(root, 'l1')];
for (const l of [top, bottom]) mkdirSync(join(l, 'etc/app'), { recursive: true });
writeFileSync(join(bottom, 'etc/app/app.conf'), 'old version');
writeFileSync(join(top, 'etc/app/app.conf'), 'new version');
writeFileSync(join(bottom, 'etc/app/only-below.conf'), 'below');
writeFileSync(join(bottom, 'etc/app/old.conf'), 'deleted above');
execFileSync('mknod', [join(top, 'etc/app/old.conf'), 'c', '0', '0']);
utimesSync(join(top, 'etc/app/app.conf'), 1700000000.5, 1700000000.5);

const doc = {
  GraphDriver: { Name: 'overlay2', Data: { UpperDir: upper, LowerDir: `${top}:${bottom}` } },
  Mounts: [{ Destination: '/data' }],
  HostConfig: { Tmpfs: { '/run': '' } },
  HostsPath: '/var/lib/docker/containers/x/hosts',
};

function readAll(path: string, maxBytes = 1 << 20): string | undefined {
  return content(openOwnLayerFile(doc, path), maxBytes);
}

function content(f: LayerFile | 'absent' | undefined, maxBytes = 1 << 20): string | undefined {
  if (!f || f === 'absent') return undefined;
  const chunks: Buffer[] = [];
  f.read((c) => (chunks.push(c), true), maxBytes);
  return Buffer.concat(chunks).toString();
}

test('a file the container wrote, under real folders of its layer, is read from the layer', () => {
  assert.equal(readAll('/var/log/app/app.log'), 'one\ntwo\nthree\n');
  const f = openOwnLayerFile(doc, '/var/log/app/app.log') as LayerFile;
  assert.equal(f.size, 14);
  let seen = '';
  assert.deepEqual(f.read((c) => ((seen += c), false), 1 << 20), { bytesRead: 14, stopped: false });
  const capped = openOwnLayerFile(doc, '/var/log/app/app.log') as LayerFile;
  assert.deepEqual(capped.read(() => true, 5), { bytesRead: 5, stopped: true });
});

test('links on the way, FIFOs, folders, missing files and odd paths are left to the engine', () => {
  assert.equal(openOwnLayerFile(doc, '/conf/x.conf'), undefined, 'through a link');
  assert.equal(openOwnLayerFile(doc, '/var/log/app/pipe'), undefined, 'a FIFO');
  assert.equal(openOwnLayerFile(doc, '/var/log/app'), undefined, 'a folder');
  assert.equal(openOwnLayerFile(doc, '/etc/passwd'), 'absent', 'not in this layer: from the image');
  assert.equal(openOwnLayerFile(doc, '/var/log/../log/app/app.log'), undefined);
  assert.equal(openOwnLayerFile(doc, 'var/log/app/app.log'), undefined);
  assert.equal(openOwnLayerFile(doc, '/var//log/app/app.log'), undefined);
});

test('volumes, tmpfs and the engine-managed /etc files cover the layer', () => {
  assert.equal(openOwnLayerFile(doc, '/data/in-volume.log'), undefined);
  assert.equal(openOwnLayerFile(doc, '/etc/hosts'), undefined);
  assert.equal(content(openOwnLayerFile({ ...doc, HostsPath: '' }, '/etc/hosts')), 'the engine mounts its own', 'without the engine file it is the layer file');
  assert.equal(openOwnLayerFile({ ...doc, HostConfig: { Tmpfs: { '/var/log': '' } } }, '/var/log/app/app.log'), undefined);
});

test('only overlay2 with an upper directory', () => {
  assert.equal(openOwnLayerFile({ ...doc, GraphDriver: { Name: 'btrfs', Data: { UpperDir: upper } } }, '/var/log/app/app.log'), undefined);
  assert.equal(openOwnLayerFile({ ...doc, GraphDriver: { Name: 'overlay2', Data: null } }, '/var/log/app/app.log'), undefined);
});

const stat = (over: Partial<{ size: number; mode: number; mtime: string }> = {}) => ({ name: 'app.conf', size: 11, mode: 0o644, mtime: '2023-11-14T22:13:20.5Z', linkTarget: '', ...over });

test('a file of the image: the topmost layer that has it, only when the engine reports the same file', () => {
  chmodSync(join(top, 'etc/app/app.conf'), 0o644);
  assert.equal(content(openImageLayerFile(doc, '/etc/app/app.conf', stat())), 'new version');
  // the engine's time must be the file's to the nanosecond
  utimesSync(join(bottom, 'etc/app/only-below.conf'), 1700000000.25, 1700000000.25);
  assert.equal(content(openImageLayerFile(doc, '/etc/app/only-below.conf', stat({ size: 5, mtime: '2023-11-14T22:13:20.25Z' }))), 'below');
  assert.equal(openImageLayerFile(doc, '/etc/app/only-below.conf', stat({ size: 5, mtime: '2023-11-14T22:13:20.250000001Z' })), undefined);
  // anything that does not match the engine's view, and whiteouts, are left to the engine
  assert.equal(openImageLayerFile(doc, '/etc/app/app.conf', stat({ size: 12 })), undefined);
  assert.equal(openImageLayerFile(doc, '/etc/app/app.conf', stat({ mode: 0o600 })), undefined);
  assert.equal(openImageLayerFile(doc, '/etc/app/app.conf', stat({ mtime: '2023-11-14T22:13:20Z' })), undefined);
  assert.equal(openImageLayerFile(doc, '/etc/app/app.conf', stat({ mode: 0o644 | (1 << 27) })), undefined, 'a link to the engine');
  assert.equal(openImageLayerFile(doc, '/etc/app/old.conf', stat({ size: 13 })), undefined, 'a whiteout');
  assert.equal(openImageLayerFile(doc, '/var/log/app/app.log', stat({ size: 14 })), undefined, 'in the container layer: not an image file');
});

test('Go times in nanoseconds, with offsets and short fractions', () => {
  assert.equal(goTimeNs('2023-11-14T22:13:20Z'), 1700000000n * 1_000_000_000n);
  assert.equal(goTimeNs('2023-11-14T22:13:20.5Z'), 1700000000n * 1_000_000_000n + 500_000_000n);
  assert.equal(goTimeNs('2023-11-15T00:13:20.000000001+02:00'), 1700000000n * 1_000_000_000n + 1n);
  assert.equal(goTimeNs('yesterday'), undefined);
});

test('a layer file that shrinks while it is copied fails the copy in one sentence and leaves nothing behind', async () => {
  const path = join(upper, 'var/log/app/shrinking.log');
  writeFileSync(path, Buffer.alloc(1 << 20, 'x'));
  const file = openOwnLayerFile(doc, '/var/log/app/shrinking.log') as LayerFile;
  assert.equal(file.size, 1 << 20);
  async function* shrinking(): AsyncGenerator<Buffer> {
    let n = 0;
    for await (const chunk of layerFileArchive(file, 'shrinking.log')) {
      yield chunk;
      if (++n === 2) truncateSync(path, 100000); // the header, then the first block of content
    }
  }
  const dest = mkdtempSync(join(root, 'dest-'));
  const extraction = new Extraction({ parentDir: dest, expectTop: 'shrinking.log', renameTop: 'shrinking.log', keepOwnership: false, warn: () => undefined });
  await assert.rejects(extraction.run(Readable.from(shrinking())), { message: 'shrinking.log shrank from 1048576 to 100000 bytes while it was copied.' });
  assert.deepEqual(readdirSync(dest), [], 'no half-written file');
});
