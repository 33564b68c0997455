// `porthole find C [PATH]`: find's name, type and size tests over a container's files, streamed from the engine;
// --newer-than-image keeps only what the container itself added or changed (from its diff), read from its own
// layer where the engine is local.
import { composeOptions, imageOption } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument } from '../errors.js';
import type { EngineClient } from '../engine/types.js';
import { entryJson, inArchiveOf, layerEntry, type FsEntry, type Owners } from '../fs/entry.js';
import { globToRegExp, parseSize, sizeMatches } from '../fs/match.js';
import { basename, decode, fromUser, isWithin, normalize, show, walkOrder } from '../fs/paths.js';
import { OutputBuffer, loadOwners, statOrNotFound, walkNames } from '../fs/source.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { podToolboxOptions } from '../fs/pod-way.js';
import { parseTarget } from '../engine/target.js';
import { Unsupported } from '../errors.js';
import { parseIdFile } from '../fs/entry.js';

export const spec = defineCommand({
  name: 'find',
  summary: 'Find files in a container by name, type, size, or changed since the image',
  usage: 'porthole find CONTAINER|pod/NAME[/CONTAINER] [PATH] [--name GLOB] [--type f|d|l] [--size +N|-N|N] [--newer-than-image] [-0] [--json]',
  description:
    'PATH defaults to /. Sizes are bytes unless followed by k, M or G (powers of 1024), compared exactly:\n' +
    '+N means more than N, -N less than N. Paths are escaped for the terminal; -0 prints them raw, NUL-ended.',
  options: {
    ...composeOptions, ...imageOption,
    name: { type: 'string', valueName: 'GLOB', description: 'Base name matches this shell glob (*, ?, [..])' },
    type: { type: 'string', valueName: 'f|d|l', description: 'Only files (f), folders (d) or symlinks (l)' },
    size: { type: 'string', valueName: '+N|-N|N', description: 'Size more than, less than, or exactly N (k, M, G suffixes)' },
    'newer-than-image': { type: 'boolean', description: 'Only what the container added or changed since its image' },
    print0: { type: 'boolean', short: '0', description: 'Print each path raw followed by a NUL byte (for xargs -0)' },
    json: { type: 'boolean', description: 'Print a JSON array of entries (as `porthole ls --json`)' },
    ...kubeOptions,
    ...podToolboxOptions,
  },
  args: { min: 1, max: 2 },
  examples: ['porthole find web /var/log --name "*.log" --size +10M', 'porthole find crashed --newer-than-image --type f'],
});

const TYPES = { f: 'file', d: 'dir', l: 'symlink' } as const;

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  if (opts.type !== undefined && !(opts.type in TYPES)) throw new InvalidArgument(`--type takes f, d or l, not "${opts.type}".`);
  const type = opts.type ? TYPES[opts.type as keyof typeof TYPES] : undefined;
  const size = opts.size !== undefined ? parseSize(opts.size) : undefined;
  const name = opts.name !== undefined ? globToRegExp(opts.name) : undefined;
  const root = normalize(fromUser(parsed.args[1] ?? '/'));
  const { entries, owners } = await source(ctx, parsed, root, opts.json || size !== undefined);
  const out = new OutputBuffer(ctx.stdout);
  let count = 0;
  for await (const entry of entries) {
    if (type && (entry.type === 'hardlink' ? 'file' : entry.type) !== type) continue;
    if (size && !sizeMatches(size, entry.type === 'file' ? entry.size : 0)) continue;
    if (name && !name.test(decode(basename(entry.path)).text)) continue;
    if (opts.json) await out.write(`${count ? ',\n' : '[\n'}  ${JSON.stringify(entryJson(entry, owners))}`);
    else if (opts.print0) await out.write(Buffer.from(`${entry.path}\0`, 'latin1'));
    else await out.write(`${show(entry.path)}\n`);
    count++;
  }
  if (opts.json) await out.write(count ? '\n]\n' : '[]\n');
  await out.flush();
}

/** The entries to test and the owner names for --json: streamed from the engine for a container, through exec for a pod. */
async function source(ctx: Context, parsed: Parsed<typeof spec.options>, root: string, details: boolean): Promise<{ entries: AsyncIterable<FsEntry> | Iterable<FsEntry>; owners: Owners }> {
  const opts = parsed.options;
  const ref = parseTarget(parsed.args[0]!);
  if (ref.engine === 'kubernetes') {
    if (opts['newer-than-image']) throw new Unsupported('Kubernetes keeps no writable-layer diff, so --newer-than-image cannot work on a pod.', 'Use --name, --type or --size.');
    const pod = await (await import('../fs/pod-source.js')).openPodFiles(ctx, ref, opts);
    const read = async (file: string) => {
      const parts: Buffer[] = [];
      await pod.cat(file, (chunk) => void parts.push(chunk)).catch(() => undefined);
      return parseIdFile(Buffer.concat(parts).subarray(0, 4 << 20).toString('utf8'));
    };
    // The owner files come in the walk's own exec; read with cat only where the pod cannot send them so (no od, head).
    const walked = await pod.walk(root, opts.json);
    const owners: Owners = { users: new Map(), groups: new Map() };
    if (walked.owners) {
      owners.users = parseIdFile(walked.owners.passwd);
      owners.groups = parseIdFile(walked.owners.group);
    } else if (opts.json) [owners.users, owners.groups] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
    return { entries: walked.entries, owners };
  }
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  const rootStat = await statOrNotFound(engine, container.id, root);
  let changed: Set<string> | undefined;
  if (opts['newer-than-image']) {
    changed = new Set((await engine.changes(container.id)).filter((c) => c.kind !== 'D').map((c) => c.path));
  }
  const owners: Owners = opts.json ? await loadOwners(engine, container.id) : { users: new Map(), groups: new Map() };
  return { entries: changed ? changedEntries(engine, container.id, root, changed) : walkNames(engine, container.id, root, details, rootStat), owners };
}

/**
 * The entries under `root` that the container changed, in the engine's walk order: from its own layer where the
 * engine is local (the image is not read along), else filtered from the engine's walk.
 */
async function* changedEntries(engine: EngineClient, id: string, root: string, changed: Set<string>): AsyncGenerator<FsEntry> {
  const rootText = decode(root).text;
  const below = [...changed].filter((p) => isWithin(p, rootText));
  if (!below.length) return; // nothing changed there: no need to read anything
  const fromLayer = await engine.statChanges?.(id, below).catch(() => undefined);
  if (fromLayer) {
    yield* [...fromLayer].map(([path, e]) => layerEntry(fromUser(path), inArchiveOf(root, e))).sort((a, b) => walkOrder(a.path, b.path));
    return;
  }
  for await (const entry of walkNames(engine, id, root)) if (changed.has(decode(entry.path).text)) yield entry;
}
