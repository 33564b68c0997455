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
// Opened safely against a running container changing the path meanwhile: each folder is lstat'ed, the file is
// opened without following a link (and without blocking on a FIFO), and must be the very inode seen before.
//
// Further down, the same for folders (listLayerDir: one folder's names, for ls) and for the details of what the
// container changed (statOwnLayer: for diff -l, du, find --newer-than-image).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats, type Stats } from 'node:fs';
import { posix } from 'node:path';
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

type Lookup = { file: string; st: BigIntStats } | 'absent' | 'unsure';

/** `path` (as parts) in one layer folder: a regular file there, not there at all, or something we do not read. */
function lookIn(layer: string, parts: string[]): Lookup {
  let dir = layer;
  try {
    for (const part of parts.slice(0, -1)) {
      dir = `${dir}/${part}`;
      // a link, a whiteout or a file where a folder should be: the engine knows better
      if (!lstatSync(dir).isDirectory()) return 'unsure';
    }
    const file = `${dir}/${parts[parts.length - 1]}`;
    const st = lstatSync(file, { bigint: true });
    return st.isFile() ? { file, st } : 'unsure';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unsure';
  }
}

/** The path as parts, when it is one we read from layers: absolute, plain, and not covered by a mount. */
function plainParts(doc: InspectDoc, path: string): string[] | undefined {
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
  if (own !== 'absent') return open(own);
  const seen = await stat();
  return seen && imageFile(where.lower, parts, seen);
}

/** The container's own layer only: its file, 'absent' when that layer does not have it, undefined when unsure. */
export function openOwnLayerFile(doc: InspectDoc, path: string): LayerFile | 'absent' | undefined {
  const where = layers(doc);
  const parts = where && plainParts(doc, path);
  if (!where || !parts) return undefined;
  const found = lookIn(where.upper, parts);
  return typeof found === 'string' ? (found === 'absent' ? 'absent' : undefined) : open(found);
}

/** The image's file only, given the engine's stat of the path (see imageFile). */
export function openImageLayerFile(doc: InspectDoc, path: string, seen: PathStat): LayerFile | undefined {
  const where = layers(doc);
  const parts = where && plainParts(doc, path);
  if (!where || !parts || lookIn(where.upper, parts) !== 'absent') return undefined;
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
    return same ? open(found) : undefined;
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

/** Opens what lookIn found, without following a link or blocking on a FIFO, and only if it is still that inode. */
function open(found: { file: string; st: BigIntStats }): LayerFile | undefined {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number;
  try {
    // O_NOATIME: reading leaves the layer's access times as they were (where we own the file or are root)
    fd = openSync(found.file, flags | (constants.O_NOATIME ?? 0));
  } catch {
    try {
      fd = openSync(found.file, flags);
    } catch {
      return undefined;
    }
  }
  const st = fstatSync(fd, { bigint: true });
  if (!st.isFile() || st.ino !== found.st.ino || st.dev !== found.st.dev) {
    closeSync(fd);
    return undefined;
  }
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

// Folders. Listing a folder through the engine's archive endpoint means receiving everything below it, file
// contents included, so `ls C /` of a container holding a 1 GiB file costs that gigabyte. Its names are in the
// layers: merged top layer first, a name in a higher layer hiding the same name below, a whiteout (a character
// device 0:0) hiding it without showing anything. What the layers do not show is a folder made opaque (an
// extended attribute, which Node cannot read): it hides every layer below it. So each layer that adds names is
// checked against the engine with one of its names (a HEAD, a few ms): if the engine does not see that name,
// a folder made opaque above hides this layer and all below it; if it sees something else, the answer is "not
// for sure" and the caller goes through the engine.

export const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The runtime mounts over these in a running container, but the engine's archive shows the layers' folders there. */
const RUNTIME_DIRS = new Set(['/proc', '/sys', '/dev']);

/**
 * `name` (bytes as a latin1 string) inside an open folder, as a path resolved from that very folder: a folder
 * swapped for a link by a running container meanwhile cannot send the lookup anywhere else.
 */
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

interface Listed {
  entry: LayerDirEntry;
  mtimeNs: bigint;
  /** For a file with several names: its identity and how many names it has. */
  inode?: { id: string; nlink: number };
}

export function typeOf(st: BigIntStats | Stats): LayerDirEntry['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

/** An open folder's entries, whiteouts as names alone; undefined for what this reader does not know. */
function readFolder(fd: number): (Listed | { whiteout: string })[] | undefined {
  const out: (Listed | { whiteout: string })[] = [];
  for (const raw of readdirSync(inFolder(fd), { encoding: 'buffer' })) {
    const name = raw.toString('latin1');
    // whiteouts of the aufs format, not overlay2's: not ours to interpret
    if (name.startsWith('.wh.')) return undefined;
    const found = entryAt(fd, name);
    if (found === 'unsure') throw new Error(`could not read ${name}`);
    if (found) out.push(found); // (none: removed meanwhile by a running container)
  }
  return out;
}

/** The entry `name` in an open folder, a whiteout as its name alone; undefined when it is not there. */
function entryAt(fd: number, name: string): Listed | { whiteout: string } | undefined | 'unsure' {
  let st: BigIntStats;
  try {
    st = lstatSync(inFolder(fd, name), { bigint: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unsure';
  }
  if (st.isCharacterDevice() && st.rdev === 0n) return { whiteout: name };
  if (st.isSocket()) return undefined; // the engine's tar leaves sockets out
  const type = typeOf(st);
  let linkTarget = '';
  if (type === 'symlink') {
    try {
      linkTarget = readlinkSync(inFolder(fd, name), { encoding: 'buffer' }).toString('latin1');
    } catch {
      return 'unsure';
    }
  }
  return {
    mtimeNs: st.mtimeNs,
    ...(type === 'file' && st.nlink > 1n ? { inode: { id: `${st.dev}:${st.ino}`, nlink: Number(st.nlink) } } : {}),
    entry: {
      name,
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'file' ? Number(st.size) : 0,
      mtime: Number(st.mtimeNs / 1_000_000_000n),
      linkTarget,
    },
  };
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

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * The entries of folder `path` (as the engine API names it: absolute, UTF-8) as the container sees them, from
 * its layers, or undefined when the layers cannot answer for sure. `stat` is the engine's view of a path
 * (undefined: it does not exist), asked for the folder and for one name of each layer that adds names.
 * `hardlinks`: name files with several names as the engine's archive of the folder would (see hardlinked);
 * without it every file is itself, as the archive of that one file shows it.
 */
export async function listLayerDir(
  doc: InspectDoc,
  path: string,
  stat: (path: string) => Promise<PathStat | undefined>,
  hardlinks = true,
): Promise<LayerDirEntry[] | undefined> {
  const where = layers(doc);
  const parts = path === '/' ? [] : plainParts(doc, path);
  if (!where || !parts) return undefined;
  // A mount (a volume, the engine's /etc files) right inside shows as what is mounted, which no layer holds.
  if (coveredPaths(doc).some((dir) => dir !== path && parentOf(dir) === path && !RUNTIME_DIRS.has(dir))) return undefined;
  try {
    // Owners as the container sees them only where the layers are not id-shifted (user namespaces, rootless).
    if (lstatSync(where.upper).uid !== 0) return undefined;
  } catch {
    return undefined;
  }
  const byteParts = parts.map((p) => Buffer.from(p, 'utf8').toString('latin1'));
  const taken = new Set<string>();
  const added: Listed[][] = [];
  let folder: BigIntStats | undefined;
  for (const layer of [where.upper, ...where.lower]) {
    const found = openFolderIn(layer, byteParts);
    if (found === 'unsure') return undefined;
    if (found === 'absent') continue;
    if (found === 'blocked') break;
    let listed;
    try {
      listed = readFolder(found.fd);
    } catch {
      return undefined;
    } finally {
      closeSync(found.fd);
    }
    if (!listed) return undefined;
    folder ??= found.st;
    const fresh: Listed[] = [];
    for (const item of listed) {
      const name = 'whiteout' in item ? item.whiteout : item.entry.name;
      if (taken.has(name)) continue;
      taken.add(name);
      if (!('whiteout' in item)) fresh.push(item);
    }
    added.push(fresh);
  }
  if (!folder) return undefined;
  // One name per layer that adds any, one the API can carry, a link only when there is nothing else.
  const samples: (Listed | undefined)[] = [];
  for (const fresh of added) {
    const safe = fresh.filter((f) => apiSafe(f.entry.name));
    // only names the API cannot carry: no way to check that layer
    if (fresh.length && !safe.length) return undefined;
    samples.push(safe.find((f) => f.entry.type !== 'symlink') ?? safe[0]);
  }
  const base = path === '/' ? '' : path;
  const pathOf = (s: Listed) => `${base}/${Buffer.from(s.entry.name, 'latin1').toString('utf8')}`;
  const [seenFolder, ...seen] = await Promise.all([stat(path), ...samples.map((s) => (s ? stat(pathOf(s)) : undefined))]);
  const folderFound = { type: 'dir' as const, mode: Number(folder.mode & 0o777n), size: 0, linkTarget: '' };
  if (!seenFolder || !sameAsEngine(path, folderFound, folder.mtimeNs, seenFolder)) return undefined;
  const out: Listed[] = [];
  for (let i = 0; i < added.length; i++) {
    const sample = samples[i];
    if (!sample) continue;
    const answer = seen[i];
    if (!answer) {
      // The topmost layer that has the folder is what the container sees: a name of it missing means something else.
      if (i === 0) return undefined;
      break; // a folder made opaque above hides this layer and every one below
    }
    if (!sameAsEngine(pathOf(sample), sample.entry, sample.mtimeNs, answer)) return undefined;
    for (const f of added[i]!) out.push(f);
  }
  return hardlinks ? hardlinked(out, path) : out.map((f) => f.entry);
}

/**
 * The folder's entries with the engine's hardlink entries: where the engine's tar would name a file a second
 * time, it writes a link to the first name instead. The tar walks everything below the folder, so a file whose
 * other names are not all in the folder itself could have been named first anywhere below: then undefined (ask
 * the engine). Otherwise the first of its names in the tar's order (byte order here) is the file.
 */
function hardlinked(listed: Listed[], path: string): LayerDirEntry[] | undefined {
  const names = new Map<string, Listed[]>();
  for (const f of listed) if (f.inode) names.set(f.inode.id, [...(names.get(f.inode.id) ?? []), f]);
  const folderBytes = Buffer.from(path, 'utf8').toString('latin1');
  // the tar's names: relative to the folder's parent (for '/', the export's: relative to the root)
  const prefix = path === '/' ? '' : `${folderBytes.slice(folderBytes.lastIndexOf('/') + 1)}/`;
  const out: LayerDirEntry[] = [];
  for (const f of listed) {
    const same = f.inode && names.get(f.inode.id)!;
    if (!same || !f.inode) {
      out.push(f.entry);
      continue;
    }
    if (same.length !== f.inode.nlink) return undefined;
    const first = same.reduce((a, b) => (b.entry.name < a.entry.name ? b : a));
    out.push(first === f ? f.entry : { ...f.entry, hardlinkTo: `${prefix}${first.entry.name}` });
  }
  return out;
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
  if (!where) return undefined;
  const found = new Map<string, LayerDirEntry>();
  const inodes = new Map<string, { id: string; nlink: number }>();
  // The folders on the current path, open, each opened through the one above it: a DFS over the sorted paths.
  const open: { path: string; fd: number }[] = [];
  try {
    if (lstatSync(where.upper).uid !== 0) return undefined; // id-shifted layers: owners would be wrong
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
      const entry = entryAt(open[open.length - 1]!.fd, name);
      if (entry === 'unsure') return undefined;
      // a whiteout: deleted since the list was made
      if (entry && 'entry' in entry) {
        found.set(path, entry.entry);
        if (entry.inode) inodes.set(path, entry.inode);
      }
    }
    return markHardlinks(found, inodes) ? found : undefined;
  } catch {
    return undefined;
  } finally {
    for (const { fd } of open) closeSync(fd);
  }
}

/**
 * As the engine's export names a file with several names: the first in its walk order is the file, each later
 * one a hardlink to it (named as the export names it, without the leading slash). false when some of a file's
 * names are not among the changes (a link to a file of the image): the export could name it first anywhere.
 */
function markHardlinks(found: Map<string, LayerDirEntry>, inodes: Map<string, { id: string; nlink: number }>): boolean {
  const names = new Map<string, number>();
  for (const { id } of inodes.values()) names.set(id, (names.get(id) ?? 0) + 1);
  for (const { id, nlink } of inodes.values()) if (names.get(id) !== nlink) return false;
  const first = new Map<string, string>();
  const inWalkOrder = [...inodes.keys()].sort((a, b) => {
    const as = a.split('/');
    const bs = b.split('/');
    for (let i = 0; i < as.length && i < bs.length; i++) if (as[i] !== bs[i]) return Buffer.compare(Buffer.from(as[i]!), Buffer.from(bs[i]!));
    return as.length - bs.length;
  });
  for (const path of inWalkOrder) {
    const id = inodes.get(path)!.id;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, path);
    else found.set(path, { ...found.get(path)!, hardlinkTo: Buffer.from(earlier.slice(1), 'utf8').toString('latin1') });
  }
  return true;
}
