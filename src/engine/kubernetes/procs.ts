// `ps pod/X[/C]`: a pod's processes, read from /proc inside the pod by one exec per PID namespace (one per
// container, or one for the pod with shareProcessNamespace) running a small busybox-compatible sh script
// (procs/pod-rows.ts). A container without the tools is read through porthole's ephemeral toolbox container in
// its PID namespace: one already there is reused; adding one needs --toolbox IMAGE (or PORTHOLE_K8S_TOOLBOX) and
// consent, as `shell` asks, since Kubernetes cannot remove it.
import { Failure, Unsupported } from '../../errors.js';
import { escapeName } from '../../render/escape.js';
import { parsePasswd } from '../../procs/parse.js';
import { parseProcDump, podProcessRows, PROC_READER_SCRIPT, READER_NO_TOOL, type PodContainerRef, type PodProcessBlock } from '../../procs/pod-rows.js';
import type { KubeTargetRef } from '../../cli/kube-flags.js';
import { exitFromStatus } from './exec-stream.js';
import { requireContainer, resolvePods, type KubeCluster } from './index.js';
import type { ContainerStatus, Pod } from './wire.js';

type PodWithMore = Pod & {
  spec: Pod['spec'] & { shareProcessNamespace?: boolean; ephemeralContainers?: { name: string; targetContainerName?: string }[] };
  status?: Pod['status'] & { ephemeralContainerStatuses?: ContainerStatus[] };
};

export interface PodPsHost {
  notice(text: string): void;
  /** Says that the toolbox cannot be removed and asks (or takes --yes); throws when refused. */
  confirmToolbox(pod: string, image: string): Promise<void>;
  /** --toolbox IMAGE, else PORTHOLE_K8S_TOOLBOX: the image a new toolbox may be made from. */
  toolboxImage: string | undefined;
  /** --profile: the new toolbox's security profile (kubectl debug's), general when unset. */
  profile?: import('./ephemeral.js').Profile;
  signal: AbortSignal;
}

/** The reader could not run in a container: what it lacks, in words ("no shell (sh)", "no od"). */
class ReaderMissing extends Error {}

/** Every container of the pod with the runtime's id, for placing processes by their cgroup. */
export function podContainerRefs(pod: Pod): PodContainerRef[] {
  const p = pod as PodWithMore;
  const refs: PodContainerRef[] = [];
  const add = (list: ContainerStatus[] | undefined, kind: PodContainerRef['kind']) => {
    for (const s of list ?? []) {
      const id = /^[a-z0-9-]+:\/\/([0-9a-f]{64})$/.exec(s.containerID ?? '')?.[1];
      if (id) refs.push({ name: s.name, kind, id });
    }
  };
  add(p.status?.containerStatuses, 'container');
  add(p.status?.initContainerStatuses, 'init');
  add(p.status?.ephemeralContainerStatuses, 'ephemeral');
  return refs;
}

/** Whether a container's namespace may hold another container's processes (an ephemeral one targeting it). */
function sharedWithEphemeral(pod: Pod, container: string): boolean {
  return ((pod as PodWithMore).spec.ephemeralContainers ?? []).some((c) => c.targetContainerName === container);
}

function isRunning(pod: Pod, container: string): boolean {
  const p = pod as PodWithMore;
  return [...(p.status?.containerStatuses ?? []), ...(p.status?.ephemeralContainerStatuses ?? [])].some((s) => s.name === container && !!s.state?.running);
}

function notRunningWords(pod: Pod, container: string): string {
  const s = (pod.status?.containerStatuses ?? []).find((c) => c.name === container);
  const waiting = s?.state?.waiting?.reason;
  const done = s?.state?.terminated;
  return waiting ? `waiting: ${waiting}` : done ? `exited: ${done.reason ?? `code ${done.exitCode}`}` : 'not started';
}

/** Runs the reader in one container; the dump, or ReaderMissing when the container lacks sh or a tool. */
async function readProc(cluster: KubeCluster, namespace: string, pod: string, container: string, cgroups: boolean): Promise<Buffer> {
  const got = await cluster.client.exec(namespace, pod, container, ['sh', '-c', PROC_READER_SCRIPT, 'porthole', cgroups ? 'cgroup' : ''], 64 << 20, 60_000);
  const result = exitFromStatus(got.status);
  if ('code' in result) {
    if (result.code === 0) return got.stdout;
    if (result.code === READER_NO_TOOL) throw new ReaderMissing(`no ${escapeName(got.stderr.toString('utf8').trim()) || 'tool'}`);
    throw new Failure(`Reading /proc in container ${container} of pod ${pod} failed (exit ${result.code})${got.stderr.length ? `: ${escapeName(got.stderr.toString('utf8').trim().split('\n')[0]!)}` : ''}.`);
  }
  if (/executable file not found|no such file or directory/i.test(result.error)) throw new ReaderMissing('no shell (sh)');
  if (!got.status) throw new Failure(`The connection to the Kubernetes API ended before container ${container} of pod ${pod} finished listing its processes.`);
  throw new Failure(`Kubernetes could not list the processes of container ${container} in pod ${pod}: ${escapeName(result.error)}.`);
}

/** Each container's /etc/passwd as uid -> name, read by exec with its own cat (skipped where that fails). */
async function otherPasswd(cluster: KubeCluster, namespace: string, pod: string, containers: string[]): Promise<Map<string, Map<number, string>>> {
  const found = new Map<string, Map<number, string>>();
  await Promise.all(
    containers.map(async (container) => {
      try {
        const got = await cluster.client.exec(namespace, pod, container, ['cat', '/etc/passwd'], 1 << 20);
        const result = exitFromStatus(got.status);
        if ('code' in result && result.code === 0) found.set(container, parsePasswd(got.stdout.toString('utf8')));
      } catch {
        // names stay numbers: not worth failing ps for
      }
    }),
  );
  return found;
}

/** Reads through porthole's toolbox in the container's PID namespace: an existing one, else a new one with consent. */
async function readThroughToolbox(cluster: KubeCluster, host: PodPsHost, pod: Pod, container: string, missing: string): Promise<{ dump: Buffer; via: string; pod: Pod }> {
  const { addToolbox, findToolbox, profileContext, toolboxSpec, waitToolbox, TOOLBOX_PREFIX } = await import('./ephemeral.js');
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  const podName = pod.metadata.name;
  let name = findToolbox(pod, container)?.name;
  if (name) host.notice(`porthole: container ${container} has ${missing}; reading its processes through the toolbox container ${name} already in pod/${podName}.`);
  else {
    const image = host.toolboxImage;
    if (!image) {
      throw new Unsupported(
        `Container ${container} of pod ${podName} has ${missing}, which porthole needs to read its processes, and the pod has no porthole toolbox container to read them through.`,
        'Add --toolbox IMAGE (an image the node can get, with sh, cat, od and tr) and --yes, or set PORTHOLE_K8S_TOOLBOX=IMAGE.',
      );
    }
    await host.confirmToolbox(podName, image);
    const { sessionId } = await import('../../enter/session.js');
    const { hostname } = await import('node:os');
    name = `${TOOLBOX_PREFIX}${sessionId()}`;
    await addToolbox(cluster, pod, toolboxSpec({ name, image, target: container, session: sessionId(), pid: process.pid, host: hostname(), securityContext: profileContext(host.profile ?? 'general', pod, container) }));
    await waitToolbox(cluster, namespace, podName, name, host.signal);
  }
  const { podPath } = await import('./index.js');
  // Read the pod again: the toolbox's container id places its own processes.
  const fresh = await cluster.client.get<Pod>(podPath(namespace, podName), { verb: 'get', resource: 'pods', namespace, name: podName });
  try {
    return { dump: await readProc(cluster, namespace, podName, name, true), via: name, pod: fresh };
  } catch (err) {
    if (err instanceof ReaderMissing) throw new Unsupported(`The toolbox container ${name} in pod ${podName} has ${err.message}, which porthole needs to read processes.`, 'Use a toolbox image with sh, cat, od and tr (busybox has them).');
    throw err;
  }
}

export interface PodPsResult {
  blocks: PodProcessBlock[];
  /** Containers asked about (or all of the pod's) that are not running: said, and the exit code says so. */
  notRunning: { pod: string; container: string; why: string }[];
  /** Running containers whose processes could not be read (no tools and no toolbox), with the sentence why. */
  unreadable: { pod: string; container: string; sentence: string; hint: string | undefined }[];
}

/** The processes of pod/X[/C] (or the chosen pod of deploy/X, ...): one block per PID namespace. */
export async function podProcesses(cluster: KubeCluster, ref: KubeTargetRef, host: PodPsHost): Promise<PodPsResult> {
  // pod/X/C: the read starts with the pod's GET rather than after it (it is the read to make whatever the GET says)
  const early = ref.kind === 'pod' && ref.container ? readProc(cluster, cluster.namespace, ref.name, ref.container, true).then((b) => b, (err: Error) => err) : undefined;
  const read = async (namespace: string, pod: string, container: string, cgroups: boolean): Promise<Buffer> => {
    if (early && container === ref.container && pod === ref.name) {
      const got = await early;
      if (got instanceof Error) throw got;
      return got;
    }
    return readProc(cluster, namespace, pod, container, cgroups);
  };
  // (when the GET fails, so did the read: the GET's error is the one said)
  const resolved = await resolvePods(cluster, ref);
  if (resolved.chosen) host.notice(`porthole: ${resolved.chosen}.`);
  const pod = resolved.pod as PodWithMore;
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  const podName = pod.metadata.name;
  if (ref.container) requireContainer(pod, ref.container);
  const asked = ref.container ? [ref.container] : pod.spec.containers.map((c) => c.name);
  const running = asked.filter((c) => isRunning(pod, c));
  const notRunning = asked.filter((c) => !isRunning(pod, c)).map((c) => ({ pod: podName, container: c, why: notRunningWords(pod, c) }));
  if (!running.length) return { blocks: [], notRunning, unreadable: [] };

  if (pod.spec.shareProcessNamespace) {
    // One namespace for the whole pod: one read, in the first container that has the tools.
    const candidates = [...running, ...pod.spec.containers.map((c) => c.name).filter((c) => !running.includes(c) && isRunning(pod, c))];
    // Another container's users are in its own /etc/passwd, which /proc/PID/root may not show the reader (a process
    // of another user needs CAP_SYS_PTRACE): those containers are asked themselves, while the reader runs.
    const others = ref.container ? [] : candidates.slice(1, 9);
    const passwds = others.length ? otherPasswd(cluster, namespace, podName, others) : Promise.resolve(new Map<string, Map<number, string>>());
    let lastMissing = '';
    for (const container of candidates) {
      try {
        const dump = parseProcDump(await read(namespace, podName, container, true));
        const { rows, prefixes } = podProcessRows(dump, { namespace, pod: podName, containers: podContainerRefs(pod), own: null, only: ref.container ?? undefined, passwdByContainer: await passwds });
        return { blocks: [{ namespace, pod: podName, container: null, readVia: container, rows, prefixes }], notRunning, unreadable: [] };
      } catch (err) {
        if (!(err instanceof ReaderMissing)) throw err;
        lastMissing = err.message;
      }
    }
    const through = await readThroughToolbox(cluster, host, pod, candidates[0]!, lastMissing);
    const { rows, prefixes } = podProcessRows(parseProcDump(through.dump), { namespace, pod: podName, containers: podContainerRefs(through.pod), own: null, only: ref.container ?? undefined });
    return { blocks: [{ namespace, pod: podName, container: null, readVia: through.via, rows, prefixes }], notRunning, unreadable: [] };
  }

  // A namespace per container: one read each, at the same time; then, one after another (each may ask), the
  // containers that need a toolbox.
  const direct = await Promise.all(
    running.map(async (container): Promise<PodProcessBlock | ReaderMissing> => {
      try {
        const dump = parseProcDump(await read(namespace, podName, container, sharedWithEphemeral(pod, container)));
        return { namespace, pod: podName, container, readVia: container, ...podProcessRows(dump, { namespace, pod: podName, containers: podContainerRefs(pod), own: container }) };
      } catch (err) {
        if (err instanceof ReaderMissing) return err;
        throw err;
      }
    }),
  );
  let current: Pod = pod;
  const blocks: PodProcessBlock[] = [];
  const unreadable: PodPsResult['unreadable'] = [];
  for (const [i, got] of direct.entries()) {
    if (!(got instanceof ReaderMissing)) {
      blocks.push(got);
      continue;
    }
    const container = running[i]!;
    let through;
    try {
      through = await readThroughToolbox(cluster, host, current, container, got.message);
    } catch (err) {
      // The other containers are still worth showing: this one is said, and the exit code tells.
      if (!(err instanceof Unsupported) || running.length === 1) throw err;
      unreadable.push({ pod: podName, container, sentence: err.message, hint: err.hint });
      continue;
    }
    current = through.pod;
    blocks.push({ namespace, pod: podName, container, readVia: through.via, ...podProcessRows(parseProcDump(through.dump), { namespace, pod: podName, containers: podContainerRefs(through.pod), own: container }) });
  }
  return { blocks, notRunning, unreadable };
}
