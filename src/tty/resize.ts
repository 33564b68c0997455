// Window size forwarding: the size right after the session starts (retried, since the process may not exist
// yet, as docker/cli does) and on every change of the user's terminal (SIGWINCH, seen as 'resize').
import type { OutputStream } from '../context.js';

export type ResizeFn = (rows: number, cols: number) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the first size with retries: docker/cli tries up to 10 times, waiting 10, 20, ... ms. */
export async function initialResize(rows: number, cols: number, resize: ResizeFn, attempts = 10): Promise<boolean> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      await resize(rows, cols);
      return true;
    } catch {
      await sleep((attempt + 1) * 10);
    }
  }
  return false;
}

/**
 * Forwards the terminal's size now and whenever it changes; returns a function that stops watching. Changes
 * that arrive while one is in flight collapse into the newest. `onSized` runs once, when the first size has
 * been sent (or could not be: no size known, all retries failed, or stopped).
 */
export function watchResize(stdout: OutputStream, resize: ResizeFn, onSized: () => void = () => undefined): () => void {
  const size = () => ({ rows: stdout.rows ?? 0, cols: stdout.columns ?? 0 });
  let stopped = false;
  let busy = false;
  let again = false;
  let first = true;
  let told = false;
  const sized = () => {
    if (told) return;
    told = true;
    onSized();
  };
  const send = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const { rows, cols } = size();
        if (!rows || !cols || stopped) break;
        if (first) {
          first = false;
          await initialResize(rows, cols, resize);
        } else await resize(rows, cols).catch(() => undefined);
      } while (again && !stopped);
    } finally {
      busy = false;
      sized();
    }
  };
  const onResize = () => void send();
  stdout.on('resize', onResize);
  void send();
  return () => {
    stopped = true;
    sized();
    stdout.off('resize', onResize);
  };
}
