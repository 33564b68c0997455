// `porthole cat` and `porthole ls` on pod/X[/C] on the real test cluster, through the built CLI: bytes exact, a
// missing path is exit 3 with a sentence, hostile names (an escape sequence, a newline) escaped for the terminal
// and exact in --json, a container not in the pod, a container with no shell. One namespace, deleted afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { porthole } from '../support/cli.js';
import { apply, clusterKubeconfig, kubectlPath, PAUSE, podManifest, skipReason, useNamespace, waitForReady } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes file tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });
// The test cluster's pause image is one static binary, /pause: a container with no shell at all.

useNamespace('files', async (made) => {
  ns = made;
  apply(
    ns,
    podManifest('box', {
      containers: [
        {
          name: 'main',
          script: `mkdir -p /data/sub /data/.hidden
echo hello > /data/plain
head -c 200000 /dev/urandom > /data/random.bin
printf x > "/data/$(printf 'new\\nline')"
printf y > "/data/$(printf 'esc\\033]0;owned\\007\\033[31mred')"
ln -s /etc /data/link
exec sleep 100000`,
        },
        { name: 'bare', image: PAUSE },
      ],
    }),
  );
  await waitForReady(ns, 'box', 2);
});

test('cat pod/X PATH: the bytes exactly as kubectl exec cat gives them; pod/X/C picks the container', { skip }, async () => {
  const plain = await porthole(['-n', ns, 'cat', 'pod/box', '/data/plain'], { env: env() });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, 'hello\n');
  assert.equal(plain.stderr, '');

  const mine = await porthole(['-n', ns, 'cat', 'pod/box/main', '/data/random.bin'], { env: env(), timeoutMs: 60_000 });
  assert.equal(mine.code, 0, mine.stderr);
  const reference = spawnSync(kubectlPath(), ['--kubeconfig', clusterKubeconfig()!, 'exec', '-n', ns, 'box', '-c', 'main', '--', 'cat', '/data/random.bin'], { maxBuffer: 1 << 24 });
  assert.equal(reference.stdout.length, 200_000);
  assert.ok(mine.stdoutBytes.equals(reference.stdout), `bytes differ: ${mine.stdoutBytes.length} received`);
});

test('cat of a missing file is exit 3 and one sentence; the other files are still printed', { skip }, async () => {
  const r = await porthole(['-n', ns, 'cat', 'pod/box', '/data/nope', '/data/plain'], { env: env() });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.stderr, 'porthole: /data/nope: no such file or folder in container main of pod box.\n');

  const folder = await porthole(['-n', ns, 'cat', 'pod/box', '/data'], { env: env() });
  assert.equal(folder.code, 3);
  assert.match(folder.stderr, /\/data is a folder, not a file/);
});

test('ls of a folder with hostile names: escaped for the terminal, one line each, no control byte reaches stdout', { skip }, async () => {
  const r = await porthole(['-n', ns, 'ls', 'pod/box', '/data'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ['esc\\e]0;owned\\x07\\e[31mred', 'link', 'new\\nline', 'plain', 'random.bin', 'sub', ''].join('\n'));
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f]/);

  const all = await porthole(['-n', ns, 'ls', '-la', 'pod/box', '/data'], { env: env() });
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 7, all.stdout);
  assert.match(all.stdout, /^drwxr-xr-x root +root .* \.hidden$/m);
  assert.match(all.stdout, /^lrwxrwxrwx root +root .* link -> \/etc$/m);
  assert.match(all.stdout, /^-rw-r--r-- root +root +200000 .* random\.bin$/m);
});

test('ls --json carries the exact names, types, sizes and link targets', { skip }, async () => {
  const r = await porthole(['-n', ns, 'ls', '--json', '-a', 'pod/box', '/data'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as { path: string; name: string; type: string; size: number; linkTarget: string | null; user: string | null }[];
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.deepEqual([...byName.keys()].sort(), ['.hidden', 'esc\x1b]0;owned\x07\x1b[31mred', 'link', 'new\nline', 'plain', 'random.bin', 'sub'].sort());
  assert.equal(byName.get('new\nline')!.path, '/data/new\nline');
  assert.equal(byName.get('plain')!.size, 6);
  assert.equal(byName.get('plain')!.type, 'file');
  assert.equal(byName.get('plain')!.user, 'root');
  assert.equal(byName.get('sub')!.type, 'dir');
  assert.equal(byName.get('link')!.type, 'symlink');
  assert.equal(byName.get('link')!.linkTarget, '/etc');

  // -R: each folder after its parent, headers escaped, hidden folders skipped without -a
  const tree = await porthole(['-n', ns, 'ls', '-R', 'pod/box', '/data'], { env: env() });
  assert.equal(tree.code, 0, tree.stderr);
  assert.match(tree.stdout, /^\/data:\n(.+\n){6}\n\/data\/sub:\n$/);

  // A link to a folder named on the command line is followed (as ls does), its entries named under the link.
  const followed = await porthole(['-n', ns, 'ls', 'pod/box', '/data/link'], { env: env() });
  assert.equal(followed.code, 0, followed.stderr);
  assert.match(followed.stdout, /^passwd$/m);
});

test('a container not in the pod, and a container without a shell: one sentence each', { skip }, async () => {
  const wrong = await porthole(['-n', ns, 'ls', 'pod/box/nope', '/'], { env: env() });
  assert.equal(wrong.code, 3);
  assert.equal(wrong.stdout, '');
  assert.match(wrong.stderr, /^porthole: Pod box has no container "nope"\. Its containers: main, bare\.\n$/);

  const bare = await porthole(['-n', ns, 'cat', 'pod/box/bare', '/etc/passwd'], { env: env() });
  assert.equal(bare.code, 6, bare.stderr);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /container bare of pod box has no shell \(sh\), which porthole needs to reach its files in a pod\. Read them through a toolbox container: --toolbox IMAGE .*PORTHOLE_K8S_TOOLBOX=IMAGE\.\n$/);
});

test('find pod/X PATH: name, type and size tests, hostile paths escaped, -0 raw, --newer-than-image refused', { skip }, async () => {
  const all = await porthole(['-n', ns, 'find', 'pod/box', '/data'], { env: env() });
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, ['/data', '/data/.hidden', '/data/esc\\e]0;owned\\x07\\e[31mred', '/data/link', '/data/new\\nline', '/data/plain', '/data/random.bin', '/data/sub', ''].join('\n'));

  const files = await porthole(['-n', ns, 'find', 'pod/box', '/data', '--type', 'f', '--size', '+1k'], { env: env() });
  assert.equal(files.stdout, '/data/random.bin\n');
  const named = await porthole(['-n', ns, 'find', 'pod/box', '/', '--name', 'passwd', '--type', 'f'], { env: env() });
  assert.match(named.stdout, /^\/etc\/passwd$/m);

  const raw = await porthole(['-n', ns, 'find', '-0', 'pod/box', '/data', '--name', 'new*'], { env: env() });
  assert.ok(raw.stdoutBytes.equals(Buffer.from('/data/new\nline\0')), JSON.stringify(raw.stdout));

  const json = await porthole(['-n', ns, 'find', '--json', 'pod/box', '/data', '--type', 'l'], { env: env() });
  assert.deepEqual((JSON.parse(json.stdout) as { path: string; linkTarget: string }[]).map((e) => [e.path, e.linkTarget]), [['/data/link', '/etc']]);
  // owner names from the pod's /etc/passwd and /etc/group, read in the walk's own exec
  assert.deepEqual((JSON.parse(json.stdout) as { user: string | null; group: string | null }[]).map((e) => [e.user, e.group]), [['root', 'root']]);

  const diff = await porthole(['-n', ns, 'find', 'pod/box', '--newer-than-image'], { env: env() });
  assert.equal(diff.code, 6);
  assert.match(diff.stderr, /Kubernetes keeps no writable-layer diff/);
});

test('grep pod/X: a file, -r over a folder with hostile names (escaped prefixes), exit 1 on no match, 3 on a missing path', { skip }, async () => {
  const one = await porthole(['-n', ns, 'grep', '-n', 'pod/box', 'hel+o', '/data/plain'], { env: env() });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, '1:hello\n');

  const tree = await porthole(['-n', ns, 'grep', '-r', 'pod/box', '^(x|y|hello)$', '/data'], { env: env() });
  assert.equal(tree.code, 0, tree.stderr);
  assert.equal(tree.stdout, ['/data/esc\\e]0;owned\\x07\\e[31mred:y', '/data/new\\nline:x', '/data/plain:hello', ''].join('\n'));

  const none = await porthole(['-n', ns, 'grep', 'pod/box', 'absent-text', '/data/plain'], { env: env() });
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
  const missing = await porthole(['-n', ns, 'grep', 'pod/box', 'x', '/data/nope'], { env: env() });
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /\/data\/nope: no such file or folder in container main of pod box/);
});
