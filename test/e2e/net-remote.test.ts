// `porthole net` on a remote engine (issue 16 part 3): a second dockerd, one of the test swarm's nodes, reached
// over tcp:// (a plain TCP forwarder to its socket, on 127.0.0.1, made by this test), with porthole itself in a
// PID namespace of its own (unshare), so the container's processes are not visible to it: what a laptop talking
// to a server's engine sees. The view then comes from a toolbox sidecar in the container's namespaces, and must
// match what the host way reads: listeners with their owners (PID inside, command), connections, DNS, and the
// port mismatches spelled out. Nothing is left on the node.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { BIN, hasCommand, porthole, runProcess } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, ensureBusyboxImage, uniqueName } from '../support/docker.js';
import { dockerAt, waitFor } from '../support/swarm.js';

/** A node of the test swarm that answers (another helper's test may have stopped one). */
function reachableNode(): string | undefined {
  for (const n of [2, 3, 1]) {
    const socket = `/run/porthole-swarm/node${n}.sock`;
    if (existsSync(socket) && dockerAt(`unix://${socket}`, ['version', '--format', '{{.Server.Version}}']).code === 0) return socket;
  }
  return undefined;
}

const nodeSocket = hasCommand('unshare') ? reachableNode() : undefined;
const skip = !nodeSocket ? 'needs the test swarm (scripts/swarm-up.sh) and unshare' : false;
const NODE = `unix://${nodeSocket}`;
const TOOLBOX = `porthole-fixture/net-remote-toolbox-${process.pid}:1`;
const web = uniqueName('net-remote-web');
const talk = uniqueName('net-remote-talk');
let server: net.Server | undefined;
let tcpHost = '';
const onNode = (args: string[]) => dockerAt(NODE, args);

/** porthole against the node over tcp://, from a PID namespace of its own. */
function remote(args: string[]) {
  return runProcess('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, '-H', tcpHost, ...args], { env: { PORTHOLE_TOOLBOX_IMAGE: TOOLBOX, DOCKER_HOST: undefined } });
}

before(async () => {
  if (skip) return;
  ensureBusyboxImage();
  if (onNode(['image', 'inspect', BUSYBOX_IMAGE]).code !== 0) execFileSync('sh', ['-c', `docker save ${BUSYBOX_IMAGE} | docker -H ${NODE} load`], { stdio: 'ignore' });
  server = net.createServer((client) => {
    const upstream = net.connect(nodeSocket!);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  tcpHost = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  // The toolbox on the node, built over tcp:// by porthole itself (offline, from this machine's busybox).
  const built = await porthole(['-H', tcpHost, 'toolbox', 'build'], { env: { PORTHOLE_TOOLBOX_IMAGE: TOOLBOX } });
  assert.equal(built.code, 0, built.stderr);
  assert.equal(onNode(['run', '-d', '--name', web, '--label', TEST_LABEL, '-p', '127.0.0.1::80', '-p', '127.0.0.1::81', '--expose', '9999', BUSYBOX_IMAGE, 'sh', '-c', 'httpd -f -p 127.0.0.1:80 & exec httpd -f -p 8081']).code, 0);
  assert.equal(onNode(['run', '-d', '--name', talk, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', 'sleep 1000 | nc -l -p 9000 & sleep 0.3; sleep 1000 | nc 127.0.0.1 9000']).code, 0);
  await waitFor('the listeners', () => onNode(['top', web, '-o', 'pid,args']).stdout.includes('127.0.0.1:80'));
});

after(async () => {
  if (skip) return;
  onNode(['rm', '-f', web, talk]);
  if (tcpHost) await porthole(['-H', tcpHost, 'toolbox', 'rm'], { env: { PORTHOLE_TOOLBOX_IMAGE: TOOLBOX } });
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

test('net over tcp:// with the processes out of sight: read through a toolbox sidecar, mismatches named', { skip }, async () => {
  let r = await remote(['net', web]);
  if (!r.stdout.includes('8081')) r = await remote(['net', web]); // httpd may still be binding
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `porthole: the processes of ${web} are not visible here (a remote engine): reading its network through a toolbox sidecar that shares its namespaces.\n`);
  assert.match(r.stdout, new RegExp(`^${web} \\([0-9a-f]{12}\\), read through a toolbox sidecar$`, 'm'));
  const ip = onNode(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', web]).stdout.trim();
  assert.match(r.stdout, new RegExp(`^eth0\\s+${ip.replace(/\./g, '\\.')}/\\d+\\s+bridge \\(gateway `, 'm'));
  assert.match(r.stdout, /^ {2}default via \d+\.\d+\.\d+\.\d+ dev eth0$/m);
  assert.match(r.stdout, /^DNS: \S+/m);
  assert.match(r.stdout, /^ {2}tcp\s+127\.0\.0\.1:80\s+\d+\s+httpd -f -p 127\.0\.0\.1:80$/m);
  assert.match(r.stdout, /^ {2}tcp6?\s+(\[::\]|0\.0\.0\.0):8081\s+1\s+httpd -f -p 8081$/m, 'the main process is PID 1 inside');
  const port80 = onNode(['port', web, '80/tcp']).stdout.trim();
  assert.ok(r.stdout.includes(`httpd listens on 127.0.0.1:80 only: the published port ${port80} -> 80 cannot reach it (listen on 0.0.0.0 instead).`), r.stdout);
  assert.match(r.stdout, /Port 81\/tcp is published \(127\.0\.0\.1:\d+\) but nothing in the container listens on 81 \(tcp listeners: 80, 8081\)\./);
  assert.match(r.stdout, /The image exposes 9999\/tcp, but nothing in the container listens on 9999\./);
  assert.equal(onNode(['ps', '-a', '-q', '--filter', 'label=io.porthole.owned=true']).stdout.trim(), '', 'the sidecar is gone from the node');
});

test('net --json over tcp://: connections with their peers and owners, PIDs inside, no host PIDs', { skip }, async () => {
  await waitFor('the connection', () => onNode(['top', talk, '-o', 'pid,args']).stdout.includes('nc 127.0.0.1 9000'));
  let r = await remote(['net', talk, '--json']);
  if (JSON.parse(r.stdout || '{"connections":[]}').connections.length < 2) r = await remote(['net', talk, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.via, 'sidecar');
  assert.equal(j.hostPid, null);
  const client = j.connections.find((c: { remote: string }) => /:9000$/.test(c.remote ?? ''));
  assert.ok(client, JSON.stringify(j.connections));
  assert.equal(client.state, 'ESTABLISHED');
  assert.equal(client.owner.command, 'nc 127.0.0.1 9000');
  assert.equal(client.owner.hostPid, null);
  assert.ok(client.owner.pid > 1);
  const server = j.connections.find((c: { local: string }) => /:9000$/.test(c.local));
  assert.equal(server.owner.command, 'nc -l -p 9000');
  assert.equal(onNode(['ps', '-a', '-q', '--filter', 'label=io.porthole.owned=true']).stdout.trim(), '');
});
