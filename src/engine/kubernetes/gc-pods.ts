// `porthole gc` for Kubernetes: the pod copies (shell's crash-looping/completed way) a killed session left. As
// for Docker, a label proves nothing by itself (anyone can label a pod io.porthole.owned=true): a pod counts as
// porthole's only when
//   - porthole's owner facts are all there, in porthole's form (annotations hold them all; the owned and session
//     labels, used to find the pods, agree with them);
//   - nothing owns it (porthole's copies have no owner references; a controller's pod is never porthole's);
//   - its name is the one porthole gives a copy of the pod it names (io.porthole.copy-of) in that session;
//   - one of its containers runs porthole's sleeper, the command porthole puts in a copy;
//   - its owner process is gone (same PID and start time not running on this host; another host: kept).
import { AccessDenied } from '../../errors.js';
import { CONTAINER_KEYS, OWNED_LABEL, ownerProcessAlive, readOwner, type Owner } from '../../enter/session.js';
import type { KubeCluster } from './index.js';
import { podPath } from './index.js';
import { COPY_OF_ANNOTATION, copyName, SLEEPER } from './pod-copy.js';
import type { List, Pod } from './wire.js';

export type PodVerdict = { remove: true; owner: Owner } | { remove: false; reason: string; owner?: Owner };

/** Whether a pod is a copy porthole made for a session now gone. Pure. */
export function judgePod(pod: Pod, alive: (owner: Owner) => boolean | 'unknown' = ownerProcessAlive): PodVerdict {
  const labels = pod.metadata.labels ?? {};
  const annotations = pod.metadata.annotations ?? {};
  const owner = readOwner(annotations, CONTAINER_KEYS);
  if (typeof owner === 'string') return { remove: false, reason: `not porthole's: ${owner}` };
  if (labels[OWNED_LABEL] !== 'true' || labels[CONTAINER_KEYS.session] !== owner.session) {
    return { remove: false, reason: "not porthole's: its labels and annotations name different sessions", owner };
  }
  if (pod.metadata.ownerReferences?.length) return { remove: false, reason: "not porthole's: something owns it, and porthole's copies have no owner", owner };
  const original = annotations[COPY_OF_ANNOTATION];
  if (!original || pod.metadata.name !== copyName(original, owner.session)) {
    return { remove: false, reason: `not porthole's: its name is not the one porthole gives a copy in session ${owner.session}`, owner };
  }
  const sleeper = JSON.stringify(SLEEPER);
  if (!pod.spec.containers.some((c) => JSON.stringify(c.command ?? []) === sleeper && !c.args?.length)) {
    return { remove: false, reason: "not porthole's: none of its containers runs porthole's sleeper", owner };
  }
  const state = alive(owner);
  if (state === true) return { remove: false, reason: `its session is still running (pid ${owner.pid})`, owner };
  if (state === 'unknown') return { remove: false, reason: `made by a session on host ${owner.host}, which cannot be checked from here`, owner };
  return { remove: true, owner };
}

/**
 * The pods labelled as porthole's in every namespace the user may list pods in: all namespaces when allowed,
 * else the context's namespace. `scope` says which, for the person reading.
 */
export async function listPortholePods(cluster: KubeCluster): Promise<{ pods: Pod[]; scope: string }> {
  const selector = `labelSelector=${encodeURIComponent(`${OWNED_LABEL}=true`)}`;
  try {
    const all = await cluster.client.get<List<Pod>>(`/api/v1/pods?${selector}`, { verb: 'list', resource: 'pods' });
    return { pods: all.items, scope: 'all namespaces' };
  } catch (err) {
    if (!(err instanceof AccessDenied)) throw err;
  }
  const ns = cluster.namespace;
  const one = await cluster.client.get<List<Pod>>(`${podPath(ns)}?${selector}`, { verb: 'list', resource: 'pods', namespace: ns });
  return { pods: one.items, scope: `namespace ${ns} (listing pods in all namespaces is not allowed)` };
}

export async function deletePod(cluster: KubeCluster, namespace: string, name: string, uid: string | undefined): Promise<void> {
  // The uid precondition: a pod recreated under the same name since the listing is not the one judged.
  await cluster.client.send('DELETE', podPath(namespace, name), { gracePeriodSeconds: 1, ...(uid ? { preconditions: { uid } } : {}) }, { verb: 'delete', resource: 'pods', namespace, name });
}
