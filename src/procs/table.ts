// The host's process table, read from /proc once: every process's stat line up front (enough to build trees and
// compute CPU and state), and the costlier files (status, cmdline, cgroup) only for the processes asked about,
// each read at most once. A process may end while it is read; it then simply drops out.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { lifetimeCpuPercent, stateName, statFlags } from './format.js';
import { parseBootTime, cmdlineBytes, parseCmdline, parseStat, parsePasswd, parseStatus, type ProcStat, type ProcStatus } from './parse.js';

/** Clock ticks per second of the times in /proc (USER_HZ): 100 on every Linux architecture Node runs on. */
export const TICKS_PER_SECOND = 100;

/** One process as porthole shows it: the host's view plus the PID the container sees. */
export interface ProcessInfo {
  hostPid: number;
  hostPpid: number;
  /** The PID in the process's own (innermost) PID namespace: the last NSpid field. Equal to hostPid outside containers. */
  nsPid: number | null;
  /** NSpid whole: the PID in each nested PID namespace, ours first. */
  nsPids: number[];
  /** The executable's short name (comm), as in /proc/PID/stat. */
  comm: string;
  /** The arguments as UTF-8 text; empty for zombies and kernel threads. */
  argv: string[];
  /** Each argument's exact bytes, base64, when one of them is not valid UTF-8 (argv then holds U+FFFD). */
  argvBytes?: string[];
  /** What ps's COMMAND shows: the arguments joined by spaces, or `[comm]` when there are none (`<defunct>` for zombies). */
  command: string;
  uid: number | null;
  /** The host's name for uid (as ps on the host shows it), or the number when the host has no such user. */
  user: string;
  /** Kernel state letter: R S D Z T t X I. */
  stateLetter: string;
  /** The state as a word: running, sleeping, disk-sleep, zombie, stopped, tracing-stop, dead, idle. */
  state: string;
  /** ps's STAT column, e.g. `Ss`, `Sl+`, `Z`. */
  stat: string;
  /** utime + stime in clock ticks (TICKS_PER_SECOND), for sampled CPU figures. */
  cpuTicks: number;
  /** ps's %CPU: average over the process's lifetime, percent of one CPU. */
  cpuPercent: number;
  rssBytes: number;
  /** Unix milliseconds. */
  startTimeMs: number;
  threads: number;
}

export interface ReadOptions {
  /** Where procfs is mounted; tests and `porthole` inside a container with the host's /proc mounted elsewhere. */
  procRoot?: string;
  /** The passwd file that names uids (the host's). */
  passwdPath?: string;
}

export class ProcessTable {
  readonly procRoot: string;
  /** When the table was read, unix milliseconds. */
  readonly readAtMs: number;
  readonly bootTimeMs: number;
  readonly uptimeSeconds: number;
  private readonly stats = new Map<number, ProcStat>();
  private readonly childrenOf = new Map<number, number[]>();
  private readonly statusCache = new Map<number, ProcStatus | null>();
  private readonly argvCache = new Map<number, { text: string[]; bytes: string[] | undefined } | null>();
  private readonly cgroupCache = new Map<number, string | null>();
  private readonly passwdPath: string;
  private users: Map<number, string> | undefined;

  private constructor(procRoot: string, passwdPath: string) {
    this.procRoot = procRoot;
    this.passwdPath = passwdPath;
    this.readAtMs = Date.now();
    this.uptimeSeconds = Number(readFileSync(`${procRoot}/uptime`, 'utf8').split(' ')[0]);
    this.bootTimeMs = (parseBootTime(readFileSync(`${procRoot}/stat`, 'utf8')) ?? 0) * 1000;
  }

  /** Whether a procfs is readable at procRoot (false on macOS, Windows, or without /proc). */
  static available(procRoot = '/proc'): boolean {
    return existsSync(`${procRoot}/self/stat`);
  }

  /** Reads every process's stat line in one pass. */
  static read(opts: ReadOptions = {}): ProcessTable {
    const table = new ProcessTable(opts.procRoot ?? '/proc', opts.passwdPath ?? '/etc/passwd');
    for (const entry of readdirSync(table.procRoot)) {
      const c = entry.charCodeAt(0);
      if (c < 48 || c > 57) continue; // only the numeric entries are processes
      table.load(Number(entry));
    }
    for (const list of table.childrenOf.values()) list.sort((a, b) => a - b);
    return table;
  }

  /**
   * Reads only the processes around the given PIDs: each one's parent and all of that parent's descendants,
   * found through /proc/PID/task/TID/children. Enough to draw a container under its runtime shim without
   * reading every process on a busy host. The table then knows only those processes. Falls back to a full read
   * where the kernel has no children files (CONFIG_PROC_CHILDREN off).
   */
  static readAround(pids: number[], opts: ReadOptions = {}): ProcessTable {
    const procRoot = opts.procRoot ?? '/proc';
    if (!existsSync(`${procRoot}/thread-self/children`)) return ProcessTable.read(opts);
    const table = new ProcessTable(procRoot, opts.passwdPath ?? '/etc/passwd');
    for (const pid of pids) {
      const stat = table.load(pid);
      if (!stat) continue;
      const parent = stat.ppid > 0 ? table.load(stat.ppid) : undefined;
      table.loadDescendants(parent ? parent.pid : pid);
    }
    for (const list of table.childrenOf.values()) list.sort((a, b) => a - b);
    return table;
  }

  private loadDescendants(pid: number): void {
    const pending = [pid];
    const done = new Set<number>();
    while (pending.length) {
      const current = pending.pop()!;
      if (done.has(current)) continue;
      done.add(current);
      let threads: string[];
      try {
        threads = readdirSync(`${this.procRoot}/${current}/task`);
      } catch {
        continue; // ended meanwhile
      }
      for (const tid of threads) {
        const text = this.readText(current, `task/${tid}/children`);
        if (!text) continue;
        for (const word of text.split(' ')) {
          const child = Number(word);
          if (word && this.load(child)) pending.push(child);
        }
      }
    }
  }

  private load(pid: number): ProcStat | undefined {
    const known = this.stats.get(pid);
    if (known) return known;
    const text = this.readText(pid, 'stat');
    const stat = text === undefined ? undefined : parseStat(text);
    if (!stat) return undefined;
    this.stats.set(pid, stat);
    const siblings = this.childrenOf.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else this.childrenOf.set(stat.ppid, [pid]);
    return stat;
  }

  private readText(pid: number, file: string): string | undefined {
    try {
      return readFileSync(`${this.procRoot}/${pid}/${file}`, 'utf8');
    } catch {
      return undefined; // the process ended, or we may not read it
    }
  }

  has(pid: number): boolean {
    return this.stats.has(pid);
  }

  /** Every process's PID, in ascending order. */
  pids(): number[] {
    return [...this.stats.keys()].sort((a, b) => a - b);
  }

  stat(pid: number): ProcStat | undefined {
    return this.stats.get(pid);
  }

  /** The PIDs whose parent is pid, ascending (the order ps lists them in). */
  children(pid: number): number[] {
    return this.childrenOf.get(pid) ?? [];
  }

  status(pid: number): ProcStatus | undefined {
    if (!this.statusCache.has(pid)) {
      const text = this.readText(pid, 'status');
      this.statusCache.set(pid, text === undefined ? null : parseStatus(text));
    }
    return this.statusCache.get(pid) ?? undefined;
  }

  argv(pid: number): string[] | undefined {
    return this.readArgv(pid)?.text;
  }

  private readArgv(pid: number): { text: string[]; bytes: string[] | undefined } | undefined {
    if (!this.argvCache.has(pid)) {
      let args: { text: string[]; bytes: string[] | undefined } | null = null;
      try {
        const raw = readFileSync(`${this.procRoot}/${pid}/cmdline`);
        args = { text: parseCmdline(raw), bytes: cmdlineBytes(raw) };
      } catch {
        // ended meanwhile
      }
      this.argvCache.set(pid, args);
    }
    return this.argvCache.get(pid) ?? undefined;
  }

  /** The text of /proc/PID/cgroup, or undefined when the process is gone. */
  cgroup(pid: number): string | undefined {
    if (!this.cgroupCache.has(pid)) this.cgroupCache.set(pid, this.readText(pid, 'cgroup') ?? null);
    return this.cgroupCache.get(pid) ?? undefined;
  }

  /**
   * The status of any task, a thread included: /proc lists only processes, but /proc/TID/ answers for each
   * thread too (tools such as top -H, strace -f and perf print thread ids).
   */
  taskStatus(tid: number): ProcStatus | undefined {
    if (this.stats.has(tid)) return this.status(tid);
    const text = this.readText(tid, 'status');
    return text === undefined ? undefined : parseStatus(text);
  }

  /** The PID namespace of a process (e.g. `pid:[4026531836]`), to tell which processes share one. */
  pidNamespace(pid: number): string | undefined {
    try {
      return readlinkSync(`${this.procRoot}/${pid}/ns/pid`);
    } catch {
      return undefined;
    }
  }

  userName(uid: number | null): string {
    if (uid === null) return '?';
    if (!this.users) {
      try {
        this.users = parsePasswd(readFileSync(this.passwdPath, 'utf8'));
      } catch {
        this.users = new Map();
      }
    }
    return this.users.get(uid) ?? String(uid);
  }

  /** Everything porthole shows about one process, or undefined when it is not in the table. */
  process(pid: number): ProcessInfo | undefined {
    const stat = this.stats.get(pid);
    if (!stat) return undefined;
    const status = this.status(pid);
    const read = this.readArgv(pid);
    const argv = read?.text ?? [];
    const cpuTicks = stat.utimeTicks + stat.stimeTicks;
    const command = argv.length ? argv.join(' ') : stat.state === 'Z' ? `[${stat.comm}] <defunct>` : `[${stat.comm}]`;
    return {
      hostPid: pid,
      hostPpid: stat.ppid,
      nsPid: status?.nsPids.length ? status.nsPids[status.nsPids.length - 1]! : null,
      nsPids: status?.nsPids ?? [],
      comm: stat.comm,
      argv,
      ...(read?.bytes ? { argvBytes: read.bytes } : {}),
      command,
      uid: status?.uid ?? null,
      user: this.userName(status?.uid ?? null),
      stateLetter: stat.state,
      state: stateName(stat.state),
      stat: statFlags(stat, status?.lockedBytes ?? 0),
      cpuTicks,
      cpuPercent: lifetimeCpuPercent(cpuTicks, stat.startTicks, this.uptimeSeconds, TICKS_PER_SECOND),
      rssBytes: status?.rssBytes ?? 0,
      startTimeMs: this.bootTimeMs + (stat.startTicks / TICKS_PER_SECOND) * 1000,
      threads: stat.threads,
    };
  }
}

/**
 * The PID a process has in its container's PID namespace: the NSpid field at the depth of the container's init,
 * so a process in a namespace nested inside the container (unshare -p, a sandbox) still gets the PID that ps
 * in the container shows. The last field when the init's depth is unknown.
 */
export function pidInContainer(process: Pick<ProcessInfo, 'nsPids' | 'nsPid'>, initNsDepth: number | undefined): number | null {
  if (initNsDepth !== undefined && initNsDepth > 0 && process.nsPids.length >= initNsDepth) return process.nsPids[initNsDepth - 1]!;
  return process.nsPid;
}
