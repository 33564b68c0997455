// `porthole shell` into pods without a shell, on the real test cluster: the ephemeral toolbox container (said to
// be permanent, --yes required without a terminal, reused), rooted at the target container's files, the target's
// files unchanged; and a namespace that enforces the `restricted` Pod Security level (exec works, a plain toolbox
// is refused in a sentence, --profile restricted fits). Each namespace is deleted afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty } from '../support/cli.js';
import { apply, BUSYBOX, clusterKubeconfig, deleteNamespace, kubectlOk, makeNamespace, skipReason, waitForPod } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes toolbox tests: ${skip}`);
let ns = '';
let strict = '';
const env = (extra: Record<string, string> = {}) => ({ KUBECONFIG: clusterKubeconfig()!, ...extra });
// The test cluster's pause image is one static binary, /pause: a container with no shell at all.
const PAUSE = 'localhost/pause:local';

function ephemeral(namespace: string, pod: string): string[] {
  const out = kubectlOk(['get', 'pod', pod, '-n', namespace, '-o', 'jsonpath={.spec.ephemeralContainers[*].name}']).trim();
  return out ? out.split(/\s+/) : [];
}

const ready = (name: string) => (p: { metadata: { name: string }; status?: { containerStatuses?: { ready?: boolean }[] } }) =>
  p.metadata.name === name && (p.status?.containerStatuses ?? []).length > 0 && (p.status?.containerStatuses ?? []).every((c) => c.ready);

before(async () => {
  if (skip) return;
  ns = makeNamespace('inside-toolbox');
  apply(
    ns,
    `
apiVersion: v1
kind: Pod
metadata: { name: bare }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: app, image: ${PAUSE}, imagePullPolicy: Never }
---
apiVersion: v1
kind: Pod
metadata: { name: bare2 }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: app, image: ${PAUSE}, imagePullPolicy: Never }
`,
  );
  strict = makeNamespace('inside-restricted');
  kubectlOk(['label', 'namespace', strict, 'pod-security.kubernetes.io/enforce=restricted']);
  apply(
    strict,
    `
apiVersion: v1
kind: Pod
metadata: { name: tight }
spec:
  terminationGracePeriodSeconds: 1
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
  - name: app
    image: ${BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'echo secret-of-tight > /tmp/note; exec sleep 100000']
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`,
  );
  await waitForPod(ns, 'bare running', ready('bare'));
  await waitForPod(ns, 'bare2 running', ready('bare2'));
  await waitForPod(strict, 'tight running', ready('tight'));
});

after(() => {
  if (ns) deleteNamespace(ns);
  if (strict) deleteNamespace(strict);
});

test('no shell and no toolbox: a sentence that says how (exit 125), nothing added', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', 'pod/bare'], { env: env() });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /pod\/bare\/app has no shell \(\/bin\/sh\)\. .*--toolbox IMAGE.*PORTHOLE_K8S_TOOLBOX/);
  assert.deepEqual(ephemeral(ns, 'bare'), []);
});

test('--toolbox without --yes and without a terminal: refused before anything is added', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', '--toolbox', BUSYBOX, 'pod/bare', '--', 'true'], { env: env() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Kubernetes cannot remove ephemeral containers/);
  assert.match(r.stderr, /Add --yes to agree/);
  assert.deepEqual(ephemeral(ns, 'bare'), []);
});

test('a terminal asks first; "n" adds nothing', { skip }, async () => {
  const r = await portholeInTty(['-n', ns, 'shell', '--toolbox', BUSYBOX, 'pod/bare2'], 'n\r', { env: env() });
  assert.equal(r.code, 125, r.stdout);
  assert.match(r.stdout, /Add it\? \[y\/N\]/);
  assert.match(r.stdout, /Not added: nothing was changed/);
  assert.deepEqual(ephemeral(ns, 'bare2'), []);
});

test('--toolbox --yes: a shell rooted at the target\'s files, its processes, exit code through; reused next time; files unchanged', { skip }, async () => {
  const listing = ['sh', '-c', 'find / -xdev -path /proc -prune -o -print | sort; md5sum /pause'];
  const first = await porthole(['-n', ns, 'shell', '--toolbox', BUSYBOX, '--yes', 'pod/bare', '--', ...listing], { env: env(), timeoutMs: 90_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^\/pause$/m, 'the target container\'s root');
  assert.doesNotMatch(first.stdout, /^\/bin\/busybox$/m, 'not the toolbox\'s root');
  assert.match(first.stderr, /adding an ephemeral container from localhost\/busybox:local to pod\/bare/);
  const added = ephemeral(ns, 'bare');
  assert.equal(added.length, 1);
  assert.match(added[0]!, /^porthole-toolbox-[0-9a-f]{12}$/);

  const inside = await porthole(['-n', ns, 'shell', '--toolbox', BUSYBOX, 'pod/bare', '--', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; exit 7'], { env: env() });
  assert.equal(inside.code, 7, inside.stderr);
  assert.equal(inside.stdout, '/pause \n');
  assert.match(inside.stderr, new RegExp(`reusing the toolbox container ${added[0]} already in pod/bare`));

  // The configured default and an interactive TTY session, reusing it too.
  const tty = await portholeInTty(['-n', ns, 'shell', 'pod/bare'], 'ls /; exit 6\r', { env: env({ PORTHOLE_K8S_TOOLBOX: BUSYBOX }) });
  assert.equal(tty.code, 6, tty.stdout);
  assert.match(tty.stdout, /pause/);
  assert.deepEqual(ephemeral(ns, 'bare'), added);

  const again = await porthole(['-n', ns, 'shell', '--toolbox', BUSYBOX, 'pod/bare', '--', ...listing], { env: env() });
  assert.equal(again.stdout, first.stdout, 'the target container\'s files changed');
  assert.equal(kubectlOk(['get', 'pod', 'bare', '-n', ns, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']).trim(), '0');
});

test('restricted Pod Security: exec works; a plain toolbox is refused in a sentence; --profile restricted fits', { skip }, async () => {
  const exec = await porthole(['-n', strict, 'shell', 'pod/tight', '--', 'cat', '/tmp/note'], { env: env() });
  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(exec.stdout, 'secret-of-tight\n');

  const refused = await porthole(['-n', strict, 'shell', '--toolbox', BUSYBOX, '--yes', 'pod/tight', '--', 'true'], { env: env() });
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, new RegExp(`The namespace "${strict}" enforces the Pod Security level "restricted[^"]*", which refuses the toolbox container for pod "tight": .*allowPrivilegeEscalation.*--profile restricted`));
  assert.deepEqual(ephemeral(strict, 'tight'), []);

  const fits = await porthole(['-n', strict, 'shell', '--toolbox', BUSYBOX, '--profile', 'restricted', '--yes', 'pod/tight', '--', 'sh', '-c', 'id -u; cat tmp/note'], { env: env(), timeoutMs: 90_000 });
  assert.equal(fits.code, 0, fits.stderr);
  // Without CAP_SYS_CHROOT the toolbox says so and starts in /proc/1/root, the target's files, as the target's user.
  assert.equal(fits.stdout, '1000\nsecret-of-tight\n');
  assert.match(fits.stderr, /files are under \/proc\/1\/root/);
  assert.equal(ephemeral(strict, 'tight').length, 1);
});
