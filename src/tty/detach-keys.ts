// docker's detach keys ("ctrl-p,ctrl-q" by default): parsing the flag, and spotting the sequence in typed input.
import { InvalidArgument } from '../errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Parses docker's --detach-keys format: comma-separated single characters or ctrl-<a-z @ [ \ ] ^ _>. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1 && key.charCodeAt(0) <= 0x7f) {
      bytes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    const c = m?.[1];
    if (c !== undefined && /[a-z]/i.test(c)) bytes.push(c.toLowerCase().charCodeAt(0) - 96);
    else if (c !== undefined && '@[\\]^_'.includes(c)) bytes.push(c.charCodeAt(0) - 64);
    else {
      throw new InvalidArgument(
        `"${spec.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a valid detach key sequence.`,
        'Use letters or ctrl-<value> separated by commas, e.g. --detach-keys ctrl-p,ctrl-q (value: a-z, @, [, \\, ], ^, _).',
      );
    }
  }
  if (!bytes.length) throw new InvalidArgument('--detach-keys needs at least one key.');
  return Buffer.from(bytes);
}

/**
 * Watches typed input for the detach sequence. Bytes that might start the sequence are held back until the next
 * key shows whether it completes it (as docker does); everything else passes through unchanged.
 */
export class DetachWatcher {
  private held = 0;
  constructor(private readonly keys: Buffer) {}

  /** Returns the bytes to forward, and whether the sequence was completed (forward nothing after it). */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) {
          this.held = 0;
          return { forward: Buffer.from(out), detach: true };
        }
        continue;
      }
      // A mismatch releases what was held, then the byte may itself start a new sequence.
      for (let j = 0; j < this.held; j++) out.push(this.keys[j]!);
      this.held = 0;
      if (byte === this.keys[0]) {
        this.held = 1;
        if (this.keys.length === 1) return { forward: Buffer.from(out), detach: true };
      } else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
