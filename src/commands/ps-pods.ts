// `porthole ps pod/X[/C]` (or deploy/X, sts/X, ...): the pod side of ps, reached from ps.ts's dispatch. Reading
// is engine/kubernetes/procs.ts (loaded only here); the table is the Docker view's block (render/process-block.ts)
// with the pod's PID columns. Statically this file imports nothing of the Kubernetes adapter.
import type { Context } from '../context.js';
import { kubeFlags, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { parseTarget } from '../engine/target.js';
import { InvalidArgument, Unsupported } from '../errors.js';
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
  yes?: boolean;
}

export type PodPsOutcome = import('../engine/kubernetes/procs.js').PodPsResult;

/** Runs ps for Kubernetes names; every name must be one (a Docker container and a pod do not mix in one ps). */
export async function runPodPs(ctx: Context, args: string[], options: PodPsOptions): Promise<PodPsOutcome> {
  const refs = args.map(parseTarget);
  const other = refs.find((r) => r.engine !== 'kubernetes');
  if (other) throw new InvalidArgument('ps takes either Docker containers or Kubernetes names (pod/X, deploy/X, ...), not both at once.', 'Run it once for each.');
  const cluster = await openKube(ctx, kubeFlags(ctx, options));
  const [{ podProcesses }, { confirmToolbox }] = await Promise.all([import('../engine/kubernetes/procs.js'), import('../enter/pod.js')]);
  const host = {
    notice: (text: string) => ctx.notice(text),
    confirmToolbox: (pod: string, image: string) => confirmToolbox(ctx, { yes: !!options.yes }, pod, image, 'reading the processes through a toolbox'),
    toolboxImage: options.toolbox ?? (ctx.env.PORTHOLE_K8S_TOOLBOX || undefined),
    signal: ctx.signal,
  };
  const outcome: PodPsOutcome = { blocks: [], notRunning: [], unreadable: [] };
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
