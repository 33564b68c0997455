// What a command receives: its streams, its environment, a lazily connected engine, and the cleanup registry.
// Tests build one with fakes; main.ts builds the real one.
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from './engine/types.js';
import type { Cleanup } from './cleanup.js';
import type { KubeFlags } from './engine/kubernetes/kubeconfig.js';

export interface OutputStream extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface InputStream extends Readable {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface Context {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  /** Whether stdin is a terminal, known without making the stdin stream (which costs about 5 ms). */
  stdinIsTTY: boolean;
  /** Whether stdin is /dev/null: nothing to forward, so no stdin stream (and no thread pool) is made for it. */
  stdinIsNull: boolean;
  env: NodeJS.ProcessEnv;
  /** Kubernetes flags given before the command (--kubeconfig, --kube-context, -n/--namespace). */
  kube?: KubeFlags;
  /** Connects on first use, so commands that need no engine pay nothing for it. */
  engine(): Promise<EngineClient>;
  /** Things to undo when the command ends, however it ends. */
  cleanup: Cleanup;
  /** Aborted on SIGINT/SIGTERM/SIGHUP. */
  signal: AbortSignal;
  /**
   * While a host program runs in the foreground (tool, nsenter), porthole's signals go to this handler instead of
   * ending porthole, as a shell waits for its job; returns the function that gives them back.
   */
  foreground?(handler: (signal: NodeJS.Signals) => void): () => void;
  /** A line on stderr for the person watching: progress, what porthole is doing. */
  notice(message: string): void;
}
