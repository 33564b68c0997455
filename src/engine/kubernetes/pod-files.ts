// A pod container's files for `cat` and `ls`, read through exec with the container's own tools (sh, cat, stat,
// readlink: busybox has them all). Kubernetes has no archive endpoint, so this is the only way without adding a
// container. Names from the pod are hostile input: they are parsed from NUL-separated records (a newline or an
// escape sequence in a name stays exact) and only ever printed; nothing here writes to the host.
import { Failure, NotFound, Unsupported } from '../../errors.js';
import type { FsEntry } from '../../fs/entry.js';
import type { EntryType } from '../../fs/tar-reader.js';
import { basename, join, show, walkOrder } from '../../fs/paths.js';
import { exitFromStatus } from './exec-stream.js';
import type { KubeCluster } from './index.js';
import { openRawExec } from './pod-exec.js';

export const MISSING = 20;
export const IS_DIR = 21;
export const NO_TOOL = 22;

/** Checks that each tool exists before it is needed, so a missing one is named rather than guessed from output. */
export const NEED = (tools: string[]) => `for t in ${tools.join(' ')}; do command -v "$t" >/dev/null 2>&1 || { printf '%s' "$t" >&2; exit ${NO_TOOL}; }; done; `;

/** cat: exit 20 for a missing path, 21 for a folder, else the file's bytes (symlinks followed inside the pod). */
const CAT_SCRIPT = `${NEED(['cat'])}[ -e "$1" ] || exit ${MISSING}; [ -d "$1" ] && exit ${IS_DIR}; exec cat -- "$1"`;

/**
 * ls: a first byte D (a folder's entries follow) or F (the path itself), then per entry
 * "HEXMODE UID GID SIZE MTIME\n" NAME "\0" LINKTARGET "\0". The stat line holds no name, so it never needs parsing
 * around hostile bytes; the name and target end at NUL, which no name can hold. A symlink to a folder given as the
 * path is followed unless `long` (as ls does).
 */
const ONE =
  `one() { stat -c '%f %u %g %s %Y' -- "$1" || return 0; printf '%s\\0' "$1"; ` +
  `if [ -L "$1" ]; then t=$(readlink -- "$1"; echo .); printf '%s\\0' "\${t%??}"; else printf '\\0'; fi; }; `;
/** With $3 = owners: "U", /etc/passwd and /etc/group as od's hex, each ended by a NUL (see splitOwners). */
const OWNERS =
  `if [ "$3" = owners ] && command -v od >/dev/null 2>&1 && command -v head >/dev/null 2>&1; then printf U; ` +
  `for f in /etc/passwd /etc/group; do [ -f "$f" ] && head -c 1048576 "$f" | od -An -v -tx1; printf '\\0'; done; fi; `;
const LS_SCRIPT =
  `${NEED(['stat', 'readlink'])}` +
  `p=$1; [ -e "$p" ] || [ -L "$p" ] || exit ${MISSING}; ` +
  // with $3 = owners (ls -l, --json): "U", /etc/passwd and /etc/group as od's hex (so no byte of theirs can break
  // the framing), each ended by a NUL, in this same exec: each more exec costs the runtime more than the listing
  OWNERS +
  ONE +
  `if [ -d "$p" ] && { [ "$2" = follow ] || [ ! -L "$p" ]; }; then printf B; d=\${p%/}; ` +
  // a folder in three execs of tools whatever its size (one per entry was 6x kubectl's time on /bin): the globbed
  // names; each link's name and target; then one stat of all, each line ending in a name porthole already knows
  `set -- "$d"/* "$d"/.[!.]* "$d"/..?*; printf '%s\\0' "$@"; printf '\\0'; ` +
  // busybox's stat gives link targets too (%N: 'NAME' -> 'TARGET', unquoted; %s is the target's length), so one
  // call does all; another stat quotes %N its own way, so there readlink, one fork a link (its newline taken off)
  `case $(stat --help 2>&1) in *BusyBox*) printf N; stat -c '%f %u %g %s %Y %N' -- "$@" 2>/dev/null || :;; ` +
  `*) printf R; for f; do if [ -L "$f" ]; then printf '%s\\0' "$f"; readlink -- "$f"; printf '\\0'; fi; done; printf '\\0'; ` +
  `stat -c '%f %u %g %s %Y %n' -- "$@" 2>/dev/null || :;; esac; ` +
  `else printf F; one "$p"; fi`;

/**
 * find: a first byte W, then the records of the path and everything below it (links not followed; /proc and /sys
 * pruned, as the pod's kernel views are not its files), each named by its full path. The per-file script goes in
 * as $2 so that its quotes need no nesting.
 */
const WALK_SCRIPT =
  `${NEED(['find', 'stat', 'readlink'])}` +
  `p=$1; [ -e "$p" ] || [ -L "$p" ] || exit ${MISSING}; ${OWNERS}printf W; ` +
  `find "$p" \\( -path /proc -o -path /sys \\) -prune -o -exec sh -c "$2" sh {} +`;
const WALK_EACH = `${ONE}for f; do one "$f"; done`;

export interface PodFileTarget {
  namespace: string;
  pod: string;
  container: string;
  /** Run the tools in this other container (porthole's toolbox) with the command wrapped to reach `container`'s files. */
  via?: { container: string; wrap(cmd: string[]): string[]; image: string };
}

/** The container lacks a program the read needs (sh, or a tool the script checked for); nothing ran. */
export class MissingTool extends Unsupported {
  constructor(
    readonly target: PodFileTarget,
    readonly tool: string,
  ) {
    super(
      target.via
        ? `The toolbox image ${show(target.via.image)} has no ${show(tool)}, which porthole needs to reach the files of ${where(target)}.`
        : `${where(target)} has no ${show(tool)}, which porthole needs to reach its files in a pod.`,
      target.via
        ? 'Name a toolbox image with sh, tar, stat, readlink and find (busybox has them) with --toolbox IMAGE.'
        : 'Read them through a toolbox container: --toolbox IMAGE (an image the node can get, with sh and tar; busybox has them), or set PORTHOLE_K8S_TOOLBOX=IMAGE.',
    );
  }
}

/** The toolbox may not chroot into the target's root (exit 23 of the toolbox wrapper). */
export const NO_CHROOT = 23;

/** A byte string (latin1, one char a byte) as the exec API takes it: UTF-8 text. */
export function wire(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export function where(t: PodFileTarget): string {
  return `container ${t.container} of pod ${t.pod}`;
}

/** The container the command runs in and the command itself: the target's, or the toolbox's wrapped one. */
export function execSpec(t: PodFileTarget, cmd: string[]): { namespace: string; pod: string; container: string; command: string[] } {
  return { namespace: t.namespace, pod: t.pod, container: t.via?.container ?? t.container, command: t.via ? t.via.wrap(cmd) : cmd };
}

/** Turns an exec that did not run (no status code) into porthole's error; `code` when it ran. */
export function execOutcome(t: PodFileTarget, status: import('./client.js').Status | null, stderr: string): { code: number; stderr: string } {
  const result = exitFromStatus(status);
  if ('code' in result) {
    if (t.via && result.code === NO_CHROOT) {
      throw new Unsupported(
        `The toolbox container in pod ${t.pod} may not change its root to the files of ${where(t)} (no CAP_SYS_CHROOT, as with --profile restricted), so porthole cannot read them by their paths.`,
        'Use `porthole shell --toolbox` and look under /proc/1/root, or a toolbox with the general profile.',
      );
    }
    return { code: result.code, stderr };
  }
  if (/executable file not found|no such file or directory/i.test(result.error)) throw new MissingTool(t, 'shell (sh)');
  if (!status) throw new Failure(`The connection to the Kubernetes API ended before ${where(t)} said whether the command succeeded.`);
  throw new Failure(`Kubernetes could not run the command in ${where(t)}: ${result.error}.`);
}

/** Runs `sh -c SCRIPT porthole ARGS...`, streaming stdout to onStdout; resolves with the exit code and stderr. */
async function runScript(cluster: KubeCluster, t: PodFileTarget, script: string, args: string[], onStdout: (chunk: Buffer) => Promise<void> | void): Promise<{ code: number; stderr: string }> {
  const exec = await openRawExec(cluster.client, { ...execSpec(t, ['sh', '-c', script, 'porthole', ...args]), stdin: false });
  try {
    for await (const chunk of exec.stdout) await onStdout(chunk as Buffer);
    await exec.closed;
  } finally {
    // also when the caller stopped reading early (grep has its answer): the exec's connection is closed, not left open
    exec.destroy();
  }
  return execOutcome(t, exec.status, exec.stderrText());
}

function commonFailure(t: PodFileTarget, path: string, code: number, stderr: string, tool: string): never {
  if (code === MISSING) throw new NotFound(`${show(path)}: no such file or folder in ${where(t)}.`);
  if (code === NO_TOOL) throw new MissingTool(t, stderr.trim() || tool);
  throw new Failure(`${tool} failed in ${where(t)} on ${show(path)} (exit ${code})${stderr.trim() ? `: ${show(stderr.trim().split('\n')[0]!)}` : ''}.`);
}

/** Streams one file's bytes to `write`. */
export async function catPodFile(cluster: KubeCluster, t: PodFileTarget, path: string, write: (chunk: Buffer) => Promise<void> | void): Promise<void> {
  const { code, stderr } = await runScript(cluster, t, CAT_SCRIPT, [wire(path)], write);
  if (code === 0) return;
  if (code === IS_DIR) throw new NotFound(`${show(path)} is a folder, not a file, in ${where(t)}.`, `List it with \`porthole ls pod/${t.pod}/${t.container} ${show(path)}\`.`);
  commonFailure(t, path, code, stderr, 'cat');
}

const TYPES: Record<number, EntryType> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo' };

/** Parses the ls script's records; `dir` is the folder listed (entries are named under it, exactly as sent). Pure. */
export function parseListing(out: Buffer, asked: string): { isDir: boolean; entries: FsEntry[] } {
  const kind = out[0];
  if (kind === 0x42) return { isDir: true, entries: parseBatch(out, asked) };
  if (kind !== 0x44 && kind !== 0x46 && kind !== 0x57) throw new Failure('The pod sent a listing porthole cannot read.');
  const isDir = kind !== 0x46;
  const walk = kind === 0x57;
  const entries: FsEntry[] = [];
  let at = 1;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    const nameEnd = nl < 0 ? -1 : out.indexOf(0, nl + 1);
    const linkEnd = nameEnd < 0 ? -1 : out.indexOf(0, nameEnd + 1);
    if (linkEnd < 0) throw new Failure('The pod sent a listing porthole cannot read (a record was cut short).');
    const fields = out.subarray(at, nl).toString('latin1').split(' ');
    const name = out.subarray(nl + 1, nameEnd).toString('latin1');
    const link = out.subarray(nameEnd + 1, linkEnd).toString('latin1');
    at = linkEnd + 1;
    if (fields.length !== 5 || !fields.every((f, i) => (i === 0 ? /^[0-9a-f]+$/ : /^\d+$/).test(f))) throw new Failure('The pod sent a listing porthole cannot read (bad stat line).');
    // Names come back as the script globbed them ("$d"/NAME): only the last part is the pod's; the folder is the one asked.
    // A walk's full paths must lie at or under the path asked, else the record is refused.
    if (walk && !(name === asked || name.startsWith(asked === '/' ? '/' : `${asked}/`))) throw new Failure(`The pod sent a path outside ${show(asked)}: ${show(name)}.`);
    entries.push(statEntry(walk ? name : isDir ? join(asked, basename(name)) : asked, fields, link));
  }
  return { isDir, entries };
}

function statEntry(path: string, fields: string[], link: string): FsEntry {
  const raw = parseInt(fields[0]!, 16);
  const type = TYPES[raw & 0o170000] ?? 'other';
  return {
    path,
    name: basename(path),
    linkName: type === 'symlink' ? link : '',
    type,
    mode: raw & 0o7777,
    uid: Number(fields[1]),
    gid: Number(fields[2]),
    size: type === 'file' ? Number(fields[3]) : 0,
    mtime: Number(fields[4]),
    uname: '',
    gname: '',
  };
}

/**
 * A folder in batch form: "B", the globbed names NUL-ended, an empty record; pairs of link name and target, an
 * empty record; then stat's lines "HEXMODE UID GID SIZE MTIME NAME\n" in the names' order. Each line is matched
 * against the name expected next, byte for byte, so a newline inside a name cannot split a record; a name stat
 * skipped (a glob that matched nothing, a file gone meanwhile) is left out. Pure.
 */
function parseBatch(out: Buffer, asked: string): FsEntry[] {
  const bad = (why: string) => new Failure(`The pod sent a listing porthole cannot read (${why}).`);
  let at = 1;
  const next = (): string => {
    const end = out.indexOf(0, at);
    if (end < 0) throw bad('a record was cut short');
    const text = out.subarray(at, end).toString('latin1');
    at = end + 1;
    return text;
  };
  const names: string[] = [];
  for (let name = next(); name; name = next()) names.push(name);
  const how = out[at++];
  if (how !== 0x4e && how !== 0x52) throw bad('no stat form');
  // R: readlink's targets, then stat's %n lines; N: busybox's %N lines, which hold the targets
  const links = new Map<string, string>();
  if (how === 0x52) for (let name = next(); name; name = next()) links.set(name, next().replace(/\n$/, ''));
  const stats = out.subarray(at).toString('latin1');
  let cursor = 0;
  const entries: FsEntry[] = [];
  const line = /([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) /y;
  for (const name of names) {
    line.lastIndex = cursor;
    const m = line.exec(stats);
    if (!m) continue;
    let at = line.lastIndex;
    let link = links.get(name) ?? '';
    if (how === 0x52) {
      if (!stats.startsWith(`${name}\n`, at)) continue;
      at += name.length + 1;
    } else if ((parseInt(m[1]!, 16) & 0o170000) !== 0o120000) {
      // busybox quotes only a link's %N: anything else is the plain name
      if (!stats.startsWith(`${name}\n`, at)) continue;
      at += name.length + 1;
    } else {
      if (!stats.startsWith(`'${name}'`, at)) continue;
      at += name.length + 2;
      {
        if (!stats.startsWith(" -> '", at)) continue;
        const start = at + 5;
        const end = start + Number(m[4]);
        if (!stats.startsWith("'", end)) continue;
        link = stats.slice(start, end);
        at = end + 1;
      }
      if (!stats.startsWith('\n', at)) continue;
      at += 1;
    }
    cursor = at;
    // only the last part is the pod's; the folder is the one asked
    entries.push(statEntry(join(asked, basename(name)), m.slice(1), link));
  }
  if (cursor !== stats.length) throw bad('stat lines that match no name');
  return entries;
}

/** The path and everything below it, in the engine walk order the Docker side uses. */
export async function walkPodPath(cluster: KubeCluster, t: PodFileTarget, path: string, withOwners = false): Promise<{ entries: FsEntry[]; owners?: { passwd: string; group: string } }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // The owner files (find --json) come in this same exec, as for ls -l: each exec costs more than the walk's start.
  const { code, stderr } = await runScript(cluster, t, WALK_SCRIPT, [wire(path), WALK_EACH, withOwners ? 'owners' : ''], (c) => {
    size += c.length;
    if (size > 256 << 20) throw new Failure(`The listing of ${show(path)} in ${where(t)} is larger than 256 MiB.`);
    chunks.push(c);
  });
  if (code !== 0) commonFailure(t, path, code, stderr, 'find');
  const { owners, listing } = splitOwners(Buffer.concat(chunks));
  return { entries: parseListing(listing, path).entries.sort((a, b) => walkOrder(a.path, b.path)), ...(owners ? { owners } : {}) };
}

/** The owner files that came before a listing (see LS_SCRIPT), and the listing itself. Pure. */
export function splitOwners(out: Buffer): { owners?: { passwd: string; group: string }; listing: Buffer } {
  if (out[0] !== 0x55) return { listing: out };
  const endPasswd = out.indexOf(0, 1);
  const endGroup = endPasswd < 0 ? -1 : out.indexOf(0, endPasswd + 1);
  if (endGroup < 0) throw new Failure('The pod sent a listing porthole cannot read (the owner files were cut short).');
  const text = (hex: Buffer) => Buffer.from(hex.toString('latin1').replace(/[^0-9a-f]/g, ''), 'hex').toString('utf8');
  return { owners: { passwd: text(out.subarray(1, endPasswd)), group: text(out.subarray(endPasswd + 1, endGroup)) }, listing: out.subarray(endGroup + 1) };
}

/** One folder's entries (or the path's own entry when it is not a folder); with `withOwners`, /etc/passwd and /etc/group read in the same exec (when the container has od and head). */
export async function listPodPath(cluster: KubeCluster, t: PodFileTarget, path: string, followLink: boolean, withOwners = false): Promise<{ isDir: boolean; entries: FsEntry[]; owners?: { passwd: string; group: string } }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const { code, stderr } = await runScript(cluster, t, LS_SCRIPT, [wire(path), followLink ? 'follow' : '', withOwners ? 'owners' : ''], (c) => {
    size += c.length;
    // A listing is names and numbers: 256 MiB is far beyond any folder, and keeps a hostile pod from filling memory.
    if (size > 256 << 20) throw new Failure(`The listing of ${show(path)} in ${where(t)} is larger than 256 MiB.`);
    chunks.push(c);
  });
  if (code !== 0) commonFailure(t, path, code, stderr, 'ls');
  const { owners, listing } = splitOwners(Buffer.concat(chunks));
  return { ...parseListing(listing, path), ...(owners ? { owners } : {}) };
}
