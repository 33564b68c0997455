// The ways into a Kubernetes pod, behind the same `shell` as Docker's: exec over the API's WebSocket for a
// running container, a labelled copy of the pod (kubectl debug --copy-to style) for one that is crash-looping or
// has completed. The session itself runs through the shared pump (attach.ts): raw mode, resize, restore, pipes.
import type { Context } from '../context.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import type { ContainerStatus, Pod } from '../engine/kubernetes/wire.js';
import type { KubeTargetRef } from '../cli/kube-flags.js';
import { Failure, InvalidArgument, NotFound, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { runAttached } from './attach.js';
import { SESSION_LABEL, sessionId, sessionLabels } from './session.js';
import type { EnterRequest } from './types.js';
import type { ExecStream } from '../engine/kubernetes/exec-stream.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waiting reasons that a copy of the pod would hit too: the copy cannot help, so say what is wrong instead. */
const HOPELESS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'ErrImageNeverPull']);

/** The shell to start when no command is given: bash where there is one, else sh; TERM from the user's terminal. */
export function defaultShell(tty: boolean, term: string | undefined): string[] {
  const setTerm = tty ? `export TERM=${JSON.stringify(term || 'xterm')}; ` : '';
  return ['/bin/sh', '-c', `${setTerm}if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh`];
}

/** -w and -e, which the exec API has no fields for, as a wrapper around the command (needs sh and env). */
export function wrapCommand(cmd: string[], request: Pick<EnterRequest, 'workdir' | 'env'>): string[] {
  if (!request.workdir && !request.env.length) return cmd;
  const cd = request.workdir ? 'cd -- "$1" || exit 125; ' : '';
  return ['/bin/sh', '-c', `${cd}shift; exec env "$@"`, 'porthole', request.workdir ?? '', ...request.env, ...cmd];
}

export function chooseContainer(pod: Pod, asked: string | null): string {
  if (asked) return asked;
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && pod.spec.containers.some((c) => c.name === annotated)) return annotated;
  return pod.spec.containers[0]!.name;
}

export type PodWay = { way: 'exec' } | { way: 'copy'; why: string } | { way: 'refuse'; why: string; hint?: string };

/** Which way in a container's state calls for. Pure. */
export function pickWay(pod: Pod, container: string, now = Date.now()): PodWay {
  const status: ContainerStatus | undefined = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((c) => c.name === container);
  const phase = pod.status?.phase;
  const waiting = status?.state?.waiting?.reason;
  if (pod.metadata.deletionTimestamp) return { way: 'refuse', why: `pod ${pod.metadata.name} is being deleted` };
  if (waiting && HOPELESS.has(waiting)) {
    return { way: 'refuse', why: `container ${container} cannot start (${waiting}), and a copy of the pod would fail the same way`, hint: '`porthole why` shows why.' };
  }
  if (status?.state?.running) {
    // Just restarted after a crash, in a pod that restarts it: likely to die under the session, as a Docker
    // container that is restarting. A copy holds still.
    const started = Date.parse(status.state.running.startedAt ?? '');
    const crashed = status.lastState?.terminated;
    if (crashed && crashed.exitCode !== 0 && (status.restartCount ?? 0) > 0 && pod.spec.restartPolicy !== 'Never' && now - started < 10_000) {
      return { way: 'copy', why: `container ${container} keeps crashing (restarted ${status.restartCount} times, the last ${Math.max(0, Math.round((now - started) / 1000))} s ago)` };
    }
    return { way: 'exec' };
  }
  if (phase === 'Succeeded' || phase === 'Failed') return { way: 'copy', why: `the pod has ${phase === 'Succeeded' ? 'completed' : 'failed'}` };
  const restarts = status?.restartCount ?? 0;
  const terminated = status?.state?.terminated;
  // Exited in a pod that restarts it, after earlier restarts: between two crashes of a loop.
  if (terminated && restarts > 0 && pod.spec.restartPolicy !== 'Never') {
    return { way: 'copy', why: `container ${container} keeps crashing (exited: ${terminated.reason ?? `code ${terminated.exitCode}`}, ${restarts} restarts)` };
  }
  if (terminated) return { way: 'copy', why: `container ${container} has exited (${terminated.reason ?? `code ${terminated.exitCode}`})` };
  if (waiting === 'CrashLoopBackOff' || (waiting && restarts > 0)) return { way: 'copy', why: `container ${container} keeps crashing (${waiting})` };
  if (phase === 'Pending' || waiting) {
    return { way: 'refuse', why: `container ${container} has not started yet (${waiting ?? phase})`, hint: 'Wait for it, or see why with `porthole why`.' };
  }
  return { way: 'copy', why: `container ${container} is not running` };
}

/** The exit code to pass on, from the status the API server sent at the end of the exec. */
async function exitCode(ctx: Context, stream: ExecStream, where: string, shellChosen: boolean, brokeWith?: Error): Promise<number> {
  const { exitFromStatus } = await import('../engine/kubernetes/exec-stream.js');
  const result = exitFromStatus(stream.status);
  if ('code' in result) return result.code;
  if (!stream.status) {
    throw new Failure(
      `The connection to the Kubernetes API ended without the command's exit status (${where})${brokeWith ? `: ${brokeWith.message}` : ''}, so porthole cannot tell whether it succeeded.`,
      'Run it again, or check the pod with `porthole why`.',
    );
  }
  // The runtime's message ends in the part that matters: `exec: "nosuch": executable file not found in $PATH: unknown`.
  const message = /exec: (.*?)(: unknown)?$/.exec(result.error)?.[1] ?? result.error;
  // The runtime's words for a missing or unrunnable program: docker's 127 and 126, as docker exec gives them.
  if (/executable file not found|no such file or directory/i.test(message)) {
    if (shellChosen) throw new NoShell(`${where} has no shell (/bin/sh).`);
    ctx.notice(`porthole: ${escapeName(message)}`);
    return 127;
  }
  if (/permission denied/i.test(message)) {
    ctx.notice(`porthole: ${escapeName(message)}`);
    return 126;
  }
  throw new Failure(`Kubernetes could not run the command in ${where}: ${message}.`);
}

/** Whether the container can run /bin/sh (a quick exec without stdin). */
async function hasShell(cluster: KubeCluster, namespace: string, pod: string, container: string): Promise<boolean> {
  const { exitFromStatus } = await import('../engine/kubernetes/exec-stream.js');
  const probe = await cluster.client.exec(namespace, pod, container, ['/bin/sh', '-c', 'true'], 1024);
  const result = exitFromStatus(probe.status);
  return 'code' in result || !/executable file not found|no such file or directory/i.test(result.error);
}

/** The container has no /bin/sh for the default shell (nothing ran). */
class NoShell extends Unsupported {}

/** Says that an ephemeral container cannot be removed, and asks (or takes --yes) before adding one. */
export async function confirmToolbox(ctx: Context, request: Pick<EnterRequest, 'yes'>, pod: string, image: string, why = 'entering through a toolbox'): Promise<void> {
  ctx.notice(
    `porthole: ${why}: adding an ephemeral container from ${escapeName(image)} to pod/${pod}. ` +
      'Kubernetes cannot remove ephemeral containers: it stays in the pod until the pod is deleted (porthole reuses it next time).',
  );
  if (request.yes) return;
  if (!ctx.stdinIsTTY) {
    throw new InvalidArgument('Adding an ephemeral container cannot be undone, and stdin is not a terminal to ask on.', 'Add --yes to agree.');
  }
  ctx.stderr.write('Add it? [y/N] ');
  const answer = await new Promise<string>((resolve) => {
    const onData = (chunk: Buffer) => {
      ctx.stdin.off('data', onData);
      ctx.stdin.pause();
      resolve(chunk.toString('utf8'));
    };
    ctx.stdin.on('data', onData);
    ctx.stdin.resume();
  });
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new Failure('Not added: nothing was changed.');
}

/** The toolbox way: a shell from an ephemeral container, rooted at the target container's files. */
async function enterToolbox(ctx: Context, cluster: KubeCluster, pod: Pod, container: string, image: string, request: EnterRequest): Promise<number> {
  const { addToolbox, findToolbox, profileContext, PROFILES, toolboxCommand, toolboxSpec, waitToolbox, TOOLBOX_PREFIX } = await import('../engine/kubernetes/ephemeral.js');
  const profile = (request.profile ?? 'general') as (typeof PROFILES)[number];
  if (!PROFILES.includes(profile)) throw new InvalidArgument(`"${escapeName(profile)}" is not a toolbox profile.`, `Use one of: ${PROFILES.join(', ')}.`);
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  const podName = pod.metadata.name;
  let name: string;
  const existing = findToolbox(pod, container);
  if (existing) {
    name = existing.name;
    ctx.notice(`porthole: reusing the toolbox container ${name} already in pod/${podName}${existing.image !== image ? ` (image ${escapeName(existing.image)})` : ''}.`);
  } else {
    await confirmToolbox(ctx, request, podName, image);
    const { hostname } = await import('node:os');
    name = `${TOOLBOX_PREFIX}${sessionId()}`;
    await addToolbox(cluster, pod, toolboxSpec({ name, image, target: container, session: sessionId(), pid: process.pid, host: hostname(), securityContext: profileContext(profile, pod, container) }));
  }
  await waitToolbox(cluster, namespace, podName, name, ctx.signal);
  const env = request.tty && !request.env.some((e) => e.startsWith('TERM=')) ? [...request.env, `TERM=${ctx.env.TERM || 'xterm'}`] : request.env;
  return execIn(ctx, cluster, namespace, podName, name, wrapCommand(toolboxCommand(request.cmd), { env }), request);
}

/** Runs the command in a running container over the exec WebSocket; resolves with its exit code. */
async function execIn(ctx: Context, cluster: KubeCluster, namespace: string, pod: string, container: string, cmd: string[], request: EnterRequest): Promise<number> {
  const { openExec } = await import('../engine/kubernetes/exec-stream.js');
  const stdin = !ctx.stdinIsNull;
  const stream = await openExec(cluster.client, { namespace, pod, container, command: cmd, stdin, tty: request.tty });
  if (stdin && !request.tty && !stream.canCloseStdin) {
    ctx.notice(`porthole: the API server speaks ${stream.protocol}, which cannot signal the end of input: a command that reads stdin to its end will wait.`);
  }
  const outcome = await runAttached(ctx, { socket: stream, head: Buffer.alloc(0) }, {
    tty: request.tty,
    stdin,
    resize: (rows, cols) => stream.resize(rows, cols),
    detachKeys: request.detachKeys,
  });
  if (outcome.detached) {
    ctx.notice(`\r\nporthole: detached from pod/${pod}; the command may keep running there.`);
    return 0;
  }
  return exitCode(ctx, stream, `pod/${pod}/${container}`, !request.cmd, outcome.error);
}

/** Waits until the copy's container runs; says what went wrong when it will not. */
async function waitRunning(ctx: Context, cluster: KubeCluster, namespace: string, name: string, container: string): Promise<void> {
  const { podPath } = await import('../engine/kubernetes/index.js');
  const deadline = Date.now() + 120_000;
  let delay = 100;
  let last = '';
  while (!ctx.signal.aborted) {
    const pod = await cluster.client.get<Pod>(podPath(namespace, name), { verb: 'get', resource: 'pods', namespace, name });
    const status = pod.status?.containerStatuses?.find((c) => c.name === container);
    if (status?.state?.running) return;
    const waiting = status?.state?.waiting;
    if (waiting?.reason && HOPELESS.has(waiting.reason)) {
      throw new Failure(`The copy of the pod cannot start its container: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}.`);
    }
    if (status?.state?.terminated) {
      throw new Failure(`The copy's container ${container} exited at once (${status.state.terminated.reason ?? `code ${status.state.terminated.exitCode}`}): its image may have no sh to wait with.`, 'Try a command that the image has, or a toolbox.');
    }
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    last = unscheduled?.message ?? waiting?.reason ?? pod.status?.phase ?? 'no status yet';
    if (Date.now() > deadline) throw new Failure(`The copy of the pod did not start within 120 s: ${last}.`, `See \`kubectl describe pod ${name} -n ${namespace}\`.`);
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
  throw ctx.signal.reason as Error;
}

/** The copy way: a labelled copy of the pod with the container's command replaced, removed at the end. */
async function enterCopy(ctx: Context, cluster: KubeCluster, pod: Pod, container: string, why: string, cmd: string[], request: EnterRequest): Promise<number> {
  const { buildPodCopy, copyName, SLEEPER } = await import('../engine/kubernetes/pod-copy.js');
  const { podPath } = await import('../engine/kubernetes/index.js');
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  const name = copyName(pod.metadata.name, sessionId());
  // A kept copy is the user's from now on: no owned label, so gc never takes it (as a kept Docker snapshot).
  const labels = request.keep ? { [SESSION_LABEL]: sessionId(), 'io.porthole.copy': 'kept' } : sessionLabels(pod.metadata.name);
  const manifest = buildPodCopy(pod, { name, container, command: SLEEPER, labels });
  ctx.notice(
    `porthole: ${why}; working in a copy of the pod, pod/${name}, ${request.keep ? 'kept afterwards (--keep)' : 'removed at the end'}. ` +
      'Files the container wrote outside its volumes are not in the copy: Kubernetes cannot copy a writable layer.',
  );
  const remove = async () => {
    try {
      await cluster.client.send('DELETE', podPath(namespace, name), { gracePeriodSeconds: 1 }, { verb: 'delete', resource: 'pods', namespace, name });
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
  };
  // Registered before the create: a signal while the request is in flight must not leave the copy behind.
  const dropRemove = request.keep ? () => undefined : ctx.cleanup.add(`delete the copy pod/${name} in namespace ${namespace}`, remove);
  await cluster.client.send('POST', podPath(namespace), manifest, { verb: 'create', resource: 'pods', namespace, name });
  await waitRunning(ctx, cluster, namespace, name, container);
  try {
    return await execIn(ctx, cluster, namespace, name, container, cmd, request);
  } finally {
    if (request.keep) ctx.notice(`porthole: kept pod/${name} in namespace ${namespace}; remove it with \`kubectl delete pod ${name} -n ${namespace}\`.`);
    else {
      dropRemove();
      await remove();
    }
  }
}

/** `shell pod/X[/CONTAINER]` (or deploy/X, ...): picks the way by the container's state and runs the session. */
export async function enterPod(ctx: Context, cluster: KubeCluster, ref: KubeTargetRef, request: EnterRequest): Promise<number> {
  if (request.user) {
    throw new Unsupported('Kubernetes exec cannot run a command as another user (-u): the container runs it as its own user.', 'Use `su` or `sudo` inside, if the image has them.');
  }
  const { resolvePods, requireContainer } = await import('../engine/kubernetes/index.js');
  const resolved = await resolvePods(cluster, ref);
  if (resolved.chosen) ctx.notice(`porthole: ${resolved.chosen}.`);
  const pod = resolved.pod;
  const container = chooseContainer(pod, ref.container);
  requireContainer(pod, container);
  if (!pod.spec.containers.some((c) => c.name === container)) {
    throw new Unsupported(`${container} is an init container of pod/${pod.metadata.name}, and porthole enters only its regular containers for now.`, '`porthole logs` and `porthole why` show what it did.');
  }
  const cmd = wrapCommand(request.cmd ?? defaultShell(request.tty, ctx.env.TERM), request);
  const way = pickWay(pod, container);
  const namespace = pod.metadata.namespace ?? cluster.namespace;
  if (way.way === 'refuse') throw new Unsupported(`Cannot enter pod/${pod.metadata.name}: ${way.why}.`, way.hint);
  if (request.toolboxImage) {
    if (request.workdir) throw new InvalidArgument('-w does not apply with --toolbox: the session starts at the container\'s root.', 'Use `cd` in the session, or -- sh -c "cd DIR && ...".');
    if (way.way !== 'exec') throw new Unsupported(`--toolbox needs a running container, and ${way.way === 'copy' ? way.why : 'it is not running'}.`, 'Enter without --toolbox: porthole works in a copy of the pod.');
    return enterToolbox(ctx, cluster, pod, container, request.toolboxImage, request);
  }
  if (way.way === 'copy') return enterCopy(ctx, cluster, pod, container, way.why, cmd, request);
  try {
    // An interactive shell would take the user's typing before its failure showed: ask first whether there is one.
    if (!request.cmd && !(await hasShell(cluster, namespace, pod.metadata.name, container))) throw new NoShell('no shell');
    return await execIn(ctx, cluster, namespace, pod.metadata.name, container, cmd, request);
  } catch (err) {
    // It stopped between the look and the exec (nothing ran): look again, and work in a copy if it is down.
    if (!(err instanceof NoShell) && /container not found|not running|stopped state|no such container|container .* is not running/i.test((err as Error).message)) {
      const { podPath } = await import('../engine/kubernetes/index.js');
      const now = await cluster.client.get<Pod>(podPath(namespace, pod.metadata.name), { verb: 'get', resource: 'pods', namespace, name: pod.metadata.name });
      const again = pickWay(now, container);
      if (again.way === 'copy') return enterCopy(ctx, cluster, now, container, again.why, cmd, request);
      throw err;
    }
    // No shell in the container: the configured toolbox, if there is one.
    const configured = ctx.env.PORTHOLE_K8S_TOOLBOX;
    if (!(err instanceof NoShell)) throw err;
    if (!configured) {
      throw new Unsupported(
        `pod/${pod.metadata.name}/${container} has no shell (/bin/sh).`,
        'Enter through a toolbox container with --toolbox IMAGE (an image the node can get, with sh), or set PORTHOLE_K8S_TOOLBOX=IMAGE to use one whenever a container has no shell.',
      );
    }
    return enterToolbox(ctx, cluster, pod, container, configured, request);
  }
}
