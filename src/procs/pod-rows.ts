// A pod's processes, as read from /proc inside it (through exec: engine/kubernetes/procs.ts) rather than on the
// host: the dump the reader script prints, parsed into processes; the processes placed in their containers (by
// the container id in their cgroup path) and drawn as a tree with the same forest, STAT and %CPU rules as the
// host view. Pure functions, unit-tested on recorded dumps.
import { escapeName } from '../render/escape.js';
import { lifetimeCpuPercent, stateName, statFlags } from './format.js';
import { cmdlineBytes, containerIdsInCgroup, parseCmdline, parsePasswd, parseStat, parseStatus, type ProcStat, type ProcStatus } from './parse.js';
import { TICKS_PER_SECOND } from './table.js';
import { flattenForest } from './tree.js';

/** One process as the dump gives it. */
export interface DumpedProcess {
  pid: number;
  stat: ProcStat;
  status: ProcStatus;
  /** Container ids named in its cgroup paths (64 hex digits), outermost first. */
  cgroupIds: string[];
  argv: string[];
  argvBytes?: string[];
}

export interface ProcDump {
  /** The reader's own PID (its shell): it and its children are left out of what is shown. */
  readerPid: number;
  uptimeSeconds: number;
  bootTimeMs: number;
  processes: DumpedProcess[];
  /** passwd files read through /proc/PID/root (a container's own users), keyed by that PID. */
  passwd: Map<number, Map<number, string>>;
}

/**
 * The reader: one sh, run in the pod by exec, printing NUL-separated fields. Nothing a process controls can hold a
 * NUL where it is printed (stat, status and cgroup are the kernel's text, argv goes as hex, passwd files have their
 * NULs taken out), so a hostile process cannot forge another's record:
 *   H<reader pid> \0 <uptime> \0 <btime> \0
 *   P<pid> \0 <stat><status> \0 <cgroup> \0 <cmdline as od hex> \0        for each process (cgroup only
 *                                                                             with the argument `cgroup`)
 *   W<pid> \0 <passwd of its root> \0                                       for the reader and each process whose
 *                                                                             parent is outside the namespace
 * Tools: sh, cat, od and tr (busybox has them). A missing one is named on stderr with exit 22. Two forks a process
 * (one cat for stat and status, one od), a third for cgroup only where processes must be told apart by container:
 * each fork cost 5-10 ms on the loaded test machine.
 */
export const PROC_READER_SCRIPT = [
  'for t in cat od tr; do command -v "$t" >/dev/null 2>&1 || { printf %s "$t" >&2; exit 22; }; done',
  'cd /proc || exit 23',
  "printf 'H%s\\0' \"$$\"",
  "read -r up < uptime; printf '%s\\0' \"$up\"",
  "while read -r k v; do [ \"$k\" = btime ] && printf %s \"$v\"; done < stat; printf '\\0'",
  "printf 'W%s\\0' \"$$\"; tr -d '\\000' < /etc/passwd 2>/dev/null; printf '\\0'",
  "rp=') '; want=$1",
  'for d in [0-9]*; do',
  '  read -r line 2>/dev/null < "$d/stat" || continue',
  "  printf 'P%s\\0' \"$d\"",
  "  cat \"$d/stat\" \"$d/status\" 2>/dev/null; printf '\\0'",
  "  [ \"$want\" = cgroup ] && cat \"$d/cgroup\" 2>/dev/null; printf '\\0'",
  "  od -An -v -tx1 \"$d/cmdline\" 2>/dev/null; printf '\\0'",
  // the fields after the last ") " (a name may hold one): state, then the parent's PID. A process whose parent is
  // outside the namespace (a container's main process, an exec'd one): the passwd of its root
  '  set -- ${line##*"$rp"}',
  '  if [ "$2" = 0 ] && [ "$d" != "$$" ]; then',
  "    printf 'W%s\\0' \"$d\"; tr -d '\\000' < \"$d/root/etc/passwd\" 2>/dev/null; printf '\\0'",
  '  fi',
  'done',
].join('\n');

/** Exit code of the reader when one of its tools is missing (the tool's name on stderr). */
export const READER_NO_TOOL = 22;

/**
 * /proc/PID/stat and /proc/PID/status as one cat printed them. stat is one line, but its name (comm) may hold
 * newlines and ") ": the name's ")" is the last ") " within the name's longest reach (64 bytes, more than any task
 * name; after it come only numbers), and stat ends at the first newline after it.
 */
export function splitStatStatus(bytes: Buffer): [string, string] {
  const open = bytes.indexOf(' (');
  const window = bytes.subarray(0, open < 0 ? 0 : Math.min(bytes.length, open + 2 + 64 + 2));
  const close = window.lastIndexOf(') ');
  const end = close < 0 ? -1 : bytes.indexOf(0x0a, close);
  if (end < 0) return [bytes.toString('utf8'), ''];
  return [bytes.subarray(0, end + 1).toString('utf8'), bytes.subarray(end + 1).toString('utf8')];
}

/** Parses what PROC_READER_SCRIPT printed. Records that are cut short (a process that ended) are dropped. */
export function parseProcDump(bytes: Buffer): ProcDump {
  const fields: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      fields.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  const text = (b: Buffer | undefined) => (b ? b.toString('utf8') : '');
  const dump: ProcDump = { readerPid: 0, uptimeSeconds: 0, bootTimeMs: 0, processes: [], passwd: new Map() };
  let i = 0;
  while (i < fields.length) {
    const head = text(fields[i]);
    const tag = head[0];
    const pid = Number(head.slice(1));
    if (tag === 'H' && i + 2 < fields.length) {
      dump.readerPid = pid;
      dump.uptimeSeconds = Number(text(fields[i + 1]).split(' ')[0]) || 0;
      dump.bootTimeMs = (Number(text(fields[i + 2]).trim()) || 0) * 1000;
      i += 3;
    } else if (tag === 'P' && i + 3 < fields.length) {
      const [statText, statusText] = splitStatStatus(fields[i + 1]!);
      const stat = parseStat(statText);
      if (stat && stat.pid === pid) {
        const hex = text(fields[i + 3]).replace(/[^0-9a-f]/gi, '');
        const raw = Buffer.from(hex, 'hex');
        const argvBytes = cmdlineBytes(raw);
        dump.processes.push({
          pid,
          stat,
          status: parseStatus(statusText),
          cgroupIds: containerIdsInCgroup(text(fields[i + 2])),
          argv: parseCmdline(raw),
          ...(argvBytes ? { argvBytes } : {}),
        });
      }
      i += 4;
    } else if (tag === 'W' && i + 1 < fields.length) {
      const users = parsePasswd(text(fields[i + 1]));
      if (users.size) dump.passwd.set(pid, users);
      i += 2;
    } else {
      i += 1; // not a record start: step on until one
    }
  }
  return dump;
}

/** A container of the pod, for placing processes: its name, kind and the runtime's id (without `containerd://`). */
export interface PodContainerRef {
  name: string;
  kind: 'container' | 'init' | 'ephemeral';
  id: string;
}

/** One process of a pod. The documented --json shape of `porthole ps pod/X`. */
export interface PodProcessRow {
  namespace: string;
  pod: string;
  /** The container the process runs in (from its cgroup); null for the pod's sandbox (pause) or when unknown. */
  container: string | null;
  containerKind: 'container' | 'init' | 'ephemeral' | null;
  /** `main`: the container's main process; `sandbox`: the pod's pause process (a shared namespace's PID 1). */
  role: 'main' | 'process' | 'sandbox';
  /** PID inside the pod's (or the container's) PID namespace. */
  pid: number;
  /** 0 when the parent is outside the namespace (a main process, an exec'd one). */
  ppid: number;
  user: string;
  uid: number | null;
  cpuPercent: number;
  rssBytes: number;
  startTime: string;
  state: string;
  stat: string;
  command: string;
  argv: string[];
  argvBytes?: string[];
  depth: number;
  /** `pod`: one namespace for all containers (shareProcessNamespace); `container`: this container's own. */
  processNamespace: 'pod' | 'container';
}

export interface PodProcessBlock {
  namespace: string;
  pod: string;
  /** The container whose namespace this is; null for a shared (pod) namespace. */
  container: string | null;
  /** The container the reader ran in (the toolbox's name when read through it). */
  readVia: string;
  rows: PodProcessRow[];
  prefixes: string[];
}

/** The container a process belongs to, by the ids in its cgroup (innermost match wins). */
function placeProcess(p: DumpedProcess, containers: PodContainerRef[]): PodContainerRef | undefined {
  for (const id of [...p.cgroupIds].reverse()) {
    const found = containers.find((c) => c.id === id);
    if (found) return found;
  }
  return undefined;
}

/**
 * The rows of one PID namespace. `own` names the container whose private namespace this is (its processes all
 * belong to it, whatever their cgroup says, except a toolbox's); null for a namespace the whole pod shares.
 */
export function podProcessRows(dump: ProcDump, opts: { namespace: string; pod: string; containers: PodContainerRef[]; own: string | null; only?: string; passwdByContainer?: Map<string, Map<number, string>> }): { rows: PodProcessRow[]; prefixes: string[] } {
  // Leave out the reader: its shell and what it started.
  const hidden = new Set<number>([dump.readerPid]);
  const byPid = new Map(dump.processes.map((p) => [p.pid, p]));
  const isHidden = (p: DumpedProcess): boolean => {
    const seen = new Set<number>();
    let current: DumpedProcess | undefined = p;
    while (current && !seen.has(current.pid)) {
      if (hidden.has(current.pid)) return true;
      seen.add(current.pid);
      current = byPid.get(current.stat.ppid);
    }
    return false;
  };
  const all = dump.processes.filter((p) => !isHidden(p)).sort((a, b) => a.pid - b.pid);
  const ownRef = opts.own === null ? undefined : (opts.containers.find((c) => c.name === opts.own) ?? { name: opts.own, kind: 'container' as const, id: '' });
  const place = new Map<number, PodContainerRef | undefined>();
  for (const p of all) {
    const found = placeProcess(p, opts.containers);
    // In a container's own namespace everything is that container's, but an ephemeral container sharing it (a
    // toolbox) keeps its own name.
    place.set(p.pid, found?.kind === 'ephemeral' ? found : (ownRef ?? found));
  }
  // pod/X/C in a shared namespace: only C's processes
  const shown = opts.only === undefined ? all : all.filter((p) => place.get(p.pid)?.name === opts.only);
  // Each container's main process: its earliest process whose parent is outside the namespace (exec'd
  // processes have such a parent too, but start later); in a container's own namespace, PID 1.
  const main = new Map<string, DumpedProcess>();
  for (const p of shown) {
    const c = place.get(p.pid);
    if (!c || p.stat.ppid !== 0) continue;
    const known = main.get(c.name);
    if (!known || p.stat.startTicks < known.stat.startTicks || (p.stat.startTicks === known.stat.startTicks && p.pid < known.pid)) main.set(c.name, p);
  }
  if (ownRef) {
    const init = shown.find((p) => p.pid === 1);
    if (init && place.get(1) === ownRef) main.set(ownRef.name, init);
  }
  const mainPids = new Set([...main.values()].map((p) => p.pid));
  // Users by each container's own passwd: its main process's root, else any process of it that was read.
  const usersOf = new Map<string, Map<number, string>>();
  for (const [pid, users] of dump.passwd) {
    const p = byPid.get(pid);
    const c = p ? place.get(pid) ?? placeProcess(p, opts.containers) ?? ownRef : ownRef;
    if (!c) continue;
    if (!usersOf.has(c.name) || mainPids.has(pid)) usersOf.set(c.name, users);
  }
  for (const [name, users] of opts.passwdByContainer ?? []) if (!usersOf.has(name)) usersOf.set(name, users);
  const readerUsers = dump.passwd.get(dump.readerPid);

  const children = new Map<number, DumpedProcess[]>();
  const roots: DumpedProcess[] = [];
  const shownPids = new Set(shown.map((p) => p.pid));
  for (const p of shown) {
    if (p.stat.ppid !== 0 && p.stat.ppid !== p.pid && shownPids.has(p.stat.ppid)) {
      const list = children.get(p.stat.ppid) ?? [];
      list.push(p);
      children.set(p.stat.ppid, list);
    } else roots.push(p);
  }
  const rows: PodProcessRow[] = [];
  const prefixes: string[] = [];
  for (const { item: p, depth, prefix } of flattenForest(roots, (n) => children.get(n.pid) ?? [])) {
    const c = place.get(p.pid);
    const uid = p.status.uid;
    // a container whose passwd could not be read shows numbers rather than another container's names
    const users = c ? usersOf.get(c.name) : readerUsers;
    const cpuTicks = p.stat.utimeTicks + p.stat.stimeTicks;
    const sandbox = !c && opts.own === null && p.pid === 1;
    rows.push({
      namespace: opts.namespace,
      pod: opts.pod,
      container: c?.name ?? null,
      containerKind: c?.kind ?? null,
      role: sandbox ? 'sandbox' : mainPids.has(p.pid) ? 'main' : 'process',
      pid: p.pid,
      ppid: shownPids.has(p.stat.ppid) ? p.stat.ppid : 0,
      user: uid === null ? '?' : (users?.get(uid) ?? String(uid)),
      uid,
      cpuPercent: lifetimeCpuPercent(cpuTicks, p.stat.startTicks, dump.uptimeSeconds, TICKS_PER_SECOND),
      rssBytes: p.status.rssBytes ?? 0,
      startTime: new Date(dump.bootTimeMs + (p.stat.startTicks / TICKS_PER_SECOND) * 1000).toISOString(),
      state: stateName(p.stat.state),
      stat: statFlags(p.stat, p.status.lockedBytes),
      command: p.argv.length ? p.argv.join(' ') : p.stat.state === 'Z' ? `[${p.stat.comm}] <defunct>` : `[${p.stat.comm}]`,
      argv: p.argv,
      ...(p.argvBytes ? { argvBytes: p.argvBytes } : {}),
      depth,
      processNamespace: opts.own === null ? 'pod' : 'container',
    });
    prefixes.push(prefix);
  }
  return { rows, prefixes };
}

/** The CONTAINER cell: the container's name, `*` after it for its main process, `(sandbox)` for pause. */
export function containerCell(row: Pick<PodProcessRow, 'container' | 'role'>): string {
  if (row.role === 'sandbox') return '(sandbox)';
  if (!row.container) return '?';
  return `${escapeName(row.container)}${row.role === 'main' ? '*' : ''}`;
}
