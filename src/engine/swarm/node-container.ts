// Which container a service/ or task/ name means for a command on one container, and its node's engine: the
// manager says which task and where, then that node's engine is asked for the task's container.
import type { ContainerDetails, EngineClient, SwarmNode, SwarmService, SwarmTask } from '../types.js';
import { Ambiguous, NotFound, Unsupported } from '../../errors.js';
import type { SwarmName } from './names.js';
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

