// stats across a swarm's nodes: one table with a NODE column; nodes that did not answer are named below it.
import type { NodeStatsRow } from '../commands/across-nodes.js';
import { escapeName } from './escape.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';
import { STATS_COLUMNS } from '../tui/stats-view.js';
import { toJsonRow } from '../metrics/types.js';

export function renderStatsByNode(rows: NodeStatsRow[], nodes: { node: string; unavailable?: string }[], json: boolean): string {
  if (json) return renderJson(rows.map((r) => ({ node: r.node, ...toJsonRow(r) })));
  const table = renderTable<NodeStatsRow>(rows, [{ header: 'NODE', value: (r) => r.node }, ...STATS_COLUMNS]);
  const missing = nodes.filter((n) => n.unavailable !== undefined).map((n) => `${escapeName(n.node)}: no answer (why: on stderr)\n`);
  return table + missing.join('');
}

