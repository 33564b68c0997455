// `porthole why` on pods of the real test cluster (scripts/k8s-up.sh): each failure made for real, each test in a
// namespace of its own, removed afterwards. Spawns the built CLI, as a user runs it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import {
  apply,
  clusterKubeconfig,
  deleteNamespace,
  deploymentManifest,
  kubeconfigWithToken,
  makeNamespace,
  manifests,
  podManifest,
  skipReason,
  userKubeconfig,
  waitForEvent,
  waitForPod,
} from '../support/k8s.js';

const skip = skipReason();
if (skip) console.log(`# skipping the Kubernetes why tests: ${skip}`);
const made: string[] = [];
const ns: Record<string, string> = {};
const env = () => ({ KUBECONFIG: clusterKubeconfig()! });
const why = (args: string[], extra: Record<string, string | undefined> = {}) => porthole(['why', ...args], { env: { ...env(), ...extra }, timeoutMs: 60_000 });

const CRASHY = manifests(
  `
apiVersion: v1
kind: ConfigMap
metadata: { name: app-config }
data:
  app.conf: |
    name = shop
    port = eighty
`,
  deploymentManifest('crashy', {
    spec: `
volumes:
- name: config
  configMap: { name: app-config }`,
    containers: [
      {
        name: 'app',
        command: ['sh', '-c'],
        yaml: `
args:
- |
  echo "shop starting, reading /etc/app/app.conf"
  port=$(sed -n 's/^port *= *//p' /etc/app/app.conf)
  case "$port" in ''|*[!0-9]*) echo "/etc/app/app.conf:2: port must be a number, got \\"$port\\"" >&2; exit 3;; esac
  exec httpd -f -p "$port"
env:
- { name: MODE, value: production }
- { name: API_TOKEN, value: s3cr3t-t0ken }
- name: DB_PASSWORD
  valueFrom: { secretKeyRef: { name: db, key: password, optional: true } }
resources:
  limits: { memory: 64Mi, cpu: 200m }
volumeMounts:
- { name: config, mountPath: /etc/app }`,
      },
    ],
  }),
);

const NAMESPACES = ['crash', 'oom', 'pull', 'cfg', 'probe', 'init', 'auth'];

before(() => {
  if (skip) return;
  for (const name of NAMESPACES) {
    ns[name] = makeNamespace(name);
    made.push(ns[name]!);
  }
  apply(ns.crash!, CRASHY);
  apply(
    ns.oom!,
    podManifest('hog', {
      spec: ['restartPolicy: Never'],
      containers: [{ name: 'hog', command: ['sh', '-c', 'echo allocating; head -c 200m /dev/zero | tail'], yaml: ['resources: { limits: { memory: 24Mi } }'] }],
    }),
  );
  apply(ns.pull!, podManifest('nopull', { containers: [{ name: 'app', image: '127.0.0.1:9/porthole/does-not-exist:1', pull: 'Always' }] }));
  apply(
    ns.cfg!,
    podManifest('nocfg', {
      containers: [{ name: 'app', command: ['sleep', '3600'], yaml: ['env:', '- name: LISTEN', '  valueFrom: { configMapKeyRef: { name: missing-config, key: listen } }'] }],
    }),
  );
  apply(
    ns.probe!,
    podManifest('sick', {
      containers: [{ name: 'app', command: ['sh', '-c', 'echo up; sleep 3600'], yaml: ['livenessProbe:', '  exec: { command: [cat, /tmp/healthy] }', '  periodSeconds: 2', '  failureThreshold: 1'] }],
    }),
  );
  apply(
    ns.init!,
    podManifest('waits', {
      initContainers: [{ name: 'wait-db', command: ['sh', '-c', 'echo "waiting for db:5432"; echo "db:5432: connection refused" >&2; exit 2'] }],
      containers: [{ name: 'app', command: ['sleep', '3600'] }],
    }),
  );
  apply(
    ns.auth!,
    podManifest('plain', {
      containers: [{ name: 'app', command: ['sh', '-c', 'printf "name = shop\\nport = eighty\\nworkers = 4\\n" > /tmp/app.conf; echo "/tmp/app.conf:2: port must be a number" >&2; exec sleep 3600'] }],
    }),
  );
});

after(() => {
  for (const n of made) deleteNamespace(n);
});

test('why deploy/X on a crash-looping Deployment whose config file is wrong', { skip }, async () => {
  // The kubelet shows CrashLoopBackOff during the back-off after a crash; on a loaded machine the ended instance
  // may still be what it reports, so wait for the back-off after a second crash, and accept either state.
  const p = await waitForPod(ns.crash!, 'a crash loop', (x) => {
    const c = x.status?.containerStatuses?.[0];
    return (c?.restartCount ?? 0) >= 1 && (c?.state?.waiting?.reason === 'CrashLoopBackOff' || c?.state?.terminated?.exitCode === 3);
  }, { selector: 'app=crashy' });
  const r = await why(['deploy/crashy', '-n', ns.crash!]);
  assert.equal(r.code, 0, r.stderr);
  console.log(r.stdout);
  assert.match(r.stdout, new RegExp(`^pod/${p.metadata.name}  namespace ${ns.crash}`));
  assert.match(r.stdout, /deploy\/crashy: 1 pod; showing .*, the one in most trouble/);
  assert.match(r.stdout, /container app is in CrashLoopBackOff: it crashed and was restarted \d+ times?; Kubernetes waits \S+ before the next try|container app keeps crashing: restarted \d+ times?/);
  assert.match(r.stdout, /container app exited with code 3/);
  assert.match(r.stdout, /exited with code 3: the program reported a failure/);
  // Kubernetes keeps stdout and stderr as one stream, in the order the runtime read its two pipes: both lines are
  // there, unmarked, in either order.
  const said = /What app (said before its last restart|says now) \(last 2 lines\)\n((?:    .*\n){2})/.exec(r.stdout);
  assert.ok(said, r.stdout);
  assert.deepEqual(said[2]!.trimEnd().split('\n').map((l) => l.trim()).sort(), ['/etc/app/app.conf:2: port must be a number, got "eighty"', 'shop starting, reading /etc/app/app.conf']);
  // the file it names comes from a ConfigMap: its lines are shown from there, even with the container down
  assert.match(r.stdout, /\/etc\/app\/app.conf line 2  \(\/etc\/app\/app.conf:2 in the (previous|current) output\)\n    1 \| name = shop\n  > 2 \| port = eighty\n    \(from ConfigMap "app-config" key "app.conf"\)\n/);
  assert.match(r.stdout, /env MODE=production/);
  assert.match(r.stdout, /env API_TOKEN=\*{6} \(hidden\)/);
  assert.doesNotMatch(r.stdout, /s3cr3t-t0ken/);
  assert.match(r.stdout, /env DB_PASSWORD from Secret "db" key "password" \(not read\)/);
  assert.match(r.stdout, /limits cpu=200m memory=64Mi/);
  assert.match(r.stdout, /mount config \(ConfigMap app-config\) -> \/etc\/app/);
  assert.match(r.stdout, /Events \(newest first\)[\s\S]*BackOff/);
  // --json: the same facts for scripts; --show-secrets shows literal values (never Secrets).
  const j = await why(['deploy/crashy', '--namespace', ns.crash!, '--json', '--show-secrets']);
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.engine, 'kubernetes');
  assert.equal(report.namespace, ns.crash);
  assert.equal(report.containers[0].lastState.exitCode, 3);
  assert.ok(report.containers[0].restartCount >= 1);
  assert.equal(report.containers[0].env.find((e: { name: string }) => e.name === 'API_TOKEN').value, 's3cr3t-t0ken');
  assert.equal(report.containers[0].env.find((e: { name: string }) => e.name === 'DB_PASSWORD').value, null);
  // the same pod by name, and its container by name; a container that is not there lists the ones that are
  const byPod = await why([`pod/${p.metadata.name}/app`, '-n', ns.crash!]);
  assert.equal(byPod.code, 0, byPod.stderr);
  const noSuch = await why([`pod/${p.metadata.name}/web`, '-n', ns.crash!]);
  assert.equal(noSuch.code, 3);
  assert.equal(noSuch.stderr, `porthole: Pod ${p.metadata.name} has no container "web". Its containers: app.\n`);
});

test('why on an OOMKilled pod names the limit', { skip }, async () => {
  await waitForPod(ns.oom!, 'an OOM kill', (x) => x.status?.containerStatuses?.[0]?.state?.terminated !== undefined);
  const r = await why(['pod/hog', '-n', ns.oom!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /container hog was killed by the out-of-memory killer: it used more than its memory limit of 24Mi/);
  assert.match(r.stdout, /now: terminated \(OOMKilled\)/);
  assert.match(r.stdout, /What hog says now \(last 2 lines\)\n    allocating\n  ! Killed\n/);
});

test('why on an image that cannot be pulled says which image and the pull error', { skip }, async () => {
  await waitForPod(ns.pull!, 'a pull failure', (x) => /ErrImagePull|ImagePullBackOff/.test(x.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''));
  const r = await why(['pod/nopull', '-n', ns.pull!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /container app: the image 127\.0\.0\.1:9\/porthole\/does-not-exist:1 cannot be pulled \((ErrImagePull|ImagePullBackOff)\)/);
  assert.match(r.stdout, /Failed.*(connection refused|failed to pull|Back-off pulling)/i);
  assert.match(r.stdout, /it never started, so it printed nothing/);
});

test('why on a missing ConfigMap names it', { skip }, async () => {
  await waitForPod(ns.cfg!, 'a config error', (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
  const r = await why(['pod/nocfg', '-n', ns.cfg!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /container app cannot be created: the ConfigMap "missing-config" it refers to does not exist/);
  assert.match(r.stdout, /env LISTEN from ConfigMap "missing-config" key "listen"/);
});

test('why on a failing liveness probe says which probe and what it got', { skip }, async () => {
  await waitForEvent(ns.probe!, 'Unhealthy');
  const r = await why(['pod/sick', '-n', ns.probe!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /container app: its liveness probe failed( \d+ times)?: .*\/tmp\/healthy/);
  assert.match(r.stdout, /liveness probe: exec cat \/tmp\/healthy \(every 2s/);
  assert.match(r.stdout, /Unhealthy.*Liveness probe failed/);
});

test('why on a pod whose init container fails shows the init container first, with its output', { skip }, async () => {
  await waitForPod(ns.init!, 'an init failure', (x) => (x.status?.initContainerStatuses?.[0]?.restartCount ?? 0) >= 1 || x.status?.initContainerStatuses?.[0]?.lastState?.terminated !== undefined);
  const r = await why(['pod/waits', '-n', ns.init!]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /init container wait-db exited with code 2/);
  const initAt = r.stdout.indexOf('Init container wait-db (failing)');
  const appAt = r.stdout.indexOf('Container app');
  assert.ok(initAt > 0 && appAt > initAt, r.stdout);
  assert.match(r.stdout, /db:5432: connection refused/);
});

test('namespaces: -n before the command, the context namespace, and a pod that is not in it', { skip }, async () => {
  await waitForPod(ns.auth!, 'a running pod', (x) => x.status?.phase === 'Running');
  const global = await porthole(['-n', ns.auth!, 'why', 'pod/plain'], { env: env() });
  assert.equal(global.code, 0, global.stderr);
  assert.match(global.stdout, new RegExp(`namespace ${ns.auth}`));
  assert.match(global.stdout, /now: running for/);
  // a running container: the line its output points at is read through exec
  assert.match(global.stdout, /Where it points\n  \/tmp\/app.conf line 2  \(\/tmp\/app.conf:2 in the current output\)\n    1 \| name = shop\n  > 2 \| port = eighty\n    3 \| workers = 4\n/);
  const missing = await why(['pod/plain']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^porthole: No pods "plain" in namespace "default" \(context "[^"]+"\)\. List them with `kubectl get pods -n default`, or give another namespace with -n\.\n$/);
  const engine = await porthole(['engine', '--json', '-n', ns.auth!], { env: env() });
  assert.equal(engine.code, 0, engine.stderr);
  const k = JSON.parse(engine.stdout).kubernetes;
  assert.equal(k.namespace, ns.auth);
  assert.equal(k.namespaceVia, '-n/--namespace');
  assert.match(k.version, /^v1\.\d+/);
  assert.equal(k.problem, null);
});

test('a token the cluster does not know, and a user without RBAC: one sentence each, exit code 5', { skip }, async () => {
  const bad = await why(['pod/plain', '-n', ns.auth!], { KUBECONFIG: kubeconfigWithToken('not-a-real-token') });
  assert.equal(bad.code, 5, bad.stderr);
  assert.match(bad.stderr, /^porthole: The Kubernetes cluster "[^"]+" does not accept the credentials of user "[^"]+" \(context "[^"]+"\): Unauthorized\. Log in again or refresh the token/);
  const nobody = await why(['pod/plain', '-n', ns.auth!], { KUBECONFIG: userKubeconfig('porthole-nobody') });
  assert.equal(nobody.code, 5, nobody.stderr);
  assert.equal(
    nobody.stderr,
    `porthole: Kubernetes does not allow user "porthole-nobody" to get pods in namespace "${ns.auth}". Ask a cluster admin for a Role that grants "get" on "pods", or use another --kube-context.\n`,
  );
  const noContext = await why(['pod/plain', '--kube-context', 'nope']);
  assert.equal(noContext.code, 5);
  assert.match(noContext.stderr, /^porthole: Kubernetes context "nope" \(from --kube-context\) is not in .*\. Known contexts: /);
  const unreachable = await why(['pod/plain'], { KUBECONFIG: kubeconfigAt('https://127.0.0.1:9') });
  assert.equal(unreachable.code, 5);
  assert.match(unreachable.stderr, /^porthole: Cannot reach the Kubernetes cluster .* at https:\/\/127\.0\.0\.1:9 .*ECONNREFUSED/);
  const none = await why(['pod/plain'], { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent' });
  assert.equal(none.code, 5);
  assert.match(none.stderr, /^porthole: No kubeconfig found/);
});

function kubeconfigAt(server: string): string {
  const path = kubeconfigWithToken('x');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/server: .*/, `server: ${server}`));
  return path;
}

