// Containers in the host's process table: which process is a container's init, whether porthole sees the
// engine's processes at all, the per-container tree rooted at the runtime shim (as `ps faux` draws it), and the
// reverse question of where a host PID belongs. The cgroup path is the proof: it names the container's full id.
import { containerIdsInCgroup } from './parse.js';
import type { ProcessInfo, ProcessTable } from './table.js';
import { buildTree, type ProcessNode } from './tree.js';

/** Whether the process's cgroup names this container, i.e. it runs inside it. */
export function inContainer(table: ProcessTable, pid: number, containerId: string): boolean {
  const cgroup = table.cgroup(pid);
  // The substring test settles most cases cheaply; the parse makes sure it is a whole id in a path.
  return cgroup !== undefined && cgroup.includes(containerId) && containerIdsInCgroup(cgroup).includes(containerId);
}

/**
 * Whether porthole sees this container's processes in its own /proc: the engine's State.Pid exists here AND
 * its cgroup names the container. A PID that merely exists (a remote engine, porthole in another PID
 * namespace) does not count.
 */
export function hasHostView(table: ProcessTable, containerId: string, initPid: number): boolean {
  return initPid > 0 && table.has(initPid) && inContainer(table, initPid, containerId);
}

/** Among candidates inside one container, the init is the one that started first (then the lowest PID). */
function earliest(table: ProcessTable, a: number | undefined, b: number): number {
  if (a === undefined) return b;
  const sa = table.stat(a)!.startTicks;
  const sb = table.stat(b)!.startTicks;
  return sb < sa || (sb === sa && b < a) ? b : a;
}

/** Runtime processes that parent containers: containerd-shim-runc-v2 (comm cut to 15 bytes), conmon, ... */
const RUNTIME_COMM = /shim|conmon|crun|runc/i;

/**
 * Finds each container's init PID (the top process of the container's cgroup) for containers known only by id,
 * as `docker ps` lists them without State.Pid. First looks only at the children of runtime shims (a few cgroup
 * reads); for any id still missing, reads every process's cgroup. Ids not found are absent from the map.
 */
export function findContainerInits(table: ProcessTable, containerIds: string[]): Map<string, number> {
  const wanted = new Set(containerIds);
  const found = new Map<string, number>();
  const consider = (pid: number) => {
    const cgroup = table.cgroup(pid);
    if (!cgroup) return;
    for (const id of containerIdsInCgroup(cgroup)) {
      if (!wanted.has(id)) continue;
      const parent = table.stat(pid)!.ppid;
      if (inContainer(table, parent, id)) continue; // a process below the init, not the init
      found.set(id, earliest(table, found.get(id), pid));
    }
  };
  for (const pid of table.pids()) {
    if (RUNTIME_COMM.test(table.stat(pid)!.comm)) for (const child of table.children(pid)) consider(child);
  }
  if (found.size < wanted.size) {
    for (const pid of table.pids()) consider(pid);
  }
  return found;
}

export interface ContainerProcessTree {
  containerId: string;
  initHostPid: number;
  /** The runtime process that parents the container (containerd-shim, conmon); null when porthole cannot see it. */
  shim: ProcessInfo | null;
  /**
   * The shim's children that belong to this container (its init, and processes started by `docker exec`, which
   * the shim also parents), each with its whole subtree.
   */
  processes: ProcessNode[];
}

/**
 * The container's processes as `ps faux` shows them: under the shim, the init and any exec'd processes, whole
 * subtrees below. Undefined when the init is not in the table.
 */
export function containerTree(table: ProcessTable, containerId: string, initPid: number): ContainerProcessTree | undefined {
  const init = table.stat(initPid);
  if (!init) return undefined;
  const shimPid = init.ppid;
  const shimVisible = shimPid > 0 && table.has(shimPid) && !inContainer(table, shimPid, containerId);
  if (!shimVisible) {
    const only = buildTree(table, initPid);
    return only && { containerId, initHostPid: initPid, shim: null, processes: [only] };
  }
  const rooted = buildTree(table, shimPid, (child) => inContainer(table, child, containerId));
  if (!rooted) return undefined;
  return { containerId, initHostPid: initPid, shim: rooted.process, processes: rooted.children };
}

/** Where a host PID stands with respect to containers, from /proc alone (the engine confirms it afterwards). */
export type PidPlacement =
  /** Its cgroup names these containers, outermost first. */
  | { kind: 'in-container'; containerIds: string[] }
  /** It is outside every container, but parents processes that are inside some: a runtime shim. */
  | { kind: 'parent-of-container'; children: { containerId: string; hostPid: number }[] }
  | { kind: 'host' }
  | { kind: 'no-such-process' };

export function placePid(table: ProcessTable, pid: number): PidPlacement {
  if (!table.has(pid)) return { kind: 'no-such-process' };
  const own = containerIdsInCgroup(table.cgroup(pid) ?? '');
  if (own.length) return { kind: 'in-container', containerIds: own };
  const children: { containerId: string; hostPid: number }[] = [];
  for (const child of table.children(pid)) {
    for (const containerId of containerIdsInCgroup(table.cgroup(child) ?? '')) children.push({ containerId, hostPid: child });
  }
  return children.length ? { kind: 'parent-of-container', children } : { kind: 'host' };
}
