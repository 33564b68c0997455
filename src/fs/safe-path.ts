// Path safety for copying out of a container: a tar entry's name comes from a container we do not trust, so it is
// checked segment by segment before anything is written, and containment is decided on segments, never on string
// prefixes (`out` does not contain `out-evil`).
import { isAbsolute, relative, sep } from 'node:path';
import { fsPath } from './tar-names.js';

export interface PathLimits {
  /** Most path segments one entry may have below the destination. */
  maxDepth: number;
  /** Longest host path (destination + entry) in bytes; Linux refuses paths over 4096 bytes. */
  maxPathBytes: number;
}

export const DEFAULT_PATH_LIMITS: PathLimits = { maxDepth: 512, maxPathBytes: 4000 };

export type EntryPath =
  | { ok: true; segments: string[] }
  | { ok: false; reason: string };

/**
 * Maps an entry name from the stream onto segments below the destination. The stream's top name (`expectTop`, the
 * base name the engine archived) is renamed to `renameTop` (docker cp's rebasing); `renameTop` '.' means "into the
 * destination itself". Names with `..`, absolute names, NUL bytes and names outside the copied path are refused.
 */
export function entrySegments(name: string, expectTop: string, renameTop: string): EntryPath {
  if (name.includes('\0')) return { ok: false, reason: 'its name holds a NUL byte' };
  let rest: string;
  if (expectTop === '/') {
    // The engine names the entries of an archive of `/` as `/`, `/bin/`, ...: exactly one leading slash is expected.
    if (!name.startsWith('/') || name.startsWith('//')) return { ok: false, reason: 'it is outside the copied path' };
    rest = name.slice(1);
  } else {
    if (name.startsWith('/')) return { ok: false, reason: 'its name is absolute' };
    const trimmed = name.replace(/\/+$/, '');
    if (trimmed === expectTop) rest = '';
    else if (trimmed.startsWith(`${expectTop}/`)) rest = trimmed.slice(expectTop.length + 1);
    else if (hasDotDot(name)) return { ok: false, reason: 'its name climbs out with ..' };
    else return { ok: false, reason: 'it is outside the copied path' };
  }
  if (hasDotDot(rest)) return { ok: false, reason: 'its name climbs out with ..' };
  const below = rest.split('/').filter((s) => s !== '' && s !== '.');
  const top = renameTop === '.' ? [] : [renameTop];
  return { ok: true, segments: [...top, ...below] };
}

function hasDotDot(name: string): boolean {
  return name.split('/').includes('..');
}

/**
 * Checks a link target of a hardlink entry the same way as an entry name: hardlinks point at other entries of the
 * same stream, so the target must map inside the destination too.
 */
export const hardlinkSegments = entrySegments;

/** Whether `child` is `root` or below it, comparing whole segments. Both must be absolute and normalized. */
export function isInside(root: string, child: string): boolean {
  if (!isAbsolute(root) || !isAbsolute(child)) return false;
  const rel = relative(root, child);
  if (rel === '') return true;
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Checks depth and length limits; returns a sentence when the entry exceeds them. */
export function checkLimits(destDir: string, segments: string[], limits: PathLimits): string | undefined {
  if (segments.length > limits.maxDepth) return `it is nested ${segments.length} folders deep, more than the ${limits.maxDepth} porthole accepts`;
  const bytes = nameBytes(destDir) + segments.reduce((n, s) => n + 1 + nameBytes(s), 0);
  if (bytes > limits.maxPathBytes) return `its path on this host would be ${bytes} bytes long, more than the ${limits.maxPathBytes} porthole accepts`;
  if (segments.some((s) => nameBytes(s) > 255)) return 'one of its names is longer than 255 bytes';
  return undefined;
}

/** The length in bytes the file system sees (a raw byte from the stream is one byte, see tar-names.ts). */
function nameBytes(name: string): number {
  const path = fsPath(name);
  return typeof path === 'string' ? Buffer.byteLength(path) : path.length;
}

/** Keeps the permission bits and drops setuid, setgid and sticky. */
export function safeMode(mode: number | undefined, fallback: number): number {
  return (mode ?? fallback) & 0o777;
}
