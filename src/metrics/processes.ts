// One container's processes with live CPU for `top`: the tree comes from src/procs (the same rows `porthole ps`
// prints); CPU over each refresh is the difference of each process's CPU ticks between two readings.
import type { EngineClient } from '../engine/types.js';
import { EngineUnavailable } from '../errors.js';
import {
  ENGINE_TOP_PS_ARGS,
  ProcessTable,
  TICKS_PER_SECOND,
  containerRows,
  containerTree,
  cpuPercentBetween,
  engineTopRows,
  hasHostView,
  parseEngineTop,
  type ProcessRow,
} from '../procs/index.js';
import type { ProcessLine } from '../tui/top-view.js';

export interface ProcessSample {
  view: 'host' | 'engine';
  lines: ProcessLine[];
  /** Set when the container is not running (any more). */
  gone?: string;
}

function line(row: ProcessRow, prefix: string, live: number | null): ProcessLine {
  return {
    pid: row.pid,
    hostPid: row.hostPid,
    user: row.user,
    liveCpuPercent: live,
    lifetimeCpuPercent: row.cpuPercent,
    rssBytes: row.rssBytes,
    stat: row.stat,
    prefix,
    command: row.command,
    ...(row.argvBytes ? { argvBytes: row.argvBytes } : {}),
    role: row.role,
  };
}

export class ProcessSampler {
  private readonly engine: EngineClient;
  private readonly id: string;
  private readonly name: string;
  private pid: number | undefined;
  private readonly previous = new Map<string, { ticks: number; atMs: number }>();

  constructor(engine: EngineClient, container: { id: string; name: string }) {
    this.engine = engine;
    this.id = container.id;
    this.name = container.name;
  }

  /** The container's main process as the engine reports it; undefined when it is not running. */
  private async initPid(refresh: boolean): Promise<number | undefined> {
    if (this.pid !== undefined && !refresh) return this.pid;
    try {
      const details = await this.engine.inspectContainer(this.id);
      this.pid = details.state.running && details.state.pid > 0 ? details.state.pid : undefined;
    } catch (err) {
      if (err instanceof EngineUnavailable) throw err;
      this.pid = undefined;
    }
    return this.pid;
  }

  async sample(): Promise<ProcessSample> {
    for (const refresh of [false, true]) {
      const pid = await this.initPid(refresh);
      if (pid === undefined) return { view: 'host', lines: [], gone: `${this.name} is not running.` };
      if (!ProcessTable.available()) break;
      const table = ProcessTable.readAround([pid]);
      if (!hasHostView(table, this.id, pid)) continue; // restarted (new PID), or not visible from here
      const tree = containerTree(table, this.id, pid);
      if (!tree) continue;
      const { rows, prefixes } = containerRows(this.name, tree);
      const seen = new Set<string>();
      const lines = rows.map((row, i) => {
        // Keyed by PID and start time, so a reused PID never inherits another process's ticks.
        const key = `${row.hostPid}:${row.startTime}`;
        seen.add(key);
        const ticks = table.process(row.hostPid)?.cpuTicks;
        const before = this.previous.get(key);
        let live: number | null = null;
        if (ticks !== undefined) {
          if (before) live = cpuPercentBetween(before.ticks, ticks, table.readAtMs - before.atMs, TICKS_PER_SECOND);
          this.previous.set(key, { ticks, atMs: table.readAtMs });
        }
        return line(row, prefixes[i] ?? '', live);
      });
      for (const key of [...this.previous.keys()]) if (!seen.has(key)) this.previous.delete(key);
      return { view: 'host', lines };
    }
    // No host view (a remote engine, or porthole in another PID namespace): the engine's top, as `ps` does.
    const pid = this.pid ?? 0;
    try {
      const top = parseEngineTop(await this.engine.top(this.id, ENGINE_TOP_PS_ARGS), Date.now());
      const { rows, prefixes } = engineTopRows(this.name, this.id, pid, top);
      return { view: 'engine', lines: rows.map((row, i) => line(row, prefixes[i] ?? '', null)) };
    } catch (err) {
      if (err instanceof EngineUnavailable) throw err;
      return { view: 'engine', lines: [], gone: `${this.name} is not running.` };
    }
  }
}
