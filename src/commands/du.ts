// `porthole du C [PATH]`: how much the container's own layer adds, folder by folder, biggest first (from its
// diff and one pass over its files); --all counts the whole filesystem instead.
import { composeOptions, imageOption } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { inArchiveOf, layerEntry } from '../fs/entry.js';
import { decode, fromUser, isWithin, jsonBytes, normalize, show } from '../fs/paths.js';
import { OutputBuffer, statOrNotFound, walkNames } from '../fs/source.js';
import { formatBytes, widest } from '../render/table.js';

export const spec = defineCommand({
  name: 'du',
  summary: 'Show how much space the container\'s own layer adds, biggest folders first',
  usage: 'porthole du CONTAINER [PATH] [--all] [--json]',
  description:
    'Counts the files the container added or changed since its image (docker diff), summed per folder; PATH\n' +
    '(default /) limits the count to one folder. --all counts every file, image included.',
  options: {
    ...composeOptions, ...imageOption,
    all: { type: 'boolean', description: 'Count the whole filesystem, not only what the container changed' },
    json: { type: 'boolean', description: 'Print [{path, size}] (bytes), biggest first' },
  },
  args: { min: 1, max: 2 },
  examples: ['porthole du web', 'porthole du --all web /usr', 'porthole du --json crashed /var'],
});

export interface DuRow {
  path: string;
  size: number;
}

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  const root = normalize(fromUser(parsed.args[1] ?? '/'));
  if (root !== '/') await statOrNotFound(engine, container.id, root);
  let changed: Set<string> | undefined;
  // an image has no changes of its own: all of it counts
  if (!opts.all && !container.isImage) {
    changed = new Set();
    for (const c of await engine.changes(container.id)) {
      if (c.kind !== 'D' && isWithin(c.path, decode(root).text)) changed.add(c.path);
    }
  }
  // Only folders are kept (files are summed into them), so memory follows the number of folders. Sizes go to
  // the direct parent first and are carried up once at the end: linear even for a folder thousands deep.
  const totals = new Map<string, number>();
  const parentOf = (path: string) => {
    const cut = path.lastIndexOf('/');
    return cut <= 0 ? '/' : path.slice(0, cut);
  };
  const ensure = (dir: string) => {
    for (let d = dir; !totals.has(d); d = parentOf(d)) {
      totals.set(d, 0);
      if (d === root || d === '/') break;
    }
  };
  const count = (entry: { path: string; type: string; size: number }) => {
    if (entry.type === 'dir') ensure(entry.path);
    else if (entry.type === 'file') {
      const dir = entry.path === root ? root : parentOf(entry.path);
      ensure(dir);
      totals.set(dir, totals.get(dir)! + entry.size);
    }
  };
  // What the container changed is all in its own layer: read there, the image is not read along.
  const fromLayer = changed?.size ? await engine.statChanges?.(container.id, [...changed]).catch(() => undefined) : undefined;
  if (fromLayer) {
    for (const [path, e] of fromLayer) count(layerEntry(fromUser(path), inArchiveOf(root, e)));
  } else if (!changed || changed.size) {
    for await (const entry of walkNames(engine, container.id, root)) {
      if (changed && !changed.has(decode(entry.path).text)) continue;
      count(entry);
    }
  }
  const deepestFirst = [...totals.keys()].filter((d) => d !== root).sort((a, b) => b.length - a.length);
  for (const dir of deepestFirst) {
    const parent = parentOf(dir);
    totals.set(parent, (totals.get(parent) ?? 0) + totals.get(dir)!);
  }
  if (!totals.size) totals.set(root, 0);
  const rows = [...totals].map(([path, size]) => ({ path, size })).sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  const out = new OutputBuffer(ctx.stdout);
  if (opts.json) {
    await out.write(`[\n${rows.map((r) => `  ${JSON.stringify({ ...jsonBytes('path', r.path), size: r.size })}`).join(',\n')}\n]\n`);
  } else {
    const sizes = rows.map((r) => formatBytes(r.size));
    const width = widest(sizes);
    for (let i = 0; i < rows.length; i++) await out.write(`${sizes[i]!.padStart(width)}  ${show(rows[i]!.path)}\n`);
  }
  await out.flush();
}
