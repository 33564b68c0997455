// One file of a container as porthole shows it: its container path plus what the tar header said, and the
// shapes it takes in human output (ls -l, tar tv) and in --json.
import type { LayerDirEntry } from '../engine/types.js';
import type { EntryType, TarEntry } from './tar-reader.js';
import { basename, jsonBytes } from './paths.js';

export interface FsEntry extends TarEntry {
  /** Absolute container path, a byte string. */
  path: string;
}

/** An entry read from the container's layers, at container path `path` (a byte string), as the rest of porthole sees entries. */
export function layerEntry(path: string, e: LayerDirEntry): FsEntry {
  const link = e.hardlinkTo !== undefined;
  return {
    path,
    name: e.name,
    linkName: link ? e.hardlinkTo! : e.linkTarget,
    type: link ? 'hardlink' : e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: link ? 0 : e.size,
    mtime: e.mtime,
    uname: '',
    gname: '',
  };
}

/**
 * An entry of the container's own layer (statChanges names a second name's first one as the export does,
 * relative to the root) as the archive of folder `root` shows it: a link named relative to the folder's parent,
 * or the file itself where its first name lies outside the folder (the archive meets this name first).
 */
export function inArchiveOf(root: string, e: LayerDirEntry): LayerDirEntry {
  if (e.hardlinkTo === undefined || root === '/') return e;
  const first = `/${e.hardlinkTo}`;
  if (!(first === root || first.startsWith(`${root}/`))) return { ...e, hardlinkTo: undefined };
  const cut = root.lastIndexOf('/');
  return { ...e, hardlinkTo: first.slice(cut + 1) };
}

const TYPE_CHAR: Record<EntryType, string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  char: 'c',
  block: 'b',
  fifo: 'p',
  other: '?',
};

/** `drwxr-xr-x`, with s/S and t/T for setuid, setgid and sticky, as ls and tar print it. */
export function modeString(type: EntryType, mode: number): string {
  const bit = (mask: number, ch: string) => (mode & mask ? ch : '-');
  const special = (exec: number, flag: number, on: string) => (mode & flag ? (mode & exec ? on : on.toUpperCase()) : bit(exec, 'x'));
  // A hardlink is a regular file that shares its data; ls shows it as one.
  const typeChar = type === 'hardlink' ? '-' : TYPE_CHAR[type];
  return (
    typeChar +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't')
  );
}

/** `2026-11-28 15:24` in local time, as `tar tv` prints it. */
export function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

export interface Owners {
  users: Map<number, string>;
  groups: Map<number, string>;
}

/** Parses /etc/passwd or /etc/group text: `name:x:ID:...` lines to id -> name (the first name for an id wins). */
export function parseIdFile(text: string): Map<number, string> {
  const ids = new Map<number, string>();
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts.length < 3 || !parts[0] || line.startsWith('#')) continue;
    const id = Number(parts[2]);
    if (Number.isInteger(id) && id >= 0 && !ids.has(id)) ids.set(id, parts[0]);
  }
  return ids;
}

/** The stable --json shape of one file (documented in docs/readme/ls.md). */
export interface EntryJson {
  path: string;
  pathBytes?: string;
  name: string;
  nameBytes?: string;
  type: EntryType;
  mode: string;
  perm: number;
  uid: number;
  gid: number;
  user: string | null;
  group: string | null;
  size: number;
  mtime: string;
  linkTarget: string | null;
  linkTargetBytes?: string;
}

export function entryJson(entry: FsEntry, owners?: Owners): EntryJson {
  const link = entry.type === 'symlink' || entry.type === 'hardlink';
  return {
    ...(jsonBytes('path', entry.path) as { path: string }),
    ...(jsonBytes('name', basename(entry.path)) as { name: string }),
    type: entry.type,
    mode: modeString(entry.type, entry.mode),
    perm: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    user: owners?.users.get(entry.uid) ?? null,
    group: owners?.groups.get(entry.gid) ?? null,
    size: entry.type === 'file' ? entry.size : 0,
    mtime: new Date(entry.mtime * 1000).toISOString(),
    ...(link ? (jsonBytes('linkTarget', entry.linkName) as { linkTarget: string }) : { linkTarget: null }),
  };
}
