// Turning a stream of entries (in the engine's walk order: parents first, names sorted) into ls's per-folder
// blocks, holding only the folders on the current path in memory, never the whole tree.
import type { FsEntry, Owners } from './entry.js';
import { formatTime, modeString } from './entry.js';
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

/** ls -l lines for one block: columns padded to the block's widest value; names and targets escaped. */
export function longLines(entries: FsEntry[], owners: Owners, nameOf: (e: FsEntry) => string = (e) => basename(e.path)): string[] {
  const rows = entries.map((e) => ({
    mode: modeString(e.type, e.mode),
    user: owners.users.get(e.uid) ?? String(e.uid),
    group: owners.groups.get(e.gid) ?? String(e.gid),
    size: String(e.type === 'file' ? e.size : 0),
    time: formatTime(e.mtime),
    name: show(nameOf(e)) + (e.type === 'symlink' ? ` -> ${show(e.linkName)}` : e.type === 'hardlink' ? ` link to ${show(e.linkName)}` : ''),
  }));
  const user = Math.max(0, ...rows.map((r) => r.user.length));
  const group = Math.max(0, ...rows.map((r) => r.group.length));
  const size = Math.max(0, ...rows.map((r) => r.size.length));
  return rows.map((r) => `${r.mode} ${r.user.padEnd(user)} ${r.group.padEnd(group)} ${r.size.padStart(size)} ${r.time} ${r.name}`);
}

/** Names sort by their bytes, as `LC_ALL=C ls` does (byte strings compare that way already). */
export function byName(a: FsEntry, b: FsEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
