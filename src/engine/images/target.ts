import type { ContainerDetails, EngineClient } from '../types.js';
import type { NameScope } from '../compose/scope.js';

export async function findImageTarget(_engine: EngineClient, _ref: string, _scope: NameScope): Promise<ContainerDetails | undefined> {
  return undefined;
}
