// porthole net CONTAINER: the network read on the host from /proc/PID/net, on real containers: the loopback-only
// server behind a published port and the published port nothing listens on are named; owners of sockets and
// established connections; a shell-less container; JSON; the target unchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BIN, hasCommand, porthole, runProcess } from '../support/cli.js';
import { containerFingerprint, docker, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { containerId, procStatusField, statePid, waitFor } from '../support/procs.js';
import { ensureToolbox, runShellLess } from '../support/toolbox.js';

const web = uniqueName('host-tools-net');
const talk = uniqueName('host-tools-talk');
const shellLess = uniqueName('host-tools-net-sl');
const stopped = uniqueName('host-tools-net-stopped');
let fingerprint: ReturnType<typeof containerFingerprint>;

function ipOf(name: string): string {
  return docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);
}

async function netJson(name: string) {
  const r = await porthole(['net', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  ensureBusyboxImage();
  // Random host ports on 127.0.0.1: nothing clashes with other tests on the shared engine.
  runContainer(web, ['-p', '127.0.0.1::80', '-p', '127.0.0.1::81', '-p', '127.0.0.1::8081'], undefined, ['sh', '-c', 'httpd -f -p 127.0.0.1:80 & exec httpd -f -p 8081']);
  runContainer(talk, [], undefined, ['sh', '-c', 'sleep 1000 | nc -l -p 9000 & sleep 0.3; sleep 1000 | nc 127.0.0.1 9000']);
  runShellLess(shellLess);
  docker(['create', '--name', stopped, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'true']);
  await waitFor('the listeners', () => docker(['top', web, '-o', 'pid,args']).includes('127.0.0.1:80'));
  fingerprint = containerFingerprint(web);
});

after(() => removeContainers(web, talk, shellLess, stopped));

test('net names the server on 127.0.0.1 behind a published port, and the published port nothing listens on', async () => {
  let r = await porthole(['net', web]);
  // httpd may still be binding right after the start: look again once.
  if (!r.stdout.includes('8081')) r = await porthole(['net', web]);
  assert.equal(r.code, 0, r.stderr);
  const port80 = docker(['port', web, '80/tcp']).trim();
  assert.match(r.stdout, new RegExp(`httpd listens on 127\\.0\\.0\\.1:80 only: the published port ${port80.replace(/\./g, '\\.')} -> 80 cannot reach it`));
  assert.match(r.stdout, /Port 81\/tcp is published \(127\.0\.0\.1:\d+\) but nothing in the container listens on 81 \(tcp listeners: 80, 8081\)\./);
  assert.doesNotMatch(r.stdout, /8081\/tcp is published/, 'the port that works is not a problem');
  assert.match(r.stdout, new RegExp(`^eth0\\s+${ipOf(web).replace(/\./g, '\\.')}/\\d+\\s+bridge \\(gateway `, 'm'));
  assert.match(r.stdout, /^ {2}default via \d+\.\d+\.\d+\.\d+ dev eth0$/m);
  assert.match(r.stdout, /^ {2}tcp\s+127\.0\.0\.1:80\s+\d+\s+httpd -f -p 127\.0\.0\.1:80$/m);
  assert.match(r.stdout, /^ {2}tcp6?\s+(\[::\]|0\.0\.0\.0):8081\s+1\s+httpd -f -p 8081$/m, 'the main process is PID 1 inside');
  assert.equal(r.stderr, '');
});

test('net --json: the same view as data, owners with PIDs inside and host PIDs', async () => {
  const j = await netJson(web);
  assert.equal(j.container, web);
  assert.equal(j.hostPid, statePid(web));
  const eth0 = j.interfaces.find((i: { name: string }) => i.name === 'eth0');
  assert.ok(eth0.addresses.some((a: string) => a.startsWith(`${ipOf(web)}/`)));
  assert.equal(eth0.network.name, 'bridge');
  const main = j.listening.find((s: { local: string }) => s.local.endsWith(':8081'));
  assert.deepEqual(main.owner, { pid: 1, hostPid: statePid(web), command: 'httpd -f -p 8081' });
  assert.deepEqual(j.findings.map((f: { kind: string; port: string }) => `${f.kind} ${f.port}`).sort(), ['loopback-only 80/tcp', 'nothing-listens 81/tcp']);
  assert.ok(j.dns && Array.isArray(j.dns.nameservers));
});

test('net shows established connections with both ends and their processes', async () => {
  await waitFor('the connection', () => docker(['top', talk, '-o', 'pid,args']).includes('nc 127.0.0.1 9000'));
  let j = await netJson(talk);
  if (j.connections.length < 2) j = await netJson(talk);
  const client = j.connections.find((c: { remote: string }) => /127\.0\.0\.1\]?:9000$/.test(c.remote));
  assert.ok(client, JSON.stringify(j.connections));
  assert.equal(client.state, 'ESTABLISHED');
  assert.equal(client.owner.command, 'nc 127.0.0.1 9000');
  const server = j.connections.find((c: { local: string }) => /:9000$/.test(c.local));
  assert.equal(server.owner.command, 'nc -l -p 9000');
});

test('net on a container with hundreds of processes: PIDs inside from one nsenter read, the same as each status says', async () => {
  const crowd = uniqueName('host-tools-net-crowd');
  try {
    runContainer(crowd, [], undefined, ['sh', '-c', 'i=0; while [ $i -lt 230 ]; do sleep 1000 & i=$((i+1)); done; sleep 1000 | nc -l -p 9000 & sleep 0.3; sleep 1000 | nc 127.0.0.1 9000']);
    // The main shell's own command line holds "nc 127.0.0.1 9000" too: wait for the process itself.
    await waitFor('the crowd and its connection', () => {
      const rows = docker(['top', crowd, '-o', 'pid,args']).split('\n');
      return rows.length > 230 && rows.some((r) => /^\s*\d+\s+nc 127\.0\.0\.1 9000$/.test(r));
    }, 120_000);
    let j = await netJson(crowd);
    for (let tries = 0; j.connections.length < 2 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      j = await netJson(crowd);
    }
    type Owner = { pid: number; hostPid: number };
    const owners: Owner[] = [...j.listening, ...j.connections].map((s: { owner: Owner | null }) => s.owner).filter((o: Owner | null): o is Owner => o !== null);
    assert.ok(owners.length >= 2, JSON.stringify(j.connections));
    for (const owner of owners) {
      assert.equal(owner.pid, Number(procStatusField(owner.hostPid, 'NSpid').split(/\s+/).at(-1)), `host PID ${owner.hostPid}`);
    }
    assert.ok(owners.some((o) => o.pid > 200), 'owners made after the crowd have high PIDs inside');
  } finally {
    removeContainers(crowd);
  }
});

test('net on a container without a shell or any tool', async () => {
  const r = await porthole(['net', shellLess]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^eth0\\s+${ipOf(shellLess).replace(/\./g, '\\.')}/`, 'm'));
  assert.match(r.stdout, /Listening:\n {2}\(nothing\)/);
});

test('net on a stopped container: one sentence, exit 6', async () => {
  const r = await porthole(['net', stopped]);
  assert.equal(r.code, 6);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /is not running, so it has no process whose network porthole could read\./);
});

test('net from another PID namespace: the same view, read through a toolbox sidecar', { skip: !hasCommand('unshare') }, async () => {
  ensureToolbox();
  const host = await netJson(web);
  const elsewhere = await runProcess('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, 'net', web, '--json']);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.match(elsewhere.stderr, /are not visible here \(a remote engine\): reading its network through a toolbox sidecar/);
  const j = JSON.parse(elsewhere.stdout);
  assert.equal(j.via, 'sidecar');
  assert.equal(j.hostPid, null);
  const strip = (sockets: { owner: { hostPid: number | null } | null }[]) => sockets.map((s) => ({ ...s, owner: s.owner && { ...s.owner, hostPid: null } }));
  assert.deepEqual(strip(j.listening), strip(host.listening));
  assert.deepEqual(j.interfaces, host.interfaces);
  assert.deepEqual(j.routes, host.routes);
  assert.deepEqual(j.findings, host.findings);
  assert.deepEqual(j.dns, host.dns);
  assert.deepEqual(leftoversFor(containerId(web)), [], 'the sidecar is gone');
});

test('net never changes the target', () => {
  assert.deepEqual(containerFingerprint(web), fingerprint);
});
