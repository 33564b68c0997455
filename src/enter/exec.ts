// The exec way: a new process inside a running container that has a shell (docker exec), attached through
// runAttached, its exit code passed through.
import type { Context } from '../context.js';
import type { ContainerDetails, EngineClient } from '../engine/types.js';
import { EngineError, EngineUnavailable, Failure, NotFound } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { runAttached } from './attach.js';
import type { EnterRequest } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Environment for the session: the user's -e entries, plus the user's TERM for a TTY when none was given. */
export function sessionEnv(request: EnterRequest, userEnv: NodeJS.ProcessEnv): string[] {
  const env = [...request.env];
  if (request.tty && !env.some((e) => e.startsWith('TERM='))) env.push(`TERM=${userEnv.TERM || 'xterm'}`);
  return env;
}

/** Resolves when the exec is no longer running; polls gently, so short commands never pay for it. */
async function execEnded(engine: EngineClient, execId: string, signal: AbortSignal): Promise<void> {
  let delay = 300;
  while (!signal.aborted) {
    await sleep(delay);
    if (signal.aborted) return new Promise(() => undefined);
    const state = await engine.inspectExec(execId).catch((err) => (err instanceof NotFound ? { running: false } : undefined));
    if (state && !state.running) return;
    delay = Math.min(delay * 2, 2000);
  }
  return new Promise(() => undefined);
}

/** The exec's exit code once the engine has recorded it (ExitCode is null for a moment after the stream ends). */
export async function execExitCode(engine: EngineClient, execId: string, target: ContainerDetails): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    let state;
    try {
      state = await engine.inspectExec(execId);
    } catch (err) {
      if (err instanceof NotFound) {
        throw new Failure(`The container ${target.name} went away during the session, so the command's exit code is unknown.`);
      }
      if (err instanceof EngineUnavailable) {
        // docker exec's way too: without the engine nothing can stop the command, so say it may live on.
        throw new EngineUnavailable(
          `The engine went away during the session, so the command's exit code is unknown and the command may still be running in ${escapeName(target.name)}.`,
        );
      }
      throw err;
    }
    if (!state.running && state.exitCode !== null) return state.exitCode;
    if (Date.now() > deadline) {
      throw new Failure(`The engine did not report the command's exit code in ${target.name} within 10 s.`, 'Check the container with `docker inspect`.');
    }
    await sleep(delay);
  }
}

/** Runs request.cmd (already resolved to a shell when none was given) in the running container. */
/** The container stopped (or began restarting) between being looked at and the exec: nothing ran yet. */
export class StoppedMeanwhile extends Failure {}

export async function enterByExec(ctx: Context, target: ContainerDetails, request: EnterRequest & { cmd: string[] }): Promise<number> {
  const engine = await ctx.engine();
  let execId: string;
  try {
    execId = await engine.createExec(target.id, {
      cmd: request.cmd,
      user: request.user,
      workingDir: request.workdir,
      env: sessionEnv(request, ctx.env),
      tty: request.tty,
      // stdin is /dev/null: the command gets none, as `docker exec` without -i; it reads end of input either way
      attachStdin: !ctx.stdinIsNull,
      detachKeys: request.detachKeys,
    });
  } catch (err) {
    if (err instanceof EngineError && /is restarting|is not running|is paused/i.test(err.message)) throw new StoppedMeanwhile(err.message);
    throw err;
  }
  const attached = await engine.startExec(execId, { tty: request.tty });
  const outcome = await runAttached(ctx, attached, {
    tty: request.tty,
    stdin: !ctx.stdinIsNull,
    resize: (rows, cols) => engine.resizeExec(execId, rows, cols),
    detachKeys: request.detachKeys,
    exited: (signal) => execEnded(engine, execId, signal),
  });
  if (outcome.detached) {
    ctx.notice(`\r\nporthole: detached; the command keeps running in ${target.name}.`);
    return 0;
  }
  return execExitCode(engine, execId, target);
}
