// `porthole edit CONTAINER PATH`: the seed's "change configurations" without a rebuild. Copies the file out
// through the archive endpoint, opens $VISUAL/$EDITOR on a private temporary copy, and writes it back only if it
// changed, with its mode and owner kept. Works on stopped containers; --start then starts it and watches.
import { composeOptions } from '../cli/name-options.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { defineCommand, parseCount, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { resolveContainer } from '../engine/resolve.js';
import { Failure, InvalidArgument, PortholeError, UnusablePath, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { readEntry, type EntryInfo } from '../report/archive.js';
import type { WhyReport } from '../report/collect.js';
import { chooseEditor, singleFileTar, splitCommand } from '../report/editor.js';
import { resolveInContainer } from '../report/findings.js';
import { renderReport } from '../report/render.js';

export const spec = defineCommand({
  name: 'edit',
  summary: 'Edit a file inside a container (running or stopped) with your editor, then optionally start it',
  usage: 'porthole edit CONTAINER PATH [--start] [--watch SECONDS]',
  description:
    'Copies PATH out, opens $VISUAL or $EDITOR (else vi) on a temporary copy, and writes it back only if it\n' +
    'changed, keeping its mode and owner. This changes the container on purpose. With --start, starts the\n' +
    'container and watches it: it says if it stays up, or shows `porthole why` if it dies again.',
  options: {
    ...composeOptions,
    start: { type: 'boolean', description: 'Start the container afterwards and watch whether it stays up' },
    watch: { type: 'string', valueName: 'SECONDS', description: 'How long --start watches (default 5)' },
  },
  args: { min: 2, max: 2 },
  examples: ['porthole edit porthole-demo-crash /etc/nginx/nginx.conf --start', 'EDITOR="code --wait" porthole edit web /app/config.yml'],
});

type Options = Parsed<typeof spec.options>;

const MAX_EDIT_BYTES = 64 * 1024 * 1024;

export interface EditResult {
  container: string;
  path: string;
  changed: boolean;
  bytesBefore: number;
  bytesAfter: number;
  start: null | {
    outcome: 'stays up' | 'died' | 'was already running';
    watchedMs: number;
    report: WhyReport | null;
  };
}

/** Reads a whole file, following symlinks inside the container as the program would. */
export async function readFileIn(engine: EngineClient, id: string, path: string): Promise<{ path: string; info: EntryInfo; content: Buffer }> {
  let current = path;
  for (let hop = 0; hop < 10; hop++) {
    const chunks: Buffer[] = [];
    // through the engine: its owner and mode are written back as they are (see readEntry)
    const read = await readEntry(engine, id, current, (c) => (chunks.push(c), true), MAX_EDIT_BYTES + 1, { fromLayers: false });
    if (!read) throw new UnusablePath(`No such file in the container: ${escapeName(current)}.`, posix.dirname(current), 'porthole edit changes files that exist; check the path with');
    const { info } = read;
    if (info.type === 'symlink') {
      current = resolveInContainer(info.linkTarget, info.linkTarget.startsWith('/') ? '/' : posix.dirname(current));
      continue;
    }
    if (info.type === 'directory') throw new InvalidArgument(`${escapeName(current)} is a directory; porthole edit edits one file.`);
    if (info.type !== 'file') throw new Unsupported(`${escapeName(current)} is not a regular file.`);
    if (read.bytesRead > MAX_EDIT_BYTES) throw new Unsupported(`${escapeName(current)} is larger than 64 MiB.`, 'Copy it out with `docker cp` instead.');
    return { path: current, info, content: Buffer.concat(chunks) };
  }
  throw new Failure(`${escapeName(path)} is a chain of more than 10 symbolic links.`);
}

/** Runs the editor on the file with the terminal; Ctrl-C belongs to the editor meanwhile, as with git. */
async function runEditor(ctx: Context, file: string): Promise<void> {
  const editorSetting = chooseEditor(ctx.env);
  const [program, ...args] = splitCommand(editorSetting);
  const ignored = ['SIGINT', 'SIGQUIT'] as const;
  const saved = ignored.map((sig) => [sig, process.listeners(sig)] as const);
  const ignore = () => undefined;
  for (const sig of ignored) {
    process.removeAllListeners(sig);
    process.on(sig, ignore);
  }
  try {
    const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(program!, [...args, file], { stdio: 'inherit', env: ctx.env });
      child.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new Failure(`The editor "${escapeName(program!)}" was not found; nothing was written.`, 'Set $VISUAL or $EDITOR to an editor you have.')
            : err,
        ),
      );
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    if (status.code !== 0) {
      const how = status.signal ? `was ended by ${status.signal}` : `exited with ${status.code}`;
      throw new Failure(`The editor (${escapeName(editorSetting)}) ${how}; nothing was written to the container.`);
    }
  } finally {
    for (const [sig, listeners] of saved) {
      process.removeAllListeners(sig);
      for (const l of listeners) process.on(sig, l as () => void);
    }
  }
}

export async function watchStart(ctx: Context, engine: EngineClient, id: string, watchMs: number): Promise<EditResult['start']> {
  const before = await engine.inspectContainer(id);
  if (before.state.running) {
    ctx.notice(`porthole: ${escapeName(before.name)} is already running: the program sees the change when it reads the file again (restart it to be sure).`);
    return { outcome: 'was already running', watchedMs: 0, report: null };
  }
  ctx.notice(`porthole: starting ${escapeName(before.name)} and watching it for ${watchMs / 1000} s...`);
  const began = Date.now();
  let died = false;
  try {
    await engine.startContainer(id);
  } catch (err) {
    // The engine refuses to start it (e.g. its program is missing): the report below says why.
    if (!(err instanceof PortholeError)) throw err;
    died = true;
  }
  while (!died && Date.now() - began < watchMs) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await engine.inspectContainer(id);
    if (!now.state.running || now.state.restarting || now.restartCount > before.restartCount) died = true;
  }
  if (!died) return { outcome: 'stays up', watchedMs: Date.now() - began, report: null };
  const { collectReport } = await import('../report/collect.js');
  const report = await collectReport(engine, await engine.inspectContainer(id), { showSecrets: false, lines: 20 });
  return { outcome: 'died', watchedMs: Date.now() - began, report };
}

export async function run(ctx: Context, parsed: Options): Promise<EditResult> {
  const watchSeconds = parseCount('--watch', parsed.options.watch) ?? 5;
  const engine = await ctx.engine();
  const target = await resolveContainer(engine, parsed.args[0]!);
  const asked = parsed.args[1]!;
  if (!asked || /\0/.test(asked)) throw new InvalidArgument('Give the path of a file in the container.');
  const original = await readFileIn(engine, target.id, resolveInContainer(asked, '/'));
  if (original.path !== resolveInContainer(asked, '/')) ctx.notice(`porthole: ${escapeName(asked)} is a link; editing ${escapeName(original.path)}.`);

  const dir = mkdtempSync(join(tmpdir(), 'porthole-edit-'));
  const dropTemp = ctx.cleanup.add('remove the temporary copy', () => rmSync(dir, { recursive: true, force: true }));
  const local = join(dir, posix.basename(original.path) || 'file');
  writeFileSync(local, original.content, { mode: 0o600 });

  await runEditor(ctx, local);
  return applyEdit(ctx, engine, target, original, readFileSync(local), { start: !!parsed.options.start, watchMs: watchSeconds * 1000, keptAt: local, dropTemp });
}

/**
 * Writes `edited` back over `original` (read by readFileIn) if it differs and the file has not changed in the
 * container since it was read; then, with start, starts the container and watches it. Shared with `porthole ui`.
 */
export async function applyEdit(
  ctx: Context,
  engine: EngineClient,
  target: { id: string; name: string },
  original: { path: string; info: EntryInfo; content: Buffer },
  edited: Buffer,
  opts: { start: boolean; watchMs: number; keptAt?: string; dropTemp?: () => void },
): Promise<EditResult> {
  const result: EditResult = {
    container: target.name,
    path: original.path,
    changed: !edited.equals(original.content),
    bytesBefore: original.content.length,
    bytesAfter: edited.length,
    start: null,
  };
  if (!result.changed) {
    ctx.notice(`porthole: no change to ${escapeName(original.path)}; the container was not touched.`);
  } else {
    // Someone (or the program) may have written the file while the editor was open: never overwrite that.
    const now = await engine.statPath(target.id, original.path);
    if (now.size !== original.content.length || (original.info.mtime && Math.abs(Date.parse(now.mtime) - original.info.mtime.getTime()) >= 1000)) {
      opts.dropTemp?.();
      throw new Failure(
        `${escapeName(original.path)} changed in the container while you were editing it; nothing was written.`,
        opts.keptAt ? `Your version is kept at ${opts.keptAt}.` : 'Open it again to see the new version.',
      );
    }
    ctx.notice(`porthole: writing ${escapeName(original.path)} back into ${escapeName(target.name)}: this changes the container.`);
    const tar = await singleFileTar({
      name: posix.basename(original.path),
      content: edited,
      mode: original.info.mode,
      uid: original.info.uid,
      gid: original.info.gid,
      uname: original.info.uname,
      gname: original.info.gname,
      mtime: new Date(),
    });
    await engine.putArchive(target.id, posix.dirname(original.path), Readable.from([tar]), { noOverwriteDirNonDir: true });
  }
  if (opts.start) result.start = await watchStart(ctx, engine, target.id, opts.watchMs);
  return result;
}

export function render(r: EditResult, _parsed: Options, ctx: Context): string {
  const lines: string[] = [];
  const name = escapeName(r.container);
  if (r.changed) lines.push(`wrote ${escapeName(r.path)} in ${name} (${r.bytesBefore} -> ${r.bytesAfter} bytes)`);
  if (r.start?.outcome === 'stays up') lines.push(`${name} started and stays up (watched ${(r.start.watchedMs / 1000).toFixed(1)} s)`);
  if (r.start?.outcome === 'was already running') lines.push(`${name} was already running`);
  let text = lines.length ? lines.join('\n') + '\n' : '';
  if (r.start?.outcome === 'died' && r.start.report) {
    text += `${name} stopped again; here is why:\n`;
    text += renderReport(r.start.report, { color: !!ctx.stdout.isTTY && !ctx.env.NO_COLOR });
  }
  return text;
}

export function exitCode(r: EditResult): number {
  return r.start?.outcome === 'died' ? 1 : 0;
}
