// The pod side of `cat` and `ls`: resolves pod/X[/C] (or deploy/X, ...) once to a running container and reads it
// through exec (engine/kubernetes/pod-files.ts), in the same types the Docker side gives (bytes, FsEntry).
// Loaded only for a Kubernetes name.
import type { Context } from '../context.js';
import { kubeFlags, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { Unsupported } from '../errors.js';
import type { FsEntry } from './entry.js';

export interface PodFiles {
  cat(path: string, write: (chunk: Buffer) => Promise<void> | void): Promise<void>;
  list(path: string, followLink: boolean): Promise<{ isDir: boolean; entries: FsEntry[] }>;
  /** The path and everything below it (links not followed), in the engine's walk order. */
  walk(path: string): Promise<FsEntry[]>;
}

export async function openPodFiles(ctx: Context, ref: KubeTargetRef, kube: { kubeconfig?: string; 'kube-context'?: string; namespace?: string }): Promise<PodFiles> {
  const cluster = await openKube(ctx, kubeFlags(ctx, kube));
  const [{ resolvePods, requireContainer }, { chooseContainer, pickWay }, files] = await Promise.all([
    import('../engine/kubernetes/index.js'),
    import('../enter/pod.js'),
    import('../engine/kubernetes/pod-files.js'),
  ]);
  const resolved = await resolvePods(cluster, ref);
  if (resolved.chosen) ctx.notice(`porthole: ${resolved.chosen}.`);
  const pod = resolved.pod;
  const container = chooseContainer(pod, ref.container);
  requireContainer(pod, container);
  const way = pickWay(pod, container);
  if (way.way !== 'exec') {
    throw new Unsupported(
      `Cannot read the files of container ${container} in pod ${pod.metadata.name}: ${way.way === 'copy' ? `${way.why}, and reading needs it running` : way.why}.`,
      '`porthole shell` enters a copy of the pod for a stopped container.',
    );
  }
  const target = { namespace: cluster.namespace, pod: pod.metadata.name, container };
  return {
    cat: (path, write) => files.catPodFile(cluster, target, path, write),
    list: (path, followLink) => files.listPodPath(cluster, target, path, followLink),
    walk: (path) => files.walkPodPath(cluster, target, path),
  };
}
