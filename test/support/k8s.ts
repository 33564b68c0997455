// The test cluster (scripts/k8s-up.sh) for e2e tests: where its kubeconfig is, kubectl against it, a namespace of
// a test's own (deleted afterwards), and waiting for a pod to reach the state a test is about.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

const RUN = process.env.PORTHOLE_K8S_RUN ?? '/run/porthole-k8s';

/** The cluster's kubeconfig: $KUBECONFIG (npm test sets it after bringing the cluster up), else the test cluster's own. */
export function clusterKubeconfig(): string | undefined {
  if (process.env.KUBECONFIG) return process.env.KUBECONFIG;
  const own = join(RUN, 'admin.kubeconfig');
  return existsSync(own) ? own : undefined;
}

/** Why the Kubernetes tests cannot run, or undefined when they can. */
export function skipReason(): string | undefined {
  const config = clusterKubeconfig();
  if (!config) return 'no Kubernetes cluster: KUBECONFIG is unset and the test cluster is not up (run scripts/k8s-up.sh, or npm test which does)';
  return undefined;
}

export function kubectlPath(): string {
  const built = '/var/cache/porthole/k8s/v1.36.3/bin/kubectl';
  return existsSync(built) ? built : 'kubectl';
}

export function kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', clusterKubeconfig()!, '--request-timeout=30s', ...args], { input, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fresh namespace for one test, with its default ServiceAccount (pods wait for it). */
export function makeNamespace(label: string): string {
  const ns = `k8s-why-${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  kubectlOk(['create', 'namespace', ns]);
  return ns;
}

export function deleteNamespace(ns: string): void {
  kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
}

export function apply(ns: string, manifest: string): void {
  kubectlOk(['apply', '-n', ns, '-f', '-'], manifest);
}

export interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; creationTimestamp: string };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; restartCount: number; ready?: boolean; state?: Record<string, { reason?: string; exitCode?: number }>; lastState?: Record<string, { reason?: string; exitCode?: number }> }[];
    initContainerStatuses?: { name: string; restartCount: number; state?: Record<string, { reason?: string; exitCode?: number }>; lastState?: Record<string, { reason?: string; exitCode?: number }> }[];
  };
}

export function pods(ns: string, selector?: string): PodJson[] {
  return (JSON.parse(kubectlOk(['get', 'pods', '-n', ns, '-o', 'json', ...(selector ? ['-l', selector] : [])])) as { items: PodJson[] }).items;
}

/** Polls until `ok` holds for a pod (of the selector, or any in the namespace); returns that pod. */
export async function waitForPod(ns: string, what: string, ok: (pod: PodJson) => boolean, opts: { selector?: string; timeoutMs?: number } = {}): Promise<PodJson> {
  const deadline = Date.now() + (opts.timeoutMs ?? 150_000);
  let last: PodJson[] = [];
  while (Date.now() < deadline) {
    last = pods(ns, opts.selector);
    const found = last.find(ok);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what} in ${ns}; pods: ${JSON.stringify(last.map((p) => ({ name: p.metadata.name, status: p.status })), null, 1)}`);
}

export async function waitForEvent(ns: string, reason: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const events = JSON.parse(kubectlOk(['get', 'events', '-n', ns, '-o', 'json'])) as { items: { reason: string }[] };
    if (events.items.some((e) => e.reason === reason)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for a ${reason} event in ${ns}`);
}

/** A copy of the cluster's kubeconfig for another user, or with a token that the cluster does not know. */
export function kubeconfigWithToken(token: string): string {
  const source = readFileSync(clusterKubeconfig()!, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'porthole-k8s-cfg-'));
  const path = join(dir, 'config');
  // The test cluster's kubeconfigs carry `token: ...` for their user: replace it.
  writeFileSync(path, source.replace(/token: .*/g, `token: ${token}`), { mode: 0o600 });
  return path;
}

export function userKubeconfig(user: string): string {
  return join(RUN, `${user}.kubeconfig`);
}

export const BUSYBOX = 'localhost/busybox:local';

export const PAUSE = 'localhost/pause:local';

/** One container of a test manifest: the busybox image unless told, never pulled. */
export interface TestContainer {
  name: string;
  image?: string;
  /** The command as an argument list (written as a JSON flow sequence: exact strings, escapes included). */
  command?: string[];
  /** A multi-line script run as `sh -c SCRIPT` (written as a YAML block literal, so written as read). */
  script?: string;
  /** More lines of the container, as YAML (e.g. `securityContext: { runAsUser: 1000 }`); a string is split at newlines. */
  yaml?: string[] | string;
  /** imagePullPolicy; Never unless told (the cluster has no registry). */
  pull?: 'Never' | 'Always' | 'IfNotPresent';
}

export interface TestPod {
  containers: TestContainer[];
  labels?: Record<string, string>;
  /** More lines of the pod spec, as YAML (e.g. `shareProcessNamespace: true`, `restartPolicy: Never`); a string is split at newlines. */
  spec?: string[] | string;
  /** Init containers, built as the containers are. */
  initContainers?: TestContainer[];
}

const yamlLines = (v: string[] | string | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? v.replace(/^\n|\n$/g, '').split('\n') : v);

function containerYaml(c: TestContainer, indent: string): string {
  const lines = [`- name: ${c.name}`, `  image: ${c.image ?? BUSYBOX}`, `  imagePullPolicy: ${c.pull ?? 'Never'}`];
  if (c.command) lines.push(`  command: ${JSON.stringify(c.command)}`);
  if (c.script !== undefined) lines.push('  command:', '  - sh', '  - -c', '  - |', ...c.script.replace(/\n$/, '').split('\n').map((l) => `    ${l}`));
  for (const l of yamlLines(c.yaml)) lines.push(`  ${l}`);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

function podSpecYaml(pod: TestPod, indent: string): string {
  const init = pod.initContainers ? [`${indent}initContainers:`, ...pod.initContainers.map((c) => containerYaml(c, indent))] : [];
  return [`${indent}terminationGracePeriodSeconds: 1`, ...yamlLines(pod.spec).map((l) => `${indent}${l}`), ...init, `${indent}containers:`, ...pod.containers.map((c) => containerYaml(c, indent))].join('\n');
}

/** A Pod manifest: busybox containers (unless told), never pulled, a 1 s grace period. */
export function podManifest(name: string, pod: TestPod): string {
  const labels = pod.labels ? `, labels: ${JSON.stringify(pod.labels)}` : '';
  return `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}${labels} }\nspec:\n${podSpecYaml(pod, '  ')}\n`;
}

/** A Deployment manifest of such pods, selected by `app: NAME`. */
export function deploymentManifest(name: string, pod: TestPod & { replicas?: number }): string {
  const labels = JSON.stringify({ app: name, ...pod.labels });
  return (
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${name} }\nspec:\n  replicas: ${pod.replicas ?? 1}\n` +
    `  selector: { matchLabels: { app: ${name} } }\n  template:\n    metadata: { labels: ${labels} }\n    spec:\n${podSpecYaml(pod, '      ')}\n`
  );
}

/** Several manifests as one document stream for apply(). */
export function manifests(...docs: string[]): string {
  return docs.join('---\n');
}

/** Waits until pod NAME has `count` containers (when given), all ready. */
export function waitForReady(ns: string, name: string, count?: number): Promise<PodJson> {
  return waitForPod(ns, `${name} ready`, (p) => {
    const statuses = (p.status?.containerStatuses ?? []) as { ready?: boolean }[];
    return p.metadata.name === name && statuses.length > 0 && (count === undefined || statuses.length === count) && statuses.every((c) => c.ready === true);
  });
}

/**
 * A namespace of the test file's own: made before its tests (then `setup` runs in it), deleted after them. Returns
 * a getter of its name ('' when the cluster is not there).
 */
export function useNamespace(label: string, setup?: (ns: string) => Promise<void> | void): () => string {
  let ns = '';
  before(async () => {
    if (skipReason()) return;
    ns = makeNamespace(label);
    await setup?.(ns);
  });
  after(() => {
    if (ns) deleteNamespace(ns);
  });
  return () => ns;
}
