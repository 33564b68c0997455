// The figures `porthole stats` and `top` show for one container; also the stable --json shape.

export interface ContainerStats {
  name: string;
  id: string;
  /** 100 = one full core. */
  cpuPercent: number;
  /** In use, without the page cache (as docker stats reports it). */
  memoryBytes: number;
  /** The container's limit, or the machine's memory when it has none. */
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
}

/** Where a row's figures came from: the cgroup files on this host, or the engine's stats endpoint. */
export type StatsSource = 'cgroup' | 'engine';

export interface StatsRow extends ContainerStats {
  source: StatsSource;
  /** Set when the container is not running (its figures are zero). */
  notRunning?: string;
}

/** Only the documented fields, in a fixed order, for --json. */
export function toJsonRow(row: ContainerStats): ContainerStats {
  return {
    name: row.name,
    id: row.id,
    cpuPercent: Math.round(row.cpuPercent * 100) / 100,
    memoryBytes: row.memoryBytes,
    memoryLimitBytes: row.memoryLimitBytes,
    netRxBytes: row.netRxBytes,
    netTxBytes: row.netTxBytes,
    blockReadBytes: row.blockReadBytes,
    blockWriteBytes: row.blockWriteBytes,
    pids: row.pids,
  };
}
