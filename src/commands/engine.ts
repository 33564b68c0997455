// `porthole engine`: which engine porthole reached, how, its versions, and why each earlier way was skipped.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { renderJson } from '../render/json.js';
import { escapeName } from '../render/escape.js';

export const spec = defineCommand({
  name: 'engine',
  summary: 'Show which engine porthole reached, how, and why earlier ways were skipped',
  usage: 'porthole engine [--json]',
  options: { json: { type: 'boolean', description: 'Print the result as JSON' } },
  args: { min: 0, max: 0 },
  examples: ['porthole engine', 'porthole -H ssh://me@build-box engine --json'],
});

export interface EngineReport {
  host: string;
  via: string;
  context: string | null;
  tls: boolean;
  engineVersion: string;
  apiVersion: string;
  engineApiVersion: string;
  os: string;
  arch: string;
  platform: string;
  skipped: { way: string; reason: string }[];
  /** On a swarm manager: each node, the way porthole reaches its engine, and whether it answers; null elsewhere. */
  nodes: { name: string; state: string; manager: boolean; addr: string; via: string | null; answers: boolean; ways: { way: string; reason: string | null }[] }[] | null;
}

async function swarmNodes(ctx: Context, engine: Awaited<ReturnType<Context['engine']>>): Promise<EngineReport['nodes']> {
  // a plain engine or a worker refuses /nodes: that is the answer "no swarm to show"
  const list = await engine.swarm?.listNodes().catch(() => undefined);
  if (!list) return null;
  const { connectNode } = await import('../engine/swarm/reach.js');
  list.sort((a, b) => a.hostname.localeCompare(b.hostname, undefined, { numeric: true }));
  return Promise.all(list.map(async (n) => {
    const base = { name: n.hostname, state: n.state, manager: n.manager, addr: n.addr };
    try {
      const { engine: node, ways } = await connectNode(n, ctx.env);
      node.close();
      return { ...base, via: node.endpoint.host, answers: true, ways: ways.map((w) => ({ way: w.way, reason: w.reason ?? null })) };
    } catch (err) {
      return { ...base, via: null, answers: false, ways: [{ way: 'every way', reason: (err as Error).message }] };
    }
  }));
}

export async function run(ctx: Context): Promise<EngineReport> {
  const engine = await ctx.engine();
  const [apiVersion, version, nodes] = await Promise.all([engine.apiVersion({ fresh: true }), engine.version(), swarmNodes(ctx, engine)]);
  const ep = engine.endpoint;
  return {
    host: ep.host,
    via: ep.via,
    context: ep.context ?? null,
    tls: !!ep.tls,
    engineVersion: version.version,
    apiVersion,
    engineApiVersion: version.apiVersion,
    os: version.os,
    arch: version.arch,
    platform: version.platform,
    skipped: ep.skipped,
    nodes,
  };
}

export function render(r: EngineReport, parsed: Parsed<typeof spec.options>): string {
  if (parsed.options.json) return renderJson(r);
  const lines = [
    `Engine:       ${escapeName(r.platform || 'Docker-compatible engine')} ${escapeName(r.engineVersion)} (${escapeName(r.os)}/${escapeName(r.arch)})`,
    `Address:      ${escapeName(r.host)}${r.tls ? ' (TLS)' : ''}`,
    `Found via:    ${escapeName(r.via)}`,
    `API version:  ${r.apiVersion} (engine speaks up to ${escapeName(r.engineApiVersion)})`,
  ];
  if (r.skipped.length) {
    lines.push('Skipped:');
    for (const s of r.skipped) lines.push(`  ${escapeName(s.way)}: ${escapeName(s.reason)}`);
  }
  if (r.nodes) {
    lines.push('Swarm nodes (this engine is a manager):');
    for (const n of r.nodes) {
      const reach = n.answers ? `reached at ${escapeName(n.via!)}` : `NOT reachable: ${escapeName(n.ways[0]?.reason ?? '')}`;
      lines.push(`  ${escapeName(n.name)}  ${escapeName(n.state)}${n.manager ? ' manager' : ''}  ${escapeName(n.addr)}  ${reach}`);
    }
  }
  return lines.join('\n') + '\n';
}
