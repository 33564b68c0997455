// Commands across a swarm's nodes: `ps service/web`, `stats service/web`, `ps|stats|why --all-nodes`. The manager
// says which tasks run where; each node's engine is reached (reach.ts) and the command's own single-engine code
// runs against it, all nodes at once. A node that cannot be reached, or stops answering, is named with the reason
// after at most a deadline; the other nodes' answers are given all the same.
import type { Context } from '../../context.js';
import type { EngineClient, SwarmNode, SwarmTask } from '../types.js';
import { EngineUnavailable, InvalidArgument, NotFound, PortholeError, Unsupported } from '../../errors.js';
import { parseSwarmName, type SwarmName } from './names.js';
import { connectNode } from './reach.js';
import { notManager, selectSwarm, swarmApi } from '../../report/swarm.js';

/** How long one node may take for its whole part (reaching it and answering) before it is named as not answering. */
export function nodeDeadlineMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.PORTHOLE_SWARM_NODE_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : 10_000;
}

export interface NodeAnswer<T> {
  node: string;
  value?: T;
  /** Why this node is missing from the answer: unreachable, stopped answering, or its engine's error. */
  unavailable?: string;
}

/** A context for one node: its engine instead of the manager's, its notices prefixed with the node. */
function nodeContext(ctx: Context, node: SwarmNode, engine: EngineClient): Context {
  return Object.create(ctx, {
    engine: { value: async () => engine, enumerable: true },
    notice: { value: (message: string) => ctx.notice(message.replace(/^porthole: /, `porthole: node ${node.hostname}: `)), enumerable: true },
  });
}

/** Runs `work` on each node's engine at once; each node answers, fails with its reason, or runs out of time. */
export async function eachNode<T>(ctx: Context, nodes: SwarmNode[], work: (nodeCtx: Context, node: SwarmNode) => Promise<T>): Promise<NodeAnswer<T>[]> {
  const deadline = nodeDeadlineMs(ctx.env);
  return Promise.all(nodes.map(async (node): Promise<NodeAnswer<T>> => {
    let engine: EngineClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineUnavailable(`its engine did not answer within ${deadline / 1000} s`)), deadline);
    });
    try {
      const reached = connectNode(node, ctx.env);
      reached.then((r) => { engine = r.engine; }, () => undefined);
      await Promise.race([reached, late]);
      const value = await Promise.race([work(nodeContext(ctx, node, engine!), node), late]);
      return { node: node.hostname, value };
    } catch (err) {
      // the sentence and, where there is one, what to do about it (how to map the node)
      const hint = err instanceof PortholeError && err.hint ? ` ${err.hint.replace(/\.$/, '')}` : '';
      return { node: node.hostname, unavailable: `${(err as Error).message.replace(/\.$/, '')}${hint ? `.${hint}` : ''}` };
    } finally {
      clearTimeout(timer);
      // closing ends whatever request is still waiting on a node that stopped answering
      engine?.close();
    }
  }));
}

/** Every node of the swarm, by hostname. */
export async function allNodes(manager: EngineClient): Promise<SwarmNode[]> {
  const nodes = await swarmApi(manager).listNodes().catch(notManager);
  return nodes.sort((a, b) => a.hostname.localeCompare(b.hostname, undefined, { numeric: true }));
}

export interface TasksByNode {
  nodes: SwarmNode[];
  /** Container ids of the running tasks each node holds, by node id. */
  containers: Map<string, { id: string; task: SwarmTask }[]>;
  /** Tasks named that have nothing running (a slot between restarts, a failed task/ID). */
  notRunning: string[];
}

const RUNNING = (t: SwarmTask) => t.state === 'running' && t.desiredState === 'running' && !!t.containerId;

/** The running tasks that service/ and task/ names cover, grouped by the node that runs them. */
export async function runningTasksByNode(manager: EngineClient, refs: string[]): Promise<TasksByNode> {
  const api = swarmApi(manager);
  const byNode = new Map<string, { id: string; task: SwarmTask }[]>();
  const notRunning: string[] = [];
  let nodes: SwarmNode[] = [];
  const names = refs.map((ref) => {
    const name = parseSwarmName(ref);
    if (!name) throw new InvalidArgument(`Across nodes, name services and tasks (service/NAME[.SLOT|@NODE], task/ID), not ${JSON.stringify(ref.replace(/[\x00-\x1f\x7f]/g, '?'))}.`, 'Containers on one engine are named without the swarm names, in a run of their own.');
    if (name.kind === 'node') throw new InvalidArgument(`${ref}: for a node's containers use --all-nodes (every node), or -H with that node's engine.`);
    return name as Extract<SwarmName, { kind: 'service' | 'task' }>;
  });
  const seen = new Set<string>();
  for (const selection of await Promise.all(names.map((name) => selectSwarm(api, name)))) {
    nodes = selection.nodes;
    const running = selection.selected.filter(RUNNING);
    if (!running.length) notRunning.push(`${selection.service.name}${selection.narrowed ? ` (${selection.selected.map((t) => t.slot ?? t.id.slice(0, 12)).join(', ') || 'nothing selected'})` : ''}`);
    for (const task of running) {
      if (seen.has(task.id)) continue;
      seen.add(task.id);
      const list = byNode.get(task.nodeId) ?? [];
      list.push({ id: task.containerId!, task });
      byNode.set(task.nodeId, list);
    }
  }
  return { nodes: nodes.filter((n) => byNode.has(n.id)).sort((a, b) => a.hostname.localeCompare(b.hostname, undefined, { numeric: true })), containers: byNode, notRunning };
}

export const isSwarmRef = (ref: string) => /^(service|task|node)\//.test(ref);

/** The nodes and, per node, the container ids to run a command on: every node's (--all-nodes) or the tasks'. */
export async function nodeTargets(ctx: Context, refs: string[], allNodesFlag: boolean): Promise<{ nodes: SwarmNode[]; idsOn: (node: SwarmNode) => string[]; notRunning: string[] }> {
  const manager = await ctx.engine();
  if (allNodesFlag) {
    if (refs.length) throw new InvalidArgument('--all-nodes takes no names: it covers every container of every node.', 'Name services instead: service/NAME.');
    return { nodes: await allNodes(manager), idsOn: () => [], notRunning: [] };
  }
  // node/NAME: every container of that node, as --all-nodes gives it, for the nodes named
  if (refs.some((r) => r.startsWith('node/'))) {
    if (!refs.every((r) => r.startsWith('node/'))) throw new InvalidArgument('Name nodes (node/NAME) or services and tasks in one run, not both.', 'Run the two apart.');
    return { nodes: await namedNodes(manager, refs), idsOn: () => [], notRunning: [] };
  }
  const found = await runningTasksByNode(manager, refs);
  if (!found.nodes.length) {
    throw new Unsupported(`No task of ${found.notRunning.join(', ')} is running, so there is nothing to show.`, `See why with \`porthole why service/${found.notRunning[0]?.split(' ')[0] ?? 'NAME'}\`.`);
  }
  return { nodes: found.nodes, idsOn: (node) => (found.containers.get(node.id) ?? []).map((c) => c.id), notRunning: found.notRunning };
}

/** Nodes that did not answer, as one sentence each, for stderr. */
export function missingNodes<T>(answers: NodeAnswer<T>[]): string[] {
  return answers.filter((a) => a.unavailable !== undefined).map((a) => (a.unavailable!.includes(a.node) ? `${a.unavailable}.` : `node ${a.node}: ${a.unavailable}.`));
}

/** Thrown after the answers are printed when some node is missing: the exit code says the answer is partial. */
export function partial<T>(answers: NodeAnswer<T>[]): EngineUnavailable | undefined {
  const missing = answers.filter((a) => a.unavailable !== undefined);
  if (!missing.length) return undefined;
  return new EngineUnavailable(`${missing.length} of ${answers.length} nodes did not answer (${missing.map((a) => a.node).join(', ')}): the rest is shown.`);
}


/** The nodes node/NAME arguments name, by hostname or id prefix, in hostname order, each once. */
export async function namedNodes(manager: EngineClient, refs: string[]): Promise<SwarmNode[]> {
  const all = await allNodes(manager);
  const picked = new Map<string, SwarmNode>();
  for (const ref of refs) {
    const name = parseSwarmName(ref);
    if (!name || name.kind !== 'node') throw new InvalidArgument(`${JSON.stringify(ref)} is not node/NAME.`);
    const found = all.find((n) => n.hostname === name.node) ?? all.find((n) => n.id.startsWith(name.node));
    if (!found) throw new NotFound(`No such node: ${name.node}.`, 'List nodes with `docker node ls`.');
    picked.set(found.id, found);
  }
  return [...picked.values()].sort((a, b) => a.hostname.localeCompare(b.hostname, undefined, { numeric: true }));
}
