// `porthole diff C`: what the container changed compared with its image. By default docker diff's exact lines
// and order; -l, --tree and --json add type, size and mode from the container's own layer where the engine is
// local, else from ONE pass over its whole filesystem (walkNames: the layers or the export; not a request per file).
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { buildTree, changeLine, filterKinds, renderTree, type ChangeInfo, type DetailedChange } from '../fs/changes.js';
import { layerEntry, modeString, type FsEntry } from '../fs/entry.js';
import { decode, fromUser } from '../fs/paths.js';
import { OutputBuffer, walkNames } from '../fs/source.js';
import { escapeName } from '../render/escape.js';
import { formatBytes, widest } from '../render/table.js';

export const spec = defineCommand({
  name: 'diff',
  summary: 'Show what a container changed in its filesystem (A added, C changed, D deleted)',
  usage: 'porthole diff CONTAINER [-l] [--tree] [--added] [--changed] [--deleted] [--json]',
  description:
    'Without flags the output is docker diff\'s, line for line (names with control characters are escaped).\n' +
    'The filters combine: --added --deleted shows both.',
  options: {
    ...composeOptions,
    long: { type: 'boolean', short: 'l', description: 'Add type, size and mode of added and changed entries' },
    tree: { type: 'boolean', description: 'Draw the changes as a tree with the size changed below each folder' },
    added: { type: 'boolean', description: 'Only added entries (A)' },
    changed: { type: 'boolean', description: 'Only changed entries (C)' },
    deleted: { type: 'boolean', description: 'Only deleted entries (D)' },
    json: { type: 'boolean', description: 'Print [{path, kind, type, size, mode}] (type, size, mode null for D)' },
  },
  args: { min: 1, max: 1 },
  examples: ['porthole diff web', 'porthole diff -l --added web', 'porthole diff --tree crashed'],
});

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  const changes: DetailedChange[] = filterKinds(await engine.changes(container.id), opts);
  const out = new OutputBuffer(ctx.stdout);
  if (!opts.long && !opts.tree && !opts.json) {
    for (const change of changes) await out.write(`${changeLine(change)}\n`);
    await out.flush();
    return;
  }
  // The engine's change paths are UTF-8 text (invalid bytes already U+FFFD), so match export names as text.
  const wanted = new Map<string, DetailedChange>();
  for (const change of changes) if (change.kind !== 'D') wanted.set(change.path, change);
  let found = 0;
  // The container's own layer holds every added or changed entry: read there, the image is not read along.
  const fromLayer = wanted.size ? await engine.statChanges?.(container.id, [...wanted.keys()]).catch(() => undefined) : undefined;
  const infoOf = (entry: FsEntry): ChangeInfo => ({ type: entry.type, size: entry.type === 'file' ? entry.size : 0, mode: modeString(entry.type, entry.mode) });
  if (fromLayer) {
    for (const [path, e] of fromLayer) wanted.get(path)!.info = infoOf(layerEntry(fromUser(path), e));
  } else if (wanted.size) {
    for await (const entry of walkNames(engine, container.id, '/')) {
      const change = wanted.get(decode(entry.path).text);
      if (!change || change.info) continue;
      change.info = infoOf(entry);
      if (++found === wanted.size) break; // everything asked for is known: stop the export early
    }
  }
  if (opts.json) {
    const rows = changes.map((c) => ({ path: c.path, kind: c.kind, type: c.info?.type ?? null, size: c.info?.size ?? null, mode: c.info?.mode ?? null }));
    await out.write(rows.length ? `[\n${rows.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n]\n` : '[]\n');
  } else if (opts.tree) {
    for (const line of renderTree(buildTree(changes))) await out.write(`${line}\n`);
  } else {
    const typeWidth = widest(changes, (c) => c.info?.type ?? '-');
    const sizes = changes.map((c) => (c.info ? (c.info.type === 'file' ? formatBytes(c.info.size) : '-') : '-'));
    const sizeWidth = widest(sizes);
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const mode = c.info?.mode ?? '-'.padEnd(10);
      await out.write(`${c.kind} ${(c.info?.type ?? '-').padEnd(typeWidth)} ${mode} ${sizes[i]!.padStart(sizeWidth)} ${escapeName(c.path)}\n`);
    }
  }
  await out.flush();
}
