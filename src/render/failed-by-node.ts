// why --all-nodes: every node's failed containers in one table, newest first; nodes that did not answer named.
import type { WhyNodesResult } from '../commands/across-nodes.js';
import { escapeName } from './escape.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';

export function renderFailedByNode(result: WhyNodesResult, json: boolean): string {
  if (json) return renderJson(result);
  const lines: string[] = [];
  const answered = result.nodes.filter((n) => n.unavailable === undefined).length;
  if (!result.failed.length) lines.push(`No failed containers on the ${answered} node${answered === 1 ? '' : 's'} that answered.\n`);
  else {
    lines.push(renderTable(result.failed, [
      { header: 'NODE', value: (f) => f.node },
      { header: 'CONTAINER ID', value: (f) => f.id.slice(0, 12) },
      { header: 'NAME', value: (f) => f.name },
      { header: 'STATUS', value: (f) => f.status },
      { header: 'WHY', value: (f) => f.meaning },
    ]));
    lines.push(`\nExplain one with \`porthole why task/ID\` (a service's task) or \`porthole -H NODE why CONTAINER\`.\n`);
  }
  for (const n of result.nodes) if (n.unavailable !== undefined) lines.push(`${escapeName(n.node)}: no answer (why: on stderr)\n`);
  return lines.join('');
}
