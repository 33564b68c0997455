// `porthole ui` on the test swarm's manager: its services join the list (the failing one first, its task error in
// the engine's words) and open why and logs through the CLI's own commands; a service has no files or terminal
// here, and a name that is not a service's is refused. (swarm-*: scripts/test.mjs sets PORTHOLE_SWARM_MANAGER.)
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { createService, MANAGER, removeService, serviceTasks, skipSwarm, uniqueService, waitFor } from '../support/swarm.js';
import { login, readEvents, request, startUi, stopUi } from '../support/ui.js';

const created: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (created.length) removeService(...created);
});

test('services in the list (failing first), why and logs of service/NAME, names checked', { skip: skipSwarm }, async () => {
  const bad = uniqueService('ui-crash');
  const good = uniqueService('ui-up');
  created.push(bad, good);
  createService(bad, ['--replicas', '1', '--restart-max-attempts', '1', '--restart-delay', '1s', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo "ui-swarm <b>out</b>"; exit 3']);
  createService(good, ['--replicas', '1', 'porthole-fixture/busybox:1', 'sh', '-c', 'while true; do echo "alive"; sleep 1; done']);
  await waitFor('a failed task', () => serviceTasks(bad).some((t) => t.current.startsWith('Failed')));
  await waitFor('a running task', () => serviceTasks(good).some((t) => t.current.startsWith('Running')));
  process.env.DOCKER_HOST = MANAGER;
  const ui = await startUi([], children);
  try {
    const cookie = await login(ui);
    const r = await request(ui.port, '/api/services', { headers: { Cookie: cookie } });
    assert.equal(r.status, 200);
    const rows = JSON.parse(r.body).services.filter((s: { name: string }) => s.name === bad || s.name === good);
    assert.deepEqual(rows.map((s: { name: string }) => s.name), [bad, good], r.body);
    assert.equal(rows[0].crashed, true);
    assert.match(rows[0].reason, /non-zero exit \(3\)/);
    assert.equal(rows[1].crashed, false);
    assert.equal(rows[1].running, 1);

    const why = await request(ui.port, `/api/c/service%2F${bad}/why`, { headers: { Cookie: cookie } });
    assert.equal(why.status, 200, why.body);
    assert.match(JSON.parse(why.body).text, /exited with code 3/);

    const logs = await readEvents(ui.port, `/api/c/service%2F${good}/logs?tail=3`, cookie, (e) => e.filter((x) => x.event === 'out' && /alive/.test(x.data)).length >= 5, 60_000);
    assert.ok(logs.some((e) => e.event === 'command' && e.data.includes(`service/${good}`)));

    for (const path of [`/api/c/service%2F${good}/ls?path=%2F`, `/api/c/service%2F${good}/file?path=%2Fetc%2Fhostname`, '/api/c/service%2F..%2Fx/why', '/api/c/service%2Fa%40b%40c/why']) {
      const refused = await request(ui.port, path, { headers: { Cookie: cookie } });
      assert.equal(refused.status, 400, `${path}: ${refused.body}`);
    }
  } finally {
    await stopUi(ui);
  }
});
