// How ps shows a process: the STAT letters, the START column, the lifetime %CPU, the forest prefix of `ps f`.
// Pure functions, each matching procps-ng's output (output.c) so porthole's columns read like `ps faux`.
import { escapeBytes, escapeName } from '../render/escape.js';
import type { ProcStat } from './parse.js';

/** A process's command for a terminal: escaped, and bytes that are not UTF-8 shown as \xHH from argvBytes. */
export function shownCommand(row: { command: string; argvBytes?: string[] }): string {
  if (!row.argvBytes) return escapeName(row.command);
  return row.argvBytes.map((arg) => escapeBytes(Buffer.from(arg, 'base64'))).join(' ');
}

/** The kernel's one-letter states as words, for --json. */
export const STATE_NAMES: Record<string, string> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk-sleep',
  Z: 'zombie',
  T: 'stopped',
  t: 'tracing-stop',
  X: 'dead',
  x: 'dead',
  I: 'idle',
  K: 'wakekill',
  W: 'waking',
  P: 'parked',
};

export function stateName(letter: string): string {
  return STATE_NAMES[letter] ?? 'unknown';
}

/**
 * ps's STAT: the state letter, then `<` high priority, `N` low priority, `L` pages locked, `s` session leader,
 * `l` multi-threaded, `+` in the terminal's foreground process group.
 */
export function statFlags(stat: Pick<ProcStat, 'pid' | 'state' | 'nice' | 'session' | 'threads' | 'pgrp' | 'tpgid'>, lockedBytes = 0): string {
  let out = stat.state;
  if (stat.nice < 0) out += '<';
  if (stat.nice > 0) out += 'N';
  if (lockedBytes > 0) out += 'L';
  if (stat.session === stat.pid) out += 's';
  if (stat.threads > 1) out += 'l';
  if (stat.pgrp === stat.tpgid) out += '+';
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ps's START (BSD `u` format): HH:MM when started today, MonDD this year, else the year. Local time. */
export function formatStart(startMs: number, nowMs: number): string {
  const start = new Date(startMs);
  const now = new Date(nowMs);
  if (start.getFullYear() !== now.getFullYear()) return String(start.getFullYear());
  if (start.getMonth() !== now.getMonth() || start.getDate() !== now.getDate()) {
    return `${MONTHS[start.getMonth()]}${String(start.getDate()).padStart(2, '0')}`;
  }
  return `${String(start.getHours()).padStart(2, '0')}:${String(start.getMinutes()).padStart(2, '0')}`;
}

/**
 * ps's %CPU: CPU time used over the process's whole life divided by the time it has been alive, in percent of
 * one CPU, one decimal. (A sampled figure, as `top` shows, is cpuPercentBetween.)
 */
export function lifetimeCpuPercent(cpuTicks: number, startTicks: number, uptimeSeconds: number, ticksPerSecond: number): number {
  const aliveSeconds = uptimeSeconds - startTicks / ticksPerSecond;
  if (aliveSeconds <= 0) return 0;
  return Math.round((cpuTicks / ticksPerSecond / aliveSeconds) * 1000) / 10;
}

/** CPU percent of one CPU between two samples of a process's utime+stime, for a live view such as `top`. */
export function cpuPercentBetween(ticksBefore: number, ticksAfter: number, elapsedMs: number, ticksPerSecond: number): number {
  if (elapsedMs <= 0 || ticksAfter < ticksBefore) return 0;
  return Math.round(((ticksAfter - ticksBefore) / ticksPerSecond / (elapsedMs / 1000)) * 1000) / 10;
}

/**
 * The tree drawing `ps f` puts before a command. `ancestorsContinue[i]` says whether the ancestor at depth i+1
 * has a later sibling (so its branch line continues past this row); the root (depth 0) gets no prefix.
 */
export function forestPrefix(depth: number, ancestorsContinue: boolean[]): string {
  if (depth === 0) return '';
  let out = '';
  for (let level = 1; level < depth; level++) out += ancestorsContinue[level - 1] ? ' |  ' : '    ';
  return out + ' \\_ ';
}
