// Packing host files into a plain tar for `porthole cp SRC CONTAINER:PATH`: symlinks are sent as symlinks (never
// followed inside the tree), hardlinked files once and then as links, device files, FIFOs and sockets skipped
// with a warning. The walk holds one open folder per level, so memory follows depth, not size.
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { LayerFile } from '../engine/types.js';
import { escapeName } from '../render/escape.js';
import { decodeName, fsPath, showRawBytes } from './tar-names.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface HeaderFields {
  name: string;
  type: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
}

const TYPEFLAG: Record<EntryType, string> = { file: '0', dir: '5', symlink: '2', hardlink: '1', char: '3', block: '4', fifo: '6' };
const MAX_OCTAL_12 = 0o77777777777;
const MAX_OCTAL_8 = 0o7777777;

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

/** One PAX record; a name read from the host's folders carries its exact bytes (see tar-names.ts). */
function paxRecord(key: string, value: string): Buffer {
  const exact = fsPath(value);
  const body = Buffer.concat([Buffer.from(` ${key}=`), typeof exact === 'string' ? Buffer.from(exact) : exact, Buffer.from('\n')]);
  const len = body.length;
  let total = len + String(len).length;
  if (String(total).length !== String(len).length) total = len + String(total).length;
  return Buffer.concat([Buffer.from(String(total)), body]);
}

function pad(size: number): number {
  return (512 - (size % 512)) % 512;
}

/**
 * Encodes one entry's header: a ustar block, preceded by a PAX extended header when a name, a link target, a
 * size or an id does not fit ustar (long names, names that are not plain ASCII, files over 8 GiB).
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const pax: Buffer[] = [];
  // Like Go's archive/tar: plain ASCII (controls included) that fits goes in the ustar fields, the rest in PAX.
  const asciiFits = (s: string, n: number) => /^[\x01-\x7f]*$/.test(s) && Buffer.byteLength(s) <= n;
  if (!asciiFits(h.name, 100)) pax.push(paxRecord('path', h.name));
  if (h.linkname && !asciiFits(h.linkname, 100)) pax.push(paxRecord('linkpath', h.linkname));
  if (size > MAX_OCTAL_12) pax.push(paxRecord('size', String(size)));
  if (uid > MAX_OCTAL_8) pax.push(paxRecord('uid', String(uid)));
  if (gid > MAX_OCTAL_8) pax.push(paxRecord('gid', String(gid)));
  const block = Buffer.alloc(512);
  writeString(block, asciiFits(h.name, 100) ? h.name : h.name.slice(0, 99).replace(/[^\x01-\x7f]/g, '_'), 0, 100);
  writeOctal(block, (h.mode ?? (h.type === 'dir' ? 0o755 : h.type === 'symlink' ? 0o777 : 0o644)) & 0o7777, 100, 8);
  writeOctal(block, Math.min(uid, MAX_OCTAL_8), 108, 8);
  writeOctal(block, Math.min(gid, MAX_OCTAL_8), 116, 8);
  writeOctal(block, Math.min(size, MAX_OCTAL_12), 124, 12);
  writeOctal(block, Math.max(0, Math.min(Math.floor(h.mtime ?? 0), MAX_OCTAL_12)), 136, 12);
  block.fill(' ', 148, 156);
  block.write(TYPEFLAG[h.type], 156, 1, 'ascii');
  if (h.linkname) writeString(block, asciiFits(h.linkname, 100) ? h.linkname : '', 157, 100);
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  if (h.uname) writeString(block, h.uname.slice(0, 31), 265, 32);
  if (h.gname) writeString(block, h.gname.slice(0, 31), 297, 32);
  writeOctal(block, 0, 329, 8);
  writeOctal(block, 0, 337, 8);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  if (!pax.length) return block;
  const body = Buffer.concat(pax);
  const paxHeader = Buffer.alloc(512);
  writeString(paxHeader, 'PaxHeader', 0, 100);
  writeOctal(paxHeader, 0o644, 100, 8);
  writeOctal(paxHeader, 0, 108, 8);
  writeOctal(paxHeader, 0, 116, 8);
  writeOctal(paxHeader, body.length, 124, 12);
  writeOctal(paxHeader, 0, 136, 12);
  paxHeader.fill(' ', 148, 156);
  paxHeader.write('x', 156, 1, 'ascii');
  paxHeader.write('ustar\0', 257, 6, 'ascii');
  paxHeader.write('00', 263, 2, 'ascii');
  let paxSum = 0;
  for (const byte of paxHeader) paxSum += byte;
  paxHeader.write(paxSum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return Buffer.concat([paxHeader, body, Buffer.alloc(pad(body.length)), block]);
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(1024);
}

export function padding(size: number): Buffer {
  return Buffer.alloc(pad(size));
}

/** The source changed under a copy so that it cannot be copied whole; the message is a sentence for the user. */
export class SourceChanged extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceChanged';
  }
}

/**
 * One file read from a container's layer as the one-entry archive the engine's archive endpoint sends for it:
 * the entry named `name`, the file's mode and time. A file a running container is still writing is cut at the
 * size it had when opened, as in the engine's archive; one that shrank meanwhile fails the copy.
 */
export async function* layerFileArchive(file: LayerFile, name: string): AsyncGenerator<Buffer> {
  const size = file.size;
  yield encodeHeader({ name, type: 'file', mode: file.mode, uid: file.uid, gid: file.gid, size, mtime: Math.floor(file.mtime.getTime() / 1000) });
  let sent = 0;
  const chunks = file.chunks();
  try {
    for await (const chunk of chunks) {
      const rest = size - sent;
      sent += Math.min(chunk.length, rest);
      yield chunk.length > rest ? chunk.subarray(0, rest) : chunk;
      if (sent === size) break;
    }
  } finally {
    await chunks.return(undefined);
  }
  if (sent < size) throw new SourceChanged(`${escapeName(name)} shrank from ${size} to ${sent} bytes while it was copied.`);
  yield padding(size);
  yield endOfArchive();
}

export interface PackOptions {
  /** Warns about skipped entries (already escaped). */
  warn(message: string): void;
  /** Called with the number of content bytes read, as they are read. */
  onBytes?(n: number): void;
  signal?: AbortSignal;
  /** Write these ids instead of the files' own (without `cp -a`: root in the container, as docker documents). */
  owner?: { uid: number; gid: number };
}

const READ_CHUNK = 1024 * 1024;

/**
 * Walks `hostPath` (not following a link at hostPath itself: callers resolve -L first) and yields the tar bytes
 * with its top entry named `archiveTop` ('.' sends a folder's contents).
 */
export async function* packPath(hostPath: string, archiveTop: string, opts: PackOptions): AsyncGenerator<Buffer> {
  const seen = new Map<string, string>(); // dev:ino of hardlinked files -> the archive name sent first
  const top = await fsp.lstat(hostPath);
  yield* packEntry(hostPath, archiveTop, top, seen, opts);
  if (top.isDirectory()) {
    // Depth-first with one open folder handle per level.
    const stack: { dir: import('node:fs').Dir; host: string; name: string }[] = [
      { dir: await openDir(hostPath), host: hostPath, name: archiveTop },
    ];
    try {
      while (stack.length) {
        if (opts.signal?.aborted) throw new Error('The copy was stopped.');
        const level = stack[stack.length - 1]!;
        const dirent = await level.dir.read();
        if (!dirent) {
          await level.dir.close();
          stack.pop();
          continue;
        }
        // Names are read as bytes and carried surrogate-escaped, so a name that is not valid UTF-8 is sent exactly.
        const entryName = decodeName(dirent.name as unknown as Buffer);
        const host = join(level.host, entryName);
        const name = level.name === '.' ? `./${entryName}` : `${level.name}/${entryName}`;
        let st: Stats;
        try {
          st = await fsp.lstat(fsPath(host));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we walked
          throw err;
        }
        yield* packEntry(host, name, st, seen, opts);
        if (st.isDirectory()) stack.push({ dir: await openDir(host), host, name });
      }
    } finally {
      for (const level of stack) await level.dir.close().catch(() => undefined);
    }
  }
  yield endOfArchive();
}

/** A folder whose entries are read with their names as bytes. */
function openDir(host: string) {
  return fsp.opendir(fsPath(host), { encoding: 'buffer' as BufferEncoding });
}

async function* packEntry(host: string, name: string, st: Stats, seen: Map<string, string>, opts: PackOptions): AsyncGenerator<Buffer> {
  const base = { mode: st.mode & 0o7777, uid: opts.owner?.uid ?? st.uid, gid: opts.owner?.gid ?? st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isDirectory()) {
    yield encodeHeader({ ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'dir' });
  } else if (st.isSymbolicLink()) {
    yield encodeHeader({ ...base, name, type: 'symlink', linkname: decodeName(await fsp.readlink(fsPath(host), { encoding: 'buffer' })) });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? seen.get(key) : undefined;
    if (first) {
      yield encodeHeader({ ...base, name, type: 'hardlink', linkname: first });
      return;
    }
    if (st.nlink > 1) seen.set(key, name);
    yield* packFile(host, name, st, base, opts);
  } else {
    const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device file';
    opts.warn(`skipped ${showRawBytes(escapeName(host))}: it is ${kind}.`);
  }
}

async function* packFile(host: string, name: string, st: Stats, base: { mode: number; uid: number; gid: number; mtime: number }, opts: PackOptions): AsyncGenerator<Buffer> {
  // O_NOFOLLOW: if the file was swapped for a link since lstat, fail rather than send what the link points at.
  const handle = await fsp.open(fsPath(host), fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    const size = st.size;
    yield encodeHeader({ ...base, name, type: 'file', size });
    let sent = 0;
    while (sent < size) {
      const want = Math.min(READ_CHUNK, size - sent);
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) {
        // The file shrank while we read it: the header promised `size` bytes, so pad with zeros.
        opts.warn(`${showRawBytes(escapeName(host))} shrank while it was copied; the rest is filled with zeros.`);
        const rest = size - sent;
        yield Buffer.alloc(rest);
        sent = size;
        break;
      }
      sent += bytesRead;
      opts.onBytes?.(bytesRead);
      yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
    }
    yield padding(size);
  } finally {
    await handle.close();
  }
}
