// Turning a stream of entries (in the engine's walk order: parents first, names sorted) into ls's per-folder
// blocks, holding only the folders on the current path in memory, never the whole tree.
import type { FsEntry, Owners } from './entry.js';
import { formatTime, modeString } from './entry.js';
import { escapeName } from '../render/escape.js';
import { widest } from '../render/table.js';
import { basename, isWithin, show } from './paths.js';

export interface Block {
  dir: string;
  entries: FsEntry[];
}

/**
 * Groups entries into folder blocks and hands each block over as soon as the walk has left that folder (so
 * deeper folders come before their parents). `keep` decides whether an entry is listed; a folder that is not
 * kept is not descended into either (ls -R without -a skips hidden folders).
 */
export class BlockGrouper {
  private stack: { dir: string; entries: FsEntry[]; hidden: boolean }[] = [];

  constructor(
    root: string,
    private readonly emit: (block: Block) => Promise<void>,
    private readonly keep: (entry: FsEntry) => boolean,
    /** false: list only the root's own entries (plain ls), true: every folder below (ls -R). */
    private readonly descend = true,
  ) {
    this.stack.push({ dir: root, entries: [], hidden: false });
  }

  async add(entry: FsEntry): Promise<void> {
    const path = entry.path;
    if (path === this.stack[0]!.dir) return;
    const cut = path.lastIndexOf('/');
    const parent = cut <= 0 ? '/' : path.slice(0, cut); // paths here are already normalized
    while (this.stack.length > 1 && !isWithin(parent, this.stack[this.stack.length - 1]!.dir)) await this.pop();
    let top = this.stack[this.stack.length - 1]!;
    if (top.dir !== parent) {
      // A folder the stream never announced (not written by docker, but tolerated): open it implicitly.
      top = { dir: parent, entries: [], hidden: top.hidden };
      this.stack.push(top);
    }
    const hidden = top.hidden || !this.keep(entry);
    if (!hidden) top.entries.push(entry);
    if (entry.type === 'dir' && this.descend) this.stack.push({ dir: path, entries: [], hidden });
  }

  private async pop(): Promise<void> {
    const done = this.stack.pop()!;
    if (!done.hidden) await this.emit({ dir: done.dir, entries: done.entries });
  }

  async end(): Promise<void> {
    while (this.stack.length) await this.pop();
  }
}

/**
 * ls -l's line maker for one block: columns padded to the block's widest value; names, targets and the owner and
 * group names from the container's /etc/passwd and /etc/group escaped. The widths take one pass over the entries
 * and each line is made when asked for, so a folder of 200,000 names holds no second copy of itself as rows.
 */
export function longLayout(entries: FsEntry[], owners: Owners, nameOf: (e: FsEntry) => string = (e) => basename(e.path)): (e: FsEntry) => string {
  // escaped once per id, not once per entry
  const names = (ids: Map<number, string>) => {
    const shown = new Map<number, string>();
    return (id: number) => {
      let text = shown.get(id);
      if (text === undefined) shown.set(id, (text = escapeName(ids.get(id) ?? String(id))));
      return text;
    };
  };
  const userOf = names(owners.users);
  const groupOf = names(owners.groups);
  const sizeOf = (e: FsEntry) => String(e.type === 'file' ? e.size : 0);
  const user = widest(entries, (e) => userOf(e.uid));
  const group = widest(entries, (e) => groupOf(e.gid));
  const size = widest(entries, sizeOf);
  return (e) => {
    const name = show(nameOf(e)) + (e.type === 'symlink' ? ` -> ${show(e.linkName)}` : e.type === 'hardlink' ? ` link to ${show(e.linkName)}` : '');
    return `${modeString(e.type, e.mode)} ${userOf(e.uid).padEnd(user)} ${groupOf(e.gid).padEnd(group)} ${sizeOf(e).padStart(size)} ${formatTime(e.mtime)} ${name}`;
  };
}

/** ls -l lines for one block (see longLayout). */
export function longLines(entries: FsEntry[], owners: Owners, nameOf?: (e: FsEntry) => string): string[] {
  return entries.map(longLayout(entries, owners, nameOf));
}

/** Names sort by their bytes, as `LC_ALL=C ls` does (byte strings compare that way already). */
export function byName(a: FsEntry, b: FsEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
