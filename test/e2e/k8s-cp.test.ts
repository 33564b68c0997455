// `porthole cp` with pods on the real test cluster, through the built CLI: a file and a folder out, a file and a
// folder in, and the kubectl cp CVEs (CVE-2018-1002100, CVE-2019-1002101, CVE-2019-11246, CVE-2019-11249) done for
// real: a pod whose `tar` sends ../ names, absolute names, links out of DEST and files through them, hardlinks to a
// host file; a pod that keeps swapping a file and a folder for links while it is copied; a link in the pod that a
// copy in would write through. Then a shell-less pod read through the toolbox with its files unchanged. Each
// outcome is checked on disk (nothing outside DEST, the host canary never copied or changed) and on screen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { craftTar, snapshotTree } from '../support/cp.js';
import { apply, BUSYBOX, clusterKubeconfig, deleteNamespace, kubectlOk, kubectlPath, makeNamespace, manifests, PAUSE, podManifest, skipReason, waitForReady } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes cp tests: ${skip}`);
let ns = '';
const env = (extra: Record<string, string> = {}) => ({ KUBECONFIG: clusterKubeconfig()!, ...extra });
const work = mkdtempSync(join(tmpdir(), 'pt-k8s-cp-'));
// A folder on the host beside every DEST, with a canary file: hostile entries aim at it.
const outside = join(work, 'outside');
const CANARY = 'host-canary-do-not-copy\n';

function fresh(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function exec(pod: string, container: string, script: string): string {
  return kubectlOk(['exec', '-n', ns, pod, '-c', container, '--', 'sh', '-c', script]);
}

/**
 * The crafted stream the hostile pod sends when porthole asks for a tar: every trick of the kubectl cp CVEs. (busybox's
 * sh runs its own tar applet whatever /bin/tar is, so the pod replaces /bin/sh, as a pod controls all its tools.)
 */
function hostileTar(): Buffer {
  return craftTar([
    { name: 'data/', type: 'dir', mode: 0o755 },
    { name: 'data/ok', body: 'fine\n', mode: 0o644 },
    { name: 'data/../../escape-dotdot', body: 'pwned\n' },
    { name: '../escape-parent', body: 'pwned\n' },
    { name: `${outside}/abs-escape`, body: 'pwned\n' },
    { name: 'data/up', type: 'symlink', linkname: '../../..' },
    { name: 'data/up/escape-through-up', body: 'pwned\n' },
    { name: 'data/evil', type: 'symlink', linkname: outside },
    { name: 'data/evil/canary', body: 'pwned\n' },
    { name: 'data/evil/new', body: 'pwned\n' },
    { name: 'data/l1', type: 'symlink', linkname: 'l2' },
    { name: 'data/l2', type: 'symlink', linkname: 'evil' },
    { name: 'data/l1/chain', body: 'pwned\n' },
    { name: 'data/hl', type: 'hardlink', linkname: `${outside}/canary` },
    { name: 'data/hl2', type: 'hardlink', linkname: 'data/../../outside/canary' },
    { name: 'data/root', type: 'symlink', linkname: '/' },
    { name: `data/root${outside}/through-root`, body: 'pwned\n' },
  ]);
}

before(async () => {
  if (skip) return;
  mkdirSync(outside);
  writeFileSync(join(outside, 'canary'), CANARY);
  ns = makeNamespace('cp');
  apply(
    ns,
    manifests(
      `
apiVersion: v1
kind: ConfigMap
metadata: { name: evil }
binaryData:
  evil.tar: ${hostileTar().toString('base64')}
`,
      podManifest('box', {
        containers: [
          {
            name: 'main',
            script: `mkdir -p /data/sub/deeper /data/empty
echo hello > /data/plain
head -c 300000 /dev/urandom > /data/sub/random.bin
echo deep > /data/sub/deeper/f
ln -s /etc/passwd /data/link
ln -s ${outside} /data/to-host
chmod 4755 /data/plain
printf x > "/data/$(printf 'esc\\033]0;owned\\007')"
mkdir -p /tmp/in /tmp/trap /big
ln -s /etc /tmp/trap/conf
head -c 134217728 /dev/zero > /big/file
exec sleep 100000`,
          },
          { name: 'ro', command: ['sleep', '100000'], yaml: ['securityContext: { readOnlyRootFilesystem: true }'] },
        ],
      }),
      podManifest('evil', {
        spec: ['volumes:', '- { name: evil, configMap: { name: evil } }'],
        containers: [{ name: 'main', yaml: ['volumeMounts: [{ name: evil, mountPath: /evil }]'], script: `mkdir -p /data && echo fine > /data/ok
rm /bin/sh
printf '#!/bin/busybox sh\\ncase "$2" in *"tar cf"*) printf "D/data\\\\0"; exec /bin/busybox cat /evil/evil.tar;; esac\\nexec /bin/busybox sh "$@"\\n' > /bin/sh
chmod 755 /bin/sh
exec /bin/busybox sleep 100000` }],
      }),
      podManifest('swap', { containers: [{ name: 'main', script: `mkdir -p /s
while :; do
  rm -rf /s/f /s/d; echo pod > /s/f; mkdir /s/d; echo pod > /s/d/in
  rm -rf /s/f /s/d; ln -s ${outside}/canary /s/f; ln -s ${outside} /s/d
done` }] }),
      podManifest('bare', { containers: [{ name: 'app', image: PAUSE }] }),
    ),
  );
  for (const pod of ['box', 'evil', 'swap', 'bare']) await waitForReady(ns, pod);
});

after(() => {
  if (ns) deleteNamespace(ns);
  rmSync(work, { recursive: true, force: true });
});

function assertOutsideUntouched(): void {
  assert.deepEqual(Object.keys(snapshotTree(outside)), ['canary'], 'nothing was written beside the canary');
  assert.equal(readFileSync(join(outside, 'canary'), 'utf8'), CANARY, 'the canary is unchanged');
}

/** Every regular file below `dir`: none may hold the host canary. */
function assertCanaryNotCopied(dir: string): void {
  for (const [path, entry] of Object.entries(snapshotTree(dir))) {
    if (entry.type === 'file') assert.notEqual(readFileSync(join(dir, path), 'utf8'), CANARY, `${path} holds the host canary`);
  }
}

test('cp pod/X:FILE and pod/X:FOLDER out: bytes as kubectl exec cat gives them, links kept as links, setuid dropped', { skip }, async () => {
  const dest = fresh('out');
  const file = await porthole(['-n', ns, 'cp', 'pod/box:/data/sub/random.bin', join(dest, 'r.bin')], { env: env() });
  assert.equal(file.code, 0, file.stderr);
  assert.equal(file.stderr, '');
  const reference = spawnSync(kubectlPath(), ['--kubeconfig', clusterKubeconfig()!, 'exec', '-n', ns, 'box', '--', 'cat', '/data/sub/random.bin'], { maxBuffer: 1 << 24 });
  assert.ok(readFileSync(join(dest, 'r.bin')).equals(reference.stdout));

  const folder = await porthole(['-n', ns, 'cp', 'pod/box/main:/data', join(dest, 'copy')], { env: env() });
  assert.equal(folder.code, 0, folder.stderr);
  const tree = snapshotTree(join(dest, 'copy'));
  assert.deepEqual(Object.keys(tree).sort(), ['empty', 'esc\x1b]0;owned\x07', 'link', 'plain', 'sub', 'sub/deeper', 'sub/deeper/f', 'sub/random.bin', 'to-host'].sort());
  assert.equal(tree.link!.target, '/etc/passwd');
  assert.equal(tree['to-host']!.type, 'symlink');
  assert.equal(tree.plain!.mode, 0o755, 'setuid dropped');
  assert.equal(tree.plain!.uid, process.getuid!(), 'owned by the user running porthole');
  assert.equal(readFileSync(join(dest, 'copy/sub/deeper/f'), 'utf8'), 'deep\n');

  // SRC/. into an existing folder: the contents; `-` as DEST: the tar itself
  const into = fresh('into');
  const dot = await porthole(['-n', ns, 'cp', 'pod/box:/data/sub/.', into], { env: env() });
  assert.equal(dot.code, 0, dot.stderr);
  assert.deepEqual(Object.keys(snapshotTree(into)).sort(), ['deeper', 'deeper/f', 'random.bin']);
  const tar = await porthole(['-n', ns, 'cp', 'pod/box:/data/sub', '-'], { env: env() });
  assert.equal(tar.code, 0, tar.stderr);
  const listed = spawnSync('tar', ['t'], { input: tar.stdoutBytes, encoding: 'utf8' });
  assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['sub/', 'sub/deeper/', 'sub/deeper/f', 'sub/random.bin']);

  // -L follows a link at SRC inside the pod, and keeps the name asked
  const followed = await porthole(['-n', ns, 'cp', '-L', 'pod/box:/data/link', `${dest}/`], { env: env() });
  assert.equal(followed.code, 0, followed.stderr);
  assert.equal(snapshotTree(dest).link!.type, 'file');
  assert.match(readFileSync(join(dest, 'link'), 'utf8'), /^root:/);

  // A copy onto the link it left: refused, as for a container (docs/cp.md)
  const onto = await porthole(['-n', ns, 'cp', 'pod/box:/data/plain', join(dest, 'copy/to-host')], { env: env() });
  assert.equal(onto.code, 2);
  assert.match(onto.stderr, /is a symbolic link to .*porthole does not write through links/);
  assertOutsideUntouched();
});

test('a pod whose tar sends ../ names, absolute names, links out and files through them, hardlinks out: nothing lands outside DEST', { skip }, async () => {
  const dest = fresh('hostile');
  const r = await porthole(['-n', ns, 'cp', 'pod/evil:/data', join(dest, 'got')], { env: env() });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  for (const name of ['data/../../escape-dotdot', '../escape-parent', `${outside}/abs-escape`, 'data/up/escape-through-up', 'data/evil/canary', 'data/evil/new', 'data/l1/chain', 'data/hl', 'data/hl2', `data/root${outside}/through-root`]) {
    assert.ok(r.stderr.includes(`refused ${name}:`), `${name} not named as refused in:\n${r.stderr}`);
  }
  assert.match(r.stderr, /but refused 10 entries that would have been written outside it or through a link/);
  const tree = snapshotTree(dest);
  assert.deepEqual(Object.keys(tree).sort(), ['got', 'got/evil', 'got/l1', 'got/l2', 'got/ok', 'got/root', 'got/up']);
  assert.equal(readFileSync(join(dest, 'got/ok'), 'utf8'), 'fine\n');
  for (const link of ['evil', 'l1', 'l2', 'root', 'up']) assert.equal(tree[`got/${link}`]!.type, 'symlink', `${link} is made as a link, never a folder`);
  assertOutsideUntouched();
  assertCanaryNotCopied(dest);
  // where the names and links aimed: beside DEST, above the work folder
  for (const aimed of [join(work, 'escape-dotdot'), join(work, 'escape-parent'), join(work, '..', 'escape-through-up')]) assert.ok(!existsSync(aimed), `${aimed} was written`);
});

test('a pod that keeps swapping a file and a folder for links to the host while it is copied: the canary is copied and changed zero times', { skip }, async () => {
  let copied = 0;
  for (let i = 0; i < 12; i++) {
    const dest = fresh(`swap${i}`);
    const r = await porthole(['-n', ns, 'cp', 'pod/swap:/s', join(dest, 's')], { env: env() });
    // tar in the pod may see a name vanish under it (exit 1, said); never another failure
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.doesNotMatch(r.stderr, /host-canary/);
    if (r.code === 0) copied++;
    const tree = snapshotTree(dest);
    for (const [path, entry] of Object.entries(tree)) {
      if (entry.type === 'symlink') assert.ok([outside, `${outside}/canary`].includes(entry.target!), `${path} -> ${entry.target}`);
      // a file caught between its creation and its write is empty; never anything but the pod's own bytes
      else if (entry.type === 'file') assert.ok(['pod\n', ''].includes(readFileSync(join(dest, path), 'utf8')), path);
      else assert.equal(entry.type, 'dir', path);
    }
    assertOutsideUntouched();
  }
  assert.ok(copied > 0, 'at least one copy went through whole');
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} in the middle of a copy out of a pod: a prompt stop, nothing of the copy left in DEST`, { skip }, async () => {
    const dest = fresh(`stop-${signal}`);
    const child = spawnPorthole(['-n', ns, 'cp', 'pod/box:/big', join(dest, 'big')], env());
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const until = Date.now() + 60_000;
    // under way: the folder (or the file's temporary name) is there
    while (!readdirSync(dest).length) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the copy never got under way: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const sentAt = Date.now();
    child.kill(signal);
    assert.equal(await exited, code, stderr);
    assert.ok(Date.now() - sentAt < 5000, 'stopped promptly');
    assert.deepEqual(readdirSync(dest), []);
    assert.match(stderr, /The copy was stopped; what it had created in .*\/big was removed\.\n$/);
  });
}

test('cp HOST pod/X:DEST in: a file and a folder, links sent as links, ids root; a link in the pod is refused before anything is sent', { skip }, async () => {
  const src = fresh('src');
  mkdirSync(join(src, 'tree/sub'), { recursive: true });
  writeFileSync(join(src, 'tree/a'), 'one\n');
  writeFileSync(join(src, 'tree/sub/b'), 'two\n');
  symlinkSync('/etc/hostname', join(src, 'tree/l'));
  writeFileSync(join(src, 'single'), 'single\n');
  const file = await porthole(['-n', ns, 'cp', join(src, 'single'), 'pod/box:/tmp/in/renamed'], { env: env() });
  assert.equal(file.code, 0, file.stderr);
  assert.equal(exec('box', 'main', 'cat /tmp/in/renamed'), 'single\n');
  const folder = await porthole(['-n', ns, 'cp', join(src, 'tree'), 'pod/box:/tmp/in/'], { env: env() });
  assert.equal(folder.code, 0, folder.stderr);
  assert.equal(exec('box', 'main', 'cat /tmp/in/tree/a /tmp/in/tree/sub/b; readlink /tmp/in/tree/l; stat -c %u:%g /tmp/in/tree/a'), 'one\ntwo\n/etc/hostname\n0:0\n');

  // /tmp/trap/conf is a link to /etc in the pod: a folder `conf` copied into /tmp/trap would be written into /etc
  mkdirSync(join(src, 'conf'));
  writeFileSync(join(src, 'conf/passwd'), 'pwned\n');
  const before = exec('box', 'main', 'cat /etc/passwd');
  const trap = await porthole(['-n', ns, 'cp', join(src, 'conf'), 'pod/box:/tmp/trap'], { env: env() });
  assert.equal(trap.code, 1);
  assert.equal(trap.stderr, `porthole: Refused to copy into pod/box:/tmp/trap: /tmp/trap/conf in the pod is a symbolic link to /etc, and tar would write through it; nothing was copied. Remove the link in the pod, or copy to another folder.\n`);
  assert.equal(exec('box', 'main', 'cat /etc/passwd'), before);

  const readOnly = await porthole(['-n', ns, 'cp', join(src, 'single'), 'pod/box/ro:/etc/'], { env: env() });
  assert.equal(readOnly.code, 1);
  // busybox's test -w does not see a read-only mount (as root), so tar's own refusal is what is said
  assert.match(readOnly.stderr, /^porthole: pod\/box\/ro:\/etc\/ (is on a read-only file system in container ro of pod box: tar: .*Read-only file system|cannot be written: the folder \/etc is read-only for container ro of pod box .*)\. Copy to a writable volume or \/tmp instead\.\n$/);

  const missing = await porthole(['-n', ns, 'cp', join(src, 'single'), 'pod/box:/no/such/dir/x'], { env: env() });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^porthole: The folder \/no\/such\/dir does not exist in container main of pod box, so pod\/box:\/no\/such\/dir\/x cannot be created\. /);
});

test('errors: a missing path, a wrong container, a container without sh or tar: exit code and one sentence', { skip }, async () => {
  const dest = fresh('errors');
  const missing = await porthole(['-n', ns, 'cp', 'pod/box:/data/nope', dest], { env: env() });
  assert.equal(missing.code, 3);
  assert.equal(missing.stderr, 'porthole: /data/nope: no such file or folder in container main of pod box.\n');
  const wrong = await porthole(['-n', ns, 'cp', 'pod/box/nope:/data', dest], { env: env() });
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /^porthole: Pod box has no container "nope"\. Its containers: main, ro\.\n$/);
  const notDir = await porthole(['-n', ns, 'cp', 'pod/box:/data/plain/.', dest], { env: env() });
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /\/data\/plain\/\. in container main of pod box is not a folder/);
  const bare = await porthole(['-n', ns, 'cp', 'pod/bare:/pause', dest], { env: env() });
  assert.equal(bare.code, 6);
  assert.equal(
    bare.stderr,
    'porthole: container app of pod bare has no shell (sh), which porthole needs to reach its files in a pod. Read them through a toolbox container: --toolbox IMAGE (an image the node can get, with sh and tar; busybox has them), or set PORTHOLE_K8S_TOOLBOX=IMAGE.\n',
  );
  assert.deepEqual(snapshotTree(dest), {});
});

test('a shell-less pod through the toolbox: --yes needed without a terminal, then ls/cat/find/grep/cp read it; its files unchanged; reused', { skip }, async () => {
  const ephemeral = () => kubectlOk(['get', 'pod', 'bare', '-n', ns, '-o', 'jsonpath={.spec.ephemeralContainers[*].name}']).trim();
  const refused = await porthole(['-n', ns, 'ls', '--toolbox', BUSYBOX, 'pod/bare', '/'], { env: env() });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /reading files through a toolbox: adding an ephemeral container from localhost\/busybox:local to pod\/bare\. Kubernetes cannot remove ephemeral containers/);
  assert.match(refused.stderr, /Add --yes to agree/);
  assert.equal(ephemeral(), '');

  // on a terminal it asks; "n" adds nothing
  const asked = await portholeInTty(['-n', ns, 'cat', '--toolbox', BUSYBOX, 'pod/bare', '/etc/hostname'], 'n\r', { env: env() });
  assert.equal(asked.code, 1, asked.stdout);
  assert.match(asked.stdout, /Add it\? \[y\/N\]/);
  assert.match(asked.stdout, /Not added: nothing was changed/);
  assert.equal(ephemeral(), '');

  const ls = await porthole(['-n', ns, 'ls', '--toolbox', BUSYBOX, '--yes', 'pod/bare', '/'], { env: env(), timeoutMs: 120_000 });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^pause$/m);
  assert.doesNotMatch(ls.stdout, /^bin$/m, 'the target\'s root, not the toolbox\'s');
  const toolbox = ephemeral();
  assert.match(toolbox, /^porthole-toolbox-[0-9a-f]{12}$/);

  const listing = async () => {
    const r = await porthole(['-n', ns, 'find', '--json', 'pod/bare', '/', '--type', 'f'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`container app has no shell \\(sh\\); reading through the toolbox container ${toolbox} already in pod/bare`));
    return (JSON.parse(r.stdout) as { path: string; size: number; mtime: string }[]).filter((e) => !e.path.startsWith('/dev/') && !e.path.startsWith('/var/run/secrets'));
  };
  const first = await listing();
  assert.ok(first.some((e) => e.path === '/pause'));

  const dest = fresh('toolbox');
  const cp = await porthole(['-n', ns, 'cp', 'pod/bare:/pause', join(dest, 'pause')], { env: env() });
  assert.equal(cp.code, 0, cp.stderr);
  const sum = kubectlOk(['exec', '-n', ns, 'bare', '-c', toolbox, '--', 'md5sum', '/proc/1/root/pause']).split(' ')[0];
  const mine = spawnSync('md5sum', [join(dest, 'pause')], { encoding: 'utf8' }).stdout.split(' ')[0];
  assert.equal(mine, sum);
  const folder = await porthole(['-n', ns, 'cp', 'pod/bare:/etc', join(dest, 'etc')], { env: env() });
  assert.equal(folder.code, 0, folder.stderr);
  assert.ok(Object.keys(snapshotTree(join(dest, 'etc'))).includes('hostname'));
  const cat = await porthole(['-n', ns, 'cat', 'pod/bare', '/etc/hostname'], { env: env() });
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'bare\n');
  const grep = await porthole(['-n', ns, 'grep', 'pod/bare', 'bare', '/etc/hostname'], { env: env() });
  assert.equal(grep.code, 0, grep.stderr);
  assert.equal(grep.stdout, 'bare\n');

  assert.deepEqual(await listing(), first, 'the target container\'s files changed');
  assert.equal(ephemeral(), toolbox, 'reused, not added again');
  assert.equal(kubectlOk(['get', 'pod', 'bare', '-n', ns, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']).trim(), '0');

  // and in, through the same toolbox (root in the toolbox, chrooted to the target's files)
  writeFileSync(join(dest, 'note'), 'into a distroless pod\n');
  const into = await porthole(['-n', ns, 'cp', join(dest, 'note'), 'pod/bare:/etc/'], { env: env() });
  assert.equal(into.code, 0, into.stderr);
  const back = await porthole(['-n', ns, 'cat', 'pod/bare', '/etc/note'], { env: env() });
  assert.equal(back.stdout, 'into a distroless pod\n');
});
