// `porthole stats`: CPU, memory, network, block I/O and PIDs of every running container (or the ones named) in
// one table. On the engine's host the figures come straight from the cgroup files, all containers sampled across
// one short window; elsewhere from the engine's one-shot stats, concurrently. `--watch` refreshes in place.
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { EXIT, InvalidArgument } from '../errors.js';
import { sortStats, type SortKey } from '../metrics/calc.js';
import { StatsSampler, type SamplerOptions } from '../metrics/sampler.js';
import { statsTargets } from '../metrics/targets.js';
import { toJsonRow, type StatsRow } from '../metrics/types.js';
import { renderJson } from '../render/json.js';
import { renderTable } from '../render/table.js';
import { renderStatsByNode } from '../render/stats-by-node.js';
import type { StatsNodesResult } from './across-nodes.js';
import { History, liveStatsLines, STATS_COLUMNS, titleLine } from '../tui/stats-view.js';
import { watchLoop } from '../tui/watch.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { namespaceOrPeriod, podStatsJson, renderPodStatsTable, runPodStats, wantsPods } from './stats-pods.js';
import type { PodStatsRow } from '../engine/kubernetes/pod-stats.js';

export const spec = defineCommand({
  name: 'stats',
  summary: 'Show CPU, memory, network, block I/O and PIDs of running containers in one table',
  usage: 'porthole stats [CONTAINER...|pod/NAME...|-n NAMESPACE|service/NAME[.SLOT]...|task/ID...|--all-nodes] [--sort cpu|mem|name] [--json] [-w [SECONDS] | --interval SECONDS]',
  description: [
    'CPU % counts one full core as 100%. Memory is what the container uses without the page cache, as docker',
    'stats reports it, against its limit (the machine\'s memory when it has none). One-shot by default.',
    '',
    '-w/--watch refreshes in place every 2 seconds until q or Ctrl-C. To choose the period, put it right after',
    '-w (`-w 5`, `--watch 0.5`) or use --interval SECONDS, which implies --watch. With --interval given, a number',
    'after -w is a container name, not a period. When stdout is not a terminal, --watch prints one table (or',
    'with --json one JSON line) per refresh.',
    '',
    'pod/NAME (deploy/NAME: all its pods) or -n NAMESPACE alone (every pod there): CPU, memory working set against',
    'the limit, and restarts, from the metrics API or else the kubelet\'s Summary API (said on stderr). -n takes a',
    'namespace name, or a number of seconds as --interval (docs/kubernetes.md).',
    '',
    'On a swarm manager, service/NAME and task/ID sample each running task on its own node, and --all-nodes every',
    'container of every node: one table with a NODE column (one sample; no --watch). A node that does not answer',
    'is named (exit 5).',
  ].join('\n'),
  options: {
    ...composeOptions,
    sort: { type: 'string', valueName: 'cpu|mem|name', description: 'Order rows by CPU, memory (biggest first) or name (default)' },
    watch: {
      type: 'boolean',
      short: 'w',
      description: 'Refresh in place (period: a number right after -w, or --interval)',
      valueGivenHint: 'For a refresh every {} seconds, give the period after a space: `porthole stats --watch {}`, or `porthole stats --interval {}`.',
    },
    interval: { type: 'string', valueName: 'SECONDS', description: 'Seconds between refreshes (implies --watch; default 2); -n SECONDS too' },
    json: { type: 'boolean', description: 'Print an array of {name, id, cpuPercent, memoryBytes, memoryLimitBytes, netRxBytes, netTxBytes, blockReadBytes, blockWriteBytes, pids} (across nodes: node first)' },
    'all-nodes': { type: 'boolean', description: 'Swarm: every running container of every node, with a NODE column' },
    ...kubeOptions,
    namespace: { ...kubeOptions.namespace, short: 'n', description: 'Kubernetes: the namespace (alone: every pod in it); a number is --interval' },
  },
  args: { min: 0, max: Number.MAX_SAFE_INTEGER },
  examples: ['porthole stats', 'porthole stats -n shop', 'porthole stats pod/api --json', 'porthole stats service/web', 'porthole stats --all-nodes', 'porthole stats web db --sort mem', 'porthole stats -w', 'porthole stats -w 5 --sort cpu', 'porthole stats --json'],
});

type Options = Parsed<typeof spec.options>;

/**
 * The one-shot sampling window, shared by all containers. cpuacct.usage and cpu.stat count nanoseconds, so 100 ms
 * reads a busy core within a few percent (the tests compare with the kernel's own count).
 */
export const SAMPLE_WINDOW_MS = 100;
const DEFAULT_INTERVAL_S = 2;

export interface StatsSettings {
  refs: string[];
  sort: SortKey;
  watch: boolean;
  intervalMs: number;
}

function parseSeconds(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n >= 0.1) || n > 86_400) {
    throw new InvalidArgument(`${flag} takes a number of seconds from 0.1 to 86400, not "${value}".`);
  }
  return Math.round(n * 1000);
}

/** Reads the flags, including the optional number after -w (parseArgs cannot do optional values). */
export function statsSettings(parsed: Pick<Options, 'options' | 'args'>): StatsSettings {
  const { sort = 'name', watch, interval } = parsed.options;
  if (sort !== 'cpu' && sort !== 'mem' && sort !== 'name') {
    throw new InvalidArgument(`--sort takes cpu, mem or name, not "${sort}".`);
  }
  let refs = [...parsed.args];
  let intervalMs = DEFAULT_INTERVAL_S * 1000;
  if (interval !== undefined) intervalMs = parseSeconds('--interval', interval);
  else if (watch && refs.length && /^\d+(\.\d+)?$/.test(refs[0]!)) {
    intervalMs = parseSeconds('--watch', refs[0]!);
    refs = refs.slice(1);
  }
  return { refs, sort, watch: watch || interval !== undefined, intervalMs };
}

export function samplerOptions(env: NodeJS.ProcessEnv): SamplerOptions {
  // A knob for tests and for comparing the two ways: PORTHOLE_STATS_SOURCE=engine skips the cgroup files.
  return { source: env.PORTHOLE_STATS_SOURCE === 'engine' ? 'engine' : 'auto' };
}

export interface StatsResult {
  rows: StatsRow[];
  /** Nothing left to print: --watch drew its own output. */
  streamed: boolean;
  /** Set for pods (stats-pods.ts). */
  pods?: PodStatsRow[];
}

export async function run(ctx: Context, given: Options): Promise<StatsResult> {
  const parsed = { ...given, options: namespaceOrPeriod(given.options) };
  const settings = statsSettings(parsed);
  // a swarm's tasks live on several nodes: this same run() on each node's engine (commands/across-nodes.ts)
  if (parsed.options['all-nodes'] || settings.refs.some((a) => /^(service|task|node)\//.test(a))) return (await import('./across-nodes.js')).statsAcrossNodes(ctx, { ...parsed, args: settings.refs }, settings.sort, settings.watch, run, settings.intervalMs);
  if (wantsPods(settings.refs, parsed.options.namespace ?? ctx.kube?.namespace)) {
    const pods = await runPodStats(ctx, settings.refs, parsed.options, { on: settings.watch, intervalMs: settings.intervalMs });
    return { rows: [], streamed: pods.streamed, pods: pods.rows };
  }
  const engine = await ctx.engine();
  const sampler = new StatsSampler(engine, samplerOptions(ctx.env));
  if (settings.watch) {
    await watch(ctx, engine, sampler, settings, parsed.options.json);
    return { rows: [], streamed: true };
  }
  const listing = statsTargets(engine, settings.refs);
  // Let the engine request go out, then take the first CPU readings while it is answered.
  await new Promise((resolve) => setImmediate(resolve));
  sampler.prime();
  const targets = await listing;
  const rows = sortStats(await sampler.sample(targets, SAMPLE_WINDOW_MS, ctx.signal), settings.sort);
  for (const row of rows) if (row.notRunning) ctx.notice(`porthole: ${row.name} is not running (${row.notRunning}): no figures.`);
  return { rows, streamed: false };
}

export function renderStatsTable(rows: StatsRow[]): string {
  return renderTable(rows, STATS_COLUMNS);
}

export function render(result: StatsResult, parsed: Options): string {
  if (result.streamed) return '';
  if ('nodes' in result) return renderStatsByNode((result as StatsNodesResult).rows, (result as StatsNodesResult).nodes, parsed.options.json);
  if (result.pods) return parsed.options.json ? renderJson(podStatsJson(result.pods)) : renderPodStatsTable(result.pods);
  if (parsed.options.json) return renderJson(result.rows.map(toJsonRow));
  return renderStatsTable(result.rows);
}

async function watch(ctx: Context, engine: EngineClient, sampler: StatsSampler, settings: StatsSettings, json: boolean): Promise<void> {
  // The named containers are resolved once (an unknown name fails at once); with none named, every refresh
  // lists the running containers again so new ones appear and gone ones drop out.
  const fixed = settings.refs.length ? await statsTargets(engine, settings.refs) : undefined;
  const history = new History();
  await watchLoop<StatsRow[]>(ctx, {
    intervalMs: settings.intervalMs,
    json,
    sample: async (signal) => sortStats(await sampler.sample(await (fixed ?? statsTargets(engine, [])), SAMPLE_WINDOW_MS, signal), settings.sort),
    piped: (rows, first) => (json ? JSON.stringify(rows.map(toJsonRow)) + '\n' : (first ? '' : '\n') + renderStatsTable(rows)),
    seen: (rows) => history.record(rows),
    frame: (rows = [], width) => ({
      title: titleLine(`porthole stats · ${rows.length} container${rows.length === 1 ? '' : 's'} · every ${settings.intervalMs / 1000}s · sorted by ${settings.sort} · q quit`, width),
      body: liveStatsLines(rows, history, width),
    }),
  });
}

export function exitCode(result: StatsResult): number {
  return 'nodes' in result && (result as StatsNodesResult).nodes.some((n) => n.unavailable !== undefined) ? EXIT.engine : EXIT.ok;
}
