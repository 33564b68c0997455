// `porthole cp - pod/X:DEST` (a tar on stdin) on the real test cluster, through the built CLI: the tar is read whole
// before anything is sent, its entry names are checked (absolute, `..`, a file through a link the tar itself made,
// hardlinks out, devices), and every folder it writes into is checked in the pod for a link (`/tmp/trap/conf ->
// /etc`). Each hostile tar is crafted here; afterwards the pod's files are checked: nothing written anywhere.
// The same tars go to a Docker container through `cp - C:DEST`, which keeps the same name rules.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { craftTar } from '../support/cp.js';
import { docker, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { apply, clusterKubeconfig, deleteNamespace, kubectlOk, makeNamespace, podManifest, skipReason, waitForReady } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes cp-from-stdin tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });
const container = uniqueName('k8s-more-stdin');

function inPod(script: string): string {
  return kubectlOk(['exec', '-n', ns, 'box', '--', 'sh', '-c', script]);
}

/** What the pod holds where the hostile tars aim: /tmp/in, /tmp/trap, and the files they would plant in /etc. */
function podState(): string {
  return inPod('ls -la /tmp/in /tmp/trap; ls /etc; ls / ; ls /tmp');
}

before(async () => {
  if (skip) return;
  ns = makeNamespace('cp-stdin');
  apply(ns, podManifest('box', { containers: [{ name: 'main', command: ['sh', '-c', 'mkdir -p /tmp/in /tmp/trap && ln -s /etc /tmp/trap/conf && exec sleep 100000'] }] }));
  await waitForReady(ns, 'box');
  ensureBusyboxImage();
  runContainer(container, [], undefined, ['sh', '-c', 'mkdir -p /in && ln -s /etc /in/conf && exec sleep 100000']);
});

after(() => {
  if (skip) return;
  deleteNamespace(ns);
  removeContainers(container);
});

const HOSTILE: { what: string; tar: Buffer; says: RegExp }[] = [
  { what: 'a name climbing out with ..', tar: craftTar([{ name: 'ok', body: 'fine\n' }, { name: '../escape', body: 'pwned\n' }]), says: /its entry \.\.\/escape is refused, its name climbs out with \.\./ },
  { what: 'a name climbing out mid-path', tar: craftTar([{ name: 'a/', type: 'dir' }, { name: 'a/../../escape', body: 'pwned\n' }]), says: /its entry a\/\.\.\/\.\.\/escape is refused, its name climbs out with \.\./ },
  { what: 'an absolute name', tar: craftTar([{ name: '/etc/planted', body: 'pwned\n' }]), says: /its entry \/etc\/planted is refused, its name is absolute/ },
  {
    what: 'a file through a link the tar makes',
    tar: craftTar([{ name: 'evil', type: 'symlink', linkname: '/etc' }, { name: 'evil/planted', body: 'pwned\n' }]),
    says: /its entry evil\/planted is refused, its folder evil is a symbolic link made earlier in this tar/,
  },
  {
    what: 'a chain of links',
    tar: craftTar([{ name: 'l2', type: 'symlink', linkname: '/etc' }, { name: 'l1', type: 'symlink', linkname: 'l2' }, { name: 'l1/planted', body: 'pwned\n' }]),
    says: /its entry l1\/planted is refused, its folder l1 is a symbolic link made earlier in this tar/,
  },
  { what: 'a hardlink out', tar: craftTar([{ name: 'hl', type: 'hardlink', linkname: '/etc/passwd' }]), says: /its entry hl is refused, it is a hardlink to \/etc\/passwd, and that name is absolute/ },
  { what: 'a hardlink before its target', tar: craftTar([{ name: 'hl', type: 'hardlink', linkname: 'later' }, { name: 'later', body: 'x' }]), says: /it is a hardlink to later, which is not a file this tar made before it/ },
];

for (const c of HOSTILE) {
  test(`cp - pod/X:DEST refuses ${c.what}, before anything is sent`, { skip }, async () => {
    const before = podState();
    const r = await porthole(['-n', ns, 'cp', '-', 'pod/box:/tmp/in'], { input: c.tar, env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^porthole: Refused to copy the tar on stdin into pod\/box:\/tmp\/in: /);
    assert.match(r.stderr, c.says);
    assert.match(r.stderr, /nothing was copied\./);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.equal(podState(), before);
    // Docker: the same tar, the same rule, the same exit code.
    const d = await porthole(['cp', '-', `${container}:/in`], { input: c.tar });
    assert.equal(d.code, 1, d.stderr);
    assert.match(d.stderr, new RegExp(`^porthole: Refused to copy the tar on stdin into ${container}:/in: `));
    assert.match(d.stderr, c.says);
    assert.equal(docker(['exec', container, 'ls', '/in']).trim(), 'conf');
    assert.doesNotMatch(docker(['exec', container, 'ls', '/etc']), /planted/);
  });
}

test('cp - pod/X:DEST refuses a tar whose folder is a link in the pod (as cp SRC does)', { skip }, async () => {
  const tar = craftTar([{ name: 'conf/', type: 'dir' }, { name: 'conf/planted', body: 'pwned\n' }]);
  const r = await porthole(['-n', ns, 'cp', '-', 'pod/box:/tmp/trap'], { input: tar, env: env() });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    'porthole: Refused to copy into pod/box:/tmp/trap: /tmp/trap/conf in the pod is a symbolic link to /etc, and tar would write through it; nothing was copied. Remove the link in the pod, or copy to another folder.\n',
  );
  assert.equal(inPod('ls /etc/planted 2>/dev/null; echo end'), 'end\n');
  // A file entry under it without a folder entry is caught the same way.
  const bare = await porthole(['-n', ns, 'cp', '-', 'pod/box:/tmp/trap'], { input: craftTar([{ name: 'conf/planted', body: 'x' }]), env: env() });
  assert.equal(bare.code, 1, bare.stderr);
  assert.match(bare.stderr, /\/tmp\/trap\/conf in the pod is a symbolic link to \/etc/);
  assert.equal(inPod('ls /etc/planted 2>/dev/null; echo end'), 'end\n');
});

test('cp - pod/X:DEST: a tar that is not one, or is empty, is one sentence', { skip }, async () => {
  const garbage = await porthole(['-n', ns, 'cp', '-', 'pod/box:/tmp/in'], { input: Buffer.alloc(2048, 0x41), env: env() });
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /^porthole: The tar on stdin cannot be read \(.*\); nothing was copied\./);
  const empty = await porthole(['-n', ns, 'cp', '-', 'pod/box:/tmp/in'], { input: Buffer.alloc(1024), env: env() });
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^porthole: The tar on stdin holds no entries; nothing was copied\./);
});

test('cp - pod/X:DEST: a good tar (folders, links, hardlinks within) lands exactly, and no temporary copy is left', { skip }, async () => {
  const tar = craftTar([
    { name: 'pkg/', type: 'dir', mode: 0o755 },
    { name: 'pkg/sub/', type: 'dir', mode: 0o755 },
    { name: 'pkg/sub/a', body: 'alpha\n', mode: 0o644 },
    { name: './pkg/b', body: 'beta\n', mode: 0o644 },
    { name: 'pkg/hl', type: 'hardlink', linkname: 'pkg/sub/a' },
    { name: 'pkg/to-etc', type: 'symlink', linkname: '/etc' },
  ]);
  const r = await porthole(['-n', ns, 'cp', '-q', '-', 'pod/box:/tmp/in'], { input: tar, env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(inPod('cat /tmp/in/pkg/sub/a /tmp/in/pkg/b /tmp/in/pkg/hl; readlink /tmp/in/pkg/to-etc'), 'alpha\nbeta\nalpha\n/etc\n');
  const d = await porthole(['cp', '-q', '-', `${container}:/in`], { input: tar });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(docker(['exec', container, 'cat', '/in/pkg/sub/a', '/in/pkg/b', '/in/pkg/hl']).trim(), 'alpha\nbeta\nalpha');
  assert.deepEqual(readdirSync(tmpdir()).filter((n) => n.startsWith('porthole-stdin-')), []);
});
