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
}

export async function run(ctx: Context): Promise<EngineReport> {
  const engine = await ctx.engine();
  const [apiVersion, version] = await Promise.all([engine.apiVersion({ fresh: true }), engine.version()]);
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
  return lines.join('\n') + '\n';
}
