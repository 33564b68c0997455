// why --all-nodes: every node's failed containers in one table, newest first; nodes that did not answer named.
import type { WhyNodesResult } from '../commands/across-nodes.js';
import { hintWord, portholeWithFlags } from '../cli/invocation.js';
import { escapeName } from './escape.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';

export function renderFailedByNode(result: WhyNodesResult, json: boolean): string {
  if (json) return renderJson(result);
  const lines: string[] = [];
  for (const n of result.nodeStates ?? []) {
    lines.push(`node/${escapeName(n.node)}  ${n.id.slice(0, 12)}  ${n.manager ? 'manager' : 'worker'}  ${escapeName(n.addr)}\n`);
    lines.push(`  status ${escapeName(n.state)}${n.message ? ` (${escapeName(n.message)})` : ''}, availability ${escapeName(n.availability)}\n`);
    if (n.state !== 'ready') lines.push(`  the manager does not see it ready: its tasks are being moved elsewhere, and its engine may not answer\n`);
    if (n.availability === 'drain') lines.push(`  drained: no tasks are scheduled on it\n`);
    else if (n.availability === 'pause') lines.push(`  paused: no new tasks are scheduled on it\n`);
  }
  if (result.nodeStates?.length) lines.push('\n');
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
    // the newest failed task as the example, with the flags that reached this manager; a container that is no
    // task is explained on its own node's engine
    const task = result.failed.find((f) => f.task)?.task;
    const ways = [
      ...(task ? [`\`${portholeWithFlags()} why task/${hintWord(task.slice(0, 12))}\` (a service's task)`] : []),
      ...(result.failed.some((f) => !f.task) ? ['`porthole -H NODE why CONTAINER` (with that node\'s engine)'] : []),
    ];
    lines.push(`\nExplain one with ${ways.join(' or ')}.\n`);
  }
  for (const n of result.nodes) if (n.unavailable !== undefined) lines.push(`${escapeName(n.node)}: no answer (why: on stderr)\n`);
  return lines.join('');
}
