// Session identity for everything porthole creates: labels that say "ours", which session, and which process
// on which host owns it, so `porthole gc` can tell a live session's things from a killed one's leftovers.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const OWNED_LABEL = 'io.porthole.owned';
export const SESSION_LABEL = 'io.porthole.session';
export const PID_LABEL = 'io.porthole.pid';
export const HOST_LABEL = 'io.porthole.host';
/** The owning process's start time in clock ticks since boot, so a reused PID is not mistaken for the owner. */
export const PID_START_LABEL = 'io.porthole.pid-start';
export const TARGET_LABEL = 'io.porthole.target';

/** Start time of a process (field 22 of /proc/PID/stat), or undefined when it does not exist. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** A killed process whose parent has not reaped it yet still has /proc/PID/stat, in state Z (or X). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

let current: string | undefined;

/** This process's session id: one per porthole invocation. */
export function sessionId(): string {
  // 48 random bits tell concurrent sessions apart (the labels also carry the PID and its start time); it names
  // things, it guards nothing, so Math.random does, without loading node:crypto (5 ms) on the way to the engine.
  current ??= [0, 0, 0].map(() => Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')).join('');
  return current;
}

export function sessionLabels(targetId?: string): Record<string, string> {
  const labels: Record<string, string> = {
    [OWNED_LABEL]: 'true',
    [SESSION_LABEL]: sessionId(),
    [PID_LABEL]: String(process.pid),
    [HOST_LABEL]: hostname(),
    [PID_START_LABEL]: processStartTicks(process.pid) ?? '',
  };
  if (targetId) labels[TARGET_LABEL] = targetId;
  return labels;
}

/**
 * Whether the session that made a labelled thing is still alive. Things made on another host cannot be
 * checked from here: they count as alive unless the caller says otherwise.
 */
export function ownerAlive(labels: Record<string, string>): boolean | 'unknown' {
  if (labels[HOST_LABEL] && labels[HOST_LABEL] !== hostname()) return 'unknown';
  const pid = Number(labels[PID_LABEL]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const start = processStartTicks(pid);
  if (start === undefined || isZombie(pid)) return false;
  return !labels[PID_START_LABEL] || labels[PID_START_LABEL] === start;
}
