// Filters for find and grep: shell globs on names, find-style size tests.
import { InvalidArgument } from '../errors.js';

/** A shell glob (`*`, `?`, `[abc]`, `[!a-z]`, `\x` escapes) as a RegExp over the whole name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') re += '[^]*';
    else if (ch === '?') re += '[^]';
    else if (ch === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`, 'u');
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export interface SizeTest {
  op: '>' | '<' | '=';
  bytes: number;
}

const UNITS: Record<string, number> = { '': 1, c: 1, k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `+10M` (more than), `-4k` (less than), `512` (exactly); bytes unless k, M or G follows. */
export function parseSize(text: string): SizeTest {
  const m = /^([+-]?)(\d+)([ckKMG]?)$/.exec(text);
  if (!m) throw new InvalidArgument(`--size takes +N, -N or N with an optional k, M or G suffix, not "${text}".`, 'Example: --size +10M');
  const op = m[1] === '+' ? '>' : m[1] === '-' ? '<' : '=';
  return { op, bytes: Number(m[2]) * UNITS[m[3]!]! };
}

export function sizeMatches(test: SizeTest, size: number): boolean {
  return test.op === '>' ? size > test.bytes : test.op === '<' ? size < test.bytes : size === test.bytes;
}
