// Naming containers the way docker does: a full id, a name, or a unique id prefix. A name that matches no
// container may be a Compose service of the project in force (compose/services.ts) and, for the commands that read
// images, an image (images/target.ts): resolved here, once, so every command gets the same names.
import type { ContainerDetails, EngineClient } from './types.js';
import { Ambiguous, EngineError, InvalidArgument, NotFound, Unsupported } from '../errors.js';
import { isKubeName } from './target.js';
import { nameScope } from './compose/scope.js';
import { chooseReplica, findService, projectsWithService } from './compose/services.js';
import { currentProject } from './compose/project.js';
import { findImageTarget } from './images/target.js';

export async function resolveContainer(engine: EngineClient, ref: string): Promise<ContainerDetails> {
  if (isKubeName(ref)) {
    throw new Unsupported(`"${ref.replace(/[\x00-\x1f\x7f]/g, '?')}" is a Kubernetes object, and this command works on Docker containers only for now.`, 'For pods, `porthole why`, `logs`, `shell`, `cat`, `ls`, `find`, `grep`, `cp`, `ps` and `stats` work.');
  }
  if (!ref || /[\x00-\x1f\x7f]/.test(ref)) throw new InvalidArgument(`"${ref.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a container name or id.`);
  if (/\//.test(ref.replace(/^\//, '')) && !nameScope().images && !nameScope().forceImage) {
    throw new InvalidArgument(`"${ref}" is neither a container name nor a Kubernetes object.`, 'Use a container name, or pod/NAME[/CONTAINER], deploy/NAME, sts/NAME, ds/NAME or job/NAME.');
  }
  const scope = nameScope();
  if (scope.forceImage) {
    const image = await findImageTarget(engine, ref, scope);
    if (image) return image;
    throw new NotFound(`No such image: ${ref}.`, 'List images with `docker images`.');
  }
  // An image reference (repo/name:tag) holds a slash: never a container's name.
  if (/\//.test(ref.replace(/^\//, ''))) return imageOrNotFound(engine, ref);
  let found: ContainerDetails | undefined;
  let ambiguous: EngineError | undefined;
  try {
    found = await engine.inspectContainer(ref);
  } catch (err) {
    if (err instanceof EngineError && /multiple (ids|containers) found/i.test(err.message)) ambiguous = err;
    else if (!(err instanceof NotFound)) throw err;
  }
  // An exact name or full id always wins; a hex word that only prefixes an id gives way to a service of that name.
  if (found && (found.name === ref.replace(/^\//, '') || found.id === ref || !/^[0-9a-f]+$/.test(ref))) return withoutIndex(found, ref);
  const service = await findService(engine, ref, scope);
  if (service) {
    const { container, notice } = chooseReplica(service);
    if (notice) scope.notice(notice);
    return engine.inspectContainer(container.id);
  }
  if (found) return withoutIndex(found, ref);
  if (ambiguous) {
    const all = await engine.listContainers({ all: true });
    const matches = all.filter((c) => c.id.startsWith(ref.toLowerCase()));
    const described = matches.map((c) => `${c.id.slice(0, 12)} (${c.names[0] ?? 'unnamed'})`);
    throw new Ambiguous(
      `"${ref}" matches ${matches.length || 'several'} containers: ${described.join(', ')}.`,
      described,
      'Give more characters of the id, or the name.',
    );
  }
  return imageOrNotFound(engine, ref);
}

/** --index names a replica of a service: given with a container's own name, it would be silently ignored. */
function withoutIndex(found: ContainerDetails, ref: string): ContainerDetails {
  // by id: porthole's own second look at a container it resolved (enter/docker.ts), never the user's name
  if (nameScope().index !== undefined && found.name === ref.replace(/^\//, '')) {
    throw new InvalidArgument(`--index picks a replica of a Compose service, and ${found.name} is a container.`, 'Leave out --index, or name the service.');
  }
  return found;
}

async function imageOrNotFound(engine: EngineClient, ref: string): Promise<ContainerDetails> {
  const scope = nameScope();
  if (scope.images) {
    const image = await findImageTarget(engine, ref, scope);
    if (image) return image;
  }
  const projects = await projectsWithService(engine, ref).catch(() => []);
  if (projects.length) {
    const p = projects[0]!;
    throw new NotFound(
      `No such container: ${ref}, and no such service in ${describeProject()}.`,
      `Compose project${projects.length > 1 ? 's' : ''} ${projects.join(', ')} ${projects.length > 1 ? 'have' : 'has'} it: give --project ${p}, set COMPOSE_PROJECT_NAME=${p}, or run porthole in that project's folder.`,
    );
  }
  if (scope.images) throw new NotFound(`No such container or image: ${ref}.`, 'List them with `docker ps -a` and `docker images`.');
  throw new NotFound(`No such container: ${ref}.`, 'List containers with `docker ps -a`.');
}

function describeProject(): string {
  try {
    const scope = nameScope();
    const project = currentProject({ flag: scope.project, env: scope.env, cwd: scope.cwd });
    return project ? `Compose project ${project.name}` : 'any Compose project here (no -p, no COMPOSE_PROJECT_NAME, no compose file in this folder or above)';
  } catch {
    return 'the Compose project';
  }
}

/**
 * Resolves several references, keeping their order and failing on the first bad one; a Compose service with
 * several replicas stands for all of them.
 */
export async function resolveContainers(engine: EngineClient, refs: string[]): Promise<ContainerDetails[]> {
  const each = await Promise.all(refs.map(async (r) => (await resolveReplicas(engine, r)) ?? [await resolveContainer(engine, r)]));
  return each.flat();
}

/**
 * Every replica a name stands for when it names a Compose service with several and no replica number: for the
 * commands that show them all (logs). undefined for anything else, which resolveContainer then resolves.
 */
export async function resolveReplicas(engine: EngineClient, ref: string): Promise<ContainerDetails[] | undefined> {
  const scope = nameScope();
  if (scope.forceImage || !ref || /[\x00-\x1f\x7f/]/.test(ref)) return undefined;
  const exact = await engine.inspectContainer(ref).catch(() => undefined);
  if (exact && (exact.name === ref || exact.id === ref || !/^[0-9a-f]+$/.test(ref))) return undefined;
  const service = await findService(engine, ref, scope);
  if (!service || service.number !== undefined || service.replicas.length < 2) return undefined;
  return Promise.all(service.replicas.map((c) => engine.inspectContainer(c.id)));
}
