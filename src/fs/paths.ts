// Paths inside a container, as byte strings (latin1: one char per byte, see tar-reader.ts). Everything here is
// lexical and resolved against the container's root, never against the host's filesystem.
import { escapeBytes } from '../render/escape.js';

/** A path typed by the user (UTF-8) as a byte string. */
export function fromUser(path: string): string {
  return Buffer.from(path, 'utf8').toString('latin1');
}

/** A byte string as the UTF-8 text the engine API expects in a query. */
export function toApi(path: string): string {
  return Buffer.from(path, 'latin1').toString('utf8');
}

/** Absolute, no empty or '.' segments, '..' resolved and clamped at the root, no trailing slash. */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (!segment || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/** Already absolute and normalized (every path porthole builds is): no need to split it again. */
const CLEAN = /^\/(?!.*(?:\/\/|\/\.{1,2}(?:\/|$)|\/$))/;

function ensureNormal(path: string): string {
  return CLEAN.test(path) || path === '/' ? path : normalize(path);
}

export function dirname(path: string): string {
  const p = ensureNormal(path);
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function basename(path: string): string {
  const p = ensureNormal(path);
  return p === '/' ? '/' : p.slice(p.lastIndexOf('/') + 1);
}

export function join(dir: string, name: string): string {
  return normalize(`${dir}/${name}`);
}

/** Where a symlink at `linkPath` with target `target` points, resolved inside the container's root. */
export function resolveLink(linkPath: string, target: string): string {
  return target.startsWith('/') ? normalize(target) : normalize(`${dirname(linkPath)}/${target}`);
}

// A name needs the full normalize only when it holds '.', '..' or empty segments (never from docker).
const UNUSUAL = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|^\//;

/** The container path of an entry in an archive whose entries are named relative to `base`, a normalized folder. */
export function archiveEntryPath(base: string, entryName: string): string {
  if (UNUSUAL.test(entryName)) return normalize(`${base}/${entryName}`);
  const name = entryName.endsWith('/') ? entryName.slice(0, -1) : entryName;
  if (!name) return base;
  return base === '/' ? `/${name}` : `${base}/${name}`;
}

/** The container path of an entry in a whole-container export (names are relative to the root). */
export function exportEntryPath(entryName: string): string {
  return archiveEntryPath('/', entryName);
}

/** True when `path` is `dir` or lies below it (segment-wise, so /data-x is not under /data). */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return true;
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 0x2f);
}

/**
 * The engine's walk order for archives and exports (Go's filepath.Walk): a folder, then everything below each of
 * its names in byte order. Not plain string order: '/a/b' comes before '/a-c'.
 */
export function walkOrder(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < as.length && i < bs.length; i++) if (as[i] !== bs[i]) return as[i]! < bs[i]! ? -1 : 1;
  return as.length - bs.length;
}

/** Number of segments: '/' is 0, '/a' is 1, '/a/b' is 2. */
export function depth(path: string): number {
  if (path === '/') return 0;
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** Terminal-safe text for a byte string: control characters and invalid UTF-8 shown as visible escapes. */
export function show(bytes: string): string {
  // Fast path: printable ASCII needs no work (most names).
  if (/^[\x20-\x7e]*$/.test(bytes)) return bytes;
  return escapeBytes(Buffer.from(bytes, 'latin1'));
}

/** The UTF-8 text of a byte string, and whether that text holds the bytes exactly. */
export function decode(bytes: string): { text: string; exact: boolean } {
  if (/^[\x00-\x7f]*$/.test(bytes)) return { text: bytes, exact: true };
  const raw = Buffer.from(bytes, 'latin1');
  const text = raw.toString('utf8');
  return { text, exact: Buffer.from(text, 'utf8').equals(raw) };
}

/**
 * A name for --json: `{ [key]: text }`, plus `[key + 'Bytes']`: base64 of the exact bytes when they are not
 * valid UTF-8 (the text then holds U+FFFD where bytes were lost).
 */
export function jsonBytes(key: string, bytes: string): Record<string, string> {
  const { text, exact } = decode(bytes);
  return exact ? { [key]: text } : { [key]: text, [`${key}Bytes`]: Buffer.from(bytes, 'latin1').toString('base64') };
}
