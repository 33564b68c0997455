// Gathers the crash report's findings from the engine: inspect, changes, logs and the archive endpoint only.
// Nothing is created, started, executed or written: looking never changes the container looked at.
import type { Readable } from 'node:stream';
import type { Change, ContainerDetails, EngineClient } from '../engine/types.js';
import { EngineError, NotFound, PortholeError } from '../errors.js';
import { demux } from '../engine/stdio.js';
import { readHead, readLineRange, readTailLines, statKind } from './archive.js';
import {
  directoriesIn,
  durationWords,
  elfInterpreter,
  engineTime,
  causeLine,
  exitMeaning,
  neverRanMeaning,
  findReferences,
  isErrorLine,
  isLogLike,
  maskEnvironment,
  orderChanges,
  redactAll,
  parseShebang,
  permissionString,
  redact,
  resolveInContainer,
  type EnvEntry,
} from './findings.js';
import { LineSplitter } from './text.js';

export interface SaidLine {
  stream: 'stdout' | 'stderr';
  text: string;
  error: boolean;
}

export interface ExecutableCheck {
  /** argv[0] as the engine ran it. */
  name: string;
  /** Where it was found in the container (after following links), or null. */
  path: string | null;
  /** The places looked at, in order ($PATH search or the path itself). */
  searched: string[];
  links: string[];
  exists: boolean;
  isDirectory: boolean;
  executable: boolean | null;
  permissions: string | null;
  kind: 'script' | 'elf' | 'other' | null;
  interpreterLine: string | null;
  /** The script's interpreter, or an ELF's program loader. */
  interpreter: string | null;
  interpreterFound: boolean | null;
  /** The interpreter line ends in \r: a script saved with Windows line endings. */
  crlf: boolean;
  /** The likely cause of a failure to start, in words, or null when the executable looks fine. */
  problem: string | null;
  /** "in its filesystem" (read through the archive endpoint) or "it started" (the engine ran it, nothing to check). */
  checked: 'in its filesystem' | 'it started';
}

export interface LogFile {
  path: string;
  kind: 'A' | 'C' | 'D';
  lines: { text: string; error: boolean }[];
  note: string | null;
}

export interface Pointer {
  reference: string;
  path: string;
  line: number;
  /** Where the reference was seen: "stderr", "stdout", a log file's path, or "health check". */
  from: string;
  lines: { number: number; text: string }[];
  note: string | null;
}

export interface WhyReport {
  container: { id: string; name: string; image: string };
  happened: {
    state: string;
    running: boolean;
    paused: boolean;
    restarting: boolean;
    exitCode: number | null;
    meaning: string | null;
    signal: string | null;
    oomKilled: boolean;
    error: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    ranForMs: number | null;
    ranFor: string | null;
    endedAgo: string | null;
    restartCount: number;
    restartPolicy: string;
    memoryLimit: number | null;
    health: { status: string; failingStreak: number; test: string[] | null; lastExitCode: number | null; lastOutput: string | null } | null;
    saidNothing: boolean;
  };
  ran: {
    command: string[];
    entrypoint: string[] | null;
    cmd: string[] | null;
    user: string;
    workingDir: string;
    executable: ExecutableCheck | null;
  };
  /** `unavailable`: why the engine could not give the output (e.g. a logging driver that keeps nothing). */
  said: { lines: SaidLine[]; tty: boolean; stderrLines: number; stdoutLines: number; unavailable: string | null };
  wrote: { changes: { path: string; kind: 'A' | 'C' | 'D' }[]; total: number; logs: LogFile[] };
  points: Pointer[];
  setting: {
    env: EnvEntry[];
    secretsShown: boolean;
    mounts: { type: string; source: string; destination: string; rw: boolean }[];
    ports: { containerPort: string; hostIp: string; hostPort: string }[];
    exposed: string[];
  };
}

export interface CollectOptions {
  showSecrets: boolean;
  /** How many lines of stdout/stderr to show. */
  lines: number;
  now?: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_LOG_FILES = 5;
const LOG_FILE_LINES = 10;
const MAX_POINTERS = 8;
const MAX_CHANGES_SHOWN = 40;

/** What the container printed: the last `count` lines, in the order they came, stderr marked. */
async function collectSaid(engine: EngineClient, target: ContainerDetails, count: number, early?: Promise<{ stream: Readable }>): Promise<WhyReport['said']> {
  let stream: Readable;
  try {
    ({ stream } = await (early ?? engine.logs(target.id, { tail: count, follow: false })));
  } catch (err) {
    // e.g. --log-driver none or syslog: the engine keeps nothing to read; the rest of the report still helps.
    if (!(err instanceof PortholeError)) throw err;
    return { lines: [], tty: target.config.tty, stderrLines: 0, stdoutLines: 0, unavailable: err.message };
  }
  const lines: SaidLine[] = [];
  const add = (kind: SaidLine['stream'], line: Buffer) => {
    const text = line.toString('utf8').replace(/\r?\n$/, '');
    lines.push({ stream: kind, text: text.length > 2000 ? `${text.slice(0, 2000)}...` : text, error: kind === 'stderr' || isErrorLine(text) });
    // Endless lines arrive in pieces: keep only what will be shown, so memory stays flat.
    if (lines.length > count * 2) lines.splice(0, lines.length - count);
  };
  const collect = (source: NodeJS.ReadableStream, kind: SaidLine['stream']) =>
    new Promise<void>((resolve, reject) => {
      const splitter = new LineSplitter(64 * 1024);
      source.on('data', (c: Buffer) => splitter.push(c).forEach((l) => add(kind, l)));
      source.on('end', () => {
        splitter.flush().forEach((l) => add(kind, l));
        resolve();
      });
      source.on('error', reject);
    });
  if (target.config.tty) {
    await collect(stream, 'stdout');
  } else {
    const { stdout, stderr, done } = demux(stream);
    await Promise.all([collect(stdout, 'stdout'), collect(stderr, 'stderr'), done]);
  }
  const kept = lines.slice(-count);
  return {
    lines: kept,
    tty: target.config.tty,
    stderrLines: kept.filter((l) => l.stream === 'stderr').length,
    stdoutLines: kept.filter((l) => l.stream === 'stdout').length,
    unavailable: null,
  };
}

/** Follows a path through symlinks with the archive endpoint's stat (HEAD), as the kernel would at exec. */
async function statFollow(engine: EngineClient, id: string, path: string): Promise<{ path: string; mode: number; links: string[] } | null> {
  const links: string[] = [];
  let current = path;
  for (let hop = 0; hop < 10; hop++) {
    let stat;
    try {
      stat = await engine.statPath(id, current);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
    if (!stat.name && !stat.mode) return null;
    if (statKind(stat) !== 'symlink') return { path: current, mode: stat.mode, links };
    const next = stat.linkTarget.startsWith('/') ? stat.linkTarget : resolveInContainer(stat.linkTarget, current.replace(/\/[^/]*$/, '') || '/');
    links.push(`${current} -> ${stat.linkTarget}`);
    current = resolveInContainer(next, '/');
  }
  return null;
}

/**
 * Opens a path with the archive endpoint, following links as exec would; one request gives the entry's type,
 * mode and link target, and for a file its first bytes (the interpreter line, or the ELF headers).
 */
async function openFollow(engine: EngineClient, id: string, path: string, headBytes: number) {
  const links: string[] = [];
  let current = path;
  for (let hop = 0; hop < 10; hop++) {
    const r = await readHead(engine, id, current, headBytes);
    if (!r) return null;
    if (r.info.type !== 'symlink') return { path: current, info: r.info, head: r.head, links };
    links.push(`${current} -> ${r.info.linkTarget}`);
    current = resolveInContainer(r.info.linkTarget, r.info.linkTarget.startsWith('/') ? '/' : current.replace(/\/[^/]*$/, '') || '/');
  }
  return null;
}

/** Where exec finds a program: the path itself, or the first directory of $PATH holding it (looked up at once). */
async function findProgram(engine: EngineClient, id: string, name: string, pathVar: string, workingDir: string) {
  if (name.includes('/')) {
    const full = resolveInContainer(name, workingDir);
    return { searched: [full], found: full };
  }
  const searched = pathVar.split(':').filter(Boolean).map((dir) => resolveInContainer(name, dir));
  const stats = await Promise.all(searched.map((p) => statFollow(engine, id, p)));
  const index = stats.findIndex((st) => st && !(st.mode & 2 ** 31));
  return { searched, found: index === -1 ? null : searched[index]! };
}

/** What runc prints on the container's stderr when exec fails after the container started (e.g. a missing #! interpreter). */
const EXEC_FAILED = /^(exec |standard_init_linux\.go:\d+: exec user process caused:? ).*(no such file or directory|permission denied|exec format error)/;

/** An executable check's findings about the file's content, before (or without) reading it. */
const NOT_LOOKED_INSIDE = { kind: null, interpreterLine: null, interpreter: null, interpreterFound: null, crlf: false, problem: null } as const;

async function checkExecutable(engine: EngineClient, target: ContainerDetails, said: Promise<WhyReport['said']>): Promise<ExecutableCheck | null> {
  const name = target.path;
  if (!name) return null;
  const env = new Map(target.config.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const pathVar = env.get('PATH') ?? DEFAULT_PATH;
  const s = target.state;
  // A program that did start needs no proof its interpreter exists; one that did not start gets the full check.
  const execFailed = (await said).lines.some((l) => l.stream === 'stderr' && EXEC_FAILED.test(l.text));
  const failedToStart = !engineTime(s.startedAt) || s.exitCode === 126 || s.exitCode === 127 || !!s.error || execFailed;
  if (!failedToStart) {
    // The engine started it, so exec found it and could run it. Archive reads are serialized per container by
    // the engine and cost tens of ms each on a stopped one: spend them on the files that explain the failure.
    return {
      name,
      path: name.includes('/') ? resolveInContainer(name, target.config.workingDir) : null,
      searched: [],
      links: [],
      exists: true,
      isDirectory: false,
      executable: true,
      permissions: null,
      ...NOT_LOOKED_INSIDE,
      checked: 'it started',
    };
  }
  let searched: string[];
  let where: string | null;
  let opened: Awaited<ReturnType<typeof openFollow>> | null;
  try {
    ({ searched, found: where } = await findProgram(engine, target.id, name, pathVar, target.config.workingDir));
    opened = where ? await openFollow(engine, target.id, where, 4096) : null;
  } catch (err) {
    // A container the engine could not set up (a file mounted over a folder) can refuse to be read as well: the
    // engine's own error, shown above, says why it never ran; the report goes on without this check.
    if (err instanceof EngineError && s.error && !engineTime(s.startedAt)) return null;
    throw err;
  }
  const check: ExecutableCheck = {
    name,
    path: opened?.path ?? null,
    searched,
    links: opened?.links ?? [],
    exists: !!opened,
    isDirectory: opened?.info.type === 'directory',
    executable: opened ? (opened.info.mode & 0o111) !== 0 : null,
    permissions: opened ? permissionString(opened.info.mode) : null,
    ...NOT_LOOKED_INSIDE,
    checked: 'in its filesystem',
  };
  if (!opened) {
    check.problem = name.includes('/')
      ? `${name} does not exist in the container`
      : `${name} is not in any directory of $PATH (${pathVar})`;
    return check;
  }
  if (check.isDirectory) {
    check.problem = `${opened.path} is a directory, not a program`;
    return check;
  }
  const shebang = parseShebang(opened.head);
  const elf = elfInterpreter(opened.head);
  if (shebang) {
    check.kind = 'script';
    check.interpreterLine = shebang.line;
    check.crlf = shebang.crlf;
    check.interpreter = shebang.viaEnv ?? shebang.interpreter;
    if (failedToStart) {
      check.interpreterFound = shebang.viaEnv
        ? !!(await findProgram(engine, target.id, shebang.viaEnv, pathVar, '/')).found
        : !!(await statFollow(engine, target.id, resolveInContainer(shebang.interpreter, '/')));
    }
  } else if (elf.elf) {
    check.kind = 'elf';
    check.interpreter = elf.interpreter;
    if (elf.interpreter && failedToStart) check.interpreterFound = !!(await statFollow(engine, target.id, elf.interpreter));
  } else if (opened.info.size > 0) {
    check.kind = 'other';
  }
  const path = opened.path;
  if (!check.executable) check.problem = `${path} is not executable (permissions ${check.permissions})`;
  else if (check.crlf) check.problem = `the interpreter line of ${path} ends with a carriage return (Windows line endings): the kernel looks for "${check.interpreter}\\r"`;
  else if (check.kind === 'script' && check.interpreterFound === false) check.problem = `the script's interpreter ${check.interpreter} does not exist in the container`;
  else if (check.kind === 'elf' && check.interpreterFound === false) check.problem = `the program's loader ${check.interpreter} does not exist in the container (built for another libc?)`;
  else if (check.kind === 'other' && failedToStart) check.problem = `${path} is neither a script with a #! line nor a compiled program`;
  return check;
}

async function collectWrote(engine: EngineClient, target: ContainerDetails, early: Promise<Change[]> | undefined, after: Promise<unknown>): Promise<WhyReport['wrote']> {
  const changes = await (early ?? engine.changes(target.id));
  // The engine holds the container's lock for an archive read, and a logs request waits for it: let the (fast)
  // logs finish first instead of queueing them behind a file.
  await after.catch(() => undefined);
  const ordered = orderChanges(changes);
  const dirs = directoriesIn(changes.map((c) => c.path));
  const logPaths = ordered.filter((c) => c.kind !== 'D' && !dirs.has(c.path) && isLogLike(c.path)).slice(0, MAX_LOG_FILES);
  const logs = await Promise.all(
    logPaths.map(async (c): Promise<LogFile | null> => {
      const tail = await readTailLines(engine, target.id, c.path, LOG_FILE_LINES);
      if (!tail) return null;
      if (tail.info.type === 'symlink') return { path: c.path, kind: c.kind, lines: [], note: `a link to ${tail.info.linkTarget}` };
      if (tail.info.type !== 'file') return null;
      let note: string | null = null;
      if (tail.binary) note = 'binary content, not shown';
      else if (!tail.lines.length) note = 'empty';
      else if (tail.stopped) note = `large file: showing the end of its first ${Math.round(tail.bytesRead / 1048576)} MiB`;
      return { path: c.path, kind: c.kind, lines: tail.lines.map((text) => ({ text, error: isErrorLine(text) })), note };
    }),
  );
  return { changes: ordered.slice(0, MAX_CHANGES_SHOWN), total: changes.length, logs: logs.filter((l): l is LogFile => !!l) };
}

async function collectPointers(engine: EngineClient, target: ContainerDetails, sources: { from: string; text: string }[]): Promise<Pointer[]> {
  const candidates: { reference: string; path: string; line: number; from: string }[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    for (const ref of findReferences(source.text)) {
      const path = resolveInContainer(ref.path, target.config.workingDir);
      const key = `${path}:${ref.line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push({ reference: ref.match, path, line: ref.line, from: source.from });
    }
  }
  // Only the first few are looked up: a log full of references must not turn into hundreds of requests (the
  // engine serializes archive reads on one container).
  const looked = await Promise.all(
    candidates.slice(0, MAX_POINTERS).map(async (c): Promise<Pointer | null> => {
      const range = await readLineRange(engine, target.id, c.path, Math.max(1, c.line - 2), c.line + 2);
      if (!range || range.info.type !== 'file') return null;
      const note = range.lines.some((l) => l.number === c.line)
        ? null
        : range.reachedEnd
          ? `the file has only ${range.linesSeen} lines now`
          : 'the line is beyond what porthole reads of a file';
      return { ...c, lines: range.lines, note };
    }),
  );
  return looked.filter((p): p is Pointer => !!p).slice(0, MAX_POINTERS);
}

/** Reads started before the container was resolved (the engine resolves a name the same way for each call). */
export interface EarlyReads {
  changes: Promise<Change[]>;
  logs: Promise<{ stream: Readable }>;
}

/** Starts the reads that need only the user's name for the container, so they overlap the inspect. */
export function startEarlyReads(engine: EngineClient, ref: string, lines: number): EarlyReads {
  const early = { changes: engine.changes(ref), logs: engine.logs(ref, { tail: lines, follow: false }) };
  early.changes.catch(() => undefined);
  early.logs.catch(() => undefined);
  return early;
}

/** Lets go of early reads that will not be used (the container could not be resolved). */
export function dropEarlyReads(early: EarlyReads): void {
  early.logs.then((l) => l.stream.destroy(), () => undefined);
}

export async function collectReport(engine: EngineClient, target: ContainerDetails, opts: CollectOptions, early?: EarlyReads): Promise<WhyReport> {
  const now = opts.now ?? Date.now();
  const { entries: env, secrets } = maskEnvironment(target.config.env, opts.showSecrets);
  const scrub = (text: string) => (opts.showSecrets ? text : redact(text, secrets));

  const saying = collectSaid(engine, target, opts.lines, early?.logs);
  const [said, wrote, executable] = await Promise.all([saying, collectWrote(engine, target, early?.changes, saying), checkExecutable(engine, target, saying)]);
  for (const line of said.lines) line.text = scrub(line.text);
  for (const log of wrote.logs) for (const line of log.lines) line.text = scrub(line.text);

  const s = target.state;
  const health = s.health
    ? (() => {
        const last = s.health.log[s.health.log.length - 1];
        return {
          status: s.health.status,
          failingStreak: s.health.failingStreak,
          test: target.config.healthcheck?.test ?? null,
          lastExitCode: last ? last.exitCode : null,
          lastOutput: last ? scrub(last.output.trimEnd()) : null,
        };
      })()
    : null;

  const sources = [
    ...said.lines.map((l) => ({ from: l.stream, text: l.text })),
    ...wrote.logs.flatMap((log) => log.lines.map((l) => ({ from: log.path, text: l.text }))),
    ...(health?.lastOutput ? [{ from: 'health check', text: health.lastOutput }] : []),
    ...(s.error ? [{ from: 'the engine', text: s.error }] : []),
  ];
  // Lines that say something went wrong point at the cause more often: look at their references first.
  sources.sort((a, b) => Number(isErrorLine(b.text)) - Number(isErrorLine(a.text)));
  const points = await collectPointers(engine, target, sources);
  for (const p of points) for (const l of p.lines) l.text = scrub(l.text);

  const started = engineTime(s.startedAt);
  const finished = engineTime(s.finishedAt);
  const ended = !s.running && finished !== null;
  const ranForMs = started === null ? null : ended ? finished! - started : s.running ? now - started : null;
  const hasExit = !s.running && (started !== null || s.exitCode !== 0 || !!s.error);
  // Never started, with the engine's error: the exit code is the engine's (128 and the like), not the program's.
  const neverRan = !s.running && started === null && !!s.error && s.exitCode !== 0;
  const meaning = hasExit ? (neverRan ? neverRanMeaning(s.exitCode, scrub(s.error)) : exitMeaning(s.exitCode, s.oomKilled)) : null;
  // Output that names its own cause (a variable not set) leads, rather than a guess from the code ("usage error").
  const cause = meaning && !neverRan && !meaning.signal && !s.oomKilled && s.exitCode !== 0 ? causeLine(said.lines.map((l) => l.text)) : null;
  if (meaning && cause) meaning.words = `exited with code ${s.exitCode}, and its output names the cause: ${cause}`;
  // runc reports an exec that failed after the start as exit 1 plus one stderr line: that is not the program's failure.
  const execLine = said.lines.find((l) => l.stream === 'stderr' && EXEC_FAILED.test(l.text));
  if (meaning && execLine && s.exitCode === 1) meaning.words = `exit code 1: the runtime could not execute the program (${execLine.text})`;

  const report: WhyReport = {
    container: { id: target.id, name: target.name, image: target.image },
    happened: {
      state: s.status,
      running: s.running,
      paused: s.paused,
      restarting: s.restarting,
      exitCode: hasExit ? s.exitCode : null,
      meaning: meaning?.words ?? null,
      signal: meaning?.signal ?? null,
      oomKilled: s.oomKilled,
      error: s.error ? scrub(s.error) : null,
      startedAt: started === null ? null : s.startedAt,
      finishedAt: finished === null ? null : s.finishedAt,
      ranForMs: ranForMs !== null && ranForMs >= 0 ? ranForMs : null,
      ranFor: ranForMs !== null && ranForMs >= 0 ? durationWords(ranForMs) : null,
      endedAgo: ended ? durationWords(now - finished!) : null,
      restartCount: target.restartCount,
      restartPolicy: target.hostConfig.restartPolicy.name || 'no',
      memoryLimit: target.hostConfig.memory || null,
      health,
      saidNothing: said.lines.length === 0 && !said.unavailable,
    },
    ran: {
      command: [target.path, ...target.args].filter((w, i) => i > 0 || w).map(scrub),
      entrypoint: target.config.entrypoint?.map(scrub) ?? null,
      cmd: target.config.cmd?.map(scrub) ?? null,
      user: target.config.user,
      workingDir: target.config.workingDir,
      executable,
    },
    said,
    wrote,
    points,
    setting: {
      env,
      secretsShown: opts.showSecrets,
      mounts: target.mounts.map((m) => ({ type: m.type, source: m.source, destination: m.destination, rw: m.rw })),
      ports: target.ports,
      exposed: target.config.exposedPorts,
    },
  };
  // Every string of the report, not only the log lines scrubbed above: names and link targets can carry a secret too.
  return opts.showSecrets ? report : redactAll(report, secrets);
}
