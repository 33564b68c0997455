// Hints that name a porthole command carry the -H/--context in force; `which` on a remote engine; a value given
// to a switch (`stats --watch=5`); `demo up` after a start that failed. Against the real engine.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, createContainer, docker, dockerStatus, ensureBusyboxImage, removeContainers, uniqueName } from '../support/docker.js';

const made: string[] = [];
let work: string;
before(() => {
  ensureBusyboxImage();
  work = mkdtempSync(join(tmpdir(), 'porthole-hints-'));
});
after(() => {
  removeContainers(...made);
  rmSync(work, { recursive: true, force: true });
});

test('a hint naming a porthole command repeats -H, --context and the TLS flags given', async () => {
  const name = uniqueName('flags-errors-hint');
  made.push(name);
  createContainer(name, []);
  const withHost = await porthole(['-H', 'unix:///var/run/docker.sock', 'cat', name, '/etc']);
  assert.equal(withHost.code, 3, withHost.stderr);
  // the hint is a whole command: the container as typed and the folder to look at
  assert.ok(withHost.stderr.endsWith(`List it with \`porthole -H unix:///var/run/docker.sock ls ${name} /etc\`.\n`), withHost.stderr);
  const withContext = await porthole(['--context', 'default', 'ls', name, '/no/such/thing']);
  assert.equal(withContext.code, 3, withContext.stderr);
  assert.ok(withContext.stderr.endsWith(`Check the path with \`porthole --context default ls ${name} /no/such\`.\n`), withContext.stderr);
  // a value that needs quoting is quoted, so the hint can be pasted
  const quoted = await porthole(['-H', 'unix:///var/run/docker.sock', '--tlscacert', '/tmp/my ca.pem', 'stats', '--watch=5']);
  assert.equal(quoted.code, 2, quoted.stderr);
  assert.match(quoted.stderr, /`porthole -H unix:\/\/\/var\/run\/docker\.sock --tlscacert '\/tmp\/my ca\.pem' stats --watch 5`/);
  // without global flags, hints stay as they were
  const plain = await porthole(['cat', name, '/etc']);
  assert.ok(plain.stderr.endsWith(`List it with \`porthole ls ${name} /etc\`.\n`), plain.stderr);
  // and runs as printed
  const listed = await porthole(['ls', name, '/etc']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^passwd$/m);
});

test('stats --watch=5 says --watch takes no value and how to give the period, exit 2', async () => {
  const r = await porthole(['stats', '--watch=5']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'porthole: --watch is a switch and takes no value ("--watch=5"). For a refresh every 5 seconds, give the period after a space: `porthole stats --watch 5`, or `porthole stats --interval 5`.\n');
  assert.equal(r.stdout, '');
});

test("which PID on a remote engine says host PIDs belong to the engine's host", async () => {
  const bin = mkdtempSync(join(work, 'bin-'));
  // ssh stands in for reaching box; the engine behind it is the real one
  writeFileSync(join(bin, 'ssh'), '#!/bin/sh\nexec docker system dial-stdio\n');
  chmodSync(join(bin, 'ssh'), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}` };
  for (const pid of [String(process.pid), '4000000']) {
    const r = await porthole(['-H', 'ssh://box', 'which', pid], { env });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, new RegExp(`^porthole: The engine runs on box \\(ssh://box\\), and host PIDs like ${pid} belong to the engine's host: porthole which reads this machine's /proc`));
    assert.match(r.stderr, /`porthole -H ssh:\/\/box ps` lists the containers' processes\./);
  }
  // a local engine still answers as before
  const local = await porthole(['which', String(process.pid)]);
  assert.equal(local.code, 1, local.stderr);
  assert.match(local.stderr, /is not in any container: it is a process of the host/);
});

test('demo up after a failed start: starts the created container, or says the demo is broken and how to reset it', async () => {
  const CLOCK = 'porthole-demo-clock';
  await porthole(['demo', 'down'], { timeoutMs: 60000 });
  try {
    // what an earlier `demo up` leaves when the engine refuses the start: the demo's container, created, never run
    docker(['create', '--name', CLOCK, '--label', 'io.porthole.demo=true', BUSYBOX_IMAGE, '/no/such/program']);
    const broken = await porthole(['demo', 'up'], { timeoutMs: 120000 });
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /^porthole: The demo is broken: the engine would not start porthole-demo-clock \(.*no such file or directory.*\), and it stays created, never run\. Reset the demo with `porthole demo down`, then run `porthole demo up` again\.\n$/s);
    assert.doesNotMatch(broken.stdout, /already there/);

    // the reset it names works
    assert.equal((await porthole(['demo', 'down'])).code, 0);
    assert.notEqual(dockerStatus(['inspect', CLOCK]).status, 0, 'demo down removed it');

    // a created demo container that can start is started, not reported "already there"
    docker(['create', '--name', CLOCK, '--label', 'io.porthole.demo=true', BUSYBOX_IMAGE, 'sleep', '600']);
    const again = await porthole(['demo', 'up'], { timeoutMs: 180000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^started +porthole-demo-clock +running$/m);
    assert.equal(docker(['inspect', '-f', '{{.State.Status}}', CLOCK]), 'running');
  } finally {
    await porthole(['demo', 'down'], { timeoutMs: 60000 });
  }
});

test('toolbox build --from a missing path says so, without announcing a build first', async () => {
  const missing = await porthole(['toolbox', 'build', '--from', '/no/such/busybox']);
  assert.equal(missing.code, 3, missing.stderr);
  assert.equal(missing.stderr, 'porthole: No busybox at /no/such/busybox. Give the path of a static busybox with --from PATH.\n');
  const folder = await porthole(['toolbox', 'build', '--from', '/tmp']);
  assert.equal(folder.code, 2, folder.stderr);
  assert.equal(folder.stderr, 'porthole: /tmp is a folder, not a busybox. Give the path of a static busybox with --from PATH.\n');
});
