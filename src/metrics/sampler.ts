// Samples many containers at once. On the engine's host: the cgroup files of every container, CPU read twice
// across ONE short window shared by all. Elsewhere (or when a container's cgroup is not visible from here): the
// engine's one-shot stats for every container concurrently, twice across the same window. When sampling again
// (--watch, top), the previous sample starts the window, so a refresh costs no waiting.
import { readdirSync, readFileSync } from 'node:fs';
import type { EngineClient } from '../engine/types.js';
import { EngineUnavailable } from '../errors.js';
import { cpuPercent, engineCpuPercent, parseEngineStats, type EngineSample } from './calc.js';
import {
  cgroupAt,
  cgroupPathFromProc,
  findContainerCgroup,
  hostLayout,
  hostMemory,
  readCpuNs,
  readFigures,
  readNetwork,
  type ContainerCgroup,
} from './cgroup.js';
import type { StatsRow, StatsSource } from './types.js';

export interface StatsTarget {
  id: string;
  name: string;
  running: boolean;
  /** The container's main process on the engine's host, when known (from inspect): finds unusual cgroup paths. */
  pid?: number;
  /** Why it has no figures, for a container that is not running ("exited", "paused"...). */
  state?: string;
}

export interface SamplerOptions {
  /** Use the engine's stats endpoint even where the cgroup files are readable. */
  source?: StatsSource | 'auto';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Whether API version a is at least b ("1.41" >= "1.40"). */
export function apiAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d > 0;
  }
  return true;
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export class StatsSampler {
  private readonly engine: EngineClient;
  private readonly source: StatsSource | 'auto';
  private readonly cgroups = new Map<string, ContainerCgroup | null>();
  /** Each host container's last CPU reading; `first` while no figures were computed from it yet. */
  private readonly lastCpu = new Map<string, { cpuNs: number; atNs: number; first: boolean }>();
  private readonly lastEngine = new Map<string, EngineSample>();
  private oneShot: Promise<boolean> | undefined;

  constructor(engine: EngineClient, opts: SamplerOptions = {}) {
    this.engine = engine;
    this.source = opts.source ?? 'auto';
  }

  /** The container's cgroup on this host, or null when its figures must come from the engine. */
  private cgroupOf(target: StatsTarget): ContainerCgroup | null {
    if (this.source === 'engine') return null;
    const cached = this.cgroups.get(target.id);
    if (cached !== undefined) return cached;
    const layout = hostLayout();
    let found: ContainerCgroup | undefined;
    if (layout) {
      found = findContainerCgroup(layout, target.id);
      if (!found && target.pid) {
        // A custom --cgroup-parent or a nested engine: ask the container's own process where it lives.
        try {
          const text = readFileSync(`/proc/${target.pid}/cgroup`, 'utf8');
          const path = cgroupPathFromProc(text, layout.version);
          if (path && path.includes(target.id)) found = cgroupAt(layout, path);
        } catch {
          // not on this host, or not visible from here
        }
      }
    }
    this.cgroups.set(target.id, found ?? null);
    return found ?? null;
  }

  /**
   * Takes the first CPU reading of every container cgroup found under the engine's usual folders, before the
   * engine has even answered which containers run: the sampling window then overlaps that round trip.
   */
  prime(): void {
    if (this.source === 'engine') return;
    const layout = hostLayout();
    if (!layout) return;
    const root = layout.version === 1 ? layout.v1.cpuacct : layout.v2;
    if (!root || root.root !== '/') return;
    for (const [parent, pattern] of [
      ['/docker', /^([0-9a-f]{64})$/],
      ['/system.slice', /^docker-([0-9a-f]{64})\.scope$/],
    ] as const) {
      let entries: string[];
      try {
        entries = readdirSync(`${root.mountPoint}${parent}`);
      } catch {
        continue;
      }
      for (const entry of entries) {
        const id = pattern.exec(entry)?.[1];
        if (!id || this.lastCpu.has(id)) continue;
        const cg = cgroupAt(layout, `${parent}/${entry}`);
        if (!cg) continue;
        this.cgroups.set(id, cg);
        this.lastCpu.set(id, { cpuNs: readCpuNs(cg), atNs: nowNs(), first: true });
      }
    }
  }

  /**
   * Containers whose cgroup is not where the engine usually puts it (a custom --cgroup-parent, a nested engine)
   * on an engine reached over a unix socket, so most likely on this host: their main PID from inspect lets
   * cgroupOf ask /proc/PID/cgroup. Costs nothing for the usual layouts.
   */
  private async findUnusualCgroups(targets: StatsTarget[]): Promise<void> {
    if (this.source === 'engine' || !this.engine.endpoint.host.startsWith('unix:')) return;
    const layout = hostLayout();
    if (!layout) return;
    const unusual = targets.filter((t) => !t.pid && !this.cgroups.has(t.id) && !findContainerCgroup(layout, t.id));
    await Promise.all(
      unusual.map(async (t) => {
        try {
          t.pid = (await this.engine.inspectContainer(t.id)).state.pid || undefined;
        } catch (err) {
          if (err instanceof EngineUnavailable) throw err;
        }
      }),
    );
  }

  private supportsOneShot(): Promise<boolean> {
    this.oneShot ??= this.engine.apiVersion().then((v) => apiAtLeast(v, '1.41'), () => false);
    return this.oneShot;
  }

  private async engineSample(id: string, oneShot: boolean): Promise<EngineSample | undefined> {
    try {
      return parseEngineStats(await this.engine.stats(id, { oneShot }));
    } catch (err) {
      // Removed or stopped meanwhile: the container drops out, as in docker stats. A lost engine is an error.
      if (err instanceof EngineUnavailable) throw err;
      return undefined;
    }
  }

  /**
   * Figures for every target. `windowMs` is the sampling window for targets seen for the first time; targets
   * sampled before measure from their previous sample instead.
   */
  async sample(targets: StatsTarget[], windowMs: number, signal?: AbortSignal): Promise<StatsRow[]> {
    const running = targets.filter((t) => t.running);
    await this.findUnusualCgroups(running);
    const host: { target: StatsTarget; cg: ContainerCgroup }[] = [];
    const remote: StatsTarget[] = [];
    for (const target of running) {
      const cg = this.cgroupOf(target);
      if (cg) host.push({ target, cg });
      else remote.push(target);
    }
    const oneShot = remote.length ? await this.supportsOneShot() : true;

    // First readings for whoever has none yet, then one shared wait.
    const freshRemote = remote.filter((t) => !this.lastEngine.has(t.id));
    // The wait: what is left of the window for the youngest first reading (none when all were sampled before).
    let windowStartNs = -Infinity;
    if (freshRemote.length && oneShot) {
      const first = await Promise.all(freshRemote.map((t) => this.engineSample(t.id, true)));
      freshRemote.forEach((t, i) => first[i] && this.lastEngine.set(t.id, first[i]!));
      windowStartNs = nowNs();
    }
    for (const { target, cg } of host) {
      const last = this.lastCpu.get(target.id);
      if (last) {
        if (last.first) windowStartNs = Math.max(windowStartNs, last.atNs);
        continue;
      }
      const atNs = nowNs();
      this.lastCpu.set(target.id, { cpuNs: readCpuNs(cg), atNs, first: true });
      windowStartNs = atNs;
    }
    if (windowStartNs > -Infinity) await sleep(windowMs - (nowNs() - windowStartNs) / 1e6, signal);

    const rows: StatsRow[] = [];
    const remoteRows = Promise.all(
      remote.map(async (target): Promise<StatsRow | undefined> => {
        const cur = await this.engineSample(target.id, oneShot);
        if (!cur) return undefined;
        const prev = this.lastEngine.get(target.id);
        this.lastEngine.set(target.id, cur);
        let cpu = 0;
        if (prev) cpu = engineCpuPercent(prev, cur);
        else if (cur.preCpuTotalNs !== undefined && cur.preSystemNs !== undefined) {
          // An engine without one-shot sampled twice itself: use its previous sample.
          cpu = engineCpuPercent({ cpuTotalNs: cur.preCpuTotalNs, systemNs: cur.preSystemNs, readAt: cur.readAt - 1000 }, cur);
        }
        return {
          name: target.name,
          id: target.id,
          cpuPercent: cpu,
          memoryBytes: cur.memoryBytes,
          memoryLimitBytes: cur.memoryLimitBytes,
          netRxBytes: cur.netRxBytes,
          netTxBytes: cur.netTxBytes,
          blockReadBytes: cur.blockReadBytes,
          blockWriteBytes: cur.blockWriteBytes,
          pids: cur.pids,
          source: 'engine',
        };
      }),
    );

    const machineMemory = hostMemory();
    for (const { target, cg } of host) {
      const cpuNs = readCpuNs(cg);
      const atNs = nowNs();
      const figures = readFigures(cg, machineMemory);
      const prev = this.lastCpu.get(target.id);
      if (!figures || !Number.isFinite(cpuNs)) {
        // Stopped or removed during the window.
        this.lastCpu.delete(target.id);
        this.cgroups.delete(target.id);
        continue;
      }
      this.lastCpu.set(target.id, { cpuNs, atNs, first: false });
      const net = readNetwork(figures.anyPid) ?? { rx: 0, tx: 0 };
      rows.push({
        name: target.name,
        id: target.id,
        cpuPercent: prev && Number.isFinite(prev.cpuNs) ? cpuPercent(prev.cpuNs, cpuNs, atNs - prev.atNs) : 0,
        memoryBytes: figures.memoryBytes,
        memoryLimitBytes: figures.memoryLimitBytes,
        netRxBytes: net.rx,
        netTxBytes: net.tx,
        blockReadBytes: figures.blockReadBytes,
        blockWriteBytes: figures.blockWriteBytes,
        pids: figures.pids,
        source: 'cgroup',
      });
    }
    for (const row of await remoteRows) if (row) rows.push(row);

    for (const target of targets) {
      if (target.running) continue;
      rows.push({
        name: target.name,
        id: target.id,
        cpuPercent: 0,
        memoryBytes: 0,
        memoryLimitBytes: 0,
        netRxBytes: 0,
        netTxBytes: 0,
        blockReadBytes: 0,
        blockWriteBytes: 0,
        pids: 0,
        source: 'engine',
        notRunning: target.state ?? 'not running',
      });
    }
    // Forget containers that went away, so a long --watch does not grow.
    const seen = new Set(targets.map((t) => t.id));
    for (const id of [...this.lastCpu.keys()]) if (!seen.has(id)) this.lastCpu.delete(id);
    for (const id of [...this.lastEngine.keys()]) if (!seen.has(id)) this.lastEngine.delete(id);
    for (const id of [...this.cgroups.keys()]) if (!seen.has(id)) this.cgroups.delete(id);
    return rows;
  }
}
