import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeMapping, nodeWays } from '../../src/engine/swarm/reach.js';
import { InvalidArgument } from '../../src/errors.js';
import type { SwarmNode } from '../../src/engine/types.js';

const node: SwarmNode = { id: 'abc123', hostname: 'worker-2', state: 'ready', availability: 'active', addr: '10.0.0.2', manager: false };

test('the ways to a node, in order: mapping, docker context named like it, ssh, tcp:2376', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-reach-'));
  try {
    const dockerConfig = join(dir, 'docker');
    const meta = join(dockerConfig, 'contexts', 'meta', createHash('sha256').update('worker-2').digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: 'worker-2', Endpoints: { docker: { Host: 'ssh://ops@worker-2' } } }));
    mkdirSync(join(dir, 'xdg', 'porthole'), { recursive: true });
    writeFileSync(join(dir, 'xdg', 'porthole', 'nodes.json'), JSON.stringify({ 'worker-2': 'unix:///run/w2.sock' }));
    const env = { DOCKER_CONFIG: dockerConfig, XDG_CONFIG_HOME: join(dir, 'xdg') };

    const ways = await nodeWays(node, env);
    assert.deepEqual(ways.map((w) => [w.way.replace(dir, 'DIR'), w.endpoint?.host ?? null, !!w.chosen]), [
      ['DIR/xdg/porthole/nodes.json', 'unix:///run/w2.sock', true],
      ['docker context "worker-2"', 'ssh://ops@worker-2', true],
      ['ssh://10.0.0.2', 'ssh://10.0.0.2', false],
      ['tcp://10.0.0.2:2376', 'tcp://10.0.0.2:2376', false],
    ]);
    // the variable wins over the file; an entry may name the node by id
    const byVar = await nodeWays(node, { ...env, PORTHOLE_SWARM_NODES: '{"abc123": "tcp://10.9.9.9:2375"}' });
    assert.equal(byVar[0]!.endpoint!.host, 'tcp://10.9.9.9:2375');
    assert.equal(byVar[0]!.way, 'PORTHOLE_SWARM_NODES');
    // no entry, no context: each says why
    const none = await nodeWays({ ...node, hostname: 'worker-9', id: 'zzz' }, env);
    assert.match(none[0]!.reason!, /no entry for "worker-9"/);
    assert.match(none[1]!.reason!, /Docker context "worker-9" not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mapping that is not a JSON object is a usage error that says what it should be', () => {
  assert.throws(() => nodeMapping({ PORTHOLE_SWARM_NODES: '[1]' }), InvalidArgument);
  assert.throws(() => nodeMapping({ PORTHOLE_SWARM_NODES: '{oops' }), /PORTHOLE_SWARM_NODES is not JSON/);
});
