// `porthole engine`: which engine porthole reached, how, its versions, and why each earlier way was skipped.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { renderJson } from '../render/json.js';
import { escapeName } from '../render/escape.js';
import { renderTable } from '../render/table.js';
import { kubeFlags, kubeOptions } from '../cli/kube-flags.js';
import { PortholeError } from '../errors.js';

export const spec = defineCommand({
  name: 'engine',
  summary: 'Show which engine porthole reached, how, and why earlier ways were skipped',
  usage: 'porthole engine [--json] [--kubeconfig FILE] [--kube-context NAME] [--namespace NS]',
  description: 'Also says which Kubernetes cluster, context, user and namespace porthole would use for pod/NAME, and why.',
  options: { json: { type: 'boolean', description: 'Print the result as JSON' }, ...kubeOptions, namespace: { ...kubeOptions.namespace, short: 'n' } },
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
  kubernetes: KubeChoice;
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

export interface KubeChoice {
  /** null when no cluster is configured; `problem` then says why. */
  cluster: string | null;
  server: string | null;
  context: string | null;
  user: string | null;
  namespace: string | null;
  via: string | null;
  contextVia: string | null;
  namespaceVia: string | null;
  version: string | null;
  problem: string | null;
}

/** What the Kubernetes half would use, and whether the cluster answers (its /version, which anyone may read). */
async function kubeChoice(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<KubeChoice> {
  const none = { cluster: null, server: null, context: null, user: null, namespace: null, via: null, contextVia: null, namespaceVia: null, version: null as string | null };
  let cluster;
  try {
    const { openCluster } = await import('../engine/kubernetes/index.js');
    cluster = await openCluster(kubeFlags(ctx, parsed.options), ctx.env);
  } catch (err) {
    if (!(err instanceof PortholeError)) throw err;
    return { ...none, problem: err.message };
  }
  const t = cluster.target;
  const choice = { ...none, cluster: t.clusterName, server: t.server, context: t.contextName, user: t.userName, namespace: t.namespace, via: t.via, contextVia: t.contextVia, namespaceVia: t.namespaceVia, problem: null as string | null };
  try {
    const v = await cluster.client.get<{ gitVersion?: string }>('/version', { verb: 'get', resource: 'version' }, 5000);
    choice.version = v.gitVersion ?? null;
  } catch (err) {
    if (!(err instanceof PortholeError)) throw err;
    choice.problem = err.message;
  } finally {
    cluster.client.close();
  }
  return choice;
}

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<EngineReport> {
  const kubeAsked = !!(parsed.options.kubeconfig || parsed.options['kube-context'] || parsed.options.namespace || ctx.kube?.kubeconfig || ctx.kube?.context || ctx.kube?.namespace);
  const kubernetes = kubeChoice(ctx, parsed);
  kubernetes.catch(() => undefined);
  let engine;
  try {
    engine = await ctx.engine();
  } catch (err) {
    // Asked about Kubernetes: a Docker engine that is not there is one more fact, not the answer.
    if (!kubeAsked || !(err instanceof PortholeError)) throw err;
    return { host: '', via: '', context: null, tls: false, engineVersion: '', apiVersion: '', engineApiVersion: '', os: '', arch: '', platform: '', skipped: [{ way: 'Docker engine', reason: err.message }], kubernetes: await kubernetes, nodes: null };
  }
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
    kubernetes: await kubernetes,
    nodes,
  };
}

export function render(r: EngineReport, parsed: Parsed<typeof spec.options>): string {
  if (parsed.options.json) return renderJson(r);
  const k = r.kubernetes;
  const kube = k.cluster
    ? [
        `Kubernetes:   cluster ${escapeName(k.cluster)} at ${escapeName(k.server ?? '')}${k.version ? ` (${escapeName(k.version)})` : ''}`,
        `  config:     ${escapeName(k.via ?? '')}`,
        `  context:    ${escapeName(k.context ?? '')} (from ${escapeName(k.contextVia ?? '')})`,
        `  user:       ${escapeName(k.user ?? '')}`,
        `  namespace:  ${escapeName(k.namespace ?? '')} (from ${escapeName(k.namespaceVia ?? '')})`,
        ...(k.problem ? [`  unreachable: ${escapeName(k.problem)}`] : []),
      ]
    : [`Kubernetes:   none: ${escapeName(k.problem ?? '')}`];
  if (!r.host) return [...r.skipped.map((s) => `Docker:       ${escapeName(s.reason)}`), ...kube].join('\n') + '\n';
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
    const table = renderTable(r.nodes, [
      { header: 'NODE', value: (n) => n.name },
      { header: 'STATE', value: (n) => n.state },
      { header: 'ROLE', value: (n) => (n.manager ? 'manager' : 'worker') },
      { header: 'ADDRESS', value: (n) => n.addr },
      { header: 'ENGINE', value: (n) => (n.answers ? `reached at ${n.via!}` : `NOT reachable: ${n.ways[0]?.reason ?? ''}`) },
    ]);
    lines.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  lines.push(...kube);
  return lines.join('\n') + '\n';
}
