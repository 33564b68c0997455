// A Compose service by name: `web`, `web-2` (or `web_2`, Compose v1's spelling) or `web --index 2`, found through
// the labels Compose puts on every container it makes (com.docker.compose.project / .service /
// .container-number / .oneoff), in the project currently in force (project.ts). One-off `compose run` containers
// are left out: they are reached by their own name. Several replicas: the one in trouble first, and it is said.
import type { ContainerSummary, EngineClient } from '../types.js';
import { InvalidArgument, NotFound } from '../../errors.js';
import { currentProject, type ComposeProject } from './project.js';
import type { NameScope } from './scope.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';

export interface ServiceMatch {
  project: ComposeProject;
  service: string;
  /** Every replica of the service (one-offs left out), lowest number first. */
  replicas: ContainerSummary[];
  /** The replica asked for (web-2, --index 2), or undefined when the bare service was named. */
  number?: number;
}

export function replicaNumber(c: ContainerSummary): number {
  const n = Number(c.labels[NUMBER_LABEL]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function isOneOff(c: ContainerSummary): boolean {
  return (c.labels[ONEOFF_LABEL] ?? '').toLowerCase() === 'true';
}

/** How much trouble a replica is in, as its listing says: higher first. */
export function troubleRank(c: ContainerSummary): number {
  if (c.state === 'restarting') return 4;
  if (c.state === 'dead') return 3;
  const exited = /^Exited \((-?\d+)\)/.exec(c.status);
  if (c.state === 'exited' && exited && exited[1] !== '0') return 3;
  if (/\(unhealthy\)/.test(c.status)) return 2;
  if (c.state === 'running') return 0;
  return 1; // created, paused, exited 0
}

/** The replica to use when a service with several was named: the one in most trouble, else the lowest number. */
export function pickReplica(replicas: ContainerSummary[]): ContainerSummary {
  return [...replicas].sort((a, b) => troubleRank(b) - troubleRank(a) || replicaNumber(a) - replicaNumber(b))[0]!;
}

/** A few words on a replica's state for the sentence that names it: "exited with code 1", "restarting", "running". */
export function describeState(c: ContainerSummary): string {
  const exited = /^Exited \((-?\d+)\)/.exec(c.status);
  if (c.state === 'exited' && exited) return `exited with code ${exited[1]}`;
  if (/\(unhealthy\)/.test(c.status)) return 'running, unhealthy';
  return c.state;
}

/** `web-2` / `web_2` as service and number, when the text ends that way. */
function splitNumbered(ref: string): { service: string; number: number } | undefined {
  const m = /^(.+)[-_]([1-9]\d{0,5})$/.exec(ref);
  return m ? { service: m[1]!, number: Number(m[2]) } : undefined;
}

/**
 * The service `ref` names in the project in force, or undefined when no project is in force or it has no such
 * service. Asks the engine once (containers carrying the project's label).
 */
export async function findService(engine: EngineClient, ref: string, scope: NameScope): Promise<ServiceMatch | undefined> {
  const project = currentProject({ flag: scope.project, env: scope.env, cwd: scope.cwd });
  if (!project) return undefined;
  const all = (await engine.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project.name}`] } })).filter((c) => !isOneOff(c));
  const byService = (service: string) =>
    all.filter((c) => c.labels[SERVICE_LABEL] === service).sort((a, b) => replicaNumber(a) - replicaNumber(b));
  let service = ref;
  let replicas = byService(ref);
  let number = scope.index;
  const numbered = replicas.length ? undefined : splitNumbered(ref);
  if (numbered) {
    replicas = byService(numbered.service);
    if (replicas.length) {
      if (number !== undefined && number !== numbered.number) {
        throw new InvalidArgument(`"${ref}" names replica ${numbered.number}, and --index names ${number}.`, 'Give the replica once.');
      }
      service = numbered.service;
      number = numbered.number;
    }
  }
  if (!replicas.length) return undefined;
  return { project, service, replicas, number };
}

/** The one container a service match stands for (web-2, --index 2, or the replica picked), with the sentence to say. */
export function chooseReplica(match: ServiceMatch): { container: ContainerSummary; notice?: string } {
  const { replicas, number, service, project } = match;
  if (number !== undefined) {
    const wanted = replicas.find((c) => replicaNumber(c) === number);
    if (!wanted) {
      const have = replicas.map(replicaNumber).join(', ');
      throw new NotFound(`Service ${service} of Compose project ${project.name} has no replica ${number} (it has ${have}).`);
    }
    return { container: wanted };
  }
  if (replicas.length === 1) return { container: replicas[0]! };
  const chosen = pickReplica(replicas);
  const others = replicas.filter((c) => c !== chosen).map((c) => c.names[0] ?? c.id.slice(0, 12));
  const why = troubleRank(chosen) >= 2 ? `the one in trouble: ${describeState(chosen)}` : `${describeState(chosen)}; none is in trouble`;
  return {
    container: chosen,
    notice:
      `porthole: service ${service} has ${replicas.length} replicas; using ${chosen.names[0] ?? chosen.id.slice(0, 12)} (${why}). ` +
      `Others: ${others.join(', ')}; pick one with ${service}-N or --index N.`,
  };
}

/**
 * When no project is in force, or it has no such service: the projects that do have a service of that name, so
 * the error can say how to reach it (`-p shop`).
 */
export async function projectsWithService(engine: EngineClient, ref: string): Promise<string[]> {
  const service = splitNumbered(ref)?.service;
  const names = [ref, ...(service ? [service] : [])];
  const found = new Set<string>();
  for (const name of names) {
    const listed = await engine.listContainers({ all: true, filters: { label: [`${SERVICE_LABEL}=${name}`] } });
    for (const c of listed) if (!isOneOff(c) && c.labels[PROJECT_LABEL]) found.add(c.labels[PROJECT_LABEL]!);
  }
  return [...found].sort();
}

/**
 * The list filter for commands that list every container (ps, stats) when -p names a project: only its
 * containers, one-offs included (docker compose ps shows them too). undefined without -p.
 */
export function projectListOptions(scope: NameScope): { filters: { label: string[] } } | undefined {
  if (scope.project === undefined) return undefined;
  const project = currentProject({ flag: scope.project, env: scope.env, cwd: scope.cwd })!;
  return { filters: { label: [`${PROJECT_LABEL}=${project.name}`] } };
}
