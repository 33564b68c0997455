// Issue 16's targets, side by side in one run:
//   porthole tool C -- true   within 40 ms of   sh -c 'true $(docker inspect -f {{.State.Pid}} C)'
//   porthole net C (1,000 open connections)   at most 1.5x   nsenter -t PID -n ss -tanp
// CONNECTIONS=N changes the number of connections (default 1000).
import { spawnSync } from 'node:child_process';
import { BENCH_LABEL, PORTHOLE, compare, cpuMs, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 1000);
const quiet = `pt-bench-tool-${process.pid}`;
const busy = `pt-bench-net-${process.pid}`;

if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status !== 0) {
  console.log(`${IMAGE} is missing: run the e2e tests once (they build it).`);
  process.exit(1);
}
sh(`docker run -d --name ${quiet} --label ${BENCH_LABEL} ${IMAGE} sleep 1000 >/dev/null`);
// nc -ll -e forks a cat for each connection; each client is an nc whose stdin never ends: CONNECTIONS established
// pairs, and 2 x CONNECTIONS processes whose fd tables porthole net reads.
sh(`docker run -d --name ${busy} --label ${BENCH_LABEL} ${IMAGE} sh -c 'nc -ll -p 9000 -e cat & sleep 0.5; i=0; while [ $i -lt ${CONNECTIONS} ]; do sleep 1000 | nc 127.0.0.1 9000 & i=$((i+1)); done; wait' >/dev/null`);
try {
  const pid = sh(`docker inspect -f '{{.State.Pid}}' ${busy}`);
  const nsenterSs = `nsenter -t ${pid} -n ss -tanp`;
  // Wait for the connections (both ends are listed by ss: 2 per connection).
  const until = Date.now() + 300_000;
  let established = 0;
  while (Date.now() < until) {
    established = Number(sh(`${nsenterSs} state established | tail -n +2 | wc -l`));
    if (established >= 2 * CONNECTIONS) break;
    spawnSync('sleep', ['1']);
  }
  console.log(`  ${busy}: ${established / 2} established connections`);
  const check = spawnSync(PORTHOLE, ['net', busy, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (check.status !== 0) throw new Error(`porthole net failed: ${check.stderr}`);
  console.log(`  porthole net sees ${JSON.parse(check.stdout).connections.length} connection ends`);

  const tool = compare('porthole tool C -- true vs the PID by hand', [
    { name: 'sh -c true $(docker inspect ...)', cmd: `sh -c 'true $(docker inspect -f {{.State.Pid}} ${quiet})'` },
    { name: 'porthole tool C -- true', cmd: `${PORTHOLE} tool ${quiet} -- true` },
    { name: 'node -e 0', cmd: `${process.execPath} -e 0` },
  ], { runs: 20, warmup: 3 });
  const over = tool[1].meanMs - tool[0].meanMs;
  console.log(`  target: within 40 ms: ${over <= 40 ? 'met' : 'MISSED'} (+${over.toFixed(1)} ms; node -e 0 alone is ${tool[2].meanMs.toFixed(1)} ms)`);

  const net = compare(`porthole net C with ${CONNECTIONS} connections vs nsenter ss`, [
    { name: 'nsenter -t PID -n ss -tanp', cmd: nsenterSs },
    { name: 'porthole net C', cmd: `${PORTHOLE} net ${busy}` },
    { name: 'porthole net C --json', cmd: `${PORTHOLE} net ${busy} --json` },
  ], { runs: 10, warmup: 2 });
  console.log(`  target: at most x1.5: ${net[1].ratio <= 1.5 ? 'met' : 'MISSED'} (x${net[1].ratio.toFixed(2)})`);
  console.log(`  CPU time (user+sys, median of 15): nsenter ss ${cpuMs(nsenterSs).toFixed(0)} ms, porthole net ${cpuMs(`${PORTHOLE} net ${busy}`).toFixed(0)} ms, node -e 0 ${cpuMs(`${process.execPath} -e 0`).toFixed(0)} ms`);
} finally {
  sh(`docker rm -f ${quiet} ${busy} >/dev/null`);
}
