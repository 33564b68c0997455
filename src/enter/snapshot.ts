// The snapshot way into a container that is not running (exited, created, dead): commit it to a labelled
// image, start a debug container from that image with the shell (or the user's command) as its entrypoint, and
// attach as the exec way does. The original is only read (commit without pause); the copy and the image are
// removed on every exit path through ctx.cleanup.
import type { Context } from '../context.js';
import type { ContainerCreateSpec, ContainerDetails, EngineClient, ResourceLimits } from '../engine/types.js';
import { formatBytes } from '../render/table.js';
import { EngineError, Failure, NotFound } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { runAttached } from './attach.js';
import { removeLeftover } from './remove.js';
import { sessionEnv } from './exec.js';
import { ALL_OWNER_KEYS, IMAGE_SESSION_LABEL, IMAGE_TARGET_LABEL, SNAPSHOT_LABEL, containerName, sessionId, sessionImageLabels, sessionLabels } from './session.js';
import type { EnterRequest } from './types.js';

/** Label key prefixes of orchestrators that find "their" containers by label; a debug copy must not look like one. */
export const ORCHESTRATOR_LABEL_PREFIXES = [
  'com.docker.compose.',
  'com.docker.swarm.',
  'com.docker.stack.',
  'io.kubernetes.',
  'io.cri-containerd.',
  'io.podman.compose.',
  'com.docker.desktop.',
];

/** porthole's own ownership labels on the original (when it is itself a porthole copy, or runs a snapshot) must not carry over. */
const OWN_KEYS = ALL_OWNER_KEYS;

/**
 * Labels for a thing porthole makes from `target`: the session's own, and every orchestrator label the target
 * carries blanked out. Images and containers inherit labels and docker cannot remove one, so a blank value is
 * what keeps `com.docker.compose.project=NAME` filters (compose ps/down, k8s, swarm) from matching the copy.
 */
export function neutralLabels(targetLabels: Record<string, string>, own: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of Object.keys(targetLabels)) {
    if (ORCHESTRATOR_LABEL_PREFIXES.some((p) => key.startsWith(p)) || OWN_KEYS.includes(key)) labels[key] = '';
  }
  return { ...labels, ...own };
}

/** The commit message of every snapshot: gc takes an image for a snapshot only with it. */
export const SNAPSHOT_COMMENT = 'porthole snapshot of ';

/** A repository name docker accepts, from a container name (lower case, [a-z0-9._-]). */
export function snapshotRepo(containerName: string): string {
  const base = containerName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/[._-]+$/, '');
  return `porthole-snapshot/${base || 'container'}`;
}

export interface Snapshot {
  /** Image id. */
  id: string;
  /** repo:tag when kept (--keep), else undefined (an untagged image removed at the end). */
  name: string | undefined;
  elapsedMs: number;
}

/**
 * Commits the stopped container to an image labelled for this session (or, with keep, a tagged image without
 * the owned label, so gc leaves it). Registers the image's removal before the request goes out, so a signal
 * during a long commit still removes it once the engine has made it.
 */
export async function takeSnapshot(ctx: Context, engine: EngineClient, target: ContainerDetails, opts: { keep: boolean }): Promise<Snapshot> {
  const started = Date.now();
  // an image named as the target is its own snapshot: nothing to commit, nothing to remove
  if (target.isImage) return { id: target.imageId, name: undefined, elapsedMs: 0 };
  // Image-namespace labels: the debug container made from this image must not inherit porthole's container labels.
  const own = opts.keep ? { [IMAGE_SESSION_LABEL]: sessionId(), [IMAGE_TARGET_LABEL]: target.id, [SNAPSHOT_LABEL]: 'kept' } : sessionImageLabels(target.id);
  const repo = opts.keep ? snapshotRepo(target.name) : undefined;
  const tag = opts.keep ? `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${sessionId()}` : undefined;
  const commit = engine.commitContainer(target.id, {
    repo,
    tag,
    labels: neutralLabels(target.config.labels, own),
    pause: false,
    comment: `${SNAPSHOT_COMMENT}${target.name}`,
  });
  let drop = () => undefined as void;
  if (!opts.keep) {
    drop = ctx.cleanup.add('remove the snapshot image', async () => {
      const id = await commit.catch(() => undefined);
      if (id) await removeLeftover(id, () => engine.removeImage(id, { force: true }), engine.endpoint);
    });
  }
  try {
    const id = await commit;
    return { id, name: repo ? `${repo}:${tag}` : undefined, elapsedMs: Date.now() - started };
  } catch (err) {
    drop();
    throw err;
  }
}

/** The debug container's specification: what the original had that matters for debugging, and nothing else. */
export function debugContainerSpec(
  target: ContainerDetails,
  imageId: string,
  request: EnterRequest & { cmd: string[] },
  userEnv: NodeJS.ProcessEnv,
): ContainerCreateSpec {
  const mounts: NonNullable<NonNullable<ContainerCreateSpec['hostConfig']>['mounts']> = [];
  const tmpfs: Record<string, string> = {};
  for (const m of target.mounts) {
    const readOnly = !m.rw || !request.rwMounts;
    if (m.type === 'volume' && m.name) mounts.push({ type: 'volume', source: m.name, target: m.destination, readOnly });
    else if (m.type === 'bind') mounts.push({ type: 'bind', source: m.source, target: m.destination, readOnly });
    else if (m.type === 'tmpfs') tmpfs[m.destination] = '';
  }
  // An image VOLUME the original has no mount for would make the engine create a new, unlabelled volume.
  const declared = Object.keys(((target.raw as any)?.Config?.Volumes ?? {}) as Record<string, unknown>);
  for (const path of declared) {
    if (!target.mounts.some((m) => m.destination === path) && !(path in tmpfs)) tmpfs[path] = '';
  }
  const user = request.user ?? target.config.user;
  const workingDir = request.workdir ?? target.config.workingDir;
  return {
    name: containerName(target.isImage ? 'image shell' : 'debug copy', target.name),
    image: imageId,
    entrypoint: [request.cmd[0]!],
    cmd: request.cmd.slice(1),
    env: [...target.config.env, ...sessionEnv(request, userEnv)],
    ...(user ? { user } : {}),
    ...(workingDir ? { workingDir } : {}),
    labels: neutralLabels(target.config.labels, sessionLabels(target.id)),
    tty: request.tty,
    openStdin: true,
    stdinOnce: true,
    attachStdin: true,
    attachStdout: true,
    attachStderr: true,
    healthcheckNone: true,
    hostConfig: {
      mounts,
      ...(Object.keys(tmpfs).length ? { tmpfs } : {}),
      networkMode: request.network ?? (target.hostConfig.networkMode || 'default'),
      autoRemove: false,
      // The original's limits, so what killed it (an OOM kill, a PID limit) can happen again in the copy.
      ...(request.noLimits ? {} : { limits: target.hostConfig.limits }),
    },
  };
}

/** docker run's exit codes for a command the runtime could not start: 127 not found, 126 not runnable. */
export function startFailureCode(message: string): number | undefined {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|exec format error|is a directory/i.test(message)) return 126;
  return undefined;
}

/**
 * Creates the debug container, attaches, starts it and runs the session; resolves with its exit code. The
 * container is removed through ctx.cleanup however the session ends.
 */
export async function runDebugContainer(ctx: Context, engine: EngineClient, spec: ContainerCreateSpec, request: EnterRequest): Promise<number> {
  const create = engine.createContainer(spec);
  ctx.cleanup.add('remove the debug container', async () => {
    const id = await create.catch(() => undefined);
    if (id) await removeLeftover(id, () => engine.removeContainer(id, { force: true }), engine.endpoint);
  });
  const id = await create;
  // Attach before start, so nothing the process prints first is lost (as docker run does).
  const attached = await engine.attachContainer(id, { stdin: true });
  try {
    await engine.startContainer(id);
  } catch (err) {
    attached.socket.destroy();
    const code = err instanceof EngineError ? startFailureCode(err.message) : undefined;
    if (code === undefined && err instanceof EngineError && /network|namespace/i.test(err.message) && request.network !== 'none') {
      throw new Failure(`The debug copy could not join the original's network: ${err.message}`, 'Run again with --network none.');
    }
    if (code === undefined) throw err;
    ctx.stderr.write(`porthole: ${err instanceof Error ? err.message : String(err)}\n`);
    return code;
  }
  // After start, "not-running" cannot miss the exit: an exited container answers with its code at once.
  const waited = engine.waitContainer(id, 'not-running');
  waited.catch(() => undefined);
  const outcome = await runAttached(ctx, attached, {
    tty: request.tty,
    resize: (rows, cols) => engine.resizeContainer(id, rows, cols),
    detachKeys: request.detachKeys,
    exited: () => waited,
  });
  if (outcome.detached) {
    ctx.notice('\r\nporthole: detached; the debug copy is removed now.');
    return 0;
  }
  try {
    return (await waited).statusCode;
  } catch (err) {
    // An unreachable engine explains itself; a missing container needs saying.
    if (err instanceof NotFound) throw new Failure('The debug container went away before porthole could read its exit code.');
    throw err;
  }
}

/** "memory 16.0MiB, 0.5 CPUs, 64 PIDs": the limits a person set, in docker run's terms; '' when none. */
export function describeLimits(limits: ResourceLimits = {}): string {
  const parts: string[] = [];
  if (limits.memory) parts.push(`memory ${formatBytes(limits.memory)}`);
  if (limits.memorySwap && limits.memorySwap > 0 && limits.memorySwap !== limits.memory) parts.push(`memory+swap ${formatBytes(limits.memorySwap)}`);
  if (limits.nanoCpus) parts.push(`${limits.nanoCpus / 1e9} CPUs`);
  else if (limits.cpuQuota && limits.cpuQuota > 0) parts.push(`CPU quota ${limits.cpuQuota}/${limits.cpuPeriod || 100000}`);
  if (limits.cpusetCpus) parts.push(`CPUs ${limits.cpusetCpus}`);
  if (limits.pidsLimit && limits.pidsLimit > 0) parts.push(`${limits.pidsLimit} PIDs`);
  if (limits.ulimits?.length) parts.push(`ulimits ${limits.ulimits.map((u) => u.name).join(', ')}`);
  return parts.join(', ');
}

function describeState(target: ContainerDetails): string {
  const s = target.state;
  if (s.status === 'exited') return `exited with code ${s.exitCode}`;
  if (s.status === 'created') return 'created but never started';
  if (s.status === 'restarting' || s.restarting) return `crash-looping: restarted ${target.restartCount} times${s.exitCode >= 0 ? `, last exit code ${s.exitCode}` : ''}`;
  return s.status;
}

/** The snapshot way: request.cmd is the command, or the shell chosen from the original's /etc/passwd. */
export async function enterBySnapshot(ctx: Context, target: ContainerDetails, request: EnterRequest & { cmd: string[] }): Promise<number> {
  const engine = await ctx.engine();
  const name = escapeName(target.name);
  ctx.notice(
    `porthole: ${name} is not running (${describeState(target)}): working in a snapshot of it. ` +
      'Changes you make stay in the copy; the original is not touched.',
  );
  const limits = describeLimits(target.hostConfig.limits);
  if (limits) {
    ctx.notice(
      request.noLimits
        ? `porthole: the copy runs without ${name}'s limits (${limits}), as --no-limits asks.`
        : `porthole: the copy keeps ${name}'s limits (${limits}), so what killed it can happen again; --no-limits lifts them.`,
    );
  }
  const snapshot = await takeSnapshot(ctx, engine, target, { keep: request.keep });
  if (snapshot.elapsedMs > 1000) ctx.notice(`porthole: the snapshot took ${(snapshot.elapsedMs / 1000).toFixed(1)} s.`);
  const code = await runDebugContainer(ctx, engine, debugContainerSpec(target, snapshot.id, request, ctx.env), request);
  if (snapshot.name) ctx.notice(`porthole: kept the snapshot image ${snapshot.name} (remove it with \`docker rmi ${snapshot.name}\`).`);
  return code;
}
