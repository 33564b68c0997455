// The process table's block, shared by the Docker view (commands/ps.ts) and the pod view (commands/ps-pods.ts):
// a heading, the view's PID columns, then the columns every view shares with the command drawn as a `ps f` tree.
import { formatStart, shownCommand } from '../procs/format.js';
import { formatBytes, renderTable, type Column } from './table.js';

/** What the shared columns need of a row: the Docker view's and the pod view's rows both have it. */
export interface ShownProcess {
  user: string;
  cpuPercent: number | null;
  rssBytes: number | null;
  startTime: string | null;
  stat: string | null;
  command: string;
  argvBytes?: string[];
}

/**
 * One block of the process table: a heading, then the `lead` columns (the PIDs) and the columns every view shares,
 * the command drawn as a `ps f` tree.
 */
export function renderProcessBlock<R extends ShownProcess>(heading: string, rows: R[], prefixes: string[], lead: Column<{ row: R; prefix: string }>[], nowMs: number, width: number): string {
  const lines = rows.map((row, i) => ({ row, prefix: prefixes[i]! }));
  const dash = (v: number | null, f: (n: number) => string) => (v === null ? '-' : f(v));
  const table = renderTable(lines, [
    ...lead,
    { header: 'USER', value: ({ row }) => row.user },
    { header: '%CPU', value: ({ row }) => dash(row.cpuPercent, (n) => n.toFixed(1)), align: 'right' },
    { header: 'RSS', value: ({ row }) => dash(row.rssBytes, formatBytes), align: 'right' },
    { header: 'START', value: ({ row }) => (row.startTime ? formatStart(Date.parse(row.startTime), nowMs) : '-') },
    { header: 'STAT', value: ({ row }) => row.stat ?? '-' },
    { header: 'COMMAND', value: ({ row, prefix }) => prefix + shownCommand(row), trusted: true },
  ]);
  const text = `${heading}\n${table}`;
  if (!width) return text;
  // Like ps on a terminal: long command lines are cut at the edge instead of wrapping into the next rows.
  return text
    .split('\n')
    .map((line) => (line.length > width ? [...line].slice(0, width).join('') : line))
    .join('\n');
}
