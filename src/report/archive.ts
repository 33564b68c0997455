// Reading one file of a container through the engine's archive endpoint (works on stopped containers, needs
// nothing inside the container, changes nothing). The tar stream is read with node-tar's Parser, and only as
// far as needed: a cap on the bytes read per file keeps memory and time bounded whatever the container holds.
import type { EngineClient, PathStat } from '../engine/types.js';
import { NotFound } from '../errors.js';
import { MODE_DIR, MODE_SYMLINK } from './findings.js';

export interface EntryInfo {
  type: 'file' | 'symlink' | 'directory' | 'other';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date | null;
  linkTarget: string;
}

export interface ReadResult {
  info: EntryInfo;
  /** Bytes of content read (at most the cap). */
  bytesRead: number;
  /** Reading stopped before the end of the file. */
  stopped: boolean;
}

/**
 * Streams the content of the file at `path` to `onData`, which returns false to stop. Resolves with the entry's
 * header, or null when the path does not exist. Directories and links are not descended into.
 */
export async function readEntry(
  engine: EngineClient,
  id: string,
  path: string,
  onData: (chunk: Buffer) => boolean,
  maxBytes: number,
  opts: { fromLayers?: boolean } = {},
): Promise<ReadResult | null> {
  // Where the engine is local, plain files come straight from the container's layers (engine/docker/layer.ts).
  // Their owner is then the host's view of it, which differs under user-namespace remapping: a reader that
  // writes the owner back (edit) asks the engine instead.
  const direct = opts.fromLayers === false ? undefined : await engine.openLayerFile?.(id, path);
  if (direct) {
    const info: EntryInfo = { type: 'file', size: direct.size, mode: direct.mode, uid: direct.uid, gid: direct.gid, uname: '', gname: '', mtime: direct.mtime, linkTarget: '' };
    return { info, ...direct.read(onData, maxBytes) }; // read() closes the file, empty or not
  }
  let archive: { stat: PathStat; stream: import('node:stream').Readable };
  try {
    archive = await engine.getArchive(id, path);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
  const { Parser } = await import('tar/parse');
  const { stream } = archive;
  return new Promise((resolve, reject) => {
    let settled = false;
    let info: EntryInfo | undefined;
    let bytesRead = 0;
    let stopped = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      stream.unpipe();
      stream.destroy();
      if (info) resolve({ info, bytesRead, stopped });
      else resolve(null);
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      stream.destroy();
      reject(err);
    };
    const parser = new Parser({
      strict: false,
      onReadEntry: (entry) => {
        if (info || settled) {
          entry.resume();
          return;
        }
        const t = entry.type;
        info = {
          type: t === 'File' || t === 'OldFile' || t === 'ContiguousFile' ? 'file' : t === 'SymbolicLink' ? 'symlink' : t === 'Directory' ? 'directory' : 'other',
          size: entry.size ?? 0,
          mode: entry.mode ?? 0,
          uid: entry.uid ?? 0,
          gid: entry.gid ?? 0,
          uname: entry.uname ?? '',
          gname: entry.gname ?? '',
          mtime: entry.mtime ?? null,
          linkTarget: entry.linkpath ?? '',
        };
        if (info.type !== 'file' || info.size === 0) {
          entry.resume();
          finish();
          return;
        }
        entry.on('data', (chunk: Buffer) => {
          if (settled) return;
          const room = maxBytes - bytesRead;
          const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
          bytesRead += piece.length;
          const more = onData(piece);
          if (!more || bytesRead >= maxBytes) {
            stopped = bytesRead < info!.size;
            finish();
          }
        });
        entry.on('end', finish);
      },
    });
    parser.on('error', (err: Error) => fail(err));
    parser.on('end', finish);
    stream.on('error', (err) => fail(err));
    stream.on('end', () => setImmediate(finish));
    stream.pipe(parser as unknown as NodeJS.WritableStream);
  });
}

/** The first `bytes` of a file. */
export async function readHead(engine: EngineClient, id: string, path: string, bytes: number): Promise<{ info: EntryInfo; head: Buffer } | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  const r = await readEntry(engine, id, path, (c) => {
    chunks.push(c);
    size += c.length;
    return size < bytes;
  }, bytes);
  return r && { info: r.info, head: Buffer.concat(chunks).subarray(0, bytes) };
}

/** The last lines of a file, reading at most `maxBytes` of it and keeping only a window of `keepBytes`. */
export async function readTailLines(
  engine: EngineClient,
  id: string,
  path: string,
  count: number,
  maxBytes = 8 * 1024 * 1024,
  keepBytes = 64 * 1024,
): Promise<{ info: EntryInfo; lines: string[]; binary: boolean; stopped: boolean; bytesRead: number } | null> {
  let window = Buffer.alloc(0);
  let binary = false;
  const r = await readEntry(engine, id, path, (c) => {
    if (c.includes(0)) binary = true;
    window = Buffer.concat([window, c]);
    if (window.length > keepBytes * 2) window = window.subarray(window.length - keepBytes);
    return !binary;
  }, maxBytes);
  if (!r) return null;
  let text = window.subarray(Math.max(0, window.length - keepBytes)).toString('utf8');
  // The window may start mid-line: drop that partial first line unless it is the file's start.
  if (r.bytesRead > keepBytes) text = text.slice(text.indexOf('\n') + 1);
  const lines = text.split('\n');
  // Stopped at the cap: the last line is cut off somewhere, so it is not shown.
  if (lines[lines.length - 1] === '' || r.stopped) lines.pop();
  return { info: r.info, lines: binary ? [] : lines.slice(-count), binary, stopped: r.stopped, bytesRead: r.bytesRead };
}

/** Lines `from`..`to` (1-based, inclusive) of a file, reading no further than needed (and at most `maxBytes`). */
export async function readLineRange(
  engine: EngineClient,
  id: string,
  path: string,
  from: number,
  to: number,
  maxBytes = 8 * 1024 * 1024,
): Promise<{ info: EntryInfo; lines: { number: number; text: string }[]; reachedEnd: boolean; linesSeen: number } | null> {
  const out: { number: number; text: string }[] = [];
  let lineNo = 1;
  let partial = '';
  let binary = false;
  const r = await readEntry(engine, id, path, (c) => {
    if (c.includes(0)) {
      binary = true;
      return false;
    }
    const text = partial + c.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      if (lineNo >= from && lineNo <= to) out.push({ number: lineNo, text: line.slice(0, 1000) });
      lineNo++;
      if (lineNo > to) return false;
    }
    // A single enormous line is not worth holding whole.
    if (partial.length > 64 * 1024) partial = partial.slice(0, 64 * 1024);
    return true;
  }, maxBytes);
  if (!r) return null;
  if (binary) return { info: r.info, lines: [], reachedEnd: false, linesSeen: 0 };
  const reachedEnd = !r.stopped && lineNo <= to;
  if (reachedEnd && partial && lineNo >= from && lineNo <= to) {
    out.push({ number: lineNo, text: partial.slice(0, 1000) });
    lineNo++;
  }
  return { info: r.info, lines: out, reachedEnd, linesSeen: lineNo - 1 };
}

/** Whether a stat header from the archive endpoint is a directory or a symlink. */
export function statKind(stat: PathStat): 'directory' | 'symlink' | 'file' {
  if (stat.mode & MODE_DIR) return 'directory';
  if (stat.mode & MODE_SYMLINK) return 'symlink';
  return 'file';
}
