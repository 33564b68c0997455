// Which shell to start when the user named no command: the container user's login shell from the container's
// own /etc/passwd, else bash, else sh. Everything is read through the archive endpoint, so it works on stopped
// containers and needs no shell (or anything else) inside the container.
import type { EngineClient, PathStat } from '../engine/types.js';
import { readEntry } from '../report/archive.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** Parses /etc/passwd text; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    entries.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]!.trim() });
  }
  return entries;
}

/** The passwd entry for docker's user spec (`name`, `uid`, `name:group`, `uid:gid`; empty means root). */
export function findUser(entries: PasswdEntry[], userSpec: string | undefined): PasswdEntry | undefined {
  const user = (userSpec ?? '').split(':')[0] || '0';
  if (/^\d+$/.test(user)) return entries.find((e) => e.uid === Number(user));
  return entries.find((e) => e.name === user);
}

/** Login shells that mean "no login here". */
export function isNoLoginShell(shell: string): boolean {
  return !shell || /(^|\/)(nologin|false|true|sync|halt|shutdown)$/.test(shell);
}

/** The shells to try, best first: the login shell when it is a real one, then bash, then sh. */
export function shellCandidates(loginShell: string | undefined): string[] {
  const fallbacks = ['/bin/bash', '/usr/bin/bash', '/bin/sh', '/usr/bin/sh'];
  if (loginShell && !isNoLoginShell(loginShell) && loginShell.startsWith('/')) {
    return [loginShell, ...fallbacks.filter((s) => s !== loginShell)];
  }
  return fallbacks;
}

const GO_MODE_DIR = 2 ** 31;

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** Whether `path` is an executable file in the container, following symlinks a few levels. */
export async function executableExists(engine: EngineClient, containerId: string, path: string, depth = 0): Promise<boolean> {
  let stat: PathStat;
  try {
    stat = await engine.statPath(containerId, path);
  } catch {
    return false;
  }
  if (stat.linkTarget && depth < 8) {
    const target = stat.linkTarget.startsWith('/') ? stat.linkTarget : `${parentOf(path)}/${stat.linkTarget}`;
    // The engine's stat may already report the resolved target; a link to itself needs no second look.
    if (target !== path) return executableExists(engine, containerId, target, depth + 1);
  }
  if (stat.mode >= GO_MODE_DIR) return false;
  return (stat.mode & 0o111) !== 0;
}

/**
 * Reads one small text file from the container (report/archive.ts: from its layers where that is certain, else
 * through the archive endpoint); undefined when absent or not a plain file.
 */
export async function readContainerFile(engine: EngineClient, containerId: string, path: string, limit = 4 * 1024 * 1024): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  const read = await readEntry(engine, containerId, path, (c) => (chunks.push(c), true), limit);
  return read?.info.type === 'file' ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export interface ShellChoice {
  /** The shell to run, or undefined when the container has none porthole can find. */
  shell: string | undefined;
  /** Where the choice came from, for the user: "login shell of root in /etc/passwd", "bash", "sh". */
  reason: string;
}

/** Chooses the interactive shell for `userSpec` in the container (running or stopped). */
export async function chooseShell(engine: EngineClient, containerId: string, userSpec: string | undefined): Promise<ShellChoice> {
  const passwdText = await readContainerFile(engine, containerId, '/etc/passwd').catch(() => undefined);
  const entry = passwdText ? findUser(parsePasswd(passwdText), userSpec) : undefined;
  const candidates = shellCandidates(entry?.shell);
  const exists = await Promise.all(candidates.map((c) => executableExists(engine, containerId, c)));
  const index = exists.indexOf(true);
  if (index < 0) return { shell: undefined, reason: 'no shell found (looked for the login shell, bash and sh)' };
  const shell = candidates[index]!;
  const reason = entry && shell === entry.shell ? `login shell of ${entry.name} in /etc/passwd` : shell.replace(/^.*\//, '');
  return { shell, reason };
}

/** Whether something that is not a directory exists at `path` (a symlink counts: one round trip, no following). */
async function presentNotDir(engine: EngineClient, containerId: string, path: string): Promise<boolean> {
  try {
    const stat = await engine.statPath(containerId, path);
    return stat.linkTarget !== '' || stat.mode < GO_MODE_DIR;
  } catch {
    return false;
  }
}

/**
 * Cheap check that the container has some shell, for choosing between exec and the toolbox way: one HEAD
 * request in the common case. `false` also when the container cannot be asked (check again by id then).
 */
export async function hasShell(engine: EngineClient, containerRef: string): Promise<boolean> {
  if (await presentNotDir(engine, containerRef, '/bin/sh')) return true;
  const others = await Promise.all(['/usr/bin/sh', '/bin/bash', '/usr/bin/bash', '/bin/ash'].map((p) => presentNotDir(engine, containerRef, p)));
  return others.includes(true);
}
