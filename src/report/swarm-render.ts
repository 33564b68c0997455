// `why service/NAME` as a person reads it: the service, its failures by node, each slot's history, then the
// single-container report of the latest failed task from its node. Everything from the engine is escaped.
import { escapeName } from '../render/escape.js';
import { renderReport, type RenderOptions } from './render.js';
import type { SwarmTaskFact, SwarmWhyReport } from './swarm.js';
import { escapeText } from './text.js';

export function renderSwarmReport(r: SwarmWhyReport, opts: RenderOptions): string {
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string) => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const t = escapeText;
  const s = r.service;
  const out: string[] = [];
  const wanted = s.replicas !== null ? `${s.replicas} wanted` : 'global';
  const counts = r.selection ? `${escapeName(r.selection)}: ${r.running} running` : `${r.running} running, ${wanted}`;
  out.push(`${bold(`service/${escapeName(s.name)}`)}  ${s.id.slice(0, 12)}  image ${escapeName(s.image)}  ${counts}`);
  const line = (f: SwarmTaskFact) =>
    `${escapeName(f.name)}  task ${f.task.slice(0, 12)}  on ${escapeName(f.node)}${f.nodeState !== 'ready' ? ` (node ${f.nodeState})` : ''}  ${f.state} ${f.when}`;
  for (const d of r.nodesDown) {
    out.push('', red(`Node ${escapeName(d.node)} is ${d.state}: ${d.tasks.length} task(s) last reported running there (${d.tasks.map((id) => id.slice(0, 12)).join(', ')}); the manager cannot tell what became of them`));
  }
  if (r.failures.length) {
    const byNode = new Map<string, number>();
    for (const f of r.failures) byNode.set(f.node, (byNode.get(f.node) ?? 0) + 1);
    out.push('', bold('Failed tasks'));
    out.push(`  ${r.failures.length} failed: ${[...byNode.entries()].map(([n, c]) => `${c} on ${escapeName(n)}`).join(', ')}`);
    for (const f of r.failures) {
      out.push(`  ${line(f)}`);
      if (f.meaning) out.push(`    ${red(t(f.meaning))}`);
      if (f.err && f.meaning && !f.meaning.includes(f.err)) out.push(`    engine: ${t(f.err)}`);
    }
  } else {
    out.push('', 'No failed task in the history the manager keeps.');
  }
  out.push('', bold('Task history'));
  for (const h of r.history) {
    out.push(`  ${escapeName(h.slot)}`);
    for (const f of h.tasks) out.push(`    ${f.task.slice(0, 12)}  ${escapeName(f.node)}${f.nodeState !== 'ready' ? ` (node ${f.nodeState})` : ''}  ${f.state} (desired ${f.desiredState})  ${f.when}${f.err ? `  ${t(f.err)}` : ''}`);
  }
  if (r.latest) {
    const failed = r.failures.some((f) => f.task === r.latest!.task);
    out.push('', bold(`${failed ? 'Latest failed task' : 'Task'} ${r.latest.task.slice(0, 12)}, from node ${escapeName(r.latest.node)}`));
    if (r.latest.report) out.push(renderReport(r.latest.report, opts).replace(/^\n+/, ''));
    else out.push(`  ${red(`its container could not be read: ${t(r.latest.unavailable ?? 'unknown reason')}`)}`);
  }
  return out.join('\n') + '\n';
}
