// A service's logs through its manager (/services/{id}/logs with details): every line with the task and node it
// came from, in porthole's types. The manager needs no access to the nodes; a node that is down or a removed
// task's logs come back as an error frame ("incomplete log stream"), given here as a gap, not a failure.
import type { Readable } from 'node:stream';
import type { LogOptions, SwarmManagerApi, SwarmNode, SwarmService, SwarmTask } from '../types.js';

export interface ServiceLogLine {
  /** RFC 3339 with nanoseconds, as the engine wrote it. */
  time: string;
  stream: 'stdout' | 'stderr';
  taskId: string;
  /** web.2, or web@node for a global service's task; the task id when the manager has forgotten the task. */
  taskName: string;
  node: string;
  /** The line's bytes, newline included. */
  message: Buffer;
}

export type ServiceLogEvent = { line: ServiceLogLine } | { gap: string };

/** Docker's multiplexed frames one by one (kind 1 stdout, 2 stderr, 3 error). */
export async function* frames(stream: Readable): AsyncGenerator<{ kind: number; payload: Buffer }> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      yield { kind: pending[0]!, payload: pending.subarray(8, 8 + size) };
      pending = pending.subarray(8 + size);
    }
  }
}

/** "TIME com.docker.swarm.node.id=N,com.docker.swarm.service.id=S,com.docker.swarm.task.id=T MESSAGE" */
export function parseDetailedLine(payload: Buffer): { time: string; details: Record<string, string>; message: Buffer } {
  const firstSpace = payload.indexOf(32);
  if (firstSpace < 0) return { time: '', details: {}, message: payload };
  const time = payload.subarray(0, firstSpace).toString('latin1');
  let rest = payload.subarray(firstSpace + 1);
  const details: Record<string, string> = {};
  if (rest.subarray(0, 17).toString('latin1') === 'com.docker.swarm.') {
    const end = rest.indexOf(32);
    const text = (end < 0 ? rest : rest.subarray(0, end)).toString('utf8');
    for (const pair of text.split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) details[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    rest = end < 0 ? Buffer.alloc(0) : rest.subarray(end + 1);
  }
  return { time, details, message: rest };
}

export async function* serviceLogs(
  api: SwarmManagerApi,
  service: SwarmService,
  tasks: SwarmTask[],
  nodes: SwarmNode[],
  opts: LogOptions,
  signal?: AbortSignal,
): AsyncGenerator<ServiceLogEvent> {
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const stream = await api.serviceLogs(service.id, opts);
  // a follow waits in a read: closing the stream is what ends it on Ctrl-C
  const stop = () => stream.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const { kind, payload } of frames(stream)) {
      if (kind === 3) {
        // the engine names nodes by id: say their hostnames
        let gap = payload.toString('utf8').trim();
        for (const [id, n] of nodeById) if (n.hostname) gap = gap.split(id).join(n.hostname);
        yield { gap };
        continue;
      }
      const { time, details, message } = parseDetailedLine(payload);
      const taskId = details['com.docker.swarm.task.id'] ?? '';
      const nodeId = details['com.docker.swarm.node.id'] ?? '';
      const task = taskById.get(taskId);
      const node = nodeById.get(nodeId)?.hostname ?? nodeId.slice(0, 12);
      const taskName = task?.slot !== undefined ? `${service.name}.${task.slot}` : task ? `${service.name}@${node}` : taskId.slice(0, 12);
      yield { line: { time, stream: kind === 2 ? 'stderr' : 'stdout', taskId, taskName, node, message } };
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    stream.destroy();
  }
}
