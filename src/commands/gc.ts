// `porthole gc`: removes what porthole sessions that were killed outright (kill -9, a crash, a power cut) left on
// the engine, and only what porthole can prove it made. A label proves nothing by itself: a container inherits
// every label of its image, so an image labelled io.porthole.owned=true would make its containers look owned.
// A container counts as porthole's only when
//   - all the owner labels porthole writes (owned, session, pid, pid-start, host) are there, in porthole's form,
//     and none of them equals its image's label of the same key (then porthole, not the image, wrote it);
//   - its name is one porthole gives, ending in that session id;
//   - it is the kind porthole makes under that name: a debug copy runs porthole's snapshot image of the same
//     session (image labels in their own namespace, porthole's commit message), a toolbox sidecar runs porthole's
//     toolbox command, the toolbox reader and filler were never started;
//   - its owner is gone: no process with that PID and start time on this host (other hosts: kept).
// An image counts as porthole's snapshot only with the image-namespace owner labels, porthole's commit message,
// no tag and no digest. porthole makes no volumes, so gc removes none; it lists labelled ones as kept.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { ContainerDetails, ContainerState, EngineClient, ImageDetails } from '../engine/types.js';
import { EngineUnavailable, NotFound } from '../errors.js';
import { kubeFlags, openKube } from '../cli/kube-flags.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import { SNAPSHOT_COMMENT } from '../enter/snapshot.js';
import {
  CONTAINER_KEYS,
  IMAGE_KEYS,
  IMAGE_OWNED_LABEL,
  IMAGE_SESSION_LABEL,
  OWNED_LABEL,
  SNAPSHOT_LABEL,
  TARGET_LABEL,
  kindOfName,
  ownerProcessAlive,
  readOwner,
  type Owner,
} from '../enter/session.js';
import { SETUP_SCRIPT } from '../enter/toolbox.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';
import { TOOLBOX_SHELL } from '../toolbox/image.js';

export const spec = defineCommand({
  name: 'gc',
  summary: 'Remove what killed porthole sessions left behind (only things porthole made)',
  usage: 'porthole gc [--dry-run] [--json]',
  description:
    'Removes the containers and snapshot images a porthole session that was killed left behind, and nothing\n' +
    'else: a thing counts as porthole\'s only when porthole\'s own labels were written on it (not inherited from\n' +
    'its image), its name is one porthole gives, it is the kind porthole makes, and its session\'s process is gone.\n' +
    'Everything else carrying porthole labels is listed as kept, with the reason. With a kubeconfig, the same for\n' +
    "the pod copies `shell pod/X` makes (in every namespace it may list pods in, else the context's).",
  options: {
    'dry-run': { type: 'boolean', short: 'n', description: 'List what would be removed, remove nothing' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  args: { min: 0, max: 0 },
  examples: ['porthole gc --dry-run', 'porthole gc', 'porthole gc --json'],
});

type Options = Parsed<typeof spec.options>;

export type GcKind = 'container' | 'image' | 'volume' | 'pod';

export interface GcItem {
  kind: GcKind;
  id: string;
  name: string;
  session: string | null;
  pid: number | null;
  host: string | null;
}

export interface GcResult {
  dryRun: boolean;
  /** Removed (or, with --dry-run, to be removed). */
  removed: GcItem[];
  /** Left alone, each with the reason. */
  kept: (GcItem & { reason: string })[];
  failed: (GcItem & { error: string })[];
}

function item(kind: GcKind, id: string, name: string, labels: Record<string, string>, keys = CONTAINER_KEYS): GcItem {
  const pid = Number(labels[keys.pid]);
  return {
    kind,
    id,
    name,
    session: labels[keys.session] || null,
    pid: Number.isInteger(pid) && pid > 0 ? pid : null,
    host: labels[keys.host] || null,
  };
}

/** What gc looks at on a container. */
export interface ContainerFacts {
  name: string;
  state: ContainerState;
  labels: Record<string, string>;
  path: string;
  args: string[];
}

/** What gc looks at on an image. */
export interface ImageFacts {
  labels: Record<string, string>;
  repoTags: string[];
  repoDigests: string[];
  comment: string;
}

export type Alive = (owner: Owner) => boolean | 'unknown';
/** Remove it, or keep it for the reason given. */
export type Verdict = { remove: true } | { remove: false; reason: string };

function byOwner(owner: Owner, alive: Alive): Verdict {
  const state = alive(owner);
  if (state === true) return { remove: false, reason: `its session is still running (pid ${owner.pid})` };
  if (state === 'unknown') return { remove: false, reason: `made by a session on host ${owner.host}, which cannot be checked from here` };
  return { remove: true };
}

/** Whether a container is one porthole made for a session now gone (pure; `image` is its image, if it still exists). */
export function judgeContainer(container: ContainerFacts, image: ImageFacts | undefined, alive: Alive = ownerProcessAlive): Verdict {
  if (!image) return { remove: false, reason: 'its image is gone, so porthole cannot tell the labels it wrote from inherited ones' };
  const owner = readOwner(container.labels, CONTAINER_KEYS, image.labels);
  if (typeof owner === 'string') return { remove: false, reason: `not porthole's: ${owner}` };
  const kind = kindOfName(container.name, owner.session);
  if (!kind) return { remove: false, reason: `not porthole's: its name is not one porthole gives a container of session ${owner.session}` };
  if (kind === 'debug copy') {
    const snapshot = image.labels[IMAGE_OWNED_LABEL] === 'true' || image.labels[SNAPSHOT_LABEL] === 'kept';
    if (!snapshot || image.labels[IMAGE_SESSION_LABEL] !== owner.session || !image.comment.startsWith(SNAPSHOT_COMMENT)) {
      return { remove: false, reason: `not porthole's: it does not run porthole's snapshot of session ${owner.session}` };
    }
  } else if (kind === 'image shell') {
    // shell IMAGE's container runs the user's own image: its target label names that image (an image id)
    if (!/^sha256:[0-9a-f]{64}$/.test(container.labels[TARGET_LABEL] ?? '')) return { remove: false, reason: "not porthole's: it names no image as its target" };
  } else if (kind === 'toolbox sidecar') {
    const [c, script, name] = container.args;
    if (container.path !== TOOLBOX_SHELL || c !== '-c' || script !== SETUP_SCRIPT || name !== 'porthole-toolbox') {
      return { remove: false, reason: "not porthole's: it does not run porthole's toolbox command" };
    }
  } else {
    if (container.state !== 'created') return { remove: false, reason: `not porthole's: porthole never starts a ${kind}, and this one was started` };
    if (container.path !== 'true' || container.args.length) return { remove: false, reason: `not porthole's: a ${kind} runs \`true\`, this one does not` };
  }
  return byOwner(owner, alive);
}

/** Whether an image is a snapshot porthole made for a session now gone (pure). */
export function judgeImage(image: ImageFacts, alive: Alive = ownerProcessAlive): Verdict {
  const owner = readOwner(image.labels, IMAGE_KEYS);
  if (typeof owner === 'string') return { remove: false, reason: `not porthole's: ${owner}` };
  if (image.repoTags.length || image.repoDigests.length) return { remove: false, reason: "it has a name or a digest, which porthole's snapshots never have" };
  if (!image.comment.startsWith(SNAPSHOT_COMMENT)) return { remove: false, reason: "not porthole's: it was not committed by porthole" };
  return byOwner(owner, alive);
}

function containerFacts(details: ContainerDetails): ContainerFacts {
  return { name: details.name, state: details.state.status, labels: details.config.labels, path: details.path, args: details.args };
}

function imageFacts(details: ImageDetails): ImageFacts {
  return { labels: details.config.labels, repoTags: details.repoTags, repoDigests: details.repoDigests, comment: details.comment };
}

/** Runs an engine look-up; undefined when the thing is gone. */
async function unlessGone<T>(look: () => Promise<T>): Promise<T | undefined> {
  try {
    return await look();
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

async function removeOne(engine: EngineClient, thing: GcItem): Promise<void> {
  try {
    if (thing.kind === 'container') await engine.removeContainer(thing.id, { force: true });
    // Not forced: an image some other container still uses stays, and the failure is reported.
    else await engine.removeImage(thing.id);
  } catch (err) {
    if (err instanceof NotFound) return; // gone already (its session's own cleanup, or another gc)
    throw err;
  }
}

/** The Kubernetes half: pod copies porthole left, judged; undefined when there is no cluster to look at. */
async function podLeftovers(ctx: Context): Promise<{ cluster: KubeCluster; remove: GcItem[]; kept: GcResult['kept']; scope: string } | undefined> {
  let cluster: KubeCluster;
  try {
    cluster = await openKube(ctx, kubeFlags(ctx, {}));
  } catch (err) {
    // No kubeconfig at all: a Docker-only machine, nothing to say.
    if (err instanceof EngineUnavailable && /^No kubeconfig found/.test(err.message)) return undefined;
    throw err;
  }
  const { judgePod, listPortholePods } = await import('../engine/kubernetes/gc-pods.js');
  const { pods, scope } = await listPortholePods(cluster);
  const remove: GcItem[] = [];
  const kept: GcResult['kept'] = [];
  for (const pod of pods) {
    const verdict = judgePod(pod);
    const ns = pod.metadata.namespace ?? '';
    const thing: GcItem = { kind: 'pod', id: pod.metadata.uid ?? '', name: `${ns}/${pod.metadata.name}`, session: verdict.owner?.session ?? null, pid: verdict.owner?.pid ?? null, host: verdict.owner?.host ?? null };
    if (verdict.remove) remove.push(thing);
    else kept.push({ ...thing, reason: verdict.reason });
  }
  return { cluster, remove, kept, scope };
}

async function removePod(cluster: KubeCluster, thing: GcItem): Promise<void> {
  const { deletePod } = await import('../engine/kubernetes/gc-pods.js');
  const [namespace, name] = thing.name.split('/') as [string, string];
  try {
    await deletePod(cluster, namespace, name, thing.id || undefined);
  } catch (err) {
    if (err instanceof NotFound) return;
    throw err;
  }
}

export async function run(ctx: Context, parsed: Options): Promise<GcResult> {
  // Both engines at once; either may be missing, not both.
  const kube = podLeftovers(ctx).then(
    (found) => ({ found, error: undefined as Error | undefined }),
    (error: Error) => ({ found: undefined, error }),
  );
  let engine: EngineClient | undefined;
  try {
    engine = await ctx.engine();
  } catch (err) {
    const k = await kube;
    if (!(err instanceof EngineUnavailable) || !k.found) throw err;
    ctx.notice(`porthole: Docker skipped: ${err.message}`);
  }
  const k = await kube;
  if (k.error) {
    if (!engine) throw k.error;
    ctx.notice(`porthole: Kubernetes skipped: ${k.error.message}`);
  } else if (k.found && !k.found.scope.startsWith('all')) ctx.notice(`porthole: Kubernetes: looked in ${k.found.scope}.`);
  const remove: GcItem[] = [...(k.found?.remove ?? [])];
  const kept: GcResult['kept'] = [...(k.found?.kept ?? [])];
  if (engine) await dockerLeftovers(engine, remove, kept);
  const order = (a: GcItem, b: GcItem) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
  remove.sort(order);
  kept.sort(order);
  const result: GcResult = { dryRun: parsed.options['dry-run'], removed: [], kept, failed: [] };
  if (result.dryRun) {
    result.removed = remove;
    return result;
  }
  // Pods and containers first: they hold the images.
  for (const kind of ['pod', 'container', 'image'] as const) {
    await Promise.all(
      remove
        .filter((t) => t.kind === kind)
        .map(async (thing) => {
          try {
            if (thing.kind === 'pod') await removePod(k.found!.cluster, thing);
            else await removeOne(engine!, thing);
            result.removed.push(thing);
          } catch (err) {
            result.failed.push({ ...thing, error: (err as Error).message });
          }
        }),
    );
  }
  return result;
}

async function dockerLeftovers(engine: EngineClient, remove: GcItem[], kept: GcResult['kept']): Promise<void> {
  const [containers, images, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: { label: [`${OWNED_LABEL}=true`] } }),
    engine.listImages({ filters: { label: [`${IMAGE_OWNED_LABEL}=true`] } }),
    engine.listVolumes({ filters: { label: [`${OWNED_LABEL}=true`] } }),
  ]);
  const imageCache = new Map<string, Promise<ImageDetails | undefined>>();
  const inspectImage = (id: string) => {
    if (!imageCache.has(id)) imageCache.set(id, unlessGone(() => engine.inspectImage(id)));
    return imageCache.get(id)!;
  };
  const sort = (thing: GcItem, verdict: Verdict) => (verdict.remove ? remove.push(thing) : kept.push({ ...thing, reason: verdict.reason }));
  await Promise.all(
    containers.map(async (summary) => {
      const details = await unlessGone(() => engine.inspectContainer(summary.id));
      if (!details) return; // gone since the listing
      const image = await inspectImage(details.imageId);
      sort(item('container', details.id, details.name, details.config.labels), judgeContainer(containerFacts(details), image && imageFacts(image)));
    }),
  );
  await Promise.all(
    images.map(async (summary) => {
      const details = await inspectImage(summary.id);
      if (!details) return;
      const name = details.repoTags[0] ?? details.id.replace(/^sha256:/, '').slice(0, 12);
      sort(item('image', details.id, name, details.config.labels, IMAGE_KEYS), judgeImage(imageFacts(details)));
    }),
  );
  for (const volume of volumes) {
    kept.push({ ...item('volume', volume.name, volume.name, volume.labels), reason: 'porthole makes no volumes, so it cannot have made this one' });
  }
}

function describe(thing: GcItem): string {
  if (thing.kind === 'pod') return `pod ${escapeName(thing.name)}${thing.session ? ` (session ${escapeName(thing.session)}${thing.pid ? `, pid ${thing.pid}` : ''})` : ''}`;
  const id = thing.kind === 'volume' ? '' : ` ${escapeName(thing.id.replace(/^sha256:/, '').slice(0, 12))}`;
  const name = thing.kind === 'volume' || thing.name.startsWith(thing.id.replace(/^sha256:/, '').slice(0, 12)) ? '' : ` ${escapeName(thing.name)}`;
  const owner = thing.session ? ` (session ${escapeName(thing.session)}${thing.pid ? `, pid ${thing.pid}` : ''})` : '';
  return `${thing.kind}${id}${name}${thing.kind === 'volume' ? ` ${escapeName(thing.name)}` : ''}${owner}`;
}

export function render(result: GcResult, parsed: Options): string {
  if (parsed.options.json) return renderJson(result);
  const lines: string[] = [];
  const verb = result.dryRun ? 'would remove' : 'removed';
  for (const thing of result.removed) lines.push(`${verb} ${describe(thing)}`);
  for (const thing of result.failed) lines.push(`could not remove ${describe(thing)}: ${escapeName(thing.error)}`);
  for (const thing of result.kept) lines.push(`kept ${describe(thing)}: ${thing.reason}`);
  if (!result.removed.length && !result.failed.length) {
    lines.unshift(result.kept.length ? 'Nothing to remove: everything porthole made belongs to a live session.' : 'Nothing to remove.');
  }
  return lines.join('\n') + '\n';
}

export function exitCode(result: GcResult): number {
  return result.failed.length ? 1 : 0;
}
