// Raw mode on the user's terminal, with the way back guaranteed: the restore runs on a normal end, from the
// cleanup registry (signals, errors) and on process 'exit' (uncaught errors, process.exit anywhere).
import type { InputStream } from '../context.js';

const pending = new Set<() => void>();
let exitHookInstalled = false;

function restoreAll(): void {
  for (const restore of [...pending]) restore();
}

/**
 * Puts the terminal in raw mode and returns an idempotent function that restores it. Does nothing (and returns
 * a no-op) when the stream is not a terminal.
 */
export function enterRawMode(stdin: InputStream): () => void {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', restoreAll);
  }
  stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    pending.delete(restore);
    try {
      stdin.setRawMode?.(false);
    } catch {
      // the terminal is gone (hangup): nothing left to restore
    }
  };
  pending.add(restore);
  return restore;
}
