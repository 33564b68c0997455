// `porthole ps pod/X[/C]` (or deploy/X, sts/X, ...): the pod side of ps, reached from ps.ts's dispatch. Reading
// is engine/kubernetes/procs.ts (loaded only here); the table is the Docker view's block (render/process-block.ts)
// with the pod's PID columns. Statically this file imports nothing of the Kubernetes adapter.
import type { Context } from '../context.js';
import { kubeFlags, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { parseTarget } from '../engine/target.js';
import { Failure, InvalidArgument, NotFound, Unsupported } from '../errors.js';
import type { PodProcessBlock, PodProcessRow } from '../procs/pod-rows.js';
import { containerCell } from '../procs/pod-rows.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';
import { renderProcessBlock } from '../render/process-block.js';

export interface PodPsOptions {
  json?: boolean;
  kubeconfig?: string;
  'kube-context'?: string;
  namespace?: string;
  toolbox?: string;
  profile?: string;
  yes?: boolean;
}

/** Whether ps is about pods: a Kubernetes name, or `-n NS` with no names (every pod of the namespace). */
export function wantsPodPs(args: string[], namespace: string | undefined, isKubeName: (arg: string) => boolean): boolean {
  return args.some(isKubeName) || (args.length === 0 && namespace !== undefined);
}

export type PodPsOutcome = import('../engine/kubernetes/procs.js').PodPsResult;

/** Runs ps for Kubernetes names; every name must be one (a Docker container and a pod do not mix in one ps). */
export async function runPodPs(ctx: Context, args: string[], options: PodPsOptions): Promise<PodPsOutcome> {
  const refs = args.map(parseTarget);
  const other = refs.find((r) => r.engine !== 'kubernetes');
  if (other) throw new InvalidArgument('ps takes either Docker containers or Kubernetes names (pod/X, deploy/X, ...), not both at once.', 'Run it once for each.');
  const cluster = await openKube(ctx, kubeFlags(ctx, options));
  const [{ podProcesses }, { confirmToolbox }, { PROFILES }] = await Promise.all([import('../engine/kubernetes/procs.js'), import('../enter/pod.js'), import('../engine/kubernetes/ephemeral.js')]);
  const profile = options.profile as (typeof PROFILES)[number] | undefined;
  if (profile !== undefined && !PROFILES.includes(profile)) throw new InvalidArgument(`"${escapeName(profile)}" is not a toolbox profile.`, `Use one of: ${PROFILES.join(', ')}.`);
  const host = {
    ...(profile ? { profile } : {}),
    notice: (text: string) => ctx.notice(text),
    confirmToolbox: (pod: string, image: string) => confirmToolbox(ctx, { yes: !!options.yes }, pod, image, 'reading the processes through a toolbox'),
    toolboxImage: options.toolbox ?? (ctx.env.PORTHOLE_K8S_TOOLBOX || undefined),
    signal: ctx.signal,
  };
  const outcome: PodPsOutcome = { blocks: [], notRunning: [], unreadable: [] };
  if (!refs.length) return namespacePs(ctx, cluster, host, podProcesses, outcome, !!options.yes || !host.toolboxImage);
  for (const ref of refs as KubeTargetRef[]) {
    const got = await podProcesses(cluster, ref, host);
    outcome.blocks.push(...got.blocks);
    outcome.notRunning.push(...got.notRunning);
    outcome.unreadable.push(...got.unreadable);
  }
  for (const n of outcome.notRunning) ctx.notice(`porthole: container ${n.container} of pod ${n.pod} is not running (${n.why}), so it has no processes to show.`);
  for (const u of outcome.unreadable) ctx.notice(`porthole: ${u.sentence}${u.hint ? ` ${u.hint}` : ''}`);
  if (!outcome.blocks.length) {
    if (options.json) ctx.stdout.write('[]\n');
    throw new Unsupported(
      outcome.notRunning.length === 1 ? `Container ${outcome.notRunning[0]!.container} of pod ${outcome.notRunning[0]!.pod} is not running, so it has no processes to show.` : 'None of the named pods has a running container, so there are no processes to show.',
      '`porthole why` tells why.',
    );
  }
  return outcome;
}

/**
 * `ps -n NS` with no names: every running pod of the namespace, one block per pod (per container), grouped by pod
 * in name order, as `stats -n NS` lists them. Pods that do not run are left out (as `ps` leaves out stopped
 * containers); a running container that cannot be read is said and sets the exit code. Pods are read four at a
 * time, or one at a time when adding a toolbox may ask on the terminal.
 */
async function namespacePs(
  ctx: Context,
  cluster: import('../engine/kubernetes/index.js').KubeCluster,
  host: import('../engine/kubernetes/procs.js').PodPsHost,
  podProcesses: typeof import('../engine/kubernetes/procs.js').podProcesses,
  outcome: PodPsOutcome,
  parallel: boolean,
): Promise<PodPsOutcome> {
  const { podPath } = await import('../engine/kubernetes/index.js');
  const namespace = cluster.namespace;
  type PodItem = { metadata: { name: string }; status?: { phase?: string } };
  const list = await cluster.client.get<{ items: PodItem[] }>(podPath(namespace), { verb: 'list', resource: 'pods', namespace });
  const names = list.items.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const results: (import('../engine/kubernetes/procs.js').PodPsResult | undefined)[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      const name = names[i]!;
      try {
        results[i] = await podProcesses(cluster, { engine: 'kubernetes', kind: 'pod', name, container: null, text: `pod/${name}` }, host);
      } catch (err) {
        if (err instanceof NotFound) continue; // deleted since the list
        // one pod that cannot be read is said; the others are still shown
        if (!(err instanceof Unsupported) && !(err instanceof Failure)) throw err;
        results[i] = { blocks: [], notRunning: [], unreadable: [{ pod: name, container: '', sentence: err.message, hint: err.hint }] };
      }
    }
  };
  await Promise.all(Array.from({ length: parallel ? Math.min(4, names.length) : Math.min(1, names.length) }, worker));
  for (const got of results) {
    if (!got) continue;
    outcome.blocks.push(...got.blocks);
    outcome.unreadable.push(...got.unreadable);
  }
  for (const u of outcome.unreadable) ctx.notice(`porthole: ${u.sentence}${u.hint ? ` ${u.hint}` : ''}`);
  if (!names.length) ctx.notice(`porthole: no running pods in namespace "${escapeName(namespace)}".`);
  return outcome;
}

export function renderPodPs(outcome: PodPsOutcome, json: boolean, width: number, nowMs: number): string {
  if (json) return renderJson(outcome.blocks.flatMap((b) => b.rows));
  return outcome.blocks.map((b) => renderPodBlock(b, nowMs, width)).join('\n');
}

function renderPodBlock(block: PodProcessBlock, nowMs: number, width: number): string {
  const where = block.container === null ? 'one process namespace for all containers (shareProcessNamespace)' : `container ${escapeName(block.container)}`;
  const via = block.readVia !== (block.container ?? block.readVia) ? `, read through ${escapeName(block.readVia)}` : '';
  const heading = `pod/${escapeName(block.pod)} (namespace ${escapeName(block.namespace)}): ${where}${via}; * marks each container's main process`;
  return renderProcessBlock<PodProcessRow>(heading, block.rows, block.prefixes, [
    { header: 'PID', value: ({ row }) => String(row.pid), align: 'right' },
    { header: 'CONTAINER', value: ({ row }) => containerCell(row), trusted: true },
  ], nowMs, width);
}
