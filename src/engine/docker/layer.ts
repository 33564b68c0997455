// Reading a file the container wrote itself straight from its writable layer, on the engine's own host.
//
// Every read through the archive endpoint costs one copy of the engine's tar helper (about 60 ms per file on
// Docker 20.10 here), and a stopped container's files can be had no other way. But what the container itself
// wrote (its logs, above all) sits in overlay2's upper directory as plain files. A file found there, under
// folders that are real folders there too, is exactly the file the container sees: the upper layer wins over
// everything below it, so whiteouts and opaque folders of lower layers do not matter. Everything else (files
// from the image, links on the way, volumes, tmpfs, the engine's own /etc files, other storage drivers, engines
// on other hosts, no permission) answers "not for sure", and the caller goes through the engine as before.
//
// Why no race is left (docker cp's CVE-2018-15664: a running container swaps a folder on the path for a link to
// a host folder, `renameat2(RENAME_EXCHANGE)` in a loop, between a check and a use). There is one way to reach
// anything in a layer, openFolderIn and the `inFolder` paths built on it, and no lookup of a layer path by name:
// - The walk starts from the layer's own folder, a path the engine gave and the container cannot change (it is
//   the root of what the container writes, or a read-only image layer).
// - Each folder below is looked up by one name inside the folder opened before it (`/proc/self/fd/N/name`, the
//   kernel's openat on that folder) and opened with O_NOFOLLOW|O_DIRECTORY: a link there, even one swapped in
//   after the lstat, makes the open fail (ELOOP/ENOTDIR) and the answer is "not for sure", never the link's target.
// - The file itself is opened relative to its held folder with O_NOFOLLOW|O_NONBLOCK, and fstat of that very
//   descriptor must show the regular file the lstat saw (same device and inode). What is read is that descriptor.
// A held folder the container renames meanwhile is still inside its layer, so the worst a race can do is show
// another of the container's own files, which it could have written there anyway; never a host file.
//
// Further down, what folders and entries need from the layers: opening a folder safely, reading an entry,
// comparing it with the engine's view (used by layer-walk.ts, which lists folders and walks trees), and the
// details of what the container changed (statOwnLayer: for diff -l, du, find --newer-than-image).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { walkOrder } from '../../fs/paths.js';
import type { LayerDirEntry, LayerFile, PathStat } from '../types.js';

/** What the layer reader needs from the engine's inspect document. */
export interface InspectDoc {
  GraphDriver?: { Name?: string; Data?: Record<string, string> | null };
  Mounts?: { Destination?: string }[] | null;
  HostConfig?: { Tmpfs?: Record<string, string> | null } | null;
  ResolvConfPath?: string;
  HostnamePath?: string;
  HostsPath?: string;
}

/** Paths the engine or the runtime puts something else over, whatever the layer holds. */
export function coveredPaths(doc: InspectDoc): string[] {
  const covered = ['/proc', '/sys', '/dev'];
  for (const m of doc.Mounts ?? []) if (m.Destination) covered.push(m.Destination);
  for (const dest of Object.keys(doc.HostConfig?.Tmpfs ?? {})) covered.push(dest);
  if (doc.ResolvConfPath) covered.push('/etc/resolv.conf');
  if (doc.HostnamePath) covered.push('/etc/hostname');
  if (doc.HostsPath) covered.push('/etc/hosts');
  return covered.map((p) => p.replace(/\/+$/, '') || '/');
}

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/** A plain file found in one layer, already open: what is read is what was checked, never a second lookup. */
type Opened = { fd: number; st: BigIntStats };
type Lookup = Opened | 'absent' | 'unsure';

/**
 * `path` (as parts) in one layer folder: a regular file there (opened), not there at all, or something we do not
 * read. Every step goes through the folder opened before it (see "Why no race is left" above).
 */
function lookIn(layer: string, parts: string[]): Lookup {
  const names = parts.map((p) => Buffer.from(p, 'utf8').toString('latin1'));
  const folder = openFolderIn(layer, names.slice(0, -1));
  // a link, a whiteout or a file where a folder should be: the engine knows better
  if (folder === 'absent' || typeof folder !== 'object') return folder === 'absent' ? 'absent' : 'unsure';
  try {
    return openIn(folder.fd, names[names.length - 1]!);
  } finally {
    closeSync(folder.fd);
  }
}

/** Plain file `name` (bytes as latin1) in the open folder `dirFd`: opened without following a link or blocking on a FIFO. */
function openIn(dirFd: number, name: string): Lookup {
  const path = inFolder(dirFd, name);
  let seen: BigIntStats;
  try {
    seen = lstatSync(path, { bigint: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unsure';
  }
  if (!seen.isFile()) return 'unsure';
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number;
  try {
    // O_NOATIME: reading leaves the layer's access times as they were (where we own the file or are root)
    fd = openSync(path, flags | (constants.O_NOATIME ?? 0));
  } catch {
    try {
      fd = openSync(path, flags);
    } catch {
      return 'unsure';
    }
  }
  const st = fstatSync(fd, { bigint: true });
  // swapped for something else between the lstat and the open: not the entry that was checked
  if (!st.isFile() || st.ino !== seen.ino || st.dev !== seen.dev) {
    closeSync(fd);
    return 'unsure';
  }
  return { fd, st };
}

/** The path as parts, when it is one we read from layers: absolute, plain, and not covered by a mount. */
export function plainParts(doc: InspectDoc, path: string): string[] | undefined {
  const parts = path.split('/').slice(1);
  if (!path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  if (coveredPaths(doc).some((dir) => isUnder(path, dir))) return undefined;
  return parts;
}

export function layers(doc: InspectDoc): { upper: string; lower: string[] } | undefined {
  if (doc.GraphDriver?.Name !== 'overlay2') return undefined;
  const data = doc.GraphDriver.Data ?? {};
  const upper = data.UpperDir;
  if (!upper || !upper.startsWith('/')) return undefined;
  const lower = (data.LowerDir ?? '').split(':').filter((d) => d.startsWith('/'));
  return { upper, lower };
}

/**
 * The file at `path` as the container sees it, straight from its layers, or undefined when the layers cannot
 * answer for sure (then ask the engine). `path` is absolute, as the engine's diff gives it. A file in the
 * container's own layer is certain; a file of the image needs the engine's word on it: `stat` (a cheap HEAD) is
 * asked only then.
 */
export async function openLayerFile(doc: InspectDoc, path: string, stat: () => Promise<PathStat | undefined>): Promise<LayerFile | undefined> {
  const where = layers(doc);
  const parts = where && plainParts(doc, path);
  if (!where || !parts) return undefined;
  const own = lookIn(where.upper, parts);
  if (own === 'unsure') return undefined;
  if (own !== 'absent') return layerFile(own);
  const seen = await stat();
  return seen && imageFile(where.lower, parts, seen);
}

/** The container's own layer only: its file, 'absent' when that layer does not have it, undefined when unsure. */
export function openOwnLayerFile(doc: InspectDoc, path: string): LayerFile | 'absent' | undefined {
  const where = layers(doc);
  const parts = where && plainParts(doc, path);
  if (!where || !parts) return undefined;
  const found = lookIn(where.upper, parts);
  return typeof found === 'string' ? (found === 'absent' ? 'absent' : undefined) : layerFile(found);
}

/** The image's file only, given the engine's stat of the path (see imageFile). */
export function openImageLayerFile(doc: InspectDoc, path: string, seen: PathStat): LayerFile | undefined {
  const where = layers(doc);
  const parts = where && plainParts(doc, path);
  if (!where || !parts) return undefined;
  const own = lookIn(where.upper, parts);
  if (own !== 'absent') {
    if (typeof own === 'object') closeSync(own.fd);
    return undefined;
  }
  return imageFile(where.lower, parts, seen);
}

/**
 * A file of the image under the container (not in its own layer), found in the topmost image layer that has
 * it, and used only when it is the file the engine itself reports there: the engine's stat (`seen`) must say a
 * regular file of the same size, permissions and modification time. The engine saying the file exists also
 * rules out what a folder made opaque or a whiteout in a higher layer would hide: the visible file is then the
 * topmost one.
 */
function imageFile(lower: string[], parts: string[], seen: PathStat): LayerFile | undefined {
  if ((seen.mode & GO_TYPE_BITS) !== 0) return undefined;
  for (const layer of lower) {
    const found = lookIn(layer, parts);
    if (found === 'absent') continue;
    if (found === 'unsure') return undefined;
    const same =
      found.st.size === BigInt(seen.size) && Number(found.st.mode & 0o777n) === (seen.mode & 0o777) && found.st.mtimeNs === goTimeNs(seen.mtime);
    if (same) return layerFile(found);
    closeSync(found.fd);
    return undefined;
  }
  return undefined;
}

/** Go's os.FileMode bits for anything but a plain file (folder, link, device, pipe, socket, irregular...). */
const GO_TYPE_BITS = (1 << 31 >>> 0) | (1 << 30) | (1 << 29) | (1 << 28) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);

/** An RFC 3339 time with up to nanoseconds, as Go writes it, in nanoseconds since the epoch. */
export function goTimeNs(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):(\d\d))$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  let seconds = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +sec!) / 1000;
  if (sign) seconds -= (sign === '-' ? -1 : 1) * (+oh! * 3600 + +om! * 60);
  return BigInt(seconds) * 1_000_000_000n + BigInt((frac ?? '').padEnd(9, '0'));
}

/** What lookIn opened, as a file to read; reading closes it. */
function layerFile({ fd, st }: Opened): LayerFile {
  const size = Number(st.size);
  return {
    size,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: st.mtime,
    async *chunks() {
      try {
        yield* blocks(fd, Infinity);
      } finally {
        closeSync(fd);
      }
    },
    read(onData, maxBytes) {
      let bytesRead = 0;
      let cut = false;
      try {
        for (const block of blocks(fd, maxBytes)) {
          bytesRead += block.length;
          if (!onData(block)) {
            cut = true;
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
      // as the archive way says it: stopped before the end of the file
      return { bytesRead, stopped: (cut || bytesRead >= maxBytes) && bytesRead < size };
    },
  };
}

/** The file from its start in blocks of up to 64 KiB, at most `maxBytes` in all; each block is its own buffer. */
function* blocks(fd: number, maxBytes: number): Generator<Buffer> {
  let position = 0;
  while (position < maxBytes) {
    const buf = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes - position));
    const n = readSync(fd, buf, 0, buf.length, position);
    if (n === 0) return;
    position += n;
    yield buf.subarray(0, n);
  }
}

// Folders and entries. A name in a layer folder is read through that folder, opened one folder at a time from
// the layer's top without following a link, so a running container swapping a folder for a link meanwhile cannot
// send a lookup anywhere else.

export const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The runtime mounts over these in a running container, but the engine's archive shows the layers' folders there. */
export const RUNTIME_DIRS = new Set(['/proc', '/sys', '/dev']);

/** `name` (bytes as a latin1 string) inside an open folder, as a path resolved from that very folder. */
export function inFolder(fd: number, name?: string): Buffer {
  const base = `/proc/self/fd/${fd}`;
  return name === undefined ? Buffer.from(base) : Buffer.concat([Buffer.from(`${base}/`), Buffer.from(name, 'latin1')]);
}

type DirLookup = { fd: number; st: BigIntStats } | 'absent' | 'blocked' | 'unsure';

/**
 * Folder `parts` (byte strings) in one layer, opened one folder at a time through the one before it, never
 * following a link. 'blocked': a whiteout or a non-folder on the way, which hides the path in every layer below;
 * 'unsure': a link on the way, or an error.
 */
export function openFolderIn(layer: string, parts: string[]): DirLookup {
  let fd = -1;
  try {
    fd = openSync(layer, DIR_FLAGS);
    for (const part of parts) {
      const next = inFolder(fd, part);
      let st: BigIntStats;
      try {
        st = lstatSync(next, { bigint: true });
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unsure';
      }
      if (st.isSymbolicLink()) return 'unsure';
      if (!st.isDirectory()) return 'blocked';
      const child = openSync(next, DIR_FLAGS);
      closeSync(fd);
      fd = child;
    }
    const found = { fd, st: fstatSync(fd, { bigint: true }) };
    fd = -1;
    return found;
  } catch {
    return 'unsure';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Owners as the container sees them are the layers' own only where the layers are not id-shifted (user
 * namespaces, rootless engines): there the container's layer belongs to root.
 */
export function ownersAsSeen(where: { upper: string }): boolean {
  try {
    return lstatSync(where.upper).uid === 0;
  } catch {
    return false;
  }
}

/** An entry read from a layer, with what the checks against the engine and the hardlink naming need beside it. */
export interface Found {
  entry: LayerDirEntry;
  /** The time to the nanosecond when read `precise`ly (to compare with the engine's), else 0. */
  mtimeNs: bigint;
  /** The file's identity (device and inode) and how many names it has. */
  inode: string;
  nlink: number;
  /** The engine's tar leaves sockets out. */
  socket: boolean;
}

/** overlayfs's mark of a deletion in a layer: a character device 0:0. */
export function isWhiteout(st: BigIntStats | Stats): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

/**
 * The entry at `path` (a name in a layer folder), `name` being its name; 'whiteout' for overlay's mark of a
 * deletion (a character device 0:0); undefined when it is not there. `precise`: BigInt stats, for the time to the
 * nanosecond (they cost more).
 */
export function statEntry(path: Buffer, name: string, precise: boolean): Found | 'whiteout' | undefined {
  let st: BigIntStats | Stats;
  try {
    st = precise ? lstatSync(path, { bigint: true }) : lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (isWhiteout(st)) return 'whiteout';
  const type = typeOf(st);
  return {
    mtimeNs: 'mtimeNs' in st ? st.mtimeNs : 0n,
    inode: `${st.dev}:${st.ino}`,
    nlink: Number(st.nlink),
    socket: st.isSocket(),
    entry: {
      name,
      type,
      mode: Number(st.mode) & 0o7777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'file' ? Number(st.size) : 0,
      mtime: 'mtimeNs' in st ? Number(st.mtimeNs / 1_000_000_000n) : Math.floor(st.mtimeMs / 1000),
      linkTarget: type === 'symlink' ? readlinkSync(path, { encoding: 'buffer' }).toString('latin1') : '',
    },
  };
}

function typeOf(st: BigIntStats | Stats): LayerDirEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

/** The type Go's os.FileMode bits say, in the reader's words. */
function goType(mode: number): LayerDirEntry['type'] {
  const bit = (n: number) => Math.floor(mode / 2 ** n) % 2 === 1;
  if (bit(31)) return 'dir';
  if (bit(27)) return 'symlink';
  if (bit(25)) return 'fifo';
  if (bit(26)) return bit(21) ? 'char' : 'block';
  if (bit(24) || bit(19)) return 'other';
  return 'file';
}

/**
 * Whether what the engine reports at `path` is the entry found in a layer: type, permissions, time to the
 * nanosecond, size, and a link's target (the engine reports it resolved, so it is compared resolved).
 */
export function sameAsEngine(path: string, found: { type: LayerDirEntry['type']; mode: number; size: number; linkTarget: string }, mtimeNs: bigint, seen: PathStat): boolean {
  const target = () => posix.resolve(posix.dirname(path), Buffer.from(found.linkTarget, 'latin1').toString('utf8'));
  return (
    goType(seen.mode) === found.type &&
    (seen.mode & 0o777) === (found.mode & 0o777) &&
    goTimeNs(seen.mtime) === mtimeNs &&
    (found.type !== 'file' || seen.size === found.size) &&
    (found.type !== 'symlink' || target() === seen.linkTarget)
  );
}

/** A byte string that survives the trip through the engine API's UTF-8 text. */
export function apiSafe(name: string): boolean {
  const bytes = Buffer.from(name, 'latin1');
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

export function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * What the container's own layer holds at each of `paths` (absolute, UTF-8, as the engine's change list names
 * them), keyed by those paths; a path the layer does not hold (gone since the list was made) has no entry.
 * undefined when the layer cannot answer for sure. Every change docker lists for a container (added or changed) is
 * an entry of that layer, and the layer wins over the image's: so this is what the container's filesystem shows
 * there, what an export pass would have found, without reading the image's files along with it.
 */
export function statOwnLayer(doc: InspectDoc, paths: string[]): Map<string, LayerDirEntry> | undefined {
  const where = layers(doc);
  if (!where || !ownersAsSeen(where)) return undefined;
  const found = new Map<string, Found>();
  // The folders on the current path, open, each opened through the one above it: a DFS over the sorted paths.
  const open: { path: string; fd: number }[] = [];
  try {
    open.push({ path: '', fd: openSync(where.upper, DIR_FLAGS) });
    for (const path of [...paths].sort()) {
      // U+FFFD may stand for bytes the engine's JSON lost: such a path cannot be looked up
      if (!path.startsWith('/') || path.includes('\uFFFD')) return undefined;
      while (open.length > 1 && !path.startsWith(`${open[open.length - 1]!.path}/`)) closeSync(open.pop()!.fd);
      const rest = path.slice(open[open.length - 1]!.path.length + 1).split('/');
      if (rest.some((p) => p === '' || p === '.' || p === '..')) return undefined;
      let missing = false;
      for (const part of rest.slice(0, -1)) {
        const top = open[open.length - 1]!;
        const next = inFolder(top.fd, Buffer.from(part, 'utf8').toString('latin1'));
        let st: BigIntStats;
        try {
          st = lstatSync(next, { bigint: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
          missing = true;
          break;
        }
        // a link, a file or a whiteout above a listed change: changed meanwhile, not for sure
        if (!st.isDirectory()) return undefined;
        open.push({ path: `${top.path}/${part}`, fd: openSync(next, DIR_FLAGS) });
      }
      if (missing) continue;
      const name = Buffer.from(rest[rest.length - 1]!, 'utf8').toString('latin1');
      const entry = statEntry(inFolder(open[open.length - 1]!.fd, name), name, false);
      // none: deleted since the list was made (a whiteout, or gone); a socket: left out of the engine's tar
      if (entry && entry !== 'whiteout' && !entry.socket) found.set(path, entry);
    }
    return markHardlinks(found);
  } catch {
    return undefined;
  } finally {
    for (const { fd } of open) closeSync(fd);
  }
}

/**
 * The engine's change list, less what the container's own layer does not hold when walked safely. The engine walks
 * the layer by path name (docker diff), so a container that swaps a folder with a link to a host folder while the
 * list is made gets host names listed as its own changes (CVE-2018-15664's race, in the engine). Each listed path
 * is looked up here the way every layer read is: folder by folder, each opened through the one above it without
 * following a link. Added and changed entries must be in the layer; a deletion's folder must be (its whiteout lives
 * there). What fails the walk is dropped, not shown: a name seen only through a link is not the container's.
 * undefined when the layer cannot be looked at (the list is then the engine's, as is).
 */
export function confirmChanges<T extends { path: string; kind: 'A' | 'C' | 'D' }>(doc: InspectDoc, changes: T[]): T[] | undefined {
  const where = layers(doc);
  if (!where) return undefined;
  const kept = new Set<T>();
  const open: { path: string; fd: number }[] = [];
  try {
    open.push({ path: '', fd: openSync(where.upper, DIR_FLAGS) });
    for (const change of [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const path = change.path;
      if (!path.startsWith('/')) continue;
      while (open.length > 1 && !path.startsWith(`${open[open.length - 1]!.path}/`)) closeSync(open.pop()!.fd);
      const rest = path.slice(open[open.length - 1]!.path.length + 1).split('/');
      if (rest.some((p) => p === '' || p === '.' || p === '..')) continue;
      let inLayer = true;
      for (const part of rest.slice(0, -1)) {
        const top = open[open.length - 1]!;
        // a link or anything but a folder on the way: the name was seen through it
        const folder = bytesOf(top.fd, part).find((name) => {
          try {
            return lstatSync(inFolder(top.fd, name)).isDirectory();
          } catch {
            return false;
          }
        });
        let fd = -1;
        try {
          // swapped for a link since the lstat: O_NOFOLLOW fails the open
          if (folder !== undefined) fd = openSync(inFolder(top.fd, folder), DIR_FLAGS);
        } catch {
          // not a folder now
        }
        if (fd < 0) {
          inLayer = false;
          break;
        }
        open.push({ path: `${top.path}/${part}`, fd });
      }
      if (!inLayer) continue;
      const last = rest[rest.length - 1]!;
      const fd = open[open.length - 1]!.fd;
      // gone since the list was made, or never there: dropped
      if (change.kind === 'D' || bytesOf(fd, last).some((name) => exists(inFolder(fd, name)))) kept.add(change);
    }
    return changes.filter((c) => kept.has(c));
  } catch {
    return undefined;
  } finally {
    for (const { fd } of open) closeSync(fd);
  }
}

/**
 * The names (bytes as latin1 strings) in the open folder `fd` that the engine's UTF-8 `name` may stand for: its
 * own bytes, or, where the engine's JSON replaced bytes that are not UTF-8 with U+FFFD, each name in the folder
 * that decodes to it.
 */
function bytesOf(fd: number, name: string): string[] {
  if (!name.includes('\uFFFD')) return [Buffer.from(name, 'utf8').toString('latin1')];
  try {
    return readdirSync(inFolder(fd), { encoding: 'buffer' }).filter((b) => b.toString('utf8') === name).map((b) => b.toString('latin1'));
  } catch {
    return [];
  }
}

function exists(path: Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * As the engine's export names a file with several names: the first in its walk order is the file, each later
 * one a hardlink to it (named as the export names it, without the leading slash). undefined when some of a
 * file's names are not among the changes (a link to a file of the image): the export could name it first
 * anywhere.
 */
function markHardlinks(found: Map<string, Found>): Map<string, LayerDirEntry> | undefined {
  const out = new Map<string, LayerDirEntry>();
  const names = new Map<string, number>();
  for (const [path, f] of found) {
    out.set(path, f.entry);
    if (f.entry.type === 'file' && f.nlink > 1) names.set(f.inode, (names.get(f.inode) ?? 0) + 1);
  }
  const several = [...found].filter(([, f]) => names.has(f.inode));
  if (several.some(([, f]) => names.get(f.inode) !== f.nlink)) return undefined;
  const bytes = (path: string) => Buffer.from(path, 'utf8').toString('latin1');
  several.sort(([a], [b]) => walkOrder(bytes(a), bytes(b)));
  const first = new Map<string, string>();
  for (const [path, f] of several) {
    const earlier = first.get(f.inode);
    if (earlier === undefined) first.set(f.inode, bytes(path).slice(1));
    else out.set(path, { ...f.entry, hardlinkTo: earlier });
  }
  return out;
}
