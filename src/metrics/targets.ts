// Which containers to sample: every running one (one list call), or the ones named (resolved like docker does).
import type { EngineClient } from '../engine/types.js';
import { resolveContainers } from '../engine/resolve.js';
import type { StatsTarget } from './sampler.js';

const LIVE_STATES = new Set(['running', 'paused', 'restarting']);

export async function statsTargets(engine: EngineClient, refs: string[]): Promise<StatsTarget[]> {
  if (!refs.length) {
    const list = await engine.listContainers();
    return list
      .filter((c) => LIVE_STATES.has(c.state))
      .map((c) => ({ id: c.id, name: c.names[0] ?? c.id.slice(0, 12), running: true }));
  }
  const details = await resolveContainers(engine, refs);
  const seen = new Set<string>();
  const targets: StatsTarget[] = [];
  for (const d of details) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    const running = d.state.running || d.state.paused || d.state.restarting;
    targets.push({ id: d.id, name: d.name, running, pid: d.state.pid || undefined, state: d.state.status });
  }
  return targets;
}
