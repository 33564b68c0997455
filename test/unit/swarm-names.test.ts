import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSwarmName } from '../../src/engine/swarm/names.js';
import { parseDetailedLine } from '../../src/engine/swarm/logs.js';
import { taskMeaning } from '../../src/report/swarm.js';
import { InvalidArgument } from '../../src/errors.js';
import type { SwarmTask } from '../../src/engine/types.js';

test('swarm names: services, slots, nodes of a global service, tasks, nodes; bare names are containers', () => {
  assert.deepEqual(parseSwarmName('service/web'), { kind: 'service', service: 'web' });
  assert.deepEqual(parseSwarmName('service/web.2'), { kind: 'service', service: 'web', slot: 2 });
  assert.deepEqual(parseSwarmName('service/my.app'), { kind: 'service', service: 'my.app' });
  assert.deepEqual(parseSwarmName('service/my.app.10'), { kind: 'service', service: 'my.app', slot: 10 });
  assert.deepEqual(parseSwarmName('service/agent@node-3'), { kind: 'service', service: 'agent', node: 'node-3' });
  assert.deepEqual(parseSwarmName('task/ab12'), { kind: 'task', id: 'ab12' });
  assert.deepEqual(parseSwarmName('node/worker-1'), { kind: 'node', node: 'worker-1' });
  assert.equal(parseSwarmName('web'), undefined);
  assert.equal(parseSwarmName('pod/api'), undefined);
  for (const bad of ['service/', 'service/a b', 'service/-x', 'service/.web', 'task/AB!', 'task/', 'node/', 'service/web@', 'service/x\x1b[2J']) {
    assert.throws(() => parseSwarmName(bad), InvalidArgument, bad);
  }
  // slots count from 1: web.0 is a service of that name
  assert.deepEqual(parseSwarmName('service/web.0'), { kind: 'service', service: 'web.0' });
});

test('a service log line with details: time, task, node and the message bytes as they were', () => {
  const line = Buffer.from('2026-12-05T07:43:37.419335164Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world \x1b[31m\n');
  const p = parseDetailedLine(line);
  assert.equal(p.time, '2026-12-05T07:43:37.419335164Z');
  assert.deepEqual(p.details, { 'com.docker.swarm.node.id': 'n1', 'com.docker.swarm.service.id': 's1', 'com.docker.swarm.task.id': 't1' });
  assert.equal(p.message.toString(), 'hello world \x1b[31m\n');
});

test('task errors in words', () => {
  const task = (over: Partial<SwarmTask>): SwarmTask => ({ id: 't', serviceId: 's', nodeId: 'n', desiredState: 'shutdown', state: 'failed', message: '', err: '', timestamp: '', createdAt: '', ...over });
  assert.equal(taskMeaning(task({ err: 'task: non-zero exit (3)', exitCode: 3 })), 'exited with code 3: the program reported a failure');
  assert.match(taskMeaning(task({ err: 'task: non-zero exit (137)' }))!, /^exit code 137: killed with SIGKILL/);
  assert.equal(taskMeaning(task({ state: 'rejected', err: 'No such image: x:1' })), 'rejected: the image is not on this node and could not be pulled (No such image: x:1)');
});
