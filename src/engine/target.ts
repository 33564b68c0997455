// What a name on the command line points at: a bare name is a Docker container (as always); `kind/name` is a
// Kubernetes object (pod/api, deploy/web, sts/db, ds/agent, job/migrate), with an optional `/container` after a pod.
// Parsed here once, so commands never guess from the text themselves.
import { InvalidArgument } from '../errors.js';
import { parseSwarmName, type SwarmName } from './swarm/names.js';

export type KubeKind = 'pod' | 'deployment' | 'statefulset' | 'daemonset' | 'job' | 'replicaset';

export type TargetRef =
  | { engine: 'docker'; name: string }
  | { engine: 'swarm'; name: SwarmName; text: string }
  | { engine: 'kubernetes'; kind: KubeKind; name: string; container: string | null; text: string };

const KINDS: Record<string, KubeKind> = {
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  job: 'job',
  jobs: 'job',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
};

/** Whether a word names a Kubernetes object (cheap: used before any Kubernetes code is loaded). */
export function isKubeName(word: string): boolean {
  const slash = word.indexOf('/');
  return slash > 0 && Object.hasOwn(KINDS, word.slice(0, slash).toLowerCase());
}

// RFC 1123 subdomain (pods, workloads) and label (containers), as the API server checks them.
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Kubernetes kinds porthole does not take (svc/web): a mistake to explain, never an image's name. */
const KUBE_WORDS = new Set(['svc', 'services', 'cm', 'configmap', 'configmaps', 'secret', 'secrets', 'ns', 'namespace', 'namespaces', 'no', 'nodes', 'ing', 'ingress', 'ingresses', 'pvc', 'pv', 'cj', 'cronjob', 'cronjobs', 'hpa', 'sa', 'ep', 'endpoints', 'netpol', 'crd']);

/** docker's image reference grammar, loosely: [registry[:port]/]path[/path...][:tag][@digest]. */
const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

export function parseTarget(text: string): TargetRef {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  // A Docker name may start with a slash (`/web`, as the engine lists it) but never holds one after.
  if (!text.replace(/^\//, '').includes('/')) return { engine: 'docker', name: text };
  // service/NAME[.SLOT|@NODE], task/ID, node/NAME: a swarm's (parsed in swarm/names.ts)
  const swarm = parseSwarmName(text);
  if (swarm) return { engine: 'swarm', name: swarm, text };
  const [kindWord, name, container, ...extra] = text.split('/');
  const kind = KINDS[kindWord!.toLowerCase()];
  // an image reference (registry/repo:tag): a Docker name, which resolve.ts reads as an image where the command takes one
  if (!kind && IMAGE_REF.test(text) && !KUBE_WORDS.has(kindWord!.toLowerCase())) return { engine: 'docker', name: text };
  if (!kind) {
    throw new InvalidArgument(
      `"${clean}" is neither a container name nor a Kubernetes object.`,
      'Use a container name, or pod/NAME[/CONTAINER], deploy/NAME, sts/NAME, ds/NAME or job/NAME.',
    );
  }
  if (!name || !OBJECT_NAME.test(name) || extra.length) {
    throw new InvalidArgument(`"${clean}" is not a valid Kubernetes name.`, 'Names are lower-case letters, digits, "-" and "."; e.g. pod/api-7d9f or deploy/web.');
  }
  if (container !== undefined && (kind !== 'pod' || !CONTAINER_NAME.test(container))) {
    throw new InvalidArgument(
      kind === 'pod' ? `"${clean}" names an invalid container.` : `"${clean}": only a pod takes a container after its name.`,
      kind === 'pod' ? 'Container names are lower-case letters, digits and "-".' : 'Use -c CONTAINER to choose a container.',
    );
  }
  return { engine: 'kubernetes', kind, name, container: container ?? null, text };
}
