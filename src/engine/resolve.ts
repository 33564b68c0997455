// Naming containers the way docker does: a full id, a name, or a unique id prefix.
import type { ContainerDetails, EngineClient } from './types.js';
import { Ambiguous, EngineError, InvalidArgument, NotFound, Unsupported } from '../errors.js';
import { isKubeName } from './target.js';

export async function resolveContainer(engine: EngineClient, ref: string): Promise<ContainerDetails> {
  if (isKubeName(ref)) {
    throw new Unsupported(`"${ref.replace(/[\x00-\x1f\x7f]/g, '?')}" is a Kubernetes object, and this command works on Docker containers only for now.`, 'For pods, `porthole why`, `logs`, `shell`, `cat`, `ls`, `find`, `grep`, `ps` and `stats` work.');
  }
  if (!ref || /[\x00-\x1f\x7f/]/.test(ref.replace(/^\//, ''))) {
    throw new InvalidArgument(`"${ref.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a container name or id.`);
  }
  try {
    return await engine.inspectContainer(ref);
  } catch (err) {
    if (err instanceof NotFound) {
      throw new NotFound(`No such container: ${ref}.`, 'List containers with `docker ps -a`.');
    }
    // The engine refuses an id prefix that matches several containers; list them so the user can pick.
    if (err instanceof EngineError && /multiple (ids|containers) found/i.test(err.message)) {
      const all = await engine.listContainers({ all: true });
      const matches = all.filter((c) => c.id.startsWith(ref.toLowerCase()));
      const described = matches.map((c) => `${c.id.slice(0, 12)} (${c.names[0] ?? 'unnamed'})`);
      throw new Ambiguous(
        `"${ref}" matches ${matches.length || 'several'} containers: ${described.join(', ')}.`,
        described,
        'Give more characters of the id, or the name.',
      );
    }
    throw err;
  }
}

/** Resolves several references, keeping their order and failing on the first bad one. */
export async function resolveContainers(engine: EngineClient, refs: string[]): Promise<ContainerDetails[]> {
  return Promise.all(refs.map((r) => resolveContainer(engine, r)));
}
