// Flat rows for one container, in `ps faux` order, in the shape `porthole ps --json` prints (and `top` reuses).
import type { ContainerProcessTree } from './containers.js';
import { engineTopForest, type EngineTopRow } from './engine-top.js';
import { stateName } from './format.js';
import { pidInContainer, type ProcessInfo } from './table.js';
import { flattenForest, type ProcessNode } from './tree.js';

/** One process of one container. The documented --json shape of `porthole ps`. */
export interface ProcessRow {
  container: string;
  containerId: string;
  /** `shim`: the runtime process outside the container that parents it; `init`: the engine's State.Pid. */
  role: 'shim' | 'init' | 'process';
  /** PID on the host (on the engine's host in the engine view). */
  hostPid: number;
  /** PID inside the container (last NSpid field); null for the shim and in the engine view. */
  pid: number | null;
  hostPpid: number | null;
  /** Parent's PID inside the container; 0 when the parent is outside it (the init's); null when unknown. */
  ppid: number | null;
  user: string;
  uid: number | null;
  /** ps's %CPU: lifetime average, percent of one CPU. */
  cpuPercent: number | null;
  rssBytes: number | null;
  /** ISO 8601. */
  startTime: string | null;
  /** running, sleeping, disk-sleep, zombie, stopped, tracing-stop, dead, idle. */
  state: string | null;
  /** ps's STAT letters, e.g. `Ss`, `Sl`, `Z`. */
  stat: string | null;
  /** The command line joined by spaces; `[name] <defunct>` for a zombie. */
  command: string;
  /** The arguments as UTF-8 text; null in the engine view, [] for zombies. */
  argv: string[] | null;
  /** Only when an argument is not valid UTF-8: each argument's exact bytes, base64 (argv then holds U+FFFD). */
  argvBytes?: string[];
  /** Depth in the tree: 0 for the shim (or the topmost process when no shim is visible). */
  depth: number;
  /** `host`: read from /proc here; `engine`: from the engine's top, PIDs are the engine host's. */
  view: 'host' | 'engine';
}

export interface ContainerRows {
  rows: ProcessRow[];
  /** The `ps f` tree drawing before each row's command (human output only). */
  prefixes: string[];
}

/** The rows of a container seen in /proc. */
export function containerRows(name: string, tree: ContainerProcessTree): ContainerRows {
  const roots: ProcessNode[] = tree.shim ? [{ process: tree.shim, children: tree.processes }] : tree.processes;
  const initDepth = findInit(tree.processes, tree.initHostPid)?.nsPids.length;
  const inside = new Map<number, number | null>();
  const walk = (node: ProcessNode) => {
    inside.set(node.process.hostPid, pidInContainer(node.process, initDepth));
    node.children.forEach(walk);
  };
  tree.processes.forEach(walk);
  const rows: ProcessRow[] = [];
  const prefixes: string[] = [];
  for (const { item, depth, prefix } of flattenForest(roots, (n) => n.children)) {
    const p: ProcessInfo = item.process;
    const isShim = tree.shim !== null && p.hostPid === tree.shim.hostPid && depth === 0;
    rows.push({
      container: name,
      containerId: tree.containerId,
      role: isShim ? 'shim' : p.hostPid === tree.initHostPid ? 'init' : 'process',
      hostPid: p.hostPid,
      pid: isShim ? null : inside.get(p.hostPid)!,
      hostPpid: p.hostPpid,
      ppid: isShim ? null : inside.has(p.hostPpid) ? inside.get(p.hostPpid)! : 0,
      user: p.user,
      uid: p.uid,
      cpuPercent: p.cpuPercent,
      rssBytes: p.rssBytes,
      startTime: new Date(p.startTimeMs).toISOString(),
      state: p.state,
      stat: p.stat,
      command: p.command,
      argv: p.argv,
      ...(p.argvBytes ? { argvBytes: p.argvBytes } : {}),
      depth,
      view: 'host',
    });
    prefixes.push(prefix);
  }
  return { rows, prefixes };
}

function findInit(nodes: ProcessNode[], hostPid: number): ProcessInfo | undefined {
  for (const node of nodes) {
    if (node.process.hostPid === hostPid) return node.process;
    const below = findInit(node.children, hostPid);
    if (below) return below;
  }
  return undefined;
}

/** The rows of a container from the engine's top (no shim row: the engine does not report it). */
export function engineTopRows(name: string, containerId: string, initHostPid: number | null, top: EngineTopRow[]): ContainerRows {
  const { roots, children } = engineTopForest(top);
  const rows: ProcessRow[] = [];
  const prefixes: string[] = [];
  for (const { item, depth, prefix } of flattenForest(roots, children)) {
    rows.push({
      container: name,
      containerId,
      role: item.hostPid === initHostPid ? 'init' : 'process',
      hostPid: item.hostPid,
      pid: null,
      hostPpid: item.hostPpid,
      ppid: null,
      user: item.user,
      uid: null,
      cpuPercent: item.cpuPercent,
      rssBytes: item.rssBytes,
      startTime: item.startTimeMs === null ? null : new Date(item.startTimeMs).toISOString(),
      state: item.stat ? stateName(item.stat[0]!) : null,
      stat: item.stat,
      command: item.command,
      argv: null,
      depth,
      view: 'engine',
    });
    prefixes.push(prefix);
  }
  return { rows, prefixes };
}
