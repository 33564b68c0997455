// `porthole top`: a live full-screen view over plain ANSI. The containers with their stats (the same sampler as
// `stats --watch`); Enter opens the selected container's process tree (src/procs, as `porthole ps` shows it) with
// CPU and memory per process; s, l and w hand the terminal to `porthole shell|logs|why` for that container and
// come back when it ends. The terminal is restored on every way out.
import { spawn } from 'node:child_process';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument, Unsupported } from '../errors.js';
import { sortStats, type SortKey } from '../metrics/calc.js';
import { ProcessSampler } from '../metrics/processes.js';
import { StatsSampler } from '../metrics/sampler.js';
import { statsTargets } from '../metrics/targets.js';
import type { StatsRow } from '../metrics/types.js';
import { Screen } from '../tui/screen.js';
import { History } from '../tui/stats-view.js';
import { parseKeys, type Key } from '../tui/text.js';
import { handOverBanner, listFrame, maxProcessScroll, processFrame, type ProcessState } from '../tui/top-view.js';
import { SAMPLE_WINDOW_MS, samplerOptions } from './stats.js';

export const spec = defineCommand({
  name: 'top',
  summary: 'Live full-screen view of containers and their processes, with keys to open shell, logs and why',
  usage: 'porthole top [CONTAINER] [--sort cpu|mem|name] [--interval SECONDS]',
  description: [
    'The running containers with CPU, memory, network, block I/O and PIDs, refreshed in place. Keys:',
    '  ↑/↓ or k/j   select a container            Enter   its process tree, with CPU and memory per process',
    '  s            porthole shell into it        l       porthole logs --follow (Ctrl-C to stop)',
    '  w            porthole why                  Esc/q   back from the processes; in the list, quit',
    '  Ctrl-C       quit',
    'With CONTAINER, top opens on that container\'s processes. Needs a terminal.',
  ].join('\n'),
  options: {
    sort: { type: 'string', valueName: 'cpu|mem|name', description: 'Order containers by CPU (default), memory or name' },
    interval: { type: 'string', short: 'n', valueName: 'SECONDS', description: 'Seconds between refreshes (default 2)' },
  },
  args: { min: 0, max: 1 },
  examples: ['porthole top', 'porthole top web', 'porthole top --sort mem --interval 5'],
});

type Options = Parsed<typeof spec.options>;

export function topSettings(options: Options['options']): { sort: SortKey; intervalMs: number } {
  const sort = options.sort ?? 'cpu';
  if (sort !== 'cpu' && sort !== 'mem' && sort !== 'name') throw new InvalidArgument(`--sort takes cpu, mem or name, not "${sort}".`);
  let intervalMs = 2000;
  if (options.interval !== undefined) {
    const n = Number(options.interval);
    if (!/^\d+(\.\d+)?$/.test(options.interval) || !(n >= 0.1) || n > 86_400) {
      throw new InvalidArgument(`--interval takes a number of seconds from 0.1 to 86400, not "${options.interval}".`);
    }
    intervalMs = Math.round(n * 1000);
  }
  return { sort, intervalMs };
}

/** The words that reach the same engine as this run (global flags before the command name), for child commands. */
export function globalPrefix(argv: string[]): string[] {
  const at = argv.indexOf('top');
  return at > 0 ? argv.slice(0, at) : [];
}

const HAND_OVER: Record<string, { command: string; args: (id: string) => string[]; pause: boolean }> = {
  s: { command: 'shell', args: (id) => ['shell', id], pause: false },
  l: { command: 'logs', args: (id) => ['logs', '--follow', '--tail', '200', id], pause: true },
  w: { command: 'why', args: (id) => ['why', id], pause: true },
};

export async function run(ctx: Context, parsed: Options): Promise<{ streamed: true }> {
  const settings = topSettings(parsed.options);
  if (!ctx.stdout.isTTY || !ctx.stdinIsTTY) {
    throw new Unsupported('porthole top needs a terminal on stdin and stdout.', 'For a table that a script can read, use `porthole stats` (or `porthole stats --watch`).');
  }
  const engine = await ctx.engine();
  const initial = parsed.args[0] ? await resolveContainer(engine, parsed.args[0]) : undefined;
  if (initial && !initial.state.running) throw new Unsupported(`${initial.name} is not running (${initial.state.status}): it has no processes to show.`, `See why with \`porthole why ${initial.name}\`.`);

  const sampler = new StatsSampler(engine, samplerOptions(ctx.env));
  const history = new History();
  const screen = new Screen(ctx.stdout, ctx.stdin);
  const globals = globalPrefix(process.argv.slice(2));

  let rows: StatsRow[] = [];
  let selectedId: string | undefined = initial?.id;
  let scrollTop = 0;
  let status = 'sampling…';
  let procView: (ProcessState & { sampler: ProcessSampler }) | undefined;
  let busy = false; // a child command has the terminal
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  let done = false;
  const stop = () => {
    done = true;
    quit();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });

  const selectedIndex = () => Math.max(0, rows.findIndex((r) => r.id === selectedId));
  const draw = () => {
    if (busy || !screen.isActive) return;
    const width = screen.columns;
    const height = screen.rows;
    if (procView) {
      procView.stats = rows.find((r) => r.id === procView!.container.id);
      procView.scrollTop = Math.min(procView.scrollTop, maxProcessScroll(procView.processes.length, height));
      screen.draw(processFrame(procView, width, height));
    } else {
      const out = listFrame({ rows, history, selected: selectedIndex(), scrollTop, sort: settings.sort, intervalS: settings.intervalMs / 1000, status }, width, height);
      scrollTop = out.scrollTop;
      screen.draw(out.frame);
    }
  };

  const refreshProcesses = async () => {
    const view = procView;
    if (!view) return;
    const sample = await view.sampler.sample();
    if (procView !== view) return; // left meanwhile
    view.processes = sample.lines;
    view.view = sample.view;
    view.gone = sample.gone;
    view.status = `updated ${new Date().toLocaleTimeString()}`;
  };

  const openProcesses = async (container: { id: string; name: string }) => {
    procView = { container, stats: undefined, processes: [], view: 'host', scrollTop: 0, status: 'reading processes…', sampler: new ProcessSampler(engine, container) };
    draw();
    await refreshProcesses();
    draw();
    // A second reading soon after the first, so the live CPU column fills without waiting a whole period.
    setTimeout(() => void refreshProcesses().then(draw, showError), 500);
  };

  const showError = (err: unknown) => {
    status = `error: ${(err as Error).message}`;
    if (procView) procView.status = status;
    draw();
  };

  /** Gives the terminal to `porthole CMD ID` and takes it back when the command ends. */
  const handOver = async (key: string, container: { id: string; name: string }) => {
    const what = HAND_OVER[key]!;
    busy = true;
    screen.leave();
    // The child is in our process group and gets Ctrl-C itself; porthole top must not end on it meanwhile.
    const saved = process.listeners('SIGINT');
    process.removeAllListeners('SIGINT');
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    try {
      ctx.stdout.write(handOverBanner(what.command, container.name));
      const child = spawn(process.execPath, [process.argv[1]!, ...globals, ...what.args(container.id)], { stdio: 'inherit' });
      const code = await new Promise<number | null>((resolve) => {
        child.on('error', () => resolve(null));
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : null)));
      });
      if (what.pause && !done) {
        ctx.stdout.write(`\n[porthole ${what.command} ended${code ? ` with status ${code}` : ''}; press any key to return to porthole top]`);
        await waitKey();
      }
    } finally {
      process.off('SIGINT', ignore);
      for (const listener of saved) process.on('SIGINT', listener as () => void);
      busy = false;
    }
    if (!done) {
      screen.enter(onData);
      draw();
    }
  };

  const waitKey = () =>
    new Promise<void>((resolve) => {
      const input = ctx.stdin;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        input.off('data', finish);
        input.setRawMode?.(false);
        input.pause();
        resolve();
      };
      input.setRawMode?.(true);
      input.on('data', finish);
      input.resume();
      void quitting.then(finish);
    });

  const onKey = (key: Key) => {
    if (key === 'interrupt') return stop();
    const count = rows.length;
    if (procView) {
      const height = screen.rows;
      if (key === 'escape' || key === 'quit' || (typeof key === 'object' && (key.char === 'h' || key.char === '\x7f'))) {
        procView = undefined;
        return draw();
      }
      if (key === 'up') procView.scrollTop = Math.max(0, procView.scrollTop - 1);
      else if (key === 'down') procView.scrollTop = Math.min(maxProcessScroll(procView.processes.length, height), procView.scrollTop + 1);
      else if (key === 'pageup') procView.scrollTop = Math.max(0, procView.scrollTop - (height - 4));
      else if (key === 'pagedown') procView.scrollTop = Math.min(maxProcessScroll(procView.processes.length, height), procView.scrollTop + (height - 4));
      else if (typeof key === 'object' && HAND_OVER[key.char]) return void handOver(key.char, procView.container).catch(showError);
      return draw();
    }
    if (key === 'quit' || key === 'escape') return stop();
    const index = selectedIndex();
    if (key === 'up' && count) selectedId = rows[Math.max(0, index - 1)]!.id;
    else if (key === 'down' && count) selectedId = rows[Math.min(count - 1, index + 1)]!.id;
    else if (key === 'home' && count) selectedId = rows[0]!.id;
    else if (key === 'end' && count) selectedId = rows[count - 1]!.id;
    else if (key === 'pageup' && count) selectedId = rows[Math.max(0, index - (screen.rows - 3))]!.id;
    else if (key === 'pagedown' && count) selectedId = rows[Math.min(count - 1, index + (screen.rows - 3))]!.id;
    else if (key === 'enter' && count) {
      const row = rows[index]!;
      return void openProcesses({ id: row.id, name: row.name }).catch(showError);
    } else if (typeof key === 'object' && HAND_OVER[key.char] && count) {
      const row = rows[index]!;
      return void handOver(key.char, { id: row.id, name: row.name }).catch(showError);
    }
    draw();
  };
  const onData = (data: Buffer) => {
    if (busy) return;
    for (const key of parseKeys(data.toString('latin1'))) onKey(key);
  };

  const dropCleanup = ctx.cleanup.add('restore the terminal', () => screen.leave());
  const onResize = () => draw();
  try {
    screen.enter(onData);
    ctx.stdout.on('resize', onResize);
    if (initial) await openProcesses({ id: initial.id, name: initial.name });
    draw();
    while (!done) {
      try {
        const fresh = await sampler.sample(await statsTargets(engine, []), SAMPLE_WINDOW_MS);
        rows = sortStats(fresh, settings.sort);
        history.record(rows);
        if (!selectedId || !rows.some((r) => r.id === selectedId)) selectedId = rows[0]?.id;
        status = `updated ${new Date().toLocaleTimeString()}`;
        if (procView) await refreshProcesses();
      } catch (err) {
        showError(err);
      }
      draw();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, settings.intervalMs))), quitting]);
      clearTimeout(timer);
    }
  } finally {
    ctx.stdout.off('resize', onResize);
    screen.leave();
    dropCleanup();
  }
  return { streamed: true };
}

export function render(): string {
  return '';
}
