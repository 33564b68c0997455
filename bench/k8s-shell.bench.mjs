// porthole shell on a pod against kubectl exec, side by side, on the test cluster (scripts/k8s-up.sh):
//   shell pod/X -- true   vs kubectl exec X -- true   (target: within 50 ms)
//   echo | shell pod/X -- cat (piped stdin to its end) vs kubectl exec -i X -- cat
import { existsSync } from 'node:fs';
import { compare, PORTHOLE, sh, kubeBench } from './lib.mjs';

const { kubeconfig, kubectl, k } = kubeBench();
const ns = `porthole-bench-shell-${process.pid}`;
sh(`${k} create namespace ${ns} >/dev/null`);
try {
  sh(`${k} run box -n ${ns} --image=localhost/busybox:local --image-pull-policy=Never --restart=Never -- sleep 3600 >/dev/null`);
  sh(`${k} wait --for=condition=Ready pod/box -n ${ns} --timeout=180s >/dev/null`);
  const env = `KUBECONFIG=${kubeconfig}`;
  compare('porthole shell pod/X -- true vs kubectl exec X -- true', [
    { name: 'kubectl exec X -- true', cmd: `${k} exec box -n ${ns} -- true </dev/null` },
    { name: 'porthole shell pod/X -- true', cmd: `${env} ${PORTHOLE} -n ${ns} shell pod/box -- true </dev/null` },
    { name: 'node -e 0', cmd: 'node -e 0' },
  ]);
  compare('echo hi | shell pod/X -- cat vs kubectl exec -i X -- cat', [
    { name: 'kubectl exec -i X -- cat', cmd: `echo hi | ${k} exec -i box -n ${ns} -- cat` },
    { name: 'porthole shell pod/X -- cat', cmd: `echo hi | ${env} ${PORTHOLE} -n ${ns} shell pod/box -- cat` },
  ]);
} finally {
  sh(`${k} delete namespace ${ns} --wait=false >/dev/null 2>&1 || true`);
}
