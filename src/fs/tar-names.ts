// Entry names exactly as the tar stream holds them. node-tar decodes header names and PAX records as UTF-8 text and
// drops a PAX record whose bytes change on decoding; Go's archive/tar (the engine's) writes a name that is not
// ASCII in a PAX record and, in the ustar field, the same name with its non-ASCII bytes removed. So `name\xff`,
// `na\xffme` and `name` all reached the extractor as `name` and were merged into one file, silently.
//
// RawNames reads the same 512-byte blocks node-tar is given, in step with it, and keeps each entry's name and link
// target as bytes. Those bytes are carried as strings in which each byte that is not part of valid UTF-8 is one
// lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"): valid UTF-8 never decodes to a lone surrogate, so the
// mapping goes both ways, the path logic (segments, `..`, containment) works on strings as before, and fsPath()
// gives the file system back the exact bytes.

const ESCAPED = /[\udc80-\udcff]/u;
const ESCAPED_ALL = /[\udc80-\udcff]/gu;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes to a string; each byte that is not valid UTF-8 becomes U+DC00+byte. */
export function decodeName(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

function decodeEscaping(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len && i + len <= bytes.length) {
      try {
        out += strictUtf8.decode(bytes.subarray(i, i + len));
        i += len;
        continue;
      } catch {
        // not a whole valid sequence: escape its first byte and go on from the next
      }
    }
    out += String.fromCharCode(0xdc00 + b);
    i++;
  }
  return out;
}

/** Whether a name holds bytes that are not valid UTF-8. */
export function hasRawBytes(name: string): boolean {
  return ESCAPED.test(name);
}

/** What to hand the file system for a name from decodeName: the string itself, or its exact bytes. */
export function fsPath(name: string): string | Buffer {
  if (!ESCAPED.test(name)) return name;
  const parts: Buffer[] = [];
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    parts.push(code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** A name from decodeName, already escaped for the terminal, with each raw byte shown as \xHH. */
export function showRawBytes(escaped: string): string {
  return escaped.replace(ESCAPED_ALL, (ch) => `\\x${(ch.codePointAt(0)! - 0xdc00).toString(16).padStart(2, '0')}`);
}

/** One entry's raw name and link target, and what node-tar must agree on for them to be this entry's. */
export interface RawEntry {
  path: string;
  linkpath: string;
  size: number | undefined;
  cksum: number | undefined;
  typeflag: string;
}

interface Extended {
  path?: Buffer;
  linkpath?: Buffer;
  size?: number;
}

// node-tar's types.js: the types PAX/GNU extended headers apply to, and the extended headers themselves.
const NORMAL_FS = new Set(['0', '', '1', '2', '3', '4', '5', '6', '7', 'D']);
const META = new Set(['g', 'x', 'X', 'L', 'K', 'N']);
const KNOWN = new Set([...NORMAL_FS, ...META, 'A', 'I', 'M', 'S', 'V']);

/**
 * Follows the header blocks of a tar stream as node-tar's Parser reads them (same rules for sizes, extended
 * headers and the ustar prefix), queueing one RawEntry per entry node-tar will emit as 'entry' or 'ignoredEntry'.
 * feed() must see every block before the parser does; take() hands them out in order.
 */
export class RawNames {
  private readonly queue: RawEntry[] = [];
  private head = 0;
  private skip = 0;
  private metaType: string | undefined;
  private metaLeft = 0;
  private meta: Buffer[] = [];
  private ex: Extended | undefined;
  private gex: Extended | undefined;
  private sawNull = false;
  private ended = false;

  constructor(private readonly maxMetaBytes: number) {}

  /** Whole 512-byte blocks, in stream order. */
  feed(blocks: Buffer): void {
    for (let off = 0; off + 512 <= blocks.length && !this.ended; ) {
      if (this.skip) {
        const n = Math.min(this.skip, (blocks.length - off) / 512);
        this.skip -= n;
        off += n * 512;
      } else if (this.metaType !== undefined) {
        const take = Math.min(this.metaLeft, blocks.length - off);
        this.meta.push(Buffer.from(blocks.subarray(off, off + take)));
        this.metaLeft -= take;
        off += 512 * Math.ceil(take / 512);
        if (!this.metaLeft) this.endMeta();
      } else {
        this.header(blocks.subarray(off, off + 512));
        off += 512;
      }
    }
  }

  /** The next entry's raw names, or undefined when the two readings of the stream disagree. */
  take(): RawEntry | undefined {
    if (this.head >= this.queue.length) return undefined;
    const entry = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return entry;
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (this.sawNull) this.ended = true;
      this.sawNull = true;
      return;
    }
    this.sawNull = false;
    const t = cString(block, 156, 1).toString('latin1');
    const normal = NORMAL_FS.has(t);
    const ex = normal ? this.ex : undefined;
    const gex = normal ? this.gex : undefined;
    let size = ex?.size ?? gex?.size ?? number(block, 124, 12);
    if (size !== undefined && size < 0) size = undefined;
    const cksum = smallNumber(block, 148, 12);
    let path = ex?.path ?? cString(block, 0, 100);
    if (block.subarray(257, 265).toString('latin1') === 'ustar\u000000') {
      const prefix = block[475] !== 0 ? cString(block, 345, 155) : cString(block, 345, 130);
      if (block[475] !== 0 || prefix.length) path = Buffer.concat([prefix, Buffer.from('/'), path]);
    }
    const linkpath = ex?.linkpath ?? cString(block, 157, 100);
    const typeflag = KNOWN.has(t) ? t || '0' : t;
    const isDir = typeflag === '5' || (typeflag === '0' && path[path.length - 1] === 0x2f);
    if (isDir) size = 0;
    const body = size ?? 0;
    if (META.has(t)) {
      if (body > 0 && body <= this.maxMetaBytes) {
        this.metaType = t;
        this.metaLeft = body;
        this.meta = [];
      } else this.skip = Math.ceil(body / 512);
      return;
    }
    this.ex = undefined;
    this.queue.push({ path: decodeName(path), linkpath: decodeName(linkpath), size, cksum, typeflag });
    this.skip = Math.ceil(body / 512);
  }

  private endMeta(): void {
    const data = Buffer.concat(this.meta);
    const type = this.metaType!;
    this.metaType = undefined;
    this.meta = [];
    if (type === 'g') this.gex = { ...this.gex, ...paxRecords(data) };
    else if (type === 'x' || type === 'X') this.ex = { ...this.ex, ...paxRecords(data) };
    else if (type === 'K') this.ex = { ...this.ex, linkpath: cString(data, 0, data.length) };
    else this.ex = { ...this.ex, path: cString(data, 0, data.length) };
  }
}

/** The bytes of a field up to its first NUL. */
function cString(buf: Buffer, off: number, size: number): Buffer {
  const field = buf.subarray(off, off + size);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

function smallNumber(buf: Buffer, off: number, size: number): number | undefined {
  const n = parseInt(cString(buf, off, size).toString('latin1').trim(), 8);
  return Number.isNaN(n) ? undefined : n;
}

/** node-tar's decNumber: octal text, or base-256 when the high bit of the first byte is set. */
function number(buf: Buffer, off: number, size: number): number | undefined {
  const first = buf[off]!;
  if (!(first & 0x80)) return smallNumber(buf, off, size);
  const field = buf.subarray(off, off + size);
  if (first === 0x80) {
    let sum = 0;
    for (let i = 1; i < field.length; i++) sum = sum * 256 + field[i]!;
    return Number.isSafeInteger(sum) ? sum : undefined;
  }
  return first === 0xff ? -1 : undefined; // negative: no size, as node-tar
}

/** PAX records `LEN key=value\n`, read by their length (values are bytes; node-tar cut them at NUL too). */
function paxRecords(data: Buffer): Extended {
  const out: Extended = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - (data[pos + len - 1] === 0x0a ? 1 : 0));
    pos += len;
    const eq = record.indexOf(0x3d);
    if (eq < 0) continue;
    const key = record.subarray(0, eq).toString('latin1');
    const value = cString(record, eq + 1, record.length - eq - 1);
    if (key === 'path') out.path = Buffer.from(value);
    else if (key === 'linkpath') out.linkpath = Buffer.from(value);
    else if (key === 'size') {
      const n = Number(value.toString('latin1'));
      if (n >= 0) out.size = n;
    }
  }
  return out;
}
