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

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

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
  private current: Buffer = Buffer.alloc(0);
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
    this.current = this.current.length ? Buffer.concat([this.current, chunk]) : chunk;
    return true;
  }

  /** n bytes if they are already here (no waiting), else undefined. */
  tryRead(n: number): Buffer | undefined {
    if (this.current.length < n) return undefined;
    const out = this.current.subarray(0, n);
    this.current = this.current.subarray(n);
    return out;
  }

  /** Exactly n bytes; null at a clean end (no bytes at all); throws when the stream stops part way. */
  async read(n: number): Promise<Buffer | null> {
    const ready = this.tryRead(n);
    if (ready) return ready;
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (!this.current.length && !(await this.fill())) {
        if (have === 0) return null;
        throw truncated();
      }
      const take = Math.min(n - have, this.current.length);
      parts.push(this.current.subarray(0, take));
      this.current = this.current.subarray(take);
      have += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Up to n bytes, chunk by chunk as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.current.length && !(await this.fill())) throw truncated();
      const take = Math.min(left, this.current.length);
      const out = this.current.subarray(0, take);
      this.current = this.current.subarray(take);
      left -= take;
      yield out;
    }
  }

  /** Skips n bytes; true when done without waiting (the common case: small entries inside one chunk). */
  skipNow(n: number): boolean {
    if (this.current.length < n) return false;
    this.current = this.current.subarray(n);
    return true;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!this.current.length && !(await this.fill())) throw truncated();
      const take = Math.min(left, this.current.length);
      this.current = this.current.subarray(take);
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
  return new Failure('The engine\'s tar stream ended in the middle of an entry.', 'The engine may have restarted or the container been removed; run the command again.');
}

function corrupt(what: string): Failure {
  return new Failure(`The engine sent a tar stream porthole cannot read (${what}).`, 'Run the command again; if it persists, report it with `docker export` output.');
}

function field(block: Buffer, offset: number, size: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('latin1', offset, end === -1 || end > offset + size ? offset + size : end);
}

function number(block: Buffer, offset: number, size: number): number {
  if (block[offset]! & 0x80) {
    // GNU base-256: big-endian, first byte's high bit is the marker (negative values are not files we list).
    let value = block[offset]! & 0x7f;
    for (let i = 1; i < size; i++) value = value * 256 + block[offset + i]!;
    return value;
  }
  const text = field(block, offset, size).trim();
  if (!text) return 0;
  const value = parseInt(text, 8);
  if (Number.isNaN(value)) throw corrupt(`a number field holds "${text.replace(/[^\x20-\x7e]/g, '?')}"`);
  return value;
}

function checksumOk(block: Buffer): boolean {
  const stored = number(block, 148, 8);
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < 512; i++) sum += block[i]!;
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
  let globalPax = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = source.tryRead(512) ?? (await source.read(512));
      if (!block) return;
      if (block.every((b) => b === 0)) {
        // End of archive (two zero blocks); some writers stop after one.
        return;
      }
      if (!checksumOk(block)) throw corrupt('a header checksum does not match');
      const typeflag = String.fromCharCode(block[156]!);
      const size = number(block, 124, 12);
      const padded = Math.ceil(size / 512) * 512;
      if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
        if (size > MAX_META) throw corrupt(`an extended header of ${size} bytes`);
        const body = size ? await source.read(size) : Buffer.alloc(0);
        if (!body) throw truncated();
        if (padded > size && !source.skipNow(padded - size)) await source.skip(padded - size);
        if (typeflag === 'x') pax = parsePax(body);
        else if (typeflag === 'g') globalPax = new Map([...globalPax, ...parsePax(body)]);
        else if (typeflag === 'L') longName = stripNul(body);
        else longLink = stripNul(body);
        continue;
      }
      let name = field(block, 0, 100);
      const magic = block.toString('latin1', 257, 262);
      if (magic === 'ustar') {
        const prefix = field(block, 345, 155);
        if (prefix && block.toString('latin1', 257, 265) !== 'ustar  \0') name = `${prefix}/${name}`;
      }
      const entry: TarEntry = {
        name,
        linkName: field(block, 157, 100),
        type: TYPES[typeflag] ?? 'other',
        mode: number(block, 100, 8) & 0o7777,
        uid: number(block, 108, 8),
        gid: number(block, 116, 8),
        size,
        mtime: number(block, 136, 12),
        uname: magic === 'ustar' ? field(block, 265, 32) : '',
        gname: magic === 'ustar' ? field(block, 297, 32) : '',
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
