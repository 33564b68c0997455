// Line matching over a file's chunks as they stream in, the way grep reports: lines (optionally numbered), the
// name only (-l), or "Binary file X matches" for files with NUL bytes near the start.
//
// Time is linear in the file and memory bounded whatever its shape. A line that spans chunks is copied into one
// buffer that is reused (no concatenation per chunk, no new buffer per window). A line that grows past one window (16 MiB: a log written without
// newlines, a minified bundle, a 2 GB blob) is searched window by window instead, each window overlapping the one
// before by 64 KiB so that a match across the cut is still found; such a line is never printed whole: each window
// reports its first match with the match's byte offset in the file and some bytes either side of it.
import { escapeLine } from '../render/escape.js';

export interface GrepOptions {
  regex: RegExp;
  lineNumbers: boolean;
  namesOnly: boolean;
  /** Printed before each line ("path:"), or '' for a single file. */
  prefix: string;
  /** The display name for "Binary file X matches" and -l. */
  display: string;
  /** Bytes of a line held before it is searched in windows (default WINDOW; smaller in unit tests). */
  window?: number;
  /** Bytes each window shares with the one before (default OVERLAP). */
  overlap?: number;
}

/** How far into a file grep looks for a NUL byte to call it binary. */
const BINARY_PROBE = 32 * 1024;
/** A line longer than this is searched in windows of this size (memory stays bounded). */
export const WINDOW = 16 * 1024 * 1024;
/** Bytes a window shares with the one before it: a match up to this long is found across a cut. */
export const OVERLAP = 64 * 1024;
/** Bytes shown either side of a match in a line too long to print. */
const CONTEXT = 80;
/** Most bytes of the match itself shown in such a line. */
const MATCH_SHOWN = 200;

export class LineMatcher {
  /** The current line's bytes not searched yet (copies: the stream may reuse a chunk's memory). */
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of buf in use. */
  private held = 0;
  /** Offset in the file of buf[0]. */
  private heldAt = 0;
  /** Offset in the file of the current line's first byte. */
  private lineAt = 0;
  /** The current line is longer than a window: it is searched window by window. */
  private long = false;
  private seen = 0;
  private binary = false;
  private lineNo = 0;
  private readonly window: number;
  private readonly overlap: number;
  matched = false;
  /** True once the answer for this file is known (-l or a binary match): the rest need not be read. */
  done = false;

  constructor(private readonly opts: GrepOptions, private readonly print: (text: string) => Promise<void>) {
    this.window = opts.window ?? WINDOW;
    this.overlap = Math.min(opts.overlap ?? OVERLAP, Math.floor(this.window / 2));
  }

  async push(chunk: Buffer): Promise<void> {
    if (this.done) return;
    if (this.seen < BINARY_PROBE && chunk.subarray(0, BINARY_PROBE - this.seen).includes(0)) this.binary = true;
    const chunkAt = this.seen;
    this.seen += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const rest = chunk.subarray(start, nl);
      if (this.long || this.held + rest.length >= this.window) {
        this.hold(rest, chunkAt + start);
        await this.searchLong(true);
      } else {
        if (this.held) this.hold(rest, chunkAt + start);
        await this.line(this.held ? this.buf.subarray(0, this.held) : rest);
      }
      this.held = 0;
      if (this.done) return;
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start), chunkAt + start);
    if (this.held >= this.window) await this.searchLong(false);
  }

  /** Searches the current line's full windows, then (`last`: its newline or the file's end came) the rest. */
  private async searchLong(last: boolean): Promise<void> {
    if (!this.long) {
      this.long = true;
      this.lineNo++;
    }
    while (this.held >= this.window) {
      await this.searchWindow(false);
      if (this.done) return;
    }
    if (!last) return;
    await this.searchWindow(true);
    this.long = false;
  }

  async end(): Promise<void> {
    if (!this.done && this.long) await this.searchLong(true);
    else if (!this.done && this.held) await this.line(this.buf.subarray(0, this.held));
    this.buf = Buffer.alloc(0);
    this.held = 0;
    this.long = false;
  }

  private hold(bytes: Buffer, at: number): void {
    if (!this.held) this.heldAt = at;
    if (!this.held && !this.long) this.lineAt = at;
    const need = this.held + bytes.length;
    if (need > this.buf.length) {
      // grows to a window and the largest chunk past it, then stays
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(Math.max(2 * this.buf.length, 64 * 1024), this.window + (1 << 20))));
      this.buf.copy(grown, 0, 0, this.held);
      this.buf = grown;
    }
    bytes.copy(this.buf, this.held);
    this.held = need;
  }

  private async line(bytes: Buffer): Promise<void> {
    this.lineNo++;
    const text = bytes.toString('utf8');
    if (!this.opts.regex.test(text)) return;
    await this.found(`${escapeLine(text)}\n`);
  }

  /**
   * Searches the held part of a long line. Not `last`: one window, cut at a character boundary; it answers for
   * matches that start before its last `overlap` bytes, which it keeps as the start of the next window.
   */
  private async searchWindow(last: boolean): Promise<void> {
    const all = this.buf.subarray(0, this.held);
    const size = last ? all.length : charStart(all, this.window);
    const bytes = all.subarray(0, size);
    const owned = last ? size : charStart(bytes, size - this.overlap);
    const text = bytes.toString('utf8');
    const m = this.opts.regex.exec(text);
    const at = m ? byteOffset(text, m.index) : -1;
    if (m && at < owned) {
      const matchEnd = Math.min(at + Buffer.byteLength(m[0]), at + MATCH_SHOWN, size);
      const from = Math.max(0, at - CONTEXT);
      const to = Math.min(size, matchEnd + CONTEXT);
      const excerpt = escapeLine(bytes.subarray(from, to).toString('utf8')).replace(/\n/g, '\\n');
      const offset = `${this.heldAt + at}${text.includes('\ufffd') ? ' (about: the line holds bytes that are not UTF-8)' : ''}`;
      await this.found(`[byte ${offset}] ${this.heldAt + from > this.lineAt ? '...' : ''}${excerpt}${to < size || !last ? '...' : ''}\n`);
      if (this.done) return;
    }
    if (last) return;
    this.buf.copyWithin(0, owned, this.held);
    this.heldAt += owned;
    this.held -= owned;
  }

  private async found(shown: string): Promise<void> {
    this.matched = true;
    if (this.opts.namesOnly) {
      await this.print(`${this.opts.display}\n`);
      this.done = true;
    } else if (this.binary) {
      await this.print(`Binary file ${this.opts.display} matches\n`);
      this.done = true;
    } else {
      await this.print(`${this.opts.prefix}${this.opts.lineNumbers ? `${this.lineNo}:` : ''}${shown}`);
    }
  }
}

/** `at`, moved back to the start of the UTF-8 character it falls in (a cut there splits no character). */
function charStart(bytes: Buffer, at: number): number {
  let pos = Math.min(at, bytes.length);
  for (let back = 0; back < 3 && pos > 0 && pos < bytes.length && (bytes[pos]! & 0xc0) === 0x80; back++) pos--;
  return pos;
}

/** The byte offset of UTF-16 index `index` in the UTF-8 bytes `text` was decoded from (exact for valid UTF-8). */
function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index));
}
