// `porthole stats pod/X` and `stats -n NS` on the real test cluster, through the built CLI. The cluster has no
// metrics-server, so the figures come from the kubelet's Summary API, which porthole says on stderr: a pod that
// fills 48 MiB of memory shows at least that working set against its 128 MiB limit, a spinning pod shows CPU, a
// crash-looping pod its restarts as Kubernetes counts them; --json, --watch, and the errors (no such pod, a user
// with no rights, a user who may list pods but not read figures) as one sentence and their exit codes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { apply, clusterKubeconfig, kubectl, manifests, podManifest, pods, skipReason, useNamespace, userKubeconfig, waitForPod, waitForReady } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes stats tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });
const MiB = 1024 * 1024;
const SUMMARY_SENTENCE = "porthole: figures from the kubelet's Summary API (nodes/NODE/proxy/stats/summary), as the cluster has no metrics API (metrics-server).\n";
// the viewer's Role is in "default" only: a pod of this test's own there, removed afterwards
const viewerPod = `k8s-stats-viewer-${Date.now().toString(36)}`;

interface PodJson {
  namespace: string;
  pod: string;
  node: string | null;
  phase: string;
  cpuPercent: number | null;
  memoryWorkingSetBytes: number | null;
  memoryLimitBytes: number | null;
  restarts: number;
  source: string | null;
  containers: { name: string; cpuPercent: number | null; memoryWorkingSetBytes: number | null; memoryLimitBytes: number | null; restarts: number }[];
}

useNamespace('stats', async (made) => {
  ns = made;
  apply(
    ns,
    manifests(
      podManifest('alloc', {
        spec: ['volumes: [{ name: mem, emptyDir: { medium: Memory, sizeLimit: 100Mi } }]'],
        containers: [
          {
            name: 'app',
            // 48 MiB in a memory-backed folder: charged to the container, in its working set
            command: ['sh', '-c', 'dd if=/dev/zero of=/mem/fill bs=1048576 count=48 2>/dev/null; exec sleep 100000'],
            yaml: ['volumeMounts: [{ name: mem, mountPath: /mem }]', 'resources: { limits: { memory: 128Mi } }'],
          },
          { name: 'side', command: ['sleep', '100000'], yaml: ['resources: { limits: { memory: 32Mi } }'] },
        ],
      }),
      podManifest('busy', { containers: [{ name: 'spin', command: ['sh', '-c', 'while :; do :; done'] }] }),
      podManifest('crashy', { containers: [{ name: 'fail', command: ['sh', '-c', 'sleep 1; exit 1'] }] }),
    ),
  );
  apply('default', podManifest(viewerPod, { containers: [{ name: 'app', command: ['sleep', '100000'] }] }));
  await waitForReady(ns, 'alloc', 2);
  await waitForPod(ns, 'busy running', (p) => p.metadata.name === 'busy' && (p.status?.containerStatuses ?? []).some((c) => c.ready === true));
  await waitForPod(ns, 'crashy restarted', (p) => p.metadata.name === 'crashy' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  await waitForPod('default', 'the viewer pod running', (p) => p.metadata.name === viewerPod && p.status?.phase === 'Running');
});

after(() => {
  if (!skip) kubectl(['delete', 'pod', viewerPod, '-n', 'default', '--wait=false', '--ignore-not-found']);
});

/** Polls `stats --json` until `ok` holds (the kubelet collects every 10-15 s), returning the last answer. */
async function statsUntil(args: string[], ok: (rows: PodJson[]) => boolean, timeoutMs = 90_000): Promise<{ rows: PodJson[]; stderr: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: { rows: PodJson[]; stderr: string } = { rows: [], stderr: '' };
  while (Date.now() < deadline) {
    const r = await porthole(['stats', '-n', ns, ...args, '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    last = { rows: JSON.parse(r.stdout) as PodJson[], stderr: r.stderr };
    if (ok(last.rows)) return last;
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  assert.fail(`stats never held: ${JSON.stringify(last.rows, null, 1)}`);
}

test('stats pod/X: the working set of a pod that fills 48 MiB is at least 48 MiB, against its limit; the source is said', { skip }, async () => {
  const { rows, stderr } = await statsUntil(['pod/alloc'], (r) => (r[0]?.containers[0]?.memoryWorkingSetBytes ?? 0) >= 48 * MiB);
  assert.equal(stderr, SUMMARY_SENTENCE);
  assert.equal(rows.length, 1);
  const alloc = rows[0]!;
  assert.deepEqual([alloc.namespace, alloc.pod, alloc.phase, alloc.source, alloc.restarts], [ns, 'alloc', 'Running', 'kubelet-summary', 0]);
  assert.equal(alloc.node, JSON.parse(kubectl(['get', 'pod', 'alloc', '-n', ns, '-o', 'json']).stdout).spec.nodeName);
  const [app, side] = alloc.containers;
  assert.equal(app!.name, 'app');
  assert.ok(app!.memoryWorkingSetBytes! >= 48 * MiB && app!.memoryWorkingSetBytes! < 128 * MiB, `app working set ${app!.memoryWorkingSetBytes}`);
  assert.equal(app!.memoryLimitBytes, 128 * MiB);
  assert.equal(side!.memoryLimitBytes, 32 * MiB);
  assert.ok(side!.memoryWorkingSetBytes! < 16 * MiB, `side working set ${side!.memoryWorkingSetBytes}`);
  assert.equal(alloc.memoryWorkingSetBytes, app!.memoryWorkingSetBytes! + side!.memoryWorkingSetBytes!);
  assert.equal(alloc.memoryLimitBytes, 160 * MiB);

  const table = await porthole(['stats', '-n', ns, 'pod/alloc'], { env: env() });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^POD\s+CPU %\s+WORKING SET \/ LIMIT\s+MEM %\s+RESTARTS\s+STATUS$/);
  assert.match(lines[1]!, /^alloc\s+(\d+\.\d\d%|-)\s+\d+(\.\d)?MiB \/ 160MiB\s+\d+\.\d\d%\s+0\s+Running$/);
  assert.match(lines[2]!, /^ \|_ app\s+(\d+\.\d\d%|-)\s+\d+(\.\d)?MiB \/ 128MiB\s+\d+\.\d\d%\s+0$/);
  assert.match(lines[3]!, /^ \\_ side\s+/);
});

test('stats -n NS: every pod of the namespace; a spinning pod shows CPU, a crash-looping one its restarts as Kubernetes counts them', { skip }, async () => {
  const { rows, stderr } = await statsUntil([], (r) => (r.find((p) => p.pod === 'busy')?.cpuPercent ?? 0) > 5);
  assert.equal(stderr, SUMMARY_SENTENCE);
  assert.deepEqual(rows.map((p) => p.pod), ['alloc', 'busy', 'crashy']);
  const busy = rows.find((p) => p.pod === 'busy')!;
  assert.ok(busy.cpuPercent! > 5 && busy.cpuPercent! < 250, `busy cpu ${busy.cpuPercent}`);
  assert.equal(busy.memoryLimitBytes, null);
  const crashy = rows.find((p) => p.pod === 'crashy')!;
  const counted = pods(ns).find((p) => p.metadata.name === 'crashy')!.status!.containerStatuses![0]!.restartCount;
  assert.ok(crashy.restarts >= 1 && Math.abs(crashy.restarts - counted) <= 1, `restarts ${crashy.restarts}, kubectl ${counted}`);

  const sorted = await porthole(['stats', '-n', ns, '--sort', 'mem', '--json'], { env: env() });
  assert.equal(sorted.code, 0, sorted.stderr);
  assert.equal((JSON.parse(sorted.stdout) as PodJson[])[0]!.pod, 'alloc');
  // the namespace as a global flag before the command works the same
  const global = await porthole(['-n', ns, 'stats'], { env: env() });
  assert.equal(global.code, 0, global.stderr);
  assert.match(global.stdout, /^crashy\s/m);
});

test('stats -n with a number is still the refresh period: --watch --json prints one array per refresh', { skip }, async () => {
  const child = spawnPorthole(['-n', ns, 'stats', 'pod/busy', '-n', '0.5', '--json'], env());
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const start = Date.now();
  while (out.split('\n').length < 4 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 130);
  const docs = out.trim().split('\n').map((l) => JSON.parse(l) as PodJson[]);
  assert.ok(docs.length >= 3, `refreshes: ${docs.length}`);
  assert.ok(docs.every((d) => d.length === 1 && d[0]!.pod === 'busy'));
  assert.equal(err, SUMMARY_SENTENCE, 'the source said once');
});

test('--watch on a terminal: the pod table drawn in place on the alternate screen, q gives the terminal back', { skip }, async () => {
  // -w 1: the number after -w is the period, not a pod name
  const r = await portholeInTty(['stats', '-n', ns, '-w', '1'], 'q', { env: env(), timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, new RegExp(`porthole stats · namespace ${ns} · 3 pods · every 1s · q`)); // cut at the 80 columns
  assert.match(r.stdout, /POD\s+CPU %\s+WORKING SET \/ LIMIT/);
  assert.match(r.stdout, /\x1b\[\?1049h/);
  assert.ok(r.stdout.lastIndexOf('\x1b[?1049l') > r.stdout.lastIndexOf('every 1s'), 'the alternate screen is left at the end');
  // the source was said on the normal screen, before the alternate one
  assert.ok(r.stdout.indexOf("figures from the kubelet's Summary API") < r.stdout.indexOf('\x1b[?1049h'));
});

test('errors: a missing pod is exit 3; no rights, or rights to list pods but not to read figures, exit 5; one sentence each', { skip }, async () => {
  const missing = await porthole(['stats', '-n', ns, 'pod/nosuch'], { env: env() });
  assert.equal(missing.code, 3);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, new RegExp(`^porthole: No pods "nosuch" in namespace "${ns}" \\(context "[^"]+"\\)\\.[^\\n]*\\n$`));

  const nobody = await porthole(['stats', '-n', ns], { env: { KUBECONFIG: userKubeconfig('porthole-nobody') } });
  assert.equal(nobody.code, 5);
  assert.match(nobody.stderr, new RegExp(`^porthole: Kubernetes does not allow user "porthole-nobody" to list pods in namespace "${ns}"\\.[^\\n]*\\n$`));

  const viewer = await porthole(['stats', '-n', 'default', `pod/${viewerPod}`], { env: { KUBECONFIG: userKubeconfig('porthole-viewer') } });
  assert.equal(viewer.code, 5, viewer.stderr);
  assert.equal(viewer.stdout, '');
  assert.match(
    viewer.stderr,
    /^porthole: Kubernetes does not let user "[^"]+" read pod figures: the metrics API is not open to this user, and the kubelet's Summary API needs "get" on "nodes\/proxy"\. Ask a cluster admin[^\n]*\n$/,
  );
});
