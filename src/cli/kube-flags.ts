// The Kubernetes flags a command accepts after its name (they also work as global flags, before it):
// --kubeconfig, --kube-context (not --context, which stays docker's) and --namespace.
import type { Context } from '../context.js';
import type { KubeFlags } from '../engine/kubernetes/kubeconfig.js';
import type { TargetRef } from '../engine/target.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';

export const kubeOptions = {
  kubeconfig: { type: 'string', valueName: 'FILE', description: 'Kubernetes: the kubeconfig to use (default: KUBECONFIG, ~/.kube/config)' },
  'kube-context': { type: 'string', valueName: 'NAME', description: "Kubernetes: the kubeconfig context to use (default: its current-context)" },
  namespace: { type: 'string', valueName: 'NS', description: "Kubernetes: the namespace (default: the context's, else default)" },
} as const;

export function kubeFlags(ctx: Context, options: { kubeconfig?: string; 'kube-context'?: string; namespace?: string }): KubeFlags {
  return {
    kubeconfig: options.kubeconfig ?? ctx.kube?.kubeconfig,
    context: options['kube-context'] ?? ctx.kube?.context,
    namespace: options.namespace ?? ctx.kube?.namespace,
  };
}

/** Loads the Kubernetes adapter (only now: Docker commands never pay for it) and finds the cluster. */
export async function openKube(ctx: Context, flags: KubeFlags): Promise<KubeCluster> {
  const { openCluster } = await import('../engine/kubernetes/index.js');
  const cluster = await openCluster(flags, ctx.env);
  ctx.cleanup.add('close the Kubernetes connection', () => cluster.client.close());
  return cluster;
}

export type KubeTargetRef = Extract<TargetRef, { engine: 'kubernetes' }>;
