// `porthole stats pod/X` (deploy/X: all its pods) and `stats -n NS` (every pod of a namespace): the pod side of
// stats, reached from stats.ts's dispatch. The figures come from engine/kubernetes/pod-stats.ts (loaded only
// here); the source is said on stderr. One-shot, --json, and --watch as for containers.
import type { Context } from '../context.js';
import { kubeFlags, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { isKubeName, parseTarget } from '../engine/target.js';
import { InvalidArgument } from '../errors.js';
import { formatBinaryBytes, formatPercent, memoryPercent } from '../metrics/calc.js';
import type { PodStatsRow } from '../engine/kubernetes/pod-stats.js';
import { escapeName } from '../render/escape.js';
import { renderTable } from '../render/table.js';
import { clip } from '../tui/text.js';
import { watchLoop } from '../tui/watch.js';

export interface PodStatsOptions {
  json?: boolean;
  kubeconfig?: string;
  'kube-context'?: string;
  namespace?: string;
  sort?: string;
}

/**
 * `stats -n` was the refresh period before it named a namespace: a value that is a number, or no namespace name
 * at all, is still the period (and a bad one is then said as a bad period).
 */
export function namespaceOrPeriod<O extends { namespace?: string; interval?: string }>(options: O): O {
  const ns = options.namespace;
  if (ns === undefined || options.interval !== undefined) return options;
  if (!/^\d+(\.\d+)?$/.test(ns) && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) return options;
  return { ...options, namespace: undefined, interval: ns };
}

/** Whether stats is about pods: a Kubernetes name, or a namespace asked for with no names. */
export function wantsPods(args: string[], namespace: string | undefined): boolean {
  return args.some(isKubeName) || (args.length === 0 && namespace !== undefined);
}

const SOURCE_WORDS = { 'metrics-api': 'the metrics API (metrics.k8s.io)', 'kubelet-summary': "the kubelet's Summary API (nodes/NODE/proxy/stats/summary)" } as const;

function sortRows(rows: PodStatsRow[], sort: string): PodStatsRow[] {
  const by = (v: number | null) => v ?? -1;
  if (sort === 'cpu') return [...rows].sort((a, b) => by(b.cpuPercent) - by(a.cpuPercent));
  if (sort === 'mem') return [...rows].sort((a, b) => by(b.memoryWorkingSetBytes) - by(a.memoryWorkingSetBytes));
  return rows;
}

export function renderPodStatsTable(rows: PodStatsRow[]): string {
  type Line = { name: string; cpu: number | null; mem: number | null; limit: number | null; restarts: number; status: string };
  const lines: Line[] = [];
  for (const r of rows) {
    lines.push({ name: escapeName(r.pod), cpu: r.cpuPercent, mem: r.memoryWorkingSetBytes, limit: r.memoryLimitBytes, restarts: r.restarts, status: r.phase });
    // a pod of several containers shows each below it
    if (r.containers.length > 1) {
      r.containers.forEach((c, i) =>
        lines.push({ name: ` ${i === r.containers.length - 1 ? '\\_' : '|_'} ${escapeName(c.name)}`, cpu: c.cpuPercent, mem: c.memoryWorkingSetBytes, limit: c.memoryLimitBytes, restarts: c.restarts, status: '' }),
      );
    }
  }
  const dash = (v: number | null, f: (n: number) => string) => (v === null ? '-' : f(v));
  return renderTable(lines, [
    { header: 'POD', value: (l) => l.name, trusted: true },
    { header: 'CPU %', value: (l) => dash(l.cpu, formatPercent), align: 'right' },
    { header: 'WORKING SET / LIMIT', value: (l) => `${dash(l.mem, formatBinaryBytes)} / ${l.limit === null ? 'none' : formatBinaryBytes(l.limit)}`, align: 'right' },
    { header: 'MEM %', value: (l) => (l.mem === null || l.limit === null ? '-' : formatPercent(memoryPercent(l.mem, l.limit))), align: 'right' },
    { header: 'RESTARTS', value: (l) => String(l.restarts), align: 'right' },
    { header: 'STATUS', value: (l) => l.status },
  ]);
}

/** The --json shape: fixed field order, CPU to two decimals. */
export function podStatsJson(rows: PodStatsRow[]): unknown[] {
  const cpu = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return rows.map((r) => ({
    namespace: r.namespace,
    pod: r.pod,
    node: r.node,
    phase: r.phase,
    cpuPercent: cpu(r.cpuPercent),
    memoryWorkingSetBytes: r.memoryWorkingSetBytes,
    memoryLimitBytes: r.memoryLimitBytes,
    restarts: r.restarts,
    source: r.source,
    containers: r.containers.map((c) => ({ name: c.name, cpuPercent: cpu(c.cpuPercent), memoryWorkingSetBytes: c.memoryWorkingSetBytes, memoryLimitBytes: c.memoryLimitBytes, restarts: c.restarts })),
  }));
}

export interface PodStatsOutcome {
  rows: PodStatsRow[];
  streamed: boolean;
}

/** One-shot or --watch stats of pods. */
export async function runPodStats(ctx: Context, args: string[], options: PodStatsOptions, watch: { on: boolean; intervalMs: number }): Promise<PodStatsOutcome> {
  const refs = args.map(parseTarget);
  if (refs.some((r) => r.engine !== 'kubernetes')) throw new InvalidArgument('stats takes either Docker containers or Kubernetes names (pod/X, deploy/X, ...), not both at once.', 'Run it once for each.');
  const sort = options.sort ?? 'name';
  const cluster = await openKube(ctx, kubeFlags(ctx, options));
  const { podStats, statsPods } = await import('../engine/kubernetes/pod-stats.js');
  let said = '';
  const sample = async () => {
    const result = await podStats(cluster, statsPods(cluster, refs as KubeTargetRef[]));
    const words = `porthole: figures from ${SOURCE_WORDS[result.source]}${result.fallbackWhy ? `, as ${result.fallbackWhy}` : ''}.`;
    if (words !== said) ctx.notice(words);
    said = words;
    return sortRows(result.rows, sort);
  };
  if (!watch.on) {
    const rows = await sample();
    if (!rows.length) ctx.notice(`porthole: no pods in namespace "${cluster.namespace}".`);
    return { rows, streamed: false };
  }
  await watchPods(ctx, sample, watch.intervalMs, !!options.json, cluster.namespace);
  return { rows: [], streamed: true };
}

async function watchPods(ctx: Context, sample: () => Promise<PodStatsRow[]>, intervalMs: number, json: boolean, namespace: string): Promise<void> {
  await watchLoop<PodStatsRow[]>(ctx, {
    intervalMs,
    json,
    sample,
    piped: (rows, first) => (json ? JSON.stringify(podStatsJson(rows)) + '\n' : (first ? '' : '\n') + renderPodStatsTable(rows)),
    // the first sample before the screen is taken: the sentence about the source stays on the normal screen
    sampleBeforeScreen: true,
    frame: (rows = [], width) => ({
      title: clip(`porthole stats · namespace ${escapeName(namespace)} · ${rows.length} pod${rows.length === 1 ? '' : 's'} · every ${intervalMs / 1000}s · q quit`, width),
      body: renderPodStatsTable(rows).trimEnd().split('\n').map((l) => clip(l, width)),
    }),
  });
}
