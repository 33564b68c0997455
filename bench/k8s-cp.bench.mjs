// porthole's pod files against kubectl, side by side, on the test cluster (scripts/k8s-up.sh; KUBECONFIG if set):
//   cp pod/X:/big DEST (256 MiB)   vs kubectl cp X:/big DEST         (target: at least 0.9x kubectl's throughput)
//   cat pod/X /etc/FILE (1 MiB)    vs kubectl exec X -- cat /etc/FILE (target: at most 1.2x)
//   ls -l pod/X /links (300 links) vs kubectl exec X -- ls -l /links  (no target; it was slow for no known reason)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, PORTHOLE, sh, kubeBench } from './lib.mjs';

const { kubeconfig, kubectl, k } = kubeBench();
const ns = `porthole-bench-cp-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-k8s-cp-'));
const runs = Number(process.env.BENCH_CP_RUNS ?? 5);
sh(`${k} create namespace ${ns} >/dev/null`);
try {
  sh(`${k} run box -n ${ns} --image=localhost/busybox:local --image-pull-policy=Never --restart=Never -- sh -c 'head -c 268435456 /dev/urandom > /big; head -c 1048576 /dev/urandom > /etc/bench1m; mkdir /links; for i in $(seq 300); do ln -s /etc/passwd /links/l$i; done; touch /ready; exec sleep 3600' >/dev/null`);
  sh(`${k} wait --for=condition=Ready pod/box -n ${ns} --timeout=180s >/dev/null`);
  sh(`for i in $(seq 120); do ${k} exec box -n ${ns} -- test -e /ready && break; sleep 1; done`);
  const env = `KUBECONFIG=${kubeconfig}`;
  const results = compare(
    'cp pod/X:/big DEST (256 MiB) vs kubectl cp',
    [
      { name: 'kubectl cp X:/big DEST', cmd: `${k} cp -n ${ns} box:/big ${dir}/k.big 2>/dev/null` },
      { name: 'porthole cp pod/X:/big DEST', cmd: `${env} ${PORTHOLE} -n ${ns} cp pod/box:/big ${dir}/p.big` },
    ],
    { runs, warmup: 1 },
  );
  sh(`cmp ${dir}/k.big ${dir}/p.big`);
  const [kc, pc] = results;
  console.log(`  throughput: kubectl ${(256 / (kc.meanMs / 1000)).toFixed(1)} MiB/s, porthole ${(256 / (pc.meanMs / 1000)).toFixed(1)} MiB/s: porthole at ${(kc.meanMs / pc.meanMs).toFixed(2)}x kubectl's (target at least 0.9x)`);
  compare('cat pod/X /etc/FILE (1 MiB) vs kubectl exec X -- cat', [
    { name: 'kubectl exec X -- cat /etc/bench1m', cmd: `${k} exec box -n ${ns} -- cat /etc/bench1m >/dev/null` },
    { name: 'porthole cat pod/X /etc/bench1m', cmd: `${env} ${PORTHOLE} -n ${ns} cat pod/box /etc/bench1m >/dev/null` },
    // Node reads NODE_EXTRA_CA_CERTS (on this machine the whole system bundle) at its first TLS context, even when
    // the kubeconfig names the CA: this row shows what that costs (kubectl does not pay it).
    ...(process.env.NODE_EXTRA_CA_CERTS ? [{ name: 'porthole cat, NODE_EXTRA_CA_CERTS unset', cmd: `env -u NODE_EXTRA_CA_CERTS ${env} ${PORTHOLE} -n ${ns} cat pod/box /etc/bench1m >/dev/null` }] : []),
    { name: 'node -e 0', cmd: 'node -e 0' },
  ]);
  compare('ls -l of a folder of 300 links vs kubectl exec ls -l', [
    { name: 'kubectl exec X -- ls -l /links', cmd: `${k} exec box -n ${ns} -- ls -l /links >/dev/null` },
    { name: 'porthole ls -l pod/X /links', cmd: `${env} ${PORTHOLE} -n ${ns} ls -l pod/box /links >/dev/null` },
  ]);
} finally {
  sh(`${k} delete namespace ${ns} --wait=false >/dev/null 2>&1 || true`);
  rmSync(dir, { recursive: true, force: true });
}
