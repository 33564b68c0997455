// The ways into a Docker container, moved here from the shell command: exec for a running container with a
// shell, a snapshot for one that is not running, the toolbox sidecar for one without a shell (or with --toolbox).
import type { Context } from '../context.js';
import type { ContainerDetails, EngineClient } from '../engine/types.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument, NotFound, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import type { EnterRequest } from './types.js';

/** The sidecar way (issue 5): for containers without a shell, or when --toolbox names an image. */
async function viaToolbox(ctx: Context, target: ContainerDetails, request: EnterRequest): Promise<number> {
  const { enterToolbox } = await import('./toolbox.js');
  return enterToolbox(ctx, target, request);
}

/** `shell CONTAINER`: picks the way by the container's state and whether it has a shell. */
export async function enterContainer(ctx: Context, ref: string, request: EnterRequest): Promise<number> {
  const engine = await ctx.engine();
  // Load the ways' modules while the engine answers, not after.
  const chooser = import('./choose-shell.js');
  const execWay = import('./exec.js');
  execWay.catch(() => undefined);
  // With a command, whether the container has a shell picks the way (exec, or the toolbox's). Ask at once, by the
  // name as given, while the engine resolves it (the engine reads names and id prefixes as we do); a "no" is
  // asked again by id below, in case the name was what failed.
  const shellByRef = request.cmd && !request.toolboxImage ? chooser.then(({ hasShell }) => hasShell(engine, ref)) : undefined;
  shellByRef?.catch(() => undefined);
  const target = await settled(engine, await resolveContainer(engine, ref));
  // an image (shell IMAGE): a throwaway container made from it
  if (target.isImage) return (await import('./image.js')).enterImage(ctx, target, request);
  if (request.entrypoint) throw new InvalidArgument('--entrypoint is for images: a container already ran its entrypoint.', 'Leave out --entrypoint.');
  const name = escapeName(target.name);
  const state = target.state.status;

  if (target.state.paused || state === 'paused') {
    throw new Unsupported(`${name} is paused, and porthole never unpauses a container.`, `Run \`docker unpause ${name}\` first if you mean to.`);
  }
  if (state === 'removing') throw new NotFound(`${name} is being removed.`);

  if (request.toolboxImage) return await viaToolbox(ctx, target, request);

  const { chooseShell, hasShell } = await chooser;
  // A crash-looping container (restarting) is entered like a stopped one: a snapshot that holds still.
  const running = (target.state.running || state === 'running') && !target.state.restarting && state !== 'restarting';
  let cmd = request.cmd;
  if (!cmd) {
    const choice = await chooseShell(engine, target.id, request.user ?? target.config.user);
    if (!choice.shell) return await viaToolbox(ctx, target, request);
    cmd = [choice.shell];
  } else if (!((await shellByRef) || (await hasShell(engine, target.id)))) {
    return await viaToolbox(ctx, target, request);
  }

  if (running) {
    const { enterByExec, StoppedMeanwhile } = await execWay;
    try {
      return await enterByExec(ctx, target, { ...request, cmd });
    } catch (err) {
      if (!(err instanceof StoppedMeanwhile)) throw err;
      // It stopped (or a restart loop caught it) between the look and the exec: look again.
      const now = await resolveContainer(engine, target.id);
      if (now.state.paused) throw new Unsupported(`${name} is paused, and porthole never unpauses a container.`, `Run \`docker unpause ${name}\` first if you mean to.`);
      if (now.state.running && !now.state.restarting) throw err;
      const { enterBySnapshot } = await import('./snapshot.js');
      return await enterBySnapshot(ctx, now, { ...request, cmd });
    }
  }
  const { enterBySnapshot } = await import('./snapshot.js');
  return await enterBySnapshot(ctx, target, { ...request, cmd });
}


/**
 * A container the engine keeps restarting is "running" for a moment each time it comes back, and an exec that
 * joins it then dies with it. One that restarted and came back under a second ago is looked at again once it has
 * run for a second: if it went down or came back anew meanwhile, it is crash-looping, and is entered like a stopped
 * one. A container that restarted once and stays up is entered as it is, a second later.
 */
async function settled(engine: EngineClient, target: ContainerDetails): Promise<ContainerDetails> {
  const up = (c: ContainerDetails) => c.state.running && !c.state.restarting && c.state.status !== 'restarting';
  const upFor = Date.now() - Date.parse(target.state.startedAt);
  if (!up(target) || target.restartCount === 0 || !(upFor >= 0 && upFor < 1000)) return target;
  await new Promise((r) => setTimeout(r, 1000 - upFor));
  let now = await resolveContainer(engine, target.id);
  if (up(now) && now.state.startedAt === target.state.startedAt) return now;
  // down, or up again since: a restart loop; its last exit code is seen while it is down (a few looks)
  for (let i = 0; i < 5 && up(now); i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await resolveContainer(engine, target.id);
  }
  return { ...now, state: { ...now.state, running: false, restarting: true, exitCode: up(now) ? -1 : now.state.exitCode } };
}
