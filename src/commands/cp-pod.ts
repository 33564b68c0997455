// `porthole cp` with a pod on one side (pod/X[/C]:PATH, deploy/X:PATH, ...): docker cp's path rules and every one
// of cp's safety rules, over exec instead of an archive endpoint (engine/kubernetes/pod-tar.ts).
// - Out: `tar c` runs in the container (or the toolbox), and its stream is hostile input, extracted by porthole's
//   one extraction (fs/extract.ts): the kubectl cp CVEs (../ names, absolute names, links out and files through
//   them, hardlinks out) are refused there, nothing is written outside DEST, a failure removes what was written.
// - In: porthole packs the host files as a plain tar (fs/pack.ts, links sent as links) and `tar x` unpacks it in the
//   container, as the container's own user: nothing can land outside the container's own files. Before that,
//   every folder the copy writes into is checked in the container, and a symbolic link among them is refused (tar
//   would write through it). A link at DEST itself is followed once, as docker cp does: the user named it.
import { promises as fsp } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import type { PodFileTarget } from '../engine/kubernetes/pod-files.js';
import { parseTarget } from '../engine/target.js';
import { Failure, InvalidArgument, NotFound, PortholeError } from '../errors.js';
import { containerPath, planCopy, rebaseAfterLink, resolveLinkTarget, splitPathDirEntry, type CpArg, type DestInfo } from '../fs/cp-paths.js';
import { fromUser, show } from '../fs/paths.js';
import { escapeName } from '../render/escape.js';
import { absoluteLocal, extractCopy, packBody, formatBytes, hostDestination, hostSource, Progress, refusedEntries, refuseLinkedDestination, ruleError, validateOutputPath, type CopyResult, type spec } from './cp.js';

type Options = Parsed<typeof spec.options>;

interface CopyOptions {
  keepOwnership: boolean;
  followLink: boolean;
  quiet: boolean;
}

export async function copyWithPod(ctx: Context, parsed: Options, src: CpArg, dst: CpArg): Promise<CopyResult> {
  const name = (src.container ?? dst.container)!;
  const ref = parseTarget(name);
  if (ref.engine !== 'kubernetes') throw new InvalidArgument(`${escapeName(name)} is not a pod.`);
  const opts: CopyOptions = { keepOwnership: parsed.options.archive, followLink: parsed.options['follow-link'], quiet: parsed.options.quiet };
  const { openPodTools } = await import('../fs/pod-source.js');
  if (src.container !== undefined) {
    if (!src.path) throw new InvalidArgument('The path inside the pod is empty.', 'Write pod/NAME:/path.');
    if (dst.path === '') throw new InvalidArgument('The destination path is empty.');
    // Checked before the cluster is asked, as for a container, so a typo costs nothing.
    if (dst.path !== '-') {
      await refuseLinkedDestination(ctx, absoluteLocal(dst.path), dst.path, parsed.options['follow-dest-link']);
      await validateOutputPath(absoluteLocal(dst.path));
    }
    const { cluster, tools } = await openPodTools(ctx, ref, parsed.options);
    return tools.run((t) => copyOut(ctx, cluster, t, name, src.path, dst.path, opts));
  }
  if (!dst.path) throw new InvalidArgument('The path inside the pod is empty.', 'Write pod/NAME:/path.');
  const { cluster, tools } = await openPodTools(ctx, ref, parsed.options);
  return tools.run((t) => copyIn(ctx, cluster, t, name, src.path, dst.path, opts));
}

// ---------------------------------------------------------------- copying out

async function copyOut(ctx: Context, cluster: KubeCluster, t: PodFileTarget, name: string, srcPath: string, dstPath: string, opts: CopyOptions): Promise<CopyResult> {
  const pod = await import('../engine/kubernetes/pod-tar.js');
  const shownSrc = escapeName(`${name}:${srcPath}`);
  const asked = fromUser(containerPath(srcPath));
  const { dir, base } = splitPathDirEntry(asked);
  // The root is archived as its contents ('.'), as a folder's `/.` is.
  const tarBase = base === '/' ? '.' : base;
  if (dstPath === '-') {
    if (ctx.stdout.isTTY) throw new InvalidArgument('porthole cp will not write a tar archive to a terminal.', 'Redirect it to a file (`> copy.tar`) or a pipe (`| tar t`).');
    const archive = await pod.openPodArchive(cluster, t, asked, dir, tarBase, opts.followLink);
    return copyOutToStdout(ctx, t, archive, shownSrc, opts);
  }
  const dest = await hostDestination(absoluteLocal(dstPath));
  // Loaded before the stream opens, so no bytes wait on a module load.
  await import('../fs/extract.js');
  await import('tar');
  const archive = await pod.openPodArchive(cluster, t, asked, dir, tarBase, opts.followLink);
  archive.stream.on('error', () => undefined); // reported by the extraction
  let plan;
  try {
    const followed = archive.path !== asked ? rebaseAfterLink(asked, archive.path) : { path: asked, rebaseName: undefined };
    plan = planCopy({ path: followed.path, isDir: archive.isDir, ...(followed.rebaseName ? { rebaseName: followed.rebaseName } : {}) }, dest);
  } catch (err) {
    archive.destroy();
    throw ruleError(err, `${name}:${srcPath}`, dstPath);
  }
  const { result, progress } = await extractCopy(ctx, archive.stream, plan.archiveTop === '/' ? '.' : plan.archiveTop, plan, opts, dstPath, {
    stop: () => archive.destroy(),
    failure: async (err) => `Copying ${shownSrc} failed: ${err.message}${await tarSaid(archive)}`,
  });
  const { code, stderr } = await archive.finish();
  progress.stop(code === 0, escapeName(dstPath));
  if (code !== 0) {
    const line = stderr.trim().split('\n')[0];
    throw new Failure(
      `tar in ${t.container} of pod ${t.pod} could not read all of ${shownSrc} (exit ${code}${line ? `: ${show(line)}` : ''}); what it sent was copied to ${escapeName(dstPath)}.`,
      'The copy runs as the container\'s own user: files it may not read are left out.',
    );
  }
  if (result.refused) throw refusedEntries(`${name}:${srcPath}`, dstPath, result.refused, 'pod');
  return { direction: 'out', bytes: result.bytes, entries: result.entries, refused: result.refused, skipped: result.skipped };
}

/** What tar in the pod said when the stream broke, as the end of a sentence ('' when nothing). */
async function tarSaid(archive: { finish(): Promise<{ code: number; stderr: string }>; destroy(): void }): Promise<string> {
  archive.destroy();
  const said = await Promise.race([archive.finish().catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
  const line = said?.stderr.trim().split('\n')[0];
  return line ? ` (tar in the pod said: ${show(line)})` : '';
}

async function copyOutToStdout(
  ctx: Context,
  t: PodFileTarget,
  archive: { stream: Readable; finish(): Promise<{ code: number; stderr: string }>; destroy(): void },
  shownSrc: string,
  opts: CopyOptions,
): Promise<CopyResult> {
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
    archive.destroy();
    progress.stop(false);
    ctx.stderr.write(`porthole: The copy was stopped after ${formatBytes(bytes)}; what reached stdout is an incomplete tar.\n`);
  });
  try {
    await pipeline(archive.stream, counter, ctx.stdout, { end: false });
  } catch (err) {
    drop();
    archive.destroy();
    if (ctx.signal.aborted) throw err;
    progress.stop(false);
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return { direction: 'out', bytes, entries: 0, refused: 0, skipped: 0 };
    throw new Failure(`Copying ${shownSrc} failed after ${formatBytes(bytes)}: ${err instanceof PortholeError ? err.message : 'the connection to the pod broke.'}`, 'What reached stdout is an incomplete tar.');
  }
  drop();
  const { code, stderr } = await archive.finish();
  progress.stop(code === 0, 'stdout');
  if (code !== 0) {
    const line = stderr.trim().split('\n')[0];
    throw new Failure(`tar in ${t.container} of pod ${t.pod} failed on ${shownSrc} (exit ${code}${line ? `: ${show(line)}` : ''}).`, 'What reached stdout may be an incomplete tar.');
  }
  return { direction: 'out', bytes, entries: 0, refused: 0, skipped: 0 };
}

// ---------------------------------------------------------------- copying in

async function copyIn(ctx: Context, cluster: KubeCluster, t: PodFileTarget, name: string, srcPath: string, dstPath: string, opts: CopyOptions): Promise<CopyResult> {
  const pod = await import('../engine/kubernetes/pod-tar.js');
  const shown = escapeName(`${name}:${dstPath}`);
  const dest = await podDestination(cluster, t, name, dstPath);
  const progress = new Progress(ctx.stderr, !opts.quiet);
  let bytes = 0;
  let skipped = 0;
  let packError: Error | undefined;
  let body: Readable;
  let extractDir: string;
  let inbound: import('../fs/inbound-tar.js').InboundTar | undefined;
  if (srcPath === '-') {
    if (!dest.exists || !dest.isDir) throw new InvalidArgument(`The destination ${shown} must be an existing folder when the tar comes from stdin.`);
    extractDir = dest.path;
    // Read whole first: its names are checked, and every folder it writes into is checked for a link in the pod.
    const { readInboundTar, inboundRefusal } = await import('../fs/inbound-tar.js');
    inbound = await readInboundTar(ctx.stdin, (remove) => ctx.cleanup.add('remove the stdin tar kept for the copy', remove));
    try {
      if (inbound.problem) throw inboundRefusal(inbound, shown);
      await refusePodLinks(cluster, t, shown, extractDir, inbound.folders);
    } catch (err) {
      await inbound.remove();
      throw err;
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
      plan = planCopy(source, { ...dest, path: dest.path });
    } catch (err) {
      throw ruleError(err, srcPath, `${name}:${dstPath}`);
    }
    extractDir = plan.extractDir;
    // The folders the copy writes into: a link among them would take tar's writes elsewhere in the container.
    if (source.isDir) {
      const top = plan.renameTop === '.' ? '' : fromUser(plan.renameTop);
      const folders = [...(top ? [top] : []), ...(await hostFolders(source.path, top))];
      await refusePodLinks(cluster, t, shown, extractDir, folders);
    }
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
      ...(opts.keepOwnership ? {} : { owner: { uid: 0, gid: 0 } }),
    });
    // Padded to whole 10 KiB records, as tar itself writes them: a tar that reads by records then finds the end
    // marker without waiting for an end of input that a v4 API server cannot send.
    body = packBody(chunks, (err) => (packError = err), { highWaterMark: 8 * 1024 * 1024, record: 10240 });
  }
  try {
    return await sendToPod(ctx, cluster, t, pod, shown, srcPath, extractDir, body, progress, () => bytes, () => packError, skipped);
  } finally {
    await inbound?.remove();
  }
}

async function sendToPod(
  ctx: Context,
  cluster: KubeCluster,
  t: PodFileTarget,
  pod: typeof import('../engine/kubernetes/pod-tar.js'),
  shown: string,
  srcPath: string,
  extractDir: string,
  body: Readable,
  progress: Progress,
  sent: () => number,
  packFailure: () => Error | undefined,
  skipped: number,
): Promise<CopyResult> {
  const exec = await pod.openPodExtract(cluster, t, extractDir);
  const drop = ctx.cleanup.add('stop the copy into the pod', () => {
    body.destroy();
    exec.destroy();
    progress.stop(false);
    ctx.stderr.write(`porthole: The copy into ${shown} was stopped after ${formatBytes(sent())}; the part tar had already written there stays, possibly ending in a cut-off file.\n`);
  });
  let sendError: Error | undefined;
  try {
    await pipeline(body, exec.stdin);
  } catch (err) {
    sendError = err as Error;
  }
  drop();
  if (ctx.signal.aborted) throw sendError ?? ctx.signal.reason;
  const packError = packFailure();
  if (packError) {
    exec.destroy();
    progress.stop(false);
    throw new Failure(`Reading ${escapeName(srcPath)} failed: ${packError.message}`, 'Part of the copy may have reached the pod.');
  }
  const { code, stderr } = await exec.finish().catch((err: Error) => {
    progress.stop(false);
    // tar that stops early makes the server close while porthole still sends; its status can be lost then
    if (!sendError) throw err;
    throw new Failure(`tar in container ${t.container} of pod ${t.pod} stopped reading the copy to ${shown} before its end, and the connection closed without its exit status.`, 'Part of the copy may have been written; look with `porthole ls`.');
  });
  progress.stop(code === 0 && !sendError, shown);
  if (code !== 0) throw pod.extractFailure(t, extractDir, shown, code, stderr);
  if (sendError) throw new Failure(`The connection to the pod broke during the copy to ${shown}: ${sendError.message}.`, 'Part of the copy may have reached the pod.');
  return { direction: 'in', bytes: sent(), entries: 0, refused: 0, skipped };
}

/** Refuses the copy when a folder it writes into (relative to `dir`) stands as a symbolic link in the pod. */
async function refusePodLinks(cluster: KubeCluster, t: PodFileTarget, shown: string, dir: string, folders: string[]): Promise<void> {
  if (!folders.length) return;
  const { podLinksAmong } = await import('../engine/kubernetes/pod-tar.js');
  const links = await podLinksAmong(cluster, t, dir, folders);
  if (!links.length) return;
  const first = links[0]!;
  throw new Failure(
    `Refused to copy into ${shown}: ${show(`${dir.replace(/\/$/, '')}/${first.name}`)} in the pod is a symbolic link to ${show(first.target)}${links.length > 1 ? ` (and ${links.length - 1} more)` : ''}, and tar would write through it; nothing was copied.`,
    'Remove the link in the pod, or copy to another folder.',
  );
}

/** The destination in the pod, following a link there once, as docker cp does (the user named it). */
async function podDestination(cluster: KubeCluster, t: PodFileTarget, name: string, dstPath: string): Promise<DestInfo> {
  const { statPodPath } = await import('../engine/kubernetes/pod-tar.js');
  const shown = escapeName(`${name}:${dstPath}`);
  let path = fromUser(containerPath(dstPath));
  let stat = await statPodPath(cluster, t, path, splitPathDirEntry(path).dir);
  if (stat.kind === 'link') {
    path = resolveLinkTarget(path, stat.target);
    stat = await statPodPath(cluster, t, path, splitPathDirEntry(path).dir);
    if (stat.kind === 'link') throw new InvalidArgument(`The destination ${shown} is a link to a link; porthole follows one.`, 'Name the folder it points to.');
  }
  if (stat.kind === 'other') throw new InvalidArgument(`The destination ${shown} must be a folder or a regular file.`);
  const folder = stat.kind === 'dir' ? path : splitPathDirEntry(path).dir;
  if (stat.folder === 'missing') throw new NotFound(`The folder ${show(folder)} does not exist in container ${t.container} of pod ${t.pod}, so ${shown} cannot be created.`, 'Create the folder first (porthole shell), or pick another destination.');
  if (stat.folder === 'read-only') {
    throw new Failure(`${shown} cannot be written: the folder ${show(folder)} is read-only for container ${t.container} of pod ${t.pod} (a read-only file system, or not its user's).`, 'The copy runs as the container\'s own user; copy to a writable volume or /tmp instead.');
  }
  if (stat.kind === 'missing') return { path, exists: false, isDir: false };
  return { path, exists: true, isDir: stat.kind === 'dir' };
}

/** Every folder below `root` on the host (links not followed), named as the copy names them (`top/sub`), as bytes. */
async function hostFolders(root: string, top: string): Promise<string[]> {
  const out: string[] = [];
  // Buffer paths: a name that is not UTF-8 is walked and sent exactly.
  const walk = async (hostDir: Buffer, rel: string) => {
    const dir = await fsp.opendir(hostDir as unknown as string, { encoding: 'buffer' as BufferEncoding });
    for await (const entry of dir) {
      if (!entry.isDirectory()) continue;
      const raw = entry.name as unknown as Buffer;
      const relName = rel ? `${rel}/${raw.toString('latin1')}` : raw.toString('latin1');
      out.push(relName);
      await walk(Buffer.concat([hostDir, Buffer.from('/'), raw]), relName);
    }
  };
  await walk(Buffer.from(root, 'utf8'), top);
  return out;
}
