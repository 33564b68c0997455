// Which containers to sample: every running one, or the ones named. Either way one list call: names are matched
// against the list the way the engine resolves them (full id, then name, then unique id prefix), and only a
// reference the list cannot settle (unknown, ambiguous) goes to resolveContainer for its error or its answer.
import type { ContainerState, ContainerSummary, EngineClient } from '../engine/types.js';
import { resolveContainer, resolveReplicas } from '../engine/resolve.js';
import { nameScope } from '../engine/compose/scope.js';
import { projectListOptions } from '../engine/compose/services.js';
import type { StatsTarget } from './sampler.js';

const LIVE_STATES = new Set<ContainerState>(['running', 'paused', 'restarting']);

/** The container a reference names in a list, as the engine decides it; undefined when the list cannot tell. */
export function matchReference(list: ContainerSummary[], ref: string): ContainerSummary | undefined {
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const byId = list.find((c) => c.id === ref);
  if (byId) return byId;
  const byName = list.find((c) => c.names.includes(name));
  if (byName) return byName;
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const prefixed = list.filter((c) => c.id.startsWith(ref));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function target(c: ContainerSummary): StatsTarget {
  return { id: c.id, name: c.names[0] ?? c.id.slice(0, 12), running: LIVE_STATES.has(c.state), state: c.state };
}

export async function statsTargets(engine: EngineClient, refs: string[]): Promise<StatsTarget[]> {
  if (!refs.length) return (await engine.listContainers(projectListOptions(nameScope()))).filter((c) => LIVE_STATES.has(c.state)).map(target);
  const list = await engine.listContainers({ all: true });
  const resolved = await Promise.all(
    refs.map(async (ref): Promise<StatsTarget | StatsTarget[]> => {
      const found = matchReference(list, ref);
      if (found) return target(found);
      // a Compose service with several replicas: all of them
      const replicas = await resolveReplicas(engine, ref);
      if (replicas) return replicas.map((d) => ({ id: d.id, name: d.name, running: d.state.running || d.state.paused || d.state.restarting, pid: d.state.pid || undefined, state: d.state.status }));
      const d = await resolveContainer(engine, ref); // throws NotFound / Ambiguous with the sentence
      const running = d.state.running || d.state.paused || d.state.restarting;
      return { id: d.id, name: d.name, running, pid: d.state.pid || undefined, state: d.state.status };
    }),
  );
  const seen = new Set<string>();
  return resolved.flat().filter((t) => !seen.has(t.id) && !!seen.add(t.id));
}
