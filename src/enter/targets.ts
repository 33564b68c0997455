// What `shell` enters, resolved once from the name on the command line: a Docker container (bare name) or a
// Kubernetes pod (pod/X[/C], deploy/X, ...). Each engine's ways in sit behind the same enter(request); the command
// never branches on the engine. The Kubernetes adapter loads only for a Kubernetes name.
import type { Context } from '../context.js';
import { kubeFlags, openKube } from '../cli/kube-flags.js';
import { parseTarget } from '../engine/target.js';
import { enterContainer } from './docker.js';
import type { EnterRequest } from './types.js';

export interface EnterTarget {
  /** Runs the session to its end; resolves with the exit code to pass through. */
  enter(request: EnterRequest): Promise<number>;
}

export function openEnterTarget(ctx: Context, text: string, kube: { kubeconfig?: string; 'kube-context'?: string; namespace?: string }): EnterTarget {
  const ref = parseTarget(text);
  if (ref.engine === 'kubernetes') {
    return {
      async enter(request) {
        const [cluster, { enterPod }] = await Promise.all([openKube(ctx, kubeFlags(ctx, kube)), import('./pod.js')]);
        return enterPod(ctx, cluster, ref, request);
      },
    };
  }
  return { enter: (request) => enterContainer(ctx, text, request) };
}
