// Fixtures for `porthole cp` tests: crafted tar streams, a snapshot of a host tree, a hostile container's script.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { encodeHeader, endOfArchive, padding, type HeaderFields } from '../../src/fs/pack.js';
import { Extraction, type ExtractLimits, type ExtractResult } from '../../src/fs/extract.js';
export { containerFingerprint as stableFingerprint } from './docker.js';


export type CraftedEntry = Partial<HeaderFields> & { name: string; body?: Buffer | string; rawHeader?: Buffer };

/** A tar stream made of exactly these entries, hostile names and all, ended by the two zero blocks. */
export function craftTar(entries: CraftedEntry[], { end = true } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const type = e.type ?? 'file';
    parts.push(e.rawHeader ?? encodeHeader({ ...e, type, size: e.size ?? (type === 'file' ? body.length : 0), mtime: e.mtime ?? 1_600_000_000 }));
    if (body.length) parts.push(body, padding(body.length));
  }
  if (end) parts.push(endOfArchive());
  return Buffer.concat(parts);
}

export interface ExtractRun {
  result?: ExtractResult;
  error?: Error;
  warnings: string[];
}

/** Feeds a buffer (in small chunks, to exercise back-pressure) through the extractor. */
export async function extractBuffer(
  tar: Buffer | Readable,
  parentDir: string,
  opts: { expectTop?: string; renameTop?: string; keepOwnership?: boolean; limits?: Partial<ExtractLimits>; chunk?: number } = {},
): Promise<ExtractRun> {
  const warnings: string[] = [];
  const extraction = new Extraction({
    parentDir,
    expectTop: opts.expectTop ?? 'top',
    renameTop: opts.renameTop ?? opts.expectTop ?? 'top',
    keepOwnership: opts.keepOwnership ?? false,
    limits: opts.limits,
    warn: (line) => warnings.push(line),
  });
  const source = Buffer.isBuffer(tar) ? Readable.from(chunks(tar, opts.chunk ?? 1000), { objectMode: false }) : tar;
  try {
    return { result: await extraction.run(source), warnings };
  } catch (error) {
    return { error: error as Error, warnings };
  }
}

function* chunks(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  ino?: number;
}

/** Every path below `root` (relative, sorted) with its type, permission bits, owner, content hash or link target. */
export function snapshotTree(root: string, { owners = true } = {}): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      const base = { mode: st.mode & 0o7777, uid: owners ? st.uid : 0, gid: owners ? st.gid : 0, ino: st.ino };
      if (st.isSymbolicLink()) out[r] = { ...base, type: 'symlink', target: readlinkSync(abs) };
      else if (st.isDirectory()) {
        out[r] = { ...base, type: 'dir' };
        walk(abs, r);
      } else if (st.isFile()) out[r] = { ...base, type: 'file', size: st.size, sha256: sha256(readFileSync(abs)) };
      else out[r] = { ...base, type: 'other' };
    }
  };
  walk(root, '');
  return out;
}

/** The same snapshot without inode numbers, for comparing two trees. */
export function comparable(tree: Record<string, TreeEntry>): Record<string, Omit<TreeEntry, 'ino'>> {
  return Object.fromEntries(Object.entries(tree).map(([k, { ino: _ino, ...rest }]) => [k, rest]));
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A busybox shell script that builds a hostile tree under /h (and a deep one under /deep). */
export function hostileScript(victim: string, depth: number): string {
  return [
    'set -e',
    'mkdir -p /h /h2/evil /h2/up /h2/l1 /h2/victim /h2/pre',
    'echo owned > /h/file',
    'ln -s /etc /h/evil',
    'ln -s ../../.. /h/up',
    `ln -s ${victim} /h/victim`,
    'ln -s l2 /h/l1 && ln -s l3 /h/l2 && ln -s /h/victim /h/l3',
    'ln /h/file /h/hard',
    'mkfifo /h/fifo',
    "mkfifo \"/h/$(printf 'fifo\\033]0;pwned\\007')\"",
    'mknod /h/null c 1 3',
    'echo suid > /h/suid && chmod 4755 /h/suid',
    'echo sgid > /h/sgid && chmod 2711 /h/sgid',
    'mkdir /h/sticky && chmod 1777 /h/sticky',
    "echo esc > \"/h/$(printf 'esc\\033[31mred')\"",
    "echo nl > \"/h/$(printf 'new\\nline')\"",
    'echo app > /h/app-owned && chown 1000:1000 /h/app-owned',
    // The second tree: entries whose names match the links the first copy leaves in DEST.
    'echo pwned > /h2/evil/passwd',
    'echo pwned > /h2/up/pwned',
    'echo pwned > /h2/l1/pwned',
    'echo pwned > /h2/victim/pwned',
    'echo pwned > /h2/pre/pwned',
    'echo plain > /h2/plain',
    `d=/deep; i=0; while [ $i -lt ${depth} ]; do d=$d/d; i=$((i+1)); done; mkdir -p $d; echo bottom > $d/f`,
  ].join('\n');
}
