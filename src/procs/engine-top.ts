// The fallback when porthole cannot see the engine's processes (a tcp:// or ssh:// engine, porthole in another
// PID namespace): the engine's own `top`, which runs ps on the engine's host. PIDs are then that host's, and
// the PID inside the container is unknown (ps has no NSpid column).
import type { TopResult } from '../engine/types.js';

/**
 * ps arguments asked of the engine. Only the last column may hold spaces (the engine splits rows on
 * whitespace and keeps the rest in the last column), so the start time comes as elapsed seconds.
 */
export const ENGINE_TOP_PS_ARGS = '-eo pid,ppid,user,pcpu,rss,etimes,stat,args';

export interface EngineTopRow {
  hostPid: number;
  hostPpid: number | null;
  user: string;
  cpuPercent: number | null;
  rssBytes: number | null;
  /** Unix ms, from elapsed seconds (ELAPSED) or null when the engine gave only a clock time. */
  startTimeMs: number | null;
  /** ps STAT when given (ours), else null. */
  stat: string | null;
  command: string;
}

/**
 * Reads the engine's top answer by column title, so both our ps_args and an engine's defaults (`ps -ef`: UID
 * PID PPID C STIME TTY TIME CMD) map onto the same rows.
 */
export function parseEngineTop(top: TopResult, nowMs: number): EngineTopRow[] {
  const index = (...names: string[]) => top.titles.findIndex((t) => names.includes(t.trim().toUpperCase()));
  const pid = index('PID');
  const ppid = index('PPID');
  const user = index('USER', 'UID', 'RUSER');
  const cpu = index('%CPU', 'C');
  const rss = index('RSS', 'RSZ');
  const elapsed = index('ELAPSED');
  const stat = index('STAT', 'S');
  const command = index('COMMAND', 'CMD', 'ARGS');
  const num = (v: string | undefined) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
  const rows: EngineTopRow[] = [];
  for (const p of top.processes) {
    const hostPid = num(p[pid]);
    if (hostPid === null) continue;
    const kib = num(p[rss]);
    const seconds = num(p[elapsed]);
    rows.push({
      hostPid,
      hostPpid: num(p[ppid]),
      user: p[user] ?? '?',
      cpuPercent: num(p[cpu]),
      rssBytes: kib === null ? null : kib * 1024,
      startTimeMs: seconds === null ? null : nowMs - seconds * 1000,
      stat: stat >= 0 ? (p[stat] ?? null) : null,
      command: command >= 0 ? (p[command] ?? '') : '',
    });
  }
  return rows;
}

/** The rows as a forest by PPID: roots are rows whose parent is not among them; children in PID order. */
export function engineTopForest(rows: EngineTopRow[]): { roots: EngineTopRow[]; children: (row: EngineTopRow) => EngineTopRow[] } {
  const byPid = new Map(rows.map((r) => [r.hostPid, r]));
  const kids = new Map<number, EngineTopRow[]>();
  const roots: EngineTopRow[] = [];
  for (const row of [...rows].sort((a, b) => a.hostPid - b.hostPid)) {
    if (row.hostPpid !== null && row.hostPpid !== row.hostPid && byPid.has(row.hostPpid)) {
      const list = kids.get(row.hostPpid) ?? [];
      list.push(row);
      kids.set(row.hostPpid, list);
    } else {
      roots.push(row);
    }
  }
  return { roots, children: (row) => kids.get(row.hostPid) ?? [] };
}
