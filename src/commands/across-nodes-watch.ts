// `stats --watch` across a swarm's nodes (service/NAME, node/NAME, --all-nodes): a fresh sample of every node each
// interval. On a terminal the table is redrawn in place; piped, one table per refresh, a blank line between. A node
// that stops answering is marked in the table (and said once on stderr when it goes, once when it is back); the
// watch goes on. The tasks are asked of the manager again each time, so moved or restarted replicas follow.
import type { Context } from '../context.js';
import type { Parsed } from '../cli/args.js';
import type { SortKey } from '../metrics/calc.js';
import { renderStatsByNode } from '../render/stats-by-node.js';
import { parseKeys } from '../tui/text.js';
import { Screen } from '../tui/screen.js';
import type { StatsNodesResult } from './across-nodes.js';

function sleep(ms: number, wake: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), wake]).finally(() => clearTimeout(timer));
}

export async function watchAcrossNodes(
  ctx: Context, parsed: Parsed<any>, sort: SortKey, intervalMs: number,
  sample: (quiet: Context) => Promise<StatsNodesResult>,
): Promise<StatsNodesResult> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let done = false;
  const halt = () => { done = true; stop(); };
  ctx.signal.addEventListener('abort', halt, { once: true });
  const json = !!parsed.options.json;
  // the per-sample notices (a node missing) are said here, when a node's state changes, not at every refresh
  const missing = new Map<string, string>();
  const quiet: Context = Object.create(ctx, { notice: { value: () => undefined, enumerable: true } });
  const say = (result: StatsNodesResult) => {
    for (const n of result.nodes) {
      if (n.unavailable !== undefined && !missing.has(n.node)) {
        missing.set(n.node, n.unavailable);
        ctx.notice(`porthole: ${n.unavailable.includes(n.node) ? n.unavailable : `node ${n.node}: ${n.unavailable}`}; still watching the others.`);
      } else if (n.unavailable === undefined && missing.has(n.node)) {
        missing.delete(n.node);
        ctx.notice(`porthole: node ${n.node} answers again.`);
      }
    }
  };

  if (json || !ctx.stdout.isTTY) {
    let first = true;
    while (!done) {
      const result = await sample(quiet);
      if (done) break;
      say(result);
      ctx.stdout.write(json ? renderStatsByNode(result.rows, result.nodes, true).trimEnd().replace(/\n\s*/g, ' ') + '\n' : (first ? '' : '\n') + renderStatsByNode(result.rows, result.nodes, false));
      first = false;
      await sleep(intervalMs, stopped);
    }
    return { rows: [], streamed: true, nodes: [] };
  }

  const screen = new Screen(ctx.stdout, ctx.stdin);
  let body: string[] = [];
  let status = 'sampling…';
  const draw = () => {
    const title = `porthole stats · across nodes · every ${intervalMs / 1000}s · sorted by ${sort} · q quit`;
    const room = Math.max(1, screen.rows - 3);
    const shown = body.length > room ? [...body.slice(0, room - 1), `… and ${body.length - room + 1} more lines (a taller terminal shows them)`] : body;
    screen.draw([title.slice(0, screen.columns), ...shown.map((l) => l.slice(0, screen.columns)), '', status]);
  };
  const onKey = (data: Buffer) => {
    for (const key of parseKeys(data.toString('latin1'))) if (key === 'quit' || key === 'interrupt' || key === 'escape') halt();
  };
  const dropCleanup = ctx.cleanup.add('restore the terminal', () => screen.leave());
  const onResize = () => draw();
  try {
    screen.enter(onKey);
    ctx.stdout.on('resize', onResize);
    draw();
    while (!done) {
      const result = await sample(quiet);
      if (done) break;
      // on the screen, a node not answering is in its table and the status line (stderr would tear the drawing)
      body = renderStatsByNode(result.rows, result.nodes, false).trimEnd().split('\n');
      const down = result.nodes.filter((n) => n.unavailable !== undefined).map((n) => n.node);
      status = `updated ${new Date().toLocaleTimeString()}${down.length ? ` · not answering: ${down.join(', ')}` : ''}`;
      draw();
      await sleep(intervalMs, stopped);
    }
  } finally {
    ctx.stdout.off('resize', onResize);
    screen.leave();
    dropCleanup();
  }
  return { rows: [], streamed: true, nodes: [] };
}
