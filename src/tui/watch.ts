// The `--watch` loop shared by `stats` (containers), `stats` of pods and `stats` across a swarm's nodes: a sample
// every interval until q, Ctrl-C or a signal. Piped (or --json), one output per refresh; on a terminal, a full-screen
// frame redrawn in place (title, body, blank, status), given back on every way out. A view says what to sample and
// how to show it; the loop owns the timing, the keys, the screen and the cleanup.
import type { Context } from '../context.js';
import { Screen } from './screen.js';
import { parseKeys } from './text.js';

export interface WatchView<T> {
  intervalMs: number;
  /** --json: piped output even on a terminal. */
  json: boolean;
  /** One sample; the signal aborts when the watch stops. */
  sample(signal: AbortSignal): Promise<T>;
  /** One refresh's output when stdout is piped or --json, written as is. */
  piped(sample: T, first: boolean): string;
  /** The frame for a sample (undefined before the first): the title and each body line already fitted to width. */
  frame(sample: T | undefined, width: number): { title: string; body: string[]; status?: string };
  /** Each sample as it comes, before it is shown (to keep history, or say a change on stderr when piped). */
  seen?(sample: T, onScreen: boolean): void;
  /** Sample once before the screen is taken, so what the first sample says stays on the normal screen. */
  sampleBeforeScreen?: boolean;
}

/** Waits ms, or less when woken (q, Ctrl-C, a signal). */
function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]).finally(() => clearTimeout(timer));
}

export async function watchLoop<T>(ctx: Context, view: WatchView<T>): Promise<void> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let done = false;
  const halt = () => {
    done = true;
    stop();
  };
  ctx.signal.addEventListener('abort', halt, { once: true });
  const stopSignal = new AbortController();
  void stopped.then(() => stopSignal.abort());

  if (view.json || !ctx.stdout.isTTY) {
    let first = true;
    while (!done) {
      const sample = await view.sample(stopSignal.signal);
      if (done) break;
      view.seen?.(sample, false);
      ctx.stdout.write(view.piped(sample, first));
      first = false;
      await sleep(view.intervalMs, stopped);
    }
    return;
  }

  let latest: T | undefined;
  if (view.sampleBeforeScreen) {
    latest = await view.sample(stopSignal.signal);
    view.seen?.(latest, false);
  }
  const screen = new Screen(ctx.stdout, ctx.stdin);
  let updated = '';
  const draw = () => {
    const width = screen.columns;
    const { title, body, status } = view.frame(latest, width);
    // title, body, blank, status: a body taller than the screen ends with a line that says how much is hidden
    const room = Math.max(1, screen.rows - 3);
    const shown = body.length > room ? [...body.slice(0, room - 1), `… and ${body.length - room + 1} more lines (a taller terminal shows them)`] : body;
    const words = latest === undefined ? 'sampling…' : [`updated ${updated}`, status].filter(Boolean).join(' · ');
    screen.draw([title, ...shown, '', words]);
  };
  const onKey = (data: Buffer) => {
    for (const key of parseKeys(data.toString('latin1'))) if (key === 'quit' || key === 'interrupt' || key === 'escape') halt();
  };
  const dropCleanup = ctx.cleanup.add('restore the terminal', () => screen.leave());
  const onResize = () => draw();
  try {
    screen.enter(onKey);
    ctx.stdout.on('resize', onResize);
    if (latest !== undefined) updated = new Date().toLocaleTimeString();
    draw();
    if (latest !== undefined) await sleep(view.intervalMs, stopped);
    while (!done) {
      const sample = await view.sample(stopSignal.signal);
      if (done) break;
      view.seen?.(sample, true);
      latest = sample;
      updated = new Date().toLocaleTimeString();
      draw();
      await sleep(view.intervalMs, stopped);
    }
  } finally {
    ctx.stdout.off('resize', onResize);
    // Leave before anything is printed (an error message), or it would vanish with the alternate screen.
    screen.leave();
    dropCleanup();
  }
}
