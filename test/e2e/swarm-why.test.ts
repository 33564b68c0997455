// why and logs on services of the real three-node test swarm (scripts/swarm-up.sh): porthole asks the manager,
// then reads the failed task's container from its own node's engine, reached through PORTHOLE_SWARM_NODES.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { createService, dockerAt, MANAGER, NODES, onManager, removeService, serviceTasks, skipSwarm, uniqueService, waitFor } from '../support/swarm.js';

const created: string[] = [];
const tagged: [string, string][] = [];
after(() => {
  if (created.length) removeService(...created);
  for (const [host, ref] of tagged) dockerAt(host, ['rmi', ref]);
});
const ph = (args: string[], env: Record<string, string> = {}) => porthole(['-H', MANAGER!, ...args], { env, timeoutMs: 60_000 });

test('why service/NAME: a replica on a worker exits 3: the failures by node, the history, and its container report from that node', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-crash');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', '--restart-max-attempts', '1',
    '--restart-delay', '1s', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo starting up; echo "boom: /etc/app.conf missing" >&2; exit 3']);
  await waitFor('two failed tasks', () => serviceTasks(name).filter((t) => t.current.startsWith('Failed')).length >= 2);
  const r = await ph(['why', `service/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^service/${name} `));
  assert.match(r.stdout, /Failed tasks\n {2}2 failed: 2 on porthole-swarm-2\n/);
  assert.match(r.stdout, /exited with code 3: the program reported a failure/);
  assert.match(r.stdout, /engine: task: non-zero exit \(3\)/);
  assert.match(r.stdout, new RegExp(`Task history\\n  ${name}\\.1\\n`));
  assert.match(r.stdout, /Latest failed task \w{12}, from node porthole-swarm-2/);
  // the single-container report, read from the worker's engine: its output and command
  assert.match(r.stdout, /! boom: \/etc\/app\.conf missing/);
  assert.match(r.stdout, /starting up/);
  assert.match(r.stdout, /sh -c 'echo starting up;/);

  const j = await ph(['why', `service/${name}`, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.kind, 'swarm-service');
  assert.equal(report.service.name, name);
  assert.equal(report.failures.length, 2);
  assert.ok(report.failures.every((f: any) => f.node === 'porthole-swarm-2' && f.exitCode === 3 && f.state === 'failed'));
  // newest first, and the latest one's container is the one on the node
  assert.ok(report.failures[0].when >= report.failures[1].when);
  assert.equal(report.latest.task, report.failures[0].task);
  assert.equal(report.latest.node, 'porthole-swarm-2');
  assert.equal(report.latest.report.happened.exitCode, 3);
  assert.equal(report.latest.report.container.id, report.failures[0].containerId);
  const onNode = dockerAt(NODES['porthole-swarm-2']!, ['inspect', '--format', '{{.State.ExitCode}}', report.failures[0].containerId]);
  assert.equal(onNode.stdout.trim(), '3');
});

test('why service/NAME with the node unreachable: the manager\'s facts, and the node named with how to reach it', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-crash-far');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-3', '--restart-max-attempts', '0',
    '--restart-condition', 'none', 'porthole-fixture/busybox:1', 'sh', '-c', 'exit 3']);
  await waitFor('a failed task', () => serviceTasks(name).some((t) => t.current.startsWith('Failed')));
  // no mapping, no context: ssh and tcp to 10.216.0.13, which the host has no route to
  const t0 = Date.now();
  const r = await ph(['why', `service/${name}`], { PORTHOLE_SWARM_NODES: '{}', DOCKER_CONFIG: '/nonexistent-porthole-swarm-test' });
  assert.ok(Date.now() - t0 < 20_000, 'it does not hang');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 failed: 1 on porthole-swarm-3/);
  assert.match(r.stdout, /exited with code 3/);
  assert.match(r.stdout, /its container could not be read: Node porthole-swarm-3's engine cannot be reached \(PORTHOLE_SWARM_NODES: no entry for "porthole-swarm-3"; docker context "porthole-swarm-3": .*; ssh:\/\/10\.216\.0\.13: did not answer.*; tcp:\/\/10\.216\.0\.13:2376: did not answer/);
});

test('why service/NAME: the image is missing on one node: "No such image" rejections there, the others run', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-noimg');
  const ref = `${name}:1`;
  for (const node of ['porthole-swarm-1', 'porthole-swarm-2']) {
    assert.equal(dockerAt(NODES[node]!, ['tag', 'porthole-fixture/busybox:1', ref]).code, 0);
    tagged.push([NODES[node]!, ref]);
  }
  created.push(name);
  createService(name, ['--mode', 'global', '--restart-max-attempts', '1', '--restart-delay', '1s', ref, 'sleep', '3600']);
  await waitFor('a rejection on porthole-swarm-3 and two running', () => {
    const tasks = serviceTasks(name);
    return tasks.some((t) => t.node === 'porthole-swarm-3' && t.current.startsWith('Rejected')) &&
      tasks.filter((t) => t.current.startsWith('Running')).length === 2;
  });
  const r = await ph(['why', `service/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`image ${name}:1  2 running, global`));
  assert.match(r.stdout, /\d+ failed: \d+ on porthole-swarm-3\n/);
  assert.match(r.stdout, new RegExp(`${name}@porthole-swarm-3  task \\w{12}  on porthole-swarm-3  rejected `));
  assert.match(r.stdout, new RegExp(`rejected: the image is not on this node and could not be pulled \\(No such image: ${name}:1\\)`));
  assert.doesNotMatch(r.stdout, /on porthole-swarm-[12] {2}rejected/);
  // the per-node name selects that node's task alone
  const one = await ph(['why', `service/${name}@porthole-swarm-1`, '--json']);
  assert.equal(one.code, 0, one.stderr);
  const j = JSON.parse(one.stdout);
  assert.equal(j.failures.length, 0);
  assert.equal(j.running, 1);
});

test('logs service/NAME: every replica\'s lines through the manager, prefixed by task and node, stdout and stderr apart', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-logs');
  created.push(name);
  createService(name, ['--replicas', '3', '--env', 'SLOT={{.Task.Slot}}', 'porthole-fixture/busybox:1', 'sh', '-c',
    'echo "hello from slot $SLOT"; echo "warning from slot $SLOT" >&2; sleep 3600']);
  const tasks = await waitFor('3 running replicas', () => {
    const running = serviceTasks(name).filter((t) => t.current.startsWith('Running'));
    return running.length === 3 && running;
  });
  const nodeOf = new Map(tasks.map((t) => [t.name, t.node]));
  let out = await ph(['logs', `service/${name}`]);
  for (let i = 0; i < 30 && out.stdout.trim().split('\n').length < 3; i++) {
    await new Promise((res) => setTimeout(res, 300));
    out = await ph(['logs', `service/${name}`]);
  }
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').sort();
  assert.deepEqual(lines, [1, 2, 3].map((s) => `${name}.${s}@${nodeOf.get(`${name}.${s}`)} | hello from slot ${s}`));
  assert.deepEqual(out.stderr.trim().split('\n').sort(), [1, 2, 3].map((s) => `${name}.${s}@${nodeOf.get(`${name}.${s}`)} | warning from slot ${s}`));
  assert.equal(new Set(tasks.map((t) => t.node)).size, 3);

  const slot = await ph(['logs', `service/${name}.2`, '--timestamps', '--grep', 'hello']);
  assert.equal(slot.code, 0, slot.stderr);
  assert.match(slot.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z ${name}\\.2@${nodeOf.get(`${name}.2`)} \\| hello from slot 2\\n$`));
  assert.equal(slot.stderr, '');

  const missing = await ph(['logs', `service/${name}-nope`]);
  assert.equal(missing.code, 3);
  assert.equal(missing.stderr, `porthole: No such service: ${name}-nope. List services with \`docker service ls\`.\n`);
});

test('logs -f service/NAME: new lines from every replica as they come, Ctrl-C ends it with 130', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-follow');
  created.push(name);
  createService(name, ['--replicas', '2', '--env', 'SLOT={{.Task.Slot}}', 'porthole-fixture/busybox:1', 'sh', '-c',
    'i=0; while true; do i=$((i+1)); echo "tick $i from $SLOT"; sleep 0.5; done']);
  await waitFor('2 running replicas', () => serviceTasks(name).filter((t) => t.current.startsWith('Running')).length === 2);
  const child = spawnPorthole(['-H', MANAGER!, 'logs', '-f', '--tail', '0', `service/${name}`]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await waitFor('lines from both replicas', () => out.includes(`${name}.1@`) && out.includes(`${name}.2@`), 30_000);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const t0 = Date.now();
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.ok(Date.now() - t0 < 5000);
  // --tail 0: only lines written after the start, none of the first ones
  assert.doesNotMatch(out, / \| tick 1 from /);
  for (const line of out.trim().split('\n')) assert.match(line, new RegExp(`^${name}\\.[12]@porthole-swarm-[123] \\| tick \\d+ from [12]$`));
});

test('task/ID (an id prefix): why reports that task and its container from its node; logs gives its lines alone', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-task');
  created.push(name);
  createService(name, ['--replicas', '2', '--env', 'SLOT={{.Task.Slot}}', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo "hi from $SLOT"; sleep 3600']);
  const tasks = await waitFor('2 running replicas', () => {
    const running = serviceTasks(name).filter((t) => t.current.startsWith('Running'));
    return running.length === 2 && running;
  });
  const task = tasks.find((t) => t.name === `${name}.2`)!;
  await waitFor('its line', () => onManager(['service', 'logs', '--raw', name]).stdout.includes('hi from 2'));
  const why = await ph(['why', `task/${task.id.slice(0, 8)}`, '--json']);
  assert.equal(why.code, 0, why.stderr);
  const j = JSON.parse(why.stdout);
  assert.equal(j.selection, `task ${task.id.slice(0, 12)}`);
  assert.deepEqual(j.history.map((h: any) => h.slot), [`${name}.2`]);
  assert.equal(j.latest.task, task.id);
  assert.equal(j.latest.node, task.node);
  assert.equal(j.latest.report.happened.running, true);
  assert.deepEqual(j.latest.report.said.lines.map((l: any) => l.text), ['hi from 2']);

  const logs = await ph(['logs', `task/${task.id.slice(0, 8)}`]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, `${name}.2@${task.node} | hi from 2\n`);

  const none = await ph(['why', 'task/zzzzzzzz']);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /^porthole: No such task: zzzzzzzz\./);
  const node = await ph(['logs', 'node/porthole-swarm-1']);
  assert.equal(node.code, 2);
});

// Last in this file: it stops a node's engine (and starts it again), which the tests above must not see.
test('a node whose engine is stopped: logs still come from the others and name the node, why names it down; nothing hangs', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-nodeloss');
  created.push(name);
  createService(name, ['--replicas', '3', '--stop-grace-period', '1s', '--env', 'SLOT={{.Task.Slot}}', 'porthole-fixture/busybox:1', 'sh', '-c',
    'echo "hello from slot $SLOT"; sleep 3600']);
  const tasks = await waitFor('3 running replicas on 3 nodes', () => {
    const running = serviceTasks(name).filter((t) => t.current.startsWith('Running'));
    return running.length === 3 && new Set(running.map((t) => t.node)).size === 3 && running;
  });
  const lost = tasks.find((t) => t.node === 'porthole-swarm-3')!;
  const kept = tasks.filter((t) => t.node !== 'porthole-swarm-3').map((t) => `${t.name}@${t.node} | hello from slot ${t.name.split('.').pop()}`).sort();
  await waitFor('every replica has logged', () => onManager(['service', 'logs', '--raw', name]).stdout.trim().split('\n').length === 3);
  const nodeIds = onManager(['node', 'ls', '-q']).stdout.trim().split('\n');
  const stop = spawnSync('bash', ['scripts/swarm-node.sh', 'stop', '3'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(stop.status, 0, stop.stderr);
  try {
    await waitFor('the manager to see porthole-swarm-3 down', () => onManager(['node', 'inspect', '--format', '{{.Status.State}}', 'porthole-swarm-3']).stdout.trim() === 'down', 60_000);
    const t0 = Date.now();
    const logs = await ph(['logs', `service/${name}`]);
    assert.ok(Date.now() - t0 < 20_000, 'logs returned');
    assert.equal(logs.code, 0, logs.stderr);
    assert.deepEqual(logs.stdout.trim().split('\n').sort(), kept);
    assert.ok(!logs.stdout.includes(`${lost.name}@porthole-swarm-3`), logs.stdout);
    assert.match(logs.stderr, /node porthole-swarm-3 is down: the logs of its tasks are missing/);
    assert.match(logs.stderr, /some logs are missing: .*porthole-swarm-3 is not available/);
    for (const id of nodeIds) assert.ok(!logs.stderr.includes(id), `node id ${id} instead of its name`);

    const why = await ph(['why', `service/${name}`]);
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, new RegExp(`Node porthole-swarm-3 is down: 1 task\\(s\\) last reported running there \\(${lost.id.slice(0, 12)}\\)`));
  } finally {
    const start = spawnSync('bash', ['scripts/swarm-node.sh', 'start', '3'], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(start.status, 0, start.stderr);
  }
});
