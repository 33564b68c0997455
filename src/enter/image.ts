// `shell IMAGE`: a throwaway container made from the image, with a shell (the login shell from its /etc/passwd,
// else bash, else sh), or the toolbox's for an image without one; removed afterwards (runDebugContainer's
// cleanup). The image's entrypoint is not run unless --entrypoint asks for it: then the entrypoint runs, with the
// command after -- or the image's CMD, as `docker run --rm IMAGE` would.
import type { Context } from '../context.js';
import type { ContainerDetails } from '../engine/types.js';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';
import type { EnterRequest } from './types.js';

export async function enterImage(ctx: Context, target: ContainerDetails, request: EnterRequest): Promise<number> {
  const engine = await ctx.engine();
  const name = escapeName(target.name);
  if (request.keep) throw new InvalidArgument('--keep keeps the snapshot of a stopped container; an image needs none.', 'Leave out --keep.');
  const { debugContainerSpec, runDebugContainer } = await import('./snapshot.js');
  if (request.entrypoint) {
    const entrypoint = target.config.entrypoint ?? [];
    if (!entrypoint.length) throw new InvalidArgument(`Image ${name} has no entrypoint to run.`, `Name the program after --: porthole shell ${name} -- PROGRAM.`);
    const cmd = [...entrypoint, ...(request.cmd ?? target.config.cmd ?? [])];
    ctx.notice(`porthole: running the entrypoint of image ${name} in a throwaway container; it is removed afterwards.`);
    return runDebugContainer(ctx, engine, debugContainerSpec(target, target.imageId, { ...request, cmd }, ctx.env), request);
  }
  const { chooseShell, hasShell } = await import('./choose-shell.js');
  let cmd = request.cmd;
  let shellFound = true;
  if (request.toolboxImage) shellFound = false;
  else if (!cmd) {
    const choice = await chooseShell(engine, target.id, request.user ?? target.config.user);
    if (choice.shell) cmd = [choice.shell];
    else shellFound = false;
  } else shellFound = await hasShell(engine, target.id);
  if (!shellFound) {
    const { enterToolbox } = await import('./toolbox.js');
    return enterToolbox(ctx, target, request);
  }
  ctx.notice(`porthole: ${name} is an image: working in a throwaway container made from it (its entrypoint not run); it is removed afterwards.`);
  return runDebugContainer(ctx, engine, debugContainerSpec(target, target.imageId, { ...request, cmd: cmd! }, ctx.env), request);
}
