// A pod as Kubernetes records it, turned into the crash report's facts (objects shaped like the API's).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { containerFacts, eventLines, missingReference, parseQuantity, podProblems } from '../../src/engine/kubernetes/facts.js';
import { selectorQuery, troubleScore } from '../../src/engine/kubernetes/index.js';
import { LineSink } from '../../src/engine/kubernetes/logs.js';
import type { KubeEvent, Pod } from '../../src/engine/kubernetes/wire.js';
import { renderKubeReport } from '../../src/report/kube-facts.js';

const NOW = Date.parse('2026-12-05T10:00:00Z');

function pod(status: object, spec: object = {}): Pod {
  return {
    metadata: { name: 'api-1', uid: 'u1', creationTimestamp: '2026-12-05T09:00:00Z' },
    spec: { containers: [{ name: 'app', image: 'localhost/app:1', resources: { limits: { memory: '32Mi' } }, ...spec }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 4, ready: false, ...status }] },
  };
}

test('CrashLoopBackOff after an OOM kill: restarts, back-off, the limit, the exit code in words', () => {
  const p = pod({
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=app pod=api-1_default(u1)' } },
    lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-12-05T09:58:00Z', finishedAt: '2026-12-05T09:58:02Z' } },
  });
  const { report } = containerFacts(p, p.spec.containers[0]!, false, [], false, NOW);
  assert.ok(report.failing);
  assert.match(report.problems[0]!, /container app is in CrashLoopBackOff: it crashed and was restarted 4 times; Kubernetes waits 1m20s/);
  assert.match(report.problems[1]!, /out-of-memory killer: it used more than its memory limit of 32Mi/);
  assert.equal(report.lastState?.oomKilled, true);
  assert.match(report.lastState!.meaning!, /out-of-memory killer.*its memory limit is 32Mi/);
  assert.equal(report.lastState?.ranFor, '2.0 s');
  assert.equal(report.lastState?.endedAgo, '1 min 58 s');
});

test('CreateContainerConfigError names the missing ConfigMap, Secret or key', () => {
  assert.equal(missingReference('configmap "app-config" not found'), 'the ConfigMap "app-config" it refers to does not exist');
  assert.equal(missingReference('secret "db" not found'), 'the Secret "db" it refers to does not exist');
  assert.equal(missingReference("couldn't find key port in ConfigMap default/app-config"), 'the ConfigMap "app-config" has no key "port" (it refers to it)');
  const p = pod({ restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "app-config" not found' } } });
  const { report } = containerFacts(p, p.spec.containers[0]!, false, [], false, NOW);
  assert.deepEqual(report.problems, ['container app cannot be created: the ConfigMap "app-config" it refers to does not exist']);
});

test('an image that cannot be pulled says which and what the kubelet said', () => {
  const p = pod({ restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "localhost/nope:1" is not present with pull policy of Never' } } }, { image: 'localhost/nope:1' });
  const { report } = containerFacts(p, p.spec.containers[0]!, false, [], false, NOW);
  assert.match(report.problems[0]!, /the image localhost\/nope:1 cannot be pulled \(ErrImageNeverPull\): Container image "localhost\/nope:1" is not present/);
});

test('events: newest first, repeats merged, probe failures tied to their container', () => {
  const ev = (reason: string, message: string, last: string, count = 1, fieldPath = 'spec.containers{app}', type = 'Warning'): KubeEvent => ({
    metadata: { name: `e-${reason}-${last}` },
    involvedObject: { kind: 'Pod', name: 'api-1', fieldPath },
    reason,
    message,
    type,
    count,
    lastTimestamp: last,
  });
  const lines = eventLines(
    [
      ev('Scheduled', 'Successfully assigned default/api-1 to node', '2026-12-05T09:00:00Z', 1, '', 'Normal'),
      ev('Unhealthy', 'Liveness probe failed: cat: can\'t open \'/tmp/healthy\': No such file or directory', '2026-12-05T09:59:00Z', 3),
      ev('Unhealthy', 'Liveness probe failed: cat: can\'t open \'/tmp/healthy\': No such file or directory', '2026-12-05T09:50:00Z', 2),
      ev('Killing', 'Container app failed liveness probe, will be restarted', '2026-12-05T09:59:01Z', 1, 'spec.containers{app}', 'Normal'),
    ],
    NOW,
  );
  assert.deepEqual(lines.map((l) => `${l.reason}x${l.count}`), ['Killingx1', 'Unhealthyx5', 'Scheduledx1']);
  assert.equal(lines[1]!.container, 'app');
  const p = pod({ restartCount: 1, state: { running: { startedAt: '2026-12-05T09:59:02Z' } } }, { livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 2 } });
  const { report } = containerFacts(p, p.spec.containers[0]!, false, lines, false, NOW);
  assert.match(report.problems.join('\n'), /its liveness probe failed 5 times: cat: can't open '\/tmp\/healthy'/);
  assert.equal(report.probes.liveness, 'exec cat /tmp/healthy (every 2s, after 0s, timeout 1s, fails after 3)');
});

test('env: secret-looking literals masked, Secret references named but never read; --show-secrets shows literals only', () => {
  const spec = {
    env: [
      { name: 'MODE', value: 'prod' },
      { name: 'API_TOKEN', value: 'hunter22' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'PORT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'port' } } },
    ],
  };
  const p = pod({ state: { running: {} } }, spec);
  const hidden = containerFacts(p, p.spec.containers[0]!, false, [], false, NOW);
  assert.deepEqual(hidden.report.env.map((e) => [e.name, e.value, e.masked, e.from]), [
    ['MODE', 'prod', false, null],
    ['API_TOKEN', null, true, null],
    ['DB_PASSWORD', null, true, 'Secret "db" key "password" (not read)'],
    ['PORT', null, false, 'ConfigMap "cfg" key "port"'],
  ]);
  assert.deepEqual(hidden.secrets, ['hunter22']);
  const shown = containerFacts(p, p.spec.containers[0]!, false, [], true, NOW);
  assert.equal(shown.report.env[1]!.value, 'hunter22');
  assert.equal(shown.report.env[2]!.value, null);
});

test('pod problems: unschedulable with the scheduler reason, evicted', () => {
  const p = pod({});
  p.status!.phase = 'Pending';
  p.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }];
  assert.deepEqual(podProblems(p, []), ['the pod cannot be scheduled on any node (Unschedulable): 0/1 nodes are available: 1 Insufficient memory.']);
  const e = pod({});
  e.status = { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' };
  assert.deepEqual(podProblems(e, []), ['the pod was evicted from its node: The node was low on resource: memory.']);
});

test('a workload picks its pod in most trouble; selectors become labelSelector queries', () => {
  const healthy = pod({ restartCount: 0, ready: true, state: { running: {} } });
  const crashing = pod({ state: { waiting: { reason: 'CrashLoopBackOff' } } });
  assert.ok(troubleScore(crashing) > troubleScore(healthy));
  assert.equal(troubleScore(healthy), 0);
  assert.equal(selectorQuery({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] }), 'app=web,tier in (a,b),!x');
  assert.equal(parseQuantity('32Mi'), 32 * 2 ** 20);
});

test('log lines: prefix, --until from the kubelet timestamps (stripped again without -t), --grep', () => {
  const chunks: string[] = [];
  const out = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const until = String(Date.parse('2026-12-05T10:00:01Z') / 1000);
  const sink = new LineSink({ timestamps: false, filter: /err/, until, out }, '[web-1/app] ', true);
  sink.write(Buffer.from('2026-12-05T10:00:00.5Z an error here\n2026-12-05T10:00:00.9Z fine\n2026-12-05T10:00:0'));
  sink.write(Buffer.from('2.0Z late error\n'));
  sink.end();
  assert.equal(chunks.join(''), '[web-1/app] an error here\n');
  assert.equal(sink.pastUntil, true);
  assert.equal(sink.lines, 1);
});

test('the report renders every section it has, escaping what came from the cluster', () => {
  const p = pod({ state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
  const { report } = containerFacts(p, p.spec.containers[0]!, false, [], false, NOW);
  report.said.previous = [{ text: 'bad \x1b[31m line', error: true }];
  const text = renderKubeReport(
    {
      engine: 'kubernetes',
      cluster: 'c',
      context: 'ctx',
      namespace: 'default',
      pod: { name: 'api-1', uid: 'u1', node: 'n1', phase: 'Running', qosClass: null, createdAgo: '1 h 0 min', ready: '0/1' },
      workload: null,
      problems: report.problems,
      containers: [report],
      events: [],
      secretsShown: false,
    },
    { color: false },
  );
  assert.match(text, /^pod\/api-1  namespace default  node n1  context ctx/);
  assert.match(text, /What happened\n  pod Running, 0\/1 containers ready/);
  assert.match(text, /before: terminated \(Error\)/);
  assert.match(text, /exited with code 1: the program reported a failure/);
  assert.match(text, /What app said before its last restart \(last 1 line\)\n  ! bad \\e\[31m line/);
});
