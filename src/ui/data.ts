// The page's data, from the same command modules the CLI runs: each view calls a command's run() with a context
// whose stdout is a buffer or the HTTP response, never a second implementation and never a child `porthole`.
import { Writable } from 'node:stream';
import { Cleanup } from '../cleanup.js';
import { parseCommand } from '../cli/args.js';
import type { Context, OutputStream } from '../context.js';
import { findCommand } from '../commands/registry.js';
import type { ContainerSummary } from '../engine/types.js';
import { InvalidArgument } from '../errors.js';
import { exitMeaning } from '../report/findings.js';

/** What a request's run of a command gets: its own output streams, abort signal and cleanup. */
export interface RunStreams {
  stdout: OutputStream;
  stderr?: OutputStream;
  signal: AbortSignal;
}

/**
 * `porthole ARGS...` on `ref` as a person would type it (shell-quoted): with -n NS where the target is a pod and a
 * namespace was chosen.
 */
export function portholeCommand(ctx: Context, ref: string, args: string[]): string {
  const namespace = ref.startsWith('pod/') ? ctx.kube?.namespace : undefined;
  return shellCommand([...(namespace ? ['porthole', '-n', namespace] : ['porthole']), ...args]);
}

/** Runs `porthole NAME ARGS...` in this process, on the ui's engine connection. */
export async function runCommand(base: Context, name: string, args: string[], io: RunStreams): Promise<unknown> {
  const mod = await findCommand(name)!.load();
  const parsed = parseCommand(mod.spec, args);
  const cleanup = new Cleanup();
  const ctx: Context = {
    ...base,
    stdout: io.stdout,
    stderr: io.stderr ?? new Writable({ write: (_c, _e, cb) => cb() }),
    stdinIsTTY: false,
    stdinIsNull: true,
    cleanup,
    signal: io.signal,
    notice: () => undefined,
  };
  const undo = base.cleanup.add(`finish porthole ${name}`, () => cleanup.runAll().then(() => undefined));
  try {
    return await mod.run(ctx, parsed);
  } finally {
    await cleanup.runAll();
    undo();
  }
}

/** A Writable for a command's `--json` stream output (`stats --watch --json`): each whole line parsed, handed on. */
export function jsonLines(onValue: (value: unknown) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop()!;
      for (const line of lines) onValue(JSON.parse(line));
      cb();
    },
  });
}

/** A Writable that keeps what it is given, up to a limit; past it, the write fails (which stops the command). */
export class Collector extends Writable {
  private chunks: Buffer[] = [];
  size = 0;
  truncated = false;
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.size + chunk.length > this.limit) {
      this.chunks.push(chunk.subarray(0, this.limit - this.size));
      this.size = this.limit;
      this.truncated = true;
      cb(new Error('output limit reached'));
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    cb();
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A container reference from a URL: a name or id as the engine spells them (so it can never look like a flag). */
export function containerRef(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(value)) throw new InvalidArgument('That is not a container name or id.');
  return value;
}

/** A path in a container from a URL: absolute (so never a flag), no NUL. */
export function containerPath(value: string | null): string {
  const path = value || '/';
  if (!path.startsWith('/') || path.includes('\0')) throw new InvalidArgument('A path must start with /.');
  return path;
}

export interface ContainerRow {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  exitCode: number | null;
  exitWords: string | null;
  crashed: boolean;
  created: number;
}

/** The list the first page shows: crashed first (non-zero exit, dead, restarting), then running, then the rest. */
export function containerRows(list: ContainerSummary[]): ContainerRow[] {
  const rows = list.map((c): ContainerRow => {
    const m = /^Exited \((-?\d+)\)/.exec(c.status);
    const exitCode = m ? Number(m[1]) : null;
    const crashed = (exitCode !== null && exitCode !== 0) || c.state === 'dead' || c.state === 'restarting';
    return {
      id: c.id,
      name: c.names[0] ?? c.id.slice(0, 12),
      image: c.image,
      state: c.state,
      status: c.status,
      exitCode,
      exitWords: exitCode === null ? null : exitMeaning(exitCode, false).words,
      crashed,
      created: c.created,
    };
  });
  const rank = (r: ContainerRow) => (r.crashed ? 0 : r.state === 'running' ? 1 : 2);
  return rows.sort((a, b) => rank(a) - rank(b) || b.created - a.created);
}

/** The command a person would type for what a view shows, with arguments quoted for a POSIX shell. */
export function shellCommand(words: string[]): string {
  const quote = (w: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
  // --grep='a|b' reads better than '--grep=a|b' and means the same to the shell
  return words.map((w) => /^--[a-z-]+=/.exec(w)?.[0].concat(quote(w.slice(w.indexOf('=') + 1))) ?? quote(w)).join(' ');
}
