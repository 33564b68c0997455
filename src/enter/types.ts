// The ways into a container share one request shape; `shell` picks the way (exec, snapshot, toolbox).
import type { Context } from '../context.js';
import type { ContainerDetails } from '../engine/types.js';

export interface EnterRequest {
  /** The command to run; undefined means an interactive login shell. */
  cmd: string[] | undefined;
  user?: string;
  workdir?: string;
  /** KEY=VAL entries from -e. */
  env: string[];
  /** True when stdin and stdout are both terminals: a TTY in raw mode. */
  tty: boolean;
  /** --toolbox IMAGE: force the sidecar way with this image. */
  toolboxImage?: string;
  /** --cap-add for the sidecar. */
  capAdd: string[];
  /** --network for the snapshot's debug container ("none" to cut it off). */
  network?: string;
  /** --rw-mounts: the snapshot's debug container gets the original's mounts writable. */
  rwMounts: boolean;
  /** --no-limits: the snapshot's debug container runs without the original's resource limits (kept by default). */
  noLimits?: boolean;
  /** --keep: keep the snapshot image and print its name. */
  keep: boolean;
  /** --profile for a pod's toolbox container (kubectl debug's names). */
  profile?: string;
  /** --yes: agree up front to what cannot be undone (a pod's ephemeral toolbox container). */
  yes?: boolean;
  /** docker's --detach-keys. */
  detachKeys?: string;
  /** --entrypoint: for an image, run its entrypoint (with the command, else its CMD) instead of a shell. */
  entrypoint?: boolean;
}

/** A way in: runs the session to its end and resolves with the exit code to pass through. */
export type EnterWay = (ctx: Context, target: ContainerDetails, request: EnterRequest) => Promise<number>;
