// `porthole gc`: removes what porthole sessions that were killed outright (kill -9, a crash, a power cut) left on
// the engine. Only things labelled io.porthole.owned=true are considered, and only those whose owning process is
// gone (its PID missing, or reused by another process with a different start time).
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { NotFound } from '../errors.js';
import { HOST_LABEL, OWNED_LABEL, PID_LABEL, SESSION_LABEL, ownerAlive } from '../enter/session.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';

export const spec = defineCommand({
  name: 'gc',
  summary: 'Remove what killed porthole sessions left behind (only things porthole made)',
  usage: 'porthole gc [--dry-run] [--json]',
  description:
    'Removes containers, images and volumes labelled io.porthole.owned=true whose porthole session is no longer\n' +
    'running. Never touches anything without that label, nor what a live session is using.',
  options: {
    'dry-run': { type: 'boolean', short: 'n', description: 'List what would be removed, remove nothing' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  args: { min: 0, max: 0 },
  examples: ['porthole gc --dry-run', 'porthole gc', 'porthole gc --json'],
});

type Options = Parsed<typeof spec.options>;

export type GcKind = 'container' | 'image' | 'volume';

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

function item(kind: GcKind, id: string, name: string, labels: Record<string, string>): GcItem {
  const pid = Number(labels[PID_LABEL]);
  return {
    kind,
    id,
    name,
    session: labels[SESSION_LABEL] || null,
    pid: Number.isInteger(pid) && pid > 0 ? pid : null,
    host: labels[HOST_LABEL] || null,
  };
}

/** Splits labelled things into the dead sessions' (to remove) and the rest (kept, with a reason). Pure. */
export function triage(
  things: { item: GcItem; labels: Record<string, string> }[],
  alive: (labels: Record<string, string>) => boolean | 'unknown' = ownerAlive,
): { remove: GcItem[]; kept: GcResult['kept'] } {
  const remove: GcItem[] = [];
  const kept: GcResult['kept'] = [];
  for (const { item: thing, labels } of things) {
    if (labels[OWNED_LABEL] !== 'true') continue; // belt and braces: the engine filtered on it already
    const state = alive(labels);
    if (state === true) kept.push({ ...thing, reason: `its session is still running (pid ${thing.pid ?? '?'})` });
    else if (state === 'unknown') kept.push({ ...thing, reason: `made by a session on host ${thing.host ?? '?'}, which cannot be checked from here` });
    else remove.push(thing);
  }
  return { remove, kept };
}

async function removeOne(engine: EngineClient, thing: GcItem): Promise<void> {
  try {
    if (thing.kind === 'container') await engine.removeContainer(thing.id, { force: true });
    // Not forced: an image some other container still uses stays, and the failure is reported.
    else if (thing.kind === 'image') await engine.removeImage(thing.id);
    else await engine.removeVolume(thing.id);
  } catch (err) {
    if (err instanceof NotFound) return; // gone already (its session's own cleanup, or another gc)
    throw err;
  }
}

export async function run(ctx: Context, parsed: Options): Promise<GcResult> {
  const engine = await ctx.engine();
  const filters = { label: [`${OWNED_LABEL}=true`] };
  const [containers, images, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters }),
    engine.listImages({ filters }),
    engine.listVolumes({ filters }),
  ]);
  const things = [
    ...containers.map((c) => ({ item: item('container', c.id, c.names[0] ?? c.id.slice(0, 12), c.labels), labels: c.labels })),
    ...images.map((i) => {
      const tag = i.repoTags.find((t) => t !== '<none>:<none>');
      return { item: item('image', i.id, tag ?? i.id.replace(/^sha256:/, '').slice(0, 12), i.labels), labels: i.labels };
    }),
    ...volumes.map((v) => ({ item: item('volume', v.name, v.name, v.labels), labels: v.labels })),
  ];
  const { remove, kept } = triage(things);
  const result: GcResult = { dryRun: parsed.options['dry-run'], removed: [], kept, failed: [] };
  if (result.dryRun) {
    result.removed = remove;
    return result;
  }
  // Containers first: they hold the images and volumes.
  for (const kind of ['container', 'image', 'volume'] as const) {
    await Promise.all(
      remove
        .filter((t) => t.kind === kind)
        .map(async (thing) => {
          try {
            await removeOne(engine, thing);
            result.removed.push(thing);
          } catch (err) {
            result.failed.push({ ...thing, error: (err as Error).message });
          }
        }),
    );
  }
  return result;
}

function describe(thing: GcItem): string {
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
