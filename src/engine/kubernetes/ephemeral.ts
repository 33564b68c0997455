// The toolbox way into a pod's container that has no shell: an ephemeral container from a toolbox image, in the
// target container's process namespace (targetContainerName), that sleeps until porthole execs a shell into it.
// Kubernetes cannot remove an ephemeral container, nor label one: porthole's carry a name of their own
// (porthole-toolbox-SESSION) and PORTHOLE_* variables, and a later session reuses a running one instead of
// adding another. Their sleeper needs nothing but sh and sleep from the toolbox image.
import { Failure } from '../../errors.js';
import type { KubeCluster } from './index.js';
import { podPath } from './index.js';
import { SLEEPER } from './pod-copy.js';
import type { Pod } from './wire.js';

export const TOOLBOX_PREFIX = 'porthole-toolbox-';

export interface EphemeralContainer {
  name: string;
  image?: string;
  command?: string[];
  targetContainerName?: string;
  env?: { name: string; value?: string }[];
  imagePullPolicy?: string;
  stdin?: boolean;
  tty?: boolean;
  securityContext?: Record<string, unknown>;
}

type PodWithEphemeral = Pod & {
  spec: Pod['spec'] & { ephemeralContainers?: EphemeralContainer[] };
  status?: Pod['status'] & { ephemeralContainerStatuses?: import('./wire.js').ContainerStatus[] };
  metadata: Pod['metadata'] & { resourceVersion?: string };
};

export const PROFILES = ['general', 'baseline', 'restricted', 'sysadmin'] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * The toolbox's securityContext for a profile, as kubectl debug's profiles set it: general adds SYS_PTRACE;
 * baseline adds nothing; restricted runs as the target's user with every capability dropped, no privilege
 * escalation and the runtime's seccomp profile (what the "restricted" Pod Security level demands); sysadmin is
 * privileged. Pure.
 */
export function profileContext(profile: Profile, pod: Pod, target: string): Record<string, unknown> | undefined {
  const container = pod.spec.containers.find((c) => c.name === target);
  const runAsUser = container?.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const runAsGroup = container?.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup;
  if (profile === 'general') return { capabilities: { add: ['SYS_PTRACE'] } };
  if (profile === 'baseline') return undefined;
  if (profile === 'sysadmin') return { privileged: true };
  return {
    runAsNonRoot: true,
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A running porthole toolbox already in the pod for this container, if any (the newest first). */
export function findToolbox(pod: Pod, target: string): { name: string; image: string } | undefined {
  const p = pod as PodWithEphemeral;
  const running = new Set((p.status?.ephemeralContainerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name));
  const ours = (p.spec.ephemeralContainers ?? []).filter((c) => c.name.startsWith(TOOLBOX_PREFIX) && c.targetContainerName === target && running.has(c.name));
  const last = ours[ours.length - 1];
  return last ? { name: last.name, image: last.image ?? '' } : undefined;
}

/** The ephemeral container porthole adds. Pure. */
export function toolboxSpec(opts: { name: string; image: string; target: string; session: string; pid: number; host: string; securityContext?: Record<string, unknown> }): EphemeralContainer {
  return {
    name: opts.name,
    image: opts.image,
    imagePullPolicy: 'IfNotPresent',
    command: SLEEPER,
    targetContainerName: opts.target,
    env: [
      { name: 'PORTHOLE_OWNED', value: 'true' },
      { name: 'PORTHOLE_SESSION', value: opts.session },
      { name: 'PORTHOLE_PID', value: String(opts.pid) },
      { name: 'PORTHOLE_HOST', value: opts.host },
    ],
    ...(opts.securityContext ? { securityContext: opts.securityContext } : {}),
  };
}

/** Adds the ephemeral container through the pod's ephemeralcontainers subresource. */
export async function addToolbox(cluster: KubeCluster, pod: Pod, container: EphemeralContainer): Promise<void> {
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  const name = pod.metadata.name;
  const path = `${podPath(namespace, name)}/ephemeralcontainers`;
  const purpose = { verb: 'patch' as const, resource: 'pods/ephemeralcontainers', namespace, name };
  // PUT of the pod as read, plus ours: the resourceVersion makes a concurrent change fail rather than be lost.
  const current = await cluster.client.get<PodWithEphemeral>(path, { ...purpose, verb: 'get' });
  current.spec.ephemeralContainers = [...(current.spec.ephemeralContainers ?? []), container];
  await cluster.client.send('PUT', path, current, purpose);
}

/** Waits until the ephemeral container runs; says why when it will not. */
export async function waitToolbox(cluster: KubeCluster, namespace: string, pod: string, name: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 120_000;
  let delay = 100;
  while (!signal.aborted) {
    const p = await cluster.client.get<PodWithEphemeral>(podPath(namespace, pod), { verb: 'get', resource: 'pods', namespace, name: pod });
    const status = p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
    if (status?.state?.running) return;
    const waiting = status?.state?.waiting;
    if (waiting?.reason && /ErrImage|ImagePull|InvalidImage|CreateContainer/.test(waiting.reason)) {
      throw new Failure(
        `The toolbox container cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}.`,
        'Kubernetes pulls the toolbox image on the node: name one the node can get with --toolbox IMAGE.',
      );
    }
    if (status?.state?.terminated) {
      throw new Failure(`The toolbox container exited at once (${status.state.terminated.reason ?? `code ${status.state.terminated.exitCode}`}): the toolbox image needs sh and sleep.`);
    }
    if (Date.now() > deadline) throw new Failure(`The toolbox container did not start within 120 s (${waiting?.reason ?? 'no status yet'}).`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
  throw signal.reason as Error;
}

/**
 * The command exec'd in the toolbox: a shell whose root is the target's (chroot to /proc/1/root, the target's
 * first process in the shared PID namespace), the toolbox's binaries still reachable through fd 9. Where chroot
 * is not allowed, a toolbox shell in /proc/1/root instead, said so.
 */
export function toolboxCommand(cmd: string[] | undefined): string[] {
  const script = [
    'exec 9</',
    // /bin/sh as is (a relative link resolves inside the toolbox's root), else its target (an absolute one).
    'sh_path=/bin/sh',
    'chroot /proc/1/root /proc/self/fd/9/bin/sh -c true 2>/dev/null || sh_path=$(readlink -f /bin/sh 2>/dev/null || echo /bin/sh)',
    'export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/proc/self/fd/9/bin:/proc/self/fd/9/usr/bin"',
    'if chroot /proc/1/root /proc/self/fd/9$sh_path -c true 2>/dev/null; then',
    '  cd /proc/1/root || exit 125',
    '  if [ $# -eq 0 ]; then exec chroot /proc/1/root /proc/self/fd/9$sh_path; fi',
    '  exec chroot /proc/1/root /proc/self/fd/9$sh_path -c \'exec "$@"\' sh "$@"',
    'fi',
    'echo "porthole: the toolbox may not change its root to the container\'s; the container\'s files are under /proc/1/root." >&2',
    'cd /proc/1/root 2>/dev/null || { echo "porthole: cannot reach the container\'s files (/proc/1/root): the toolbox runs as another user." >&2; exit 125; }',
    '[ $# -eq 0 ] && exec sh',
    'exec "$@"',
  ].join('\n');
  return ['/bin/sh', '-c', script, 'porthole', ...(cmd ?? [])];
}
