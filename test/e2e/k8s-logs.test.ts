// `porthole logs` on pods of the real test cluster: --previous, -c, --all-containers, --tail/--grep/-t, and -f on a
// Deployment following every pod, picking up pods that appear. Each test file's namespace is removed afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { apply, clusterKubeconfig, deploymentManifest, kubectlOk, manifests, podManifest, skipReason, useNamespace, waitForPod } from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes logs tests: ${skip}`);
let ns = '';
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });
const logs = (args: string[]) => porthole(['logs', ...args, '--namespace', ns], { env: env(), timeoutMs: 60_000 });

useNamespace('logs', (made) => {
  ns = made;
  apply(
    ns,
    manifests(
      podManifest('twice', { containers: [{ name: 'app', command: ['sh', '-c', 'n=$(cat /proc/uptime); echo "run at $n"; sleep 0.5; echo "error: giving up" >&2; sleep 2; exit 1'] }] }),
      podManifest('duo', {
        containers: [
          { name: 'web', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo "web line $i"; done; sleep 3600'] },
          { name: 'side', command: ['sh', '-c', 'echo "side says hi"; sleep 0.5; echo "side warning: disk" >&2; sleep 3600'] },
        ],
      }),
      deploymentManifest('ticker', { containers: [{ name: 'tick', command: ['sh', '-c', 'i=0; while true; do echo "tick $i from $HOSTNAME"; i=$((i+1)); sleep 1; done'] }] }),
    ),
  );
});

test('logs --previous shows the instance before the restart; without it, the current one', { skip }, async () => {
  await waitForPod(ns, 'a restart', (p) => p.metadata.name === 'twice' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  const prev = await logs(['pod/twice', '--previous']);
  assert.equal(prev.code, 0, prev.stderr);
  assert.match(prev.stdout, /^run at [\d.]+ [\d.]+\nerror: giving up\n$/);
  const now = await logs(['pod/twice', '-p', '--grep', 'error', '-t']);
  assert.equal(now.code, 0, now.stderr);
  assert.match(now.stdout, /^\d{4}-\d\d-\d\dT\S+ error: giving up\n$/);
});

test('logs on a pod of two containers: the default one with a notice, -c, pod/X/C, --all-containers, --tail', { skip }, async () => {
  await waitForPod(ns, 'both containers running', (p) => p.metadata.name === 'duo' && (p.status?.containerStatuses ?? []).filter((c) => c.state?.running).length === 2);
  // the containers print their lines over the first half second (stdout and stderr apart in time: the runtime
  // reads them from two pipes, so lines written at once may be kept in either order)
  await new Promise((r) => setTimeout(r, 2000));
  const first = await logs(['pod/duo', '--tail', '2']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'web line 4\nweb line 5\n');
  assert.match(first.stderr, /showing container web of web, side; choose with -c NAME or --all-containers/);
  const side = await logs(['pod/duo', '-c', 'side']);
  assert.equal(side.stdout, 'side says hi\nside warning: disk\n');
  const slash = await logs(['pod/duo/side', '--grep', 'warn']);
  assert.equal(slash.stdout, 'side warning: disk\n');
  const all = await logs(['pod/duo', '--all-containers', '--tail', '1']);
  assert.equal(all.stdout, '[web] web line 5\n[side] side warning: disk\n');
  // -n is --tail for logs (docker's meaning): a namespace there is explained, not taken for a bad number
  const kubectlHabit = await porthole(['logs', 'pod/duo', '-n', ns], { env: env() });
  assert.equal(kubectlHabit.code, 2);
  assert.match(kubectlHabit.stderr, /for logs, -n is --tail, as in docker logs\. Give the namespace with --namespace /);
  const before = await porthole(['-n', ns, 'logs', 'pod/duo', '-c', 'web', '--tail', '1'], { env: env() });
  assert.equal(before.stdout, 'web line 5\n');
  const wrong = await logs(['pod/duo', '-c', 'nope']);
  assert.equal(wrong.code, 3);
  assert.equal(wrong.stderr, 'porthole: Pod duo has no container "nope". Its containers: web, side.\n');
});

test('logs -f deploy/X follows every pod, prefixed by pod, and picks up a pod that appears', { skip }, async () => {
  const firstPod = await waitForPod(ns, 'a ticking pod', (p) => p.metadata.labels?.app === 'ticker' && !!p.status?.containerStatuses?.[0]?.state?.running);
  const child = spawnPorthole(['logs', '-f', '--tail', '1', 'deploy/ticker', '--namespace', ns], env());
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const until = async (what: string, ok: () => boolean, ms = 90_000) => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${out}\nstderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  try {
    await until('lines from the first pod', () => (out.match(new RegExp(`^\\[${firstPod.metadata.name}/tick\\] tick \\d+ from ${firstPod.metadata.name}$`, 'gm')) ?? []).length >= 2);
    kubectlOk(['scale', 'deployment/ticker', '--replicas=2', '-n', ns]);
    await until('lines from a second pod', () => new Set([...out.matchAll(/^\[(ticker-[^/]+)\/tick\] tick/gm)].map((m) => m[1])).size >= 2);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 130, err);
    for (const line of out.trimEnd().split('\n')) assert.match(line, /^\[ticker-[a-z0-9-]+\/tick\] tick \d+ from ticker-[a-z0-9-]+$/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('logs -f pod/X ends when asked, with 130', { skip }, async () => {
  const p = await waitForPod(ns, 'a ticking pod', (x) => x.metadata.labels?.app === 'ticker' && !!x.status?.containerStatuses?.[0]?.state?.running);
  const child = spawnPorthole(['logs', '-f', `pod/${p.metadata.name}`, '--namespace', ns], env());
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while ((out.match(/^tick \d+/gm) ?? []).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 130);
  assert.ok((out.match(/^tick \d+ from /gm) ?? []).length >= 3, out);
});
