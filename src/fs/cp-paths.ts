// docker cp's path rules, as pure functions: which side is the container, how trailing `/` and `/.` change the
// meaning, where an archive is extracted and what its top entry is renamed to. Mirrors docker/cli's
// cli/command/container/cp.go and moby's pkg/archive/copy.go (SplitPathDirEntry, PrepareArchiveCopy).
import { posix } from 'node:path';

export interface CpArg {
  container?: string;
  path: string;
}

/** `CONTAINER:PATH` or a local path; `./x:y` and `/x:y` are local, like docker's splitCpArg. */
export function splitCpArg(arg: string): CpArg {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0) return { path: arg };
  const container = arg.slice(0, colon);
  if (container.startsWith('.')) return { path: arg };
  return { container, path: arg.slice(colon + 1) };
}

/** Go's filepath.Clean for slash paths. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

/** Go's filepath.Base: '.' for '', '/' for all slashes, the last element otherwise. */
export function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export function hasTrailingSeparator(path: string): boolean {
  return path.endsWith('/');
}

/** The path names "the current directory" as its last element (`dir/.`, `.`). */
export function specifiesCurrentDir(path: string): boolean {
  return goBase(path) === '.';
}

/** A trailing `/` or `/.` says the path must be a directory. */
export function assertsDirectory(path: string): boolean {
  return hasTrailingSeparator(path) || specifiesCurrentDir(path);
}

/** moby's SplitPathDirEntry: the folder and the entry in it, keeping a final `.` as the entry. */
export function splitPathDirEntry(path: string): { dir: string; base: string } {
  let cleaned = cleanPath(path);
  if (specifiesCurrentDir(path)) cleaned = cleaned === '/' ? '/.' : `${cleaned}/.`;
  if (cleaned === '/') return { dir: '/', base: '/' };
  const dir = posix.dirname(cleaned);
  return { dir, base: posix.basename(cleaned) };
}

/** moby's GetRebaseName: after following a link, keep the trailing `/` or `/.` and the name the user asked for. */
export function rebaseAfterLink(path: string, resolved: string): { path: string; rebaseName: string | undefined } {
  let out = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(out)) out += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(out)) out += '/';
  const rebaseName = goBase(path) !== goBase(out) ? goBase(path) : undefined;
  return { path: out, rebaseName };
}

/** Makes a container path absolute (the engine reads relative ones from `/`), keeping a trailing `/` or `/.`. */
export function containerPath(path: string): string {
  const abs = path.startsWith('/') ? path : `/${path}`;
  return abs;
}

/** Joins a link target with the folder of the link, as docker does for `-L` and for a linked destination. */
export function resolveLinkTarget(linkPath: string, target: string): string {
  if (target.startsWith('/')) return target;
  return cleanPath(posix.join(splitPathDirEntry(linkPath).dir, target));
}

export interface SourceInfo {
  /** The path archived (after -L), as the engine or the walker sees it. */
  path: string;
  isDir: boolean;
  /** The name the user asked for when a link was followed and its name differs. */
  rebaseName?: string;
}

export interface DestInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
}

export interface CopyPlan {
  /** The folder the archive is extracted into. */
  extractDir: string;
  /** The archive's top name as the archiver writes it. */
  archiveTop: string;
  /** What the top name becomes in extractDir; '.' means the archive's contents go straight into extractDir. */
  renameTop: string;
}

/** Why a copy cannot happen, in docker's words (docker/cli prints these same phrases). */
export class CopyRuleError extends Error {}

/** moby's PrepareArchiveCopy: where to extract and how to rename, from what the source and destination are. */
export function planCopy(src: SourceInfo, dst: DestInfo): CopyPlan {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  const archiveTop = splitPathDirEntry(src.path).base;
  const asIs = src.rebaseName ?? archiveTop;
  if (dst.exists && dst.isDir) {
    return { extractDir: dst.path, archiveTop, renameTop: asIs === '/' || asIs === '.' ? '.' : asIs };
  }
  if (dst.exists && src.isDir) throw new CopyRuleError('cannot copy a directory onto a file');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new CopyRuleError('no such directory');
  return { extractDir: dstDir, archiveTop, renameTop: dstBase === '/' ? '.' : dstBase };
}

// Go os.FileMode type bits, as the engine reports them in a path stat.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_TYPE = [2 ** 31, 2 ** 27, 2 ** 26, 2 ** 25, 2 ** 24, 2 ** 21, 2 ** 19];

function hasBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

export function statIsDir(mode: number): boolean {
  return hasBit(mode, MODE_DIR);
}

export function statIsSymlink(mode: number): boolean {
  return hasBit(mode, MODE_SYMLINK);
}

export function statIsRegular(mode: number): boolean {
  return !MODE_TYPE.some((bit) => hasBit(mode, bit));
}
