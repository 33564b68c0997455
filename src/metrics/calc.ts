// Pure metric arithmetic and the parsers for the kernel's and the engine's figures, computed the way the docker
// CLI computes them (cli/command/container/stats_helpers.go), so porthole's numbers agree with `docker stats`.
import type { ContainerStats } from './types.js';

/** CPU use over a window, where 100 is one full core: used CPU time over elapsed wall time. */
export function cpuPercent(prevUsageNs: number, curUsageNs: number, elapsedNs: number): number {
  const used = curUsageNs - prevUsageNs;
  if (!(elapsedNs > 0) || !(used > 0)) return 0;
  return (used / elapsedNs) * 100;
}

/**
 * The engine's way: the container's CPU time over the whole machine's CPU time (both deltas), times the number of
 * online CPUs. Same unit as cpuPercent (100 = one core).
 */
export function cpuPercentFromSystem(cpuDelta: number, systemDelta: number, onlineCpus: number): number {
  if (!(systemDelta > 0) || !(cpuDelta > 0) || !(onlineCpus > 0)) return 0;
  return (cpuDelta / systemDelta) * onlineCpus * 100;
}

/**
 * Memory in use without the page cache, as docker reports it: usage minus inactive file pages
 * (`total_inactive_file` on cgroup v1, `inactive_file` on v2), or the plain usage when that would go below zero.
 */
export function memoryWithoutCache(usage: number, stat: Record<string, number>): number {
  const v1 = stat.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stat.inactive_file ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

/** The limit docker shows: the cgroup's own, or the machine's memory when the cgroup has none (or a bigger one). */
export function effectiveLimit(cgroupLimit: number, machineMemory: number): number {
  if (machineMemory > 0 && (!Number.isFinite(cgroupLimit) || cgroupLimit > machineMemory)) return machineMemory;
  return Number.isFinite(cgroupLimit) ? cgroupLimit : 0;
}

export function memoryPercent(used: number, limit: number): number {
  return limit > 0 ? (used / limit) * 100 : 0;
}

/** `key value` lines (memory.stat, cpu.stat, pids): numbers by key. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out[line.slice(0, space)] = value;
  }
  return out;
}

/** A single number file; "max" (cgroup v2 for "no limit") reads as Infinity. */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (t === 'max') return Infinity;
  const n = Number(t);
  return Number.isFinite(n) ? n : NaN;
}

/**
 * cgroup v1 blkio rwstat files (`8:0 Read 4096`, ..., `Total 4096`): bytes read and written, summed over devices,
 * the way docker sums io_service_bytes_recursive entries by operation.
 */
export function parseBlkioV1(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3) continue; // the "Total N" line and blanks
    const value = Number(fields[2]);
    if (!Number.isFinite(value)) continue;
    const op = fields[1]!.toLowerCase();
    if (op === 'read') read += value;
    else if (op === 'write') write += value;
  }
  return { read, write };
}

/** cgroup v2 io.stat (`8:0 rbytes=4096 wbytes=0 rios=1 ...`): bytes read and written, summed over devices. */
export function parseIoStatV2(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, raw] = field.split('=');
      const value = Number(raw);
      if (!Number.isFinite(value)) continue;
      if (key === 'rbytes') read += value;
      else if (key === 'wbytes') write += value;
    }
  }
  return { read, write };
}

/**
 * /proc/PID/net/dev: bytes received and sent over every interface but loopback, as the engine counts a
 * container's network (its sandbox's interfaces).
 */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (iface === 'lo' || iface.includes('|')) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (fields.length < 9) continue;
    rx += fields[0]!;
    tx += fields[8]!;
  }
  return { rx, tx };
}

/** MemTotal from /proc/meminfo, in bytes. */
export function parseMemTotal(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** One engine stats document (GET /containers/ID/stats): the raw CPU counters, and the rest as the row shows it. */
export interface EngineSample extends Omit<ContainerStats, 'name' | 'id' | 'cpuPercent'> {
  readAt: number; // ms since epoch, from the document's `read`
  cpuTotalNs: number;
  systemNs: number | undefined;
  onlineCpus: number;
  preCpuTotalNs: number | undefined;
  preSystemNs: number | undefined;
}

/** Reads the engine's stats document with docker's formulas (memory without cache, block I/O by operation). */
export function parseEngineStats(doc: any): EngineSample {
  const cpu = doc?.cpu_stats ?? {};
  const pre = doc?.precpu_stats ?? {};
  const mem = doc?.memory_stats ?? {};
  const usage = Number(mem.usage ?? 0);
  const stat: Record<string, number> = {};
  for (const [k, v] of Object.entries<any>(mem.stats ?? {})) stat[k] = Number(v);
  let rx = 0;
  let tx = 0;
  for (const net of Object.values<any>(doc?.networks ?? {})) {
    rx += Number(net?.rx_bytes ?? 0);
    tx += Number(net?.tx_bytes ?? 0);
  }
  let read = 0;
  let write = 0;
  for (const entry of doc?.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = String(entry?.op ?? '').charAt(0).toLowerCase();
    if (op === 'r') read += Number(entry.value ?? 0);
    else if (op === 'w') write += Number(entry.value ?? 0);
  }
  const online = Number(cpu.online_cpus ?? 0) || (cpu.cpu_usage?.percpu_usage?.length ?? 0);
  const readAt = Date.parse(doc?.read ?? '');
  return {
    readAt: Number.isFinite(readAt) ? readAt : Date.now(),
    cpuTotalNs: Number(cpu.cpu_usage?.total_usage ?? 0),
    systemNs: cpu.system_cpu_usage === undefined ? undefined : Number(cpu.system_cpu_usage),
    onlineCpus: online,
    preCpuTotalNs: pre.cpu_usage?.total_usage === undefined ? undefined : Number(pre.cpu_usage.total_usage),
    preSystemNs: pre.system_cpu_usage === undefined ? undefined : Number(pre.system_cpu_usage),
    memoryBytes: memoryWithoutCache(usage, stat),
    memoryLimitBytes: Number(mem.limit ?? 0),
    netRxBytes: rx,
    netTxBytes: tx,
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: Number(doc?.pids_stats?.current ?? 0),
  };
}

/** CPU % between two engine samples of one container: docker's formula when both carry system time, else wall time. */
export function engineCpuPercent(prev: Pick<EngineSample, 'cpuTotalNs' | 'systemNs' | 'readAt'>, cur: EngineSample): number {
  if (prev.systemNs !== undefined && cur.systemNs !== undefined && cur.onlineCpus > 0 && cur.systemNs > prev.systemNs) {
    return cpuPercentFromSystem(cur.cpuTotalNs - prev.cpuTotalNs, cur.systemNs - prev.systemNs, cur.onlineCpus);
  }
  return cpuPercent(prev.cpuTotalNs, cur.cpuTotalNs, (cur.readAt - prev.readAt) * 1e6);
}

export type SortKey = 'cpu' | 'mem' | 'name';

/** Orders rows: by CPU or memory, biggest first, ties by name; or by name. */
export function sortStats<T extends Pick<ContainerStats, 'name' | 'cpuPercent' | 'memoryBytes'>>(rows: T[], key: SortKey): T[] {
  const byName = (a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sorted = [...rows];
  if (key === 'cpu') sorted.sort((a, b) => b.cpuPercent - a.cpuPercent || byName(a, b));
  else if (key === 'mem') sorted.sort((a, b) => b.memoryBytes - a.memoryBytes || byName(a, b));
  else sorted.sort(byName);
  return sorted;
}

/** Decimal sizes as docker prints network and block I/O (`1.23kB`, `45.6MB`, three significant digits). */
export function formatDecimalBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

/** Binary sizes as docker prints memory (`580KiB`, `1.5GiB`, up to three significant digits). */
export function formatBinaryBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(value >= 1000 ? 4 : 3))}${units[unit]}`;
}

export function formatPercent(value: number): string {
  return `${value.toFixed(2)}%`;
}
