// A copy of a pod to work in when its container cannot be exec'd into (crash-looping, completed), built the way
// `kubectl debug --copy-to` builds one: owner references, labels and probes dropped so that no controller adopts
// it and no Service routes to it; the chosen container's command replaced by a sleeper that waits for porthole;
// the rest of the spec (env, volumes, resources, security context, node) kept. The copy is labelled as
// porthole's, with the session and its owning process, so `porthole gc` can find one a killed session left.
//
// What it cannot carry: the crashed container's writable layer (files it wrote outside volumes). Kubernetes has
// no commit, so the copy starts from the image again.
import type { ContainerSpec, Pod } from './wire.js';

/** Runs until told to stop (TERM), as PID 1 of the copy's container; needs only sh and sleep. */
export const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM INT HUP; while :; do sleep 3600 & wait $!; done'];

/** On a copy: the name of the pod it copies (gc checks the copy's name against it). */
export const COPY_OF_ANNOTATION = 'io.porthole.copy-of';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Only label values the API accepts (63 chars, alphanumerics at both ends); others go to annotations only. */
export function labelSafe(labels: Record<string, string>): { labels: Record<string, string>; annotations: Record<string, string> } {
  const out: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    annotations[k] = v;
    if (v.length <= 63 && LABEL_VALUE.test(v)) out[k] = v;
  }
  return { labels: out, annotations };
}

/** A pod name of at most 63 characters (it is also the copy's hostname): the original's, cut, and the session. */
export function copyName(original: string, session: string): string {
  const suffix = `-porthole-${session}`;
  return `${original.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

function withoutProbes(c: ContainerSpec): ContainerSpec {
  const copy = { ...c };
  delete copy.livenessProbe;
  delete copy.readinessProbe;
  delete copy.startupProbe;
  return copy;
}

/**
 * The copy's manifest. `command` replaces the chosen container's command (args dropped with it); the other
 * containers keep theirs. Pure: the caller creates it.
 */
export function buildPodCopy(original: Pod, opts: { name: string; container: string; command: string[]; labels: Record<string, string> }): Pod & { apiVersion: string; kind: string } {
  const safe = labelSafe(opts.labels);
  // Status, owner, uid, resourceVersion and the like stay behind: only the spec and the annotations are copied.
  const spec = JSON.parse(JSON.stringify(original.spec)) as Pod['spec'] & Record<string, unknown>;
  delete spec.ephemeralContainers;
  spec.containers = spec.containers.map((c) => {
    const copy = withoutProbes(c);
    if (c.name !== opts.container) return copy;
    copy.command = opts.command;
    delete copy.args;
    return copy;
  });
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(withoutProbes);
  // A pod of a Deployment restarts its containers; the copy must not restart the sleeper when porthole stops it.
  spec.restartPolicy = 'Never';
  spec.terminationGracePeriodSeconds = 2;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name,
      namespace: original.metadata.namespace,
      labels: safe.labels,
      annotations: { ...(original.metadata.annotations ?? {}), ...safe.annotations, [COPY_OF_ANNOTATION]: original.metadata.name },
    },
    spec,
  };
}
