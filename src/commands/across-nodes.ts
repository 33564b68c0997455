// ps, stats and why across a swarm's nodes (service/ and task/ names, --all-nodes): each node's part is the
// command's own single-engine run() against that node's engine (engine/swarm/across.ts reaches the nodes and
// bounds each one's time); here the parts are put together, with the node each row came from.
import type { Context } from '../context.js';
import type { Parsed } from '../cli/args.js';
import type { ContainerSummary } from '../engine/types.js';
import { eachNode, missingNodes, nodeTargets, partial, type NodeAnswer } from '../engine/swarm/across.js';
import { sortStats, type SortKey } from '../metrics/calc.js';
import type { StatsRow } from '../metrics/types.js';
import { exitMeaning } from '../report/findings.js';
import type { PsResult } from './ps.js';
import type { StatsResult } from './stats.js';

export interface NodeBlocks<T> {
  /** Each node asked, in hostname order: its answer or why it is missing. */
  nodes: NodeAnswer<T>[];
}

function sayMissing<T>(ctx: Context, answers: NodeAnswer<T>[]): void {
  for (const line of missingNodes(answers)) ctx.notice(`porthole: ${line}`);
}

// ---------------------------------------------------------------- ps

export type PsNodesResult = PsResult & NodeBlocks<PsResult>;

export async function psAcrossNodes(ctx: Context, parsed: Parsed<any>, runOne: (ctx: Context, parsed: Parsed<any>) => Promise<PsResult>): Promise<PsNodesResult> {
  const { nodes, idsOn, notRunning } = await nodeTargets(ctx, parsed.args, !!parsed.options['all-nodes']);
  for (const name of notRunning) ctx.notice(`porthole: no task of ${name} is running, so it has no processes to show.`);
  const answers = await eachNode(ctx, nodes, (nodeCtx, node) => runOne(nodeCtx, { ...parsed, options: { ...parsed.options, 'all-nodes': false }, args: idsOn(node) }));
  sayMissing(ctx, answers);
  // JSON rows say their node; blocks stay grouped by node
  for (const a of answers) for (const c of a.value?.containers ?? []) for (const row of c.rows) Object.assign(row, { node: a.node });
  return {
    nodes: answers,
    containers: answers.flatMap((a) => a.value?.containers ?? []),
    notRunning: answers.flatMap((a) => a.value?.notRunning ?? []),
    named: parsed.args.length > 0,
    nowMs: Date.now(),
  };
}

// ---------------------------------------------------------------- stats

export type NodeStatsRow = StatsRow & { node: string };
export type StatsNodesResult = StatsResult & NodeBlocks<StatsResult> & { rows: NodeStatsRow[] };

export async function statsAcrossNodes(ctx: Context, parsed: Parsed<any>, sort: SortKey, watch: boolean, runOne: (ctx: Context, parsed: Parsed<any>) => Promise<StatsResult>, intervalMs = 2000): Promise<StatsNodesResult> {
  if (watch) return (await import('./across-nodes-watch.js')).watchAcrossNodes(ctx, parsed, sort, intervalMs, (quiet) => sampleAcrossNodes(quiet, parsed, sort, runOne));
  return sampleAcrossNodes(ctx, parsed, sort, runOne);
}

/** One sample of every node's part: the rows with their node, and each node's answer or why it is missing. */
export async function sampleAcrossNodes(ctx: Context, parsed: Parsed<any>, sort: SortKey, runOne: (ctx: Context, parsed: Parsed<any>) => Promise<StatsResult>): Promise<StatsNodesResult> {
  const { nodes, idsOn, notRunning } = await nodeTargets(ctx, parsed.args, !!parsed.options['all-nodes']);
  for (const name of notRunning) ctx.notice(`porthole: no task of ${name} is running: no figures.`);
  const answers = await eachNode(ctx, nodes, (nodeCtx, node) => runOne(nodeCtx, { ...parsed, options: { ...parsed.options, 'all-nodes': false, watch: false, interval: undefined }, args: idsOn(node) }));
  sayMissing(ctx, answers);
  const rows = answers.flatMap((a) => (a.value?.rows ?? []).map((r) => Object.assign(r, { node: a.node })));
  const sorted = sortStats(rows, sort) as NodeStatsRow[];
  // by name, nodes stay together, in hostname order
  if (sort === 'name') sorted.sort((a, b) => a.node.localeCompare(b.node, undefined, { numeric: true }) || a.name.localeCompare(b.name, undefined, { numeric: true }));
  return { rows: sorted, streamed: false, nodes: answers.map((a) => ({ node: a.node, unavailable: a.unavailable })) };
}

// ---------------------------------------------------------------- why --all-nodes

export interface FailedContainer {
  node: string;
  id: string;
  name: string;
  image: string;
  /** The engine's status words ("Exited (3) 2 minutes ago"). */
  status: string;
  exitCode: number | null;
  oomKilled: boolean;
  finishedAt: string | null;
  /** The exit in words. */
  meaning: string;
  /** For a swarm task's container: its service and task. */
  service: string | null;
  task: string | null;
}

export interface WhyNodesResult extends NodeBlocks<FailedContainer[]> {
  kind: 'swarm-nodes';
  failed: FailedContainer[];
  /** For node/NAME: each named node as the manager sees it. */
  nodeStates?: { node: string; id: string; state: string; availability: string; message: string; manager: boolean; addr: string }[];
}

/** A container that stopped by failing: a non-zero exit, dead, or restarting after one. */
export function failedSummary(c: ContainerSummary): boolean {
  if (c.state === 'dead' || c.state === 'restarting') return true;
  const m = /^Exited \((-?\d+)\)/.exec(c.status);
  return c.state === 'exited' && !!m && m[1] !== '0';
}

/** `why --all-nodes` (no refs), or `why node/NAME`: the named nodes' state from the manager and their failed containers. */
export async function whyAcrossNodes(ctx: Context, refs: string[] = []): Promise<WhyNodesResult> {
  const { nodes } = await nodeTargets(ctx, refs, !refs.length);
  const answers = await eachNode(ctx, nodes, async (nodeCtx, node) => {
    const engine = await nodeCtx.engine();
    const failed = (await engine.listContainers({ all: true })).filter(failedSummary);
    return Promise.all(failed.map(async (c): Promise<FailedContainer> => {
      const d = await engine.inspectContainer(c.id).catch(() => undefined);
      const exitCode = d ? d.state.exitCode : Number(/^Exited \((-?\d+)\)/.exec(c.status)?.[1] ?? NaN);
      const code = Number.isFinite(exitCode) ? exitCode : null;
      const oomKilled = !!d?.state.oomKilled;
      return {
        node: node.hostname,
        id: c.id,
        name: c.names[0] ?? c.id.slice(0, 12),
        image: c.image,
        status: c.status,
        exitCode: code,
        oomKilled,
        finishedAt: d?.state.finishedAt || null,
        meaning: c.state === 'dead' ? 'dead: the engine could not stop or remove it cleanly' : code !== null ? exitMeaning(code, oomKilled).words : c.status,
        service: c.labels['com.docker.swarm.service.name'] ?? null,
        task: c.labels['com.docker.swarm.task.id'] ?? null,
      };
    }));
  });
  sayMissing(ctx, answers);
  const failed = answers.flatMap((a) => a.value ?? []).sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  const nodeStates = refs.length
    ? nodes.map((n) => ({ node: n.hostname, id: n.id, state: n.state, availability: n.availability, message: n.message ?? '', manager: n.manager, addr: n.addr }))
    : undefined;
  return { kind: 'swarm-nodes', nodes: answers.map((a) => ({ node: a.node, unavailable: a.unavailable })), failed, ...(nodeStates ? { nodeStates } : {}) };
}

/** Exit status of a run across nodes: 5 (engine) when some node is missing, so scripts know the answer is partial. */
export function nodesExitCode(result: NodeBlocks<unknown>, otherwise: number): number {
  return partial(result.nodes)?.exitCode ?? otherwise;
}
