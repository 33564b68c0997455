// The Kubernetes adapter's front door: find the cluster (kubeconfig.ts), talk to it (client.ts), and turn a
// name (pod/X, deploy/X, sts/X, ds/X, job/X) into the pod to look at. Loaded only when such a name or a
// Kubernetes flag is used, so Docker commands never pay for it (nor for the YAML parser).
import { InvalidArgument, NotFound } from '../../errors.js';
import type { KubeKind, TargetRef } from '../target.js';
import { KubeClient } from './client.js';
import { loadKubeTarget, type KubeFlags, type KubeTarget } from './kubeconfig.js';
import type { LabelSelector, List, Pod, Workload } from './wire.js';

export type { KubeFlags } from './kubeconfig.js';

export interface KubeCluster {
  client: KubeClient;
  target: KubeTarget;
  namespace: string;
}

export async function openCluster(flags: KubeFlags, env: NodeJS.ProcessEnv): Promise<KubeCluster> {
  const target = await loadKubeTarget({ flags, env });
  return { client: new KubeClient(target), target, namespace: target.namespace };
}

const WORKLOAD_PATHS: Record<Exclude<KubeKind, 'pod'>, [string, string]> = {
  deployment: ['/apis/apps/v1', 'deployments'],
  statefulset: ['/apis/apps/v1', 'statefulsets'],
  daemonset: ['/apis/apps/v1', 'daemonsets'],
  replicaset: ['/apis/apps/v1', 'replicasets'],
  job: ['/apis/batch/v1', 'jobs'],
};

const SHORT: Record<KubeKind, string> = { pod: 'pod', deployment: 'deploy', statefulset: 'sts', daemonset: 'ds', replicaset: 'rs', job: 'job' };

export function shortKind(kind: KubeKind): string {
  return SHORT[kind];
}

/** A label selector as the API's labelSelector query parameter. */
export function selectorQuery(selector: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** How much trouble a pod is in: the one to explain is the most troubled, then the newest. */
export function troubleScore(pod: Pod): number {
  const s = pod.status ?? {};
  let score = 0;
  if (s.phase === 'Failed' || s.phase === 'Unknown') score += 50;
  if (s.reason) score += 40;
  if (s.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) score += 30;
  for (const c of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
    const w = c.state?.waiting?.reason;
    if (w && w !== 'ContainerCreating' && w !== 'PodInitializing') score += 100;
    if (c.state?.terminated && c.state.terminated.exitCode !== 0) score += 80;
    if ((c.restartCount ?? 0) > 0) score += 10 + Math.min(c.restartCount ?? 0, 20);
    if (c.state?.running && !c.ready) score += 5;
  }
  return score;
}

export function readyCount(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  return `${statuses.filter((c) => c.ready).length}/${pod.spec.containers.length}`;
}

export function podRestarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
}

export interface ResolvedPods {
  /** The pod to explain (the most troubled, else the newest). */
  pod: Pod;
  /** Every pod of the workload, or just the pod. */
  pods: Pod[];
  workload: { kind: KubeKind; name: string; selector: string } | null;
  chosen: string;
}

export function podPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** The pods a workload's selector picks, newest first. */
export async function workloadPods(cluster: KubeCluster, selector: string): Promise<Pod[]> {
  const list = await cluster.client.get<List<Pod>>(`${podPath(cluster.namespace)}?labelSelector=${encodeURIComponent(selector)}`, {
    verb: 'list',
    resource: 'pods',
    namespace: cluster.namespace,
  });
  // Plain comparison: localeCompare would load ICU's collator (RFC 3339 times sort as text).
  const at = (p: Pod) => p.metadata.creationTimestamp ?? '';
  return list.items.sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
}

export async function resolveWorkload(cluster: KubeCluster, ref: Extract<TargetRef, { engine: 'kubernetes' }>): Promise<{ kind: KubeKind; name: string; selector: string }> {
  const [group, resource] = WORKLOAD_PATHS[ref.kind as Exclude<KubeKind, 'pod'>];
  const ns = cluster.namespace;
  const workload = await cluster.client.get<Workload>(`${group}/namespaces/${encodeURIComponent(ns)}/${resource}/${encodeURIComponent(ref.name)}`, {
    verb: 'get',
    resource,
    namespace: ns,
    name: ref.name,
  });
  const selector = selectorQuery(workload.spec?.selector);
  if (!selector) throw new InvalidArgument(`${shortKind(ref.kind)}/${ref.name} has no pod selector.`, 'Name one of its pods with pod/NAME.');
  return { kind: ref.kind, name: ref.name, selector };
}

export async function resolvePods(cluster: KubeCluster, ref: Extract<TargetRef, { engine: 'kubernetes' }>): Promise<ResolvedPods> {
  const ns = cluster.namespace;
  if (ref.kind === 'pod') {
    const pod = await cluster.client.get<Pod>(podPath(ns, ref.name), { verb: 'get', resource: 'pods', namespace: ns, name: ref.name });
    return { pod, pods: [pod], workload: null, chosen: '' };
  }
  const workload = await resolveWorkload(cluster, ref);
  const pods = await workloadPods(cluster, workload.selector);
  if (!pods.length) {
    throw new NotFound(
      `${shortKind(ref.kind)}/${ref.name} in namespace "${ns}" has no pods.`,
      `See why with \`kubectl describe ${shortKind(ref.kind)} ${ref.name} -n ${ns}\` (a quota, a failed ReplicaSet or zero replicas).`,
    );
  }
  const ranked = [...pods].sort((a, b) => troubleScore(b) - troubleScore(a));
  const pod = ranked[0]!;
  const chosen = troubleScore(pod) > 0 ? `showing ${pod.metadata.name}, the one in most trouble` : `showing ${pod.metadata.name}, the newest (none is failing)`;
  return { pod: troubleScore(pod) > 0 ? pod : pods[0]!, pods, workload, chosen };
}

/** The names of a pod's containers, init ones first, for "container not in pod" errors. */
export function containerNames(pod: Pod): string[] {
  return [...(pod.spec.initContainers ?? []).map((c) => c.name), ...pod.spec.containers.map((c) => c.name)];
}

export function requireContainer(pod: Pod, name: string): void {
  if (containerNames(pod).includes(name)) return;
  throw new NotFound(
    `Pod ${pod.metadata.name} has no container "${name}".`,
    `Its containers: ${pod.spec.containers.map((c) => c.name).join(', ')}${pod.spec.initContainers?.length ? `; init containers: ${pod.spec.initContainers.map((c) => c.name).join(', ')}` : ''}.`,
  );
}
