// Swarm names on the command line: service/NAME, service/NAME.SLOT, service/NAME@NODE, task/ID, node/NAME.
// A bare name keeps meaning a container; anything else with a "kind/" prefix is not ours (undefined).
import { InvalidArgument } from '../../errors.js';

export type SwarmName =
  | { kind: 'service'; service: string; slot?: number; node?: string }
  | { kind: 'task'; id: string }
  | { kind: 'node'; node: string };

// docker's own rules: service names [a-zA-Z0-9][a-zA-Z0-9_.-]*, node hostnames alike, task ids lower-case alnum
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const NODE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;
const TASK_ID = /^[a-z0-9]{1,25}$/;

const shown = (s: string) => JSON.stringify(s.replace(/[\x00-\x1f\x7f]/g, '?'));

export function parseSwarmName(ref: string): SwarmName | undefined {
  const slash = ref.indexOf('/');
  if (slash < 0) return undefined;
  const kind = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  switch (kind) {
    case 'service': {
      const at = rest.lastIndexOf('@');
      if (at > 0) {
        const service = rest.slice(0, at);
        const node = rest.slice(at + 1);
        if (!SERVICE.test(service) || !NODE.test(node)) throw bad(ref, 'service/NAME@NODE');
        return { kind: 'service', service, node };
      }
      // web.2 is slot 2 of web; a service may itself hold dots (my.app), so only a numeric last part is a slot
      const m = /^(.+)\.([1-9][0-9]{0,6})$/.exec(rest);
      if (m && SERVICE.test(m[1]!)) return { kind: 'service', service: m[1]!, slot: Number(m[2]) };
      if (!SERVICE.test(rest)) throw bad(ref, 'service/NAME or service/NAME.SLOT');
      return { kind: 'service', service: rest };
    }
    case 'task':
      if (!TASK_ID.test(rest)) throw bad(ref, 'task/ID (an id or the start of one)');
      return { kind: 'task', id: rest };
    case 'node':
      if (!NODE.test(rest)) throw bad(ref, 'node/NAME');
      return { kind: 'node', node: rest };
    default:
      return undefined;
  }
}

function bad(ref: string, form: string): InvalidArgument {
  return new InvalidArgument(`${shown(ref)} is not a swarm name: expected ${form}.`);
}
