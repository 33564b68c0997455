// Walking a whole folder tree from the container's layers (ls -R, find, du --all), instead of receiving the
// engine's export or archive of it, which carries every file's contents along: the names, types, sizes and
// times are all in the layers. The merge is listLayerDir's (layer.ts), folder by folder: topmost layer first, a
// name hides the same name below, a whiteout hides it, a non-folder ends a folder's layers below it. What the
// layers do not show is a folder made opaque (an extended attribute Node cannot read), so for each folder, each
// layer below its topmost one that adds names is checked with one of them against the engine (a HEAD): not seen
// means an opaque folder hides that layer and those below. The topmost layer of a folder needs no check: the
// folder itself is seen (the root by the engine's stat, every other one by its parent's merge), and its topmost
// layer is what shows there.
//
// Two passes: the first reads the tree's folders and collects the checks, which then run together (a few at a
// time); anything the layers cannot answer for sure then sends the whole walk back to the engine before anything
// is printed. The second pass reads the tree again and yields the entries in the engine's own walk order
// (Go's filepath.Walk: a folder, then each name in byte order with everything below it), with the engine's
// hardlink entries. Memory: the folders on the current path, as for the engine's stream.
import { closeSync, lstatSync, readdirSync, readlinkSync, type BigIntStats, type Dirent } from 'node:fs';
import { Failure } from '../../errors.js';
import type { LayerDirEntry, LayerWalkEntry, PathStat } from '../types.js';
import { apiSafe, coveredPaths, inFolder, isUnder, layers, openFolderIn, sameAsEngine, typeOf, type InspectDoc } from './layer.js';


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

interface Found {
  entry: LayerDirEntry;
  mtimeNs: bigint;
  /** For a folder: the layers (indexes) that hold it as a folder, topmost first. */
  below?: number[];
  /** The file's identity (device and inode), for its several names. */
  inode: string;
  nlink: number;
  socket: boolean;
}

/** A folder of the merged tree: its path (bytes) and the layers that hold it as a folder, topmost first. */
interface Folder {
  path: string;
  layers: number[];
}

type Check = (folder: string, layer: number, sample: Found) => Promise<'seen' | 'hidden'>;

/**
 * A walk of `root` (an absolute path as the engine API names it) from the container's layers, or undefined when
 * the layers cannot answer for sure (then the caller asks the engine). `exportView`: the view of the export
 * endpoint (root '/', mounts not included, no entry for the root itself); otherwise the archive endpoint's (the
 * root's own entry first; any mount in the tree sends it to the engine).
 */
export async function prepareLayerWalk(doc: InspectDoc, root: string, stat: Stat, exportView: boolean, details: boolean): Promise<(() => AsyncGenerator<LayerWalkEntry>) | undefined> {
  const where = layers(doc);
  if (!where || !root.startsWith('/')) return undefined;
  const rootParts = root === '/' ? [] : root.slice(1).split('/');
  if (rootParts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  if (!exportView && coveredPaths(doc).some((dir) => isUnder(dir, root) || isUnder(root, dir))) return undefined;
  try {
    if (lstatSync(where.upper).uid !== 0) return undefined; // id-shifted layers: owners would be wrong
  } catch {
    return undefined;
  }
  const paths = [where.upper, ...where.lower];
  const rootBytes = Buffer.from(root, 'utf8').toString('latin1');

  // The root: the layers holding it as a folder, and the engine's word that the topmost one is what it sees.
  const rootLayers: number[] = [];
  let top: BigIntStats | undefined;
  for (let i = 0; i < paths.length; i++) {
    const found = openFolderIn(paths[i]!, rootParts.map((p) => Buffer.from(p, 'utf8').toString('latin1')));
    if (found === 'unsure') return undefined;
    if (found === 'absent') continue;
    if (found === 'blocked') break;
    closeSync(found.fd);
    top ??= found.st;
    rootLayers.push(i);
  }
  if (!top) return undefined;
  const seenRoot = await stat(root);
  const rootFound = { type: 'dir' as const, mode: Number(top.mode & 0o777n), size: 0, linkTarget: '' };
  if (!seenRoot || !sameAsEngine(root, rootFound, top.mtimeNs, seenRoot)) return undefined;

  // First pass: every folder, every check it needs.
  const needed: { folder: string; layer: number; sample: Found }[] = [];
  const collect: Check = async (folder, layer, sample) => {
    needed.push({ folder, layer, sample });
    return 'seen';
  };
  try {
    for await (const item of walkTree(paths, { path: rootBytes, layers: rootLayers }, collect, false)) {
      if (item === 'unsure' || needed.length > MAX_CHECKS) return undefined;
    }
  } catch {
    return undefined;
  }
  const answers = new Map<string, 'seen' | 'hidden'>();
  const key = (folder: string, layer: number) => `${layer}\0${folder}`;
  const ask = async (folder: string, sample: Found): Promise<'seen' | 'hidden' | 'different'> => {
    const path = `${folder === '/' ? '' : folder}/${sample.entry.name}`;
    const text = Buffer.from(path, 'latin1').toString('utf8');
    const seen = await stat(text);
    if (!seen) return 'hidden';
    return sameAsEngine(text, sample.entry, sample.mtimeNs, seen) ? 'seen' : 'different';
  };
  let failed = false;
  let next = 0;
  const worker = async () => {
    while (next < needed.length && !failed) {
      const { folder, layer, sample } = needed[next++]!;
      const answer = await ask(folder, sample).catch(() => 'different' as const);
      if (answer === 'different') failed = true;
      else answers.set(key(folder, layer), answer);
    }
  };
  await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, worker));
  if (failed) return undefined;

  // Second pass: the checks answered (a folder changed since by a running container is checked there and then).
  const check: Check = async (folder, layer, sample) => {
    const known = answers.get(key(folder, layer));
    if (known) return known;
    const answer = await ask(folder, sample);
    if (answer === 'different') throw changedMeanwhile();
    return answer;
  };
  const rootEntry = exportView ? undefined : entryOfRoot(paths[rootLayers[0]!]!, rootParts, rootBytes);
  return async function* () {
    if (rootEntry) yield rootEntry;
    const firstNames = new Map<string, string>();
    const base = exportView ? '' : parentOf(rootBytes);
    for await (const item of walkTree(paths, { path: rootBytes, layers: rootLayers }, check, details)) {
      if (item === 'unsure') throw changedMeanwhile();
      const { entry, path } = item;
      if (entry.type === 'file' && item.found.nlink > 1) {
        const id = item.found.inode;
        const first = firstNames.get(id);
        if (first !== undefined) {
          yield { ...entry, path, hardlinkTo: first };
          continue;
        }
        // the engine's tar names entries relative to the archived folder's parent (the root for an export)
        firstNames.set(id, path.slice(base === '/' ? 1 : base.length + 1));
      }
      yield { ...entry, path };
    }
  };
}

function changedMeanwhile(): Failure {
  return new Failure('The container changed its files while porthole read them from its layers.', 'Run the command again.');
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** The root folder's own entry, as the archive endpoint sends it first. */
function entryOfRoot(layer: string, parts: string[], rootBytes: string): LayerWalkEntry | undefined {
  const found = openFolderIn(layer, parts.map((p) => Buffer.from(p, 'utf8').toString('latin1')));
  if (typeof found === 'string') return undefined;
  closeSync(found.fd);
  const st = found.st;
  return {
    path: rootBytes,
    name: rootBytes.slice(rootBytes.lastIndexOf('/') + 1),
    type: 'dir',
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: 0,
    mtime: Number(st.mtimeNs / 1_000_000_000n),
    linkTarget: '',
  };
}

/**
 * The merged tree below `root` in walk order: each entry with its path, after its folder's entry and before the
 * next name of that folder. 'unsure' where a layer holds something this reader does not interpret.
 */
async function* walkTree(paths: string[], root: Folder, check: Check, details: boolean): AsyncGenerator<{ path: string; entry: LayerDirEntry; found: Found } | 'unsure'> {
  const stack: { folder: Folder; names: [string, Found][]; next: number }[] = [];
  const enter = async (folder: Folder): Promise<boolean> => {
    if (stack.length >= MAX_DEPTH) return false;
    const merged = await mergeFolder(paths, folder, check, details);
    if (!merged) return false;
    stack.push({ folder, names: [...merged].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)), next: 0 });
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
    const [name, found] = frame.names[frame.next++]!;
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
 * the layers below that hold it as a folder too); layers hidden by an opaque folder are dropped. undefined when
 * the layers cannot answer for sure.
 */
async function mergeFolder(paths: string[], folder: Folder, check: Check, details: boolean): Promise<Map<string, Found> | undefined> {
  const parts = folder.path === '/' ? [] : folder.path.slice(1).split('/');
  const perLayer: Map<string, What>[] = [];
  const fds: number[] = [];
  // Names are looked up through the open folder in the container's own layer, which a running container may
  // change meanwhile; the image's layers do not change, and a plain path there costs a third less.
  const prefixes: Buffer[] = [];
  try {
    for (const layer of folder.layers) {
      const found = openFolderIn(paths[layer]!, parts);
      if (typeof found === 'string') {
        // this layer held the folder when its parent was read; it is gone or changed: not for sure
        return undefined;
      }
      fds.push(found.fd);
      const prefix = layer === 0 ? Buffer.from(`/proc/self/fd/${found.fd}/`) : Buffer.from(`${paths[layer]}${folder.path === '/' ? '' : folder.path}/`, 'latin1');
      prefixes.push(prefix);
      const kinds = new Map<string, What>();
      for (const d of readdirSync(inFolder(found.fd), { withFileTypes: true, encoding: 'buffer' })) {
        const name = (d.name as unknown as Buffer).toString('latin1');
        if (name.startsWith('.wh.')) return undefined; // aufs-style whiteouts: not overlay2's
        kinds.set(name, whatIs(d, prefix, name));
      }
      perLayer.push(kinds);
    }
    // Which layers show: each one below the topmost that adds names is checked with one of them.
    const taken = new Set<string>();
    const shown: [string, What][][] = [];
    for (let pos = 0; pos < perLayer.length; pos++) {
      const fresh = [...perLayer[pos]!].filter(([name]) => !taken.has(name));
      for (const [name] of fresh) taken.add(name);
      // a socket hides the name below it, but the engine's tar leaves it out
      const visible = fresh.filter(([, what]) => what !== 'whiteout' && what !== 'socket');
      if (pos > 0 && visible.length) {
        const safe = visible.filter(([name]) => apiSafe(name));
        if (!safe.length) return undefined; // no name the API can carry to check this layer with
        // the engine reports a link's target resolved: anything else compares more simply
        const pick = safe.find(([, what]) => what !== 'symlink') ?? safe[0]!;
        const sample = read(prefixes[pos]!, pick[0], true);
        if (!sample) return undefined;
        if ((await check(folder.path, folder.layers[pos]!, sample)) === 'hidden') break; // and every layer below
      }
      shown.push(visible);
    }
    const merged = new Map<string, Found>();
    const showing = perLayer.slice(0, shown.length);
    for (let pos = 0; pos < shown.length; pos++) {
      for (const [name, what] of shown[pos]!) {
        const found = details ? read(prefixes[pos]!, name, false) : placeholder(name, what as LayerDirEntry['type']);
        if (!found || found.socket) continue; // gone meanwhile; the engine's tar leaves sockets out
        if (found.entry.type === 'dir') found.below = foldersBelow(showing, folder.layers, pos, name);
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

function isWhiteout(prefix: Buffer, name: string): boolean {
  try {
    return lstatSync(at(prefix, name)).rdev === 0;
  } catch {
    return false;
  }
}

function at(prefix: Buffer, name: string): Buffer {
  return Buffer.concat([prefix, Buffer.from(name, 'latin1')]);
}

/**
 * A name's entry in a layer folder (`prefix`: the folder's path, ending in '/'); undefined when it is gone.
 * `precise`: the time to the nanosecond, to compare with the engine's (BigInt stats cost more, so only then).
 */
function read(prefix: Buffer, name: string, precise: boolean): Found | undefined {
  const path = at(prefix, name);
  let st;
  try {
    st = precise ? lstatSync(path, { bigint: true }) : lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const type = typeOf(st);
  const mtimeNs = 'mtimeNs' in st ? st.mtimeNs : 0n;
  const seconds = 'mtimeNs' in st ? Number(st.mtimeNs / 1_000_000_000n) : Math.floor(st.mtimeMs / 1000);
  return {
    mtimeNs,
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
      mtime: seconds,
      linkTarget: type === 'symlink' ? readlinkSync(path, { encoding: 'buffer' }).toString('latin1') : '',
    },
  };
}

/** A name's entry from its folder listing alone, where only names and types are wanted. */
function placeholder(name: string, type: LayerDirEntry['type']): Found {
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
