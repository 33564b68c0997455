// `porthole ls C [PATH...]`: list a container's files through the engine's archive endpoint, so it works on
// stopped and shell-less containers; streamed, holding only the folders on the current path in memory. One
// folder comes from the container's layers where they can answer for sure (EngineClient.readLayerDir).
import { composeOptions, imageOption } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { entryJson, layerEntry, type FsEntry, type Owners } from '../fs/entry.js';
import { BlockGrouper, byName, longLayout, longLines } from '../fs/listing.js';
import type { EngineClient } from '../engine/types.js';
import { basename, dirname, fromUser, join, normalize, show, toApi } from '../fs/paths.js';
import { OutputBuffer, changedWhileRead, loadOwners, statIsDir, statIsSymlink, statOrNotFound, walk, walkNames } from '../fs/source.js';
import type { PathStat } from '../engine/types.js';
import { ChangedWhileRead } from '../errors.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { podToolboxOptions } from '../fs/pod-way.js';
import { parseTarget } from '../engine/target.js';
import { parseIdFile } from '../fs/entry.js';
import type { PodFiles } from '../fs/pod-source.js';

export const spec = defineCommand({
  name: 'ls',
  summary: 'List files in a container, running, stopped or without a shell',
  usage: 'porthole ls CONTAINER|pod/NAME[/CONTAINER] [PATH...] [-l] [-a] [-R] [--json]',
  description:
    'Lists through the engine (no ls or shell needed in the container); one folder, where the engine runs here on\n' +
    'overlay2, from the container\'s layers, checked against the engine. With -R each folder is printed as soon as\n' +
    'the engine has sent all of it, deepest folders first, so memory stays flat on any filesystem size.\n' +
    'PATH defaults to /. Names are escaped for the terminal; --json carries their exact bytes.\n' +
    "A pod's files are read through exec with the container's own sh, stat and readlink (busybox has them).",
  options: {
    ...composeOptions, ...imageOption,
    long: { type: 'boolean', short: 'l', description: 'Mode, owner, group, size, modification time, link target' },
    all: { type: 'boolean', short: 'a', description: 'Show entries whose names start with a dot' },
    recursive: { type: 'boolean', short: 'R', description: 'List folders below, too' },
    json: { type: 'boolean', description: 'Print a JSON array of entries (exact name bytes in nameBytes/pathBytes)' },
    ...kubeOptions,
    ...podToolboxOptions,
  },
  args: { min: 1, max: Infinity },
  examples: ['porthole ls web /etc', 'porthole ls -la web /var/log', 'porthole ls -R --json crashed /app', 'porthole ls -l -n shop pod/api/app /srv'],
});

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  const ref = parseTarget(parsed.args[0]!);
  if (ref.engine === 'kubernetes') {
    const pod = await (await import('../fs/pod-source.js')).openPodFiles(ctx, ref, opts);
    return listPod(ctx, pod, parsed);
  }
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  const paths = (parsed.args.length > 1 ? parsed.args.slice(1) : ['/']).map((p) => normalize(fromUser(p)));
  const ownersWanted = opts.long || opts.json;
  const [owners, stats] = await Promise.all([
    ownersWanted ? loadOwners(engine, container.id) : Promise.resolve<Owners>({ users: new Map(), groups: new Map() }),
    Promise.all(paths.map((p) => statOrNotFound(engine, container.id, p))),
  ]);
  const out = new OutputBuffer(ctx.stdout);
  const keep = (e: FsEntry) => opts.all || !basename(e.path).startsWith('.');
  let firstJson = true;
  const json = async (e: FsEntry) => {
    await out.write(`${firstJson ? '[\n' : ',\n'}  ${JSON.stringify(entryJson(e, owners))}`);
    firstJson = false;
  };
  let printedBlocks = 0;
  const headers = paths.length > 1 || opts.recursive;

  for (let i = 0; i < paths.length; i++) {
    let path = paths[i]!;
    let stat = stats[i]!;
    // ls follows a symlink named on the command line to a folder, except with -l (which shows the link itself).
    if (statIsSymlink(stat) && !opts.long && stat.linkTarget) {
      const target = await statOrNotFound(engine, container.id, normalize(fromUser(stat.linkTarget))).catch(() => undefined);
      if (target && statIsDir(target)) {
        path = normalize(fromUser(stat.linkTarget));
        stat = target;
      }
    }
    if (!statIsDir(stat)) {
      // the stat said it exists: its name is all plain ls prints
      if (!opts.long && !opts.json) {
        await out.write(`${show(paths[i]!)}\n`);
        continue;
      }
      // its own archive would show it as itself, never as a link to another of its names
      const fromLayers = path === '/' ? undefined : await readLayerFolder(engine, container.id, dirname(path), false);
      const own = fromLayers?.find((e) => e.path === path);
      if (own) {
        if (!sameKind(own, stat)) throw changedWhileRead(path, stat, own.type);
        if (opts.json) await json(own);
        else await out.write(`${longLines([own], owners, () => paths[i]!)[0]}\n`);
        continue;
      }
      let shown = false;
      for await (const entry of walk(engine, container.id, path)) {
        if (entry.path !== path) continue;
        if (!sameKind(entry, stat)) throw changedWhileRead(path, stat, entry.type);
        if (opts.json) await json(entry);
        else await out.write(`${opts.long ? longLines([entry], owners, () => paths[i]!)[0] : show(paths[i]!)}\n`);
        shown = true;
        break;
      }
      // the stat saw it, the read did not: a running container swapped or removed it in between
      if (!shown) throw changedWhileRead(path, stat, 'gone');
      continue;
    }
    const rootDepth = path === '/' ? 0 : path.split('/').length - 1;
    const emitBlock = async ({ dir, entries }: { dir: string; entries: FsEntry[] }) => {
      entries.sort(byName);
      let text = printedBlocks++ ? '\n' : '';
      if (headers) text += `${show(dir)}:\n`;
      await out.write(text);
      // line by line into the output buffer: a folder of 200,000 names is not copied into one more array and string
      const line = opts.long ? longLayout(entries, owners) : (e: FsEntry) => show(basename(e.path));
      for (const e of entries) await out.write(`${line(e)}\n`);
    };
    // A folder's own names come from the container's layers where they can (no need to receive all below it).
    const listed = opts.recursive ? undefined : await readLayerFolder(engine, container.id, path, true, opts.long || opts.json);
    if (listed) {
      const shown = listed.filter(keep).sort(byName);
      if (opts.json) for (const entry of shown) await json(entry);
      else await emitBlock({ dir: path, entries: shown });
      continue;
    }
    const grouper = new BlockGrouper(path, opts.json ? async () => undefined : emitBlock, keep, opts.recursive);
    for await (const entry of walkNames(engine, container.id, path, opts.long || opts.json, stat)) {
      if (entry.path === path) continue;
      if (!opts.recursive && entry.path.split('/').length - 1 !== rootDepth + 1) continue;
      if (opts.json) {
        if (keep(entry) && (opts.all || !hiddenBelow(entry.path, path))) await json(entry);
        continue;
      }
      await grouper.add(entry);
    }
    if (!opts.json) await grouper.end();
  }
  if (opts.json) await out.write(firstJson ? '[]\n' : '\n]\n');
  await out.flush();
}

/** The entry read is the kind of thing the stat saw (a folder, a link, else a file): a running container may swap it between. */
function sameKind(entry: FsEntry, stat: PathStat): boolean {
  return (entry.type === 'dir') === statIsDir(stat) && (entry.type === 'symlink') === statIsSymlink(stat);
}

/** Folder `dir`'s entries from the container's layers (see EngineClient.readLayerDir), or undefined. */
async function readLayerFolder(engine: EngineClient, id: string, dir: string, hardlinks = true, details = true): Promise<FsEntry[] | undefined> {
  const entries = await engine.readLayerDir?.(id, toApi(dir), { hardlinks, details }).catch((err) => {
    if (err instanceof ChangedWhileRead) throw err;
    return undefined;
  });
  return entries?.map((e) => layerEntry(join(dir, e.name), e));
}

/** Whether a folder between `root` and `path` is hidden (ls -R does not descend into hidden folders). */
function hiddenBelow(path: string, root: string): boolean {
  const rest = path.slice(root === '/' ? 1 : root.length + 1).split('/');
  rest.pop();
  return rest.some((segment) => segment.startsWith('.'));
}

/** ls on a pod: each folder read whole through exec (PodFiles), shown with the same layouts as a container's. */
async function listPod(ctx: Context, pod: PodFiles, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  const paths = (parsed.args.length > 1 ? parsed.args.slice(1) : ['/']).map((p) => normalize(fromUser(p)));
  const owners: Owners = { users: new Map(), groups: new Map() };
  // The owner names come with the first listing, in its exec (each exec costs more than the listing); where the
  // pod cannot send them so (no od or head), read with cat afterwards.
  let wantOwners = Boolean(opts.long || opts.json);
  const readOwners = async () => {
    const read = async (file: string) => {
      const parts: Buffer[] = [];
      let size = 0;
      await pod
        .cat(file, (chunk) => {
          size += chunk.length;
          if (size <= 4 << 20) parts.push(chunk);
        })
        .catch(() => undefined);
      return parseIdFile(Buffer.concat(parts).toString('utf8'));
    };
    [owners.users, owners.groups] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  };
  const out = new OutputBuffer(ctx.stdout);
  const keep = (e: FsEntry) => opts.all || !basename(e.path).startsWith('.');
  const jsonEntries: FsEntry[] = [];
  let printedBlocks = 0;
  const headers = paths.length > 1 || opts.recursive;
  const showFolder = async (dir: string, entries: FsEntry[]) => {
    let text = printedBlocks++ ? '\n' : '';
    if (headers) text += `${show(dir)}:\n`;
    await out.write(text);
    const line = opts.long ? longLayout(entries, owners) : (e: FsEntry) => show(basename(e.path));
    for (const e of entries) await out.write(`${line(e)}\n`);
  };
  for (const path of paths) {
    // ls follows a symlink named on the command line to a folder, except with -l (which shows the link itself).
    const first = await pod.list(path, !opts.long, wantOwners);
    if (wantOwners) {
      wantOwners = false;
      if (first.owners) [owners.users, owners.groups] = [parseIdFile(first.owners.passwd), parseIdFile(first.owners.group)];
      else await readOwners();
    }
    if (!first.isDir) {
      if (opts.json) jsonEntries.push(...first.entries);
      else for (const e of first.entries) await out.write(`${opts.long ? longLines([e], owners, () => path)[0] : show(path)}\n`);
      continue;
    }
    // -R: folders in the order ls prints them (a folder, then each folder below it), links to folders not followed.
    const pending: { dir: string; entries: FsEntry[] }[] = [{ dir: path, entries: first.entries }];
    while (pending.length) {
      const { dir, entries } = pending.shift()!;
      const shown = entries.filter(keep).sort(byName);
      if (opts.json) jsonEntries.push(...shown);
      else await showFolder(dir, shown);
      if (!opts.recursive) continue;
      const below: { dir: string; entries: FsEntry[] }[] = [];
      for (const e of shown) {
        if (e.type !== 'dir') continue;
        // a folder swapped for a link or a file since it was listed is not descended into
        const sub = await pod.list(e.path, false);
        if (sub.isDir) below.push({ dir: e.path, entries: sub.entries });
      }
      pending.unshift(...below);
    }
  }
  if (opts.json) {
    await out.write(jsonEntries.length ? `[\n${jsonEntries.map((e) => `  ${JSON.stringify(entryJson(e, owners))}`).join(',\n')}\n]\n` : '[]\n');
  }
  await out.flush();
}
