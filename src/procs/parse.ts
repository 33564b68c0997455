// Pure parsers for the files under /proc/PID/ that porthole reads. No I/O here, so each is unit-tested on text.

/** The fields of /proc/PID/stat porthole uses (proc(5) numbering in the comments). */
export interface ProcStat {
  pid: number; // (1)
  /** The executable's name, at most 15 bytes; may hold spaces, parentheses and control characters. */
  comm: string; // (2)
  /** One letter: R S D Z T t X I (W, x, K, P on old kernels). */
  state: string; // (3)
  ppid: number; // (4)
  pgrp: number; // (5)
  session: number; // (6)
  ttyNr: number; // (7)
  /** Foreground process group of the terminal, -1 without one. */
  tpgid: number; // (8)
  utimeTicks: number; // (14) user CPU time in clock ticks (USER_HZ)
  stimeTicks: number; // (15) system CPU time in clock ticks
  nice: number; // (19)
  threads: number; // (20)
  /** Start time in clock ticks after boot. */
  startTicks: number; // (22)
  rssPages: number; // (24)
}

/**
 * Parses /proc/PID/stat. The name sits in parentheses and may itself contain ")" and spaces, so the fields are
 * split after the LAST ")". Returns undefined for text that is not a stat line.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).trimEnd().split(' ');
  // f[0] is field 3 (state), so field n is f[n - 3].
  if (!Number.isInteger(pid) || f.length < 22) return undefined;
  const n = (field: number) => Number(f[field - 3]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: n(4),
    pgrp: n(5),
    session: n(6),
    ttyNr: n(7),
    tpgid: n(8),
    utimeTicks: n(14),
    stimeTicks: n(15),
    nice: n(19),
    threads: n(20),
    startTicks: n(22),
    rssPages: n(24),
  };
}

/** The fields of /proc/PID/status porthole uses. */
export interface ProcStatus {
  /** Real user id as seen from porthole's user namespace; null when the line is missing. */
  uid: number | null;
  /** The thread group (process) id: differs from the PID read when that PID is a thread. */
  tgid: number | null;
  /** NSpid: the PID in each nested PID namespace, outermost (ours) first, the container's own last. */
  nsPids: number[];
  /** VmRSS in bytes; null for zombies and kernel threads, which have no memory of their own. */
  rssBytes: number | null;
  /** VmLck in bytes (locked memory: ps shows an L). */
  lockedBytes: number;
}

export function parseStatus(text: string): ProcStatus {
  const status: ProcStatus = { uid: null, tgid: null, nsPids: [], rssBytes: null, lockedBytes: 0 };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Uid') status.uid = Number(value.split(/\s+/)[0]);
    else if (key === 'Tgid') status.tgid = Number(value);
    else if (key === 'NSpid') status.nsPids = value.split(/\s+/).filter(Boolean).map(Number);
    else if (key === 'VmRSS') status.rssBytes = kib(value);
    else if (key === 'VmLck') status.lockedBytes = kib(value);
  }
  return status;
}

function kib(value: string): number {
  return Number(value.replace(/\s*kB$/, '')) * 1024;
}

/**
 * Splits /proc/PID/cmdline into its arguments. Empty for zombies and kernel threads. A process that rewrote its
 * own argv (setproctitle) may leave one long string with spaces, or trailing NULs: both are kept as written.
 */
export function parseCmdline(bytes: Buffer): string[] {
  if (bytes.length === 0) return [];
  const text = bytes.toString('utf8');
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

/**
 * The exact bytes of each argument, base64, when any of them is not valid UTF-8 (parseCmdline's text then holds
 * U+FFFD where bytes were lost); undefined when the text is exact. The `argvBytes` of `ps --json`.
 */
export function cmdlineBytes(bytes: Buffer): string[] | undefined {
  if (bytes.length === 0 || Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) return undefined;
  const args: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0) {
      if (i < bytes.length || i > start) args.push(bytes.subarray(start, i).toString('base64'));
      start = i + 1;
    }
  }
  return args;
}

/** A 64-hex-digit container id as docker, containerd, CRI-O and podman put it in cgroup paths. */
const CONTAINER_ID = /(?:^|[/\-:_.])([0-9a-f]{64})(?=$|[/.])/g;

/**
 * The container ids named in /proc/PID/cgroup, outermost first and without repeats: `/docker/ID` (cgroup v1,
 * cgroupfs driver), `/system.slice/docker-ID.scope` (systemd driver), `libpod-ID.scope` (podman),
 * `cri-containerd-ID.scope`, and nested ones (docker in docker gives two ids).
 */
export function containerIdsInCgroup(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    for (const match of path.matchAll(CONTAINER_ID)) if (!ids.includes(match[1]!)) ids.push(match[1]!);
  }
  return ids;
}

/** Whether /proc/PID/cgroup puts the process inside the container with this full id. */
export function cgroupMentions(text: string, containerId: string): boolean {
  return containerIdsInCgroup(text).includes(containerId);
}

/** The `btime` line of /proc/stat: boot time in unix seconds. */
export function parseBootTime(procStat: string): number | undefined {
  const match = /^btime\s+(\d+)$/m.exec(procStat);
  return match ? Number(match[1]) : undefined;
}

/** /etc/passwd as a uid -> name map (the first name wins, as getpwuid does). */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    if (!users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}
