// The quick kubeconfig YAML reader gives what the full parser gives, or steps aside (undefined) when unsure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseKubeYaml } from '../../src/engine/kubernetes/mini-yaml.js';

const SAMPLES = {
  kubectl: `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=
    server: https://127.0.0.1:6443
  name: kind-kind
contexts:
- context:
    cluster: kind-kind
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: LS0t
    client-key-data: LS0t
`,
  exec: `apiVersion: v1
kind: Config
current-context: "gke_proj_europe-west1_prod"  # the one in use
clusters:
  - name: 'gke_proj_europe-west1_prod'
    cluster:
      server: "https://34.1.2.3"
      insecure-skip-tls-verify: false
      tls-server-name: kubernetes.default
users:
  - name: gke_proj_europe-west1_prod
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: gke-gcloud-auth-plugin
        args: ["--flag", 'x y', plain]
        env:
        - name: A
          value: "1"
        - {name: B, value: two}
        installHint: Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/x#y
        provideClusterInfo: true
        interactiveMode: IfAvailable
contexts:
  - name: gke_proj_europe-west1_prod
    context: {cluster: gke_proj_europe-west1_prod, user: gke_proj_europe-west1_prod, namespace: shop}
`,
  porthole: `apiVersion: v1
kind: Config
clusters:
- name: porthole-k8s
  cluster:
    server: https://10.213.0.2:6443
    certificate-authority-data: QUJD
users:
- name: admin
  user:
    token: 3f1c0a7e9b
contexts:
- name: admin@porthole-k8s
  context:
    cluster: porthole-k8s
    user: admin
    namespace: default
current-context: admin@porthole-k8s
`,
  empty: '',
  json: '{"apiVersion": "v1", "clusters": [], "current-context": ""}',
};

test('kubeconfigs as kubectl, kind, the cloud CLIs and the test cluster write them read the same as with the full parser', () => {
  for (const [name, text] of Object.entries(SAMPLES)) {
    assert.deepEqual(parseKubeYaml(text), parse(text), name);
  }
});

test('what it does not know it leaves to the full parser', () => {
  for (const text of [
    'a: &x 1\nb: *x\n',
    'a: |\n  multi\n  line\n',
    'a: !!str 1\n',
    'a: 1\n---\nb: 2\n',
    'a: [1,\n  2]\n',
    'a: "unterminated\n',
    '\ta: 1\n',
    'a: 1\na: 2\n',
  ]) {
    assert.equal(parseKubeYaml(text), undefined, text);
  }
});
