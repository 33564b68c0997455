// `porthole stats --all-nodes` across the 3 nodes of the test swarm with 30 containers (a 30-replica service, 10
// a node), against docker's nearest: `docker -H NODE stats --no-stream` on each node at once (docker has no stats
// across nodes). Target: at most 600 ms. Also `ps service/NAME` against `docker service ps` + `docker -H NODE top`
// for each task. Runs on the test swarm (scripts/swarm-up.sh, root), which it brings up if needed.
import { spawnSync } from 'node:child_process';
import { compare, PORTHOLE, sh } from './lib.mjs';

const up = spawnSync('bash', ['scripts/swarm-up.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (up.status !== 0) process.exit(1);
const env = Object.fromEntries(up.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const manager = env.MANAGER;
const nodeHosts = Object.entries(env).filter(([k]) => k.startsWith('NODE_')).map(([k, v]) => [k.slice(5), v]);
const nodes = JSON.stringify(Object.fromEntries(nodeHosts));
const NAME = `porthole-bench-swarm-stats-${process.pid}`;
sh(`docker -H ${manager} service create -q --detach --name ${NAME} --replicas 30 --replicas-max-per-node 10 --no-resolve-image porthole-fixture/busybox:1 sleep 3600 >/dev/null`);
try {
  sh(`for i in $(seq 300); do [ "$(docker -H ${manager} service ps ${NAME} --filter desired-state=running --format '{{.CurrentState}}' | grep -c Running)" = 30 ] && break; sleep 0.3; done`);
  const perNode = nodeHosts.map(([name, host]) => `${name}: ${sh(`docker -H ${host} ps -q | wc -l`)}`).join(', ');
  console.log(`running containers: ${perNode}`);
  const results = compare('porthole stats --all-nodes (3 nodes, 30 containers) vs docker stats --no-stream on each node at once', [
    { name: 'docker -H NODE stats --no-stream, 3 nodes at once', cmd: nodeHosts.map(([, host]) => `docker -H ${host} stats --no-stream >/dev/null &`).join(' ') + ' wait' },
    { name: 'porthole stats --all-nodes', cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${PORTHOLE} -H ${manager} stats --all-nodes >/dev/null` },
    { name: `porthole stats service/NAME`, cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${PORTHOLE} -H ${manager} stats service/${NAME} >/dev/null` },
  ], { runs: 15 });
  const mine = results.find((r) => r.name === 'porthole stats --all-nodes');
  console.log(`  target: stats --all-nodes at most 600 ms: ${mine.meanMs.toFixed(0)} ms, ${mine.meanMs <= 600 ? 'met' : 'MISSED'}`);
  compare('porthole ps service/NAME (30 tasks on 3 nodes) vs docker service ps + docker -H NODE top for each task', [
    {
      name: 'docker service ps + -H NODE top per task',
      cmd: `docker -H ${manager} service ps ${NAME} --no-trunc --filter desired-state=running --format '{{.Node}} {{.Name}}.{{.ID}}' | while read node c; do docker -H unix:///run/porthole-swarm/node\${node##*-}.sock top $c >/dev/null & done; wait`,
    },
    { name: 'porthole ps service/NAME', cmd: `PORTHOLE_SWARM_NODES='${nodes}' ${PORTHOLE} -H ${manager} ps service/${NAME} >/dev/null` },
  ], { runs: 10 });
} finally {
  sh(`docker -H ${manager} service rm ${NAME} >/dev/null`);
}
