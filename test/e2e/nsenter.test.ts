// porthole nsenter CONTAINER [--net] [--uts] ... -- PROGRAM: host programs inside a container's namespaces, on the
// real engine, compared with what docker inspect says; the target stays as it was.
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { BIN, hasCommand, porthole, runProcess } from '../support/cli.js';
import { containerFingerprint, docker, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { containerId, statePid } from '../support/procs.js';

const target = uniqueName('host-tools-ns');
const stopped = uniqueName('host-tools-ns-stopped');
const HOSTNAME = 'host-tools-box';
let fingerprint: ReturnType<typeof containerFingerprint>;

before(() => {
  ensureBusyboxImage();
  runContainer(target, ['--hostname', HOSTNAME], undefined, ['httpd', '-f', '-p', '8080']);
  docker(['create', '--name', stopped, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'true']);
  fingerprint = containerFingerprint(target);
});

after(() => removeContainers(target, stopped));

test("nsenter C -- ip addr: the container's eth0 and address, as docker inspect gives it", { skip: !hasCommand('ip') }, async () => {
  const address = docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', target]);
  assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
  const r = await porthole(['nsenter', target, '--', 'ip', '-o', '-4', 'addr']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, new RegExp(`^\\d+: eth0\\s+inet ${address.replace(/\./g, '\\.')}/`, 'm'));
  const names = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[1]).sort();
  assert.deepEqual(names, ['eth0', 'lo'], "only the container's interfaces");
});

test("nsenter: the network namespace by default, the host's program and files", async () => {
  const r = await porthole(['nsenter', target, '--', 'readlink', '/proc/self/ns/net', '/proc/self/ns/uts']);
  assert.equal(r.code, 0, r.stderr);
  const [net, uts] = r.stdout.trim().split('\n');
  const pid = statePid(target);
  assert.equal(net, readlinkSync(`/proc/${pid}/ns/net`));
  assert.equal(uts, readlinkSync('/proc/self/ns/uts'), 'the UTS namespace stays the host\'s');
  // ss reads the sockets of the namespace it runs in: the container's listening httpd.
  if (hasCommand('ss')) {
    const ss = await porthole(['nsenter', target, '--', 'ss', '-Hltn']);
    assert.equal(ss.code, 0, ss.stderr);
    assert.match(ss.stdout, /LISTEN .*:8080\b/);
  }
});

test("nsenter --uts -- hostname: the container's hostname; --mount: its files", async () => {
  const r = await porthole(['nsenter', target, '--uts', '--', 'hostname']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${HOSTNAME}\n`);
  assert.notEqual(HOSTNAME, hostname());
  const files = await porthole(['nsenter', target, '--mount', '--', 'cat', '/etc/hostname']);
  assert.equal(files.code, 0, files.stderr);
  assert.equal(files.stdout, `${HOSTNAME}\n`);
  assert.notEqual(files.stdout, readFileSync('/etc/hostname', 'utf8'));
  const all = await porthole(['nsenter', target, '--all', '--', 'ps']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^\s*1 \S+\s+httpd -f -p 8080$/m, "ps from the container's files, in its PID namespace");
});

test("nsenter passes the program's exit code and stdin through", async () => {
  const seven = await porthole(['nsenter', target, '--', 'sh', '-c', 'exit 7']);
  assert.equal(seven.code, 7);
  const cat = await porthole(['nsenter', target, '--', 'cat'], { input: 'in\n' });
  assert.equal(cat.stdout, 'in\n');
  const pid = await porthole(['nsenter', target, '--', 'echo', '{}']);
  assert.equal(Number(pid.stdout), statePid(target));
});

test('nsenter: no such program is one sentence and 127; bad uses are sentences', async () => {
  const r = await porthole(['nsenter', target, '--', 'no-such-program-xyz']);
  assert.equal(r.code, 127);
  assert.equal(r.stderr, 'porthole: no-such-program-xyz: no such program on this host. porthole runs host programs here: install it, or give its full path.\n');
  const inside = await porthole(['nsenter', target, '--mount', '--', 'no-such-program-xyz']);
  assert.equal(inside.code, 127, 'with --mount the program is looked for in the container, by nsenter');
  const nothing = await porthole(['nsenter', target, '--net']);
  assert.equal(nothing.code, 2);
  const notRunning = await porthole(['nsenter', stopped, '--', 'true']);
  assert.equal(notRunning.code, 6);
  assert.match(notRunning.stderr, /is not running/);
});

test('processes not visible here (porthole in another PID namespace): --net through a toolbox sidecar, --uts refused', { skip: !hasCommand('unshare') }, async () => {
  const elsewhere = (args: string[]) => runProcess('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, ...args]);
  const address = docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', target]);
  const r = await elsewhere(['nsenter', target, '--', 'ip', '-o', '-4', 'addr']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`eth0\\s+inet ${address.replace(/\./g, '\\.')}/`));
  assert.match(r.stderr, /running ip in a toolbox sidecar that shares its network and PID namespaces/);
  const code = await elsewhere(['nsenter', target, '--', 'sh', '-c', 'exit 4']);
  assert.equal(code.code, 4);
  const uts = await elsewhere(['nsenter', target, '--uts', '--', 'hostname']);
  assert.equal(uts.code, 6);
  assert.match(uts.stderr, /joins its network and PID namespaces only, not --uts\./);
  assert.deepEqual(leftoversFor(containerId(target)), [], 'the sidecars are gone');
});

test('nsenter never changes the target', () => {
  assert.deepEqual(containerFingerprint(target), fingerprint);
});
