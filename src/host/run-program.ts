// Runs a program of the host with porthole's own stdin, stdout, stderr and terminal (so a TTY passes through
// untouched) and gives back its exit status as a shell would: its code, 128+N when signal N ended it. A program
// that is not there is one sentence and 127, one that cannot be run 126, as in a shell.
import type { spawn as Spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Context } from '../context.js';
import { CannotRun, ProgramNotFound } from '../errors.js';
import { escapeName } from '../render/escape.js';

export interface HostProgram {
  file: string;
  args: string[];
  /** What the person asked to run, for the sentences (nsenter runs PROGRAM through /usr/bin/nsenter). */
  shownAs?: string;
}

let childProcess: Promise<typeof Spawn> | undefined;

/**
 * Loads node:child_process (and node:net, node:stream with it: about 10 ms) without waiting for it. Called as
 * soon as the engine's request is on its way, so the loading overlaps the engine's answer instead of coming first.
 */
export function preloadSpawn(): Promise<typeof Spawn> {
  childProcess ??= new Promise((resolve) => setImmediate(() => resolve(import('node:child_process').then((m) => m.spawn))));
  return childProcess;
}

export async function runHostProgram(ctx: Context, program: HostProgram): Promise<number> {
  const shown = escapeName(program.shownAs ?? program.file);
  const spawn = await preloadSpawn();
  return new Promise((resolve, reject) => {
    const child = spawn(program.file, program.args, { stdio: 'inherit', env: ctx.env });
    // As a shell waits for its job: Ctrl-C and the like reach the program through the terminal, so porthole only
    // waits; a SIGTERM or SIGHUP sent to porthole alone is passed on. The program's status stays porthole's.
    const release = ctx.foreground?.((signal) => {
      if (signal !== 'SIGINT' || !ctx.stdinIsTTY) child.kill(signal);
    });
    const drop = () => release?.();
    child.once('error', (err: NodeJS.ErrnoException) => {
      drop();
      if (err.code === 'ENOENT') reject(new ProgramNotFound(`${shown}: no such program on this host.`, 'porthole runs host programs here: install it, or give its full path.'));
      else if (err.code === 'EACCES') reject(new CannotRun(`${shown}: permission denied: it is not an executable this user may run.`));
      else reject(err);
    });
    child.once('close', (code, signal) => {
      drop();
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

/** Replaces every `{}` in the words with the host PID, as find -exec does with names. */
export function substitutePid(words: string[], hostPid: number): string[] {
  return words.map((w) => w.split('{}').join(String(hostPid)));
}
