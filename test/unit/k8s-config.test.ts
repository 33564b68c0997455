// Kubernetes names and kubeconfig rules, as kubectl applies them (pure: files come from a map).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget, isKubeName } from '../../src/engine/target.js';
import { loadKubeTarget } from '../../src/engine/kubernetes/kubeconfig.js';
import { EngineUnavailable, InvalidArgument } from '../../src/errors.js';

test('a bare name is a Docker container; kind/name is a Kubernetes object', () => {
  assert.deepEqual(parseTarget('web'), { engine: 'docker', name: 'web' });
  assert.deepEqual(parseTarget('/web'), { engine: 'docker', name: '/web' });
  assert.deepEqual(parseTarget('pod/api-1'), { engine: 'kubernetes', kind: 'pod', name: 'api-1', container: null, text: 'pod/api-1' });
  assert.equal((parseTarget('pod/api-1/sidecar') as { container: string }).container, 'sidecar');
  assert.equal((parseTarget('deploy/web') as { kind: string }).kind, 'deployment');
  assert.equal((parseTarget('sts/db') as { kind: string }).kind, 'statefulset');
  assert.equal((parseTarget('ds/agent') as { kind: string }).kind, 'daemonset');
  assert.equal((parseTarget('job/migrate') as { kind: string }).kind, 'job');
  assert.throws(() => parseTarget('svc/web'), (e: Error) => e instanceof InvalidArgument && /neither a container name nor a Kubernetes object/.test(e.message));
  assert.throws(() => parseTarget('pod/Bad_Name'), InvalidArgument);
  assert.throws(() => parseTarget('deploy/web/c'), /only a pod takes a container/);
  assert.ok(isKubeName('deploy/x') && !isKubeName('web') && !isKubeName('/web'));
});

const files: Record<string, string> = {
  '/a/config': `
apiVersion: v1
kind: Config
current-context: alpha
clusters:
- name: one
  cluster: { server: "https://10.0.0.1:6443/", certificate-authority: ca.crt }
- name: shared
  cluster: { server: "https://first.example:6443" }
users:
- name: me
  user: { token: abc, client-certificate: certs/me.crt, client-key: /abs/me.key }
contexts:
- name: alpha
  context: { cluster: one, user: me, namespace: shop }
- name: beta
  context: { cluster: shared, user: me }
`,
  '/b/config': `
current-context: beta
clusters:
- name: shared
  cluster: { server: "https://second.example:6443", insecure-skip-tls-verify: true }
- name: two
  cluster: { server: "https://two.example" }
users:
- name: plug
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: ./get-token, args: [--x], env: [{ name: A, value: b }] }
contexts:
- name: gamma
  context: { cluster: two, user: plug }
`,
};
const bytes: Record<string, string> = { '/a/ca.crt': 'CA', '/a/certs/me.crt': 'CERT', '/abs/me.key': 'KEY', '/home/u/.kube/ca.crt': 'CA2', '/home/u/.kube/certs/me.crt': 'C2' };
const input = (flags: object, env: NodeJS.ProcessEnv) => ({
  flags,
  env,
  home: '/home/u',
  readText: (p: string) => files[p],
  readBytes: (p: string) => {
    if (!(p in bytes)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return Buffer.from(bytes[p]!);
  },
});

test('KUBECONFIG is a list merged first-wins; the current context, its namespace, files relative to the kubeconfig', async () => {
  const t = await loadKubeTarget(input({}, { KUBECONFIG: '/a/config:/missing:/b/config' }));
  assert.equal(t.contextName, 'alpha');
  assert.equal(t.contextVia, 'the current-context of the kubeconfig');
  assert.equal(t.server, 'https://10.0.0.1:6443');
  assert.equal(t.namespace, 'shop');
  assert.match(t.namespaceVia, /namespace of context "alpha"/);
  assert.equal(t.ca?.toString(), 'CA');
  assert.equal(t.auth.clientCert?.toString(), 'CERT');
  assert.equal(t.auth.clientKey?.toString(), 'KEY');
  assert.equal(t.auth.token, 'abc');
  assert.deepEqual(t.files, ['/a/config', '/b/config']);
  // "shared" is defined in both: the first file's wins.
  const beta = await loadKubeTarget(input({ context: 'beta' }, { KUBECONFIG: '/a/config:/b/config' }));
  assert.equal(beta.server, 'https://first.example:6443');
  assert.equal(beta.namespace, 'default');
  assert.equal(beta.insecureSkipTlsVerify, false);
});

test('--kube-context, -n and --kubeconfig win; an exec plugin is kept with its folder', async () => {
  const t = await loadKubeTarget(input({ kubeconfig: '/b/config', context: 'gamma', namespace: 'ops' }, { KUBECONFIG: '/a/config' }));
  assert.equal(t.contextName, 'gamma');
  assert.equal(t.namespace, 'ops');
  assert.equal(t.namespaceVia, '-n/--namespace');
  assert.equal(t.via, '--kubeconfig /b/config');
  assert.deepEqual(t.auth.exec && { ...t.auth.exec }, { command: './get-token', args: ['--x'], env: [{ name: 'A', value: 'b' }], apiVersion: 'client.authentication.k8s.io/v1', baseDir: '/b', installHint: null });
  // ~/.kube/config when nothing else is said.
  files['/home/u/.kube/config'] = files['/a/config']!;
  const home = await loadKubeTarget(input({}, {}));
  assert.equal(home.contextName, 'alpha');
  assert.equal(home.via, '/home/u/.kube/config');
  delete files['/home/u/.kube/config'];
});

test('errors say what is missing and what to do', async () => {
  await assert.rejects(
    () => loadKubeTarget(input({ context: 'nope' }, { KUBECONFIG: '/a/config' })),
    (e: Error) => e instanceof EngineUnavailable && /context "nope"/.test(e.message) && /alpha, beta/.test((e as EngineUnavailable).hint!),
  );
  await assert.rejects(() => loadKubeTarget(input({}, { KUBECONFIG: '/none' })), /No kubeconfig found/);
  await assert.rejects(() => loadKubeTarget(input({ kubeconfig: '/none' }, {})), /does not exist/);
  await assert.rejects(() => loadKubeTarget(input({ namespace: 'Bad NS' }, { KUBECONFIG: '/a/config' })), InvalidArgument);
  bytes['/a/ca.crt'] = undefined as unknown as string;
  delete bytes['/a/ca.crt'];
  await assert.rejects(() => loadKubeTarget(input({}, { KUBECONFIG: '/a/config' })), /certificate authority file \/a\/ca.crt/);
  bytes['/a/ca.crt'] = 'CA';
});

test('in a pod without a kubeconfig: the service account', async () => {
  files['/sa/token'] = 'tok';
  files['/sa/ca.crt'] = 'PEM';
  files['/sa/namespace'] = 'team\n';
  const t = await loadKubeTarget(input({}, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', PORTHOLE_SERVICE_ACCOUNT_DIR: '/sa', HOME: '/home/u' }));
  assert.equal(t.server, 'https://10.96.0.1:443');
  assert.equal(t.namespace, 'team');
  assert.equal(t.auth.tokenFile, '/sa/token');
  assert.match(t.via, /in-cluster service account/);
});
