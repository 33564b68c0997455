// The test swarm as scripts/test.mjs hands it over (scripts/swarm-up.sh): PORTHOLE_SWARM_MANAGER and the node
// mapping PORTHOLE_SWARM_NODES ({"hostname": "unix:///run/porthole-swarm/nodeN.sock"}).
import { spawnSync } from 'node:child_process';

export const MANAGER = process.env.PORTHOLE_SWARM_MANAGER;
export const NODES: Record<string, string> = process.env.PORTHOLE_SWARM_NODES ? JSON.parse(process.env.PORTHOLE_SWARM_NODES) : {};
export const skipSwarm = !MANAGER || Object.keys(NODES).length < 3
  ? 'PORTHOLE_SWARM_MANAGER/PORTHOLE_SWARM_NODES unset (run through npm test / scripts/test.mjs, which runs scripts/swarm-up.sh)'
  : false;

export function dockerAt(host: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', ['-H', host, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
export const onManager = (args: string[]) => dockerAt(MANAGER!, args);

/** A service on the test swarm (no registry: --no-resolve-image); its name is unique to this run. */
export function createService(name: string, args: string[]): string {
  const r = onManager(['service', 'create', '-q', '--detach', '--no-resolve-image', '--name', name, '--label', 'io.porthole.test=1', ...args]);
  if (r.code !== 0) throw new Error(`service create ${name}: ${r.stderr}`);
  return r.stdout.trim();
}
export function removeService(...names: string[]): void {
  onManager(['service', 'rm', ...names]);
}

export interface TaskRow { id: string; name: string; node: string; desired: string; current: string; error: string }
export function serviceTasks(name: string): TaskRow[] {
  const r = onManager(['service', 'ps', '--no-trunc', '--format', '{{.ID}}\t{{.Name}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}', name]);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const [id, n, node, desired, current, error] = l.split('\t');
    return { id: id!, name: n!, node: node!, desired: desired!, current: current!, error: error ?? '' };
  });
}

export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export const uniqueService = (prefix: string) => `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
