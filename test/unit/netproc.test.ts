// The /proc/PID/net parsers and the port findings of `porthole net`, on text as the kernel writes it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cgroupProcs } from '../../src/host/target-process.js';
import { portFindings } from '../../src/host/net-findings.js';
import { hexToIpv4, hexToIpv6, inSubnet, parseFibTrieLocal, parseIfInet6, parseInetSockets, parseRoutes, parseUnixSockets } from '../../src/host/netproc.js';
import { substitutePid } from '../../src/host/run-program.js';
import { nsenterArgs } from '../../src/host/nsenter.js';

test('addresses as /proc/net prints them', () => {
  assert.equal(hexToIpv4('0100007F'), '127.0.0.1');
  assert.equal(hexToIpv4('030011AC'), '172.17.0.3');
  assert.equal(hexToIpv6('00000000000000000000000000000000'), '::');
  assert.equal(hexToIpv6('00000000000000000000000001000000'), '::1');
  assert.equal(hexToIpv6('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
  assert.equal(hexToIpv6('B80D0120000000000000000001000000'), '2001:db8::1');
});

test('tcp sockets: listening and established, with their inode', () => {
  const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 030011AC:1F90 010011AC:D431 01 00000000:00000000 00:00000000 00000000  1000        0 654321 1 0000000000000000 20 4 30 10 -1
`;
  const sockets = parseInetSockets(text, 'tcp');
  assert.deepEqual(sockets[0], { proto: 'tcp', localAddress: '127.0.0.1', localPort: 80, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', uid: 0, inode: 123456 });
  assert.equal(sockets[1]!.state, 'ESTABLISHED');
  assert.equal(sockets[1]!.remoteAddress, '172.17.0.1');
  assert.equal(sockets[1]!.remotePort, 54321);
  assert.equal(sockets[1]!.uid, 1000);
  const udp = parseInetSockets(text.replace(' 0A ', ' 07 '), 'udp');
  assert.equal(udp[0]!.state, 'UNCONN');
});

test('unix sockets: the listening ones have __SO_ACCEPTCON', () => {
  const text = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/app.sock
0000000000000000: 00000002 00000000 00000000 0001 03 4343
`;
  assert.deepEqual(parseUnixSockets(text), [
    { path: '/run/app.sock', type: 'stream', listening: true, inode: 4242 },
    { path: '', type: 'stream', listening: false, inode: 4343 },
  ]);
});

test('routes, local addresses, IPv6 addresses', () => {
  const routes = parseRoutes(`Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010011AC	0003	0	0	0	00000000	0	0	0
eth0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`);
  assert.deepEqual(routes, [
    { iface: 'eth0', destination: '0.0.0.0', prefixLength: 0, gateway: '172.17.0.1', metric: 0 },
    { iface: 'eth0', destination: '172.17.0.0', prefixLength: 16, gateway: null, metric: 0 },
  ]);
  const trie = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 172.17.0.3
        /32 host LOCAL
Local:
     |-- 172.17.0.3
        /32 host LOCAL
`;
  assert.deepEqual(parseFibTrieLocal(trie), ['127.0.0.1', '172.17.0.3']);
  assert.deepEqual(parseIfInet6('00000000000000000000000000000001 01 80 10 80       lo\n'), [{ iface: 'lo', address: '::1', prefixLength: 128 }]);
  assert.equal(inSubnet('172.17.0.3', '172.17.0.0', 16), true);
  assert.equal(inSubnet('172.18.0.3', '172.17.0.0', 16), false);
});

test('port findings: loopback only behind a published port, nothing listening, exposed but idle', () => {
  const httpd = { pid: 1, hostPid: 500, command: '/usr/sbin/httpd -f' };
  const findings = portFindings(
    [
      { containerPort: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' },
      { containerPort: '80/tcp', hostIp: '::', hostPort: '8080' },
      { containerPort: '443/tcp', hostIp: '', hostPort: '8443' },
      { containerPort: '9000/tcp', hostIp: '', hostPort: '9000' },
    ],
    ['80/tcp', '443/tcp', '9000/tcp', '53/udp', '7000/tcp'],
    [
      { proto: 'tcp', address: '127.0.0.1', port: 80, process: httpd },
      { proto: 'tcp', address: '::', port: 9000, process: null },
      { proto: 'udp', address: '0.0.0.0', port: 53, process: null },
    ],
  );
  assert.deepEqual(findings.map((f) => [f.kind, f.port]), [
    ['loopback-only', '80/tcp'],
    ['nothing-listens', '443/tcp'],
    ['exposed-not-listening', '7000/tcp'],
  ]);
  assert.equal(findings[0]!.message, 'httpd listens on 127.0.0.1:80 only: the published port 0.0.0.0:8080, [::]:8080 -> 80 cannot reach it (listen on 0.0.0.0 instead).');
  assert.equal(findings[1]!.message, 'Port 443/tcp is published (0.0.0.0:8443) but nothing in the container listens on 443 (tcp listeners: 80, 9000).');
});

test('{} becomes the host PID anywhere in a word; nsenter gets one flag a namespace', () => {
  assert.deepEqual(substitutePid(['strace', '-p', '{}', '/proc/{}/fd', '{x}'], 42), ['strace', '-p', '42', '/proc/42/fd', '{x}']);
  assert.deepEqual(nsenterArgs(42, ['net', 'uts'], ['ip', 'addr']), ['--target', '42', '--net', '--uts', '--', 'ip', 'addr']);
  assert.deepEqual(nsenterArgs(42, 'all', ['ps']), ['--target', '42', '--all', '--', 'ps']);
});

test("a container's processes from its cgroup.procs: v1's pids controller or v2's unified file, only a path naming it", () => {
  const id = 'c'.repeat(64);
  const root = mkdtempSync(join(tmpdir(), 'host-tools-cg-'));
  try {
    mkdirSync(join(root, 'proc/100'), { recursive: true });
    writeFileSync(join(root, 'proc/100/cgroup'), `8:pids:/docker/${id}\n0::/docker/${id}\n`);
    mkdirSync(join(root, `cg/pids/docker/${id}`), { recursive: true });
    writeFileSync(join(root, `cg/pids/docker/${id}/cgroup.procs`), '100\n105\n103\n');
    assert.deepEqual(cgroupProcs(join(root, 'proc'), 100, id, join(root, 'cg')), [100, 105, 103]);
    // A cgroup.procs without the main process is not the container's: no answer, the caller walks /proc instead.
    writeFileSync(join(root, `cg/pids/docker/${id}/cgroup.procs`), '7\n');
    assert.equal(cgroupProcs(join(root, 'proc'), 100, id, join(root, 'cg')), undefined);
    mkdirSync(join(root, `cg/docker/${id}`), { recursive: true });
    writeFileSync(join(root, `cg/docker/${id}/cgroup.procs`), '100\n101\n');
    assert.deepEqual(cgroupProcs(join(root, 'proc'), 100, id, join(root, 'cg')), [100, 101]);
    assert.equal(cgroupProcs(join(root, 'proc'), 100, 'd'.repeat(64), join(root, 'cg')), undefined, 'a path that does not name the container');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
