// Terminal-safe text: a name, path, label or log line from a container can carry escape sequences that would
// repaint or hijack the user's terminal (CVE-2021-25743). Human output shows them as visible escapes.

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\x1b': '\\e' };

// C0 and C1 controls, DEL, bidi overrides and isolates, line/paragraph separators, and the replacement character
// that stands for bytes that were not valid UTF-8.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]/g;
const UNSAFE_KEEP_LAYOUT = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]/g;

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Escapes every control character: for names, paths and table cells, where a newline must not forge a row. */
export function escapeName(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Escapes control characters but keeps tabs and the line's own newline: for log lines and file contents. */
export function escapeLine(text: string): string {
  return text.replace(UNSAFE_KEEP_LAYOUT, escapeChar);
}

/** Decodes bytes as UTF-8, showing each byte that is not valid UTF-8 as \xHH instead of losing it. */
export function escapeBytes(bytes: Buffer): string {
  const decoded = bytes.toString('utf8');
  if (!decoded.includes('\ufffd')) return escapeName(decoded);
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    const chunk = len ? bytes.subarray(i, i + len) : undefined;
    const text = chunk && chunk.length === len ? chunk.toString('utf8') : '\ufffd';
    if (text.includes('\ufffd') || text.length === 0) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i += 1;
    } else {
      out += escapeName(text);
      i += len;
    }
  }
  return out;
}
