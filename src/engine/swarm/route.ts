// A service/ or task/ name resolved once to the node engine that runs it and the container's id there; the
// command then runs as it does on one host, against that node's engine. No command re-implements anything for
// swarms: main.ts hands the routed context and arguments to the command's own run().
import type { Context } from '../../context.js';
import type { Parsed } from '../../cli/args.js';
import type { ContainerDetails, EngineClient, SwarmNode, SwarmService, SwarmTask } from '../types.js';
import { Ambiguous, InvalidArgument, NotFound, Unsupported } from '../../errors.js';
import { parseSwarmName, type SwarmName } from './names.js';
import { connectNode } from './reach.js';
import { selectSwarm, swarmApi, taskMeaning } from '../../report/swarm.js';

export interface NodeContainer {
  /** The node's engine (the caller closes it). */
  engine: EngineClient;
  node: SwarmNode;
  task: SwarmTask;
  service: SwarmService;
  container: ContainerDetails;
  /** web.2 or web@node */
  taskName: string;
}

const RUNNING = (t: SwarmTask) => t.state === 'running' && t.desiredState === 'running';
const newestFirst = (a: SwarmTask, b: SwarmTask) => (b.timestamp || b.createdAt).localeCompare(a.timestamp || a.createdAt);

/** The one task a name means for a command on one container: the slot's running task, else its newest with a container. */
export function pickTask(selected: SwarmTask[], name: Extract<SwarmName, { kind: 'service' | 'task' }>, service: SwarmService, nodes: Map<string, SwarmNode>): SwarmTask {
  if (name.kind === 'task') return selected[0]!;
  const text = `service/${name.service}${name.slot !== undefined ? `.${name.slot}` : name.node !== undefined ? `@${name.node}` : ''}`;
  if (!selected.length) {
    throw new NotFound(
      name.slot !== undefined ? `Service ${service.name} has no task in slot ${name.slot}.`
        : name.node !== undefined ? `Service ${service.name} has no task on node ${name.node}.`
        : `Service ${service.name} has no tasks.`,
      `See its tasks with \`docker service ps ${service.name}\`.`,
    );
  }
  // service/NAME on its own means one container only when the service has one slot (or one node) in use
  const keyOf = (t: SwarmTask) => (t.slot !== undefined ? `${service.name}.${t.slot}` : `${service.name}@${nodes.get(t.nodeId)?.hostname ?? t.nodeId.slice(0, 12)}`);
  const keys = [...new Set(selected.filter((t) => t.desiredState === 'running' || t.containerId).map(keyOf))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (name.slot === undefined && name.node === undefined && keys.length > 1) {
    const choices = keys.map((k) => `service/${k}`);
    throw new Ambiguous(`${text} has ${keys.length} replicas: name one of ${choices.join(', ')}.`, choices, 'Or name a task: task/ID (`docker service ps --no-trunc`).');
  }
  const running = selected.filter(RUNNING).sort(newestFirst);
  if (running.length) return running[0]!;
  const withContainer = selected.filter((t) => t.containerId).sort(newestFirst);
  if (withContainer.length) return withContainer[0]!;
  const newest = [...selected].sort(newestFirst)[0]!;
  throw new Unsupported(`${text}'s newest task ${newest.id.slice(0, 12)} has no container (${newest.state}${taskMeaning(newest) ? `: ${taskMeaning(newest)}` : ''}).`, `Explain it with \`porthole why ${text}\`.`);
}

/** The manager's answer (which task, which node), then the node's engine asked for that task's container. */
export async function resolveNodeContainer(manager: EngineClient, name: Extract<SwarmName, { kind: 'service' | 'task' }>, env: NodeJS.ProcessEnv): Promise<NodeContainer> {
  const api = swarmApi(manager);
  const { service, selected, nodes: nodeList } = await selectSwarm(api, name);
  const nodes = new Map(nodeList.map((n) => [n.id, n]));
  const task = pickTask(selected, name, service, nodes);
  if (!task.containerId) {
    throw new Unsupported(`Task ${task.id.slice(0, 12)} has no container (${task.state}${taskMeaning(task) ? `: ${taskMeaning(task)}` : ''}).`, `Explain it with \`porthole why task/${task.id.slice(0, 12)}\`.`);
  }
  const node = nodes.get(task.nodeId);
  if (!node) throw new NotFound(`Task ${task.id.slice(0, 12)} runs on node ${task.nodeId.slice(0, 12)}, which the manager no longer knows.`);
  const containerId = task.containerId;
  const { engine, answer } = await connectNode(node, env, (e) => e.inspectContainer(containerId)).catch((err) => {
    if (err instanceof NotFound) {
      throw new NotFound(`Task ${task.id.slice(0, 12)}'s container is gone from node ${node.hostname} (the task history keeps tasks longer than the node keeps containers).`, `Explain the task with \`porthole why task/${task.id.slice(0, 12)}\`.`);
    }
    throw err;
  });
  const taskName = task.slot !== undefined ? `${service.name}.${task.slot}` : `${service.name}@${node.hostname}`;
  return { engine, node, task, service, container: answer, taskName };
}

/** Whether an argument names a service's or task's container (CONTAINER:PATH included, for cp). */
export const SWARM_ARG = /^(service|task)\//;

/** Which argument of each command names its container; cp's is whichever side has CONTAINER:PATH. */
const CONTAINER_ARG: Record<string, 'first' | 'cp'> = {
  shell: 'first', ls: 'first', cat: 'first', diff: 'first', find: 'first', grep: 'first', du: 'first', export: 'first', cp: 'cp',
};

/**
 * For a command on one container named service/NAME[.SLOT|@NODE] or task/ID: the context whose engine is that
 * container's node's, and the arguments with the name replaced by the container's id. Anything else is handed
 * back as it came.
 */
export async function routeToNode<P extends Parsed<any>>(command: string, ctx: Context, parsed: P): Promise<[Context, P]> {
  const where = CONTAINER_ARG[command];
  if (!where) return [ctx, parsed];
  const index = where === 'first' ? 0 : parsed.args.findIndex((a: string) => SWARM_ARG.test(a) && a.includes(':'));
  const arg: string | undefined = parsed.args[index];
  if (index < 0 || !arg || !SWARM_ARG.test(arg)) return [ctx, parsed];
  const colon = where === 'cp' ? arg.indexOf(':') : -1;
  const text = colon < 0 ? arg : arg.slice(0, colon);
  const name = parseSwarmName(text);
  if (!name || name.kind === 'node') throw new InvalidArgument(`${command} takes a container, service/NAME[.SLOT|@NODE] or task/ID, not ${JSON.stringify(text)}.`);
  const found = await resolveNodeContainer(await ctx.engine(), name, ctx.env);
  // registered first, so it runs after whatever the command leaves to clean up on that node (newest first)
  ctx.cleanup.add(`close the connection to node ${found.node.hostname}`, () => found.engine.close());
  // said when it matters: an interactive session, or a copy instead of the container itself
  if (command === 'shell' && (!parsed.hasRest || !found.container.state.running)) {
    const state = found.container.state;
    ctx.notice(
      state.running
        ? `porthole: ${text} is task ${found.task.id.slice(0, 12)} (${found.taskName}) on node ${found.node.hostname}.`
        : `porthole: ${text}: task ${found.task.id.slice(0, 12)} (${found.taskName}) on node ${found.node.hostname} is ${found.task.state}${taskMeaning(found.task) ? ` (${taskMeaning(found.task)})` : ''}; its container is entered through a copy there.`,
    );
  }
  const routed: Context = Object.create(ctx, { engine: { value: async () => found.engine, enumerable: true } });
  const args = [...parsed.args];
  args[index] = colon < 0 ? found.container.id : `${found.container.id}${arg.slice(colon)}`;
  return [routed, { ...parsed, args }];
}
