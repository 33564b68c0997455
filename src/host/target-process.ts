// Which host process of a container a host program (tool, nsenter) should work on: its main process, the process
// with a given PID inside, or the one whose command line matches. Read from this machine's /proc; the engine only
// names the container and its main process (State.Pid). The cgroup proves each process belongs to the container.
import { readFileSync } from 'node:fs';
import { findOnPath } from './nsenter.js';
import type { ContainerDetails } from '../engine/types.js';
import { Ambiguous, InvalidArgument, NotFound, ProcessesNotVisible, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { ProcessTable, containerIdsInCgroup, containerTree, hasHostView, inContainer, parseStatus, pidInContainer, type ProcessInfo, type ProcessNode } from '../procs/index.js';

export interface TargetProcess {
  hostPid: number;
  /** The PID the container's own ps shows. */
  containerPid: number | null;
  command: string;
}

export type ProcessChoice = { kind: 'main' } | { kind: 'pid'; containerPid: number } | { kind: 'match'; pattern: RegExp; source: string };

/** The --pid / --match flags as a choice; both at once is a usage error. */
export function processChoice(pid: string | undefined, match: string | undefined): ProcessChoice {
  if (pid !== undefined && match !== undefined) throw new InvalidArgument('Give --pid or --match, not both.');
  if (pid !== undefined) {
    if (!/^\d+$/.test(pid) || Number(pid) < 1 || Number(pid) > 2 ** 22) {
      throw new InvalidArgument(`"${escapeName(pid)}" is not a process id.`, 'Give --pid the PID the process has inside the container, as porthole ps shows it.');
    }
    return { kind: 'pid', containerPid: Number(pid) };
  }
  if (match !== undefined) {
    try {
      return { kind: 'match', pattern: new RegExp(match), source: match };
    } catch (err) {
      throw new InvalidArgument(`--match "${escapeName(match)}" is not a regular expression: ${(err as Error).message}.`);
    }
  }
  return { kind: 'main' };
}

/** Why a host program cannot reach this container's processes from here, or undefined when it can. */
export function noHostView(target: ContainerDetails, table: ProcessTable | undefined, purpose = 'for a host program to work on'): Unsupported | undefined {
  const name = escapeName(target.name);
  if (!target.state.running || target.state.pid <= 0) {
    return new Unsupported(`${name} is not running, so it has no process ${purpose}.`, `Start it first, or look at its files with \`porthole shell ${name}\`.`);
  }
  if (target.state.paused) {
    return new Unsupported(`${name} is paused, and porthole never unpauses a container.`, `Run \`docker unpause ${name}\` first if you mean to.`);
  }
  if (!table || !hasHostView(table, target.id, target.state.pid)) {
    return new ProcessesNotVisible(
      `The processes of ${name} are not visible on this machine (the engine runs on another host, as with a tcp:// or ssh:// engine, or porthole runs in another PID namespace), so porthole cannot reach them from here.`,
      `Run porthole on the engine's host, or use a tool from the toolbox inside it: \`porthole shell --cap-add SYS_PTRACE ${name} -- CMD\`.`,
    );
  }
  return undefined;
}

function flatten(nodes: ProcessNode[]): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  const visit = (n: ProcessNode) => {
    out.push(n.process);
    n.children.forEach(visit);
  };
  nodes.forEach(visit);
  return out;
}

/** Finds the chosen process of a running container in the host's /proc. Throws a sentence when it cannot. */
export function findTargetProcess(target: ContainerDetails, choice: ProcessChoice, procRoot = '/proc'): TargetProcess {
  const initPid = target.state.pid;
  // The main process: its own cgroup proves it is the container's; no need to read the tree around it.
  if (choice.kind === 'main' && target.state.running && !target.state.paused && initPid > 0 && initInContainer(procRoot, initPid, target.id)) {
    const main = describeProcess(procRoot, initPid, readNsPids(procRoot, initPid)?.length);
    if (main) return main;
  }
  const table = ProcessTable.available(procRoot) ? ProcessTable.readAround([initPid], { procRoot }) : undefined;
  const refused = noHostView(target, table);
  if (refused) throw refused;
  const name = escapeName(target.name);
  const initDepth = table!.status(initPid)?.nsPids.length;
  if (choice.kind === 'main') {
    const main = table!.process(initPid)!;
    return { hostPid: initPid, containerPid: pidInContainer(main, initDepth), command: main.command };
  }
  const processes = flatten(containerTree(table!, target.id, initPid)?.processes ?? []);
  const described = (p: ProcessInfo) => ({ hostPid: p.hostPid, containerPid: pidInContainer(p, initDepth), command: p.command });
  if (choice.kind === 'pid') {
    const found = processes.find((p) => pidInContainer(p, initDepth) === choice.containerPid);
    if (!found) throw new NotFound(`${name} has no process with PID ${choice.containerPid}.`, `\`porthole ps ${name}\` lists its processes with their PIDs inside.`);
    return described(found);
  }
  const matching = processes.filter((p) => choice.pattern.test(p.command)).map(described);
  if (!matching.length) {
    throw new NotFound(`No process of ${name} has a command line matching "${escapeName(choice.source)}".`, `\`porthole ps ${name}\` lists its processes.`);
  }
  if (matching.length > 1) {
    const list = matching.map((m) => `PID ${m.containerPid ?? '?'} (host ${m.hostPid}) ${escapeName(m.command)}`);
    throw new Ambiguous(
      `${matching.length} processes of ${name} match "${escapeName(choice.source)}": ${list.join('; ')}.`,
      list,
      'Pick one with --pid N, or a narrower --match.',
    );
  }
  return matching[0]!;
}

/** A container's processes by host PID (main first), with what it takes to describe any of them on demand. */
export interface ContainerProcessList {
  hostPids: number[];
  /** PID inside and command line of one of them (read when asked: a container may hold thousands). */
  describe(hostPid: number): TargetProcess | undefined;
}

/**
 * Every process of a running container, from the host's /proc: the main process's subtree and the processes the
 * runtime shim parents in the container (docker exec). Only stat files are read for the list itself.
 */
export function containerProcesses(target: ContainerDetails, purpose?: string, procRoot = '/proc'): ContainerProcessList {
  const initPid = target.state.pid;
  // Cheap first: the main process's own files, and the container's cgroup.procs (one read instead of walking
  // thousands of /proc entries). The tree walk below is the fallback.
  const found = ProcessTable.available(procRoot) && initPid > 0 && target.state.running && !target.state.paused && initInContainer(procRoot, initPid, target.id) ? cgroupProcsWithFile(procRoot, initPid, target.id) : undefined;
  if (found) {
    const listed = found.pids;
    const initDepth = readNsPids(procRoot, initPid)?.length;
    let inside: Map<number, number> | undefined | null = null;
    return {
      hostPids: [initPid, ...listed.filter((pid) => pid !== initPid).sort((a, b) => a - b)],
      describe: (hostPid) => {
        // Many processes to describe: every PID inside at once, instead of one status file each.
        if (inside === null) inside = listed.length >= MANY_PROCESSES && procRoot === '/proc' ? pidsInside(initPid, found.file, listed, initDepth) : undefined;
        return describeProcess(procRoot, hostPid, initDepth, inside?.get(hostPid));
      },
    };
  }
  const table = ProcessTable.available(procRoot) ? ProcessTable.readAround([initPid], { procRoot }) : undefined;
  const refused = noHostView(target, table, purpose);
  if (refused) throw refused;
  const t = table!;
  const initDepth = t.status(initPid)?.nsPids.length;
  const shim = t.stat(initPid)?.ppid ?? 0;
  const roots = [initPid, ...(shim > 0 && !inContainer(t, shim, target.id) ? t.children(shim).filter((c) => c !== initPid && inContainer(t, c, target.id)) : [])];
  const hostPids: number[] = [];
  const seen = new Set<number>();
  const pending = [...roots].reverse();
  while (pending.length) {
    const pid = pending.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    hostPids.push(pid);
    pending.push(...[...t.children(pid)].reverse());
  }
  return {
    hostPids,
    describe: (hostPid) => {
      const p = t.process(hostPid);
      return p && { hostPid, containerPid: pidInContainer(p, initDepth), command: p.command };
    },
  };
}

function readNsPids(procRoot: string, pid: number): number[] | undefined {
  let text: string;
  try {
    // 'utf8' takes Node's native whole-file path; any other encoding costs a JS read loop (thousands of files here).
    text = readFileSync(`${procRoot}/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // Only the NSpid line: `net` asks this of every process holding a socket (thousands), parseStatus reads all.
  const line = /^NSpid:\t([\d\t ]+)$/m.exec(text);
  return line ? line[1]!.trim().split(/\s+/).map(Number) : parseStatus(text).nsPids;
}

/** Whether the process exists here and its cgroup names the container (hasHostView without a table). */
function initInContainer(procRoot: string, pid: number, containerId: string): boolean {
  try {
    return containerIdsInCgroup(readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8')).includes(containerId);
  } catch {
    return false;
  }
}

/** PID inside and command line of one process, from its status and cmdline alone. */
function describeProcess(procRoot: string, hostPid: number, initDepth: number | undefined, knownInside?: number): TargetProcess | undefined {
  const nsPids = knownInside === undefined ? readNsPids(procRoot, hostPid) : [knownInside];
  if (!nsPids) return undefined;
  let argv: string[] = [];
  let comm = '';
  try {
    // As parseCmdline, read as text in one native call.
    argv = readFileSync(`${procRoot}/${hostPid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    if (!argv.length) comm = readFileSync(`${procRoot}/${hostPid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
  const containerPid = knownInside ?? pidInContainer({ nsPids, nsPid: nsPids.at(-1) ?? null }, initDepth);
  return { hostPid, containerPid, command: argv.length ? argv.join(' ') : `[${comm}]` };
}

/** From this many processes on, describing them pays for one nsenter (about 10 ms) instead of a status read each. */
const MANY_PROCESSES = 200;

/**
 * host PID -> PID inside for the container's processes, from one read of its cgroup.procs made inside its PID
 * namespace (nsenter --pid: the kernel writes each PID as that namespace numbers it), paired by position with
 * the host's read of the same file: cgroup v2 lists in the same order for every reader, v1 sorts by PID, and both
 * namespaces number processes in the order they were made. Checked against the status files of the first, middle
 * and last process; any doubt (a process came or went between the reads, PIDs wrapped around, no nsenter) gives
 * undefined, and each process's own status is read instead.
 */
function pidsInside(initPid: number, file: string, hostOrder: number[], initDepth: number | undefined): Map<number, number> | undefined {
  if (!initDepth) return undefined;
  const nsenter = findOnPath('nsenter', process.env.PATH);
  const cat = findOnPath('cat', process.env.PATH);
  if (!nsenter || !cat) return undefined;
  let text: string;
  try {
    // process.getBuiltinModule: loaded only here, synchronously (tool's start-up never pays for it).
    const { execFileSync } = process.getBuiltinModule('node:child_process');
    text = execFileSync(nsenter, ['--target', String(initPid), '--pid', '--', cat, file], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const inside = text.split('\n').filter(Boolean).map(Number);
  if (inside.length !== hostOrder.length || inside.some((pid) => !Number.isInteger(pid) || pid <= 0)) return undefined;
  const map = new Map<number, number>();
  hostOrder.forEach((hostPid, i) => map.set(hostPid, inside[i]!));
  for (const hostPid of new Set([initPid, hostOrder[0]!, hostOrder[hostOrder.length >> 1]!, hostOrder.at(-1)!])) {
    const nsPids = readNsPids('/proc', hostPid);
    if (!nsPids || nsPids[initDepth - 1] !== map.get(hostPid)) return undefined;
  }
  return map;
}

/**
 * The PIDs in the container's cgroup (cgroup v2's unified file, else v1's pids controller), from the path the
 * main process's /proc/PID/cgroup names; undefined when that path does not name the container or is not readable.
 */
export function cgroupProcs(procRoot: string, initPid: number, containerId: string, cgroupRoot = '/sys/fs/cgroup'): number[] | undefined {
  return cgroupProcsWithFile(procRoot, initPid, containerId, cgroupRoot)?.pids;
}

/** cgroupProcs() and the file it read (in the file's own order). */
function cgroupProcsWithFile(procRoot: string, initPid: number, containerId: string, cgroupRoot = '/sys/fs/cgroup'): { pids: number[]; file: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${initPid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const candidates: string[] = [];
  for (const line of text.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(\/.*)$/.exec(line) ?? [];
    if (!path || !path.includes(containerId) || path.includes('..')) continue;
    if (controllers === '') candidates.push(`${cgroupRoot}${path}/cgroup.procs`, `${cgroupRoot}/unified${path}/cgroup.procs`);
    else if (controllers!.split(',').includes('pids')) candidates.push(`${cgroupRoot}/pids${path}/cgroup.procs`);
  }
  for (const file of candidates) {
    try {
      const pids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
      if (pids.includes(initPid)) return { pids: pids.filter((pid) => Number.isInteger(pid) && pid > 0), file };
    } catch {
      // not there on this host: the next one
    }
  }
  return undefined;
}
