// The crash report's judgement, as pure functions: what an exit code means, which files look like logs, which
// lines look like errors, which text points at a file and line, which settings look secret. Unit-tested in
// test/unit/report.test.ts.

const SIGNALS: Record<number, [string, string]> = {
  1: ['SIGHUP', 'hangup'],
  2: ['SIGINT', 'interrupted (Ctrl-C)'],
  3: ['SIGQUIT', 'quit'],
  4: ['SIGILL', 'illegal instruction'],
  5: ['SIGTRAP', 'trace/breakpoint trap'],
  6: ['SIGABRT', 'aborted (the program called abort(), often a failed assertion)'],
  7: ['SIGBUS', 'bus error (bad memory access)'],
  8: ['SIGFPE', 'arithmetic error (e.g. division by zero)'],
  9: ['SIGKILL', 'killed'],
  10: ['SIGUSR1', 'user signal 1'],
  11: ['SIGSEGV', 'segmentation fault: the program crashed on a bad memory access'],
  12: ['SIGUSR2', 'user signal 2'],
  13: ['SIGPIPE', 'broken pipe: it wrote to a pipe nobody reads'],
  14: ['SIGALRM', 'alarm clock'],
  15: ['SIGTERM', 'asked to stop (docker stop sends it)'],
  16: ['SIGSTKFLT', 'stack fault'],
  17: ['SIGCHLD', 'child status changed'],
  18: ['SIGCONT', 'continued'],
  19: ['SIGSTOP', 'stopped'],
  20: ['SIGTSTP', 'stopped at the terminal'],
  21: ['SIGTTIN', 'background read from the terminal'],
  22: ['SIGTTOU', 'background write to the terminal'],
  23: ['SIGURG', 'urgent socket condition'],
  24: ['SIGXCPU', 'CPU time limit exceeded'],
  25: ['SIGXFSZ', 'file size limit exceeded'],
  26: ['SIGVTALRM', 'virtual alarm clock'],
  27: ['SIGPROF', 'profiling timer expired'],
  28: ['SIGWINCH', 'window size changed'],
  29: ['SIGIO', 'I/O possible'],
  30: ['SIGPWR', 'power failure'],
  31: ['SIGSYS', 'bad system call (often blocked by seccomp)'],
};

export function signalName(n: number): string | undefined {
  return SIGNALS[n]?.[0];
}

export interface ExitMeaning {
  words: string;
  signal: string | null;
}

/** An exit code in words, the way a person debugging a container needs it. */
export function exitMeaning(code: number, oomKilled: boolean): ExitMeaning {
  // The engine flags an OOM kill of any process in the container: with an exit code that is not SIGKILL's, the main
  // process was not the one killed; it exited on its own afterwards (a shell whose child died, a supervisor).
  if (oomKilled && code !== 137) {
    return {
      words: `a process inside was killed by the kernel's out-of-memory killer (the container used more memory than it was allowed), and the main process then exited with code ${code}`,
      signal: null,
    };
  }
  if (oomKilled) {
    return {
      words: `killed by the kernel's out-of-memory killer: it used more memory than it was allowed (exit code ${code})`,
      signal: code === 137 ? 'SIGKILL' : null,
    };
  }
  switch (code) {
    case 0:
      return { words: 'exited normally (exit code 0)', signal: null };
    case 1:
      return { words: 'exited with code 1: the program reported a failure', signal: null };
    case 2:
      return { words: 'exited with code 2: often a usage error (a bad argument or option)', signal: null };
    case 125:
      return { words: 'exit code 125: the engine could not run the container', signal: null };
    case 126:
      return { words: 'exit code 126: the command was found but could not be executed (not executable, or permission denied)', signal: null };
    case 127:
      return { words: 'exit code 127: the command was not found', signal: null };
    case 137:
      return {
        words: 'exit code 137: killed with SIGKILL (by docker kill, by docker stop after its timeout, or by the kernel), not by the out-of-memory killer',
        signal: 'SIGKILL',
      };
    case 143:
      return { words: 'exit code 143: ended by SIGTERM, asked to stop (docker stop sends it)', signal: 'SIGTERM' };
  }
  if (code > 128 && code <= 128 + 31) {
    const [name, words] = SIGNALS[code - 128]!;
    return { words: `exit code ${code}: ended by ${name}, ${words}`, signal: name };
  }
  if (code === 255) return { words: 'exit code 255: the program exited with -1 or an out-of-range status', signal: null };
  return { words: `exited with code ${code}: the program reported a failure`, signal: null };
}

/** The engine's own exit code for a container it could not start (docker run's 125-128 family), in words. */
export function neverRanMeaning(code: number, engineError: string): ExitMeaning {
  const program = /executable file not found|exec: "[^"]*": (stat .*: )?no such file or directory/i.test(engineError)
    ? exitMeaning(127, false).words.replace(/^exit code 127: /, '')
    : /exec: .*permission denied|exec format error/i.test(engineError)
      ? exitMeaning(126, false).words.replace(/^exit code 126: /, '')
      : null;
  return {
    words: program
      ? `exit code ${code}: ${program}, so the program never ran`
      : `exit code ${code}: the program never ran: the engine could not start the container (${engineError.replace(/\.$/, '')})`,
    signal: null,
  };
}

/**
 * A line of output that names the cause itself (a variable that is not set, a setting that is required): the
 * program's own words beat any guess from the exit code. The last such line, or null.
 */
export function causeLine(lines: string[]): string | null {
  const NAMES_CAUSE =
    /\b(parameter (is )?(not set|null)|unbound variable|(environment )?variable\b.*\b(is )?(not set|missing|required|undefined|empty)|missing (required )?(environment )?variable|(must|needs to) be (set|defined|provided)|is required but (was )?not (set|given|provided)|required (environment )?variable)/i;
  for (let i = lines.length - 1; i >= 0; i--) if (NAMES_CAUSE.test(lines[i]!)) return lines[i]!.trim();
  return null;
}

/** "3.2 s", "4 min 10 s", "2 h 5 min", "3 days". */
export function durationWords(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m - h * 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** Docker's zero time ("0001-01-01T00:00:00Z") means "never"; returns epoch ms or null. */
export function engineTime(text: string | undefined): number | null {
  if (!text || text.startsWith('0001-01-01')) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

const LOG_LIKE = /(\.log(\.\d+)?|\.err|\.out|_log|-log)$|\/logs?\/|^\/var\/log\//i;

export function isLogLike(path: string): boolean {
  return LOG_LIKE.test(path);
}

const ERROR_LINE =
  /\b(error|errors|err|fatal|emerg|emergency|crit|critical|alert|panic|exception|traceback|failed|failure|fail|denied|refused|cannot|can't|couldn't|unable|invalid|unknown|not found|no such|segmentation fault|core dumped|killed|abort(ed)?)\b/i;

export function isErrorLine(text: string): boolean {
  return ERROR_LINE.test(text);
}

/** Paths in a `docker diff` that are directories: the parents of other changed paths. */
export function directoriesIn(paths: string[]): Set<string> {
  const dirs = new Set<string>();
  for (const p of paths) {
    let slash = p.lastIndexOf('/');
    while (slash > 0) {
      dirs.add(p.slice(0, slash));
      slash = p.lastIndexOf('/', slash - 1);
    }
  }
  return dirs;
}

/** Changed files in the order a person wants them: logs first, then added, changed, deleted; directories last. */
export function orderChanges<T extends { path: string; kind: 'A' | 'C' | 'D' }>(changes: T[]): T[] {
  const dirs = directoriesIn(changes.map((c) => c.path));
  const rank = (c: T) => (dirs.has(c.path) ? 10 : (isLogLike(c.path) ? 0 : 3) + { A: 0, C: 1, D: 2 }[c.kind]);
  // Plain code-unit order: localeCompare would load ICU's collator first, 10 ms of a 100 ms report.
  return [...changes].sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface Reference {
  /** The path as written. */
  path: string;
  line: number;
  /** The text that matched, e.g. "/etc/nginx/nginx.conf:1". */
  match: string;
}

const PATH = String.raw`(?:\/|\.{1,2}\/)?(?:[\w.@+-]+\/)*[\w.@+-]+`;
// path:line (nginx, compilers, most stack traces); "path", line N (Python); path: line N (sh, bash); path line N (Perl).
const COLON_REF = new RegExp(String.raw`(?<![\w/.:@+-])(${PATH}):(\d{1,7})(?![\d.])`, 'g');
const WORD_REF = new RegExp(String.raw`(?<![\w/.:@+-])["']?(${PATH})["']?[,:]?\s+(?:on\s+|at\s+)?line\s+(\d{1,7})\b`, 'gi');

function plausiblePath(path: string): boolean {
  if (!/[a-z]/i.test(path)) return false;
  // A bare word is a file only with an extension ("app.py"); "localhost" or "nginx" is not.
  return path.includes('/') || /\.[a-z]\w*$/i.test(path);
}

/** Every file-and-line reference in a piece of text, in order, without duplicates. */
export function findReferences(text: string): Reference[] {
  const found: Reference[] = [];
  const seen = new Set<string>();
  const add = (path: string, line: number, match: string, index: number) => {
    if (!plausiblePath(path) || line < 1) return;
    const key = `${path}:${line}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ path, line, match, index } as Reference & { index: number });
  };
  for (const m of text.matchAll(COLON_REF)) add(m[1]!, Number(m[2]), m[0], m.index!);
  for (const m of text.matchAll(WORD_REF)) add(m[1]!, Number(m[2]), m[0].replace(/^["']/, ''), m.index!);
  return (found as (Reference & { index: number })[]).sort((a, b) => a.index - b.index).map(({ path, line, match }) => ({ path, line, match }));
}

/** A referenced path as a path in the container: relative ones start at the working directory. */
export function resolveInContainer(path: string, workingDir: string): string {
  const base = path.startsWith('/') ? '' : workingDir || '/';
  const parts: string[] = [];
  for (const part of `${base}/${path}`.split('/')) {
    if (!part || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const SECRET_NAME = /PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE|SALT|COOKIE|SESSION|SIGNATURE|CERT|DSN/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export interface EnvEntry {
  name: string;
  /** null when masked. */
  value: string | null;
  masked: boolean;
}

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:\/@\s]*:)([^@\s]+)(@)/gi;

/**
 * The environment with secret-looking values hidden, and the list of secret values to scrub from everything
 * else the report shows (a program may print its own password).
 */
export function maskEnvironment(env: string[], show: boolean): { entries: EnvEntry[]; secrets: string[] } {
  const entries: EnvEntry[] = [];
  const secrets: string[] = [];
  for (const item of env) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? '' : item.slice(eq + 1);
    if (isSecretName(name) && value) {
      secrets.push(value);
      entries.push(show ? { name, value, masked: false } : { name, value: null, masked: true });
      continue;
    }
    const urlSecrets = [...value.matchAll(URL_PASSWORD)].map((m) => m[2]!);
    for (const s of urlSecrets) secrets.push(s);
    entries.push({ name, value: show ? value : value.replace(URL_PASSWORD, '$1******$3'), masked: !show && urlSecrets.length > 0 });
  }
  return { entries, secrets: [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length) };
}

/** Replaces every occurrence of a secret value (and any URL password) in text from the container. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('******');
  return out.replace(URL_PASSWORD, '$1******$3');
}

/** The secrets each finished report was masked with, for a last pass over its rendered text (see redactRendered). */
const maskedWith = new WeakMap<object, string[]>();

/**
 * A copy of `value` (plain data: objects, arrays, strings, numbers) with every string masked by redact(): a
 * container controls far more of a report than its logs (file names, link targets, paths in its diff, its
 * command line), and can write a secret from its own environment into any of them. Applied to the whole finished
 * report, so no field can be forgotten.
 */
export function redactAll<T>(value: T, secrets: string[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
    return v;
  };
  const out = walk(value) as T;
  if (out && typeof out === 'object') maskedWith.set(out, secrets);
  return out;
}

/**
 * The rendered text of a report made by redactAll, masked once more: escaping for the terminal can turn bytes
 * into text (ESC shown as "\e"), which must not spell a secret either.
 */
export function redactRendered(report: object, text: string): string {
  const secrets = maskedWith.get(report);
  return secrets ? redact(text, secrets) : text;
}

/** Go's os.FileMode bits as the engine reports them in the archive stat header. */
export const MODE_DIR = 2 ** 31;
export const MODE_SYMLINK = 2 ** 27;

export function permissionString(mode: number): string {
  const bits = mode & 0o777;
  let s = '';
  for (let i = 8; i >= 0; i--) s += bits & (1 << i) ? 'rwxrwxrwx'[8 - i] : '-';
  return s;
}

/** The interpreter a script's first line names, with /usr/bin/env's argument as the program. */
export function parseShebang(head: Buffer): { line: string; interpreter: string; viaEnv: string | null; crlf: boolean } | null {
  if (head[0] !== 0x23 || head[1] !== 0x21) return null;
  let end = head.indexOf(10);
  if (end === -1) end = Math.min(head.length, 256);
  const raw = head.subarray(2, end).toString('utf8');
  const crlf = raw.endsWith('\r');
  const line = raw.replace(/\r$/, '').trim();
  const words = line.split(/\s+/).filter(Boolean);
  const interpreter = words[0] ?? '';
  const viaEnv = /(^|\/)env$/.test(interpreter) ? (words.find((w, i) => i > 0 && !w.startsWith('-')) ?? null) : null;
  return { line: `#!${raw.replace(/\r$/, '')}`, interpreter, viaEnv, crlf };
}

/** The program loader (PT_INTERP) an ELF executable asks for, if its headers are in `head`. */
export function elfInterpreter(head: Buffer): { elf: boolean; interpreter: string | null } {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return { elf: false, interpreter: null };
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? head.readBigUInt64LE(o) : head.readBigUInt64BE(o));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + (is64 ? 56 : 32) > head.length) break;
    if (u32(ph) !== 3) continue;
    const offset = is64 ? u64(ph + 8) : u32(ph + 4);
    const size = is64 ? u64(ph + 32) : u32(ph + 16);
    if (offset + size > head.length) return { elf: true, interpreter: null };
    return { elf: true, interpreter: head.subarray(offset, offset + size).toString('utf8').replace(/\0+$/, '') };
  }
  return { elf: true, interpreter: null };
}
