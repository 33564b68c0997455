// The page's Swarm side: when the ui's Docker engine is a swarm manager, its services as list rows (tasks running
// out of wanted, the last failure in the engine's words). Any other engine (not in a swarm, a worker, an engine
// without swarms) answers an empty list, never an error.
import type { EngineClient, SwarmService, SwarmTask } from '../engine/types.js';
import { parseTarget } from '../engine/target.js';
import { InvalidArgument } from '../errors.js';

export interface ServiceRow {
  /** What the page puts in its URLs: `service/NAME`, checked again by serviceRef on the way back. */
  ref: string;
  name: string;
  image: string;
  mode: string;
  running: number;
  wanted: number | null;
  /** The newest failed task's error ("task: non-zero exit (3)"), when one failed. */
  reason: string | null;
  crashed: boolean;
}

/** `service/NAME` from a URL, parsed as the CLI parses it: a whole service (no slot, no node), nothing else. */
export function serviceRef(value: string): string {
  const m = /^service\/([A-Za-z0-9][A-Za-z0-9_.-]{0,62})$/.exec(value);
  if (!m) throw new InvalidArgument('That is not a service name.');
  let ref;
  try {
    ref = parseTarget(value);
  } catch {
    throw new InvalidArgument('That is not a service name.');
  }
  if (ref.engine !== 'swarm' || ref.name.kind !== 'service' || ref.name.service !== m[1] || ref.name.slot !== undefined) throw new InvalidArgument('That is not a service name.');
  return value;
}

export function serviceRows(services: SwarmService[], tasks: SwarmTask[]): ServiceRow[] {
  const rows = services.map((s): ServiceRow => {
    const mine = tasks.filter((t) => t.serviceId === s.id);
    const failed = mine.filter((t) => t.state === 'failed' || t.state === 'rejected').sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    const running = mine.filter((t) => t.state === 'running').length;
    return {
      ref: `service/${s.name}`,
      name: s.name,
      image: s.image.replace(/@sha256:[0-9a-f]{64}$/, ''),
      mode: s.mode,
      running,
      wanted: s.replicas ?? null,
      reason: failed[0] ? failed[0].err || failed[0].message : null,
      crashed: failed.length > 0 && (s.replicas === undefined || running < s.replicas),
    };
  });
  return rows.sort((a, b) => Number(b.crashed) - Number(a.crashed) || a.name.localeCompare(b.name));
}

export async function listServiceRows(engine: EngineClient): Promise<ServiceRow[]> {
  if (!engine.swarm) return [];
  try {
    const [services, tasks] = await Promise.all([engine.swarm.listServices(), engine.swarm.listTasks()]);
    return serviceRows(services, tasks);
  } catch {
    return []; // not a manager, or not in a swarm
  }
}
