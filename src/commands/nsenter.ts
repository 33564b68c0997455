// `porthole nsenter CONTAINER [--net] [--pid] [--mount] [--uts] [--ipc] [--all] -- PROGRAM [ARG...]`: a host
// program (ss, ip, tcpdump, dig) run inside the chosen namespaces of the container's main process, through
// util-linux's nsenter, without the user finding the PID. Default: the network namespace only, so the program and
// its files are the host's and nothing is written to the container. The program's exit code is porthole's.
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, refuseFlagAsCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import type { ContainerDetails } from '../engine/types.js';
import { InvalidArgument, ProcessesNotVisible, ProgramNotFound, Unsupported } from '../errors.js';
import { NAMESPACES, canEnterNamespaces, findOnPath, nsenterArgs, type Namespace } from '../host/nsenter.js';
import { preloadSpawn, runHostProgram, substitutePid } from '../host/run-program.js';
import { findTargetProcess } from '../host/target-process.js';
import { escapeName } from '../render/escape.js';

export const spec = defineCommand({
  name: 'nsenter',
  summary: "Run a host program (ss, ip, tcpdump) inside a container's namespaces: network by default",
  usage: 'porthole nsenter CONTAINER [--net] [--pid] [--mount] [--uts] [--ipc] [--all] -- PROGRAM [ARG...]',
  description:
    "Runs PROGRAM from this host inside the chosen namespaces of the container's main process, as\n" +
    '`nsenter -t PID` does (util-linux nsenter, run as root). Default --net: the host\'s ss, ip or tcpdump see\n' +
    "the container's interfaces, addresses, routes and sockets. With --mount or --all the program and the files it\n" +
    "reads are the container's. {} in the arguments becomes the main process's host PID. porthole exits with the\n" +
    "program's code (127 when there is no such program). Needs porthole on the engine's host.",
  options: {
    ...composeOptions,
    net: { type: 'boolean', description: 'Network namespace: interfaces, addresses, routes, sockets (the default)' },
    pid: { type: 'boolean', description: "PID namespace (the program's /proc stays the host's unless --mount)" },
    mount: { type: 'boolean', description: "Mount namespace: the container's files (the program then comes from the container)" },
    uts: { type: 'boolean', description: 'UTS namespace: hostname and domain name' },
    ipc: { type: 'boolean', description: 'IPC namespace: System V IPC, POSIX message queues' },
    all: { type: 'boolean', short: 'a', description: 'Every namespace of the process (nsenter --all)' },
  },
  args: { min: 1, max: 1 },
  restAfter: 1,
  examples: [
    'porthole nsenter web -- ss -ltnp',
    'porthole nsenter web -- ip addr',
    'porthole nsenter web -- tcpdump -i eth0 -c 10',
    'porthole nsenter web --uts -- hostname',
  ],
});

type Options = Parsed<typeof spec.options>;

export interface NsenterResult {
  exitCode: number;
}

export function chosenNamespaces(o: Options['options']): Namespace[] | 'all' {
  if (o.all) return 'all';
  const chosen = NAMESPACES.filter((ns) => o[ns]);
  return chosen.length ? chosen : ['net'];
}

export async function run(ctx: Context, parsed: Options): Promise<NsenterResult> {
  refuseFlagAsCommand(spec, parsed.rest);
  if (!parsed.rest.length) {
    throw new InvalidArgument('Nothing to run: name the host program after --.', `Usage: ${spec.usage}`);
  }
  const namespaces = chosenNamespaces(parsed.options);
  // Only with the host's files is the program the host's, and worth checking here (with --mount it is the container's).
  const hostFiles = namespaces !== 'all' && !namespaces.includes('mount');
  const program = parsed.rest[0]!;
  const engine = await ctx.engine();
  const resolving = resolveContainer(engine, parsed.args[0]!);
  preloadSpawn(); // while the engine answers
  const target = await resolving;
  let process;
  try {
    process = findTargetProcess(target, { kind: 'main' });
  } catch (err) {
    if (!(err instanceof ProcessesNotVisible)) throw err;
    return { exitCode: await viaSidecar(ctx, target, namespaces, parsed, err) };
  }
  const nsenter = findOnPath('nsenter', ctx.env.PATH);
  if (!nsenter) {
    throw new Unsupported('porthole nsenter runs util-linux\'s nsenter, and it is not on this host\'s PATH.', 'Install util-linux (Debian: apt-get install util-linux).');
  }
  if (hostFiles && !findOnPath(program, ctx.env.PATH)) {
    throw new ProgramNotFound(`${escapeName(program)}: no such program on this host.`, 'porthole runs host programs here: install it, or give its full path.');
  }
  if (!canEnterNamespaces()) {
    throw new Unsupported('Entering another process\'s namespaces needs root (CAP_SYS_ADMIN) on this host.', 'Run porthole nsenter with sudo.');
  }
  const args = nsenterArgs(process.hostPid, namespaces, substitutePid(parsed.rest, process.hostPid));
  return { exitCode: await runHostProgram(ctx, { file: nsenter, args, shownAs: program }) };
}

/**
 * The remote way: a toolbox sidecar joins the container's network and PID namespaces (enter/toolbox.ts), so the
 * program runs there, from the container's files or the toolbox's. Other namespaces it does not join: a sentence.
 */
async function viaSidecar(ctx: Context, target: ContainerDetails, namespaces: Namespace[] | 'all', parsed: Options, why: ProcessesNotVisible): Promise<number> {
  const name = escapeName(target.name);
  const others = namespaces === 'all' ? ['mount', 'uts', 'ipc'] : namespaces.filter((ns) => ns !== 'net' && ns !== 'pid');
  if (others.length) {
    throw new Unsupported(`${why.message.replace(/\.$/, '')}; the toolbox sidecar that reaches a remote container joins its network and PID namespaces only, not --${others.join(', --')}.`, 'Use --net or --pid, or run porthole on the engine\'s host.');
  }
  ctx.notice(`porthole: the processes of ${name} are not visible here (a remote engine): running ${escapeName(parsed.rest[0]!)} in a toolbox sidecar that shares its network and PID namespaces; the program comes from the container or the toolbox.`);
  const { enterToolbox } = await import('../enter/toolbox.js');
  return enterToolbox(ctx, target, {
    cmd: substitutePid(parsed.rest, 1),
    env: [],
    tty: !!(ctx.stdinIsTTY && ctx.stdout.isTTY),
    capAdd: [],
    rwMounts: false,
    keep: false,
  });
}

export function exitCode(result: NsenterResult): number {
  return result.exitCode;
}
