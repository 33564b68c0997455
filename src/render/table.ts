// Plain column tables, docker-style: upper-case headers, columns padded with three spaces, cells escaped.
import { escapeName } from './escape.js';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  /** Cell text is already safe (built by porthole, not taken from the container). */
  trusted?: boolean;
}

export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((c) => (c.trusted ? c.value(row) : escapeName(c.value(row)))));
  const widths = columns.map((c, i) => widest(cells, (r) => r[i]!, c.header.length));
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const last = i === values.length - 1;
        if (columns[i]!.align === 'right') return v.padStart(widths[i]!);
        return last ? v : v.padEnd(widths[i]!);
      })
      .join('   ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/**
 * The length of the longest of `texts` (or of what `text` makes of each item), at least `least`. A loop, not
 * Math.max(...lengths): spreading hundreds of thousands of values into one call overflows the stack.
 */
export function widest<T>(items: Iterable<T>, text: (item: T) => { length: number } = String, least = 0): number {
  let most = least;
  for (const item of items) {
    const length = text(item).length;
    if (length > most) most = length;
  }
  return most;
}

/** The largest of `values` (`least` when there are none), without spreading them into one call. */
export function largest(values: Iterable<number>, least = -Infinity): number {
  let most = least;
  for (const value of values) if (value > most) most = value;
  return most;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value >= 100 ? value.toFixed(0) : value.toFixed(1)}${units[unit]}`;
}
