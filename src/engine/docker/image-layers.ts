// An image's files straight from its overlay2 layers, with no container: the merged view overlayfs would show,
// worked out from the layers themselves. For a container the layer readers check what they read against the
// engine's own view (layer.ts, layer-walk.ts); an image has no container to ask, so this module is that view:
// a stat of any path, answered from the layers, which the same readers then check against.
//
// What overlay's merge needs and the layer folders cannot show is a folder made opaque (an extended attribute,
// which Node cannot read). The engine keeps each layer's own tar headers (layerdb's tar-split.json.gz): an opaque
// folder is a `.wh..wh..opq` entry there. Each layer folder is matched to its layerdb entry through the image's
// diff ids (chain ids) and the entry's cache-id; anything that does not match, or cannot be read, answers "not
// for sure" (undefined), and the caller goes through a created container instead.
//
// Every read goes through folders opened one at a time from the layer's top with O_NOFOLLOW|O_DIRECTORY (inFolder,
// DIR_FLAGS: the same walk as layer.ts), never a lookup of a joined path: a link inside an image layer is read as
// a link, never followed on the host. Image layers are read-only and no container writes them, but the walk
// stays the same so nothing here can reach outside a layer.
import { closeSync, lstatSync, openSync, readFileSync, type BigIntStats } from 'node:fs';
import { posix } from 'node:path';
import type { LayerDirEntry, PathStat } from '../types.js';
import { DIR_FLAGS, inFolder, layers, statEntry, type Found, type InspectDoc } from './layer.js';

export interface ImageLayerView {
  /** The image's inspect document (GraphDriver: where its layers are), for the layer readers. */
  doc: InspectDoc;
  /** The engine's stat of a path, from the layers; undefined when the path does not exist. */
  stat(path: string): PathStat | undefined;
  /**
   * The path with the links on the way (not the last name) followed inside the image, as the layer readers need
   * it (they answer "not for sure" at a link); undefined when it does not resolve or is not plain UTF-8.
   */
  canonical(path: string): string | undefined;
  /** The entry at a path whose folders are real folders (a canonical one), as the layers hold it. */
  entry(path: string): LayerDirEntry | undefined;
}

/** Most links followed while resolving one path, as Linux's ELOOP limit. */
const MAX_LINKS = 40;

/**
 * The view of an image's layers, or undefined when they cannot answer for sure (not overlay2, layers not
 * readable here, layerdb not matching).
 */
export async function imageLayerView(raw: unknown): Promise<ImageLayerView | undefined> {
  const doc = raw as InspectDoc & { RootFS?: { Layers?: string[] } };
  const where = layers(doc);
  if (!where) return undefined;
  const dirs = [where.upper, ...where.lower];
  const diffIds = doc.RootFS?.Layers ?? [];
  if (diffIds.length !== dirs.length) return undefined;
  const root = /^(.*)\/overlay2\/[^/]+\/diff$/.exec(where.upper)?.[1];
  if (!root) return undefined;
  // loaded only here: commands that never read an image do not pay for them
  const [{ createHash }, { gunzipSync }] = await Promise.all([import('node:crypto'), import('node:zlib')]);
  const opaque: Set<string>[] = [];
  let chain = '';
  // bottom layer first: chain ids build up from it
  for (let i = 0; i < diffIds.length; i++) {
    const diffId = diffIds[i]!;
    chain = i === 0 ? diffId : `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}`;
    const entry = `${root}/image/overlay2/layerdb/sha256/${chain.replace(/^sha256:/, '')}`;
    const dir = dirs[dirs.length - 1 - i]!;
    try {
      const cacheId = readFileSync(`${entry}/cache-id`, 'utf8').trim();
      if (`${root}/overlay2/${cacheId}/diff` !== dir) return undefined;
      opaque[dirs.length - 1 - i] = opaqueFolders(gunzipSync(readFileSync(`${entry}/tar-split.json.gz`)).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  return {
    doc,
    stat: (path) => statMerged(dirs, opaque, path),
    entry: (path) => {
      const parts = path.split('/').filter(Boolean).map((p) => Buffer.from(p, 'utf8').toString('latin1'));
      if (parts.length) return lstatMerged(dirs, opaque, parts)?.entry;
      const st = lstatSync(dirs[0]!, { bigint: true }); // the root: the top layer's own folder
      return { name: '', type: 'dir', mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: Number(st.mtimeNs / 1_000_000_000n), linkTarget: '' };
    },
    canonical: (path) => {
      const parts = resolveParts(dirs, opaque, path);
      if (!parts) return undefined;
      const text = `/${parts.join('/')}`;
      const utf8 = Buffer.from(text, 'latin1').toString('utf8');
      return Buffer.from(utf8, 'utf8').toString('latin1') === text ? utf8 : undefined;
    },
  };
}

/** The folders a layer's tar made opaque (`dir/.wh..wh..opq`), as absolute byte-string paths. */
export function opaqueFolders(tarSplit: string): Set<string> {
  const found = new Set<string>();
  for (const line of tarSplit.split('\n')) {
    if (!line.includes('.wh..wh..opq') && !line.includes('"name_raw"')) continue;
    let entry: { type?: number; name?: string; name_raw?: string };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.type !== 1) continue; // tar-split: 1 is an entry (with its name), 2 a raw segment
    const name = entry.name !== undefined ? Buffer.from(entry.name, 'utf8').toString('latin1') : Buffer.from(entry.name_raw ?? '', 'base64').toString('latin1');
    const clean = name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (clean === '.wh..wh..opq') found.add('/');
    else if (clean.endsWith('/.wh..wh..opq')) found.add(`/${clean.slice(0, -'/.wh..wh..opq'.length)}`);
  }
  return found;
}

type InLayer = Found | 'absent' | 'hidden';

/**
 * `parts` (byte strings) in one layer: its entry, 'absent' (look below), or 'hidden' (a whiteout or a non-folder
 * on the way: nothing below shows there).
 */
function lookUp(layer: string, parts: string[]): InLayer {
  let fd = openSync(layer, DIR_FLAGS);
  try {
    for (const part of parts.slice(0, -1)) {
      const next = inFolder(fd, part);
      let st: BigIntStats;
      try {
        st = lstatSync(next, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
        throw err;
      }
      if (!st.isDirectory()) return 'hidden';
      const child = openSync(next, DIR_FLAGS);
      closeSync(fd);
      fd = child;
    }
    const last = parts[parts.length - 1]!;
    const found = statEntry(inFolder(fd, last), last, true);
    return found === 'whiteout' ? 'hidden' : (found ?? 'absent');
  } finally {
    closeSync(fd);
  }
}

/** The merged entry at `parts` (a path whose folders are all real folders in the merged view), or undefined. */
function lstatMerged(dirs: string[], opaque: Set<string>[], parts: string[]): Found | undefined {
  for (let i = 0; i < dirs.length; i++) {
    const found = lookUp(dirs[i]!, parts);
    if (found === 'hidden') return undefined;
    if (found !== 'absent') return found;
    // an opaque folder on the way in this layer hides every layer below it there
    for (let k = 0; k < parts.length; k++) if (opaque[i]!.has(`/${parts.slice(0, k).join('/')}`)) return undefined;
  }
  return undefined;
}

/** `path` (UTF-8, absolute) with links on the way followed inside the image; the last name is not followed. */
function resolveParts(dirs: string[], opaque: Set<string>[], path: string): string[] | undefined {
  let pending = path.split('/').map((p) => Buffer.from(p, 'utf8').toString('latin1'));
  let current: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current.pop();
      continue;
    }
    if (!pending.some((p) => p !== '' && p !== '.')) return [...current, part];
    const found = lstatMerged(dirs, opaque, [...current, part]);
    if (!found) return undefined;
    if (found.entry.type === 'symlink') {
      if (++links > MAX_LINKS) return undefined;
      const target = found.entry.linkTarget;
      if (target.startsWith('/')) current = [];
      pending = [...target.split('/'), ...pending];
      continue;
    }
    if (found.entry.type !== 'dir') return undefined;
    current.push(part);
  }
  return current;
}

function statMerged(dirs: string[], opaque: Set<string>[], path: string): PathStat | undefined {
  const parts = resolveParts(dirs, opaque, path);
  if (!parts) return undefined;
  if (!parts.length) {
    const st = lstatSync(dirs[0]!, { bigint: true });
    return { name: '/', size: Number(st.size), mode: goMode('dir', Number(st.mode & 0o7777n)), mtime: goTime(st.mtimeNs), linkTarget: '' };
  }
  const found = lstatMerged(dirs, opaque, parts);
  if (!found) return undefined;
  const { entry } = found;
  const utf8 = (bytes: string) => Buffer.from(bytes, 'latin1').toString('utf8');
  const here = `/${parts.map(utf8).join('/')}`;
  return {
    name: utf8(entry.name),
    size: entry.size,
    mode: goMode(entry.type, entry.mode),
    mtime: goTime(found.mtimeNs),
    // as the engine reports a link: its target resolved against the link's folder
    linkTarget: entry.type === 'symlink' ? posix.resolve(posix.dirname(here), utf8(entry.linkTarget)) : '',
  };
}

/** Go's os.FileMode for a type and permission bits, as the engine's stat header carries it. */
export function goMode(type: Found['entry']['type'], mode: number): number {
  let bits = mode & 0o777;
  if (mode & 0o4000) bits += 2 ** 23;
  if (mode & 0o2000) bits += 2 ** 22;
  if (mode & 0o1000) bits += 2 ** 20;
  if (type === 'dir') bits += 2 ** 31;
  else if (type === 'symlink') bits += 2 ** 27;
  else if (type === 'fifo') bits += 2 ** 25;
  else if (type === 'char') bits += 2 ** 26 + 2 ** 21;
  else if (type === 'block') bits += 2 ** 26;
  else if (type === 'other') bits += 2 ** 24;
  return bits;
}

/** Nanoseconds since the epoch as Go's RFC 3339 with nanoseconds (trailing zeros dropped), in UTC. */
export function goTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, '')}${frac ? `.${frac}` : ''}Z`;
}
