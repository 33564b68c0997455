// The Processes, Stats and Files-editing views' server side: each runs the command module the CLI runs (`ps`,
// `stats --json --interval`, `diff --json`, `cp CONTAINER:DIR -`, and edit's own read and write-back), and sends
// its data as JSON or Server-Sent Events. Nothing here computes what a command already computes.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { Failure, InvalidArgument, PortholeError } from '../errors.js';
import { redactRendered } from '../report/findings.js';
import { renderJson } from '../render/json.js';
import { Collector, jsonLines, portholeCommand, runCommand } from './data.js';
import { SECURITY_HEADERS } from './security.js';

const PS_INTERVAL_MS = 2000;
const STATS_INTERVAL_S = '1';
const MAX_SAVE_BYTES = 1024 * 1024;

/** An SSE answer: headers once, then events; returns a function that sends one. */
function openEvents(res: ServerResponse): (event: string, data: unknown) => boolean {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
  return (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function sentence(err: unknown): string {
  return err instanceof PortholeError ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** `porthole ps NAME` every 2 s: the tree with host PIDs, %CPU and RSS, as the CLI's --json rows. */
export async function processesStream(ctx: Context, ref: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const send = openEvents(res);
  send('command', portholeCommand(ctx, ref, ['ps', ref]));
  while (!signal.aborted) {
    try {
      const result = (await runCommand(ctx, 'ps', [ref], { stdout: new Collector(0), signal })) as {
        containers: { rows: unknown[]; prefixes: string[] }[];
        pods?: { blocks: { rows: unknown[]; prefixes: string[] }[]; notRunning: { why: string }[] };
        notRunning: { name: string; status: string }[];
        nowMs: number;
      };
      // a pod's ps answers blocks of its own (the pod's PID namespace), the same rows and tree prefixes
      const block = result.pods?.blocks[0] ?? result.containers[0];
      send('ps', block ? { rows: block.rows, prefixes: block.prefixes } : { rows: [], prefixes: [], notRunning: result.notRunning[0]?.status ?? result.pods?.notRunning[0]?.why ?? 'not running' });
    } catch (err) {
      if (signal.aborted) return;
      send('failed', sentence(err));
      res.end();
      return;
    }
    await sleep(PS_INTERVAL_MS, signal);
  }
}

/**
 * `porthole stats --json --interval 1 NAME`, one sample a second, each with the time it was taken; beside it the
 * container's state, looked at each second, so a die, an OOM kill or a restart is marked on the same time axis.
 */
export async function statsStream(ctx: Context, ref: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const engine = await ctx.engine();
  const target = await resolveContainer(engine, ref);
  const send = openEvents(res);
  send('command', portholeCommand(ctx, ref, ['stats', '--interval', STATS_INTERVAL_S, ref]));
  const samples = jsonLines((value) => {
    const rows = value as unknown[];
    if (rows[0]) send('sample', { t: Date.now(), ...(rows[0] as object) });
  });
  // the engine's view of the container's life: start time, restart count, running, OOM-killed
  let last = target;
  const watchState = async () => {
    while (!signal.aborted) {
      await sleep(1000, signal);
      if (signal.aborted) return;
      const now = await engine.inspectContainer(target.id).catch(() => undefined);
      if (!now) continue;
      const t = Date.now();
      if (last.state.running && !now.state.running) send('event', { t, kind: now.state.oomKilled ? 'oom' : 'die', text: `${now.state.oomKilled ? 'killed for memory (OOM)' : 'died'}, exit code ${now.state.exitCode}` });
      else if (now.restartCount > last.restartCount) send('event', { t, kind: 'restart', text: `restarted (${now.restartCount} restarts)` });
      else if (!last.state.running && now.state.running) send('event', { t, kind: 'start', text: 'started' });
      else if (now.state.startedAt !== last.state.startedAt && now.state.running) send('event', { t, kind: 'restart', text: 'restarted' });
      last = now;
    }
  };
  const watching = watchState();
  try {
    await runCommand(ctx, 'stats', ['--json', '--interval', STATS_INTERVAL_S, ref], { stdout: samples, signal });
  } catch (err) {
    if (!signal.aborted) send('failed', sentence(err));
  } finally {
    await watching.catch(() => undefined);
    res.end();
  }
}

/** `porthole diff --json NAME`: {path, kind} for the Files tab's A/C/D markers. */
export async function changes(ctx: Context, ref: string, signal: AbortSignal): Promise<{ changes: { path: string; kind: string }[]; command: string }> {
  const out = new Collector(64 * 1024 * 1024);
  await runCommand(ctx, 'diff', ['--json', ref], { stdout: out, signal });
  const list = JSON.parse(out.buffer().toString('utf8') || '[]') as { path: string; kind: string }[];
  return { changes: list.map((c) => ({ path: c.path, kind: c.kind })), command: portholeCommand(ctx, ref, ['diff', ref]) };
}

/**
 * A command's stdout sent as a download named `name`: the headers go with the first bytes, so a command that fails
 * before writing (a missing path) still answers with its error status and sentence.
 */
export async function sendAttachment(ctx: Context, command: string, args: string[], name: string, contentType: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const ascii = name.replace(/[^A-Za-z0-9._-]/g, '_');
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentType,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
  };
  const body = new Writable({
    write(chunk: Buffer, _enc, cb) {
      start();
      if (res.write(chunk)) cb();
      else res.once('drain', () => cb());
    },
  });
  await runCommand(ctx, command, args, { stdout: body, signal });
  start();
  res.end();
}

/** A folder as a tar (`porthole cp NAME:DIR -`), streamed. */
export function downloadFolder(ctx: Context, ref: string, path: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const name = (path.replace(/\/+$/, '').split('/').pop() || 'root') + '.tar';
  return sendAttachment(ctx, 'cp', [`${ref}:${path}`, '-'], name, 'application/x-tar', res, signal);
}

/** The hash the page sends back with an edit: what it showed, so a file changed since is never overwritten. */
export function contentHash(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface SaveRequest {
  text: string;
  /** contentHash of the version the page showed. */
  base: string;
  /** Start the container afterwards and watch it, as `edit --start`. */
  start: boolean;
}

export function parseSaveRequest(body: Buffer): SaveRequest {
  let value: any;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidArgument('The request is not JSON.');
  }
  if (typeof value?.text !== 'string' || typeof value?.base !== 'string' || !/^[0-9a-f]{64}$/.test(value.base)) {
    throw new InvalidArgument('The request needs text and base.');
  }
  return { text: value.text, base: value.base, start: value.start === true };
}

/** Edit-and-save: edit's own read, change check, write-back (mode and owner kept) and --start watch. */
export async function saveFile(ctx: Context, ref: string, path: string, save: SaveRequest, signal: AbortSignal): Promise<unknown> {
  const edited = Buffer.from(save.text, 'utf8');
  if (edited.length > MAX_SAVE_BYTES) throw new InvalidArgument('The page edits files up to 1 MB.', 'Use `porthole edit` for bigger ones.');
  const { readFileIn, applyEdit } = await import('../commands/edit.js');
  const engine = await ctx.engine();
  const target = await resolveContainer(engine, ref);
  const original = await readFileIn(engine, target.id, path);
  if (contentHash(original.content) !== save.base) {
    throw new Failure(`${path} changed in the container since the page showed it; nothing was written.`, 'Open it again to see the new version.');
  }
  const notices: string[] = [];
  const result = await applyEdit({ ...ctx, signal, notice: (m) => notices.push(m) }, engine, target, original, edited, { start: save.start, watchMs: 5000 });
  const report = result.start?.report ? JSON.parse(redactRendered(result.start.report as never, renderJson(result.start.report))) : null;
  let whyText: string | null = null;
  if (result.start?.report) {
    const { renderReport } = await import('../report/render.js');
    whyText = renderReport(result.start.report, { color: false });
  }
  return {
    changed: result.changed,
    path: result.path,
    bytesBefore: result.bytesBefore,
    bytesAfter: result.bytesAfter,
    start: result.start ? { outcome: result.start.outcome, watchedMs: result.start.watchedMs } : null,
    report,
    whyText,
    notices,
    hash: contentHash(edited),
    command: portholeCommand(ctx, ref, ['edit', ref, path, ...(save.start ? ['--start'] : [])]),
  };
}
