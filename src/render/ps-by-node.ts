// ps across a swarm's nodes: each node's blocks (ps's own rendering) under one heading per node; a node that did
// not answer gets a line in place of its blocks, so the output itself does not hide it.
import type { PsNodesResult } from '../commands/across-nodes.js';
import type { PsResult } from '../commands/ps.js';
import { escapeName } from './escape.js';

export function renderPsByNode(result: PsNodesResult, renderOne: (part: PsResult) => string): string {
  const parts: string[] = [];
  for (const answer of result.nodes) {
    const heading = `NODE ${escapeName(answer.node)}`;
    if (answer.unavailable !== undefined) {
      parts.push(`${heading}: no answer (why: on stderr)\n`);
      continue;
    }
    const part = answer.value!;
    if (!part.containers.length) {
      parts.push(`${heading}: no running containers\n`);
      continue;
    }
    parts.push(`${heading}\n${renderOne(part)}`);
  }
  return parts.join('\n');
}

