// `why service/NAME`: which tasks failed, on which nodes, when and how, each slot's task history, and for the
// latest failed task the single-container report, read from its own node's engine. What the manager alone knows
// (tasks, their errors) is given even when no node can be reached.
import type { EngineClient, SwarmManagerApi, SwarmNode, SwarmService, SwarmTask } from '../engine/types.js';
import { connectNode } from '../engine/swarm/reach.js';
import type { SwarmName } from '../engine/swarm/names.js';
import { Ambiguous, EngineError, NotFound, Unsupported } from '../errors.js';
import { exitMeaning } from './findings.js';
import { collectReport, dropEarlyReads, startEarlyReads, type EarlyReads, type WhyReport } from './collect.js';

export interface SwarmTaskFact {
  task: string;
  /** web.2, or web@node for a global service's task */
  name: string;
  slot: number | null;
  node: string;
  nodeState: string;
  state: string;
  desiredState: string;
  when: string;
  err: string | null;
  exitCode: number | null;
  /** The exit code or the error in words. */
  meaning: string | null;
  containerId: string | null;
  /** The node's engine says the kernel killed it for memory (known only for the task whose container was read). */
  oomKilled: boolean;
}

export interface SwarmWhyReport {
  kind: 'swarm-service';
  service: { id: string; name: string; image: string; mode: string; replicas: number | null };
  /** What the name narrowed the report to ("slot 2", "node n-1", "task ID"); null for the whole service. */
  selection: string | null;
  /** Running tasks among those reported. */
  running: number;
  /** Failed and rejected tasks, newest first. */
  failures: SwarmTaskFact[];
  /** Every task the manager keeps, by slot (or node), newest first in each. */
  history: { slot: string; tasks: SwarmTaskFact[] }[];
  /** Nodes holding tasks of the service that the manager does not see Ready, with those tasks. */
  nodesDown: { node: string; state: string; tasks: string[] }[];
  /** The newest failed task that ran a container, seen from its node. */
  latest: { task: string; node: string; report: WhyReport | null; unavailable: string | null } | null;
}

const FAILED = new Set(['failed', 'rejected']);

/** The error in words: "No such image" rejections, non-zero exits, OOM. */
export function taskMeaning(t: SwarmTask): string | null {
  if (/no such image/i.test(t.err)) return `rejected: the image is not on this node and could not be pulled (${t.err})`;
  if (t.state === 'rejected') return `rejected by the node: ${t.err || t.message}`;
  const exit = /non-zero exit \((\d+)\)/.exec(t.err);
  const code = t.exitCode ?? (exit ? Number(exit[1]) : undefined);
  if (code !== undefined && code !== 0) return exitMeaning(code, false).words;
  return t.err || null;
}

function fact(t: SwarmTask, service: SwarmService, nodes: Map<string, SwarmNode>): SwarmTaskFact {
  const node = nodes.get(t.nodeId);
  const nodeName = node?.hostname || (t.nodeId ? t.nodeId.slice(0, 12) : '(not assigned)');
  const exit = /non-zero exit \((\d+)\)/.exec(t.err);
  return {
    task: t.id,
    name: t.slot !== undefined ? `${service.name}.${t.slot}` : `${service.name}@${nodeName}`,
    slot: t.slot ?? null,
    node: nodeName,
    nodeState: node?.state ?? 'unknown',
    state: t.state,
    desiredState: t.desiredState,
    when: t.timestamp,
    err: t.err || null,
    exitCode: t.exitCode ?? (exit ? Number(exit[1]) : null),
    meaning: taskMeaning(t),
    containerId: t.containerId ?? null,
    oomKilled: false,
  };
}

export function swarmApi(engine: EngineClient): SwarmManagerApi {
  if (!engine.swarm) throw new Unsupported('This engine has no swarm: service/, task/ and node/ names need a Docker swarm manager.');
  return engine.swarm;
}

/** The service a name means, on the manager: by exact name, else by id prefix. */
export async function findService(api: SwarmManagerApi, name: string): Promise<SwarmService> {
  const services = await api.listServices({ name: [name] }).catch(notManager);
  const exact = services.find((s) => s.name === name);
  if (exact) return exact;
  throw new NotFound(`No such service: ${name}.`, 'List services with `docker service ls`.');
}

/** The tasks a name covers: all of the service's, one slot's, or one node's (a global service). */
export function selectTasks(tasks: SwarmTask[], name: SwarmName, nodes: Map<string, SwarmNode>): SwarmTask[] {
  if (name.kind !== 'service') return tasks;
  if (name.slot !== undefined) return tasks.filter((t) => t.slot === name.slot);
  if (name.node !== undefined) return tasks.filter((t) => nodes.get(t.nodeId)?.hostname === name.node || t.nodeId === name.node);
  return tasks;
}

/** What a service/ or task/ name selects, from the manager: the service, its tasks, those the name covers, the nodes. */
export interface SwarmSelection {
  service: SwarmService;
  tasks: SwarmTask[];
  selected: SwarmTask[];
  nodes: SwarmNode[];
  /** Only some of the service's tasks (a slot, a node, a task). */
  narrowed: boolean;
}

export async function selectSwarm(api: SwarmManagerApi, name: Extract<SwarmName, { kind: 'service' | 'task' }>): Promise<SwarmSelection> {
  if (name.kind === 'task') {
    // a task id prefix, as for containers: exactly one task must match
    const [matches, nodes] = await Promise.all([api.listTasks({ id: [name.id] }).catch(notManager), api.listNodes()]);
    const found = matches.filter((t) => t.id.startsWith(name.id));
    if (!found.length) throw new NotFound(`No such task: ${name.id}.`, 'List tasks with `docker service ps SERVICE --no-trunc`.');
    if (found.length > 1) {
      const described = found.map((t) => t.id.slice(0, 12));
      throw new Ambiguous(`"task/${name.id}" matches ${found.length} tasks: ${described.join(', ')}.`, described, 'Give more characters of the id.');
    }
    const task = found[0]!;
    const [service] = (await api.listServices({ id: [task.serviceId] })).filter((x) => x.id === task.serviceId);
    if (!service) throw new NotFound(`Task ${task.id.slice(0, 12)}'s service is gone.`);
    const tasks = (await api.listTasks({ service: [service.id] })).filter((t) => t.serviceId === service.id);
    return { service, tasks, selected: [task], nodes, narrowed: true };
  }
  // the three questions at once: the tasks filter takes the service's name too (kept to the service's id below)
  const [service, namedTasks, nodes] = await Promise.all([
    findService(api, name.service),
    api.listTasks({ service: [name.service] }).catch(() => undefined),
    api.listNodes().catch(() => [] as SwarmNode[]),
  ]);
  const tasks = namedTasks?.filter((t) => t.serviceId === service.id) ?? (await api.listTasks({ service: [service.id] }));
  const narrowed = name.slot !== undefined || name.node !== undefined;
  return { service, tasks, selected: selectTasks(tasks, name, new Map(nodes.map((n) => [n.id, n]))), nodes, narrowed };
}

/** A swarm request refused because the engine is no manager: said as such (exit 6), with where to point. */
export function notManager(err: unknown): never {
  if (err instanceof EngineError && /not a swarm manager|swarm mode/i.test(err.message)) {
    throw new Unsupported(`The engine porthole reached is not a swarm manager (${err.message.replace(/\.$/, '')}).`, 'Point -H/--context at a manager node.');
  }
  throw err;
}

export async function collectSwarmReport(
  manager: EngineClient,
  name: Extract<SwarmName, { kind: 'service' | 'task' }>,
  opts: { showSecrets: boolean; lines: number; env: NodeJS.ProcessEnv },
): Promise<SwarmWhyReport> {
  const api = swarmApi(manager);
  const { service, selected, nodes: nodeList, narrowed } = await selectSwarm(api, name);
  const selection = !narrowed ? null
    : name.kind === 'task' ? `task ${selected[0]!.id.slice(0, 12)}`
    : name.slot !== undefined ? `slot ${name.slot}` : `node ${name.node}`;
  const nodes = new Map(nodeList.map((n) => [n.id, n]));
  const tasks = [...selected]
    .sort((a, b) => (b.timestamp || b.createdAt).localeCompare(a.timestamp || a.createdAt));
  const facts = tasks.map((t) => fact(t, service, nodes));
  const bySlot = new Map<string, SwarmTaskFact[]>();
  for (const f of facts) {
    const key = f.slot !== null ? `${service.name}.${f.slot}` : `${service.name}@${f.node}`;
    bySlot.set(key, [...(bySlot.get(key) ?? []), f]);
  }
  const failures = facts.filter((f) => FAILED.has(f.state));
  // task/ID: that task's container, whatever its state; otherwise the newest failed one
  const latestTask = name.kind === 'task' ? tasks.find((t) => t.containerId) : tasks.find((t) => FAILED.has(t.state) && t.containerId);
  let latest: SwarmWhyReport['latest'] = null;
  if (latestTask) {
    const node = nodes.get(latestTask.nodeId);
    const nodeName = node?.hostname ?? latestTask.nodeId;
    latest = { task: latestTask.id, node: nodeName, report: null, unavailable: null };
    try {
      if (!node) throw new NotFound(`The manager no longer knows node ${latestTask.nodeId}.`);
      const containerId = latestTask.containerId!;
      let early: EarlyReads | undefined;
      // changes and logs need only the id: they run while the node's engine is asked for the container
      const { engine, answer: target } = await connectNode(node, opts.env, async (e) => {
        const reads = startEarlyReads(e, containerId, opts.lines);
        try {
          const inspected = await e.inspectContainer(containerId);
          early = reads;
          return inspected;
        } catch (err) {
          dropEarlyReads(reads);
          throw err;
        }
      });
      try {
        latest.report = await collectReport(engine, target, { showSecrets: opts.showSecrets, lines: opts.lines }, early);
        // the manager reads an OOM kill as a bare exit code: the node's engine knows the kernel killed it
        const failed = facts.find((f) => f.task === latestTask.id);
        if (failed && latest.report.happened.oomKilled) {
          failed.oomKilled = true;
          failed.meaning = exitMeaning(failed.exitCode ?? latest.report.happened.exitCode ?? 137, true).words;
        }
      } finally {
        engine.close();
      }
    } catch (err) {
      // the manager's facts stand on their own: say why the node's side is missing
      latest.unavailable = (err as Error).message;
    }
  }
  return {
    kind: 'swarm-service',
    service: { id: service.id, name: service.name, image: service.image, mode: service.mode, replicas: service.replicas ?? null },
    selection,
    running: tasks.filter((t) => t.state === 'running' && t.desiredState === 'running').length,
    nodesDown: nodeList
      .filter((n) => n.state !== 'ready' && tasks.some((t) => t.nodeId === n.id && t.state === 'running'))
      .map((n) => ({ node: n.hostname, state: n.state, tasks: tasks.filter((t) => t.nodeId === n.id && t.state === 'running').map((t) => t.id) })),
    failures,
    history: [...bySlot.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([slot, list]) => ({ slot, tasks: list })),
    latest,
  };
}
