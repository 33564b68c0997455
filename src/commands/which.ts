// `porthole which HOSTPID`: the other direction of `ps`. Given a PID from the host's ps, top, strace or lsof,
// which container it belongs to (its cgroup names the container; the engine confirms), the PID it has inside,
// and its command. A runtime shim is named as the shim of its container.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { ContainerDetails, EngineClient } from '../engine/types.js';
import { Failure, InvalidArgument, NotFound, ProcessesNotVisible, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';
import { ProcessTable, pidInContainer, placePid, type ProcessInfo, type ProcStatus } from '../procs/index.js';

export const spec = defineCommand({
  name: 'which',
  summary: 'Tell which container a host PID belongs to, and its PID inside',
  usage: 'porthole which HOSTPID [--json]',
  description:
    'HOSTPID is a PID as the host sees it (ps, top, strace -p, lsof -p). Exit 0 when it is in a container or is a\n' +
    "container's runtime shim, 1 when it belongs to no container, 3 when no such process exists.",
  options: { json: { type: 'boolean', description: 'Print the answer as JSON' } },
  args: { min: 1, max: 1 },
  examples: ['porthole which 12345', 'porthole which $(pgrep -f "nginx: master") --json'],
});

export interface WhichResult {
  hostPid: number;
  container: string;
  containerId: string;
  /** `init`: the container's main process (State.Pid); `process`: any other inside; `shim`: the runtime process outside that parents it. */
  role: 'init' | 'process' | 'shim';
  /** PID inside the container (last NSpid field); null for the shim, which is outside. */
  pid: number | null;
  /** Host PID of the container's init. */
  initHostPid: number;
  /** When the PID asked about is a thread of hostPid: its host thread id and its id inside the container. */
  thread: { hostTid: number; tid: number | null } | null;
  user: string;
  uid: number | null;
  state: string;
  stat: string;
  command: string;
  argv: string[];
}

function parsePid(word: string): number {
  if (/^\d+$/.test(word) && Number(word) > 2 ** 22) {
    // a whole number, larger than any PID Linux gives (pid_max is at most 2^22)
    throw new NotFound(`No process with PID ${word} on this host: PIDs go up to ${2 ** 22} at most.`, 'Give a host PID as ps or top shows it.');
  }
  if (!/^\d+$/.test(word) || Number(word) < 1) {
    throw new InvalidArgument(`"${escapeName(word)}" is not a process id.`, 'Give a host PID, a whole number as ps shows it.');
  }
  return Number(word);
}

/** Inspects a container by full id, or undefined when this engine does not know it. */
async function inspectOrUndefined(engine: EngineClient, id: string): Promise<ContainerDetails | undefined> {
  try {
    return await engine.inspectContainer(id);
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

function answer(p: ProcessInfo, d: ContainerDetails, role: WhichResult['role'], initNsDepth: number | undefined, thread: ProcStatus | undefined, hostTid: number): WhichResult {
  return {
    hostPid: p.hostPid,
    container: d.name,
    containerId: d.id,
    role,
    pid: role === 'shim' ? null : pidInContainer(p, initNsDepth),
    initHostPid: d.state.pid,
    thread: thread ? { hostTid, tid: role === 'shim' ? null : pidInContainer({ nsPids: thread.nsPids, nsPid: thread.nsPids.at(-1) ?? null }, initNsDepth) } : null,
    user: p.user,
    uid: p.uid,
    state: p.state,
    stat: p.stat,
    command: p.command,
    argv: p.argv,
  };
}

/** An engine on another machine (ssh://, tcp:// to another host): its address, else undefined. */
export function remoteHost(endpoint: { host: string }): string | undefined {
  const url = new URL(endpoint.host);
  if (url.protocol !== 'ssh:' && url.protocol !== 'tcp:') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return /^(localhost|127(\.\d+){3}|::1)$/i.test(host) ? undefined : host;
}

/**
 * A PID that is no container's here, with an engine on another machine: host PIDs are the engine host's, which this
 * machine's /proc does not show, so "no such process" or "a process of the host" would answer the wrong question.
 */
async function refuseRemoteEngine(ctx: Context, asked: number): Promise<void> {
  const engine = await ctx.engine();
  const remote = remoteHost(engine.endpoint);
  if (!remote) return;
  throw new ProcessesNotVisible(
    `The engine runs on ${escapeName(remote)} (${escapeName(engine.endpoint.host)}), and host PIDs like ${asked} belong to the engine's host: porthole which reads this machine's /proc, which does not show that host's processes.`,
    `On ${escapeName(remote)} itself, porthole's which answers it; from here, \`porthole ps\` lists the containers' processes.`,
  );
}

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<WhichResult> {
  const asked = parsePid(parsed.args[0]!);
  if (!ProcessTable.available()) {
    throw new Unsupported('porthole which reads /proc, and this system has none.', "Run it on the engine's Linux host.");
  }
  const table = ProcessTable.read();
  // A thread id (from top -H, strace -f, perf) answers for the process it belongs to.
  const taskStatus = table.has(asked) ? undefined : table.taskStatus(asked);
  const thread = taskStatus?.tgid && taskStatus.tgid !== asked ? taskStatus : undefined;
  const hostPid = thread ? thread.tgid! : asked;
  const placement = placePid(table, hostPid);
  if (placement.kind === 'no-such-process' || placement.kind === 'host') await refuseRemoteEngine(ctx, asked);
  if (placement.kind === 'no-such-process') {
    throw new NotFound(`No process with PID ${asked} on this host.`, 'It may have ended; `porthole ps` lists the processes of every container.');
  }
  const subject = table.process(hostPid)!;
  const hostProcess = () =>
    new Failure(`PID ${asked}${thread ? ` (a thread of ${hostPid})` : ''} (${escapeName(subject.comm)}) is not in any container: it is a process of the host.`);
  if (placement.kind === 'host') throw hostProcess();

  const engine = await ctx.engine();
  if (placement.kind === 'in-container') {
    for (const id of placement.containerIds) {
      const details = await inspectOrUndefined(engine, id);
      if (details) return answer(subject, details, hostPid === details.state.pid ? 'init' : 'process', table.status(details.state.pid)?.nsPids.length, thread, asked);
    }
    throw new Failure(
      `PID ${hostPid} (${escapeName(subject.comm)}) runs in container ${placement.containerIds[0]!.slice(0, 12)}, which this engine does not know.`,
      'Another engine or runtime (containerd, CRI-O, podman) started it; ask that one.',
    );
  }
  // Outside every container but parenting some: a runtime shim if the engine says the container's init is its child.
  const ids = [...new Set(placement.children.map((c) => c.containerId))];
  for (const id of ids) {
    const details = await inspectOrUndefined(engine, id);
    if (details && table.stat(details.state.pid)?.ppid === hostPid) return answer(subject, details, 'shim', undefined, thread, asked);
  }
  throw hostProcess();
}

export function render(r: WhichResult, parsed: Parsed<typeof spec.options>): string {
  if (parsed.options.json) return renderJson(r);
  const where = `container ${escapeName(r.container)} (${r.containerId.slice(0, 12)})`;
  const threadNote = r.thread ? `PID ${r.thread.hostTid} is a thread${r.thread.tid !== null ? ` (${r.thread.tid} inside)` : ''} of PID ${r.hostPid}.\n` : '';
  const first =
    r.role === 'shim'
      ? `PID ${r.hostPid} is the runtime shim of ${where}: it runs outside the container and parents its init (host PID ${r.initHostPid}).`
      : r.role === 'init'
        ? `PID ${r.hostPid} is PID ${r.pid ?? '?'} in ${where}, its init.`
        : `PID ${r.hostPid} is PID ${r.pid ?? '?'} in ${where}.`;
  return threadNote + [first, `Command: ${escapeName(r.command)}`, `User:    ${escapeName(r.user)}`, `State:   ${r.state} (${r.stat})`].join('\n') + '\n';
}
