// Line matching over a file's chunks as they stream in, the way grep reports: lines (optionally numbered), the
// name only (-l), or "Binary file X matches" for files with NUL bytes near the start.
import { escapeLine } from '../render/escape.js';

export interface GrepOptions {
  regex: RegExp;
  lineNumbers: boolean;
  namesOnly: boolean;
  /** Printed before each line ("path:"), or '' for a single file. */
  prefix: string;
  /** The display name for "Binary file X matches" and -l. */
  display: string;
}

/** How far into a file grep looks for a NUL byte to call it binary. */
const BINARY_PROBE = 32 * 1024;
/** A "line" longer than this is cut (the remainder still searched as the next line) so memory stays bounded. */
const MAX_LINE = 16 * 1024 * 1024;

export class LineMatcher {
  private carry: Buffer = Buffer.alloc(0);
  private seen = 0;
  private binary = false;
  private lineNo = 0;
  matched = false;
  /** True once the answer for this file is known (-l or a binary match): the rest need not be read. */
  done = false;

  constructor(private readonly opts: GrepOptions, private readonly print: (text: string) => Promise<void>) {}

  async push(chunk: Buffer): Promise<void> {
    if (this.done) return;
    if (this.seen < BINARY_PROBE && chunk.subarray(0, BINARY_PROBE - this.seen).includes(0)) this.binary = true;
    this.seen += chunk.length;
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl === -1) break;
      await this.line(data.subarray(start, nl));
      if (this.done) return;
      start = nl + 1;
    }
    data = data.subarray(start);
    if (data.length > MAX_LINE) {
      await this.line(data);
      data = Buffer.alloc(0);
    }
    this.carry = Buffer.from(data); // copy: the chunk's memory may be reused by the stream
  }

  async end(): Promise<void> {
    if (!this.done && this.carry.length) await this.line(this.carry);
    this.carry = Buffer.alloc(0);
  }

  private async line(bytes: Buffer): Promise<void> {
    this.lineNo++;
    const text = bytes.toString('utf8');
    if (!this.opts.regex.test(text)) return;
    this.matched = true;
    if (this.opts.namesOnly) {
      await this.print(`${this.opts.display}\n`);
      this.done = true;
    } else if (this.binary) {
      await this.print(`Binary file ${this.opts.display} matches\n`);
      this.done = true;
    } else {
      await this.print(`${this.opts.prefix}${this.opts.lineNumbers ? `${this.lineNo}:` : ''}${escapeLine(text)}\n`);
    }
  }
}
