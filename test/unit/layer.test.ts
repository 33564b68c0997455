// openLayerFile on a made-up overlay2 upper directory: it answers only where the layer is certainly what the
// container sees, and says "ask the engine" everywhere else.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLayerFile } from '../../src/engine/docker/layer.js';

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

const doc = {
  GraphDriver: { Name: 'overlay2', Data: { UpperDir: upper, LowerDir: '/nowhere' } },
  Mounts: [{ Destination: '/data' }],
  HostConfig: { Tmpfs: { '/run': '' } },
  HostsPath: '/var/lib/docker/containers/x/hosts',
};

function readAll(path: string, maxBytes = 1 << 20): string | undefined {
  const f = openLayerFile(doc, path);
  if (!f) return undefined;
  const chunks: Buffer[] = [];
  f.read((c) => (chunks.push(c), true), maxBytes);
  return Buffer.concat(chunks).toString();
}

test('a file the container wrote, under real folders of its layer, is read from the layer', () => {
  assert.equal(readAll('/var/log/app/app.log'), 'one\ntwo\nthree\n');
  const f = openLayerFile(doc, '/var/log/app/app.log')!;
  assert.equal(f.size, 14);
  let seen = '';
  assert.deepEqual(f.read((c) => ((seen += c), false), 1 << 20), { bytesRead: 14, stopped: false });
  const capped = openLayerFile(doc, '/var/log/app/app.log')!;
  assert.deepEqual(capped.read(() => true, 5), { bytesRead: 5, stopped: true });
});

test('links on the way, FIFOs, folders, missing files and odd paths are left to the engine', () => {
  assert.equal(openLayerFile(doc, '/conf/x.conf'), undefined, 'through a link');
  assert.equal(openLayerFile(doc, '/var/log/app/pipe'), undefined, 'a FIFO');
  assert.equal(openLayerFile(doc, '/var/log/app'), undefined, 'a folder');
  assert.equal(openLayerFile(doc, '/etc/passwd'), undefined, 'not in this layer: from the image');
  assert.equal(openLayerFile(doc, '/var/log/../log/app/app.log'), undefined);
  assert.equal(openLayerFile(doc, 'var/log/app/app.log'), undefined);
  assert.equal(openLayerFile(doc, '/var//log/app/app.log'), undefined);
});

test('volumes, tmpfs and the engine-managed /etc files cover the layer', () => {
  assert.equal(openLayerFile(doc, '/data/in-volume.log'), undefined);
  assert.equal(openLayerFile(doc, '/etc/hosts'), undefined);
  assert.equal(openLayerFile({ ...doc, HostsPath: '' }, '/etc/hosts') !== undefined, true, 'without the engine file it is the layer file');
  assert.equal(openLayerFile({ ...doc, HostConfig: { Tmpfs: { '/var/log': '' } } }, '/var/log/app/app.log'), undefined);
});

test('only overlay2 with an upper directory', () => {
  assert.equal(openLayerFile({ ...doc, GraphDriver: { Name: 'btrfs', Data: { UpperDir: upper } } }, '/var/log/app/app.log'), undefined);
  assert.equal(openLayerFile({ ...doc, GraphDriver: { Name: 'overlay2', Data: null } }, '/var/log/app/app.log'), undefined);
});
