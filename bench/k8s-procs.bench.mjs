// ps and stats on pods against kubectl, side by side, on the test cluster (scripts/k8s-up.sh; KUBECONFIG if set):
//   ps pod/X/C              vs kubectl exec X -c C -- ps (the pod's own busybox ps)
//   ps pod/X (shared ns)    vs kubectl exec X -- ps
//   stats -n NS             vs kubectl get pods + the kubelet Summary through the API (what porthole reads here:
//                              the test cluster has no metrics-server, so no `kubectl top`)
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, PORTHOLE, sh, kubeBench } from './lib.mjs';

const { kubeconfig, kubectl, k } = kubeBench();
const ns = `porthole-bench-procs-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-k8s-procs-'));
const manifest = join(dir, 'pods.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: Pod
metadata: { name: app }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: app, image: localhost/busybox:local, imagePullPolicy: Never, command: [sh, -c, 'sleep 100000 & sleep 100001 & exec sleep 100002'] }
---
apiVersion: v1
kind: Pod
metadata: { name: shared }
spec:
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - { name: app, image: localhost/busybox:local, imagePullPolicy: Never, command: [sh, -c, 'sleep 100000 & exec sleep 100002'] }
  - { name: side, image: localhost/busybox:local, imagePullPolicy: Never, command: [sleep, '100003'] }
`,
);
sh(`${k} create namespace ${ns} >/dev/null`);
try {
  sh(`${k} apply -n ${ns} -f ${manifest} >/dev/null`);
  sh(`${k} wait --for=condition=Ready pod/app pod/shared -n ${ns} --timeout=180s >/dev/null`);
  const env = `KUBECONFIG=${kubeconfig}`;
  compare('porthole ps pod/X/C vs kubectl exec X -c C -- ps', [
    { name: 'kubectl exec -- ps', cmd: `${k} exec -n ${ns} app -c app -- ps >/dev/null` },
    { name: 'porthole ps pod/X/C', cmd: `${env} ${PORTHOLE} ps -n ${ns} pod/app/app >/dev/null` },
  ]);
  compare('porthole ps pod/X (shareProcessNamespace, 2 containers) vs kubectl exec X -- ps', [
    { name: 'kubectl exec -- ps', cmd: `${k} exec -n ${ns} shared -c app -- ps >/dev/null` },
    { name: 'porthole ps pod/X', cmd: `${env} ${PORTHOLE} ps -n ${ns} pod/shared >/dev/null` },
  ]);
  const node = sh(`${k} get pod app -n ${ns} -o jsonpath='{.spec.nodeName}'`).trim();
  compare('porthole stats -n NS vs kubectl get pods + get --raw the kubelet Summary', [
    { name: 'kubectl get pods + Summary', cmd: `${k} get pods -n ${ns} >/dev/null; ${k} get --raw /api/v1/nodes/${node}/proxy/stats/summary >/dev/null` },
    { name: 'porthole stats -n NS', cmd: `${env} ${PORTHOLE} stats -n ${ns} >/dev/null 2>&1` },
  ]);
} finally {
  sh(`${k} delete namespace ${ns} --wait=false >/dev/null 2>&1 || true`);
  rmSync(dir, { recursive: true, force: true });
}
