// `porthole cp`: docker cp's syntax and rules, both ways, safe against a hostile container. Copying out extracts
// the engine's tar with our own checks (src/fs/extract.ts); copying in packs the host files as a plain tar
// (src/fs/pack.ts). Works on running and stopped containers: only the engine's archive endpoints are used.
import { promises as fsp } from 'node:fs';
import { posix, resolve as resolvePath } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context, OutputStream } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { resolveContainer } from '../engine/resolve.js';
import { EngineError, EngineUnavailable, Failure, InvalidArgument, NotFound, PortholeError, UnusablePath } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { isKubeName } from '../engine/target.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { podToolboxOptions } from '../fs/pod-way.js';
import {
  assertsDirectory,
  cleanPath,
  containerPath,
  CopyRuleError,
  goBase,
  hasTrailingSeparator,
  planCopy,
  rebaseAfterLink,
  resolveLinkTarget,
  specifiesCurrentDir,
  splitCpArg,
  splitPathDirEntry,
  statIsDir,
  statIsRegular,
  statIsSymlink,
  type DestInfo,
  type SourceInfo,
} from '../fs/cp-paths.js';

export const spec = defineCommand({
  name: 'cp',
  summary: 'Copy files between a container and the host (docker cp rules, safe against hostile containers)',
  usage: 'porthole cp [-a] [-L] [-q] [--follow-dest-link] CONTAINER|pod/NAME[/CONTAINER]:SRC_PATH DEST_PATH|-\n       porthole cp [-a] [-L] [-q] SRC_PATH|- CONTAINER|pod/NAME[/CONTAINER]:DEST_PATH',
  description: [
    'Copies a file or folder out of a container (running or stopped) or into it, with docker cp\'s rules: a DEST',
    'that is a folder receives the copy inside it; SRC ending in /. copies the folder\'s contents; a DEST ending',
    'in / must be a folder. `-` as DEST writes a tar to stdout; `-` as SRC reads a tar from stdin.',
    'Copying out never writes outside DEST: names with .. or absolute names, entries through links, hardlinks',
    'to files outside the copy are refused with a warning (exit 1); device files and FIFOs are skipped;',
    'setuid/setgid bits are dropped; a failed copy removes what it wrote. A DEST that is itself a symbolic link',
    'is refused (an earlier copy from a container may have left it there) unless --follow-dest-link.',
    'A pod is copied through exec with tar in the container (or in a toolbox container when it has none, see',
    '--toolbox), under the same rules (docs/kubernetes.md).',
  ].join('\n'),
  options: {
    archive: { type: 'boolean', short: 'a', description: 'Keep the uid/gid of the files (otherwise: yours when copying out, root\'s when copying in)' },
    'follow-link': { type: 'boolean', short: 'L', description: 'Follow a symbolic link at SRC_PATH (links inside the copy stay links)' },
    quiet: { type: 'boolean', short: 'q', description: 'No progress on stderr' },
    'follow-dest-link': { type: 'boolean', description: 'Copying out: when DEST is a symbolic link, write where it points (docker cp does; refused otherwise)' },
    ...kubeOptions,
    ...podToolboxOptions,
  },
  args: { min: 2, max: 2 },
  examples: [
    'porthole cp web:/var/log/nginx ./logs',
    'porthole cp web:/etc/nginx/. ./nginx-conf/',
    'porthole cp ./fix.conf web:/etc/nginx/conf.d/',
    'porthole cp web:/data - | tar tv',
    'tar -c ./dir | porthole cp - web:/tmp',
    'porthole cp -n shop pod/api/app:/var/log/app ./logs',
  ],
});

type Options = Parsed<typeof spec.options>;

export interface CopyResult {
  direction: 'out' | 'in';
  bytes: number;
  entries: number;
  refused: number;
  skipped: number;
}

export async function run(ctx: Context, parsed: Options): Promise<CopyResult> {
  const [srcArg, dstArg] = parsed.args as [string, string];
  const src = splitCpArg(srcArg);
  const dst = splitCpArg(dstArg);
  if (src.container !== undefined && dst.container !== undefined) {
    throw new InvalidArgument('porthole cp copies between a container and the host, not between two containers.', 'Copy out to a folder first, then in.');
  }
  if (src.container === undefined && dst.container === undefined) {
    throw new InvalidArgument('Name the container on one side as CONTAINER:PATH.', `Usage: ${spec.usage.split('\n')[0]}`);
  }
  const name = (src.container ?? dst.container)!;
  if (!name) throw new InvalidArgument('A container name is missing before ":".', `Usage: ${spec.usage.split('\n')[0]}`);
  if (isKubeName(name)) return (await import('./cp-pod.js')).copyWithPod(ctx, parsed, src, dst);
  const options = { keepOwnership: parsed.options.archive, followLink: parsed.options['follow-link'], quiet: parsed.options.quiet };
  if (src.container !== undefined) {
    if (!src.path) throw new InvalidArgument('The path inside the container is empty.', 'Write CONTAINER:/path.');
    if (dst.path === '') throw new InvalidArgument('The destination path is empty.');
    // Checked before the engine is asked, as docker does, so a typo costs nothing.
    if (dst.path !== '-') {
      await refuseLinkedDestination(ctx, absoluteLocal(dst.path), dst.path, parsed.options['follow-dest-link']);
      await validateOutputPath(absoluteLocal(dst.path));
    }
    const engine = await ctx.engine();
    const container = await resolveContainer(engine, name);
    return copyOut(ctx, engine, container.id, name, src.path, dst.path, options);
  }
  if (!dst.path) throw new InvalidArgument('The path inside the container is empty.', 'Write CONTAINER:/path.');
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, name);
  return copyIn(ctx, engine, container.id, name, src.path, dst.path, options);
}

interface CopyOptions {
  keepOwnership: boolean;
  followLink: boolean;
  quiet: boolean;
}

// ---------------------------------------------------------------- copying out

async function copyOut(ctx: Context, engine: EngineClient, id: string, name: string, srcPath: string, dstPath: string, opts: CopyOptions): Promise<CopyResult> {
  let archivePath = containerPath(srcPath);
  let rebaseName: string | undefined;
  if (opts.followLink) {
    const stat = await statInContainer(engine, id, name, srcPath, archivePath);
    if (statIsSymlink(stat.mode) && stat.linkTarget) {
      const target = resolveLinkTarget(archivePath, stat.linkTarget);
      ({ path: archivePath, rebaseName } = rebaseAfterLink(archivePath, target));
    }
  }
  if (dstPath === '-') return copyOutToStdout(ctx, engine, id, name, srcPath, archivePath, opts);

  const dstAbs = absoluteLocal(dstPath);
  const dest = await hostDestination(dstAbs);
  // Loaded before the stream opens, so no bytes (or errors) wait on a module load.
  await import('../fs/extract.js');
  await import('tar');
  const { isDir, stream } = await sourceArchive(engine, id, name, srcPath, archivePath, opts);
  stream.on('error', () => undefined); // reported by the extraction, which also checks for an earlier failure
  let plan;
  try {
    plan = planCopy({ path: archivePath, isDir, ...(rebaseName ? { rebaseName } : {}) }, dest);
  } catch (err) {
    stream.destroy();
    throw ruleError(err, `${name}:${srcPath}`, dstPath);
  }
  const { result, progress } = await extractCopy(ctx, stream, plan.archiveTop, plan, opts, dstPath, {
    stop: () => stream.destroy(),
    failure: (err) => `Copying ${escapeName(`${name}:${srcPath}`)} failed: ${err.message}`,
  });
  progress.stop(true, escapeName(dstPath));
  if (result.refused) throw refusedEntries(`${name}:${srcPath}`, dstPath, result.refused, 'container');
  return { direction: 'out', bytes: result.bytes, entries: result.entries, refused: result.refused, skipped: result.skipped };
}

async function copyOutToStdout(ctx: Context, engine: EngineClient, id: string, name: string, srcPath: string, archivePath: string, opts: CopyOptions): Promise<CopyResult> {
  if (ctx.stdout.isTTY) {
    throw new InvalidArgument('porthole cp will not write a tar archive to a terminal.', 'Redirect it to a file (`> copy.tar`) or a pipe (`| tar t`).');
  }
  const { stream } = await getArchive(engine, id, name, srcPath, archivePath);
  const progress = new Progress(ctx.stderr, !opts.quiet);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      progress.add(chunk.length);
      cb(null, chunk);
    },
  });
  const drop = ctx.cleanup.add('stop the copy to stdout', () => {
    stream.destroy();
    progress.stop(false);
    ctx.stderr.write(`porthole: The copy was stopped after ${formatBytes(bytes)}; what reached stdout is an incomplete tar.\n`);
  });
  try {
    await pipeline(stream, counter, ctx.stdout, { end: false });
  } catch (err) {
    drop();
    if (ctx.signal.aborted) throw err;
    progress.stop(false);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EPIPE') return { direction: 'out', bytes, entries: 0, refused: 0, skipped: 0 };
    throw new Failure(`Copying ${escapeName(`${name}:${srcPath}`)} failed after ${formatBytes(bytes)}: ${streamFailure(e)}`, 'What reached stdout is an incomplete tar.');
  }
  drop();
  progress.stop(true, 'stdout');
  return { direction: 'out', bytes, entries: 0, refused: 0, skipped: 0 };
}

/**
 * The tar the copy is extracted from. A single plain file that the container's layers hold for sure (see
 * engine/docker/layer.ts) is read from there and wrapped as the one-entry archive the engine would have sent, so
 * it goes through the very same checks on the way to disk, without the engine's tar helper in between (docker cp
 * of 256 MiB costs the engine about as much CPU as porthole, on the same cores). Everything else, and `-a` (a
 * layer holds the host's ids, which differ under user-namespace remapping), comes from the engine's archive.
 */
async function sourceArchive(engine: EngineClient, id: string, name: string, userPath: string, archivePath: string, opts: CopyOptions): Promise<{ isDir: boolean; stream: Readable }> {
  const file = opts.keepOwnership ? undefined : await engine.openLayerFile?.(id, archivePath).catch(() => undefined);
  if (file) {
    const { layerFileArchive } = await import('../fs/pack.js');
    return { isDir: false, stream: Readable.from(layerFileArchive(file, posix.basename(archivePath)), { objectMode: false }) };
  }
  const { stat, stream } = await getArchive(engine, id, name, userPath, archivePath);
  return { isDir: statIsDir(stat.mode), stream };
}

async function getArchive(engine: EngineClient, id: string, name: string, userPath: string, archivePath: string) {
  try {
    return await engine.getArchive(id, archivePath);
  } catch (err) {
    throw explainContainerPath(err, name, userPath);
  }
}

async function statInContainer(engine: EngineClient, id: string, name: string, userPath: string, path: string) {
  try {
    return await engine.statPath(id, path);
  } catch (err) {
    throw explainContainerPath(err, name, userPath);
  }
}

function explainContainerPath(err: unknown, name: string, userPath: string): unknown {
  if (err instanceof NotFound && !/no such container/i.test(err.message)) {
    return new UnusablePath(`No such file or folder in the container: ${escapeName(`${name}:${userPath}`)}.`, posix.dirname(posix.resolve('/', userPath)), 'Check the path with', name);
  }
  return err;
}

/** A local path made absolute, keeping a trailing `/` or `/.` (docker's resolveLocalPath). */
export function absoluteLocal(path: string): string {
  const abs = resolvePath(path);
  if (specifiesCurrentDir(path)) return abs === '/' ? '/.' : `${abs}/.`;
  if (hasTrailingSeparator(path) && abs !== '/') return `${abs}/`;
  return abs;
}

/**
 * A DEST that is itself a symbolic link: docker cp writes where it points, so a link that an earlier copy from the
 * same container left in DEST (`out/evil -> /etc`) turns `cp C:/x out/evil` into a write to /etc. porthole refuses
 * it unless the user says to follow it, and then says where the copy goes. Folders above DEST are the user's own
 * path and are followed.
 */
export async function refuseLinkedDestination(ctx: Context, path: string, shown: string, follow: boolean): Promise<void> {
  const link = cleanPath(path);
  const st = await fsp.lstat(link).catch(() => null);
  if (!st?.isSymbolicLink()) return;
  const target = await fsp.readlink(link);
  if (!follow) {
    throw new InvalidArgument(
      `The destination ${escapeName(shown)} is a symbolic link to ${escapeName(target)}; porthole does not write through links.`,
      'Name the folder it points to, or pass --follow-dest-link to write there.',
    );
  }
  ctx.stderr.write(`porthole: the destination ${escapeName(shown)} is a symbolic link; following it to ${escapeName(target)} (--follow-dest-link).\n`);
}

/** docker's ValidateOutputPath: the parent folder must exist; an existing DEST must be a folder or a file. */
export async function validateOutputPath(path: string): Promise<void> {
  const dir = posix.dirname(cleanPath(path));
  const parent = await fsp.stat(dir).catch(() => null);
  if (!parent) throw new NotFound(`The destination folder ${escapeName(dir)} does not exist.`, 'Create it first, or pick another destination.');
  const st = await fsp.stat(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err.code === 'ENOTDIR' ? 'notdir' : Promise.reject(err)));
  if (st === 'notdir') throw new InvalidArgument(`The destination ${escapeName(path)} is not a folder.`);
  if (st && !st.isDirectory() && !st.isFile()) {
    throw new InvalidArgument(`The destination ${escapeName(path)} must be a folder or a regular file.`);
  }
}

/** moby's CopyInfoDestinationPath: follows links at DEST itself (the user named it), at most 10. */
export async function hostDestination(path: string): Promise<DestInfo> {
  let current = path;
  for (let hops = 0; ; hops++) {
    const st = await fsp.lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      if (err.code === 'ENOTDIR') throw new InvalidArgument(`The destination ${escapeName(path)} is not a folder.`);
      throw err;
    });
    if (st && !st.isSymbolicLink()) {
      if (assertsDirectory(current) && !st.isDirectory()) throw new InvalidArgument(`The destination ${escapeName(path)} is not a folder.`);
      return { path: current, exists: true, isDir: st.isDirectory() };
    }
    if (!st) {
      const { dir } = splitPathDirEntry(current);
      const parent = await fsp.stat(dir).catch(() => null);
      if (!parent) throw new NotFound(`The destination folder ${escapeName(dir)} does not exist.`, 'Create it first, or pick another destination.');
      if (!parent.isDirectory()) throw new InvalidArgument(`${escapeName(dir)} is not a folder.`);
      return { path: current, exists: false, isDir: false };
    }
    if (hops >= 10) throw new InvalidArgument(`Too many symbolic links in ${escapeName(path)}.`);
    const target = await fsp.readlink(current);
    current = resolveLinkTarget(current, target);
  }
}

/** What a copy stopped by a signal left in DEST, in one sentence. */
/**
 * A pack's chunks as the body of a copy in. `onPackError` hears of a failure of the pack itself (a file that could
 * not be read) and only of that: when the receiver fails (the engine or the pod closed early), its error comes back
 * into this generator at a `yield`, and is the receiver's to report, not a failure to read the source.
 * `record`: pad the end to whole records of that size, as tar itself writes them.
 */
export function packBody(chunks: AsyncIterable<Buffer>, onPackError: (err: Error) => void, opts: { highWaterMark: number; record?: number }): Readable {
  return Readable.from(
    (async function* () {
      let atYield = false;
      try {
        let sent = 0;
        for await (const chunk of chunks) {
          sent += chunk.length;
          atYield = true;
          yield chunk;
          atYield = false;
        }
        if (opts.record && sent % opts.record) {
          atYield = true;
          yield Buffer.alloc(opts.record - (sent % opts.record));
        }
      } catch (err) {
        if (!atYield) onPackError(err as Error);
        throw err;
      }
    })(),
    { objectMode: false, highWaterMark: opts.highWaterMark },
  );
}

/**
 * A copy out's tar, unpacked into the destination by porthole's own extraction (every rule of cp), with progress
 * on stderr; a signal stops it, removes what it made and says what is left. Returns with the progress still shown
 * (the caller ends it once its source has said how it ended).
 */
export async function extractCopy(
  ctx: Context,
  stream: Readable,
  expectTop: string,
  plan: { extractDir: string; renameTop: string },
  opts: { keepOwnership: boolean; quiet: boolean },
  dstPath: string,
  source: { stop(): void; failure(err: Error): Promise<string> | string },
): Promise<{ result: import('../fs/extract.js').ExtractResult; progress: Progress }> {
  const { Extraction } = await import('../fs/extract.js');
  const progress = new Progress(ctx.stderr, !opts.quiet);
  const extraction = new Extraction({
    parentDir: plan.extractDir,
    expectTop,
    renameTop: plan.renameTop,
    keepOwnership: opts.keepOwnership,
    warn: (line) => ctx.stderr.write(`${progress.clearLine()}porthole: ${line}\n`),
    onBytes: (n) => progress.add(n),
  });
  // Only a signal runs this (the copy drops it when it ends): stop, remove what it made, say what is left.
  const drop = ctx.cleanup.add('remove a partly copied destination', async () => {
    source.stop();
    const outcome = await extraction.abort();
    progress.stop(false);
    ctx.stderr.write(`porthole: ${stoppedCopyLine(escapeName(dstPath), outcome)}\n`);
  });
  try {
    const result = await extraction.run(stream);
    drop();
    return { result, progress };
  } catch (err) {
    progress.stop(false);
    drop();
    if (ctx.signal.aborted) throw err;
    throw new Failure(await source.failure(err as Error), 'Nothing of this copy was left in the destination.');
  }
}

/** A copy that went through, less the entries the extraction refused (named on stderr as it met them). */
export function refusedEntries(src: string, dstPath: string, refused: number, holder: 'container' | 'pod'): Failure {
  return new Failure(
    `Copied ${escapeName(src)} to ${escapeName(dstPath)}, but refused ${refused} ${refused === 1 ? 'entry' : 'entries'} that would have been written outside it or through a link (named above).`,
    `The ${holder} holds names or links that point out of the copy; look at them before trusting what it holds.`,
  );
}

export function stoppedCopyLine(dest: string, outcome: { leftovers: string[]; replaced: number }): string {
  const { leftovers, replaced } = outcome;
  let line = `The copy was stopped; what it had created in ${dest} was removed`;
  if (leftovers.length) {
    const shown = leftovers.slice(0, 3).map((p) => escapeName(p)).join(', ');
    line += `, except ${leftovers.length} ${leftovers.length === 1 ? 'path' : 'paths'} that could not be (${shown}${leftovers.length > 3 ? ', ...' : ''})`;
  }
  if (replaced) line += `; ${replaced} ${replaced === 1 ? 'file that was there before was' : 'files that were there before were'} already replaced by the container's`;
  return `${line}.`;
}

export function ruleError(err: unknown, src: string, dst: string): unknown {
  if (!(err instanceof CopyRuleError)) return err;
  if (err.message === 'no such directory') {
    return new NotFound(`The destination folder ${escapeName(dst)} does not exist, and ${escapeName(src)} is a file.`, 'Create the folder first, or drop the trailing slash to name the file.');
  }
  return new InvalidArgument(`Cannot copy the folder ${escapeName(src)} onto the file ${escapeName(dst)}.`, 'Give a folder as the destination.');
}

// ---------------------------------------------------------------- copying in

async function copyIn(ctx: Context, engine: EngineClient, id: string, name: string, srcPath: string, dstPath: string, opts: CopyOptions): Promise<CopyResult> {
  const shown = escapeName(`${name}:${dstPath}`);
  const dest = await containerDestination(engine, id, name, dstPath);
  const progress = new Progress(ctx.stderr, !opts.quiet);
  let bytes = 0;
  let packError: Error | undefined;
  let body: Readable;
  let extractDir: string;
  let skipped = 0;
  let inbound: import('../fs/inbound-tar.js').InboundTar | undefined;
  if (srcPath === '-') {
    if (!dest.exists || !dest.isDir) throw new InvalidArgument(`The destination ${shown} must be an existing folder when the tar comes from stdin.`);
    extractDir = dest.path;
    // Read whole and checked first, under the same name rules as for a pod (fs/inbound-tar.ts).
    const { readInboundTar, inboundRefusal } = await import('../fs/inbound-tar.js');
    inbound = await readInboundTar(ctx.stdin, (remove) => ctx.cleanup.add('remove the stdin tar kept for the copy', remove));
    if (inbound.problem) {
      await inbound.remove();
      throw inboundRefusal(inbound, shown);
    }
    body = inbound.open().pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          progress.add(chunk.length);
          cb(null, chunk);
        },
      }),
    );
  } else {
    const source = await hostSource(absoluteLocal(srcPath), opts.followLink, srcPath);
    let plan;
    try {
      plan = planCopy(source, dest);
    } catch (err) {
      throw ruleError(err, srcPath, `${name}:${dstPath}`);
    }
    extractDir = plan.extractDir;
    const { packPath } = await import('../fs/pack.js');
    const chunks = packPath(source.path, plan.renameTop, {
      warn: (line) => {
        skipped++;
        ctx.stderr.write(`${progress.clearLine()}porthole: ${line}\n`);
      },
      onBytes: (n) => {
        bytes += n;
        progress.add(n);
      },
      signal: ctx.signal,
      // docker documents root-owned files in the container unless -a; the engine itself keeps whatever ids the
      // tar carries, so the ids are decided here.
      ...(opts.keepOwnership ? {} : { owner: { uid: 0, gid: 0 } }),
    });
    body = packBody(chunks, (err) => (packError = err), { highWaterMark: 8 * 1024 * 1024 }); // reads ahead while the socket drains
  }
  // Only a signal runs this: the engine extracts as the tar arrives, and porthole cannot take back what it wrote.
  const drop = ctx.cleanup.add('stop the copy into the container', () => {
    body.destroy();
    progress.stop(false);
    ctx.stderr.write(`porthole: The copy into ${shown} was stopped after ${formatBytes(bytes)}; the part the engine had already written there stays, possibly ending in a cut-off file.\n`);
  });
  try {
    // copyUIDGID stays off: with it the engine gives everything to the container's configured user instead.
    await engine.putArchive(id, extractDir, body, { noOverwriteDirNonDir: true });
  } catch (err) {
    drop();
    await inbound?.remove();
    if (ctx.signal.aborted) throw err;
    progress.stop(false);
    if (packError) throw new Failure(`Reading ${escapeName(srcPath)} failed: ${packError.message}`, 'Part of the copy may have reached the container.');
    throw explainPutError(err, name, dstPath, extractDir);
  }
  drop();
  await inbound?.remove();
  progress.stop(true, shown);
  return { direction: 'in', bytes, entries: 0, refused: 0, skipped };
}

/** The destination in the container, following a link there once, as docker cp does. */
async function containerDestination(engine: EngineClient, id: string, name: string, dstPath: string): Promise<DestInfo> {
  let path = containerPath(dstPath);
  let stat;
  try {
    stat = await engine.statPath(id, path);
  } catch (err) {
    if (!(err instanceof NotFound) || /no such container/i.test(err.message)) throw err;
    return { path, exists: false, isDir: false };
  }
  if (statIsSymlink(stat.mode)) {
    path = resolveLinkTarget(path, stat.linkTarget);
    try {
      stat = await engine.statPath(id, path);
    } catch (err) {
      if (!(err instanceof NotFound) || /no such container/i.test(err.message)) throw err;
      return { path, exists: false, isDir: false };
    }
  }
  if (!statIsDir(stat.mode) && !statIsRegular(stat.mode)) {
    throw new InvalidArgument(`The destination ${escapeName(`${name}:${dstPath}`)} must be a folder or a regular file.`);
  }
  return { path, exists: true, isDir: statIsDir(stat.mode) };
}

/** moby's CopyInfoSourcePath: links in the folders above SRC are resolved; SRC itself only with -L. */
export async function hostSource(path: string, followLink: boolean, shown: string): Promise<SourceInfo> {
  const missing = (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new NotFound(`No such file or folder: ${escapeName(shown)}.`);
    throw err;
  };
  let resolved: string;
  let rebaseName: string | undefined;
  if (followLink) {
    const real = await fsp.realpath(path).catch(missing);
    ({ path: resolved, rebaseName } = rebaseAfterLink(path, real));
  } else {
    const slash = path.lastIndexOf('/');
    const dirPart = path.slice(0, slash + 1) || '.';
    const basePart = path.slice(slash + 1);
    const realDir = await fsp.realpath(dirPart).catch(missing);
    resolved = realDir === '/' ? `/${basePart}` : `${realDir}/${basePart}`;
    if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
  }
  const st = await fsp.lstat(resolved).catch(missing);
  if (!st.isDirectory() && !st.isFile() && !st.isSymbolicLink()) {
    throw new InvalidArgument(`${escapeName(shown)} is a device file, FIFO or socket; porthole copies files, folders and links.`);
  }
  return { path: resolved, isDir: st.isDirectory(), ...(rebaseName ? { rebaseName } : {}) };
}

function explainPutError(err: unknown, name: string, dstPath: string, extractDir: string): unknown {
  const where = escapeName(`${name}:${dstPath}`);
  if (err instanceof NotFound && !/no such container/i.test(err.message)) {
    return new NotFound(`The folder ${escapeName(extractDir)} does not exist in ${escapeName(name)}, so ${where} cannot be created.`, 'Create the folder first (porthole shell), or pick another destination.');
  }
  if (err instanceof EngineError) {
    if (/read-only/i.test(err.message)) return new Failure(`${where} is on a read-only file system in the container: ${err.message}`, 'Copy to a writable volume or /tmp instead.');
    return new Failure(`The engine refused the copy to ${where}: ${err.message}`);
  }
  if (err instanceof EngineUnavailable) return new EngineUnavailable(`The engine went away during the copy to ${where}: ${err.message}`, 'Part of the copy may have reached the container.');
  return err;
}

function streamFailure(err: NodeJS.ErrnoException): string {
  if (err instanceof PortholeError) return err.message;
  if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || /aborted|socket hang up/i.test(err.message)) {
    return 'the engine closed the connection in the middle of the copy.';
  }
  return `${err.message}.`;
}

// ---------------------------------------------------------------- progress

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One progress line: bytes so far and the rate, e.g. "Copying: 120.0 MiB, 240.0 MiB/s". */
export function progressLine(bytes: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
  return `Copying: ${formatBytes(bytes)}, ${formatBytes(rate)}/s`;
}

/** Progress on stderr for copies that take over a second; only when stderr is a terminal and -q is not given. */
export class Progress {
  private bytes = 0;
  private readonly started = Date.now();
  private shown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: OutputStream, wanted: boolean, delayMs = 1000) {
    if (!wanted || !out.isTTY) return;
    const start = setTimeout(() => {
      this.draw();
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }, delayMs);
    start.unref();
    this.timer = start;
  }

  add(n: number): void {
    this.bytes += n;
  }

  private draw(): void {
    this.shown = true;
    this.out.write(`\r\x1b[K${progressLine(this.bytes, Date.now() - this.started)}`);
  }

  /** Text that clears the progress line before another line is written. */
  clearLine(): string {
    return this.shown ? '\r\x1b[K' : '';
  }

  stop(ok: boolean, where?: string): void {
    if (this.timer) clearTimeout(this.timer), clearInterval(this.timer);
    this.timer = undefined;
    if (!this.shown) return;
    const seconds = (Date.now() - this.started) / 1000;
    this.out.write(ok ? `\r\x1b[KCopied ${formatBytes(this.bytes)} to ${where} in ${seconds.toFixed(1)} s (${formatBytes(this.bytes / seconds)}/s)\n` : '\r\x1b[K');
    this.shown = false;
  }
}
