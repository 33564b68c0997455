// The containers list's live figures, on their own stream opened after the list is drawn (so they never hold it
// back): CPU and memory of every running container from `porthole stats --json --interval 2`, the CLI's own
// sampler, one for all rows (on the engine's host one read of each container's cgroup files per period, not one
// engine stream per row); and restart counts, which the engine's list does not carry, from inspect, asked only of
// the containers whose count can have moved since it was last read.
import type { ServerResponse } from 'node:http';
import type { Context } from '../context.js';
import type { ContainerState, ContainerSummary, EngineClient } from '../engine/types.js';
import { EngineUnavailable, PortholeError } from '../errors.js';
import { jsonLines, runCommand, shellCommand } from './data.js';
import { SECURITY_HEADERS } from './security.js';

/** Seconds between samples, as `porthole stats --interval` takes them. */
export const FIGURES_INTERVAL_S = '2';
const LIST_PERIOD_MS = 2000;
/** A running container's count is read again at most this often when nothing in the list says it moved. */
export const RECHECK_RUNNING_MS = 10_000;
const INSPECT_CONCURRENCY = 8;

export interface KnownCount {
  count: number;
  state: ContainerState;
  checkedAt: number;
}

/**
 * The containers to inspect now: new ones, those whose state changed since (a crash and its restart pass through
 * exited or restarting), those restarting now, and running ones not read for RECHECK_RUNNING_MS (a restart after
 * the policy's 100 ms back-off can happen between two lists). An exited or created container's count moves only
 * through a state change, so it is read once.
 */
export function dueForInspect(known: Map<string, KnownCount>, list: Pick<ContainerSummary, 'id' | 'state'>[], nowMs: number): string[] {
  return list
    .filter((c) => {
      const k = known.get(c.id);
      if (!k || k.state !== c.state || c.state === 'restarting') return true;
      return (c.state === 'running' || c.state === 'paused') && nowMs - k.checkedAt >= RECHECK_RUNNING_MS;
    })
    .map((c) => c.id);
}

/** Restart counts by container id: each call answers the ones that are new or changed since the last call. */
export class RestartCounts {
  readonly known = new Map<string, KnownCount>();
  constructor(private readonly engine: EngineClient) {}

  async update(list: ContainerSummary[], nowMs = Date.now()): Promise<Record<string, number>> {
    const due = dueForInspect(this.known, list, nowMs);
    const state = new Map(list.map((c) => [c.id, c.state]));
    const changed: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const id = due[next++]!;
        try {
          const details = await this.engine.inspectContainer(id);
          const before = this.known.get(id);
          this.known.set(id, { count: details.restartCount, state: state.get(id)!, checkedAt: nowMs });
          if (before?.count !== details.restartCount) changed[id] = details.restartCount;
        } catch (err) {
          // removed meanwhile: it leaves the list next time; a lost engine ends the stream
          if (err instanceof EngineUnavailable) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, due.length) }, worker));
    for (const id of [...this.known.keys()]) if (!state.has(id)) this.known.delete(id);
    return changed;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * GET /api/containers/figures (Server-Sent Events): `restarts` {id: count} (all first, then the ones that moved),
 * `sample` {t, rows: [{id, cpuPercent, memoryBytes, memoryLimitBytes}]} every FIGURES_INTERVAL_S seconds.
 */
export async function figuresStream(ctx: Context, res: ServerResponse, request: AbortSignal): Promise<void> {
  const engine = await ctx.engine();
  // a failure of either half ends both: the page shows the sentence and keeps the list
  const stop = new AbortController();
  const signal = stop.signal;
  request.addEventListener('abort', () => stop.abort(), { once: true });
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
  const send = (event: string, data: unknown) => {
    if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const fail = (err: unknown) => {
    if (signal.aborted) return;
    stop.abort();
    send('failed', err instanceof PortholeError ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : `unexpected error: ${(err as Error)?.message ?? String(err)}`);
  };
  send('command', shellCommand(['porthole', 'stats', '--interval', FIGURES_INTERVAL_S]));

  const samples = jsonLines((value) => {
    const rows = value as { id: string; cpuPercent: number; memoryBytes: number; memoryLimitBytes: number }[];
    send('sample', { t: Date.now(), rows: rows.map((r) => ({ id: r.id, cpuPercent: r.cpuPercent, memoryBytes: r.memoryBytes, memoryLimitBytes: r.memoryLimitBytes })) });
  });
  // every running container, one sampler, the CLI's `stats --watch --json` loop; without the Kubernetes flags the
  // ui may have been given (`porthole -n shop ui`), with which a bare `stats` would sample that namespace's pods
  const sampling = runCommand({ ...ctx, kube: undefined }, 'stats', ['--json', '--interval', FIGURES_INTERVAL_S], { stdout: samples, signal }).catch(fail);

  const counts = new RestartCounts(engine);
  let first = true;
  try {
    while (!signal.aborted) {
      const changed = await counts.update(await engine.listContainers({ all: true }));
      if (signal.aborted) break;
      if (first || Object.keys(changed).length) send('restarts', changed);
      first = false;
      await sleep(LIST_PERIOD_MS, signal);
    }
  } catch (err) {
    fail(err);
  } finally {
    await sampling;
    res.end();
  }
}
