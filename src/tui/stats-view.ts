// The stats table as `stats --watch` and `top` draw it: the same columns as the one-shot table, plus a small
// sparkline of CPU and memory for each row, fitted to the terminal's width.
import { formatBinaryBytes, formatDecimalBytes, formatPercent, memoryPercent } from '../metrics/calc.js';
import type { StatsRow } from '../metrics/types.js';
import { escapeName } from '../render/escape.js';
import { largest, type Column } from '../render/table.js';
import { BOLD, REVERSE, RESET } from './screen.js';
import { clip, layoutTable, sparkline, type TableColumn } from './text.js';

export const HISTORY_LENGTH = 60;
const SPARK_WIDTH = 10;

/** The last figures of each container, for its sparklines. */
export class History {
  private readonly series = new Map<string, { cpu: number[]; mem: number[] }>();

  record(rows: StatsRow[]): void {
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      let s = this.series.get(row.id);
      if (!s) this.series.set(row.id, (s = { cpu: [], mem: [] }));
      s.cpu.push(row.cpuPercent);
      s.mem.push(row.memoryBytes);
      if (s.cpu.length > HISTORY_LENGTH) s.cpu.shift();
      if (s.mem.length > HISTORY_LENGTH) s.mem.shift();
    }
    for (const id of [...this.series.keys()]) if (!seen.has(id)) this.series.delete(id);
  }

  cpu(id: string): number[] {
    return this.series.get(id)?.cpu ?? [];
  }

  mem(id: string): number[] {
    return this.series.get(id)?.mem ?? [];
  }
}

/** The cells of one row, shared by the one-shot table and the live views. */
export function statsCells(row: StatsRow) {
  const stopped = !!row.notRunning;
  return {
    id: row.id.slice(0, 12),
    name: escapeName(row.name),
    cpu: stopped ? '--' : formatPercent(row.cpuPercent),
    mem: stopped ? '-- / --' : `${formatBinaryBytes(row.memoryBytes)} / ${formatBinaryBytes(row.memoryLimitBytes)}`,
    memPercent: stopped ? '--' : formatPercent(memoryPercent(row.memoryBytes, row.memoryLimitBytes)),
    net: stopped ? '-- / --' : `${formatDecimalBytes(row.netRxBytes)} / ${formatDecimalBytes(row.netTxBytes)}`,
    block: stopped ? '-- / --' : `${formatDecimalBytes(row.blockReadBytes)} / ${formatDecimalBytes(row.blockWriteBytes)}`,
    pids: stopped ? '--' : String(row.pids),
  };
}

/** Table lines for the live views: header and one line per row, `selected` drawn in reverse video. */
export function liveStatsLines(rows: StatsRow[], history: History, width: number, selected?: number): string[] {
  const columns: TableColumn<StatsRow>[] = [
    { header: 'CONTAINER ID', value: (r) => r.id.slice(0, 12) },
    { header: 'NAME', value: (r) => escapeName(r.name), flexible: true },
    { header: 'CPU %', value: (r) => statsCells(r).cpu, align: 'right' },
    { header: 'CPU', value: (r) => sparkline(history.cpu(r.id), SPARK_WIDTH, largest(history.cpu(r.id), 100)) },
    { header: 'MEM USAGE / LIMIT', value: (r) => statsCells(r).mem, align: 'right' },
    { header: 'MEM %', value: (r) => statsCells(r).memPercent, align: 'right' },
    { header: 'MEM', value: (r) => sparkline(history.mem(r.id), SPARK_WIDTH) },
    { header: 'NET I/O', value: (r) => statsCells(r).net, align: 'right' },
    { header: 'BLOCK I/O', value: (r) => statsCells(r).block, align: 'right' },
    { header: 'PIDS', value: (r) => statsCells(r).pids, align: 'right' },
  ];
  const { header, lines } = layoutTable(rows, columns, width);
  return [
    BOLD + header,
    ...lines.map((l, i) => (i === selected ? REVERSE + l.padEnd(width) : l)),
  ];
}

/** The first line of a live view: what it shows and the keys. Trusted text only. */
export function titleLine(text: string, width: number): string {
  return REVERSE + clip(text, width).padEnd(width) + RESET;
}

/** docker stats' columns (after CONTAINER ID and NAME come the figures), shared by every stats table. */
export const STATS_COLUMNS: Column<StatsRow>[] = [
  { header: 'CONTAINER ID', value: (r) => r.id.slice(0, 12) },
  { header: 'NAME', value: (r) => r.name },
  { header: 'CPU %', value: (r) => statsCells(r).cpu, align: 'right', trusted: true },
  { header: 'MEM USAGE / LIMIT', value: (r) => statsCells(r).mem, align: 'right', trusted: true },
  { header: 'MEM %', value: (r) => statsCells(r).memPercent, align: 'right', trusted: true },
  { header: 'NET I/O', value: (r) => statsCells(r).net, align: 'right', trusted: true },
  { header: 'BLOCK I/O', value: (r) => statsCells(r).block, align: 'right', trusted: true },
  { header: 'PIDS', value: (r) => statsCells(r).pids, align: 'right', trusted: true },
];
