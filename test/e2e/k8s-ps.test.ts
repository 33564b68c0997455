// `porthole ps pod/X[/C]` on the real test cluster, through the built CLI: a multi-container pod (one PID namespace
// each, PID 1 each container's main process, users by the container's own passwd), a pod with
// shareProcessNamespace (one tree: the pause sandbox, each container's main process marked), the PIDs the pod's
// own ps shows, a container without a shell read through the toolbox (consent asked, then reused), and the errors
// (no such pod, a user with no rights) as one sentence and their exit codes. One namespace, deleted afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { porthole } from '../support/cli.js';
import { apply, BUSYBOX, clusterKubeconfig, deleteNamespace, kubectlOk, makeNamespace, manifests, PAUSE, podManifest, skipReason, useNamespace, userKubeconfig, waitForPod, waitForReady } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes ps tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()!, PORTHOLE_K8S_TOOLBOX: '' });

interface Row {
  namespace: string;
  pod: string;
  container: string | null;
  containerKind: string | null;
  role: string;
  pid: number;
  ppid: number;
  user: string;
  uid: number | null;
  command: string;
  argv: string[];
  depth: number;
  processNamespace: string;
  rssBytes: number;
  startTime: string;
  stat: string;
  state: string;
}

useNamespace('ps', async (made) => {
  ns = made;
  apply(
    ns,
    manifests(
      podManifest('multi', {
        containers: [
          { name: 'app', command: ['sh', '-c', 'sleep 100000 & su -s /bin/sh user -c "exec sleep 100001" & exec sleep 200000'] },
          { name: 'side', command: ['sh', '-c', 'exec sleep 300000'], yaml: ['securityContext: { runAsUser: 65534 }'] },
          { name: 'bare', image: PAUSE },
        ],
      }),
      podManifest('shared', {
        spec: ['shareProcessNamespace: true'],
        containers: [
          { name: 'app', command: ['sh', '-c', 'sleep 100002 & exec sleep 200002'] },
          { name: 'side', command: ['sh', '-c', 'exec sleep 300002'], yaml: ['securityContext: { runAsUser: 1000 }'] },
        ],
      }),
      // an argument with terminal escapes and a newline (sh keeps it in its argv)
      podManifest('hostile', { containers: [{ name: 'app', command: ['sh', '-c', 'sleep 100003; :', '\x1b]0;owned\x07\x1b[31mred\nP99'] }] }),
      podManifest('done', { spec: ['restartPolicy: Never'], containers: [{ name: 'app', command: ['true'] }] }),
    ),
  );
  for (const [name, count] of [['multi', 3], ['shared', 2], ['hostile', 1]] as const) await waitForReady(ns, name, count);
});

test('ps pod/X/C: the container\'s own tree, PID 1 its main process, users from its passwd, PIDs as its ps shows them', { skip }, async () => {
  const r = await porthole(['ps', '-n', ns, 'pod/multi/app'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], `pod/multi (namespace ${ns}): container app; * marks each container's main process`);
  assert.match(lines[1]!, /^PID\s+CONTAINER\s+USER\s+%CPU\s+RSS\s+START\s+STAT\s+COMMAND$/);
  assert.match(lines[2]!, /^\s*1\s+app\*\s+root\s+\d+\.\d\s+\S+\s+\d\d:\d\d\s+S\S*\s+sleep 200000$/);
  assert.ok(lines.some((l) => /^\s*\d+\s+app\s+root\s.*\s\\_ sleep 100000$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^\s*\d+\s+app\s+user\s.*\s\\_ sleep 100001$/.test(l)), r.stdout);
  assert.equal(lines.length, 5, 'the reader porthole ran is not shown');

  // the same PIDs as the container's own ps (busybox ps: PID USER TIME COMMAND), less the two readers
  const theirs = kubectlOk(['exec', '-n', ns, 'multi', '-c', 'app', '--', 'ps', '-o', 'pid,args'])
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => !/ps -o pid,args/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  const json = await porthole(['ps', '-n', ns, 'pod/multi/app', '--json'], { env: env() });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as Row[];
  assert.deepEqual(rows.map((row) => row.pid).sort((a, b) => a - b), theirs.sort((a, b) => a - b));
  const main = rows.find((row) => row.role === 'main')!;
  assert.deepEqual([main.pid, main.ppid, main.container, main.containerKind, main.user, main.uid, main.processNamespace, main.depth], [1, 0, 'app', 'container', 'root', 0, 'container', 0]);
  assert.deepEqual(main.argv, ['sleep', '200000']);
  assert.equal(main.state, 'sleeping');
  assert.ok(main.rssBytes > 0 && Date.parse(main.startTime) > Date.now() - 3600_000);
  const su = rows.find((row) => row.command === 'sleep 100001')!;
  assert.deepEqual([su.user, su.uid, su.ppid, su.depth, su.role], ['user', 1000, 1, 1, 'process']);
});

test('ps pod/X of a multi-container pod: one block per container; one without a shell is said, exit 6, the others shown', { skip }, async () => {
  const r = await porthole(['ps', '-n', ns, 'pod/multi'], { env: env() });
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stdout, /: container app;/);
  assert.match(r.stdout, /: container side;/);
  assert.match(r.stdout, /^\s*1\s+side\*\s+nobody\s.*sleep 300000$/m);
  assert.equal(
    r.stderr,
    'porthole: Container bare of pod multi has no shell (sh), which porthole needs to read its processes, and the pod has no porthole toolbox container to read them through. ' +
      'Add --toolbox IMAGE (an image the node can get, with sh, cat, od and tr) and --yes, or set PORTHOLE_K8S_TOOLBOX=IMAGE.\n',
  );
  // only that container: the same sentence is the error
  const bare = await porthole(['ps', '-n', ns, 'pod/multi/bare'], { env: env() });
  assert.equal(bare.code, 6);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^porthole: Container bare of pod multi has no shell \(sh\)[^\n]*\n$/);
});

test('shareProcessNamespace: one tree for the pod, the pause sandbox as PID 1, each container\'s main process marked, users per container', { skip }, async () => {
  const r = await porthole(['ps', '-n', ns, 'pod/shared', '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Row[];
  assert.ok(rows.every((row) => row.processNamespace === 'pod' && row.pod === 'shared' && row.namespace === ns));
  const sandbox = rows.find((row) => row.pid === 1)!;
  assert.deepEqual([sandbox.role, sandbox.container, sandbox.command], ['sandbox', null, '/pause']);
  const mains = rows.filter((row) => row.role === 'main');
  assert.deepEqual(mains.map((row) => [row.container, row.command, row.user]).sort(), [['app', 'sleep 200002', 'root'], ['side', 'sleep 300002', 'user']]);
  const child = rows.find((row) => row.command === 'sleep 100002')!;
  assert.equal(child.container, 'app');
  assert.equal(child.ppid, mains.find((m) => m.container === 'app')!.pid);
  // no other process: the reader and its tools are hidden
  assert.equal(rows.length, 4, JSON.stringify(rows.map((row) => row.command)));

  const table = await porthole(['ps', '-n', ns, 'pod/shared'], { env: env() });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^pod\/shared \(namespace [^)]+\): one process namespace for all containers \(shareProcessNamespace\); \* marks each container's main process$/m);
  assert.match(table.stdout, /^\s*1\s+\(sandbox\)\s+\S+\s.*\/pause$/m);
  assert.match(table.stdout, /^\s*\d+\s+app\*\s+root\s.*sleep 200002$/m);
  assert.match(table.stdout, /^\s*\d+\s+side\*\s+user\s.*sleep 300002$/m);

  // pod/X/C in a shared namespace: that container's processes only
  const side = await porthole(['ps', '-n', ns, 'pod/shared/side', '--json'], { env: env() });
  assert.equal(side.code, 0, side.stderr);
  assert.deepEqual((JSON.parse(side.stdout) as Row[]).map((row) => [row.container, row.role, row.command]), [['side', 'main', 'sleep 300002']]);
});

test('a container without a shell: read through a toolbox only with consent, then the toolbox is reused', { skip }, async () => {
  const refused = await porthole(['ps', '-n', ns, 'pod/multi/bare', '--toolbox', BUSYBOX], { env: env() });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /Kubernetes cannot remove ephemeral containers/);
  assert.match(refused.stderr, /stdin is not a terminal to ask on\. Add --yes to agree\.\n$/);
  assert.equal(JSON.parse(kubectlOk(['get', 'pod', 'multi', '-n', ns, '-o', 'json'])).spec.ephemeralContainers, undefined, 'nothing added without consent');

  const r = await porthole(['ps', '-n', ns, 'pod/multi/bare', '--toolbox', BUSYBOX, '--yes', '--json'], { env: env(), timeoutMs: 150_000 });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Row[];
  const main = rows.find((row) => row.container === 'bare')!;
  assert.deepEqual([main.pid, main.role, main.command], [1, 'main', '/pause']);
  const toolbox = rows.filter((row) => row.containerKind === 'ephemeral');
  assert.ok(toolbox.length >= 1 && toolbox.every((row) => row.container!.startsWith('porthole-toolbox-')), r.stdout);

  // the next run finds it and says so, with no image given
  const again = await porthole(['ps', '-n', ns, 'pod/multi'], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^porthole: container bare has no shell \(sh\); reading its processes through the toolbox container porthole-toolbox-\S+ already in pod\/multi\.\n$/);
  assert.match(again.stdout, /: container bare, read through porthole-toolbox-\S+;/);
  const pod = JSON.parse(kubectlOk(['get', 'pod', 'multi', '-n', ns, '-o', 'json']));
  assert.equal(pod.spec.ephemeralContainers.length, 1, 'one toolbox, reused');
  assert.ok(pod.status.containerStatuses.every((c: { restartCount: number }) => c.restartCount === 0), 'the target containers are untouched');
});

test('ps -n NS with no names: every running pod of the namespace, grouped by pod in name order; a finished pod left out', { skip }, async () => {
  await waitForPod(ns, 'done finished', (p) => p.metadata.name === 'done' && p.status?.phase === 'Succeeded');
  const r = await porthole(['ps', '-n', ns], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const headings = r.stdout.split('\n').filter((l) => l.startsWith('pod/'));
  assert.deepEqual(
    headings.map((l) => l.replace(/ \(namespace [^)]+\)/, '').replace(/, read through porthole-toolbox-\S+;/, ', read through TOOLBOX;').replace(/; \* marks.*$/, '')),
    ['pod/hostile: container app', 'pod/multi: container app', 'pod/multi: container side', 'pod/multi: container bare, read through TOOLBOX', 'pod/shared: one process namespace for all containers (shareProcessNamespace)'],
  );
  assert.match(r.stdout, /^\s*1\s+side\*\s+nobody\s.*sleep 300000$/m);
  assert.doesNotMatch(r.stdout, /pod\/done/);
  const json = await porthole(['ps', '-n', ns, '--json'], { env: env() });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as Row[];
  const order = [...new Set(rows.map((row) => row.pod))];
  assert.deepEqual(order, ['hostile', 'multi', 'shared']);
  assert.ok(rows.some((row) => row.pod === 'shared' && row.role === 'sandbox'));

  // --profile is taken as shell takes it: a name it does not know is exit 2 before anything is asked
  const badProfile = await porthole(['ps', '-n', ns, '--profile', 'nonsense'], { env: env() });
  assert.equal(badProfile.code, 2);
  assert.match(badProfile.stderr, /^porthole: "nonsense" is not a toolbox profile\. Use one of: general, baseline, restricted, sysadmin\.\n$/);
  const withProfile = await porthole(['ps', '-n', ns, '--profile', 'baseline', 'pod/multi/bare'], { env: env() });
  assert.equal(withProfile.code, 0, withProfile.stderr);

  // a namespace with no pods: nothing on stdout, said on stderr, exit 0
  const empty = makeNamespace('ps-empty');
  try {
    const none = await porthole(['ps', '-n', empty], { env: env() });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, `porthole: no running pods in namespace "${empty}".\n`);
    const noneJson = await porthole(['ps', '-n', empty, '--json'], { env: env() });
    assert.equal(noneJson.stdout, '[]\n');
  } finally {
    deleteNamespace(empty);
  }
});

test('errors: a missing pod is exit 3, a user without rights exit 5, each one sentence', { skip }, async () => {
  const missing = await porthole(['ps', '-n', ns, 'pod/nosuch'], { env: env() });
  assert.equal(missing.code, 3);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, new RegExp(`^porthole: No pods "nosuch" in namespace "${ns}" \\(context "[^"]+"\\)\\.[^\\n]*\\n$`));

  const nobody = await porthole(['ps', '-n', ns, 'pod/multi'], { env: { KUBECONFIG: userKubeconfig('porthole-nobody') } });
  assert.equal(nobody.code, 5);
  assert.match(nobody.stderr, new RegExp(`^porthole: Kubernetes does not allow user "porthole-nobody" to get pods in namespace "${ns}"\\.[^\\n]*\\n$`));

  const mixed = await porthole(['ps', 'pod/multi', 'web'], { env: env() });
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /^porthole: ps takes either Docker containers or Kubernetes names/);
});

test('a hostile command line: escaped on the terminal, one row, exact in --json', { skip }, async () => {
  const r = await porthole(['ps', '-n', ns, 'pod/hostile'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control byte reaches the terminal');
  const main = r.stdout.split('\n').find((l) => /app\*/.test(l))!;
  assert.ok(main.endsWith('sh -c sleep 100003; : \\e]0;owned\\x07\\e[31mred\\nP99'), main);
  assert.equal(r.stdout.trimEnd().split('\n').length, 4, 'heading, header, sh and its sleep: the newline forged no row');
  const json = await porthole(['ps', '-n', ns, 'pod/hostile', '--json'], { env: env() });
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as Row[];
  const sh = rows.find((row) => row.role === 'main')!;
  assert.deepEqual(sh.argv, ['sh', '-c', 'sleep 100003; :', '\x1b]0;owned\x07\x1b[31mred\nP99']);
  assert.deepEqual(rows.map((row) => row.pid), [1, rows[1]!.pid]);
});
