// The page's pod rows and the pod names a URL may carry (src/ui/pods.ts), as plain functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../src/engine/kubernetes/wire.js';
import { podRef, podRows, splitNamespace } from '../../src/ui/pods.js';

test('podRef: pod/NAME as the CLI parses it; anything else refused', () => {
  assert.equal(podRef('pod/web-7d9f-abc12'), 'pod/web-7d9f-abc12');
  assert.equal(podRef('pod/a.b'), 'pod/a.b');
  for (const bad of ['pod/../etc', 'pod/A', 'pod/x/y/z', 'pod/-rf', 'pod/', 'deploy/x', 'pod/x y', 'pod/x\n', 'pod/<b>', `pod/${'a'.repeat(254)}`]) {
    assert.throws(() => podRef(bad), /not a pod name/, bad);
  }
});

const pod = (name: string, status: Pod['status'], created = '2026-01-01T00:00:00Z'): Pod => ({
  metadata: { name, namespace: 'ns', creationTimestamp: created },
  spec: { containers: [{ name: 'app', image: 'i' }] },
  status,
});

test('podRows: crash-looping first with its last termination in words, then running, then the rest', () => {
  const rows = podRows([
    pod('done', { phase: 'Succeeded', containerStatuses: [{ name: 'app', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }),
    pod('ok', { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }] }),
    pod('loop', { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3, reason: 'Error' } } }] }),
    pod('upagain', { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }),
  ]);
  assert.deepEqual(rows.map((r) => r.name), ['loop', 'upagain', 'ok', 'done']);
  assert.equal(rows[0]!.reason, 'CrashLoopBackOff: Error, exit code 3');
  assert.equal(rows[1]!.reason, 'OOMKilled, exit code 137');
  assert.equal(rows[1]!.crashed, true);
  assert.equal(rows[2]!.crashed, false);
  assert.equal(rows[2]!.ready, '1/1');
  assert.equal(rows[3]!.crashed, false);
  assert.equal(rows[0]!.ref, 'pod/loop');
});

test('splitNamespace: NS/pod/NAME from the list of every namespace; the pod part is checked by podRef after', () => {
  assert.deepEqual(splitNamespace('shop/pod/web-1'), { namespace: 'shop', ref: 'pod/web-1' });
  assert.deepEqual(splitNamespace('kube-system/pod/x'), { namespace: 'kube-system', ref: 'pod/x' });
  for (const plain of ['pod/web-1', 'web-1', 'service/web']) assert.equal(splitNamespace(plain), undefined, plain);
  // not a DNS-1123 label, or not a pod after it: not a namespaced name (the server then refuses it as a container name)
  for (const bad of ['Shop/pod/x', '../pod/x', '-a/pod/x', 'a_b/pod/x', 'shop/service/x', '/pod/x', `${'a'.repeat(64)}/pod/x`]) assert.equal(splitNamespace(bad), undefined, bad);
  assert.throws(() => podRef(splitNamespace('shop/pod/../x')!.ref), /not a pod name/);
});
