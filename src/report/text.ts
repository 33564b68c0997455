// Text from a container, line by line: splitting byte streams into lines, escaping them for a terminal, and
// the time values `logs --since/--until` accept. Pure functions, unit-tested in test/unit/logs.test.ts.
import { escapeBytes, escapeLine } from '../render/escape.js';
import { InvalidArgument } from '../errors.js';

/** Splits a byte stream into lines (each keeping its own "\n"); `flush` returns the last line without one. */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly maxLine = 1024 * 1024) {}

  push(chunk: Buffer): Buffer[] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      lines.push(data.subarray(start, nl + 1));
      start = nl + 1;
    }
    this.pending = data.subarray(start);
    // A line with no end in sight is handed on in pieces, so memory stays bounded.
    if (this.pending.length > this.maxLine) {
      lines.push(this.pending);
      this.pending = Buffer.alloc(0);
    }
    return lines;
  }

  flush(): Buffer[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length ? [rest] : [];
  }
}

/** One line's bytes made safe for a terminal: control characters and invalid UTF-8 shown as escapes, its own newline kept. */
export function escapeLineBytes(line: Buffer): string {
  const hasNewline = line.length > 0 && line[line.length - 1] === 10;
  const body = hasNewline ? line.subarray(0, line.length - 1) : line;
  const decoded = body.toString('utf8');
  const safe = decoded.includes('\ufffd') ? escapeBytes(body) : escapeLine(decoded);
  return hasNewline ? `${safe}\n` : safe;
}

/** Text (already decoded) made safe for a terminal, keeping tabs; newlines inside are escaped. */
export function escapeText(text: string): string {
  return escapeLine(text).replace(/\n/g, '\\n');
}

/** With `--timestamps` the engine puts an RFC 3339 time and a space before each line; grep looks past it. */
export function lineMessage(line: string, timestamps: boolean): string {
  if (!timestamps) return line;
  const space = line.indexOf(' ');
  return space > 0 && /^\d{4}-\d\d-\d\dT/.test(line) ? line.slice(space + 1) : line;
}

export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new InvalidArgument(`--grep "${pattern}" is not a valid regular expression: ${(err as Error).message}.`);
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("10m", "1h30m", "2.5s") in milliseconds, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/**
 * What `--since/--until` mean, as docker's CLI reads them: a duration back from now ("10m"), a date or RFC 3339
 * time ("2024-05-01", "2024-05-01T10:00:00Z"), or unix seconds ("1714557600.5"). The engine wants unix seconds.
 */
export function parseLogTime(flag: string, value: string | undefined, nowMs = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d{1,9})?$/.test(text)) return text;
  const duration = parseDuration(text);
  if (duration !== undefined) return toUnixSeconds(nowMs - duration);
  // Times without a zone are local time, like docker's CLI; date-only strings are too (Date.parse would say UTC).
  const dateOnly = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  const ms = dateOnly ? new Date(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3])).getTime() : Date.parse(text);
  if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(text) && Number.isFinite(ms)) return toUnixSeconds(ms);
  if (dateOnly && Number.isFinite(ms)) return toUnixSeconds(ms);
  throw new InvalidArgument(
    `${flag} "${value}" is not a time.`,
    'Give a duration back from now (10m, 1h30m), a date or time (2024-05-01, 2024-05-01T10:00:00Z), or unix seconds.',
  );
}

function toUnixSeconds(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos ? `${seconds}.${String(nanos).padStart(9, '0')}` : String(seconds);
}
