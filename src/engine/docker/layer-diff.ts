// What a stopped container changed (docker diff), read from its layers instead of asked of the engine.
//
// Docker 20.10 on overlay2 makes its change list the "naive" way whenever it cannot trust the layer alone: it
// mounts the container's filesystem and the image's, walks both trees whole and compares them (mode, owner, device,
// and for non-folders size and modification time). Its cost grows with the image, not with what the container
// wrote: 9-11 ms on the test fixtures' busybox image, 290 ms on one of 7,300 files; and while it runs, the
// container's inspect and logs wait behind it. Here only the container's own layer (overlay2's upper folder) is
// walked: whatever is not there is the image's, unchanged. Each entry there is compared with what the image shows
// at that path, the same comparison as the engine's, so the list is the engine's list.
//
// What the layers cannot show is an opaque folder (`rm -rf dir && mkdir dir` marks it with an extended
// attribute, which Node cannot read): it hides everything below it. Two places depend on it, and each is settled
// or sent back to the engine (undefined: the caller asks the engine as before):
// - A folder of the container's layer that the image has too, where the image has names the container's layer does
//   not: visible and unchanged if the folder is plain, deleted if it is opaque. One of those names is asked of the
//   engine (a HEAD, a few ms): seen means plain. Not seen (opaque) goes to the engine.
// - The image's own folders over several layers (an opaque folder in an upper image layer hides the layers below):
//   what the topmost image layer holding a folder shows is certain (docker's own -init layer above it is never
//   opaque). A name found only further down is certain once a name of that depth or deeper was seen by the same
//   HEAD; otherwise the engine answers.
// A change that leaves size, mode, owner and time as they were (a file opened for writing and not written, a
// capability set with setcap, which lives in an extended attribute too) also goes to the engine.
//
// Only stopped containers (a running one's layer moves while it is read; the engine's walk races the same way),
// engines on this machine with overlay2, and kernels whose overlayfs does not redirect renamed folders or copy
// metadata alone (both would need extended attributes). Every folder is opened through the one above it without
// following a link, as for every layer read (layer.ts).
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, type BigIntStats } from 'node:fs';
import type { Change, PathStat } from '../types.js';
import { apiSafe, DIR_FLAGS, inFolder, isWhiteout, layers, type InspectDoc } from './layer.js';

/** Names read (the container's layer and the image folders beside it) beyond which the engine's walk is used. */
const MAX_NAMES = 200_000;
/** Deepest folder read; deeper (hostile, most likely) goes to the engine. */
const MAX_DEPTH = 128;
/** HEADs asked of the engine at most; more goes to the engine's own walk. */
const MAX_CHECKS = 32;

type Stat = (path: string) => Promise<PathStat | undefined>;

/** Not for sure from the layers: the engine answers. */
class Unsure extends Error {}

/** An entry of a folder in one layer: a whiteout, or its stat. */
type Entry = 'whiteout' | BigIntStats;

/** A folder of the image as the image (without the container's layer) shows it: the layers holding it, topmost first. */
interface ImageFolder {
  /** Open folder in each layer that holds it as a folder, topmost first, stopped by a whiteout or a non-folder. */
  fds: number[];
  /** Whether each holder is docker's -init layer (made by the engine, never opaque). */
  init: boolean[];
  /** The root: every layer's root shows (overlayfs merges the roots whatever they hold). */
  root?: boolean;
  names: Map<string, Entry>[];
}

/** A folder of the container's layer that the image has too: what must be settled about it once the walk is done. */
interface Pending {
  path: string;
  /** A name the image shows here that the container's layer does not have, as deep in the layers as there is one. */
  sample?: { name: string; depth: number };
  /** How deep in the image's layers the classification of the container's entries here had to look. */
  needDepth: number;
}

interface Node {
  path: string;
  kind: Change['kind'];
  /** For a folder present in both: whether its own mode or owner differ (else listed only with changes below). */
  own?: boolean;
  children: Node[];
}

let overlayOptionsChecked: boolean | undefined;

/** overlayfs set to redirect renamed folders or to copy metadata alone: both leave marks only extended attributes show. */
function overlayPlain(): boolean {
  if (overlayOptionsChecked === undefined) {
    try {
      const read = (p: string) => readFileSync(`/sys/module/overlay/parameters/${p}`, 'utf8').trim();
      overlayOptionsChecked = read('redirect_dir') === 'N' && read('metacopy') === 'N';
    } catch {
      overlayOptionsChecked = false;
    }
  }
  return overlayOptionsChecked;
}

/**
 * The container's changes as `docker diff` lists them, from its layers; undefined when the layers cannot say for
 * sure (see above) and the engine must be asked. `stat` is the engine's view of a path in the container.
 */
export async function layerChanges(doc: InspectDoc & { State?: { Status?: string } }, stat: Stat): Promise<Change[] | undefined> {
  const where = layers(doc);
  const status = doc.State?.Status;
  if (!where || !where.lower.length || !(status === 'exited' || status === 'created' || status === 'dead') || !overlayPlain()) return undefined;
  const walk = new Walk(where.lower);
  try {
    const root = walk.run(where.upper);
    if (!(await walk.settle(stat))) return undefined;
    const out: Change[] = [];
    emit(root, out);
    return out;
  } catch (err) {
    if (err instanceof Unsure || (err as NodeJS.ErrnoException).code) return undefined;
    throw err;
  } finally {
    walk.close();
  }
}

/** The nodes in docker's order: a folder before what it holds, names in byte order; a folder present in both only when it or something below changed. */
function emit(node: Node, out: Change[]): boolean {
  const at = out.length;
  let below = false;
  for (const child of node.children) below = emit(child, out) || below;
  if (node.path === '') return below;
  if (node.kind === 'C' && node.own === false && !below) return false;
  out.splice(at, 0, { path: Buffer.from(node.path, 'latin1').toString('utf8'), kind: node.kind });
  return true;
}

class Walk {
  private names = 0;
  private readonly open = new Set<number>();
  readonly pending: Pending[] = [];

  constructor(private readonly lower: string[]) {}

  run(upper: string): Node {
    const fd = this.openDir(upper);
    const root: Node = { path: '', kind: 'C', own: false, children: [] };
    // nothing written (a container that failed at once): nothing of the image to look at
    if (readdirSync(inFolder(fd)).length === 0) return root;
    const image: ImageFolder = { fds: [], init: [], names: [], root: true };
    this.lower.forEach((layer, i) => {
      image.fds.push(this.openDir(layer));
      // docker names the layer it writes the container's /etc/hosts and the like into <id>-init: the topmost
      image.init.push(i === 0 && /-init\/diff$/.test(layer));
      image.names.push(this.list(image.fds[i]!));
    });
    this.folder(root, fd, image, 0);
    return root;
  }

  close(): void {
    for (const fd of this.open) closeSync(fd);
    this.open.clear();
  }

  private openDir(path: string | Buffer): number {
    const fd = openSync(path, DIR_FLAGS);
    this.open.add(fd);
    return fd;
  }

  private closeDir(fd: number): void {
    this.open.delete(fd);
    closeSync(fd);
  }

  /** Every name of an open folder (bytes as latin1) with its entry. */
  private list(fd: number): Map<string, Entry> {
    const names = readdirSync(inFolder(fd), { encoding: 'buffer' }).map((b) => b.toString('latin1'));
    this.names += names.length;
    if (this.names > MAX_NAMES) throw new Unsure();
    const entries = new Map<string, Entry>();
    for (const name of names) {
      // a name the engine's JSON would turn into U+FFFD: its list and ours could not be compared
      if (!apiSafe(name)) throw new Unsure();
      const st = lstatSync(inFolder(fd, name), { bigint: true });
      entries.set(name, isWhiteout(st) ? 'whiteout' : st);
    }
    return entries;
  }

  /**
   * The folder `node` of the container's layer (open as `fd`), beside the image's folder at the same path (null when
   * the image has none there). Appends its changed entries to node.children.
   */
  private folder(node: Node, fd: number, image: ImageFolder | null, depth: number): void {
    if (depth > MAX_DEPTH) throw new Unsure();
    const own = this.list(fd);
    const pending: Pending = { path: node.path || '/', needDepth: 0 };
    if (image) {
      // names the image shows here that the container's layer does not have: unchanged unless this folder is opaque
      const lowerOnly = this.lowerOnly(image, own);
      if (lowerOnly && node.path !== '') pending.sample = lowerOnly;
    }
    for (const name of [...own.keys()].sort()) {
      const entry = own.get(name)!;
      const path = `${node.path}/${name}`;
      const seen = image ? this.lookup(image, name, pending) : undefined;
      if (entry === 'whiteout') {
        if (seen) node.children.push({ path, kind: 'D', children: [] });
        continue;
      }
      if (!seen) {
        const added: Node = { path, kind: 'A', children: [] };
        if (entry.isDirectory()) this.added(added, fd, name, depth + 1);
        node.children.push(added);
        continue;
      }
      const was = seen.entry;
      if (entry.isDirectory() && was.isDirectory()) {
        const child: Node = { path, kind: 'C', own: entry.mode !== was.mode || entry.uid !== was.uid || entry.gid !== was.gid, children: [] };
        const childFd = this.openDir(inFolder(fd, name));
        const below = this.imageFolder(image!, name, seen.depth);
        try {
          this.folder(child, childFd, below, depth + 1);
        } finally {
          this.closeDir(childFd);
          for (const f of below.fds) this.closeDir(f);
        }
        node.children.push(child);
        continue;
      }
      // the same size, mode, owner and time: changed only where the layers cannot see (extended attributes)
      if (!differs(was, entry)) throw new Unsure();
      const changed: Node = { path, kind: 'C', children: [] };
      if (entry.isDirectory()) this.added(changed, fd, name, depth + 1);
      if (was.isDirectory()) {
        // a folder of the image replaced by a non-folder: each of its names is gone
        const below = this.imageFolder(image!, name, seen.depth);
        try {
          for (const gone of this.merged(below)) changed.children.push({ path: `${path}/${gone}`, kind: 'D', children: [] });
        } finally {
          for (const f of below.fds) this.closeDir(f);
        }
      }
      node.children.push(changed);
    }
    if (image && (pending.sample || pending.needDepth > 0)) this.pending.push(pending);
  }

  /** Everything below an added folder, added too. */
  private added(node: Node, parentFd: number, name: string, depth: number): void {
    if (depth > MAX_DEPTH) throw new Unsure();
    const fd = this.openDir(inFolder(parentFd, name));
    try {
      const own = this.list(fd);
      for (const child of [...own.keys()].sort()) {
        const entry = own.get(child)!;
        if (entry === 'whiteout') continue;
        const added: Node = { path: `${node.path}/${child}`, kind: 'A', children: [] };
        if (entry.isDirectory()) this.added(added, fd, child, depth + 1);
        node.children.push(added);
      }
    } finally {
      this.closeDir(fd);
    }
  }

  /**
   * What the image shows at `name` in `image`: its entry and the depth (holder index) it was found at, or undefined
   * when the image has nothing there. Found below the first layer that can hide the rest (an image layer holding
   * the folder), it is recorded in `pending` to be settled by a HEAD.
   */
  private lookup(image: ImageFolder, name: string, pending: Pending): { entry: BigIntStats; depth: number } | undefined {
    for (let i = 0; i < image.names.length; i++) {
      const found = image.names[i]!.get(name);
      if (found === undefined) continue;
      // a whiteout means nothing there, whatever hides it
      if (found === 'whiteout') return undefined;
      if (i > certainDepth(image)) pending.needDepth = Math.max(pending.needDepth, i);
      return { entry: found, depth: i };
    }
    return undefined;
  }

  /** A name the image shows in this folder that `own` does not have, as deep in the layers as one is; none: undefined. */
  private lowerOnly(image: ImageFolder, own: Map<string, Entry>): Pending['sample'] {
    const above = new Set<string>();
    let sample: Pending['sample'];
    image.names.forEach((names, depth) => {
      for (const [name, entry] of names) {
        if (!above.has(name) && entry !== 'whiteout' && !own.has(name)) {
          if (!sample || sample.depth < depth) sample = { name, depth };
        }
      }
      for (const name of names.keys()) above.add(name);
    });
    return sample;
  }

  /** The image's folder `name` inside `image`, from the holder it was found in down. */
  private imageFolder(image: ImageFolder, name: string, from: number): ImageFolder {
    const below: ImageFolder = { fds: [], init: [], names: [] };
    try {
      for (let i = from; i < image.fds.length; i++) {
        const entry = image.names[i]!.get(name);
        if (entry === undefined) continue;
        // a whiteout or a non-folder hides the layers below
        if (entry === 'whiteout' || !entry.isDirectory()) break;
        const fd = this.openDir(inFolder(image.fds[i]!, name));
        below.fds.push(fd);
        below.init.push(image.init[i]!);
        below.names.push(this.list(fd));
      }
    } catch (err) {
      for (const fd of below.fds) this.closeDir(fd);
      throw err;
    }
    return below;
  }

  /** Every name the image shows in `image` (a folder replaced by a non-folder); names from hidden depths are not for sure. */
  private merged(image: ImageFolder): string[] {
    const names = new Map<string, boolean>();
    image.names.forEach((layer, depth) => {
      for (const [name, entry] of layer) {
        if (names.has(name)) continue;
        if (depth > certainDepth(image)) throw new Unsure();
        names.set(name, entry !== 'whiteout');
      }
    });
    return [...names].filter(([, shown]) => shown).map(([name]) => name).sort();
  }

  /**
   * Settles what the layers alone could not: for each folder, one name of the image that the container's layer
   * does not hold is asked of the engine. Seen: the container's folder is plain (not opaque) and nothing above that
   * name's depth in the image hides it. Anything else: the engine's own walk.
   */
  async settle(stat: Stat): Promise<boolean> {
    if (this.pending.length > MAX_CHECKS) return false;
    const answers = await Promise.all(
      this.pending.map(async (p) => {
        if (!p.sample) return false; // names found deep in the image, and no name to check that depth with
        if (p.sample.depth < p.needDepth) return false;
        const path = `${p.path === '/' ? '' : p.path}/${p.sample.name}`;
        const seen = await stat(Buffer.from(path, 'latin1').toString('utf8')).catch(() => undefined);
        return seen !== undefined;
      }),
    );
    return answers.every(Boolean);
  }
}

/** The deepest holder whose names the image certainly shows: its topmost holder, or the one under docker's -init layer. */
function certainDepth(image: ImageFolder): number {
  if (image.root) return Infinity;
  return image.init[0] ? 1 : 0;
}

/** The engine's comparison of two entries: type and mode, owner, device, and for non-folders size and time. */
function differs(was: BigIntStats, now: BigIntStats): boolean {
  if (was.mode !== now.mode || was.uid !== now.uid || was.gid !== now.gid || was.rdev !== now.rdev) return true;
  if (was.isDirectory()) return false;
  const sec = (t: bigint) => t / 1_000_000_000n;
  const nsec = (t: bigint) => t % 1_000_000_000n;
  // a zero nanosecond part matches any: file systems that keep seconds only
  const sameTime = sec(was.mtimeNs) === sec(now.mtimeNs) && (nsec(was.mtimeNs) === nsec(now.mtimeNs) || nsec(was.mtimeNs) === 0n || nsec(now.mtimeNs) === 0n);
  return !sameTime || was.size !== now.size;
}
