// `porthole why CONTAINER`: the seed's five-command crash investigation in one report: what happened, what it
// ran, what it said, what it wrote, where that points, and its setting. It only reads (inspect, changes, logs,
// archive): no exec, no snapshot, nothing created or changed.
import { composeOptions } from '../cli/name-options.js';
import { defineCommand, parseCount, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { kubeFlags, kubeOptions, openKube } from '../cli/kube-flags.js';
import { resolveContainer } from '../engine/resolve.js';
import { parseTarget } from '../engine/target.js';
import { renderJson } from '../render/json.js';
import type { WhyReport } from '../report/collect.js';
import { redactRendered } from '../report/findings.js';
import type { KubeWhyReport } from '../report/kube-facts.js';
import { renderKubeReport } from '../report/kube-facts.js';
import { renderReport } from '../report/render.js';
import type { SwarmWhyReport } from '../report/swarm.js';
import { renderSwarmReport } from '../report/swarm-render.js';
import { EXIT, InvalidArgument } from '../errors.js';
import type { WhyNodesResult } from './across-nodes.js';
import { renderFailedByNode } from '../render/failed-by-node.js';

export const spec = defineCommand({
  name: 'why',
  summary: 'Explain why a container stopped or misbehaves: exit, command, output, changed files, config lines',
  usage: 'porthole why CONTAINER|pod/NAME[/CONTAINER]|deploy/NAME|sts/NAME|ds/NAME|job/NAME|service/NAME[.SLOT]|task/ID|--all-nodes [--json] [--show-secrets] [--lines N]',
  description:
    'Reads only what the engine already has (inspect, docker diff, logs, files through the archive endpoint):\n' +
    'nothing is started, executed or created. Works on running containers too.\n' +
    'For a pod: its containers\' states and last states, events, the output before the last restart and now, what\n' +
    'it ran, env (Secrets never read) and limits. A workload shows its pod in most trouble, else its newest.\n' +
    'service/NAME (on a swarm manager): the failed tasks by node, their errors and history, and the latest failed\n' +
    "task's report read from its node's engine (see PORTHOLE_SWARM_NODES for how nodes are reached).\n" +
    '--all-nodes (on a swarm manager): the failed containers of every node in one table, newest first.',
  options: {
    ...composeOptions,
    json: { type: 'boolean', description: 'Print the findings as JSON' },
    'show-secrets': { type: 'boolean', description: 'Show environment values whose names look secret (hidden by default)' },
    lines: { type: 'string', valueName: 'N', description: 'How many lines of stdout/stderr to show (default 20)' },
    'all-nodes': { type: 'boolean', description: 'Swarm: list the failed containers of every node' },
    ...kubeOptions,
    namespace: { ...kubeOptions.namespace, short: 'n' },
  },
  args: { min: 0, max: 1 },
  examples: ['porthole why porthole-demo-crash', 'porthole why --all-nodes', 'porthole why web --json | jq .happened', 'porthole why deploy/api -n shop', 'porthole why service/web'],
});

type Options = Parsed<typeof spec.options>;

export async function run(ctx: Context, parsed: Options): Promise<WhyReport | KubeWhyReport | SwarmWhyReport | WhyNodesResult> {
  const lines = parseCount('--lines', parsed.options.lines) ?? 20;
  if (parsed.options['all-nodes'] !== !parsed.args.length) {
    throw new InvalidArgument(parsed.args.length ? '--all-nodes takes no name: it covers every node.' : 'why needs a container (or service/NAME, task/ID, pod/NAME), or --all-nodes.', `Usage: ${spec.usage}`);
  }
  if (parsed.options['all-nodes']) return (await import('./across-nodes.js')).whyAcrossNodes(ctx);
  const ref = parsed.args[0]!;
  const target = parseTarget(ref);
  if (target.engine === 'kubernetes') {
    const cluster = await openKube(ctx, kubeFlags(ctx, parsed.options));
    const { collectKubeReport } = await import('../engine/kubernetes/report.js');
    return collectKubeReport(cluster, target, { showSecrets: parsed.options['show-secrets'], lines: Math.max(1, lines) });
  }
  if (target.engine === 'swarm') {
    if (target.name.kind === 'node') return (await import('./across-nodes.js')).whyAcrossNodes(ctx, [ref]);
    const { collectSwarmReport } = await import('../report/swarm.js');
    return collectSwarmReport(await ctx.engine(), target.name, { showSecrets: parsed.options['show-secrets'], lines: Math.max(1, lines), env: ctx.env });
  }
  const engine = await ctx.engine();
  const collecting = import('../report/collect.js');
  const resolving = resolveContainer(engine, ref);
  resolving.catch(() => undefined);
  const { collectReport, startEarlyReads, dropEarlyReads } = await collecting;
  // changes and logs need only the name: they run while the container is inspected.
  const early = startEarlyReads(engine, ref, Math.max(1, lines));
  let container;
  try {
    container = await resolving;
  } catch (err) {
    dropEarlyReads(early);
    throw err;
  }
  // the name was a Compose service's (or meant another container than the engine's own reading of it): read by id
  const sameTarget = container.name === ref.replace(/^\//, '') || container.id.startsWith(ref);
  if (!sameTarget) dropEarlyReads(early);
  return collectReport(engine, container, { showSecrets: parsed.options['show-secrets'], lines: Math.max(1, lines) }, sameTarget ? early : undefined);
}

export function render(r: WhyReport | KubeWhyReport | SwarmWhyReport | WhyNodesResult, parsed: Options, ctx: Context): string {
  if ('kind' in r && r.kind === 'swarm-nodes') return renderFailedByNode(r, parsed.options.json);
  const swarm = 'kind' in r && r.kind === 'swarm-service' ? r : undefined;
  // a report's masked values are masked in its JSON too (redactRendered knows them per report; a swarm report's
  // are its node container report's)
  if (parsed.options.json) return redactRendered(swarm ? swarm.latest?.report ?? swarm : r, renderJson(r));
  const color = !!ctx.stdout.isTTY && !ctx.env.NO_COLOR;
  if (swarm) return renderSwarmReport(swarm, { color });
  return 'engine' in r ? renderKubeReport(r as KubeWhyReport, { color }) : renderReport(r as WhyReport, { color });
}

export function exitCode(r: WhyReport | KubeWhyReport | SwarmWhyReport | WhyNodesResult): number {
  return 'kind' in r && r.kind === 'swarm-nodes' && r.nodes.some((n) => n.unavailable !== undefined) ? EXIT.engine : EXIT.ok;
}
