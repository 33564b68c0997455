// Listing folders from the container's layers: one folder (ls) or a whole tree (ls -R, find, du --all), instead
// of receiving the engine's archive or export of it, which carries everything below, file contents included.
//
// One folder is merged from its layers, topmost first: a name hides the same name below, a whiteout (a character
// device 0:0) hides it without showing anything, a non-folder ends a folder's layers below it. What the layers do
// not show is a folder made opaque (`rm -rf dir && mkdir dir`: an extended attribute, which Node cannot read): it
// hides every layer below it. So each layer below the folder's topmost one that adds names is checked with one of
// them against the engine (a HEAD, a few ms): not seen means an opaque folder hides that layer and those below;
// seen as something else means "not for sure" and the caller goes through the engine. The topmost layer needs no
// check: the folder itself is seen (the root by the engine's stat, every other one by its parent's merge), and
// its topmost layer is what shows there.
//
// A tree takes two passes: the first reads its folders and gathers the checks, which then run together (a few
// at a time), so anything the layers cannot answer sends the whole walk to the engine before anything is
// printed. The second reads the tree again and yields the entries in the engine's own walk order (Go's
// filepath.Walk: a folder, then each name in byte order with everything below it), with the engine's hardlink
// entries. Memory: the folders on the current path, as for the engine's stream.
import { closeSync, lstatSync, opendirSync, type BigIntStats, type Dirent } from 'node:fs';
import { ChangedWhileRead, type Failure } from '../../errors.js';
import type { LayerDirEntry, LayerWalkEntry, PathStat } from '../types.js';
import {
  apiSafe,
  coveredPaths,
  inFolder,
  isUnder,
  layers,
  openFolderIn,
  ownersAsSeen,
  parentOf,
  plainParts,
  RUNTIME_DIRS,
  sameAsEngine,
  statEntry,
  type Found,
  type InspectDoc,
} from './layer.js';

type Stat = (path: string) => Promise<PathStat | undefined>;

/** Most checks a walk may need before the engine's own stream is the cheaper way. */
const MAX_CHECKS = 4000;
/** Checks in flight at once. */
const CHECKS_AT_ONCE = 8;
/**
 * Deepest folder the walk reads from the layers. Each folder is opened from its layer's top, one folder at a time
 * (safe against a running container swapping a folder for a link), which costs its depth: a tree deeper than this
 * (a hostile one, most likely) is left to the engine.
 */
const MAX_DEPTH = 128;

/** A folder of the merged tree: its path (bytes) and the layers (indexes) that hold it as a folder, topmost first. */
interface Folder {
  path: string;
  layers: number[];
}

/** An entry of a merged folder; for a folder, the layers that hold it as a folder, topmost first. */
type Merged = Found & { below?: number[] };

type Check = (folder: string, layer: number, sample: Found) => Promise<'seen' | 'hidden'>;

/** The engine's answer for one name of a layer: seen as that entry, not seen, or seen as something else. */
async function ask(stat: Stat, folder: string, sample: Found): Promise<'seen' | 'hidden' | 'different'> {
  const path = Buffer.from(`${folder === '/' ? '' : folder}/${sample.entry.name}`, 'latin1').toString('utf8');
  const seen = await stat(path);
  if (!seen) return 'hidden';
  return sameAsEngine(path, sample.entry, sample.mtimeNs, seen) ? 'seen' : 'different';
}

/** Checks asked there and then; an answer that differs makes the merge fail (not for sure). */
function liveCheck(stat: Stat): Check {
  return async (folder, _layer, sample) => {
    const answer = await ask(stat, folder, sample);
    if (answer === 'different') throw new Error('the engine sees something else');
    return answer;
  };
}

/**
 * The layers that hold folder `path` (the engine API's text) as a folder, topmost first, when the engine sees
 * the topmost one there; undefined when not for sure.
 */
async function openTree(doc: InspectDoc, path: string, stat: Stat): Promise<{ paths: string[]; root: Folder; top: BigIntStats } | undefined> {
  const where = layers(doc);
  if (!where || !path.startsWith('/') || !ownersAsSeen(where)) return undefined;
  const parts = path === '/' ? [] : path.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  const byteParts = parts.map((p) => Buffer.from(p, 'utf8').toString('latin1'));
  const paths = [where.upper, ...where.lower];
  const holding: number[] = [];
  let top: BigIntStats | undefined;
  for (let i = 0; i < paths.length; i++) {
    const found = openFolderIn(paths[i]!, byteParts);
    if (found === 'unsure') {
      // the container's own layer has a link where the engine sees a folder: a running container swapping them
      if (i === 0 && linkIn(paths[0]!, byteParts) && isFolder(await stat(path))) throw changedMeanwhile();
      return undefined;
    }
    if (found === 'absent') continue;
    if (found === 'blocked') break;
    closeSync(found.fd);
    top ??= found.st;
    holding.push(i);
  }
  if (!top) return undefined;
  const seen = await stat(path);
  // a folder in the layers that the engine sees as a link: a running container swapping them (as above)
  if (seen && !isFolder(seen) && (seen.mode & 0x08000000) !== 0) throw changedMeanwhile();
  const folder = { type: 'dir' as const, mode: Number(top.mode & 0o777n), size: 0, linkTarget: '' };
  if (!seen || !sameAsEngine(path, folder, top.mtimeNs, seen)) return undefined;
  return { paths, root: { path: Buffer.from(path, 'utf8').toString('latin1'), layers: holding }, top };
}

/** Whether the last of `parts` in `layer` is a link (its folders walked without following links). */
function linkIn(layer: string, parts: string[]): boolean {
  if (!parts.length) return false;
  const dir = openFolderIn(layer, parts.slice(0, -1));
  if (typeof dir === 'string') return false;
  try {
    return lstatSync(inFolder(dir.fd, parts[parts.length - 1]!)).isSymbolicLink();
  } catch {
    return false;
  } finally {
    closeSync(dir.fd);
  }
}

/** The engine's stat says folder (Go's os.ModeDir, the top bit of its 32-bit mode; os.ModeSymlink is 0x08000000). */
function isFolder(seen: PathStat | undefined): boolean {
  return !!seen && (seen.mode & 0x80000000) !== 0;
}

/**
 * The entries of folder `path` (as the engine API names it: absolute, UTF-8) as the container sees them, from its
 * layers, or undefined when the layers cannot answer for sure. `stat` is the engine's view of a path (undefined:
 * it does not exist). `hardlinks`: name files with several names as the engine's archive of the folder would (see
 * hardlinked); without it every file is itself, as the archive of that one file shows it. Without `details`,
 * names and types only (no entry is stat'ed, and files with several names are not told apart).
 */
export async function listLayerDir(doc: InspectDoc, path: string, stat: Stat, hardlinks = true, details = true): Promise<LayerDirEntry[] | undefined> {
  if (path !== '/' && !plainParts(doc, path)) return undefined;
  // A mount (a volume, the engine's /etc files) right inside shows as what is mounted, which no layer holds.
  if (coveredPaths(doc).some((dir) => dir !== path && parentOf(dir) === path && !RUNTIME_DIRS.has(dir))) return undefined;
  const tree = await openTree(doc, path, stat);
  const merged = tree && (await mergeFolder(tree.paths, tree.root, liveCheck(stat), details));
  if (!merged) return undefined;
  const listed = Array.from(merged, ([name, value]) => foundOf(name, value));
  return hardlinks && details ? hardlinked(listed, path) : listed.map((f) => f.entry);
}

/**
 * The folder's entries with the engine's hardlink entries: where the engine's tar would name a file a second
 * time, it writes a link to the first name instead. The tar walks everything below the folder, so a file whose
 * other names are not all in the folder itself could have been named first anywhere below: then undefined (ask
 * the engine). Otherwise the first of its names in the tar's order (byte order here) is the file.
 */
function hardlinked(listed: Found[], path: string): LayerDirEntry[] | undefined {
  const names = new Map<string, Found[]>();
  for (const f of listed) {
    if (f.entry.type !== 'file' || f.nlink <= 1) continue;
    const same = names.get(f.inode);
    if (same) same.push(f);
    else names.set(f.inode, [f]);
  }
  const folderBytes = Buffer.from(path, 'utf8').toString('latin1');
  // the tar's names: relative to the folder's parent (for '/', the export's: relative to the root)
  const prefix = path === '/' ? '' : `${folderBytes.slice(folderBytes.lastIndexOf('/') + 1)}/`;
  const out: LayerDirEntry[] = [];
  for (const f of listed) {
    const same = names.get(f.inode);
    if (!same || f.entry.type !== 'file') {
      out.push(f.entry);
      continue;
    }
    if (same.length !== f.nlink) return undefined;
    const first = same.reduce((a, b) => (b.entry.name < a.entry.name ? b : a));
    out.push(first === f ? f.entry : { ...f.entry, hardlinkTo: `${prefix}${first.entry.name}` });
  }
  return out;
}

/**
 * A walk of `root` (an absolute path as the engine API names it) from the container's layers, or undefined when
 * the layers cannot answer for sure (then the caller asks the engine). `exportView`: the view of the export
 * endpoint (root '/', mounts not included, no entry for the root itself); otherwise the archive endpoint's (the
 * root's own entry first; any mount in the tree sends it to the engine). Without `details` the entries carry names
 * and types only (no file is stat'ed: a third of the cost), and files with several names are not told apart.
 */
export async function prepareLayerWalk(doc: InspectDoc, root: string, stat: Stat, exportView: boolean, details: boolean): Promise<(() => AsyncGenerator<LayerWalkEntry>) | undefined> {
  if (!exportView && coveredPaths(doc).some((dir) => isUnder(dir, root) || isUnder(root, dir))) return undefined;
  const tree = await openTree(doc, root, stat);
  if (!tree) return undefined;
  const { paths, root: rootFolder, top } = tree;

  // First pass: every folder, every check it needs.
  const needed: { folder: string; layer: number; sample: Found }[] = [];
  const collect: Check = async (folder, layer, sample) => {
    needed.push({ folder, layer, sample });
    return 'seen';
  };
  try {
    for await (const item of walkTree(paths, rootFolder, collect, false)) {
      if (item === 'unsure' || needed.length > MAX_CHECKS) return undefined;
    }
  } catch {
    return undefined;
  }
  const answers = new Map<string, 'seen' | 'hidden'>();
  const key = (folder: string, layer: number) => `${layer}\0${folder}`;
  let failed = false;
  let next = 0;
  const worker = async () => {
    while (next < needed.length && !failed) {
      const { folder, layer, sample } = needed[next++]!;
      const answer = await ask(stat, folder, sample).catch(() => 'different' as const);
      if (answer === 'different') failed = true;
      else answers.set(key(folder, layer), answer);
    }
  };
  await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, worker));
  if (failed) return undefined;

  // Second pass: the checks answered (a folder changed since by a running container is checked there and then).
  const live = liveCheck(stat);
  const check: Check = (folder, layer, sample) => {
    const known = answers.get(key(folder, layer));
    return known ? Promise.resolve(known) : live(folder, layer, sample);
  };
  const rootEntry: LayerWalkEntry | undefined = exportView
    ? undefined
    : {
        path: rootFolder.path,
        name: rootFolder.path.slice(rootFolder.path.lastIndexOf('/') + 1),
        type: 'dir',
        mode: Number(top.mode & 0o7777n),
        uid: Number(top.uid),
        gid: Number(top.gid),
        size: 0,
        mtime: Number(top.mtimeNs / 1_000_000_000n),
        linkTarget: '',
      };
  return async function* () {
    if (rootEntry) yield rootEntry;
    const firstNames = new Map<string, string>();
    // the engine's tar names entries relative to the archived folder's parent (the root for an export)
    const base = exportView ? '/' : parentOf(rootFolder.path);
    for await (const item of walkTree(paths, rootFolder, check, details)) {
      if (item === 'unsure') throw changedMeanwhile();
      const { entry, path, found } = item;
      if (entry.type === 'file' && found.nlink > 1) {
        const first = firstNames.get(found.inode);
        if (first !== undefined) {
          yield { ...entry, path, hardlinkTo: first };
          continue;
        }
        firstNames.set(found.inode, path.slice(base === '/' ? 1 : base.length + 1));
      }
      yield { ...entry, path };
    }
  };
}

function changedMeanwhile(): Failure {
  return new ChangedWhileRead('The container changed its files while porthole read them from its layers.', 'Run the command again.');
}

/**
 * The merged tree below `root` in walk order: each entry with its path, after its folder's entry and before the
 * next name of that folder. 'unsure' where the layers cannot answer for sure.
 */
async function* walkTree(paths: string[], root: Folder, check: Check, details: boolean): AsyncGenerator<{ path: string; entry: LayerDirEntry; found: Merged } | 'unsure'> {
  // A frame holds its folder's merged map and its names sorted (strings compare by their bytes here), nothing per
  // entry besides: a folder of 200,000 names is the most the walk holds at once.
  const stack: { folder: Folder; merged: Map<string, Merged | What>; names: string[]; next: number }[] = [];
  const enter = async (folder: Folder): Promise<boolean> => {
    if (stack.length >= MAX_DEPTH) return false;
    const merged = await mergeFolder(paths, folder, check, details);
    if (!merged) return false;
    stack.push({ folder, merged, names: [...merged.keys()].sort(), next: 0 });
    return true;
  };
  if (!(await enter(root))) {
    yield 'unsure';
    return;
  }
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.names.length) {
      stack.pop();
      continue;
    }
    const name = frame.names[frame.next++]!;
    const found = foundOf(name, frame.merged.get(name)!);
    const path = `${frame.folder.path === '/' ? '' : frame.folder.path}/${name}`;
    yield { path, entry: found.entry, found };
    if (found.below && !(await enter({ path, layers: found.below }))) {
      yield 'unsure';
      return;
    }
  }
}

/** What a layer holds at a name, from its folder listing: an entry's type, a whiteout, or a socket. */
type What = LayerDirEntry['type'] | 'whiteout' | 'socket';

/**
 * One folder's visible names across its layers, each with what its topmost layer holds there (and, for a folder,
 * the layers below that hold it as a folder too); layers hidden by an opaque folder are dropped. Without
 * `details`, names and types only: anything but a folder is held as its type alone (see foundOf), so a huge
 * folder costs a name and a map slot per entry. undefined when the layers cannot answer for sure.
 */
async function mergeFolder(paths: string[], folder: Folder, check: Check, details: boolean): Promise<Map<string, Merged | What> | undefined> {
  const parts = folder.path === '/' ? [] : folder.path.slice(1).split('/');
  const perLayer: Map<string, What>[] = [];
  const fds: number[] = [];
  // Names are looked up through each layer's open folder, never by a layer path (see layer.ts: the one way in).
  const prefixes: Buffer[] = [];
  try {
    for (const layer of folder.layers) {
      const found = openFolderIn(paths[layer]!, parts);
      // this layer held the folder when its parent was read; it is gone or changed: not for sure
      if (typeof found === 'string') return undefined;
      fds.push(found.fd);
      const prefix = Buffer.from(`/proc/self/fd/${found.fd}/`);
      prefixes.push(prefix);
      const kinds = new Map<string, What>();
      // names as latin1 strings (one char per byte), read a few at a time: no Buffer per name, and no array of
      // every entry of a huge folder besides the map
      const dir = opendirSync(inFolder(found.fd).toString('latin1'), { encoding: 'latin1', bufferSize: 512 });
      try {
        for (let d = dir.readSync(); d; d = dir.readSync()) {
          const name = d.name;
          if (name.startsWith('.wh.')) return undefined; // aufs-style whiteouts: not overlay2's
          kinds.set(name, whatIs(d, prefix, name));
        }
      } finally {
        dir.closeSync();
      }
      perLayer.push(kinds);
    }
    // The names each layer adds (not held by a layer above it), and one of them to check each layer below the
    // topmost with. Lists of names only: no pair or entry per name is made here.
    const heldAbove = (pos: number, name: string) => {
      for (let above = 0; above < pos; above++) if (perLayer[above]!.has(name)) return true;
      return false;
    };
    const visible: string[][] = [];
    const samples: (Found | undefined)[] = [];
    for (let pos = 0; pos < perLayer.length; pos++) {
      const shown: string[] = [];
      let safeName: string | undefined;
      let safePlain: string | undefined;
      for (const [name, what] of perLayer[pos]!) {
        // a whiteout hides the name below it; so does a socket, which the engine's tar leaves out
        if (what === 'whiteout' || what === 'socket' || (pos > 0 && heldAbove(pos, name))) continue;
        shown.push(name);
        if (pos > 0 && safePlain === undefined && apiSafe(name)) {
          safeName ??= name;
          if (what !== 'symlink') safePlain = name;
        }
      }
      visible.push(shown);
      if (pos === 0 || !shown.length) {
        samples.push(undefined);
        continue;
      }
      if (safeName === undefined) return undefined; // no name the API can carry to check this layer with
      // the engine reports a link's target resolved: anything else compares more simply
      const pick = safePlain ?? safeName;
      const sample = statEntry(Buffer.concat([prefixes[pos]!, Buffer.from(pick, 'latin1')]), pick, true);
      if (!sample || sample === 'whiteout') return undefined;
      samples.push(sample);
    }
    const answers = await Promise.all(samples.map((sample, pos) => sample && check(folder.path, folder.layers[pos]!, sample)));
    // an opaque folder above hides the first layer whose name is not seen, and every layer below it
    const hiddenFrom = answers.indexOf('hidden');
    const showing = hiddenFrom === -1 ? perLayer.length : hiddenFrom;
    const merged = new Map<string, Merged | What>();
    for (let pos = 0; pos < showing; pos++) {
      for (const name of visible[pos]!) {
        const what = perLayer[pos]!.get(name)!;
        if (!details && what !== 'dir') {
          merged.set(name, what);
          continue;
        }
        const read = details ? statEntry(Buffer.concat([prefixes[pos]!, Buffer.from(name, 'latin1')]), name, false) : placeholder(name, what);
        if (!read || read === 'whiteout' || read.socket) continue; // gone or changed meanwhile; sockets left out
        const found: Merged = read;
        if (found.entry.type === 'dir') found.below = foldersBelow(perLayer.slice(0, showing), folder.layers, pos, name);
        merged.set(name, found);
      }
    }
    return merged;
  } catch {
    return undefined;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** The layers holding `name` as a folder from its topmost one down, until a layer holds something else there. */
function foldersBelow(perLayer: Map<string, What>[], layerIds: number[], from: number, name: string): number[] {
  const out: number[] = [];
  for (let pos = from; pos < perLayer.length; pos++) {
    const what = perLayer[pos]!.get(name);
    if (what === undefined) continue;
    if (what !== 'dir') break;
    out.push(layerIds[pos]!);
  }
  return out;
}

/** A merged folder's entry: held as itself, or (names and types only) as its type alone. */
function foundOf(name: string, value: Merged | What): Merged {
  return typeof value === 'string' ? placeholder(name, value) : value;
}

/** A name's entry from its folder listing alone, where only names and types are wanted. */
function placeholder(name: string, what: What): Found {
  const type = what === 'whiteout' || what === 'socket' ? 'other' : what;
  return { mtimeNs: 0n, inode: '', nlink: 0, socket: false, entry: { name, type, mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, linkTarget: '' } };
}

function whatIs(d: Pick<Dirent, 'isDirectory' | 'isFile' | 'isSymbolicLink' | 'isCharacterDevice' | 'isBlockDevice' | 'isFIFO' | 'isSocket'>, prefix: Buffer, name: string): What {
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isCharacterDevice()) return isWhiteout(prefix, name) ? 'whiteout' : 'char';
  if (d.isBlockDevice()) return 'block';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  return 'other';
}

function isWhiteout(prefix: Buffer, name: string): boolean {
  try {
    return lstatSync(Buffer.concat([prefix, Buffer.from(name, 'latin1')])).rdev === 0;
  } catch {
    return false;
  }
}
