// Laying out text for the full-screen views: fitting cells and lines to a width, sparklines, keys from raw input.
// Everything here is pure and unit-tested; text from containers must be escaped (render/escape.ts) before it gets here.

import { largest, widest } from '../render/table.js';

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * A sparkline of the last `width` values, each drawn as one of eight block heights between 0 and `max`
 * (default: the largest value shown). Missing history is left blank so a new row grows from the right.
 */
export function sparkline(values: number[], width: number, max?: number): string {
  const shown = values.slice(-width);
  const top = max ?? largest(shown, 0);
  const cells = shown.map((v) => {
    if (!(top > 0) || !(v > 0)) return BLOCKS[0]!;
    const level = Math.min(BLOCKS.length - 1, Math.max(0, Math.round((v / top) * (BLOCKS.length - 1))));
    return BLOCKS[level]!;
  });
  return ' '.repeat(Math.max(0, width - cells.length)) + cells.join('');
}

/** Cuts text to width (adding '…' when it had to cut) and pads it to exactly width. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const chars = [...text];
  let out = chars.length > width ? chars.slice(0, Math.max(0, width - 1)).join('') + '…' : text;
  const len = [...out].length;
  if (len < width) out = align === 'right' ? ' '.repeat(width - len) + out : out + ' '.repeat(width - len);
  return out;
}

/** Cuts a line to the screen's width without padding. */
export function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width ? chars.slice(0, Math.max(0, width - 1)).join('') + '…' : text;
}

export interface TableColumn<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  /** A column that takes the room left over (at least its header's width). */
  flexible?: boolean;
}

/** Lays out a table for a screen of `width` columns: fixed columns sized to content, flexible ones share the rest. */
export function layoutTable<Row>(rows: Row[], columns: TableColumn<Row>[], width: number): { header: string; lines: string[] } {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const natural = columns.map((c, i) => widest(cells, (r) => [...r[i]!], c.header.length));
  const gap = 2;
  const fixed = columns.reduce((sum, c, i) => sum + (c.flexible ? 0 : natural[i]!), 0) + gap * (columns.length - 1);
  const flexCount = columns.filter((c) => c.flexible).length;
  const spare = Math.max(0, width - fixed);
  const widths = columns.map((c, i) => {
    if (!c.flexible) return natural[i]!;
    return Math.max(c.header.length, Math.min(natural[i]!, Math.floor(spare / flexCount)));
  });
  const line = (values: string[]) => clip(values.map((v, i) => fit(v, widths[i]!, columns[i]!.align)).join(' '.repeat(gap)).trimEnd(), width);
  return { header: line(columns.map((c) => c.header)), lines: cells.map(line) };
}

export type Key = 'up' | 'down' | 'enter' | 'escape' | 'quit' | 'interrupt' | 'pageup' | 'pagedown' | 'home' | 'end' | { char: string };

/** Splits raw terminal input into keys: arrows (both cursor modes), Enter, Esc, Ctrl-C, and plain characters. */
export function parseKeys(data: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < data.length) {
    const rest = data.slice(i);
    const seq = /^\x1b(?:\[|O)([0-9;]*)([A-Za-z~])/.exec(rest);
    if (seq) {
      const [whole, params, final] = seq;
      if (final === 'A') keys.push('up');
      else if (final === 'B') keys.push('down');
      else if (final === 'H' || (final === '~' && (params === '1' || params === '7'))) keys.push('home');
      else if (final === 'F' || (final === '~' && (params === '4' || params === '8'))) keys.push('end');
      else if (final === '~' && params === '5') keys.push('pageup');
      else if (final === '~' && params === '6') keys.push('pagedown');
      i += whole!.length;
      continue;
    }
    const ch = data[i]!;
    i++;
    if (ch === '\x1b') keys.push('escape');
    else if (ch === '\r' || ch === '\n') keys.push('enter');
    else if (ch === '\x03') keys.push('interrupt');
    else if (ch === 'q' || ch === 'Q') keys.push('quit');
    else if (ch === 'k') keys.push('up');
    else if (ch === 'j') keys.push('down');
    else keys.push({ char: ch });
  }
  return keys;
}
