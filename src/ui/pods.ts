// The page's Kubernetes side: the pods of the namespace porthole would use (the CLI's own kubeconfig discovery and
// flags), as list rows. Loaded only when the page asks; a cluster that is not there answers an empty list, never an
// error, and is asked again at most every PROBE_RETRY_MS so a missing kubeconfig costs the page nothing.
import type { Context } from '../context.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import type { List, Pod } from '../engine/kubernetes/wire.js';
import { parseTarget } from '../engine/target.js';
import { InvalidArgument } from '../errors.js';

const PROBE_TIMEOUT_MS = 3000;
const PROBE_RETRY_MS = 30_000;

export interface PodRow {
  /** What the page puts in its URLs: `pod/NAME` (NS/pod/NAME in the list of every namespace), checked again by podRef on the way back. */
  ref: string;
  name: string;
  namespace: string;
  phase: string;
  ready: string;
  restarts: number;
  /** The last termination (or the waiting reason) in words: "CrashLoopBackOff: Error, exit code 3". */
  reason: string | null;
  crashed: boolean;
  created: number;
}

/** `pod/NAME` from a URL: a DNS-1123 name, then parsed as the CLI parses it (so it is a Kubernetes pod, nothing else). */
export function podRef(value: string): string {
  const m = /^pod\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(value);
  if (!m) throw new InvalidArgument('That is not a pod name.');
  const ref = parseTarget(value);
  if (ref.engine !== 'kubernetes' || ref.kind !== 'pod' || ref.name !== m[1]) throw new InvalidArgument('That is not a pod name.');
  return value;
}

/** NS/pod/NAME (a page of the list of every namespace): the namespace, a DNS-1123 label, and pod/NAME; else undefined. */
export function splitNamespace(value: string): { namespace: string; ref: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/(pod\/.*)$/.exec(value);
  return m ? { namespace: m[1]!, ref: m[3]! } : undefined;
}

export function podRows(pods: Pod[], withNamespace = false): PodRow[] {
  const rows = pods.map((p): PodRow => {
    const statuses = p.status?.containerStatuses ?? [];
    let reason: string | null = null;
    let crashed = p.status?.phase === 'Failed';
    for (const c of statuses) {
      const waiting = c.state?.waiting?.reason;
      const term = c.state?.terminated ?? c.lastState?.terminated;
      if (waiting && waiting !== 'ContainerCreating' && waiting !== 'PodInitializing') crashed = true;
      if (c.state?.terminated && c.state.terminated.exitCode !== 0) crashed = true;
      // crash-looping: restarted after a failure, even while the new run is up
      if ((c.restartCount ?? 0) > 0 && (c.lastState?.terminated?.exitCode ?? 0) !== 0) crashed = true;
      if (term || waiting) {
        const words = [waiting, term ? `${term.reason ?? 'terminated'}, exit code ${term.exitCode}` : undefined].filter(Boolean).join(': ');
        reason ??= statuses.length > 1 ? `${c.name}: ${words}` : words;
      }
    }
    return {
      ref: `${withNamespace ? `${p.metadata.namespace}/` : ''}pod/${p.metadata.name}`,
      name: p.metadata.name,
      namespace: p.metadata.namespace ?? '',
      phase: p.status?.reason ?? p.status?.phase ?? 'Unknown',
      ready: `${statuses.filter((c) => c.ready).length}/${p.spec.containers.length}`,
      restarts: statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
      reason,
      crashed,
      created: Date.parse(p.metadata.creationTimestamp ?? '') || 0,
    };
  });
  const rank = (r: PodRow) => (r.crashed ? 0 : r.phase === 'Running' ? 1 : 2);
  return rows.sort((a, b) => rank(a) - rank(b) || b.restarts - a.restarts || b.created - a.created);
}

/** The ui's view of the cluster: opened on first use, kept, and forgotten (to be probed again later) when it fails. */
export class PodSource {
  private cluster: Promise<KubeCluster | null> | undefined;
  private failedAt = 0;
  constructor(private readonly ctx: Context) {}

  private open(): Promise<KubeCluster | null> {
    if (this.cluster) return this.cluster;
    if (Date.now() - this.failedAt < PROBE_RETRY_MS) return Promise.resolve(null);
    this.cluster = (async () => {
      const { openKube } = await import('../cli/kube-flags.js');
      return await openKube(this.ctx, this.ctx.kube ?? {});
    })().catch(() => {
      this.failedAt = Date.now();
      this.cluster = undefined;
      return null;
    });
    return this.cluster;
  }

  /**
   * The page's terminal enters a pod by exec only: a pod whose container is not running (a copy of the pod would
   * be made) is refused here with the reason, before `porthole shell` starts. Adding an ephemeral toolbox is
   * still asked in the terminal itself ("Add it? [y/N]"), after porthole says that it cannot be removed.
   */
  async execOnly(ref: string, namespace?: string): Promise<void> {
    const cluster = await this.open();
    if (!cluster) throw new InvalidArgument('No Kubernetes cluster answers: check the kubeconfig.');
    const name = ref.slice('pod/'.length);
    const ns = namespace ?? cluster.namespace;
    const [{ podPath }, { pickWay }] = await Promise.all([import('../engine/kubernetes/index.js'), import('../enter/pod.js')]);
    const pod = await cluster.client.get<Pod>(podPath(ns, name), { verb: 'get', resource: 'pods', namespace: ns, name });
    const container = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0]?.name ?? '';
    const way = pickWay(pod, container);
    if (way.way !== 'exec') {
      throw new InvalidArgument(
        `The page opens a shell in a pod by exec only, and ${way.why}.`,
        way.way === 'copy' ? `\`porthole shell ${ref}\` in a terminal works in a copy of the pod (removed at the end).` : way.hint,
      );
    }
  }

  /**
   * The namespace's pods as rows (every namespace's with `all`: namespace null), or null when there is no cluster
   * to ask (no kubeconfig, unreachable, forbidden).
   */
  async rows(all = false): Promise<{ namespace: string | null; pods: PodRow[] } | null> {
    const cluster = await this.open();
    if (!cluster) return null;
    const { podPath } = await import('../engine/kubernetes/index.js');
    try {
      if (all) {
        const list = await cluster.client.get<List<Pod>>('/api/v1/pods', { verb: 'list', resource: 'pods' }, PROBE_TIMEOUT_MS);
        return { namespace: null, pods: podRows(list.items ?? [], true) };
      }
      const list = await cluster.client.get<List<Pod>>(podPath(cluster.namespace), { verb: 'list', resource: 'pods', namespace: cluster.namespace }, PROBE_TIMEOUT_MS);
      return { namespace: cluster.namespace, pods: podRows(list.items ?? []) };
    } catch {
      this.failedAt = Date.now();
      return null;
    }
  }
}
