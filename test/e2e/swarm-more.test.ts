// More failure shapes of issue 15 on the real three-node test swarm: a replica killed for memory on a worker, and a
// service that crashes only on the node that lacks a file. porthole reads the manager, then the failed task's
// container on its own node (PORTHOLE_SWARM_NODES).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { createService, dockerAt, MANAGER, NODES, onManager, removeService, serviceTasks, skipSwarm, uniqueService, waitFor } from '../support/swarm.js';

const created: string[] = [];
const volumes: [string, string][] = [];
after(async () => {
  if (created.length) removeService(...created);
  // a volume is freed once the node has removed the service's containers
  for (const [host, vol] of volumes) {
    await waitFor(`volume ${vol} removed`, () => { const r = dockerAt(host, ['volume', 'rm', vol]); return r.code === 0 || /no such volume/i.test(r.stderr); }, 60_000).catch(() => {});
  }
});
const ph = (args: string[]) => porthole(['-H', MANAGER!, ...args], { timeoutMs: 60_000 });
function nothingOwnedLeft(): void {
  for (const [node, host] of Object.entries(NODES)) {
    for (const what of [['ps', '-aq'], ['volume', 'ls', '-q'], ['network', 'ls', '-q']]) {
      const r = dockerAt(host, [...what, '--filter', 'label=io.porthole.owned=true']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '', `porthole left ${what[0]} objects on ${node}`);
    }
  }
}

test('why service/NAME: a replica on a worker is OOM-killed: the task reads "out-of-memory" on that node, with its container report', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-oom');
  created.push(name);
  // 16 MiB allowed, no swap on this machine; busybox dd allocates (and fills) a 64 MiB buffer. `exec` makes dd the
  // container's main process, so the kernel's kill is the task's end (exit 137) and not a child's.
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', '--limit-memory', '16m',
    '--restart-condition', 'none', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo allocating 64 MiB; exec dd if=/dev/zero of=/dev/null bs=64M count=1']);
  await waitFor('a failed task', () => serviceTasks(name).some((t) => t.current.startsWith('Failed')));
  const r = await ph(['why', `service/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 failed: 1 on porthole-swarm-2\n/);
  assert.match(r.stdout, new RegExp(`${name}\\.1 +task \\w{12} +on porthole-swarm-2 +failed[^\\n]*\\n +killed by the kernel's out-of-memory killer: it used more memory than it was allowed \\(exit code 137\\)`));
  assert.match(r.stdout, /Latest failed task \w{12}, from node porthole-swarm-2/);
  assert.match(r.stdout, /allocating 64 MiB/);

  const j = JSON.parse((await ph(['why', `service/${name}`, '--json'])).stdout);
  assert.equal(j.failures.length, 1);
  assert.equal(j.failures[0].node, 'porthole-swarm-2');
  assert.equal(j.failures[0].exitCode, 137);
  assert.equal(j.failures[0].oomKilled, true);
  assert.equal(j.latest.report.happened.oomKilled, true);
  // the engine of the node agrees
  const onNode = dockerAt(NODES['porthole-swarm-2']!, ['inspect', '--format', '{{.State.OOMKilled}} {{.HostConfig.Memory}}', j.failures[0].containerId]);
  assert.equal(onNode.stdout.trim(), 'true 16777216');
  nothingOwnedLeft();
});

test('why service/NAME: a global service crashes only on the node whose volume lacks its config file', { skip: skipSwarm }, async () => {
  // The nodes share this machine's filesystem, so a bind mount is the same everywhere; a named volume is not: each
  // dockerd keeps its volumes under its own data root. The config file is written into the volume on nodes 1 and 2;
  // on node 3 swarm creates the volume empty when the task starts, as it would on a freshly added machine.
  const name = uniqueService('swarm-nofile');
  const vol = `${name}-conf`;
  for (const node of ['porthole-swarm-1', 'porthole-swarm-2']) {
    const host = NODES[node]!;
    const w = dockerAt(host, ['run', '--rm', '--network', 'none', '-v', `${vol}:/conf`, 'porthole-fixture/busybox:1', 'sh', '-c', 'echo port=8080 > /conf/app.conf']);
    assert.equal(w.code, 0, w.stderr);
  }
  for (const host of Object.values(NODES)) volumes.push([host, vol]);
  created.push(name);
  createService(name, ['--mode', 'global', '--restart-max-attempts', '1', '--restart-delay', '1s', '--mount', `type=volume,source=${vol},target=/conf`,
    'porthole-fixture/busybox:1', 'sh', '-c', 'cat /conf/app.conf || { echo "fatal: /conf/app.conf not found" >&2; exit 2; }; sleep 3600']);
  await waitFor('two running and a failure on porthole-swarm-3', () => {
    const tasks = serviceTasks(name);
    return tasks.filter((t) => t.current.startsWith('Running')).length === 2 &&
      tasks.some((t) => t.node === 'porthole-swarm-3' && t.current.startsWith('Failed'));
  });
  const r = await ph(['why', `service/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 running, global/);
  assert.match(r.stdout, /\d+ failed: \d+ on porthole-swarm-3\n/);
  assert.doesNotMatch(r.stdout, /on porthole-swarm-[12] +failed/);
  assert.match(r.stdout, /exited with code 2/);
  assert.match(r.stdout, /Latest failed task \w{12}, from node porthole-swarm-3/);
  assert.match(r.stdout, /! fatal: \/conf\/app\.conf not found/);
  // a healthy node's task: running, its output is the file
  const ok = JSON.parse((await ph(['why', `service/${name}@porthole-swarm-1`, '--json'])).stdout);
  assert.equal(ok.failures.length, 0);
  assert.equal(ok.running, 1);
  nothingOwnedLeft();
});

test('node/NAME: ps and stats show that node\'s containers, why gives its state and failed containers, others say which commands take a node', { skip: skipSwarm }, async () => {
  const up = uniqueService('swarm-onnode');
  const down = uniqueService('swarm-onnode-crash');
  created.push(up, down);
  createService(up, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  createService(down, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', '--restart-condition', 'none', 'porthole-fixture/busybox:1', 'sh', '-c', 'exit 4']);
  await waitFor('one running, one failed', () => serviceTasks(up).some((t) => t.current.startsWith('Running')) && serviceTasks(down).some((t) => t.current.startsWith('Failed')));

  const ps = await ph(['ps', 'node/porthole-swarm-2']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, new RegExp(`${up}\\.1\\.`));
  assert.match(ps.stdout, /sleep 3600/);
  assert.doesNotMatch(ps.stdout, /porthole-swarm-[13]/);

  const stats = await ph(['stats', 'node/porthole-swarm-2']);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^NODE +CONTAINER ID +NAME/);
  assert.match(stats.stdout, new RegExp(`porthole-swarm-2 +\\w{12} +${up}\\.1\\.`));
  assert.doesNotMatch(stats.stdout, /porthole-swarm-[13] /);

  const why = await ph(['why', 'node/porthole-swarm-2']);
  assert.equal(why.code, 0, why.stderr);
  assert.match(why.stdout, /^node\/porthole-swarm-2 {2}\w{12} {2}worker {2}10\.216\.0\.12\n {2}status ready, availability active\n/);
  assert.match(why.stdout, new RegExp(`porthole-swarm-2 +\\w{12} +${down}\\.1\\.\\w+ +Exited \\(4\\)[^\\n]*exited with code 4`));
  assert.doesNotMatch(why.stdout, new RegExp(`${up}\\.1`));
  const j = JSON.parse((await ph(['why', 'node/porthole-swarm-2', '--json'])).stdout);
  assert.deepEqual(j.nodeStates.map((n: any) => [n.node, n.state, n.availability, n.manager]), [['porthole-swarm-2', 'ready', 'active', false]]);
  assert.ok(j.failed.every((f: any) => f.node === 'porthole-swarm-2'));

  const cat = await ph(['cat', 'node/porthole-swarm-2', '/etc/hosts']);
  assert.equal(cat.code, 2);
  assert.equal(cat.stderr, 'porthole: cat works on one container, not a node: node/NAME goes with ps, stats and why; name the container\'s task (task/ID, service/NAME.SLOT) or use -H with the node\'s engine.\n');
  assert.equal(cat.stdout, '');
  const none = await ph(['ps', 'node/porthole-swarm-9']);
  assert.equal(none.code, 3);
  assert.equal(none.stderr, 'porthole: No such node: porthole-swarm-9. List nodes with `docker node ls`.\n');
  nothingOwnedLeft();
});

// Last in this file: it stops a node's engine and starts it again.
test('stats service/NAME --watch, piped: one table per refresh across nodes; a node stopped mid-watch is marked and the watch goes on', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-watch');
  created.push(name);
  createService(name, ['--replicas', '3', '--stop-grace-period', '1s', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  await waitFor('3 running replicas on 3 nodes', () => {
    const running = serviceTasks(name).filter((t) => t.current.startsWith('Running'));
    return running.length === 3 && new Set(running.map((t) => t.node)).size === 3;
  });
  const child = spawnPorthole(['-H', MANAGER!, 'stats', `service/${name}`, '--watch', '--interval', '1'], { PORTHOLE_SWARM_NODE_TIMEOUT_MS: '3000' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let stopped = false;
  try {
    await waitFor('two tables', () => out.split(/^NODE +CONTAINER ID/m).length - 1 >= 2, 30_000);
    const first = out.split('\n\n')[0]!;
    for (const n of [1, 2, 3]) assert.match(first, new RegExp(`^porthole-swarm-${n} +\\w{12} +${name}\\.\\d\\.`, 'm'));
    const stop = spawnSync('bash', ['scripts/swarm-node.sh', 'stop', '3'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(stop.status, 0, stop.stderr);
    stopped = true;
    await waitFor('a table marking porthole-swarm-3', () => /^porthole-swarm-3: no answer/m.test(out), 60_000);
    const seen = out.length;
    await waitFor('another table after it', () => out.slice(seen).includes('CONTAINER ID'), 30_000);
    assert.match(err, /porthole-swarm-3[^\n]*; still watching the others\.\n/);
    assert.equal(err.split('still watching').length - 1, 1, 'said once, not at each refresh');
    assert.equal(child.exitCode, null, 'the watch goes on');
    child.kill('SIGINT');
    assert.equal(await exited, 130);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (stopped) {
      const start = spawnSync('bash', ['scripts/swarm-node.sh', 'start', '3'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(start.status, 0, start.stderr);
      await waitFor('porthole-swarm-3 ready again', () => onManager(['node', 'inspect', '--format', '{{.Status.State}}', 'porthole-swarm-3']).stdout.trim() === 'ready', 90_000);
    }
  }
  nothingOwnedLeft();
});
