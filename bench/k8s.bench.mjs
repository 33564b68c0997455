// porthole on pods against kubectl, side by side, on the test cluster (scripts/k8s-up.sh; KUBECONFIG if set):
//   why pod/X                vs kubectl describe pod X + kubectl logs X --previous --tail 50 (target: no slower)
//   logs pod/X --tail 100    vs kubectl logs X --tail 100 (target: at most 1.2x)
//   logs --tail 1 pod/X      vs logs --tail 1 CONTAINER on Docker (target: at most 40 ms more start-up)
// kubectl is Debian's (/usr/bin/kubectl) when there, as the issue asks, else the cluster's own build.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, compare, PORTHOLE, sh, kubeBench } from './lib.mjs';

const { kubeconfig, kubectl, k } = kubeBench();
const ns = `porthole-bench-${process.pid}`;
const docker = `porthole-bench-k8s-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-k8s-'));
const manifest = join(dir, 'pods.yaml');
writeFileSync(
  manifest,
  `apiVersion: v1
kind: Pod
metadata: { name: crash }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/busybox:local
    imagePullPolicy: Never
    command: [sh, -c, 'for i in $(seq 60); do echo "line $i"; done; echo "/etc/app.conf:3: bad value" >&2; exit 2']
---
apiVersion: v1
kind: Pod
metadata: { name: talker }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/busybox:local
    imagePullPolicy: Never
    command: [sh, -c, 'for i in $(seq 2000); do echo "request $i served in 3 ms"; done; sleep 3600']
`,
);
sh(`${k} create namespace ${ns} >/dev/null`);
try {
  sh(`${k} apply -n ${ns} -f ${manifest} >/dev/null`);
  sh(`for i in $(seq 180); do r=$(${k} get pod crash -n ${ns} -o jsonpath='{.status.containerStatuses[0].restartCount}'); [ "\${r:-0}" -ge 1 ] && break; sleep 1; done`);
  sh(`${k} wait --for=condition=Ready pod/talker -n ${ns} --timeout=180s >/dev/null`);
  const env = `KUBECONFIG=${kubeconfig}`;
  compare('porthole why pod/X vs kubectl describe + kubectl logs --previous --tail 50', [
    { name: 'kubectl describe pod + logs --previous --tail 50', cmd: `${k} describe pod crash -n ${ns} >/dev/null; ${k} logs crash -n ${ns} --previous --tail 50 >/dev/null` },
    { name: 'porthole why pod/X', cmd: `${env} ${PORTHOLE} why pod/crash -n ${ns}` },
  ]);
  compare('porthole logs pod/X --tail 100 vs kubectl logs --tail 100', [
    { name: 'kubectl logs --tail 100', cmd: `${k} logs talker -n ${ns} --tail 100` },
    { name: 'porthole logs pod/X --tail 100', cmd: `${env} ${PORTHOLE} logs pod/talker --namespace ${ns} --tail 100` },
  ]);
  // A Docker container to compare one-shot start-up with: the same command on the same busybox.
  sh(`docker image inspect porthole-bench/busybox:1 >/dev/null 2>&1 || (d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && ln -s busybox $d/bin/sh && tar -C $d -c . | docker import --change 'LABEL ${BENCH_LABEL}' - porthole-bench/busybox:1 >/dev/null && rm -rf $d)`);
  sh(`docker run -d --name ${docker} --label ${BENCH_LABEL} porthole-bench/busybox:1 sh -c 'echo hello; sleep 3600' >/dev/null`);
  compare('one-shot start-up: a pod command vs a Docker command (logs --tail 1)', [
    { name: 'porthole logs --tail 1 CONTAINER (Docker)', cmd: `${PORTHOLE} logs --tail 1 ${docker}` },
    { name: 'porthole logs --tail 1 pod/X', cmd: `${env} ${PORTHOLE} logs --tail 1 pod/talker --namespace ${ns}` },
    { name: 'node -e 0', cmd: 'node -e 0' },
  ]);
} finally {
  sh(`docker rm -f ${docker} >/dev/null 2>&1 || true`);
  sh(`${k} delete namespace ${ns} --wait=false >/dev/null 2>&1 || true`);
  rmSync(dir, { recursive: true, force: true });
}
