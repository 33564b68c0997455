// The only way commands get an engine: discovery picks the endpoint, the adapter for it speaks the wire.
import type { EngineClient } from './types.js';
import { discover, type DiscoveryInput } from './docker/discovery.js';
import { DockerEngine } from './docker/client.js';
import { withImageTargets } from './images/target.js';

export type { EngineClient } from './types.js';

export async function connectEngine(input: DiscoveryInput): Promise<EngineClient> {
  // Docker and Podman's compat API share one adapter; a second engine kind would be chosen here.
  // image ids answer the file methods too, for `ls IMAGE` and the like (engine/images/target.ts)
  return withImageTargets(new DockerEngine(await discover(input)));
}

/** An engine at a known endpoint (a swarm node's, found by engine/swarm/reach.ts). */
export function engineAt(endpoint: import('./endpoint.js').Endpoint): EngineClient {
  return new DockerEngine(endpoint);
}
