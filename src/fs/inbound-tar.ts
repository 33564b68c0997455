// A tar given on stdin for `porthole cp - C:DEST` / `cp - pod/X:DEST`: it is read whole before a byte is sent, so
// its entry names can be checked (the rules copying out applies to a container's tar: no absolute name, no `..`,
// nothing written through a link the stream itself made, hardlinks only to files of this stream, no device or
// unknown entry type) and the folders it writes into are known (for pods, each is checked for a link in the pod
// before tar runs there). The bytes are kept in a private temporary file and removed afterwards. What is sent is
// written anew from the entries porthole read and checked (header by header, bodies as given), never the bytes as
// given: a receiver whose tar reads a crafted header differently (PAX against ustar fields, a size the two parse
// apart, entries hidden after the end-of-archive blocks) cannot find an entry the check did not see.
import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Failure } from '../errors.js';
import { show } from './paths.js';
import { encodeHeader, endOfArchive, padding } from './pack.js';
import { readTar, type EntryType } from './tar-reader.js';
import { decodeName } from './tar-names.js';

export interface InboundProblem {
  /** The entry's name as the stream holds it (a byte string). */
  name: string;
  reason: string;
}

export interface InboundTar {
  /** Folders the tar writes into or creates, relative to DEST, as byte strings, parents before children. */
  folders: string[];
  entries: number;
  /** Size of the tar as read from stdin. */
  bytes: number;
  /** The first entry that breaks a rule, if any (nothing may be sent then). */
  problem: InboundProblem | undefined;
  /** How many entries break a rule. */
  problems: number;
  /** The checked entries as a tar written anew, padded to a whole 10 KiB record. */
  open(): Readable;
  /** Removes the temporary copy (also done by the cleanup registry on a signal). */
  remove(): Promise<void>;
}

const ALLOWED: ReadonlySet<EntryType> = new Set(['file', 'dir', 'symlink', 'hardlink']);

/** The segments of an entry name, or the reason it is refused. Pure: unit-tested. */
export function inboundSegments(name: string): { ok: true; segments: string[] } | { ok: false; reason: string } {
  if (name.includes('\0')) return { ok: false, reason: 'its name holds a NUL byte' };
  if (name.startsWith('/')) return { ok: false, reason: 'its name is absolute' };
  const parts = name.split('/');
  if (parts.includes('..')) return { ok: false, reason: 'its name climbs out with ..' };
  const segments = parts.filter((s) => s !== '' && s !== '.');
  return { ok: true, segments };
}

/**
 * Checks a stream of tar entries (name, type, link target) against the rules; returns the folders written into.
 * Kept apart from the reading so it can be tested on plain lists.
 */
export class InboundRules {
  readonly folders: string[] = [];
  private readonly folderSet = new Set<string>();
  private readonly links = new Set<string>();
  private readonly files = new Set<string>();
  problems: InboundProblem[] = [];

  entry(name: string, type: EntryType, linkName: string): void {
    const refuse = (reason: string) => {
      this.problems.push({ name, reason });
    };
    if (!ALLOWED.has(type)) return refuse(type === 'other' ? 'its entry type is not one porthole knows' : `it is a ${type === 'fifo' ? 'FIFO' : `${type} device`}, which porthole does not copy into a container`);
    const parsed = inboundSegments(name);
    if (!parsed.ok) return refuse(parsed.reason);
    const segs = parsed.segments;
    if (!segs.length && type !== 'dir') return refuse('it would replace the destination folder itself');
    // A folder on the way that this stream made a link: tar would write through it.
    for (let i = 1; i <= segs.length - (type === 'dir' ? 0 : 1); i++) {
      const prefix = segs.slice(0, i).join('/');
      if (this.links.has(prefix)) return refuse(`its folder ${show(prefix)} is a symbolic link made earlier in this tar, and porthole never writes through links`);
    }
    if (type === 'hardlink') {
      const target = inboundSegments(linkName);
      if (!target.ok) return refuse(`it is a hardlink to ${show(linkName)}, and ${target.reason.replace(/^its name/, 'that name')}`);
      if (!this.files.has(target.segments.join('/'))) return refuse(`it is a hardlink to ${show(linkName)}, which is not a file this tar made before it`);
    }
    const full = segs.join('/');
    const upTo = type === 'dir' ? segs.length : segs.length - 1;
    for (let i = 1; i <= upTo; i++) this.addFolder(segs.slice(0, i).join('/'));
    if (type === 'symlink') {
      this.links.add(full);
      this.files.delete(full);
    } else if (type === 'file' || type === 'hardlink') {
      this.files.add(full);
      this.links.delete(full);
    }
  }

  private addFolder(path: string): void {
    if (this.folderSet.has(path)) return;
    this.folderSet.add(path);
    this.folders.push(path);
  }
}

/** A private temporary file for the stdin tar. */
async function spoolFile(): Promise<{ path: string; dir: string }> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'porthole-stdin-'));
  return { dir, path: join(dir, 'stdin.tar') };
}

/**
 * Reads the whole tar from `input` into a private temporary file while checking each entry. Throws a Failure when
 * the stream is not a tar porthole can read. `onRemove` registers the removal with the caller's cleanup.
 */
export async function readInboundTar(input: NodeJS.ReadableStream, register: (remove: () => Promise<void>) => () => void): Promise<InboundTar> {
  const spool = await spoolFile();
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await fsp.rm(spool.dir, { recursive: true, force: true });
  };
  const drop = register(remove);
  const handle = await fsp.open(spool.path, 'wx', 0o600);
  let bytes = 0;
  const rules = new InboundRules();
  let entries = 0;
  let closed = false;
  try {
    const tee = (async function* () {
      for await (const chunk of input as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buf.length;
        await handle.write(buf);
        yield buf;
      }
    })();
    try {
      for await (const entry of readTar(tee)) {
        entries++;
        rules.entry(entry.name, entry.type, entry.linkName);
      }
    } catch (err) {
      const what = (err as Error).message.replace(/^The engine sent a tar stream porthole cannot read \((.*)\)\.$/, '$1').replace(/^The engine stopped sending part way \((.*)\)\.$/, 'it ends part way: $1');
      throw new Failure(`The tar on stdin cannot be read (${what}); nothing was copied.`, 'Give porthole cp a tar archive on stdin (as `tar cf - ...` writes it).');
    }
    // What follows the end of the archive is kept too, so the bytes sent are the bytes given.
    for await (const chunk of tee) void chunk;
    if (entries === 0) throw new Failure('The tar on stdin holds no entries; nothing was copied.', 'Give porthole cp a tar archive on stdin (as `tar cf - ...` writes it).');
    await handle.close();
    closed = true;
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    drop();
    await remove();
    throw err;
  }
  return {
    folders: rules.folders,
    entries,
    bytes,
    problem: rules.problems[0],
    problems: rules.problems.length,
    open: () => Readable.from(repack(spool.path), { objectMode: false }),
    remove: async () => {
      drop();
      await remove();
    },
  };
}

/** The byte-string names of the tar reader as the writer takes them (raw bytes kept exactly, see tar-names.ts). */
function writerName(name: string): string {
  return decodeName(Buffer.from(name, 'latin1'));
}

/**
 * The kept tar, read again entry by entry and written anew: only what the reader saw (and the rules checked) goes
 * out, in headers porthole wrote itself. Padded to whole 10 KiB records, as tar writes them: a tar in a pod reads by
 * records.
 */
async function* repack(path: string): AsyncGenerator<Buffer> {
  let written = 0;
  for await (const e of readTar(createReadStream(path, { highWaterMark: 1 << 20 }))) {
    if (!ALLOWED.has(e.type)) continue; // refused by the rules before anything is sent; never written
    const header = encodeHeader({
      name: writerName(e.name),
      type: e.type as 'file' | 'dir' | 'symlink' | 'hardlink',
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.size,
      mtime: e.mtime,
      linkname: e.linkName ? writerName(e.linkName) : undefined,
      uname: /^[\x01-\x7f]*$/.test(e.uname) ? e.uname : undefined,
      gname: /^[\x01-\x7f]*$/.test(e.gname) ? e.gname : undefined,
    });
    yield header;
    written += header.length;
    if (e.type !== 'file') continue;
    let got = 0;
    for await (const chunk of e.body()) {
      got += chunk.length;
      yield chunk;
    }
    if (got !== e.size) throw new Failure('The tar on stdin changed while it was kept for the copy; the copy was stopped part way.');
    const pad = padding(e.size);
    yield pad;
    written += e.size + pad.length;
  }
  const end = endOfArchive();
  yield end;
  written += end.length;
  if (written % 10240) yield Buffer.alloc(10240 - (written % 10240));
}

/** The refusal of a stdin tar whose entries break a rule, as one sentence. */
export function inboundRefusal(tar: InboundTar, shownDest: string): Failure {
  const p = tar.problem!;
  const more = tar.problems > 1 ? ` (and ${tar.problems - 1} more ${tar.problems === 2 ? 'entry' : 'entries'})` : '';
  return new Failure(
    `Refused to copy the tar on stdin into ${shownDest}: its entry ${show(p.name)} is refused, ${p.reason}${more}; nothing was copied.`,
    'Make the tar with names relative to the destination, without `..`, and without files under links it makes.',
  );
}
