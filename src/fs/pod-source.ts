// The pod side of `cat`, `ls`, `find`, `grep` and `cp`: resolves pod/X[/C] (or deploy/X, ...) once to a running
// container and reads it through exec (engine/kubernetes/pod-files.ts; through the toolbox when it lacks the tools,
// fs/pod-way.ts), in the same types the Docker side gives (bytes, FsEntry). Loaded only for a Kubernetes name.
import type { Context } from '../context.js';
import { kubeFlags, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { Unsupported } from '../errors.js';
import type { FsEntry } from './entry.js';
import type { KubeCluster } from '../engine/kubernetes/index.js';
import { PodTools, type ToolboxChoice } from './pod-way.js';

export interface PodFiles {
  cat(path: string, write: (chunk: Buffer) => Promise<void> | void): Promise<void>;
  /** With `withOwners`, the pod's /etc/passwd and /etc/group come along when it can send them in the same exec. */
  list(path: string, followLink: boolean, withOwners?: boolean): Promise<{ isDir: boolean; entries: FsEntry[]; owners?: { passwd: string; group: string } }>;
  /** The path and everything below it (links not followed), in the engine's walk order. */
  walk(path: string, withOwners?: boolean): Promise<{ entries: FsEntry[]; owners?: { passwd: string; group: string } }>;
}

export type PodFileOptions = { kubeconfig?: string; 'kube-context'?: string; namespace?: string } & ToolboxChoice;

/** The running container a pod name points at, and the way to its files (its tools, else the toolbox). */
export async function openPodTools(ctx: Context, ref: KubeTargetRef, opts: PodFileOptions): Promise<{ cluster: KubeCluster; tools: PodTools }> {
  const cluster = await openKube(ctx, kubeFlags(ctx, opts));
  const [{ resolvePods, requireContainer }, { chooseContainer, pickWay }] = await Promise.all([import('../engine/kubernetes/index.js'), import('../enter/pod.js')]);
  const resolved = await resolvePods(cluster, ref);
  if (resolved.chosen) ctx.notice(`porthole: ${resolved.chosen}.`);
  const pod = resolved.pod;
  const container = chooseContainer(pod, ref.container);
  requireContainer(pod, container);
  const way = pickWay(pod, container);
  if (way.way !== 'exec') {
    throw new Unsupported(
      `Cannot reach the files of container ${container} in pod ${pod.metadata.name}: ${way.way === 'copy' ? `${way.why}, and reading needs it running` : way.why}.`,
      '`porthole shell` enters a copy of the pod for a stopped container.',
    );
  }
  const target = { namespace: pod.metadata.namespace ?? cluster.namespace, pod: pod.metadata.name, container };
  return { cluster, tools: new PodTools(ctx, cluster, pod, target, opts) };
}

export async function openPodFiles(ctx: Context, ref: KubeTargetRef, opts: PodFileOptions): Promise<PodFiles> {
  const [{ cluster, tools }, files] = await Promise.all([openPodTools(ctx, ref, opts), import('../engine/kubernetes/pod-files.js')]);
  return {
    cat: (path, write) => tools.run((t) => files.catPodFile(cluster, t, path, write)),
    list: (path, followLink, withOwners) => tools.run((t) => files.listPodPath(cluster, t, path, followLink, withOwners)),
    walk: (path, withOwners) => tools.run((t) => files.walkPodPath(cluster, t, path, withOwners)),
  };
}
