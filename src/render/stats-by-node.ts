// stats across a swarm's nodes: one table with a NODE column; nodes that did not answer are named below it.
import type { NodeStatsRow } from '../commands/across-nodes.js';
import { escapeName } from './escape.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';
import { statsCells as cells } from '../tui/stats-view.js';
import { toJsonRow } from '../metrics/types.js';

export function renderStatsByNode(rows: NodeStatsRow[], nodes: { node: string; unavailable?: string }[], json: boolean): string {
  if (json) return renderJson(rows.map((r) => ({ node: r.node, ...toJsonRow(r) })));
  const table = renderTable(rows, [
    { header: 'NODE', value: (r) => r.node },
    { header: 'CONTAINER ID', value: (r) => r.id.slice(0, 12) },
    { header: 'NAME', value: (r) => r.name },
    { header: 'CPU %', value: (r) => cells(r).cpu, align: 'right', trusted: true },
    { header: 'MEM USAGE / LIMIT', value: (r) => cells(r).mem, align: 'right', trusted: true },
    { header: 'MEM %', value: (r) => cells(r).memPercent, align: 'right', trusted: true },
    { header: 'NET I/O', value: (r) => cells(r).net, align: 'right', trusted: true },
    { header: 'BLOCK I/O', value: (r) => cells(r).block, align: 'right', trusted: true },
    { header: 'PIDS', value: (r) => cells(r).pids, align: 'right', trusted: true },
  ]);
  const missing = nodes.filter((n) => n.unavailable !== undefined).map((n) => `${escapeName(n.node)}: no answer (why: on stderr)\n`);
  return table + missing.join('');
}

