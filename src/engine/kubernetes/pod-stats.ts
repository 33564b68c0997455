// `stats pod/X` and `stats -n NS`: CPU, memory (working set, against the limit) and restarts of pods. The figures
// come from the metrics API (metrics.k8s.io, served by metrics-server) when the cluster has it, else from each
// node's kubelet Summary API through the API server's node proxy (/api/v1/nodes/NODE/proxy/stats/summary), which
// every kubelet serves. Both give the working set (what the kubelet's eviction and `kubectl top` use) and a CPU
// rate over the last collection window. Parsing is pure and unit-tested on recorded answers.
import { AccessDenied, EngineError, NotFound } from '../../errors.js';
import { parseQuantity } from './facts.js';
import { podPath, resolvePods, type KubeCluster } from './index.js';
import type { KubeTargetRef } from '../../cli/kube-flags.js';
import type { List, Pod } from './wire.js';

export type PodStatsSource = 'metrics-api' | 'kubelet-summary';

export interface ContainerFigures {
  name: string;
  /** 100 = one full core; null when the source has no rate yet. */
  cpuPercent: number | null;
  memoryWorkingSetBytes: number | null;
  /** The container's memory limit; null when it has none. */
  memoryLimitBytes: number | null;
  restarts: number;
}

/** One pod's figures. The documented --json shape of `porthole stats pod/X`. */
export interface PodStatsRow {
  namespace: string;
  pod: string;
  node: string | null;
  phase: string;
  cpuPercent: number | null;
  memoryWorkingSetBytes: number | null;
  /** The sum of the containers' limits when every container has one, else null (the pod may use the node's memory). */
  memoryLimitBytes: number | null;
  restarts: number;
  containers: ContainerFigures[];
  source: PodStatsSource | null;
}

/** A CPU quantity ("12345678n", "250u", "12m", "2") in cores. */
export function cpuCores(text: string | undefined): number | null {
  if (!text) return null;
  const m = /^([0-9.]+)(n|u|m)?$/.exec(text.trim());
  if (!m) return null;
  const factor = m[2] === 'n' ? 1e-9 : m[2] === 'u' ? 1e-6 : m[2] === 'm' ? 1e-3 : 1;
  return Number(m[1]) * factor;
}

/** Per container, its figures as a source gives them (before limits and restarts from the pod are added). */
export type Usage = Map<string, { cpuPercent: number | null; memoryWorkingSetBytes: number | null }>;

export interface PodMetrics {
  metadata: { name: string; namespace?: string };
  containers?: { name: string; usage?: { cpu?: string; memory?: string } }[];
}

/** The metrics API's PodMetrics list, as namespace/pod -> container -> usage. */
export function usageFromMetrics(list: List<PodMetrics>, namespace: string): Map<string, Usage> {
  const out = new Map<string, Usage>();
  for (const item of list.items ?? []) {
    const usage: Usage = new Map();
    for (const c of item.containers ?? []) {
      const cores = cpuCores(c.usage?.cpu);
      const memory = parseQuantity(c.usage?.memory);
      usage.set(c.name, { cpuPercent: cores === null ? null : cores * 100, memoryWorkingSetBytes: memory === undefined ? null : Math.round(memory) });
    }
    out.set(`${item.metadata.namespace ?? namespace}/${item.metadata.name}`, usage);
  }
  return out;
}

export interface Summary {
  node?: { nodeName?: string };
  pods?: {
    podRef: { name: string; namespace: string };
    containers?: { name: string; cpu?: { usageNanoCores?: number }; memory?: { workingSetBytes?: number } }[];
  }[];
}

/** A kubelet's Summary, as namespace/pod -> container -> usage. A rate not yet computed stays null. */
export function usageFromSummary(summary: Summary): Map<string, Usage> {
  const out = new Map<string, Usage>();
  for (const p of summary.pods ?? []) {
    const usage: Usage = new Map();
    for (const c of p.containers ?? []) {
      const nano = c.cpu?.usageNanoCores;
      usage.set(c.name, { cpuPercent: typeof nano === 'number' ? nano / 1e7 : null, memoryWorkingSetBytes: typeof c.memory?.workingSetBytes === 'number' ? c.memory.workingSetBytes : null });
    }
    out.set(`${p.podRef.namespace}/${p.podRef.name}`, usage);
  }
  return out;
}

/** A pod's row from its spec and status (limits, restarts) and the usage a source gave. Pure. */
export function podRow(pod: Pod, usage: Usage | undefined, source: PodStatsSource | null, fallbackNamespace: string): PodStatsRow {
  const statuses = pod.status?.containerStatuses ?? [];
  const containers: ContainerFigures[] = pod.spec.containers.map((spec) => {
    const limit = parseQuantity(spec.resources?.limits?.memory);
    const u = usage?.get(spec.name);
    return {
      name: spec.name,
      cpuPercent: u?.cpuPercent ?? null,
      memoryWorkingSetBytes: u?.memoryWorkingSetBytes ?? null,
      memoryLimitBytes: limit === undefined ? null : Math.round(limit),
      restarts: statuses.find((s) => s.name === spec.name)?.restartCount ?? 0,
    };
  });
  const sum = (values: (number | null)[]) => (values.some((v) => v !== null) ? values.reduce<number>((a, v) => a + (v ?? 0), 0) : null);
  return {
    namespace: pod.metadata.namespace ?? fallbackNamespace,
    pod: pod.metadata.name,
    node: pod.spec.nodeName ?? null,
    phase: pod.status?.phase ?? 'Unknown',
    cpuPercent: sum(containers.map((c) => c.cpuPercent)),
    memoryWorkingSetBytes: sum(containers.map((c) => c.memoryWorkingSetBytes)),
    memoryLimitBytes: containers.every((c) => c.memoryLimitBytes !== null) ? sum(containers.map((c) => c.memoryLimitBytes)) : null,
    restarts: containers.reduce((a, c) => a + c.restarts, 0),
    containers,
    source: usage ? source : null,
  };
}

/** The pods asked about: named ones (a workload's all), or every pod of the namespace. */
export async function statsPods(cluster: KubeCluster, refs: KubeTargetRef[]): Promise<Pod[]> {
  if (!refs.length) {
    const list = await cluster.client.get<List<Pod>>(podPath(cluster.namespace), { verb: 'list', resource: 'pods', namespace: cluster.namespace });
    return list.items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }
  const seen = new Set<string>();
  const pods: Pod[] = [];
  for (const ref of refs) {
    for (const pod of (await resolvePods(cluster, ref)).pods) {
      if (seen.has(pod.metadata.name)) continue;
      seen.add(pod.metadata.name);
      pods.push(pod);
    }
  }
  return pods;
}

export interface PodStatsResult {
  rows: PodStatsRow[];
  source: PodStatsSource;
  /** Why the metrics API was not used, in words, when it was not. */
  fallbackWhy: string | null;
}

/**
 * Figures for the pods: the metrics API first, the kubelets' Summary API when the cluster has no metrics API. The
 * metrics API is asked while the pods are still being listed (`listing`), so the two requests overlap.
 */
export async function podStats(cluster: KubeCluster, listing: Promise<Pod[]>): Promise<PodStatsResult> {
  const namespace = cluster.namespace;
  const metrics = cluster.client
    .get<List<PodMetrics>>(`/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, { verb: 'list', resource: 'pods.metrics.k8s.io', namespace })
    .then((list) => list, (err: Error) => err);
  const pods = await listing;
  const answer = await metrics;
  let fallbackWhy: string;
  if (!(answer instanceof Error)) {
    const usage = usageFromMetrics(answer, namespace);
    return { rows: pods.map((p) => podRow(p, usage.get(`${p.metadata.namespace ?? namespace}/${p.metadata.name}`), 'metrics-api', namespace)), source: 'metrics-api', fallbackWhy: null };
  }
  // No metrics API (404), one that is registered but down (503), or not allowed to read it: ask the kubelets.
  if (answer instanceof NotFound) fallbackWhy = 'the cluster has no metrics API (metrics-server)';
  else if (answer instanceof AccessDenied) fallbackWhy = 'the metrics API is not open to this user';
  else if (answer instanceof EngineError && answer.statusCode === 503) fallbackWhy = 'the metrics API is not answering';
  else throw answer;
  const nodes = [...new Set(pods.map((p) => p.spec.nodeName).filter((n): n is string => !!n))];
  const usage = new Map<string, Usage>();
  const summaries = await Promise.all(
    nodes.map((node) =>
      cluster.client.get<Summary>(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/summary`, { verb: 'get', resource: 'nodes/proxy', name: node }).catch((err: Error) => {
        if (err instanceof AccessDenied) {
          throw new AccessDenied(
            `Kubernetes does not let user "${cluster.target.userName}" read pod figures: ${fallbackWhy}, and the kubelet's Summary API needs "get" on "nodes/proxy".`,
            'Ask a cluster admin for read access to metrics.k8s.io pods or nodes/proxy, or use another --kube-context.',
          );
        }
        throw err;
      }),
    ),
  );
  for (const s of summaries) for (const [k, v] of usageFromSummary(s)) usage.set(k, v);
  return { rows: pods.map((p) => podRow(p, usage.get(`${p.metadata.namespace ?? namespace}/${p.metadata.name}`), 'kubelet-summary', namespace)), source: 'kubelet-summary', fallbackWhy };
}
