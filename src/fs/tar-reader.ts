// A pull-based tar reader for the engine's archive and export streams, for looking only (never extracting).
// node-tar decodes every name as UTF-8 and loses bytes that are not valid UTF-8 (docker writes them raw into
// PAX headers), while ls/find --json must carry a name's exact bytes. So names here are "byte strings":
// latin1-decoded, one char per byte, which path operations can split on '/' without losing anything.
// Memory is flat: one header block and at most one extended header are held at a time, bodies stream through.
import { Failure } from '../errors.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

export interface TarEntry {
  /** The name as stored, a byte string (latin1: one char per byte). PAX and GNU long names applied. */
  name: string;
  /** Symlink or hardlink target, a byte string. */
  linkName: string;
  type: EntryType;
  /** Permission bits (the low 12 bits of the tar mode). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Owner names recorded in the archive (byte strings), '' when absent. */
  uname: string;
  gname: string;
}

export interface TarReadEntry extends TarEntry {
  /** The entry's data; read it before asking for the next entry, or it is skipped. */
  body(): AsyncIterable<Buffer>;
}

/** Entry types by typeflag byte. */
const TYPES: Partial<Record<number, EntryType>> = {
  0x30: 'file', // '0'
  0x00: 'file', // old tars
  0x37: 'file', // '7', contiguous file
  0x31: 'hardlink',
  0x32: 'symlink',
  0x33: 'char',
  0x34: 'block',
  0x35: 'dir',
  0x36: 'fifo',
};
const PAX = 0x78; // 'x'
const GLOBAL_PAX = 0x67; // 'g'
const GNU_LONG_NAME = 0x4c; // 'L'
const GNU_LONG_LINK = 0x4b; // 'K'

/** Largest extended header porthole accepts: a name longer than this is an attack, not a file. */
const MAX_META = 1 << 20;

/** How much the reader buffers ahead of the consumer, so the engine keeps sending while a batch is processed. */
const READ_AHEAD = 8 << 20;

type Chunks = AsyncIterable<Buffer | string> | NodeJS.ReadableStream;

function isReadable(stream: unknown): stream is NodeJS.ReadableStream & { destroy?(): void } {
  return typeof (stream as NodeJS.ReadableStream).on === 'function' && typeof (stream as NodeJS.ReadableStream).pause === 'function';
}

/**
 * Reads exact byte counts from a stream of chunks, without copying when a chunk holds enough. From a Readable
 * it reads ahead up to READ_AHEAD bytes (then pauses the stream: back-pressure, flat memory).
 */
class ByteSource {
  /** The chunk being read, and how far into it the reader is (advancing an index, not re-slicing a Buffer). */
  private current: Buffer = Buffer.alloc(0);
  private pos = 0;
  private queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  private wake: (() => void) | undefined;
  private readonly iterator: AsyncIterator<Buffer | string> | undefined;
  private readonly stream: (NodeJS.ReadableStream & { destroy?(): void }) | undefined;

  constructor(input: Chunks) {
    if (isReadable(input)) {
      this.stream = input;
      input.on('data', this.onData);
      input.on('end', this.onEnd);
      input.on('error', this.onError);
      input.on('aborted', this.onAborted);
    } else {
      this.iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    }
  }

  private readonly onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.queue.push(buf);
    this.queued += buf.length;
    if (this.queued >= READ_AHEAD && !this.paused) {
      this.paused = true;
      this.stream!.pause();
    }
    this.notify();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error) => {
    this.failure = err;
    this.notify();
  };
  private readonly onAborted = () => this.onError(new Error('the connection was closed'));

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    if (this.iterator) {
      const next = await this.iterator.next();
      if (next.done) return undefined;
      return typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    while (!this.queue.length) {
      if (this.failure) throw broken(this.failure);
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const chunk = this.queue.shift()!;
    this.queued -= chunk.length;
    if (this.paused && this.queued < READ_AHEAD / 4) {
      this.paused = false;
      this.stream!.resume();
    }
    return chunk;
  }

  private async fill(): Promise<boolean> {
    const chunk = await this.nextChunk();
    if (!chunk) return false;
    // Every caller has used up the current chunk before it asks for more.
    this.current = chunk;
    this.pos = 0;
    return true;
  }

  private get available(): number {
    return this.current.length - this.pos;
  }

  /** n bytes if they are already here (no waiting), else undefined. */
  tryRead(n: number): Buffer | undefined {
    if (this.available < n) return undefined;
    const out = this.current.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Copies n bytes into `target` if they are already here (no waiting, no new Buffer); false otherwise. */
  copyNow(target: Buffer, n: number): boolean {
    if (this.available < n) return false;
    this.current.copy(target, 0, this.pos, this.pos + n);
    this.pos += n;
    return true;
  }

  /** Exactly n bytes; null at a clean end (no bytes at all); throws when the stream stops part way. */
  async read(n: number): Promise<Buffer | null> {
    const ready = this.tryRead(n);
    if (ready) return ready;
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (!this.available && !(await this.fill())) {
        if (have === 0) return null;
        throw truncated();
      }
      const take = Math.min(n - have, this.available);
      parts.push(this.current.subarray(this.pos, this.pos + take));
      this.pos += take;
      have += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Up to n bytes, chunk by chunk as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.available && !(await this.fill())) throw truncated();
      const take = Math.min(left, this.available);
      const out = this.current.subarray(this.pos, this.pos + take);
      this.pos += take;
      left -= take;
      yield out;
    }
  }

  /** Skips n bytes; true when done without waiting (the common case: small entries inside one chunk). */
  skipNow(n: number): boolean {
    if (this.available < n) return false;
    this.pos += n;
    return true;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!this.available && !(await this.fill())) throw truncated();
      const take = Math.min(left, this.available);
      this.pos += take;
      left -= take;
    }
  }

  /** Stops the underlying stream (the HTTP response), e.g. when the caller found what it wanted. */
  async close(): Promise<void> {
    this.ended = true;
    if (this.stream) {
      this.stream.removeListener('data', this.onData);
      this.stream.removeListener('end', this.onEnd);
      this.stream.removeListener('aborted', this.onAborted);
      this.stream.on('error', () => undefined);
      this.stream.removeListener('error', this.onError);
      this.stream.destroy?.();
    } else await this.iterator?.return?.();
  }
}

function broken(err: Error): Failure {
  return new Failure(`The engine stopped sending part way (${err.message}).`, 'Check that the engine and the container are still there, then run the command again.');
}

function truncated(): Failure {
  return new Failure('The engine\'s tar stream ended in the middle of an entry.', 'A running container may have changed a file while the engine archived it, or the engine restarted, or the container was removed; run the command again.');
}

function corrupt(what: string): Failure {
  return new Failure(`The engine sent a tar stream porthole cannot read (${what}).`, 'Run the command again; if it persists, report it with `docker export` output.');
}

function field(block: Buffer, offset: number, size: number): string {
  if (block[offset] === 0) return '';
  const end = block.indexOf(0, offset);
  return block.toString('latin1', offset, end === -1 || end > offset + size ? offset + size : end);
}

// The header is parsed from its bytes: over 100,000 entries (`ls -R /`), decoding each number field to a string
// and parsing that cost the reader more than the rest of its work together.

/** An octal number field: leading spaces, octal digits, then a space or NUL (or the field's end). */
function number(block: Buffer, offset: number, size: number): number {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: big-endian, first byte's high bit is the marker (negative values are not files we list).
    let value = first & 0x7f;
    for (let i = 1; i < size; i++) value = value * 256 + block[offset + i]!;
    return value;
  }
  const end = offset + size;
  let i = offset;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const digit = block[i]! - 0x30;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  // Like parseInt, what follows the digits is ignored; a field with something but no digits is corrupt.
  if (!digits && i < end && block[i] !== 0) {
    throw corrupt(`a number field holds "${field(block, offset, size).replace(/[^\x20-\x7e]/g, '?')}"`);
  }
  return value;
}

const scratch = new Uint8Array(512);
const scratchWords = new Uint32Array(scratch.buffer);

/**
 * The header's checksum: the sum of its bytes, with the checksum field itself counted as eight spaces. Summed a
 * word at a time in an aligned copy (two bytes per 16-bit lane: 128 words cannot overflow a lane), about four
 * times faster than byte by byte, which was the reader's biggest cost over 100,000 headers.
 */
function checksumOk(block: Buffer): boolean {
  const stored = number(block, 148, 8);
  scratch.set(block);
  let lanes = 0;
  for (let i = 0; i < 128; i++) {
    const word = scratchWords[i]!;
    lanes += (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff);
  }
  let sum = (lanes & 0xffff) + (lanes >>> 16) + 8 * 0x20;
  for (let i = 148; i < 156; i++) sum -= scratch[i]!;
  return sum === stored;
}

/** PAX records "LEN key=value\n", values kept as byte strings. */
export function parsePax(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(body.toString('latin1', pos, space), 10);
    if (!(len > 0) || pos + len > body.length) break;
    const record = body.toString('latin1', space + 1, pos + len - 1); // drop the trailing newline
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}

function applyPax(entry: TarEntry, pax: Map<string, string>): void {
  for (const [key, value] of pax) {
    switch (key) {
      case 'path':
        entry.name = value;
        break;
      case 'linkpath':
        entry.linkName = value;
        break;
      case 'size':
        entry.size = Number(value);
        break;
      case 'mtime':
        entry.mtime = Number(value);
        break;
      case 'uid':
        entry.uid = Number(value);
        break;
      case 'gid':
        entry.gid = Number(value);
        break;
      case 'uname':
        entry.uname = value;
        break;
      case 'gname':
        entry.gname = value;
        break;
    }
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** "ustar" at 257: POSIX ustar ("ustar\0" "00") or old GNU ("ustar  \0"), both with owner names. */
function isUstar(block: Buffer): boolean {
  return block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72;
}

function isOldGnu(block: Buffer): boolean {
  return block[262] === 0x20 && block[263] === 0x20 && block[264] === 0;
}

function stripNul(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('latin1', 0, end === -1 ? body.length : end);
}

/**
 * Yields the entries of a tar stream. Reads the input only as fast as the caller consumes entries, so an
 * HTTP response is back-pressured and memory stays flat. Breaking out of the loop closes the input.
 */
export async function* readTar(
  input: Chunks | Promise<Chunks>,
  pathOf?: (name: string) => string,
): AsyncGenerator<TarReadEntry & { path: string }> {
  const source = new ByteSource(await input);
  // Each header is copied here and parsed before anything else is awaited: no Buffer per header.
  const block = Buffer.alloc(512);
  let globalPax = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      if (!source.copyNow(block, 512)) {
        const read = await source.read(512);
        if (!read) return;
        read.copy(block);
      }
      if (block[0] === 0 && isZero(block)) {
        // End of archive (two zero blocks); some writers stop after one.
        return;
      }
      if (!checksumOk(block)) throw corrupt('a header checksum does not match');
      const typeflag = block[156]!;
      const size = number(block, 124, 12);
      const padded = Math.ceil(size / 512) * 512;
      if (typeflag === PAX || typeflag === GLOBAL_PAX || typeflag === GNU_LONG_NAME || typeflag === GNU_LONG_LINK) {
        if (size > MAX_META) throw corrupt(`an extended header of ${size} bytes`);
        const body = size ? await source.read(size) : Buffer.alloc(0);
        if (!body) throw truncated();
        if (padded > size && !source.skipNow(padded - size)) await source.skip(padded - size);
        if (typeflag === PAX) pax = parsePax(body);
        else if (typeflag === GLOBAL_PAX) globalPax = new Map([...globalPax, ...parsePax(body)]);
        else if (typeflag === GNU_LONG_NAME) longName = stripNul(body);
        else longLink = stripNul(body);
        continue;
      }
      let name = field(block, 0, 100);
      const ustar = isUstar(block);
      // The prefix field is POSIX ustar's; old GNU tar ("ustar  \0") keeps other things there.
      if (ustar && block[345] !== 0 && !isOldGnu(block)) name = `${field(block, 345, 155)}/${name}`;
      const entry: TarEntry = {
        name,
        linkName: field(block, 157, 100),
        type: TYPES[typeflag] ?? 'other',
        mode: number(block, 100, 8) & 0o7777,
        uid: number(block, 108, 8),
        gid: number(block, 116, 8),
        size,
        mtime: number(block, 136, 12),
        uname: ustar ? field(block, 265, 32) : '',
        gname: ustar ? field(block, 297, 32) : '',
      };
      if (globalPax.size) applyPax(entry, globalPax);
      if (pax) applyPax(entry, pax);
      if (longName !== undefined) entry.name = longName;
      if (longLink !== undefined) entry.linkName = longLink;
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      // Only regular files carry data we hand out; others' (rare) payloads are skipped.
      const dataSize = entry.type === 'file' ? entry.size : entry.type === 'dir' || entry.type === 'symlink' ? 0 : size;
      const dataPadded = Math.ceil(dataSize / 512) * 512;
      let consumed = 0;
      let reading = false;
      const body = async function* (): AsyncGenerator<Buffer> {
        if (reading) throw new Error('an entry body can be read only once');
        reading = true;
        for await (const chunk of source.take(dataSize)) {
          consumed += chunk.length;
          yield chunk;
        }
      };
      yield Object.assign(entry, { body, path: pathOf ? pathOf(entry.name) : entry.name });
      const rest = dataPadded - consumed;
      if (rest > 0 && !source.skipNow(rest)) await source.skip(rest);
    }
  } finally {
    await source.close();
  }
}

/** The whole body of a small entry (e.g. /etc/passwd), refusing anything bigger than `limit` bytes. */
export async function readSmallBody(entry: TarReadEntry, limit: number): Promise<Buffer | undefined> {
  if (entry.size > limit) return undefined;
  const parts: Buffer[] = [];
  for await (const chunk of entry.body()) parts.push(chunk);
  return Buffer.concat(parts);
}
