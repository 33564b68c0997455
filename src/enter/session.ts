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

/**
 * The same facts on an image porthole makes (a snapshot), under keys of their own: a container inherits its
 * image's labels, so an image labelled io.porthole.owned=true would make every container run from it look like
 * porthole's. gc finds porthole's images by these and its containers by the keys above, never one by the other.
 */
export const IMAGE_OWNED_LABEL = 'io.porthole.image.owned';
export const IMAGE_SESSION_LABEL = 'io.porthole.image.session';
export const IMAGE_PID_LABEL = 'io.porthole.image.pid';
export const IMAGE_HOST_LABEL = 'io.porthole.image.host';
export const IMAGE_PID_START_LABEL = 'io.porthole.image.pid-start';
export const IMAGE_TARGET_LABEL = 'io.porthole.image.target';
/** On a snapshot kept with --keep (no owned label: gc leaves it). */
export const SNAPSHOT_LABEL = 'io.porthole.snapshot';

/** One namespace's keys for the owner facts. */
export interface OwnerKeys {
  owned: string;
  session: string;
  pid: string;
  pidStart: string;
  host: string;
  target: string;
}
export const CONTAINER_KEYS: OwnerKeys = { owned: OWNED_LABEL, session: SESSION_LABEL, pid: PID_LABEL, pidStart: PID_START_LABEL, host: HOST_LABEL, target: TARGET_LABEL };
export const IMAGE_KEYS: OwnerKeys = {
  owned: IMAGE_OWNED_LABEL,
  session: IMAGE_SESSION_LABEL,
  pid: IMAGE_PID_LABEL,
  pidStart: IMAGE_PID_START_LABEL,
  host: IMAGE_HOST_LABEL,
  target: IMAGE_TARGET_LABEL,
};
/** Every key porthole writes to say who owns a thing, both namespaces. */
export const ALL_OWNER_KEYS = [...Object.values(CONTAINER_KEYS), ...Object.values(IMAGE_KEYS), SNAPSHOT_LABEL];

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

function ownerLabels(keys: OwnerKeys, targetId?: string): Record<string, string> {
  const labels: Record<string, string> = {
    [keys.owned]: 'true',
    [keys.session]: sessionId(),
    [keys.pid]: String(process.pid),
    [keys.host]: hostname(),
    [keys.pidStart]: processStartTicks(process.pid) ?? '',
  };
  if (targetId) labels[keys.target] = targetId;
  return labels;
}

/** Labels for a container this session makes. */
export function sessionLabels(targetId?: string): Record<string, string> {
  return ownerLabels(CONTAINER_KEYS, targetId);
}

/** Labels for an image this session makes (a snapshot), in the image namespace. */
export function sessionImageLabels(targetId?: string): Record<string, string> {
  return ownerLabels(IMAGE_KEYS, targetId);
}

/**
 * The names porthole gives the containers it makes, each ending in the session id: gc removes a container only
 * when its name is one of these with the session id its labels carry.
 */
export type ContainerKind = 'debug copy' | 'image shell' | 'toolbox sidecar' | 'toolbox reader' | 'toolbox filler' | 'image reader';
const KIND_SUFFIX: Record<ContainerKind, string> = {
  'debug copy': '-porthole-',
  // shell IMAGE's throwaway container, and the never-started one that reads an image where its layers cannot
  'image shell': '-porthole-image-',
  'image reader': 'porthole-image-read-',
  'toolbox sidecar': '-porthole-toolbox-',
  'toolbox reader': 'porthole-toolbox-read-',
  'toolbox filler': 'porthole-toolbox-fill-',
};

function safeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** The name of a container of this kind for this session (the copy and the sidecar carry the target's name first). */
export function containerName(kind: ContainerKind, targetName = ''): string {
  const prefix = kind === 'debug copy' || kind === 'toolbox sidecar' || kind === 'image shell' ? safeName(targetName) : '';
  return `${prefix}${KIND_SUFFIX[kind]}${sessionId()}`;
}

/** Which of porthole's names `name` is for session `session`, if any. */
export function kindOfName(name: string, session: string): ContainerKind | undefined {
  const order: ContainerKind[] = ['toolbox reader', 'toolbox filler', 'image reader', 'toolbox sidecar', 'image shell', 'debug copy'];
  for (const kind of order) {
    const tail = KIND_SUFFIX[kind] + session;
    const whole = kind === 'toolbox reader' || kind === 'toolbox filler' || kind === 'image reader';
    if (whole ? name === tail : name.endsWith(tail) && name.length > tail.length) return kind;
  }
  return undefined;
}

/** What porthole wrote about a thing's owner, read back. */
export interface Owner {
  session: string;
  pid: number;
  pidStart: string;
  host: string;
}

const SESSION_FORM = /^[0-9a-f]{12}$/;
const PID_FORM = /^[1-9][0-9]{0,9}$/;
const TICKS_FORM = /^[0-9]{1,20}$/;
const HOST_FORM = /^[^\s\x00-\x1f]{1,255}$/;

/**
 * The owner facts under `keys`, each present and in the form porthole writes it; and, when the thing's image
 * labels are given (a container), none of them equal to the image's (a container inherits its image's labels,
 * so a fact the image also holds may not have been written by porthole at all). A sentence saying why not else.
 */
export function readOwner(labels: Record<string, string>, keys: OwnerKeys, imageLabels?: Record<string, string>): Owner | string {
  if (labels[keys.owned] !== 'true') return `it has no ${keys.owned}=true`;
  const forms: [string, RegExp][] = [
    [keys.session, SESSION_FORM],
    [keys.pid, PID_FORM],
    [keys.pidStart, TICKS_FORM],
    [keys.host, HOST_FORM],
  ];
  for (const [key, form] of forms) {
    if (!form.test(labels[key] ?? '')) return `its ${key} label is missing or not one porthole writes`;
  }
  if (imageLabels) {
    for (const key of [keys.owned, keys.session, keys.pid, keys.pidStart, keys.host]) {
      if (imageLabels[key] === labels[key]) return `its ${key} label comes from its image, not from porthole`;
    }
  }
  return { session: labels[keys.session]!, pid: Number(labels[keys.pid]), pidStart: labels[keys.pidStart]!, host: labels[keys.host]! };
}

/** Whether the owner process of what porthole wrote is alive: the same PID with the same start time, on this host. */
export function ownerProcessAlive(owner: Owner): boolean | 'unknown' {
  if (owner.host !== hostname()) return 'unknown';
  const start = processStartTicks(owner.pid);
  if (start === undefined || isZombie(owner.pid)) return false;
  return start === owner.pidStart;
}
