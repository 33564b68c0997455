// `porthole shell` on pods that cannot be exec'd into (a crash-looping Deployment, a completed pod), on the real
// test cluster: the session runs in a copy of the pod built as kubectl debug --copy-to builds one, and the copy is
// gone afterwards, whether the session ended, was interrupted (SIGINT, SIGTERM, SIGHUP) or was kept (--keep);
// `porthole gc` removes the copy of a session killed with SIGKILL and leaves a pod that only looks like one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { apply, BUSYBOX, clusterKubeconfig, deploymentManifest, kubectl, kubectlOk, manifests, podManifest, skipReason, useNamespace, waitForPod } from '../support/k8s.js';
import { sleep, waitFor } from '../support/shell.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes copy tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });

interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[] };
  spec: { containers: { name: string; command?: string[]; args?: string[]; env?: { name: string; value?: string }[]; livenessProbe?: unknown; readinessProbe?: unknown }[] };
}

/** Pods in the namespace whose name says they are porthole copies. */
function copies(): PodJson[] {
  const all = JSON.parse(kubectlOk(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: PodJson[] };
  return all.items.filter((p) => p.metadata.name.includes('-porthole-'));
}

/** Whether porthole's command (sleep 600) runs in the copy yet. */
function sessionRunning(pod: string): boolean {
  // The test image's busybox has no pgrep: ps, and look for the command.
  return /\bsleep 600\b/.test(kubectl(['exec', '-n', ns, pod, '--', 'ps']).stdout);
}

async function noCopiesLeft(): Promise<void> {
  await waitFor('the copy to be gone', () => copies().length === 0, 45_000);
}

useNamespace('inside-copy', async (made) => {
  ns = made;
  apply(
    ns,
    manifests(
      deploymentManifest('crashy', {
        containers: [
          {
            name: 'app',
            command: ['sh', '-c', 'echo "config broken" > /tmp/written-by-crash; echo "config broken"; exit 3'],
            yaml: ['env: [{ name: APP_MODE, value: crashy }]', 'livenessProbe: { exec: { command: ["true"] } }', 'readinessProbe: { exec: { command: ["true"] } }', 'resources: { limits: { memory: 64Mi } }'],
          },
        ],
      }),
      podManifest('done', {
        labels: { app: 'done' },
        spec: ['restartPolicy: Never'],
        containers: [{ name: 'job', command: ['sh', '-c', 'echo finished'], yaml: ['env: [{ name: STAGE, value: final }]'] }],
      }),
    ),
  );
  await waitForPod(ns, 'crashy crash-looping', (p) => p.metadata.name.startsWith('crashy-') && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  await waitForPod(ns, 'done completed', (p) => p.metadata.name === 'done' && p.status?.phase === 'Succeeded');
});

test('a crash-looping Deployment is entered through a copy: same env, exit code through, the copy gone afterwards', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', 'deploy/crashy', '--', 'sh', '-c', 'echo "mode=$APP_MODE"; ls /tmp; exit 5'], { env: env(), timeoutMs: 90_000 });
  assert.equal(r.code, 5, r.stderr);
  // The environment is the original's; the file the crashed container wrote is not there (no writable layer).
  assert.equal(r.stdout, 'mode=crashy\n');
  assert.match(r.stderr, /keeps crashing.*copy of the pod, pod\/crashy-[a-z0-9-]+-porthole-[0-9a-f]{12}, removed at the end/);
  assert.match(r.stderr, /not in the copy: Kubernetes cannot copy a writable layer/);
  await noCopiesLeft();
});

test('the copy has no owner, labels or probes, runs the sleeper, keeps the rest; SIGINT removes it (exit 130)', { skip }, async () => {
  const child = spawnPorthole(['-n', ns, 'shell', 'deploy/crashy', '--', 'sleep', '600'], env());
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    const [copy] = await waitFor('the copy', () => {
      const found = copies();
      return found.length === 1 && sessionRunning(found[0]!.metadata.name) ? found : undefined;
    }, 60_000);
    assert.equal(copy!.metadata.ownerReferences, undefined);
    assert.equal(copy!.metadata.labels?.app, undefined, 'the Service/ReplicaSet label is dropped');
    assert.equal(copy!.metadata.labels?.['io.porthole.owned'], 'true');
    assert.match(copy!.metadata.labels?.['io.porthole.session'] ?? '', /^[0-9a-f]{12}$/);
    const app = copy!.spec.containers[0]!;
    assert.equal(app.livenessProbe, undefined);
    assert.equal(app.readinessProbe, undefined);
    assert.equal(app.command?.[0], 'sh');
    assert.doesNotMatch(app.command?.join(' ') ?? '', /config broken/);
    assert.deepEqual(app.env, [{ name: 'APP_MODE', value: 'crashy' }]);
    // The ReplicaSet did not adopt it: still one pod of its own.
    assert.equal(JSON.parse(kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=crashy', '-o', 'json'])).items.length, 1);
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  await noCopiesLeft();
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} mid-session removes the copy too`, { skip }, async () => {
    const child = spawnPorthole(['-n', ns, 'shell', 'pod/done', '--', 'sleep', '600'], env());
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor('the copy running', () => copies().some((p) => sessionRunning(p.metadata.name)), 60_000);
      child.kill(signal);
      assert.equal(await exited, signal === 'SIGTERM' ? 143 : 129);
    } finally {
      child.kill('SIGKILL');
    }
    await noCopiesLeft();
  });
}

test('a completed pod is entered through a copy with its env', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', 'pod/done', '--', 'sh', '-c', 'echo "stage=$STAGE"'], { env: env(), timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'stage=final\n');
  assert.match(r.stderr, /the pod has completed/);
  await noCopiesLeft();
});

test('--keep keeps the copy, says its name, and gc leaves it (it is the user\'s now)', { skip }, async () => {
  const r = await porthole(['-n', ns, 'shell', '--keep', 'pod/done', '--', 'true'], { env: env(), timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  const name = /kept pod\/(\S+) in namespace/.exec(r.stderr)?.[1];
  assert.ok(name, r.stderr);
  await sleep(2000);
  const kept = copies();
  assert.deepEqual(kept.map((p) => p.metadata.name), [name]);
  assert.equal(kept[0]!.metadata.labels?.['io.porthole.owned'], undefined);
  const gc = await porthole(['gc', '--dry-run'], { env: env() });
  assert.doesNotMatch(gc.stdout, new RegExp(name!));
  kubectlOk(['delete', 'pod', name!, '-n', ns, '--wait=false']);
  await noCopiesLeft();
});

test('gc removes the copy of a session killed with SIGKILL, and keeps a pod that only carries the label', { skip }, async () => {
  apply(
    ns,
    `
apiVersion: v1
kind: Pod
metadata:
  name: impostor-porthole-0123456789ab
  labels: { io.porthole.owned: "true", io.porthole.session: 0123456789ab }
  annotations: { io.porthole.owned: "true", io.porthole.session: 0123456789ab, io.porthole.pid: "999999", io.porthole.pid-start: "1", io.porthole.host: somewhere }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: c, image: ${BUSYBOX}, imagePullPolicy: Never, command: [sleep, "600"] }
`,
  );
  const child = spawnPorthole(['-n', ns, 'shell', 'pod/done', '--', 'sleep', '600'], env());
  const exited = new Promise((r) => child.on('close', r));
  let copyName = '';
  try {
    await waitFor('the copy running', () => {
      const found = copies().filter((p) => p.metadata.name.startsWith('done-'));
      if (found.length !== 1) return false;
      copyName = found[0]!.metadata.name;
      return sessionRunning(copyName);
    }, 60_000);
    const live = await porthole(['gc', '--dry-run'], { env: env() });
    assert.match(live.stdout, new RegExp(`kept pod ${ns}/${copyName} .*its session is still running`));
  } finally {
    child.kill('SIGKILL');
  }
  await exited;
  await sleep(500);
  // Killed outright: its copy is still there for gc to find.
  assert.ok(copies().some((p) => p.metadata.name === copyName));
  const gc = await porthole(['gc'], { env: env() });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, new RegExp(`removed pod ${ns}/${copyName} \\(session [0-9a-f]{12}, pid \\d+\\)`));
  assert.match(gc.stdout, new RegExp(`kept pod ${ns}/impostor-porthole-0123456789ab .*not porthole's`));
  await waitFor('the killed session\'s copy gone', () => !copies().some((p) => p.metadata.name === copyName), 45_000);
  assert.ok(copies().some((p) => p.metadata.name === 'impostor-porthole-0123456789ab'), 'gc left the impostor');
  kubectlOk(['delete', 'pod', 'impostor-porthole-0123456789ab', '-n', ns, '--wait=false']);
});
