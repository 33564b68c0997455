// `porthole tool CONTAINER [--pid N | --match REGEX] -- PROGRAM [ARGS...]`: a program of the host (strace, lsof,
// gdb, perf, cat /proc/{}/...) run against a process of the container, `{}` in its arguments becoming that
// process's host PID. Processes in a container are host processes; porthole finds the right one (the main
// process, a PID inside, or a command line) so the user does not. The program's exit code is porthole's.
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, refuseFlagAsCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import type { ContainerDetails } from '../engine/types.js';
import { InvalidArgument, ProcessesNotVisible, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { preloadSpawn, runHostProgram, substitutePid } from '../host/run-program.js';
import { findTargetProcess, processChoice, type ProcessChoice } from '../host/target-process.js';

export const spec = defineCommand({
  name: 'tool',
  summary: "Run a host program (strace, lsof, gdb) on a container's process: {} becomes its host PID",
  usage: 'porthole tool CONTAINER [--pid N | --match REGEX] -- PROGRAM [ARG...]',
  description:
    "The processes of a container are processes of the host, so the host's own tools work on them. porthole finds\n" +
    "the process (default the container's main process; --pid N: the process with PID N inside the container;\n" +
    '--match REGEX: the one process whose command line matches) and runs PROGRAM on this host with every {} in\n' +
    "its arguments replaced by that process's host PID. Stdin, stdout, stderr and the terminal are the program's;\n" +
    "porthole exits with its code (127 when there is no such program). Where the container's processes are not\n" +
    'visible here (a remote engine), PROGRAM runs instead in a toolbox sidecar sharing their PID namespace, with\n' +
    'SYS_PTRACE, {} then being the PID inside (`porthole toolbox build --with strace,gdb` carries the host\'s tools there).',
  options: {
    ...composeOptions,
    pid: { type: 'string', valueName: 'N', description: 'The process with this PID inside the container (as porthole ps shows it)' },
    match: { type: 'string', short: 'm', valueName: 'REGEX', description: 'The one process whose command line matches (several: they are listed, exit 4)' },
    toolbox: { type: 'string', valueName: 'IMAGE', description: "Where the container's processes are not visible here: the sidecar's image (default porthole's toolbox)" },
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
  const resolving = resolveContainer(engine, parsed.args[0]!);
  preloadSpawn(); // while the engine answers
  const target = await resolving;
  let process;
  try {
    process = findTargetProcess(target, choice);
  } catch (err) {
    if (!(err instanceof ProcessesNotVisible)) throw err;
    return { exitCode: await viaSidecar(ctx, target, choice, parsed, err) };
  }
  const [file, ...args] = substitutePid(parsed.rest, process.hostPid) as [string, ...string[]];
  return { exitCode: await runHostProgram(ctx, { file, args }) };
}

/**
 * The remote way (issue 16): the program runs in a toolbox sidecar that shares the container's PID namespace (and
 * its files as root, see enter/toolbox.ts), with SYS_PTRACE, so `{}` is the PID as the container sees it.
 */
async function viaSidecar(ctx: Context, target: ContainerDetails, choice: ProcessChoice, parsed: Options, why: ProcessesNotVisible): Promise<number> {
  const name = escapeName(target.name);
  if (choice.kind === 'match') {
    throw new Unsupported(`${why.message.replace(/\.$/, '')}; --match needs them.`, 'Give --pid N (the PID inside, as porthole ps shows it) instead.');
  }
  const pidMode = target.hostConfig.pidMode;
  if (pidMode && pidMode !== 'private') {
    throw new Unsupported(`${name} shares another PID namespace (${escapeName(pidMode)}), and its processes are not visible here either.`, "Run porthole on the engine's host.");
  }
  const containerPid = choice.kind === 'pid' ? choice.containerPid : 1;
  ctx.notice(`porthole: the processes of ${name} are not visible here (a remote engine): running ${escapeName(parsed.rest[0]!)} in a toolbox sidecar that shares their PID namespace; {} is ${containerPid}, the PID there.`);
  const { enterToolbox } = await import('../enter/toolbox.js');
  const code = await enterToolbox(ctx, target, {
    cmd: substitutePid(parsed.rest, containerPid),
    env: [],
    tty: !!(ctx.stdinIsTTY && ctx.stdout.isTTY),
    toolboxImage: parsed.options.toolbox,
    capAdd: ['SYS_PTRACE'],
    rwMounts: false,
    keep: false,
  });
  // A program neither the container nor the toolbox has was one sentence in the sidecar, with the --with that adds it.
  return code;
}

export function exitCode(result: ToolResult): number {
  return result.exitCode;
}
