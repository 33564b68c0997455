// `porthole why CONTAINER`: the seed's five-command crash investigation in one report: what happened, what it
// ran, what it said, what it wrote, where that points, and its setting. It only reads (inspect, changes, logs,
// archive): no exec, no snapshot, nothing created or changed.
import { defineCommand, parseCount, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { renderJson } from '../render/json.js';
import type { WhyReport } from '../report/collect.js';
import { parseSwarmName } from '../engine/swarm/names.js';
import type { SwarmWhyReport } from '../report/swarm.js';
import { renderSwarmReport } from '../report/swarm-render.js';
import { InvalidArgument } from '../errors.js';
import { renderReport } from '../report/render.js';

export const spec = defineCommand({
  name: 'why',
  summary: 'Explain why a container stopped or misbehaves: exit, command, output, changed files, config lines',
  usage: 'porthole why CONTAINER|service/NAME[.SLOT]|task/ID [--json] [--show-secrets] [--lines N]',
  description:
    'Reads only what the engine already has (inspect, docker diff, logs, files through the archive endpoint):\n' +
    'nothing is started, executed or created. Works on running containers too.\n' +
    'service/NAME (on a swarm manager): the failed tasks by node, their errors and history, and the latest failed\n' +
    "task's report read from its node's engine (see PORTHOLE_SWARM_NODES for how nodes are reached).",
  options: {
    json: { type: 'boolean', description: 'Print the findings as JSON' },
    'show-secrets': { type: 'boolean', description: 'Show environment values whose names look secret (hidden by default)' },
    lines: { type: 'string', valueName: 'N', description: 'How many lines of stdout/stderr to show (default 20)' },
  },
  args: { min: 1, max: 1 },
  examples: ['porthole why porthole-demo-crash', 'porthole why web --json | jq .happened', 'porthole why service/web'],
});

type Options = Parsed<typeof spec.options>;

export async function run(ctx: Context, parsed: Options): Promise<WhyReport | SwarmWhyReport> {
  const lines = parseCount('--lines', parsed.options.lines) ?? 20;
  const ref = parsed.args[0]!;
  const swarmName = parseSwarmName(ref);
  if (swarmName) {
    if (swarmName.kind === 'node') throw new InvalidArgument('why takes a container, service/NAME[.SLOT] or task/ID; node/ names are not explained yet.');
    const { collectSwarmReport } = await import('../report/swarm.js');
    return collectSwarmReport(await ctx.engine(), swarmName, { showSecrets: parsed.options['show-secrets'], lines: Math.max(1, lines), env: ctx.env });
  }
  const engine = await ctx.engine();
  const collecting = import('../report/collect.js');
  const resolving = resolveContainer(engine, ref);
  resolving.catch(() => undefined);
  const { collectReport, startEarlyReads, dropEarlyReads } = await collecting;
  // changes and logs need only the name: they run while the container is inspected.
  const early = startEarlyReads(engine, ref, Math.max(1, lines));
  let target;
  try {
    target = await resolving;
  } catch (err) {
    dropEarlyReads(early);
    throw err;
  }
  return collectReport(engine, target, { showSecrets: parsed.options['show-secrets'], lines: Math.max(1, lines) }, early);
}

export function render(r: WhyReport | SwarmWhyReport, parsed: Options, ctx: Context): string {
  if (parsed.options.json) return renderJson(r);
  const color = !!ctx.stdout.isTTY && !ctx.env.NO_COLOR;
  if ('kind' in r && r.kind === 'swarm-service') return renderSwarmReport(r, { color });
  return renderReport(r as WhyReport, { color });
}
