// Which task a swarm name means for a command on one container, and which containers `why --all-nodes` counts as
// failed: pure choices over the manager's and the engine's lists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickTask } from '../../src/engine/swarm/node-container.js';
import { failedSummary } from '../../src/commands/across-nodes.js';
import { Ambiguous, NotFound, Unsupported } from '../../src/errors.js';
import type { ContainerSummary, SwarmNode, SwarmService, SwarmTask } from '../../src/engine/types.js';

const service: SwarmService = { id: 's1', name: 'web', image: 'busybox', replicas: 2, mode: 'replicated' };
const nodes = new Map<string, SwarmNode>([
  ['n1', { id: 'n1', hostname: 'node-1', state: 'ready', availability: 'active', addr: '10.0.0.1', manager: true }],
  ['n2', { id: 'n2', hostname: 'node-2', state: 'ready', availability: 'active', addr: '10.0.0.2', manager: false }],
]);
const task = (id: string, slot: number | undefined, state: SwarmTask['state'], desired: string, at: string, containerId?: string, nodeId = 'n2'): SwarmTask =>
  ({ id, serviceId: 's1', nodeId, slot, desiredState: desired, state, message: '', err: state === 'failed' ? 'task: non-zero exit (3)' : '', timestamp: at, createdAt: at, containerId });

test('a slot: its running task; else its newest task that has a container (a failed one)', () => {
  const failedOld = task('t1', 1, 'failed', 'shutdown', '2026-01-01T00:00:01Z', 'c1');
  const failedNew = task('t2', 1, 'failed', 'shutdown', '2026-01-01T00:00:05Z', 'c2');
  const running = task('t3', 1, 'running', 'running', '2026-01-01T00:00:03Z', 'c3');
  assert.equal(pickTask([failedOld, failedNew, running], { kind: 'service', service: 'web', slot: 1 }, service, nodes).id, 't3');
  assert.equal(pickTask([failedOld, failedNew], { kind: 'service', service: 'web', slot: 1 }, service, nodes).id, 't2');
  // a rejected task has no container: said, with where to look
  const rejected = task('t4', 1, 'rejected', 'shutdown', '2026-01-01T00:00:09Z');
  assert.throws(() => pickTask([rejected], { kind: 'service', service: 'web', slot: 1 }, service, nodes), (err: Error) =>
    err instanceof Unsupported && /newest task t4 has no container \(rejected/.test(err.message));
  assert.throws(() => pickTask([], { kind: 'service', service: 'web', slot: 7 }, service, nodes), (err: Error) =>
    err instanceof NotFound && err.message === 'Service web has no task in slot 7.');
});

test('service/NAME alone: one slot is that slot; several are ambiguous and listed in order', () => {
  const one = [task('t1', 1, 'running', 'running', '2026-01-01T00:00:01Z', 'c1')];
  assert.equal(pickTask(one, { kind: 'service', service: 'web' }, service, nodes).id, 't1');
  const many = [
    task('a', 10, 'running', 'running', '2026-01-01T00:00:01Z', 'c1'),
    task('b', 2, 'running', 'running', '2026-01-01T00:00:01Z', 'c2'),
    task('c', 2, 'shutdown', 'shutdown', '2026-01-01T00:00:00Z', 'c0'),
  ];
  assert.throws(() => pickTask(many, { kind: 'service', service: 'web' }, service, nodes), (err: Error) =>
    err instanceof Ambiguous && err.message === 'service/web has 2 replicas: name one of service/web.2, service/web.10.');
  // a global service's tasks are named by node
  const global = [task('g1', undefined, 'running', 'running', 'x', 'c1', 'n1'), task('g2', undefined, 'running', 'running', 'x', 'c2', 'n2')];
  assert.throws(() => pickTask(global, { kind: 'service', service: 'web' }, { ...service, mode: 'global', replicas: undefined }, nodes), (err: Error) =>
    err instanceof Ambiguous && /service\/web@node-1, service\/web@node-2/.test(err.message));
});

test('why --all-nodes counts non-zero exits, dead and restarting containers, not clean exits', () => {
  const c = (state: ContainerSummary['state'], status: string): ContainerSummary => ({ id: 'x', names: ['x'], image: 'i', imageId: '', command: '', created: 0, state, status, labels: {} });
  assert.equal(failedSummary(c('exited', 'Exited (3) 2 minutes ago')), true);
  assert.equal(failedSummary(c('exited', 'Exited (137) 2 minutes ago')), true);
  assert.equal(failedSummary(c('exited', 'Exited (0) 2 minutes ago')), false);
  assert.equal(failedSummary(c('dead', 'Dead')), true);
  assert.equal(failedSummary(c('restarting', 'Restarting (1) 1 second ago')), true);
  assert.equal(failedSummary(c('running', 'Up 3 minutes')), false);
  assert.equal(failedSummary(c('created', 'Created')), false);
});
