// The pod side of `porthole cp`: Kubernetes has no archive endpoint, so a tar is made or unpacked by `tar` inside
// the container (or inside porthole's toolbox container, chrooted to the target's files), over exec. What comes
// back is hostile input: the stream goes to porthole's own extraction (fs/extract.ts) and nothing else; the few
// words the scripts print before it (a type letter, a path) are parsed strictly. Paths go in as arguments, never
// pasted into the script.
import { Failure, InvalidArgument, NotFound } from '../../errors.js';
import { show } from '../../fs/paths.js';
import type { Readable } from 'node:stream';
import type { KubeCluster } from './index.js';
import { openRawExec, type RawExec } from './pod-exec.js';
import { execOutcome, execSpec, IS_DIR, MISSING, MissingTool, NEED, NO_CHROOT, NO_TOOL, where, wire, type PodFileTarget } from './pod-files.js';

/**
 * copy out: "D" or "F" (folder or not), the path archived and a NUL, then tar's stream of BASE made in DIR. With
 * $4 = follow a link at the path is resolved inside the container first (cp -L), and the resolved path is what is
 * said and archived. A BASE of "." archives a folder's contents (SRC/.).
 */
const ARCHIVE_SCRIPT =
  `${NEED(['tar'])}` +
  `p=$1; d=$2; b=$3; if [ "$b" = . ] && [ ! -d "$d" ]; then [ -e "$d" ] && exit ${IS_DIR}; exit ${MISSING}; fi; ` +
  `[ -e "$p" ] || [ -L "$p" ] || exit ${MISSING}; ` +
  `if [ "$4" = follow ] && [ -L "$p" ]; then ` +
  `command -v readlink >/dev/null 2>&1 || { printf readlink >&2; exit ${NO_TOOL}; }; ` +
  `p=$(readlink -f -- "$p") || exit ${MISSING}; [ -e "$p" ] || exit ${MISSING}; d=\${p%/*}; b=\${p##*/}; [ -n "$d" ] || d=/; [ -n "$b" ] || b=.; fi; ` +
  `if [ "$b" = . ] && [ ! -d "$p" ]; then exit ${IS_DIR}; fi; ` +
  `if [ -d "$p" ] && { [ ! -L "$p" ] || [ "$b" = . ]; }; then printf D; else printf F; fi; printf '%s\\0' "$p"; ` +
  `cd -- "$d" || exit ${MISSING}; exec tar cf - -- "$b"`;

/**
 * copy in, the destination (tar checked for first, so a container without it is known before anything is sent):
 * "L" TARGET (a link, not followed here), or "D", "F", "O" (another kind) or "M" (missing), then for D, F and M
 * whether the folder tar will write in ($1 itself for D, else its folder $2) is there and writable: "w", "r" (not
 * writable: read-only or no permission) or "n" (missing). Said before the copy, because a tar that fails at once
 * makes the API server close the connection while porthole still sends, and its status can be lost.
 */
const DEST_SCRIPT =
  `${NEED(['tar'])}p=$1; if [ -L "$p" ]; then command -v readlink >/dev/null 2>&1 || { printf readlink >&2; exit ${NO_TOOL}; }; ` +
  `t=$(readlink -- "$p"; echo .); printf 'L%s' "\${t%??}"; exit 0; ` +
  `elif [ -d "$p" ]; then printf D; d=$p; elif [ -f "$p" ]; then printf F; d=$2; elif [ -e "$p" ]; then printf O; exit 0; else printf M; d=$2; fi; ` +
  `if [ ! -d "$d" ]; then printf n; elif [ -w "$d" ]; then printf w; else printf r; fi`;

/** copy in: which of the folders the copy will write into (relative to $1) stand as links in the container. */
const LINKS_SCRIPT =
  `cd -- "$1" || exit ${MISSING}; shift; ` +
  `command -v readlink >/dev/null 2>&1 || { printf readlink >&2; exit ${NO_TOOL}; }; ` +
  `for f; do if [ -L "$f" ]; then printf '%s\\0' "$f"; t=$(readlink -- "$f"; echo .); printf '%s\\0' "\${t%??}"; fi; done`;

/** copy in: tar unpacks stdin into $1. */
const EXTRACT_SCRIPT = `${NEED(['tar'])}cd -- "$1" || exit ${MISSING}; exec tar xf -`;

/**
 * The command run in porthole's toolbox container to reach the target's files by their own paths: chroot into the
 * target's root (/proc/1/root in the shared process namespace) with the toolbox's tools only (through fd 9, the
 * toolbox's own root), so a tool the target holds is never run with the toolbox's rights. Without the right to
 * chroot it stops (exit 23): /proc/1/root without chroot would resolve absolute links in the toolbox's root.
 */
export function toolboxFilesCommand(cmd: string[]): string[] {
  const script = [
    'exec 9</',
    // /bin/sh as is when it is no link or a relative one (it resolves inside the toolbox's root), else its target
    'sh_path=/bin/sh',
    'case $(readlink /bin/sh 2>/dev/null) in /*) sh_path=$(readlink -f /bin/sh);; esac',
    `chroot /proc/1/root /proc/self/fd/9$sh_path -c true 2>/dev/null || exit ${NO_CHROOT}`,
    'export PATH=/proc/self/fd/9/bin:/proc/self/fd/9/usr/bin:/proc/self/fd/9/sbin:/proc/self/fd/9/usr/sbin',
    'exec chroot /proc/1/root /proc/self/fd/9$sh_path -c \'exec "$@"\' sh "$@"',
  ].join('\n');
  return ['/bin/sh', '-c', script, 'porthole', ...cmd];
}

async function run(cluster: KubeCluster, t: PodFileTarget, script: string, args: string[], stdin = false): Promise<RawExec> {
  return openRawExec(cluster.client, { ...execSpec(t, ['sh', '-c', script, 'porthole', ...args.map(wire)]), stdin });
}

/** Runs a script whose whole output is small; its stdout, exit code and stderr. */
async function runSmall(cluster: KubeCluster, t: PodFileTarget, script: string, args: string[]): Promise<{ out: Buffer; code: number; stderr: string }> {
  const exec = await run(cluster, t, script, args);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of exec.stdout) {
      size += (c as Buffer).length;
      if (size > 64 << 20) throw new Failure(`${where(t)} sent more than 64 MiB for a small question; porthole stopped reading.`);
      chunks.push(c as Buffer);
    }
    await exec.closed;
  } finally {
    exec.destroy();
  }
  return { out: Buffer.concat(chunks), ...execOutcome(t, exec.status, exec.stderrText()) };
}

function failed(t: PodFileTarget, path: string, code: number, stderr: string, what: string): never {
  if (code === MISSING) throw new NotFound(`${show(path)}: no such file or folder in ${where(t)}.`);
  if (code === NO_TOOL) throw new MissingTool(t, stderr.trim() || 'tar');
  const line = stderr.trim().split('\n')[0];
  throw new Failure(`${what} failed in ${where(t)} on ${show(path)} (exit ${code})${line ? `: ${show(line)}` : ''}.`);
}

export interface PodArchive {
  /** The path archived (after -L), exactly as the container named it. */
  path: string;
  isDir: boolean;
  /** tar's stream, as the container sent it. */
  stream: Readable;
  /** After the stream ended: tar's exit code and what it said on stderr. */
  finish(): Promise<{ code: number; stderr: string }>;
  destroy(): void;
}

/** Starts `tar c` of `path` in the container; resolves once the container said what it archives. */
export async function openPodArchive(cluster: KubeCluster, t: PodFileTarget, path: string, dir: string, base: string, follow: boolean): Promise<PodArchive> {
  const exec = await run(cluster, t, ARCHIVE_SCRIPT, [path, dir, base, follow ? 'follow' : '']);
  const stdout = exec.stdout;
  // The header: one letter, a path, a NUL; then tar's bytes, put back for the extraction to read.
  const header = await new Promise<{ kind: string; path: string } | null>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = stdout.read() as Buffer | null) !== null; ) {
        const nul = chunk.indexOf(0);
        if (nul < 0) {
          parts.push(chunk);
          size += chunk.length;
          if (size > 64 * 1024) return done(new Failure(`${where(t)} sent a path longer than 64 KiB before the archive.`));
          continue;
        }
        const head = Buffer.concat([...parts, chunk.subarray(0, nul)]);
        const rest = chunk.subarray(nul + 1);
        if (rest.length) stdout.unshift(rest);
        const kind = head.subarray(0, 1).toString('latin1');
        if (kind !== 'D' && kind !== 'F') return done(new Failure(`${where(t)} answered the copy with something porthole cannot read.`));
        return done(null, { kind, path: head.subarray(1).toString('latin1') });
      }
    };
    const onEnd = () => done(null, null);
    const onError = (err: Error) => done(err);
    const done = (err: Error | null, value?: { kind: string; path: string } | null) => {
      stdout.off('readable', onReadable);
      stdout.off('end', onEnd);
      stdout.off('error', onError);
      if (err) reject(err);
      else resolve(value ?? null);
    };
    stdout.on('readable', onReadable);
    stdout.on('end', onEnd);
    stdout.on('error', onError);
  }).catch((err) => {
    exec.destroy();
    throw err;
  });
  if (!header) {
    await exec.closed;
    const { code, stderr } = execOutcome(t, exec.status, exec.stderrText());
    if (code === IS_DIR) throw new InvalidArgument(`${show(path)} in ${where(t)} is not a folder, so it has no contents to copy (/.).`);
    failed(t, path, code, stderr, 'tar');
  }
  // Only cp -L may archive another path than the one asked (what the link resolved to).
  if (!follow && header.path !== path) {
    exec.destroy();
    throw new Failure(`${where(t)} answered a copy of ${show(path)} with another path, ${show(header.path)}; porthole stopped.`);
  }
  return {
    path: header.path,
    isDir: header.kind === 'D',
    stream: stdout,
    finish: async () => {
      await exec.closed;
      return execOutcome(t, exec.status, exec.stderrText());
    },
    destroy: () => exec.destroy(),
  };
}

export type PodPathKind = { kind: 'dir' | 'file' | 'missing'; folder: 'writable' | 'read-only' | 'missing' } | { kind: 'other' } | { kind: 'link'; target: string };

/** What stands at `path` in the container (a link not followed), and whether tar could write where it would. */
export async function statPodPath(cluster: KubeCluster, t: PodFileTarget, path: string, folder: string): Promise<PodPathKind> {
  const { out, code, stderr } = await runSmall(cluster, t, DEST_SCRIPT, [path, folder]);
  if (code !== 0) failed(t, path, code, stderr, 'stat');
  const text = out.toString('latin1');
  const state = ({ w: 'writable', r: 'read-only', n: 'missing' } as const)[text[1] as 'w' | 'r' | 'n'];
  const kind = ({ D: 'dir', F: 'file', M: 'missing' } as const)[text[0] as 'D' | 'F' | 'M'];
  if (text[0] === 'L') return { kind: 'link', target: text.slice(1) };
  if (text === 'O') return { kind: 'other' };
  if (kind && state && text.length === 2) return { kind, folder: state };
  throw new Failure(`${where(t)} answered a question about ${show(path)} with something porthole cannot read.`);
}

/** Which of `names` (relative to `dir`) are symbolic links in the container, with their targets. */
export async function podLinksAmong(cluster: KubeCluster, t: PodFileTarget, dir: string, names: string[]): Promise<{ name: string; target: string }[]> {
  const found: { name: string; target: string }[] = [];
  // in batches, so that no request line grows past what the API server takes
  for (let i = 0; i < names.length; ) {
    const batch: string[] = [];
    let bytes = 0;
    while (i < names.length && (batch.length === 0 || bytes < 32 * 1024)) {
      bytes += names[i]!.length * 3 + 10;
      batch.push(names[i++]!);
    }
    const { out, code, stderr } = await runSmall(cluster, t, LINKS_SCRIPT, [dir, ...batch]);
    if (code !== 0) {
      if (code === MISSING) throw new NotFound(`The folder ${show(dir)} does not exist in ${where(t)}.`, 'Create it first (porthole shell), or pick another destination.');
      failed(t, dir, code, stderr, 'the link check');
    }
    const fields = out.toString('latin1').split('\0');
    for (let f = 0; f + 1 < fields.length; f += 2) found.push({ name: fields[f]!, target: fields[f + 1]! });
  }
  return found;
}

/** Starts `tar x` in `dir`; the caller writes the tar to `stdin` and ends it, then awaits `finish`. */
export async function openPodExtract(cluster: KubeCluster, t: PodFileTarget, dir: string): Promise<{ stdin: NodeJS.WritableStream & import('node:stream').Writable; finish(): Promise<{ code: number; stderr: string }>; destroy(): void; canCloseStdin: boolean }> {
  const exec = await run(cluster, t, EXTRACT_SCRIPT, [dir], true);
  exec.stdout.resume();
  return {
    stdin: exec.stdin!,
    canCloseStdin: exec.canCloseStdin,
    finish: async () => {
      await exec.closed;
      return execOutcome(t, exec.status, exec.stderrText());
    },
    destroy: () => exec.destroy(),
  };
}

/** The meaning of tar x's exit for the person copying in. */
export function extractFailure(t: PodFileTarget, dir: string, shownDest: string, code: number, stderr: string): Error {
  if (code === MISSING) return new NotFound(`The folder ${show(dir)} does not exist in ${where(t)}, so ${shownDest} cannot be created.`, 'Create the folder first (porthole shell), or pick another destination.');
  if (code === NO_TOOL) return new MissingTool(t, stderr.trim() || 'tar');
  const line = show(stderr.trim().split('\n')[0] ?? '');
  if (/read-only/i.test(stderr)) return new Failure(`${shownDest} is on a read-only file system in ${where(t)}: ${line}.`, 'Copy to a writable volume or /tmp instead.');
  if (/permission denied/i.test(stderr)) return new Failure(`${where(t)} may not write to ${shownDest}: ${line}.`, 'The copy runs as the container\'s own user; pick a folder it can write to.');
  return new Failure(`tar in ${where(t)} failed to unpack the copy into ${shownDest} (exit ${code})${line ? `: ${line}` : ''}.`, 'Part of the copy may have been written.');
}
