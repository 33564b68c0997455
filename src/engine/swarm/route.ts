// A service/ or task/ name resolved once to the node engine that runs it and the container's id there; the
// command then runs as it does on one host, against that node's engine. No command re-implements anything for
// swarms: main.ts hands the routed context and arguments to the command's own run(). Light on purpose: main.ts
// loads it for any service/ or task/ argument, also for the commands that take such names themselves (why, logs).
import type { Context } from '../../context.js';
import type { Parsed } from '../../cli/args.js';
import { InvalidArgument } from '../../errors.js';
import { parseSwarmName } from './names.js';
import { CONTAINER_ARG } from '../../cli/container-arg.js';

/** Whether an argument names a service's or task's container (CONTAINER:PATH included, for cp). */
export const SWARM_ARG = /^(service|task)\//;

/** The one sentence for node/NAME given to a command on one container. */
export const NODE_TAKERS = (command: string) =>
  `${command} works on one container, not a node: node/NAME goes with ps, stats and why; name the container's task (task/ID, service/NAME.SLOT) or use -H with the node's engine.`;

/**
 * For a command on one container named service/NAME[.SLOT|@NODE] or task/ID: the context whose engine is that
 * container's node's, and the arguments with the name replaced by the container's id, and which id stands for
 * which name (main.ts puts the name back into what the command says). Anything else is handed back as it came.
 */
export async function routeToNode<P extends Parsed<any>>(command: string, ctx: Context, parsed: P): Promise<[Context, P, { id: string; name: string }?]> {
  const where = CONTAINER_ARG[command];
  if (!where) return [ctx, parsed];
  const named = where === 'first' ? parsed.args[0] : parsed.args.find((a: string) => /^node\/[^:]*:/.test(a));
  if (typeof named === 'string' && /^node\//.test(named)) throw new InvalidArgument(NODE_TAKERS(command));
  const index = where === 'first' ? 0 : parsed.args.findIndex((a: string) => SWARM_ARG.test(a) && a.includes(':'));
  const arg: string | undefined = parsed.args[index];
  if (index < 0 || !arg || !SWARM_ARG.test(arg)) return [ctx, parsed];
  const colon = where === 'cp' ? arg.indexOf(':') : -1;
  const text = colon < 0 ? arg : arg.slice(0, colon);
  const name = parseSwarmName(text);
  if (!name || name.kind === 'node') throw new InvalidArgument(`${command} takes a container, service/NAME[.SLOT|@NODE] or task/ID, not ${JSON.stringify(text)}.`);
  const [{ resolveNodeContainer }, { taskMeaning }] = await Promise.all([import('./node-container.js'), import('../../report/swarm.js')]);
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
  return [routed, { ...parsed, args }, { id: found.container.id, name: text }];
}
