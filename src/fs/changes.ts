// The container's own layer: docker's change list, the file details an export pass adds to it, and the tree
// with folder totals that `diff --tree` draws. Everything iterative: a folder thousands deep must not blow the stack.
import type { Change } from '../engine/types.js';
import type { EntryType } from './tar-reader.js';
import { escapeName } from '../render/escape.js';
import { formatBytes } from '../render/table.js';

export interface ChangeInfo {
  type: EntryType;
  size: number;
  mode: string;
}

export interface DetailedChange extends Change {
  info?: ChangeInfo;
}

export function filterKinds(changes: Change[], kinds: { added: boolean; changed: boolean; deleted: boolean }): Change[] {
  if (!kinds.added && !kinds.changed && !kinds.deleted) return changes;
  return changes.filter((c) => (c.kind === 'A' && kinds.added) || (c.kind === 'C' && kinds.changed) || (c.kind === 'D' && kinds.deleted));
}

/** docker diff's line for a change; the path escaped so a hostile name cannot forge a line or drive the terminal. */
export function changeLine(change: Change): string {
  return `${change.kind} ${escapeName(change.path)}`;
}

interface TreeNode {
  name: string;
  path: string;
  kind?: Change['kind'];
  info?: ChangeInfo;
  total: number;
  children: Map<string, TreeNode>;
}

export function buildTree(changes: DetailedChange[]): TreeNode {
  const root: TreeNode = { name: '/', path: '/', total: 0, children: new Map() };
  // Parents come before children in the engine's list, so each path usually finds its parent in one lookup.
  const byPath = new Map<string, TreeNode>([['/', root]]);
  const nodeFor = (path: string): TreeNode => {
    const known = byPath.get(path);
    if (known) return known;
    const cut = path.lastIndexOf('/');
    const parentPath = cut <= 0 ? '/' : path.slice(0, cut);
    // A parent missing from the list is created on the way (iteratively: walk up to the first known one).
    const missing: string[] = [];
    let p = parentPath;
    while (!byPath.has(p)) {
      missing.push(p);
      const c = p.lastIndexOf('/');
      p = c <= 0 ? '/' : p.slice(0, c);
    }
    for (let i = missing.length - 1; i >= 0; i--) attach(missing[i]!);
    return attach(path);
  };
  const attach = (path: string): TreeNode => {
    const cut = path.lastIndexOf('/');
    const parent = byPath.get(cut <= 0 ? '/' : path.slice(0, cut))!;
    const name = path.slice(cut + 1);
    let node = parent.children.get(name);
    if (!node) {
      node = { name, path, total: 0, children: new Map() };
      parent.children.set(name, node);
    }
    byPath.set(path, node);
    return node;
  };
  for (const change of changes) {
    const path = change.path.replace(/\/+$/, '') || '/';
    if (path === '/') continue;
    const node = nodeFor(path);
    node.kind = change.kind;
    node.info = change.info;
  }
  // Folder totals: sizes of the files below, summed bottom-up without recursion (post-order via two stacks).
  const order: TreeNode[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    order.push(node);
    for (const child of node.children.values()) stack.push(child);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    let total = node.info && node.info.type !== 'dir' ? node.info.size : 0;
    for (const child of node.children.values()) total += child.total;
    node.total = total;
  }
  return root;
}

/** Past this depth the drawing stops indenting (a depth count is shown instead), so output stays linear. */
const MAX_INDENT = 48;

/** Draws the tree: kind, name (folders end in /), and the size of what changed below, children sorted by name. */
export function renderTree(root: TreeNode): string[] {
  const lines = [`/ (${formatBytes(root.total)})`];
  const stack: { node: TreeNode; prefix: string; last: boolean; depth: number }[] = [];
  const push = (node: TreeNode, prefix: string, depth: number) => {
    const children = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, prefix, last: i === children.length - 1, depth });
  };
  push(root, '', 1);
  while (stack.length) {
    const { node, prefix, last, depth } = stack.pop()!;
    const folder = node.children.size > 0 || node.info?.type === 'dir';
    const size = node.kind === 'D' ? 'deleted' : formatBytes(node.total);
    const indent = depth > MAX_INDENT ? `${prefix}[depth ${depth}] ` : prefix;
    lines.push(`${indent}${last ? '└── ' : '├── '}${node.kind ?? ' '} ${escapeName(node.name)}${folder ? '/' : ''} (${size})`);
    push(node, depth >= MAX_INDENT ? prefix : prefix + (last ? '    ' : '│   '), depth + 1);
  }
  return lines;
}
