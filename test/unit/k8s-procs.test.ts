// ps and stats on pods, the pure parts: the /proc reader's dump (framing a process cannot forge, containers placed
// by cgroup, main processes, users, the reader hidden), the reader script itself run by busybox sh on this
// machine's /proc, and the metrics API / kubelet Summary answers (recorded JSON) turned into rows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cpuCores, podRow, usageFromMetrics, usageFromSummary, type PodMetrics, type Summary } from '../../src/engine/kubernetes/pod-stats.js';
import { podContainerRefs } from '../../src/engine/kubernetes/procs.js';
import type { List, Pod } from '../../src/engine/kubernetes/wire.js';
import { namespaceOrPeriod, podStatsJson, renderPodStatsTable } from '../../src/commands/stats-pods.js';
import { containerIdsInCgroup } from '../../src/procs/parse.js';
import { containerCell, parseProcDump, splitStatStatus, podProcessRows, PROC_READER_SCRIPT } from '../../src/procs/pod-rows.js';

const SANDBOX = 'a'.repeat(64);
const APP = 'b'.repeat(64);
const SIDE = 'c'.repeat(64);
const cg = (id: string) => `12:memory:/kubepods/besteffort/pod1234/${id}\n11:pids:/kubepods/besteffort/pod1234/${id}\n`;
const stat = (pid: number, comm: string, state: string, ppid: number, startTicks: number, utime = 0) =>
  `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} 0 0 0 20 0 1 0 ${startTicks} 2322432 342 18446744073709551615\n`;
const status = (uid: number, rssKb: number) => `Name:\tx\nTgid:\t1\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nVmRSS:\t${rssKb} kB\n`;
const hex = (argv: (string | Buffer)[]) => Buffer.concat(argv.map((a) => Buffer.concat([Buffer.isBuffer(a) ? a : Buffer.from(a), Buffer.from([0])]))).toString('hex').replace(/(..)/g, ' $1');

function dump(parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.concat([Buffer.isBuffer(p) ? p : Buffer.from(p), Buffer.from([0])])));
}

function proc(pid: number, comm: string, ppid: number, startTicks: number, uid: number, id: string, argv: (string | Buffer)[], state = 'S'): (string | Buffer)[] {
  return [`P${pid}`, stat(pid, comm, state, ppid, startTicks) + status(uid, 1400), cg(id), hex(argv)];
}

const PASSWD_APP = 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n';

function sharedDump(): Buffer {
  return dump([
    'H30', '1000.50 1800.00\n', '1700000000',
    'W30', PASSWD_APP,
    ...proc(1, 'pause', 0, 100, 65535, SANDBOX, ['/pause']),
    ...proc(7, 'sleep', 0, 200, 0, APP, ['sleep', '200000']),
    'W7', PASSWD_APP,
    ...proc(12, 'sleep', 7, 210, 1000, APP, ['sleep', '100000']),
    // a later exec session in app: its parent is outside too, but it is not the main process
    ...proc(20, 'sh', 0, 5000, 0, APP, ['sh']),
    // side's main process, whose root's passwd could not be read
    ...proc(13, 'sleep', 0, 205, 1000, SIDE, ['sleep', '300000']),
    'W13', '',
    // a hostile name: a ") 0 " and a newline in comm, and an argument whose bytes would be a forged record if
    // they were printed raw, plus bytes that are not UTF-8
    ...proc(40, 'x) S 0 1\nP41', 12, 6000, 1000, APP, ['evil', Buffer.from('\0P41\0forged\0'), Buffer.from([0xff, 0x41])]),
    // the reader and what it started: never shown
    ...proc(30, 'sh', 0, 9000, 0, APP, ['sh', '-c', 'script']),
    ...proc(31, 'cat', 30, 9001, 0, APP, ['cat', '30/stat']),
  ]);
}

const containers = [
  { name: 'app', kind: 'container' as const, id: APP },
  { name: 'side', kind: 'container' as const, id: SIDE },
];

test('a shared namespace: one tree, containers from cgroups, the pause sandbox, main processes marked, the reader hidden', () => {
  const parsed = parseProcDump(sharedDump());
  assert.equal(parsed.readerPid, 30);
  assert.equal(parsed.uptimeSeconds, 1000.5);
  assert.equal(parsed.bootTimeMs, 1_700_000_000_000);
  const { rows, prefixes } = podProcessRows(parsed, { namespace: 'ns', pod: 'p', containers, own: null });
  assert.deepEqual(
    rows.map((r) => [r.pid, r.container, r.role, r.ppid, r.user, r.depth]),
    [
      [1, null, 'sandbox', 0, '65535', 0],
      [7, 'app', 'main', 0, 'root', 0],
      [12, 'app', 'process', 7, 'user', 1],
      [40, 'app', 'process', 12, 'user', 2],
      [13, 'side', 'main', 0, '1000', 0],
      [20, 'app', 'process', 0, 'root', 0],
    ],
  );
  assert.deepEqual(prefixes, ['', '', ' \\_ ', '     \\_ ', '', '']);
  assert.ok(rows.every((r) => r.processNamespace === 'pod'));
  assert.deepEqual(rows.map(containerCell), ['(sandbox)', 'app*', 'app', 'app', 'side*', 'app']);
  // the hostile process: its argv exact, no forged PID 41, its name kept whole
  const evil = rows.find((r) => r.pid === 40)!;
  assert.deepEqual(evil.argv, ['evil', '', 'P41', 'forged', '', '\ufffdA']);
  assert.deepEqual(evil.argvBytes!.map((b) => Buffer.from(b, 'base64').toString('latin1')), ['evil', '', 'P41', 'forged', '', '\xffA']);
  assert.ok(!rows.some((r) => r.pid === 41));
  // START from boot time + start ticks; RSS from VmRSS
  assert.equal(rows[1]!.startTime, new Date(1_700_000_000_000 + 2000).toISOString());
  assert.equal(rows[1]!.rssBytes, 1400 * 1024);
  // side's users from its own passwd when asked separately
  const again = podProcessRows(parsed, { namespace: 'ns', pod: 'p', containers, own: null, passwdByContainer: new Map([['side', new Map([[1000, 'sider']])]]) });
  assert.equal(again.rows.find((r) => r.pid === 13)!.user, 'sider');
  // pod/p/side: only side's processes
  assert.deepEqual(podProcessRows(parsed, { namespace: 'ns', pod: 'p', containers, own: null, only: 'side' }).rows.map((r) => r.pid), [13]);
});

test("a container's own namespace: PID 1 is its main process; a toolbox sharing it keeps its own name", () => {
  const TOOLBOX = 'd'.repeat(64);
  const parsed = parseProcDump(
    dump([
      'H50', '10 20\n', '1700000000',
      'W50', 'root:x:0:0::/:/bin/sh\n',
      'W1', 'root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n',
      ...proc(1, 'pause', 0, 100, 65534, APP, ['/pause']),
      ...proc(9, 'sh', 0, 300, 0, TOOLBOX, ['sh', '-c', 'sleeper']),
      ...proc(10, 'sleep', 9, 301, 0, TOOLBOX, ['sleep', '3600']),
      ...proc(50, 'sh', 0, 900, 0, TOOLBOX, ['sh', '-c', 'reader']),
    ]),
  );
  const refs = [{ name: 'bare', kind: 'container' as const, id: APP }, { name: 'porthole-toolbox-1', kind: 'ephemeral' as const, id: TOOLBOX }];
  const { rows } = podProcessRows(parsed, { namespace: 'ns', pod: 'p', containers: refs, own: 'bare' });
  assert.deepEqual(
    rows.map((r) => [r.pid, r.container, r.containerKind, r.role, r.user]),
    [
      [1, 'bare', 'container', 'main', 'nobody'],
      [9, 'porthole-toolbox-1', 'ephemeral', 'main', 'root'],
      [10, 'porthole-toolbox-1', 'ephemeral', 'process', 'root'],
    ],
  );
  assert.ok(rows.every((r) => r.processNamespace === 'container'));
});

test('stat and status from one cat: a name with newlines and ") " cannot move the split', () => {
  const status = 'Name:\tx\nUid:\t0\t0\t0\t0\n';
  for (const comm of ['sleep', 'a) S 1 2\nName:', ') \n) \n) ', 'x\n\n\n']) {
    const line = stat(9, comm, 'S', 1, 5);
    const [s1, s2] = splitStatStatus(Buffer.from(line + status));
    assert.equal(s1, line, JSON.stringify(comm));
    assert.equal(s2, status);
  }
});

test('a dump cut short (a process that ended mid-read, a closed stream) drops the broken record only', () => {
  const whole = sharedDump();
  const cut = whole.subarray(0, whole.indexOf(Buffer.from('P13\0')) + 6);
  const rows = podProcessRows(parseProcDump(cut), { namespace: 'ns', pod: 'p', containers, own: null }).rows;
  assert.deepEqual(rows.map((r) => r.pid), [1, 7, 12, 20]);
  // a stat of another PID than the record's (a reused PID) is not taken
  const wrong = dump(['H1', '1 1\n', '1', ...proc(5, 'x', 0, 1, 0, APP, ['x']).map((f, i) => (i === 0 ? 'P6' : f))]);
  assert.equal(parseProcDump(wrong).processes.length, 0);
});

test("the reader script, run by busybox sh over copies of this machine's /proc files, finds this test process with its exact argv", { skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, () => {
  // an image's PATH: a folder where cat, od and tr are busybox
  const bin = mkdtempSync(join(tmpdir(), 'porthole-bb-'));
  for (const tool of ['cat', 'od', 'tr']) symlinkSync('/bin/busybox', join(bin, tool));
  // a /proc of two processes (the whole host's takes seconds on a busy machine): real files, copied
  const proc = mkdtempSync(join(tmpdir(), 'porthole-proc-'));
  for (const file of ['uptime', 'stat']) writeFileSync(join(proc, file), readFileSync(`/proc/${file}`));
  for (const pid of [process.pid, process.ppid]) {
    mkdirSync(join(proc, String(pid)));
    for (const file of ['stat', 'status', 'cgroup', 'cmdline']) writeFileSync(join(proc, String(pid), file), readFileSync(`/proc/${pid}/${file}`));
    symlinkSync('/', join(proc, String(pid), 'root'));
  }
  const r = spawnSync('/bin/busybox', ['sh', '-c', PROC_READER_SCRIPT.replace('cd /proc', `cd ${proc}`), 'sh', 'cgroup'], { maxBuffer: 64 << 20, env: { PATH: bin } });
  rmSync(bin, { recursive: true });
  rmSync(proc, { recursive: true });
  assert.equal(r.status, 0, r.stderr.toString());
  const parsed = parseProcDump(r.stdout);
  assert.deepEqual(parsed.processes.map((p) => p.pid).sort(), [process.pid, process.ppid].sort());
  const me = parsed.processes.find((p) => p.pid === process.pid)!;
  const cmdline = readFileSync(`/proc/${process.pid}/cmdline`).toString('utf8').split('\0').slice(0, -1);
  assert.deepEqual(me.argv, cmdline);
  assert.equal(me.status.uid, process.getuid!());
  assert.equal(me.stat.ppid, process.ppid);
  assert.deepEqual(me.cgroupIds, containerIdsInCgroup(readFileSync(`/proc/${process.pid}/cgroup`, 'utf8')));
  assert.equal(me.status.rssBytes! > 0, true);
  assert.ok(parsed.uptimeSeconds > 0 && parsed.bootTimeMs > 1e12);
  assert.equal(parsed.passwd.get(parsed.readerPid)?.get(0), 'root');
  assert.ok(parsed.readerPid > 0);
  const rows = podProcessRows(parsed, { namespace: 'ns', pod: 'p', containers: [], own: null }).rows;
  assert.equal(rows.find((row) => row.pid === process.pid)!.depth, 1, 'the test process under its parent');
});

test('a missing tool is named, with exit 22', { skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, () => {
  // dash, whose command -v follows PATH (busybox sh finds its own applets whatever PATH says)
  const bin = mkdtempSync(join(tmpdir(), 'porthole-bb-'));
  for (const tool of ['cat', 'tr']) symlinkSync('/bin/busybox', join(bin, tool));
  const r = spawnSync('/bin/sh', ['-c', PROC_READER_SCRIPT], { env: { PATH: bin } });
  rmSync(bin, { recursive: true });
  assert.equal(r.status, 22);
  assert.equal(r.stderr.toString(), 'od');
});

test('container ids from the pod status: runtime prefix stripped, ephemeral containers included', () => {
  const pod = {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'app' }] },
    status: {
      containerStatuses: [{ name: 'app', containerID: `containerd://${APP}` }, { name: 'gone' }],
      ephemeralContainerStatuses: [{ name: 'porthole-toolbox-1', containerID: `cri-o://${SIDE}` }],
    },
  } as unknown as Pod;
  assert.deepEqual(podContainerRefs(pod), [{ name: 'app', kind: 'container', id: APP }, { name: 'porthole-toolbox-1', kind: 'ephemeral', id: SIDE }]);
});

// Recorded from metrics-server v0.7 (kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/shop/pods).
const METRICS = {
  kind: 'PodMetricsList',
  apiVersion: 'metrics.k8s.io/v1beta1',
  metadata: {},
  items: [
    {
      metadata: { name: 'api-7d9f', namespace: 'shop', creationTimestamp: '2026-12-05T12:00:00Z', labels: { app: 'api' } },
      timestamp: '2026-12-05T11:59:47Z',
      window: '10.062s',
      containers: [
        { name: 'app', usage: { cpu: '251434512n', memory: '53248Ki' } },
        { name: 'proxy', usage: { cpu: '1520u', memory: '9876Ki' } },
      ],
    },
    { metadata: { name: 'worker-0', namespace: 'shop' }, timestamp: '2026-12-05T11:59:50Z', window: '15s', containers: [{ name: 'worker', usage: { cpu: '2', memory: '1Gi' } }] },
  ],
};

const POD: Pod = {
  metadata: { name: 'api-7d9f', namespace: 'shop' },
  spec: {
    nodeName: 'node-1',
    containers: [
      { name: 'app', resources: { limits: { memory: '128Mi' } } },
      { name: 'proxy', resources: { limits: { memory: '32Mi', cpu: '100m' } } },
    ],
  },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 3 }, { name: 'proxy', restartCount: 1 }] },
};

test('the metrics API answer: CPU quantities in n/u/m/cores, memory in Ki/Gi, per container and summed per pod', () => {
  assert.equal(cpuCores('251434512n'), 0.251434512);
  assert.ok(Math.abs(cpuCores('1520u')! - 0.00152) < 1e-12);
  assert.equal(cpuCores('250m'), 0.25);
  assert.equal(cpuCores('2'), 2);
  assert.equal(cpuCores('bogus'), null);
  const usage = usageFromMetrics(METRICS as List<PodMetrics>, 'shop');
  assert.deepEqual([...usage.keys()], ['shop/api-7d9f', 'shop/worker-0']);
  const row = podRow(POD, usage.get('shop/api-7d9f'), 'metrics-api', 'shop');
  assert.equal(row.source, 'metrics-api');
  assert.equal(row.containers[0]!.memoryWorkingSetBytes, 53248 * 1024);
  assert.equal(row.memoryWorkingSetBytes, (53248 + 9876) * 1024);
  assert.equal(row.memoryLimitBytes, 160 * 1024 * 1024);
  assert.ok(Math.abs(row.cpuPercent! - 25.2954512) < 1e-9);
  assert.equal(row.restarts, 4);
  assert.equal(usage.get('shop/worker-0')!.get('worker')!.cpuPercent, 200);
  assert.equal(usage.get('shop/worker-0')!.get('worker')!.memoryWorkingSetBytes, 2 ** 30);
  const json = podStatsJson([row])[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['namespace', 'pod', 'node', 'phase', 'cpuPercent', 'memoryWorkingSetBytes', 'memoryLimitBytes', 'restarts', 'source', 'containers']);
  assert.equal(json.cpuPercent, 25.3);
});

test("the kubelet Summary answer: usageNanoCores and workingSetBytes; a rate not computed yet is '-', a container without a limit makes the pod's none", () => {
  const summary: Summary = {
    node: { nodeName: 'node-1' },
    pods: [
      {
        podRef: { name: 'api-7d9f', namespace: 'shop' },
        containers: [
          { name: 'app', cpu: { usageNanoCores: 5_000_000 }, memory: { workingSetBytes: 40 << 20 } },
          { name: 'proxy', cpu: {}, memory: { workingSetBytes: 1 << 20 } },
        ],
      },
    ],
  };
  const usage = usageFromSummary(summary);
  const row = podRow(POD, usage.get('shop/api-7d9f'), 'kubelet-summary', 'shop');
  assert.equal(row.containers[0]!.cpuPercent, 0.5);
  assert.equal(row.containers[1]!.cpuPercent, null);
  assert.equal(row.cpuPercent, 0.5);
  assert.equal(row.memoryWorkingSetBytes, 41 << 20);
  const noLimit = podRow({ ...POD, spec: { ...POD.spec, containers: [POD.spec.containers[0]!, { name: 'proxy' }] } }, usage.get('shop/api-7d9f'), 'kubelet-summary', 'shop');
  assert.equal(noLimit.memoryLimitBytes, null);
  // a pod the source does not know (pending, just started): no figures, no source
  const pending = podRow(POD, undefined, 'kubelet-summary', 'shop');
  assert.equal(pending.memoryWorkingSetBytes, null);
  assert.equal(pending.source, null);
  const table = renderPodStatsTable([row, pending]);
  assert.match(table, /^api-7d9f\s+0\.50%\s+41MiB \/ 160MiB\s+25\.62%\s+4\s+Running$/m);
  assert.match(table, /^ \\_ proxy\s+-\s+1MiB \/ 32MiB\s+3\.13%\s+1\s*$/m);
  assert.match(table, /^api-7d9f\s+-\s+- \/ 160MiB\s+-\s+4\s+Running$/m);
});

test('stats -n: a namespace name, or a number (or no name at all) as the refresh period', () => {
  assert.deepEqual(namespaceOrPeriod({ namespace: 'shop' }), { namespace: 'shop' });
  assert.deepEqual(namespaceOrPeriod({ namespace: '5' }), { namespace: undefined, interval: '5' });
  assert.deepEqual(namespaceOrPeriod({ namespace: '0.5' }), { namespace: undefined, interval: '0.5' });
  assert.deepEqual(namespaceOrPeriod({ namespace: '-1' }), { namespace: undefined, interval: '-1' });
  assert.deepEqual(namespaceOrPeriod({ namespace: 'shop', interval: '2' }), { namespace: 'shop', interval: '2' });
  assert.deepEqual(namespaceOrPeriod({}), {});
});
