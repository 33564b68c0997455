// `porthole why service/NAME` with one failed task on a worker, against what a person types for it, back to back:
// docker service ps NAME --no-trunc + docker -H NODE inspect + docker -H NODE logs --tail 50. Target: no slower.
// Runs on the test swarm (scripts/swarm-up.sh, root), which it brings up if needed.
import { spawnSync } from 'node:child_process';
import { compare, PORTHOLE, sh } from './lib.mjs';

const up = spawnSync('bash', ['scripts/swarm-up.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (up.status !== 0) process.exit(1);
const env = Object.fromEntries(up.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const manager = env.MANAGER;
const worker = env['NODE_porthole-swarm-2'];
const nodes = JSON.stringify(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('NODE_')).map(([k, v]) => [k.slice(5), v])));
const NAME = `porthole-bench-swarm-${process.pid}`;
sh(`docker -H ${manager} service create -q --detach --name ${NAME} --replicas 1 --constraint node.hostname==porthole-swarm-2 --restart-condition none --no-resolve-image porthole-fixture/busybox:1 sh -c 'echo starting; echo "boom" >&2; exit 3' >/dev/null`);
try {
  sh(`for i in $(seq 100); do docker -H ${manager} service ps ${NAME} --format '{{.CurrentState}}' | grep -q Failed && break; sleep 0.2; done`);
  const container = sh(`docker -H ${worker} ps -aq --no-trunc --filter label=com.docker.swarm.service.name=${NAME}`).trim();
  compare('porthole why service/NAME (a failed task on a worker) vs docker service ps + inspect + logs on the node', [
    { name: 'manual: service ps --no-trunc + -H NODE inspect + -H NODE logs --tail 50', cmd: `docker -H ${manager} service ps ${NAME} --no-trunc >/dev/null; docker -H ${worker} inspect ${container} >/dev/null; docker -H ${worker} logs --tail 50 ${container} >/dev/null 2>&1` },
    // why also lists the files the container changed: the engine's diff mounts the stopped container's layer (about
    // 15 ms on these engines), a step the target's manual sequence leaves out; shown with it for comparison
    { name: 'manual, with docker -H NODE diff', cmd: `docker -H ${manager} service ps ${NAME} --no-trunc >/dev/null; docker -H ${worker} inspect ${container} >/dev/null; docker -H ${worker} logs --tail 50 ${container} >/dev/null 2>&1; docker -H ${worker} diff ${container} >/dev/null` },
    { name: 'porthole why service/NAME', cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${PORTHOLE} -H ${manager} why service/${NAME}` },
    // the floor: the same five questions from a bare Node program (bench/swarm-floor.cjs), no porthole code
    { name: 'floor: a bare Node program asking the same 5 questions', cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${process.execPath} bench/swarm-floor.cjs ${manager} ${NAME}` },
    { name: 'porthole logs service/NAME', cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${PORTHOLE} -H ${manager} logs service/${NAME}` },
    { name: 'manual: docker service logs', cmd: `docker -H ${manager} service logs ${NAME} >/dev/null 2>&1` },
  ]);
} finally {
  sh(`docker -H ${manager} service rm ${NAME} >/dev/null`);
}
