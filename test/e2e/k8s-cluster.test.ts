// The test Kubernetes cluster as the test runner hands it over (scripts/test.mjs runs scripts/k8s-up.sh for a
// Kubernetes e2e file when KUBECONFIG is unset): a real node running the pinned kubelet, its own containerd holding
// the offline test images, and the test users' RBAC.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const kubeconfig = process.env.KUBECONFIG;
const containerd = process.env.CONTAINERD_ADDRESS;
const skip = !kubeconfig || !containerd ? 'KUBECONFIG and CONTAINERD_ADDRESS unset (run through npm test / scripts/test.mjs, or export k8s-up.sh\'s last two lines)' : false;
const built = '/var/cache/porthole/k8s/v1.36.3/bin/kubectl';
const kubectlBin = existsSync(built) ? built : 'kubectl';

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const kubectl = (config: string, args: string[]) => run(kubectlBin, ['--kubeconfig', config, '--request-timeout=30s', ...args]);

test('the node is Ready and runs the pinned kubelet', { skip }, () => {
  const r = kubectl(kubeconfig!, ['get', 'nodes', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const nodes = JSON.parse(r.stdout).items as { status: { nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string }; conditions: { type: string; status: string }[] } }[];
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0].status.nodeInfo.kubeletVersion, 'v1.36.3');
  assert.match(nodes[0].status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
  assert.equal(nodes[0].status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
});

test("the cluster's own containerd holds the offline test images", { skip }, () => {
  const r = run('ctr', ['-a', containerd!, '-n', 'k8s.io', 'images', 'ls', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const refs = r.stdout.split('\n');
  assert.ok(refs.includes('localhost/busybox:local'), r.stdout);
  assert.ok(refs.includes('localhost/pause:local'), r.stdout);
});

test('the test users: viewer reads pods in default only, nobody is forbidden', { skip }, () => {
  const dir = dirname(kubeconfig!);
  const viewer = join(dir, 'porthole-viewer.kubeconfig');
  const nobody = join(dir, 'porthole-nobody.kubeconfig');
  assert.equal(kubectl(viewer, ['get', 'pods', '-n', 'default']).code, 0);
  const elsewhere = kubectl(viewer, ['get', 'pods', '-n', 'kube-system']);
  assert.notEqual(elsewhere.code, 0);
  assert.match(elsewhere.stderr, /Forbidden/);
  const denied = kubectl(nobody, ['get', 'pods', '-n', 'default']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /forbidden: User "porthole-nobody" cannot list resource "pods"/);
});
