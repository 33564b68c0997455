// The shape of a command module: a spec (flags, usage), run (data in, data out), and render (data to text).
import type { Context } from '../context.js';
import type { CommandSpec, OptionDef, Parsed } from './args.js';

export interface CommandModule<O extends Record<string, OptionDef>, R = unknown> {
  spec: CommandSpec<O>;
  /** Does the work and returns data; streaming commands write their bytes to ctx.stdout as they come. */
  run(ctx: Context, parsed: Parsed<O>): Promise<R>;
  /** Turns the data into what stdout shows; absent for commands that stream. */
  render?(result: R, parsed: Parsed<O>, ctx: Context): string;
  /** The process exit code for a result (default 0), e.g. `shell -- CMD` passes CMD's code through. */
  exitCode?(result: R): number;
}
