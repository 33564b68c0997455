// The frames of `porthole top`: the container list (stats with sparklines, one row selected) and one container's
// process tree with live CPU and memory per process. Pure functions of the view's state, so they are unit-tested.
import { formatBinaryBytes, formatPercent, memoryPercent } from '../metrics/calc.js';
import type { StatsRow } from '../metrics/types.js';
import { escapeName } from '../render/escape.js';
import { shownCommand } from '../procs/format.js';
import { BOLD, RESET } from './screen.js';
import { History, liveStatsLines, titleLine } from './stats-view.js';
import { clip, layoutTable, type TableColumn } from './text.js';
import type { Frame } from './screen.js';

/** The keys shown in the title bars. */
export const LIST_KEYS = '↑↓/jk select · Enter processes · s shell · l logs · w why · q quit';
export const PROCESS_KEYS = '↑↓ scroll · Esc back · s shell · l logs · w why · q back';

/** Rows that fit between the title/header lines and the status line, scrolled so `selected` stays visible. */
export function visibleWindow(count: number, selected: number, room: number, previousTop = 0): { top: number; end: number } {
  if (room <= 0 || count === 0) return { top: 0, end: 0 };
  let top = Math.min(Math.max(0, previousTop), Math.max(0, count - room));
  if (selected < top) top = selected;
  if (selected >= top + room) top = selected - room + 1;
  return { top, end: Math.min(count, top + room) };
}

export interface ListState {
  rows: StatsRow[];
  history: History;
  selected: number;
  scrollTop: number;
  sort: string;
  intervalS: number;
  status: string;
}

export function listFrame(state: ListState, width: number, height: number): { frame: Frame; scrollTop: number } {
  const title = `porthole top · ${state.rows.length} container${state.rows.length === 1 ? '' : 's'} · sorted by ${state.sort} · every ${state.intervalS}s · ${LIST_KEYS}`;
  const room = height - 3;
  const { top, end } = visibleWindow(state.rows.length, state.selected, room, state.scrollTop);
  const lines = liveStatsLines(state.rows.slice(top, end), state.history, width, state.selected - top);
  const frame = [titleLine(title, width), ...lines];
  if (!state.rows.length) frame.push('', 'No running containers.');
  while (frame.length < height - 1) frame.push('');
  frame.push(clip(state.status, width));
  return { frame, scrollTop: top };
}

/** One process row of the process view: the `ps` row from src/procs plus the live CPU figure. */
export interface ProcessLine {
  pid: number | null;
  hostPid: number;
  user: string;
  /** Over the last refresh; null until two readings exist (then ps's lifetime figure is shown, marked ~). */
  liveCpuPercent: number | null;
  lifetimeCpuPercent: number | null;
  rssBytes: number | null;
  stat: string | null;
  /** The `ps f` drawing before the command. */
  prefix: string;
  command: string;
  /** Each argument's exact bytes, base64, when one is not valid UTF-8. */
  argvBytes?: string[];
  role: 'shim' | 'init' | 'process';
}

export interface ProcessState {
  container: { name: string; id: string };
  stats: StatsRow | undefined;
  processes: ProcessLine[];
  /** `host`: /proc on this machine; `engine`: the engine's top (PIDs are the engine host's, CPU is lifetime). */
  view: 'host' | 'engine';
  scrollTop: number;
  status: string;
  /** Set when the container stopped or went away. */
  gone?: string;
}

function cpuCell(p: ProcessLine): string {
  if (p.liveCpuPercent !== null) return p.liveCpuPercent.toFixed(1);
  return p.lifetimeCpuPercent === null ? '-' : `~${p.lifetimeCpuPercent.toFixed(1)}`;
}

export function processFrame(state: ProcessState, width: number, height: number): Frame {
  const name = escapeName(state.container.name);
  const title = `porthole top › ${name} (${state.container.id.slice(0, 12)}) · ${state.processes.length} processes · ${PROCESS_KEYS}`;
  const s = state.stats;
  const summary = state.gone
    ? state.gone
    : s
      ? `CPU ${formatPercent(s.cpuPercent)}   MEM ${formatBinaryBytes(s.memoryBytes)} / ${formatBinaryBytes(s.memoryLimitBytes)} (${formatPercent(memoryPercent(s.memoryBytes, s.memoryLimitBytes))})   PIDS ${s.pids}` +
        (state.view === 'engine' ? '   (processes from the engine: PIDs are the engine host\'s, CPU is the lifetime average)' : '')
      : '';
  const columns: TableColumn<ProcessLine>[] = [
    { header: 'PID', value: (p) => (p.pid === null ? '-' : String(p.pid)), align: 'right' },
    { header: 'HOST PID', value: (p) => String(p.hostPid), align: 'right' },
    { header: 'USER', value: (p) => escapeName(p.user) },
    { header: 'CPU %', value: cpuCell, align: 'right' },
    { header: 'RSS', value: (p) => (p.rssBytes === null ? '-' : formatBinaryBytes(p.rssBytes)), align: 'right' },
    { header: 'STAT', value: (p) => p.stat ?? '-' },
    { header: 'COMMAND', value: (p) => p.prefix + shownCommand(p), flexible: true },
  ];
  const room = height - 4;
  const top = Math.min(state.scrollTop, Math.max(0, state.processes.length - room));
  const { header, lines } = layoutTable(state.processes.slice(top, top + Math.max(0, room)), columns, width);
  const frame = [titleLine(title, width), clip(summary, width), BOLD + header, ...lines];
  while (frame.length < height - 1) frame.push('');
  frame.push(clip(state.status, width));
  return frame;
}

/** How far the process list may scroll. */
export function maxProcessScroll(count: number, height: number): number {
  return Math.max(0, count - (height - 4));
}

/** The banner shown on the normal screen while a child command (shell, logs, why) has the terminal. */
export function handOverBanner(command: string, name: string): string {
  return `${BOLD}porthole top: ${command} ${escapeName(name)}${RESET} (porthole top comes back when it ends)\n`;
}
