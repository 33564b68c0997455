// `stats --watch` across a swarm's nodes (service/NAME, node/NAME, --all-nodes): a fresh sample of every node each
// interval. On a terminal the table is redrawn in place; piped, one table per refresh, a blank line between. A node
// that stops answering is marked in the table (and said once on stderr when it goes, once when it is back); the
// watch goes on. The tasks are asked of the manager again each time, so moved or restarted replicas follow.
import type { Context } from '../context.js';
import type { Parsed } from '../cli/args.js';
import type { SortKey } from '../metrics/calc.js';
import { renderStatsByNode } from '../render/stats-by-node.js';
import { clip } from '../tui/text.js';
import { watchLoop } from '../tui/watch.js';
import type { StatsNodesResult } from './across-nodes.js';

export async function watchAcrossNodes(
  ctx: Context, parsed: Parsed<any>, sort: SortKey, intervalMs: number,
  sample: (quiet: Context) => Promise<StatsNodesResult>,
): Promise<StatsNodesResult> {
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
  await watchLoop<StatsNodesResult>(ctx, {
    intervalMs,
    json,
    sample: () => sample(quiet),
    // piped, a node's state changes are said on stderr; on the screen, a node not answering is in its table and the
    // status line (stderr would tear the drawing)
    seen: (result, onScreen) => onScreen || say(result),
    piped: (result, first) => (json ? renderStatsByNode(result.rows, result.nodes, true).trimEnd().replace(/\n\s*/g, ' ') + '\n' : (first ? '' : '\n') + renderStatsByNode(result.rows, result.nodes, false)),
    frame: (result, width) => {
      const down = result?.nodes.filter((n) => n.unavailable !== undefined).map((n) => n.node) ?? [];
      return {
        title: clip(`porthole stats · across nodes · every ${intervalMs / 1000}s · sorted by ${sort} · q quit`, width),
        body: result ? renderStatsByNode(result.rows, result.nodes, false).trimEnd().split('\n').map((l) => clip(l, width)) : [],
        status: down.length ? `not answering: ${down.join(', ')}` : undefined,
      };
    },
  });
  return { rows: [], streamed: true, nodes: [] };
}
