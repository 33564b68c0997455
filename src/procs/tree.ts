// Process trees: a node per process with its children in PID order, and the flattening into rows with the
// `ps f` forest drawing. flattenForest is generic so the engine-top fallback draws its rows the same way.
import { forestPrefix } from './format.js';
import type { ProcessInfo, ProcessTable } from './table.js';

export interface ProcessNode {
  process: ProcessInfo;
  children: ProcessNode[];
}

/**
 * The tree under pid. `keepChild(childPid)` filters the root's direct children only (e.g. a runtime shim's
 * children that belong to one container); everything below them is taken whole.
 */
export function buildTree(table: ProcessTable, pid: number, keepChild?: (childPid: number) => boolean): ProcessNode | undefined {
  const seen = new Set<number>();
  const build = (current: number, filter?: (childPid: number) => boolean): ProcessNode | undefined => {
    if (seen.has(current)) return undefined; // a PID reused while reading could otherwise loop
    seen.add(current);
    const process = table.process(current);
    if (!process) return undefined;
    const children: ProcessNode[] = [];
    for (const child of table.children(current)) {
      if (filter && !filter(child)) continue;
      const node = build(child);
      if (node) children.push(node);
    }
    return { process, children };
  };
  return build(pid, keepChild);
}

export interface ForestRow<T> {
  item: T;
  depth: number;
  /** What `ps f` draws before the command: '' for a root, ' \_ ' for its children, ' |   \_ ' deeper... */
  prefix: string;
}

/** Depth-first rows, parents before children, each with its depth and forest prefix. */
export function flattenForest<T>(roots: T[], children: (item: T) => T[]): ForestRow<T>[] {
  const rows: ForestRow<T>[] = [];
  // ancestorsContinue[i]: whether the ancestor at depth i+1 has a later sibling, so its branch line goes on.
  const visit = (item: T, depth: number, ancestorsContinue: boolean[], hasLaterSibling: boolean) => {
    rows.push({ item, depth, prefix: forestPrefix(depth, ancestorsContinue) });
    const kids = children(item);
    const below = depth === 0 ? [] : [...ancestorsContinue, hasLaterSibling];
    kids.forEach((kid, i) => visit(kid, depth + 1, below, i < kids.length - 1));
  };
  for (const root of roots) visit(root, 0, [], false);
  return rows;
}
