// A container is reachable only through its own node's engine (Docker has no `service exec`): this finds the
// way to each node, in this order: porthole's mapping (PORTHOLE_SWARM_NODES, then ~/.config/porthole/nodes.json,
// `{ "hostname": "unix:///... | tcp://... | ssh://..." }`), a docker context named like the node,
// ssh://<node address> (the user's ssh config applies), tcp://<node address>:2376 with the TLS settings in force.
// Each way either answers a ping or says why it was not used. The address guesses are tried only for a node that
// has no configured way: a configured way that fails is the answer (quickly), not a reason to guess.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../endpoint.js';
import type { EngineClient, SwarmNode } from '../types.js';
import { loadContext, normalizeHost, tlsFromEnv } from '../docker/discovery.js';
import { engineAt } from '../index.js';
import { EngineUnavailable, InvalidArgument, PortholeError } from '../../errors.js';

export interface NodeWay {
  way: string;
  endpoint?: Endpoint;
  /** Why this way was not taken (no entry, no context, did not answer). */
  reason?: string;
  /** Set up by the user (mapping, context), not guessed from the node's address. */
  chosen?: boolean;
}

export function mappingFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'porthole', 'nodes.json');
}

function readMapping(text: string, where: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`${where} is not JSON: ${(err as Error).message}.`, 'It maps node names to endpoints: {"node-1": "ssh://node-1"}.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgument(`${where} must be a JSON object of node name -> endpoint.`);
  }
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** The user's node -> endpoint mapping: the variable wins over the file. */
export function nodeMapping(env: NodeJS.ProcessEnv): { map: Record<string, string>; where: string } {
  if (env.PORTHOLE_SWARM_NODES) return { map: readMapping(env.PORTHOLE_SWARM_NODES, 'PORTHOLE_SWARM_NODES'), where: 'PORTHOLE_SWARM_NODES' };
  const file = mappingFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { map: {}, where: file };
  }
  return { map: readMapping(text, file), where: file };
}

/** The user's mapping entry for the node, or why there is none. */
function mappedWay(node: SwarmNode, env: NodeJS.ProcessEnv): NodeWay {
  const { map, where } = nodeMapping(env);
  const mapped = map[node.hostname] ?? map[node.id];
  return mapped
    ? { way: where, chosen: true, endpoint: { host: normalizeHost(mapped), via: `${where} entry "${node.hostname}"`, skipped: [] } }
    : { way: where, reason: `no entry for "${node.hostname}"` };
}

/** Every way to the node's engine, in order; ways that cannot apply carry their reason. */
export async function nodeWays(node: SwarmNode, env: NodeJS.ProcessEnv): Promise<NodeWay[]> {
  const ways: NodeWay[] = [mappedWay(node, env)];
  try {
    const found = await loadContext(node.hostname, env);
    ways.push({ way: `docker context "${node.hostname}"`, chosen: true, endpoint: { ...found, skipped: [] } });
  } catch (err) {
    ways.push({ way: `docker context "${node.hostname}"`, reason: (err as Error).message.replace(/\.$/, '') });
  }
  if (node.addr) {
    ways.push({ way: `ssh://${node.addr}`, endpoint: { host: `ssh://${node.addr}`, via: `ssh to the node's address`, skipped: [] } });
    ways.push({ way: `tcp://${node.addr}:2376`, endpoint: { host: `tcp://${node.addr}:2376`, tls: tlsFromEnv(env), via: "the node's address, port 2376", skipped: [] } });
  } else {
    ways.push({ way: 'ssh/tcp to the node address', reason: 'the manager knows no address for it' });
  }
  return ways;
}

const PING_MS = 4000;

/**
 * The first way that answers; EngineUnavailable naming the node and how to configure it otherwise. `first` is the
 * caller's first request, which doubles as the check that the engine answers (no extra ping on the way); without
 * it, a ping. An answer that is an engine error (no such container, ...) is an answer: it is thrown as it is.
 */
export async function connectNode<T = string>(
  node: SwarmNode,
  env: NodeJS.ProcessEnv,
  first?: (engine: EngineClient) => Promise<T>,
): Promise<{ engine: EngineClient; ways: NodeWay[]; answer: T }> {
  const ask = first ?? ((engine: EngineClient) => engine.apiVersion({ fresh: true }) as Promise<T>);
  /** The way's engine and its answer; undefined (the reason noted on the way) when it does not answer. */
  const attempt = async (way: NodeWay & { endpoint: Endpoint }) => {
    const engine = engineAt({ ...way.endpoint, node: node.hostname });
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        ask(engine),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new EngineUnavailable(`no answer within ${PING_MS / 1000} s`)), PING_MS); }),
      ]);
      return { engine, answer };
    } catch (err) {
      // an engine's own answer (no such container, ...) from a way the user set up is the answer; from a guessed
      // address (ssh/tcp), anything but the engine we want (a web server answering 404) means not this way
      engine.close();
      if (first && way.chosen && !(err instanceof EngineUnavailable) && err instanceof PortholeError) throw err;
      way.reason = `did not answer: ${(err as Error).message.replace(/\.$/, '')}`;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };
  // the mapping alone first: when it answers, nothing else is looked at (a context lookup loads node:crypto)
  const mapped = mappedWay(node, env);
  if (mapped.endpoint) {
    const reached = await attempt(mapped as NodeWay & { endpoint: Endpoint });
    if (reached) return { ...reached, ways: [mapped] };
  }
  const ways = await nodeWays(node, env);
  ways[0] = mapped;
  // a way the user set up (mapping, context) is the way: when it fails, guessing at the node's address would only
  // add ssh's and tcp's waits (seconds each) before saying so
  const configured = ways.some((w) => w.chosen && w.endpoint);
  for (const way of ways.slice(1)) {
    if (!way.endpoint) continue;
    if (configured && !way.chosen) {
      way.reason = 'not tried: the way configured for this node comes first and is the one used';
      continue;
    }
    const reached = await attempt(way as NodeWay & { endpoint: Endpoint });
    if (reached) return { ...reached, ways };
  }
  throw new EngineUnavailable(
    `Node ${node.hostname}'s engine cannot be reached (${(configured ? ways.filter((w) => w.chosen && w.endpoint) : ways).map((w) => `${w.way}: ${w.reason}`).join('; ')}).`,
    `Map it in PORTHOLE_SWARM_NODES or ${mappingFile(env)}: {"${node.hostname}": "ssh://HOST"}, or make a docker context named ${node.hostname}.`,
  );
}
