// Reading a container's files through the engine (archive and export endpoints): works on running, stopped and
// shell-less containers alike, and needs nothing inside the container.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { EngineClient, LayerWalkEntry, PathStat } from '../engine/types.js';
import { ChangedWhileRead, NoSuchPath, NotFound, UnusablePath } from '../errors.js';
import type { FsEntry, Owners } from './entry.js';
import { layerEntry, parseIdFile } from './entry.js';
import { archiveEntryPath, dirname, exportEntryPath, normalize, resolveLink, show, toApi } from './paths.js';
import { readSmallBody, readTar } from './tar-reader.js';

/** Go's os.FileMode type bits as the engine reports them in the path stat header. */
export const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;

export function statIsDir(stat: PathStat): boolean {
  return Math.floor(stat.mode / GO_MODE_DIR) % 2 === 1;
}

export function statIsSymlink(stat: PathStat): boolean {
  return Math.floor(stat.mode / GO_MODE_SYMLINK) % 2 === 1;
}

export type FsReadEntry = FsEntry & { body(): AsyncIterable<Buffer> };

/**
 * Every entry under `path` (a byte string), with container paths, streamed. `/` uses the export endpoint (the
 * container's own filesystem, as `docker export` sees it); other paths use the archive endpoint.
 */
export function walk(engine: EngineClient, containerId: string, path: string): AsyncGenerator<FsReadEntry> {
  const root = normalize(path);
  if (root === '/') return readTar(engine.exportContainer(containerId), exportEntryPath);
  const base = dirname(root);
  return readTar(
    engine.getArchive(containerId, toApi(root)).then((a) => a.stream),
    (name) => archiveEntryPath(base, name),
  );
}

/**
 * Like walk(), for listings that need names, types, sizes and times but no contents (ls -R, find, du --all):
 * from the container's layers where the engine can (see EngineClient.walkLayers), else walk(). Without
 * `details` the entries may carry names and types only (mode, owner, size, time and hardlinks left out).
 */
export async function* walkNames(engine: EngineClient, containerId: string, path: string, details = true, rootStat?: PathStat): AsyncGenerator<FsEntry> {
  const root = normalize(path);
  const fromLayers = () =>
    engine.walkLayers?.(containerId, toApi(root), { exportView: root === '/', details }).catch((err) => {
      // the layers' way cannot answer: the engine's walk does, unless the container is swapping what is read
      if (err instanceof ChangedWhileRead) throw err;
      return undefined;
    });
  const layered = await fromLayers();
  const entries = layered ? mapEntries(layered, (e) => layerEntry(e.path, e)) : engineWalk(engine, containerId, root, rootStat, fromLayers);
  let first = true;
  for await (const entry of entries) {
    // A running container may swap the folder for a link or a file between the stat and the walk: then the walk
    // holds only that entry, and a listing that skips its root would print nothing and call it a success.
    if (first && rootStat && entry.path === root && (entry.type === 'dir') !== statIsDir(rootStat)) throw changedWhileRead(root, rootStat, entry.type);
    first = false;
    yield entry;
  }
  // nothing at all where a folder or file was: removed or renamed while read
  if (first && rootStat) throw changedWhileRead(root, rootStat, 'gone');
}

/**
 * The engine's walk, for walkNames. The engine reads a folder by its path: a running container that swaps it for a
 * link as the engine reads it gets an empty folder sent, which would list as empty and succeed. So a folder that
 * comes back empty is asked of the layers once more (walked safely, they answer, or say it changed); where the
 * layers cannot answer either (they met the link, or the folder is a mount), the engine is asked again, up to
 * EMPTY_READS times in all, with a fresh stat each time: a folder the stat no longer calls a folder changed while
 * read, and only a folder that is empty in every read is listed as empty.
 */
const EMPTY_READS = 3;

async function* engineWalk(engine: EngineClient, id: string, root: string, rootStat: PathStat | undefined, again: () => Promise<AsyncIterable<LayerWalkEntry> | undefined> | undefined): AsyncGenerator<FsEntry> {
  for (let read = 1; ; read++) {
    const it = walk(engine, id, root)[Symbol.asyncIterator]();
    const one = await it.next();
    if (one.done) return;
    const two = await it.next();
    if (two.done && rootStat && statIsDir(rootStat) && one.value.path === root && one.value.type === 'dir') {
      const layered = await again();
      if (layered) {
        for await (const e of layered) yield layerEntry(e.path, e);
        return;
      }
      if (read < EMPTY_READS) {
        const now = await engine.statPath(id, toApi(root)).catch(() => undefined);
        if (!now) throw changedWhileRead(root, rootStat, 'gone');
        if (!statIsDir(now)) throw changedWhileRead(root, rootStat, statIsSymlink(now) ? 'symlink' : 'file');
        continue;
      }
    }
    yield one.value;
    if (two.done) return;
    yield two.value;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    return;
  }
}

async function* mapEntries<T>(source: AsyncIterable<T>, map: (e: T) => FsEntry): AsyncGenerator<FsEntry> {
  for await (const e of source) yield map(e);
}

/** The path was one thing when porthole looked and another when it read it: a running container changing it. */
export function changedWhileRead(path: string, before: PathStat, nowType: string): ChangedWhileRead {
  const was = statIsDir(before) ? 'a folder' : statIsSymlink(before) ? 'a link' : 'a file';
  const now = nowType === 'dir' ? 'a folder' : nowType === 'symlink' ? 'a link' : nowType === 'file' ? 'a file' : nowType === 'gone' ? 'gone' : `a ${nowType}`;
  return new ChangedWhileRead(`${show(path)} changed while porthole read it: it was ${was} and ${now === 'gone' ? 'is gone' : `is now ${now}`} (the running container is changing it).`, 'Run the command again, or stop the container first.');
}

/** Fails with a sentence when `path` does not exist in the container. */
export async function statOrNotFound(engine: EngineClient, containerId: string, path: string): Promise<PathStat> {
  try {
    return await engine.statPath(containerId, toApi(path));
  } catch (err) {
    // HEAD answers carry no message; the container was resolved just before, so a 404 means the path. An image
    // target's own layers say so about the image already.
    if (err instanceof NotFound && !/no such container/i.test(err.message)) throw samePath(err, path);
    throw err;
  }
}

export function noSuchPath(path: string): NoSuchPath {
  return new NoSuchPath(`No such file or directory in the container: ${show(path)}.`, toApi(dirname(path)));
}

/** The engine's "not found" for `path`, as a sentence; one already said about the path (an image's layers) stays. */
function samePath(err: NotFound, path: string): NotFound {
  return err instanceof NoSuchPath ? err : noSuchPath(path);
}

/** Most symlinks followed in one lookup, as Linux's ELOOP limit. */
const MAX_LINKS = 40;

/**
 * Opens one file for reading, following symlinks inside the container's root (resolved here, lexically, never
 * on the host). Calls `onData` with the body's chunks. A directory or a missing path is a NotFound sentence.
 */
export async function readFile(
  engine: EngineClient,
  containerId: string,
  path: string,
  onData: (chunk: Buffer) => Promise<void> | void,
): Promise<void> {
  let current = normalize(path);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    // A plain file comes straight from the container's layers where the engine is local and that is certain
    // (engine/docker/layer.ts): no tar helper in the engine, about 60 ms less per file on a stopped container.
    const direct = await engine.openLayerFile?.(containerId, toApi(current)).catch(() => undefined);
    if (direct) {
      for await (const chunk of direct.chunks()) await onData(chunk);
      return;
    }
    let archive;
    try {
      archive = await engine.getArchive(containerId, toApi(current));
    } catch (err) {
      if (err instanceof NotFound) throw current === normalize(path) ? samePath(err, path) : new NotFound(`${show(path)} is a symlink to ${show(current)}, which does not exist in the container.`);
      throw err;
    }
    if (statIsDir(archive.stat)) {
      archive.stream.destroy();
      throw new UnusablePath(`${show(path)} is a directory, not a file.`, toApi(normalize(path)), 'List it with');
    }
    for await (const entry of readTar(archive.stream)) {
      if (entry.type === 'symlink') {
        current = resolveLink(current, entry.linkName);
        break;
      }
      if (entry.type !== 'file') {
        throw new NotFound(`${show(path)} is not a regular file (it is a ${entry.type}).`);
      }
      for await (const chunk of entry.body()) await onData(chunk);
      return;
    }
  }
  throw new NotFound(`${show(path)}: too many levels of symbolic links inside the container.`);
}

/** The container's user and group names from its /etc/passwd and /etc/group; empty maps when absent. */
export async function loadOwners(engine: EngineClient, containerId: string): Promise<Owners> {
  const read = async (file: string) => {
    try {
      const parts: Buffer[] = [];
      let size = 0;
      await readFile(engine, containerId, file, (chunk) => {
        size += chunk.length;
        if (size <= 4 << 20) parts.push(chunk);
      });
      return parseIdFile(Buffer.concat(parts).toString('utf8'));
    } catch {
      return new Map<number, string>();
    }
  };
  const [users, groups] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  return { users, groups };
}

export { readSmallBody };

/**
 * Collects output text and writes it in large pieces, waiting when the reader is slow (back-pressure), so a
 * listing of millions of lines neither floods memory nor makes a write call per line.
 */
export class OutputBuffer {
  private pending: (string | Buffer)[] = [];
  private size = 0;
  constructor(private readonly out: Writable, private readonly limit = 64 * 1024) {}

  async write(text: string | Buffer): Promise<void> {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= this.limit) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const all = this.pending.every((p) => typeof p === 'string')
      ? (this.pending as string[]).join('')
      : Buffer.concat(this.pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    this.pending = [];
    this.size = 0;
    if (!this.out.write(all)) await once(this.out, 'drain');
  }
}
