// The test swarm as scripts/swarm-up.sh brings it up: three engines, one manager and two workers, each its own
// host (hostname, address, engine), every node holding the test image, and a 3-replica service spread over them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { createService, dockerAt, MANAGER, NODES, onManager, removeService, serviceTasks, skipSwarm, uniqueService, waitFor } from '../support/swarm.js';

const created: string[] = [];
after(() => { if (created.length) removeService(...created); });

test('three nodes Ready: one manager, two workers, each a separate engine with its own address', { skip: skipSwarm }, () => {
  const r = onManager(['node', 'ls', '--format', '{{.Hostname}}\t{{.Status}}\t{{.ManagerStatus}}']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(rows.map((x) => x[0]).sort(), ['porthole-swarm-1', 'porthole-swarm-2', 'porthole-swarm-3']);
  assert.ok(rows.every((x) => x[1] === 'Ready'), r.stdout);
  assert.deepEqual(rows.filter((x) => x[2] === 'Leader').map((x) => x[0]), ['porthole-swarm-1']);
  const addrs = new Set<string>();
  for (const [hostname, host] of Object.entries(NODES)) {
    const info = dockerAt(host, ['info', '--format', '{{.Name}} {{.Swarm.NodeAddr}} {{.Swarm.LocalNodeState}}']);
    assert.equal(info.code, 0, info.stderr);
    const [name, addr, state] = info.stdout.trim().split(' ');
    assert.equal(name, hostname);
    assert.equal(state, 'active');
    assert.match(addr!, /^10\.216\.0\.\d+$/);
    addrs.add(addr!);
    const images = dockerAt(host, ['image', 'inspect', '--format', '{{.Id}}', 'porthole-fixture/busybox:1']);
    assert.equal(images.code, 0, `${hostname} lacks the test image: ${images.stderr}`);
  }
  assert.equal(addrs.size, 3);
  assert.equal(MANAGER, NODES['porthole-swarm-1']);
});

test('a 3-replica service runs one replica on each node', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-spread');
  created.push(name);
  createService(name, ['--replicas', '3', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  const running = await waitFor('3 running replicas', () => {
    const tasks = serviceTasks(name).filter((t) => t.desired === 'Running' && t.current.startsWith('Running'));
    return tasks.length === 3 && tasks;
  });
  assert.deepEqual(running.map((t) => t.node).sort(), ['porthole-swarm-1', 'porthole-swarm-2', 'porthole-swarm-3']);
  // each replica's container is on its own node's engine, and only there
  for (const t of running) {
    const here = dockerAt(NODES[t.node]!, ['ps', '-q', '--filter', `label=com.docker.swarm.task.id=${t.id}`]);
    assert.equal(here.stdout.trim().split('\n').filter(Boolean).length, 1, `${t.name} not on ${t.node}`);
    for (const [other, host] of Object.entries(NODES)) {
      if (other === t.node) continue;
      assert.equal(dockerAt(host, ['ps', '-q', '--filter', `label=com.docker.swarm.task.id=${t.id}`]).stdout.trim(), '');
    }
  }
});

test('swarm-up again returns at once with the same endpoints', { skip: skipSwarm }, () => {
  const t0 = Date.now();
  const r = spawnSync('bash', ['scripts/swarm-up.sh'], { encoding: 'utf8', timeout: 60_000 });
  const ms = Date.now() - t0;
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], `MANAGER=${MANAGER}`);
  for (const [hostname, host] of Object.entries(NODES)) assert.ok(lines.includes(`NODE_${hostname}=${host}`), r.stdout);
  assert.ok(ms < 3000, `took ${ms} ms`);
});

test('porthole engine on the manager lists each node, the way to its engine and that it answers', { skip: skipSwarm }, async () => {
  const r = await porthole(['-H', MANAGER!, 'engine', '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const nodes = JSON.parse(r.stdout).nodes as { name: string; state: string; manager: boolean; via: string; answers: boolean }[];
  assert.deepEqual(nodes.map((n) => [n.name, n.state, n.manager, n.via, n.answers]), Object.entries(NODES).sort().map(([name, host]) =>
    [name, 'ready', name === 'porthole-swarm-1', host, true]));
  // a node left out of the mapping is named, with the ways tried
  const partial = await porthole(['-H', MANAGER!, 'engine'], {
    timeoutMs: 60_000,
    env: { PORTHOLE_SWARM_NODES: JSON.stringify({ 'porthole-swarm-1': NODES['porthole-swarm-1'], 'porthole-swarm-2': NODES['porthole-swarm-2'] }), DOCKER_CONFIG: '/nonexistent-porthole-swarm-test' },
  });
  assert.equal(partial.code, 0, partial.stderr);
  // one table: a column each for the node, its state, role, address and engine
  assert.match(partial.stdout, /^ {2}NODE +STATE +ROLE +ADDRESS +ENGINE$/m);
  assert.match(partial.stdout, /^ {2}porthole-swarm-1 +ready +manager +10\.216\.0\.11 +reached at unix:\/\/\/run\/porthole-swarm\/node1\.sock$/m);
  assert.match(partial.stdout, /^ {2}porthole-swarm-2 +ready +worker +10\.216\.0\.12 +reached at unix:\/\/\/run\/porthole-swarm\/node2\.sock$/m);
  assert.match(partial.stdout, /^ {2}porthole-swarm-3 +ready +worker +10\.216\.0\.13 +NOT reachable: Node porthole-swarm-3's engine cannot be reached \(PORTHOLE_SWARM_NODES: no entry for "porthole-swarm-3"; /m);
});
