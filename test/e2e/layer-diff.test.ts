// A stopped container's changes read from its layers (src/engine/docker/layer-diff.ts) must be the engine's own
// list, in every overlay case: files and folders added, changed, deleted, a type swapped, a folder made opaque,
// image layers over image layers, one of them opaque. Where the layers cannot say for sure, porthole must ask the
// engine (its request is in the trace); where they can, it must not.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, ensureBusyboxImage, removeContainers, uniqueName } from '../support/docker.js';

const sortedLines = (text: string) => text.split('\n').filter(Boolean).sort();
const made: string[] = [];
const images: string[] = [];
let layered = '';
let opaqueLayer = '';

function stopped(script: string, image = BUSYBOX_IMAGE): string {
  const name = uniqueName('ldiff');
  made.push(name);
  docker(['run', '--name', name, '--label', TEST_LABEL, image, 'sh', '-ec', script]);
  return name;
}

/** An image of two or more layers: `script` run on `from`, committed. */
function commit(from: string, script: string): string {
  const c = stopped(script, from);
  const ref = `porthole-test/ldiff-${process.pid}-${images.length}:1`;
  docker(['commit', c, ref]);
  images.push(ref);
  return ref;
}

/** porthole diff's lines, docker diff's lines, and whether porthole asked the engine for them. */
async function both(name: string): Promise<{ ours: string[]; engine: string[]; askedEngine: boolean; fromLayers: boolean }> {
  const r = await porthole(['diff', name], { env: { PORTHOLE_TRACE: '1' } });
  assert.equal(r.code, 0, r.stderr);
  return {
    ours: sortedLines(r.stdout),
    engine: sortedLines(docker(['diff', name])),
    askedEngine: /GET \/v[\d.]+\/containers\/[0-9a-f]+\/changes /.test(r.stderr),
    fromLayers: /changes of [0-9a-f]+ read from its layers/.test(r.stderr),
  };
}

before(() => {
  ensureBusyboxImage();
  layered = commit(BUSYBOX_IMAGE, 'mkdir -p /opt/base/keep /etc/conf.d && echo one > /etc/conf.d/a && echo b > /opt/base/b && echo k > /opt/base/keep/k');
  // a folder emptied and made again in an image layer: opaque there (an extended attribute), hiding the layer below
  opaqueLayer = commit(layered, 'rm -rf /opt/base && mkdir /opt/base && echo fresh > /opt/base/fresh');
});
after(() => {
  removeContainers(...made);
  for (const ref of images) docker(['rmi', ref]);
});

const sure: [string, string, string?][] = [
  ['nothing written', 'true'],
  ['added, changed, deleted, linked', 'mkdir -p /app/sub && echo x > /app/sub/f && echo extra >> /etc/passwd && chmod 600 /etc/group && rm /bin/ls && rm -rf /home/app && ln -s /etc/passwd /app/pw && echo t > /tmp/t'],
  ['a file replaced by a folder, a folder by a file', 'rm /etc/passwd && mkdir /etc/passwd && echo y > /etc/passwd/y && rm -rf /var/log && echo f > /var/log'],
  ['a file written again with the same content', 'cp /etc/group /tmp/g && rm /etc/group && cp /tmp/g /etc/group && rm /tmp/g'],
  ['owner and mode of a folder', 'chown 1000:1000 /home/app && chmod 700 /root'],
  ['a base-layer file under a folder the top layer also holds', 'echo more >> /etc/group && echo two > /etc/conf.d/b && rm /opt/base/b', 'layered'],
];
for (const [what, script, image] of sure) {
  test(`diff from the layers equals docker diff: ${what}`, async () => {
    const c = stopped(script, image === 'layered' ? layered : BUSYBOX_IMAGE);
    const r = await both(c);
    assert.deepEqual(r.ours, r.engine);
    assert.ok(r.fromLayers && !r.askedEngine, 'read from the layers, without the engine\'s walk');
  });
}

const unsure: [string, string, string?][] = [
  // rm -rf + mkdir: the new folder is opaque, the image's names in it are deleted; only an xattr says so
  ['a folder made opaque by the container', 'rm -rf /home && mkdir /home && echo n > /home/new'],
  // opened for appending, nothing written: copied up unchanged (a capability would look the same)
  ['a file copied up with nothing changed', ': >> /etc/passwd'],
  // the image's own opaque folder hides the layer below: a name from there is not seen
  ['a folder opaque in an image layer', 'echo more > /opt/base/more', 'opaque'],
];
for (const [what, script, image] of unsure) {
  test(`diff asks the engine where the layers cannot say for sure: ${what}`, async () => {
    const c = stopped(script, image === 'opaque' ? opaqueLayer : BUSYBOX_IMAGE);
    const r = await both(c);
    assert.deepEqual(r.ours, r.engine);
    assert.ok(r.askedEngine && !r.fromLayers, 'the engine\'s walk was used');
  });
}

test('an opaque image layer is not read through: a container that did not touch it diffs from the layers', async () => {
  const c = stopped('echo y > /tmp/y', opaqueLayer);
  const r = await both(c);
  assert.deepEqual(r.ours, r.engine);
  assert.ok(r.fromLayers && !r.askedEngine);
  // and the opaque folder's hidden file does not show through (the engine's view of the container)
  const ls = await porthole(['ls', `${c}:/opt/base`]);
  assert.doesNotMatch(ls.stdout, /\bb\b|keep/);
});

test('a running container, and PORTHOLE_LAYER_READS=0, go to the engine', async () => {
  const name = uniqueName('ldiff-run');
  made.push(name);
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', 'echo x > /tmp/x; exec sleep 600']);
  const r = await both(name);
  assert.deepEqual(r.ours, r.engine);
  assert.ok(r.askedEngine && !r.fromLayers);
  const c = stopped('echo x > /tmp/x');
  const off = await porthole(['diff', c], { env: { PORTHOLE_TRACE: '1', PORTHOLE_LAYER_READS: '0' } });
  assert.match(off.stderr, /\/changes /);
  assert.deepEqual(sortedLines(off.stdout), sortedLines(docker(['diff', c])));
});
