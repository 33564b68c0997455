// `porthole tool CONTAINER [--pid N | --match REGEX] -- PROGRAM [ARGS...]`: a program of the host (strace, lsof,
// gdb, perf, cat /proc/{}/...) run against a process of the container, `{}` in its arguments becoming that
// process's host PID. Processes in a container are host processes; porthole finds the right one (the main
// process, a PID inside, or a command line) so the user does not. The program's exit code is porthole's.
import { defineCommand, refuseFlagAsCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument } from '../errors.js';
import { runHostProgram, substitutePid } from '../host/run-program.js';
import { findTargetProcess, processChoice } from '../host/target-process.js';

export const spec = defineCommand({
  name: 'tool',
  summary: "Run a host program (strace, lsof, gdb) on a container's process: {} becomes its host PID",
  usage: 'porthole tool CONTAINER [--pid N | --match REGEX] -- PROGRAM [ARG...]',
  description:
    "The processes of a container are processes of the host, so the host's own tools work on them. porthole finds\n" +
    "the process (default the container's main process; --pid N: the process with PID N inside the container;\n" +
    '--match REGEX: the one process whose command line matches) and runs PROGRAM on this host with every {} in\n' +
    "its arguments replaced by that process's host PID. Stdin, stdout, stderr and the terminal are the program's;\n" +
    "porthole exits with its code (127 when there is no such program). Needs porthole on the engine's host.",
  options: {
    pid: { type: 'string', valueName: 'N', description: 'The process with this PID inside the container (as porthole ps shows it)' },
    match: { type: 'string', short: 'm', valueName: 'REGEX', description: 'The one process whose command line matches (several: they are listed, exit 4)' },
  },
  args: { min: 1, max: 1 },
  restAfter: 1,
  examples: [
    'porthole tool web -- strace -f -p {}',
    'porthole tool web --match nginx -- lsof -p {}',
    'porthole tool web --pid 7 -- cat /proc/{}/status',
    'porthole tool web -- gdb -p {}',
  ],
});

type Options = Parsed<typeof spec.options>;

export interface ToolResult {
  exitCode: number;
}

export async function run(ctx: Context, parsed: Options): Promise<ToolResult> {
  refuseFlagAsCommand(spec, parsed.rest);
  if (!parsed.rest.length) {
    throw new InvalidArgument('Nothing to run: name the host program after --.', `Usage: ${spec.usage}`);
  }
  const choice = processChoice(parsed.options.pid, parsed.options.match);
  const engine = await ctx.engine();
  const target = await resolveContainer(engine, parsed.args[0]!);
  const process = findTargetProcess(target, choice);
  const [file, ...args] = substitutePid(parsed.rest, process.hostPid) as [string, ...string[]];
  return { exitCode: await runHostProgram(ctx, { file, args }) };
}

export function exitCode(result: ToolResult): number {
  return result.exitCode;
}
