// Reading a container's figures straight from the kernel on the engine's host: cgroup v1 (one hierarchy per
// controller) and v2 (one unified hierarchy), and the network counters of the container's network namespace.
// Each read is a small pseudo-file; synchronous reads are cheaper here than promise round-trips.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import {
  effectiveLimit,
  memoryWithoutCache,
  parseBlkioV1,
  parseFlatKeyed,
  parseIoStatV2,
  parseMemTotal,
  parseNetDev,
  parseNumber,
} from './calc.js';

export interface CgroupMount {
  mountPoint: string;
  /** The hierarchy path mounted there ("/" unless porthole runs in a cgroup namespace). */
  root: string;
}

export interface CgroupLayout {
  /** 1 when the v1 memory and cpuacct controllers are mounted (hybrid hosts included), else 2. */
  version: 1 | 2;
  v1: Partial<Record<'cpuacct' | 'memory' | 'blkio' | 'pids', CgroupMount>>;
  v2?: CgroupMount;
}

const V1_CONTROLLERS = ['cpuacct', 'memory', 'blkio', 'pids'] as const;

function unescapeMount(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Finds the cgroup hierarchies in /proc/self/mountinfo. Undefined when none is mounted. */
export function parseMountinfo(text: string): CgroupLayout | undefined {
  const v1: CgroupLayout['v1'] = {};
  let v2: CgroupMount | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    const mount = { root: unescapeMount(left[3] ?? '/'), mountPoint: unescapeMount(left[4] ?? '') };
    if (fstype === 'cgroup2') {
      // A hybrid host mounts a v2 tree at /sys/fs/cgroup/unified beside the v1 controllers; prefer the main one.
      if (!v2 || mount.mountPoint.length < v2.mountPoint.length) v2 = mount;
    } else if (fstype === 'cgroup') {
      const options = superOptions.split(',');
      for (const c of V1_CONTROLLERS) if (options.includes(c) && !v1[c]) v1[c] = mount;
    }
  }
  if (v1.cpuacct && v1.memory) return { version: 1, v1, v2 };
  if (v2) return { version: 2, v1: {}, v2 };
  return undefined;
}

/** Where the engine puts a container's cgroup, relative to a hierarchy's root: cgroupfs and systemd drivers. */
export function candidateCgroupPaths(id: string): string[] {
  return [`/docker/${id}`, `/system.slice/docker-${id}.scope`];
}

/**
 * The container's cgroup path from /proc/PID/cgroup of one of its processes: the cpuacct line on v1, the
 * `0::` line on v2.
 */
export function cgroupPathFromProc(text: string, version: 1 | 2): string | undefined {
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second).split(',');
    const path = line.slice(second + 1);
    if (version === 2 && line.startsWith('0::')) return path;
    if (version === 1 && controllers.includes('cpuacct')) return path;
  }
  return undefined;
}

function inMount(mount: CgroupMount | undefined, path: string): string | undefined {
  if (!mount) return undefined;
  let rel = path;
  if (mount.root !== '/') {
    if (path !== mount.root && !path.startsWith(`${mount.root}/`)) return undefined;
    rel = path.slice(mount.root.length);
  }
  return `${mount.mountPoint}${rel}`;
}

/** The folders holding one container's controller files. */
export interface ContainerCgroup {
  version: 1 | 2;
  cpu: string;
  memory: string;
  blkio: string | undefined;
  pids: string | undefined;
}

function isDir(path: string | undefined): path is string {
  if (!path) return false;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The container's cgroup folders for a hierarchy path, or undefined when they do not exist on this host. */
export function cgroupAt(layout: CgroupLayout, path: string): ContainerCgroup | undefined {
  if (layout.version === 1) {
    const cpu = inMount(layout.v1.cpuacct, path);
    const memory = inMount(layout.v1.memory, path);
    if (!isDir(cpu) || !isDir(memory)) return undefined;
    const blkio = inMount(layout.v1.blkio, path);
    const pids = inMount(layout.v1.pids, path);
    return { version: 1, cpu, memory, blkio: isDir(blkio) ? blkio : undefined, pids: isDir(pids) ? pids : undefined };
  }
  const dir = inMount(layout.v2, path);
  if (!isDir(dir)) return undefined;
  return { version: 2, cpu: dir, memory: dir, blkio: dir, pids: dir };
}

/** Finds a container's cgroup by the engine's usual paths. */
export function findContainerCgroup(layout: CgroupLayout, id: string): ContainerCgroup | undefined {
  for (const path of candidateCgroupPaths(id)) {
    const found = cgroupAt(layout, path);
    if (found) return found;
  }
  return undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The container's CPU time so far, in nanoseconds (NaN when the cgroup is gone). */
export function readCpuNs(cg: ContainerCgroup): number {
  if (cg.version === 1) {
    const text = read(`${cg.cpu}/cpuacct.usage`);
    return text === undefined ? NaN : Number(text.trim());
  }
  const text = read(`${cg.cpu}/cpu.stat`);
  if (text === undefined) return NaN;
  const usec = parseFlatKeyed(text).usage_usec;
  return usec === undefined ? NaN : usec * 1000;
}

export interface CgroupFigures {
  memoryBytes: number;
  memoryLimitBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
  /** A process of the container (in porthole's PID namespace), for its network counters; 0 when none is visible. */
  anyPid: number;
}

function readBlkioV1(dir: string): { read: number; write: number } {
  // As the engine does: the CFQ/BFQ-era recursive file when it has entries, else the throttle counters.
  const cfq = read(`${dir}/blkio.io_service_bytes_recursive`);
  if (cfq !== undefined && /\d+:\d+ /.test(cfq)) return parseBlkioV1(cfq);
  return parseBlkioV1(read(`${dir}/blkio.throttle.io_service_bytes_recursive`) ?? read(`${dir}/blkio.throttle.io_service_bytes`) ?? '');
}

function firstPid(dir: string): number {
  const text = read(`${dir}/cgroup.procs`) ?? '';
  for (const line of text.split('\n')) {
    const pid = Number(line);
    if (pid > 0) return pid;
  }
  return 0;
}

/** Everything but CPU, read once at the end of the sampling window. Undefined when the cgroup is gone. */
export function readFigures(cg: ContainerCgroup, machineMemory: number): CgroupFigures | undefined {
  if (cg.version === 1) {
    const usage = read(`${cg.memory}/memory.usage_in_bytes`);
    if (usage === undefined) return undefined;
    const stat = parseFlatKeyed(read(`${cg.memory}/memory.stat`) ?? '');
    const limit = parseNumber(read(`${cg.memory}/memory.limit_in_bytes`) ?? 'max');
    const io = cg.blkio ? readBlkioV1(cg.blkio) : { read: 0, write: 0 };
    const pids = cg.pids ? parseNumber(read(`${cg.pids}/pids.current`) ?? '0') : 0;
    return {
      memoryBytes: memoryWithoutCache(parseNumber(usage), stat),
      memoryLimitBytes: effectiveLimit(limit, machineMemory),
      blockReadBytes: io.read,
      blockWriteBytes: io.write,
      pids: Number.isFinite(pids) ? pids : 0,
      anyPid: firstPid(cg.pids ?? cg.cpu),
    };
  }
  const current = read(`${cg.memory}/memory.current`);
  if (current === undefined) return undefined;
  const stat = parseFlatKeyed(read(`${cg.memory}/memory.stat`) ?? '');
  const limit = parseNumber(read(`${cg.memory}/memory.max`) ?? 'max');
  const io = parseIoStatV2(read(`${cg.blkio}/io.stat`) ?? '');
  const pids = parseNumber(read(`${cg.pids}/pids.current`) ?? '0');
  return {
    memoryBytes: memoryWithoutCache(parseNumber(current), stat),
    memoryLimitBytes: effectiveLimit(limit, machineMemory),
    blockReadBytes: io.read,
    blockWriteBytes: io.write,
    pids: Number.isFinite(pids) ? pids : 0,
    anyPid: firstPid(cg.cpu),
  };
}

let ownNetNs: string | null | undefined;

/**
 * Bytes in and out of the container's network namespace. A container on the host's network has no sandbox of its
 * own, and the engine reports nothing for it: so do we.
 */
export function readNetwork(pid: number): { rx: number; tx: number } | undefined {
  if (!(pid > 0)) return undefined;
  if (ownNetNs === undefined) {
    try {
      ownNetNs = readlinkSync('/proc/1/ns/net');
    } catch {
      ownNetNs = null;
    }
  }
  if (ownNetNs) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) === ownNetNs) return { rx: 0, tx: 0 };
    } catch {
      // Not allowed to look (another user's process): read its counters anyway.
    }
  }
  const text = read(`/proc/${pid}/net/dev`);
  return text === undefined ? undefined : parseNetDev(text);
}

let machineMemory: number | undefined;

/** The host's memory, the limit docker shows for a container without one. */
export function hostMemory(): number {
  machineMemory ??= parseMemTotal(read('/proc/meminfo') ?? '');
  return machineMemory;
}

let layoutCache: CgroupLayout | null | undefined;

/** This host's cgroup hierarchies, or undefined when there are none to read (not Linux, no /proc). */
export function hostLayout(): CgroupLayout | undefined {
  if (layoutCache === undefined) {
    const text = read('/proc/self/mountinfo');
    layoutCache = (text && parseMountinfo(text)) || null;
  }
  return layoutCache ?? undefined;
}
