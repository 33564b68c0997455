// `porthole ps [CONTAINER...]`: each container's processes as `ps faux` shows them on the host, rooted at the
// runtime shim, with the PID each process has inside its container. Where the engine's processes are not
// visible here (a remote engine, porthole in another PID namespace), the engine's own top stands in.
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { resolveContainers } from '../engine/resolve.js';
import { nameScope } from '../engine/compose/scope.js';
import { projectListOptions } from '../engine/compose/services.js';
import { isKubeName } from '../engine/target.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { renderPodPs, runPodPs, wantsPodPs, type PodPsOutcome } from './ps-pods.js';
import { NotFound, Unsupported, EXIT } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { renderPsByNode } from '../render/ps-by-node.js';
import type { PsNodesResult } from './across-nodes.js';
import { renderJson } from '../render/json.js';
import { renderProcessBlock } from '../render/process-block.js';
import {
  ENGINE_TOP_PS_ARGS,
  ProcessTable,
  containerRows,
  containerTree,
  engineTopRows,
  findContainerInits,
  hasHostView,
  parseEngineTop,
  type ContainerRows,
  type ProcessRow,
} from '../procs/index.js';

export const spec = defineCommand({
  name: 'ps',
  summary: "Show containers' processes as a tree, with host PIDs and PIDs inside",
  usage: 'porthole ps [CONTAINER...|pod/NAME[/CONTAINER]...|service/NAME[.SLOT]...|task/ID...|--all-nodes] [--json]',
  description:
    'Each container\'s processes as `ps faux` shows them on the host: rooted at the runtime shim, with the host\n' +
    'PID (for strace, gdb, lsof, nsenter), the PID inside the container, user, %CPU, RSS, start, state and command.\n' +
    'With no CONTAINER, every running container. A container is a name, an id, or a unique id prefix.\n' +
    'pod/NAME[/CONTAINER] (or deploy/NAME, sts/NAME, ...): the pod\'s processes read from /proc inside it, PIDs as\n' +
    'the pod sees them, each container\'s main process marked (docs/kubernetes.md). -n NAMESPACE with no names:\n' +
    'every running pod of that namespace, grouped by pod.\n' +
    'On a swarm manager, service/NAME and task/ID show each running task\'s processes from its own node, grouped\n' +
    'by node; --all-nodes shows every node\'s containers. A node that does not answer is named (exit 5).',
  options: {
    json: { type: 'boolean', description: 'Print one JSON array of process rows' },
    ...kubeOptions,
    namespace: { ...kubeOptions.namespace, short: 'n' },
    toolbox: { type: 'string', valueName: 'IMAGE', description: 'Pods: read a container without sh/cat/od/tr through an ephemeral toolbox from this image' },
    profile: { type: 'string', valueName: 'NAME', description: "Pods: a new toolbox container's security profile: general (default), baseline, restricted, sysadmin" },
    ...composeOptions,
    yes: { type: 'boolean', short: 'y', description: 'Pods: agree to adding an ephemeral toolbox container, which Kubernetes cannot remove' },
    'all-nodes': { type: 'boolean', description: 'Swarm: every running container of every node, grouped by node' },
  },
  args: { min: 0, max: Number.POSITIVE_INFINITY },
  examples: ['porthole ps', 'porthole ps web db', 'porthole ps -n shop pod/api', 'porthole ps -n shop', 'porthole ps deploy/web --json', 'porthole ps service/web', 'porthole ps --all-nodes', 'porthole ps web --json | jq \'.[] | select(.state == "zombie")\''],
});

export interface ContainerBlock extends ContainerRows {
  name: string;
  id: string;
  view: 'host' | 'engine';
}

export interface PsResult {
  containers: ContainerBlock[];
  /** Containers named on the command line that are not running. */
  notRunning: { name: string; id: string; status: string }[];
  named: boolean;
  nowMs: number;
  /** Set for Kubernetes names (ps-pods.ts). */
  pods?: PodPsOutcome;
}

interface Target {
  id: string;
  name: string;
  /** The engine's State.Pid; null when listed (docker ps does not give it) and found in /proc instead. */
  initPid: number | null;
}

/** Why a named container has no processes, as a sentence. */
export function notRunningSentence(name: string, status: string): string {
  const what =
    status === 'created' ? 'has never been started' : status === 'restarting' ? 'is restarting (between two runs)' : status === 'dead' ? 'is dead' : status === 'exited' ? 'has exited' : `is ${status}`;
  return `Container "${escapeName(name)}" ${what}, so it has no processes to show.`;
}

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<PsResult> {
  // a swarm's tasks live on several nodes: this same run() on each node's engine (commands/across-nodes.ts)
  if (parsed.options['all-nodes'] || parsed.args.some((a) => /^(service|task|node)\//.test(a))) return (await import('./across-nodes.js')).psAcrossNodes(ctx, parsed, run);
  if (wantsPodPs(parsed.args, parsed.options.namespace, isKubeName)) return { containers: [], notRunning: [], named: true, nowMs: Date.now(), pods: await runPodPs(ctx, parsed.args, parsed.options) };
  const engine = await ctx.engine();
  const named = parsed.args.length > 0;
  const targets: Target[] = [];
  const notRunning: PsResult['notRunning'] = [];
  let fullTable: ProcessTable | undefined;
  if (named) {
    const seen = new Set<string>();
    for (const d of await resolveContainers(engine, parsed.args)) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      if (d.state.running && d.state.pid > 0) targets.push({ id: d.id, name: d.name, initPid: d.state.pid });
      else notRunning.push({ name: d.name, id: d.id, status: d.state.status });
    }
    if (!targets.length) {
      const first = notRunning[0]!;
      // a JSON reader still gets JSON: no rows (the sentence goes to stderr, the exit code says it)
      if (parsed.options.json) ctx.stdout.write('[]\n');
      throw new Unsupported(
        notRunning.length === 1 ? notRunningSentence(first.name, first.status) : `None of the named containers is running, so there are no processes to show.`,
        'Start it with `docker start`, or read what it printed with `docker logs`.',
      );
    }
  } else {
    const request = engine.listContainers(projectListOptions(nameScope()));
    // Read /proc while the engine answers: the two overlap instead of adding up.
    fullTable = ProcessTable.available() ? ProcessTable.read() : undefined;
    const listed = await request;
    for (const c of listed) {
      if (c.state !== 'running' && c.state !== 'paused') continue;
      targets.push({ id: c.id, name: c.names[0] ?? c.id.slice(0, 12), initPid: null });
    }
    targets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  for (const n of notRunning) ctx.notice(`porthole: ${notRunningSentence(n.name, n.status)}`);

  // One pass over /proc for all containers: named ones give their init PIDs (read just those trees); listed ones
  // do not, so every process is read to find them.
  let table = !targets.length ? undefined : named ? (ProcessTable.available() ? ProcessTable.readAround(targets.map((t) => t.initPid!)) : undefined) : fullTable;
  let inits = table && !named ? findContainerInits(table, targets.map((t) => t.id)) : new Map<string, number>();
  if (table && !named && inits.size < targets.length) {
    // A container may have started after /proc was read: read again before deciding its processes are not visible.
    table = ProcessTable.read();
    inits = findContainerInits(table, targets.map((t) => t.id));
  }
  const blocks: (ContainerBlock | Promise<ContainerBlock | undefined>)[] = [];
  for (const target of targets) {
    const initPid = target.initPid ?? inits.get(target.id) ?? 0;
    const tree = table && hasHostView(table, target.id, initPid) ? containerTree(table, target.id, initPid) : undefined;
    if (tree) {
      blocks.push({ name: target.name, id: target.id, view: 'host', ...containerRows(target.name, tree) });
    } else {
      blocks.push(fromEngineTop(engine, target, named));
    }
  }
  const containers = (await Promise.all(blocks)).filter((b): b is ContainerBlock => b !== undefined);
  // Said only for what was shown: a listed container that merely stopped meanwhile is not a sign of a remote engine.
  if (containers.some((c) => c.view === 'engine')) {
    ctx.notice(
      `porthole: this machine cannot see the engine's processes (${escapeName(engine.endpoint.host)}), so they come from the engine's top: ` +
        'host PIDs are the engine host\'s, and PIDs inside the containers are not known.',
    );
  }
  return { containers, notRunning, named, nowMs: Date.now() };
}

async function fromEngineTop(engine: EngineClient, target: Target, named: boolean): Promise<ContainerBlock | undefined> {
  let top;
  try {
    top = await engine.top(target.id, ENGINE_TOP_PS_ARGS);
  } catch (err) {
    if (err instanceof NotFound && !named) return undefined; // removed since it was listed
    // An engine whose ps takes other arguments (Podman's top takes its own descriptors): its default columns.
    try {
      top = await engine.top(target.id);
    } catch (again) {
      if (!named) return undefined; // stopped since it was listed
      throw again;
    }
  }
  const rows = engineTopRows(target.name, target.id, target.initPid, parseEngineTop(top, Date.now()));
  return { name: target.name, id: target.id, view: 'engine', ...rows };
}

export function render(result: PsResult, parsed: Parsed<typeof spec.options>, ctx: Context): string {
  if ('nodes' in result && !parsed.options.json) return renderPsByNode(result as PsNodesResult, (part) => render(part, parsed, ctx));
  if (result.pods) return renderPodPs(result.pods, !!parsed.options.json, ctx.stdout.isTTY && ctx.stdout.columns ? ctx.stdout.columns : 0, result.nowMs);
  if (parsed.options.json) return renderJson(result.containers.flatMap((c) => c.rows));
  if (!result.containers.length) {
    if (!result.named) ctx.notice('porthole: no running containers.');
    return '';
  }
  const width = ctx.stdout.isTTY && ctx.stdout.columns ? ctx.stdout.columns : 0;
  const blocks = result.containers.map((c) => renderBlock(c, result.nowMs, width));
  return blocks.join('\n');
}

function renderBlock(block: ContainerBlock, nowMs: number, width: number): string {
  const heading = `${escapeName(block.name)} (${block.id.slice(0, 12)})${block.view === 'engine' ? ' [engine view: PIDs of the engine host]' : ''}`;
  return renderProcessBlock(heading, block.rows, block.prefixes, [
    { header: 'HOST PID', value: ({ row }) => String(row.hostPid), align: 'right' },
    { header: 'PID', value: ({ row }) => (row.pid === null ? '-' : String(row.pid)), align: 'right' },
  ], nowMs, width);
}

export function exitCode(result: PsResult): number {
  if ('nodes' in result && (result as PsNodesResult).nodes.some((n) => n.unavailable !== undefined)) return EXIT.engine;
  return result.notRunning.length || result.pods?.notRunning.length || result.pods?.unreadable.length ? EXIT.unsupported : EXIT.ok;
}

export type { ProcessRow };
