import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import {
  cpuPercent,
  cpuPercentFromSystem,
  effectiveLimit,
  engineCpuPercent,
  formatBinaryBytes,
  formatDecimalBytes,
  memoryPercent,
  memoryWithoutCache,
  parseBlkioV1,
  parseEngineStats,
  parseFlatKeyed,
  parseIoStatV2,
  parseMemTotal,
  parseNetDev,
  parseNumber,
  sortStats,
} from '../../src/metrics/calc.js';
import { candidateCgroupPaths, cgroupPathFromProc, findContainerCgroup, parseMountinfo, readCpuNs, readFigures } from '../../src/metrics/cgroup.js';
import { apiAtLeast } from '../../src/metrics/sampler.js';
import { matchReference } from '../../src/metrics/targets.js';
import { toJsonRow } from '../../src/metrics/types.js';

test('CPU percent: used CPU time over wall time, 100 per core', () => {
  assert.equal(cpuPercent(0, 200e6, 200e6), 100);
  assert.equal(cpuPercent(1e9, 1e9 + 300e6, 200e6), 150);
  assert.equal(cpuPercent(5, 5, 1e9), 0);
  assert.equal(cpuPercent(10, 5, 1e9), 0, 'a counter that went back (a restarted container) is not negative');
  assert.equal(cpuPercent(0, 1e9, 0), 0);
  assert.equal(cpuPercent(NaN, 1e9, 1e9), 0);
});

test("CPU percent the engine's way: container delta over system delta times online CPUs", () => {
  // 2 CPUs, 1 s of wall time = 2e9 ns of system time; the container used 1e9 ns: one full core.
  assert.equal(cpuPercentFromSystem(1e9, 2e9, 2), 100);
  assert.equal(cpuPercentFromSystem(0, 2e9, 2), 0);
  assert.equal(cpuPercentFromSystem(1e9, 0, 2), 0);
});

test('memory without cache: usage minus total_inactive_file (v1) or inactive_file (v2), never below zero', () => {
  assert.equal(memoryWithoutCache(100_000, { total_inactive_file: 30_000, inactive_file: 1 }), 70_000);
  assert.equal(memoryWithoutCache(100_000, { inactive_file: 40_000 }), 60_000);
  assert.equal(memoryWithoutCache(100_000, { total_inactive_file: 200_000 }), 100_000);
  assert.equal(memoryWithoutCache(100_000, {}), 100_000);
});

test('the limit: the cgroup one, or the machine memory when there is none or it is bigger', () => {
  const machine = 8 * 1024 ** 3;
  assert.equal(effectiveLimit(64 * 1024 ** 2, machine), 64 * 1024 ** 2);
  assert.equal(effectiveLimit(9223372036854771712, machine), machine);
  assert.equal(effectiveLimit(Infinity, machine), machine);
  assert.equal(effectiveLimit(Infinity, 0), 0);
  assert.equal(memoryPercent(50, 200), 25);
  assert.equal(memoryPercent(50, 0), 0);
});

test('parsers for the kernel files', () => {
  assert.deepEqual(parseFlatKeyed('cache 4096\ntotal_inactive_file 8192\n\nbogus\n'), { cache: 4096, total_inactive_file: 8192 });
  assert.equal(parseNumber('max\n'), Infinity);
  assert.equal(parseNumber('123\n'), 123);
  assert.deepEqual(parseBlkioV1('8:0 Read 4096\n8:0 Write 512\n8:0 Sync 1\n8:16 Read 100\n8:0 Total 4608\nTotal 4708\n'), { read: 4196, write: 512 });
  assert.deepEqual(parseBlkioV1('Total 0\n'), { read: 0, write: 0 });
  assert.deepEqual(parseIoStatV2('8:0 rbytes=4096 wbytes=1024 rios=1 wios=2 dbytes=0 dios=0\n259:0 rbytes=1 wbytes=2\n'), { read: 4097, write: 1026 });
  const netDev = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:  9999       9    0    0    0     0          0         0     9999       9    0    0    0     0       0          0',
    '  eth0:     796      10    0    0    0     0          0         0      120       2    0    0    0     0       0          0',
    '  eth1:       4       1    0    0    0     0          0         0        6       1    0    0    0     0       0          0',
  ].join('\n');
  assert.deepEqual(parseNetDev(netDev), { rx: 800, tx: 126 });
  assert.equal(parseMemTotal('MemTotal:       24684084 kB\nMemFree: 1 kB\n'), 24684084 * 1024);
});

test('mountinfo: v1 controllers on a hybrid host (v1 wins), pure v2, and none', () => {
  const hybrid = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
    '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const layout = parseMountinfo(hybrid)!;
  assert.equal(layout.version, 1);
  assert.equal(layout.v1.cpuacct!.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(layout.v1.memory!.mountPoint, '/sys/fs/cgroup/memory');
  assert.equal(layout.v1.pids!.mountPoint, '/sys/fs/cgroup/pids');
  const v2 = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n')!;
  assert.equal(v2.version, 2);
  assert.equal(v2.v2!.mountPoint, '/sys/fs/cgroup');
  assert.equal(parseMountinfo('22 1 8:1 / / rw - ext4 /dev/sda1 rw\n'), undefined);
  const spaced = parseMountinfo('30 23 0:26 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n')!;
  assert.equal(spaced.v2!.mountPoint, '/mnt/my cgroups');
});

test('container cgroup paths: cgroupfs and systemd drivers, and from /proc/PID/cgroup', () => {
  assert.deepEqual(candidateCgroupPaths('abc'), ['/docker/abc', '/system.slice/docker-abc.scope']);
  const v1 = '9:name=systemd:/docker/abc\n8:pids:/docker/abc\n2:cpu,cpuacct:/custom/abc\n0::/\n';
  assert.equal(cgroupPathFromProc(v1, 1), '/custom/abc');
  assert.equal(cgroupPathFromProc('0::/system.slice/docker-abc.scope\n', 2), '/system.slice/docker-abc.scope');
  assert.equal(cgroupPathFromProc('garbage', 2), undefined);
});

test("the engine's stats document, read with docker's formulas", () => {
  const doc = {
    read: '2026-11-28T15:00:01.000000000Z',
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
    memory_stats: { usage: 10_000_000, limit: 67_108_864, stats: { total_inactive_file: 2_000_000 } },
    networks: { eth0: { rx_bytes: 100, tx_bytes: 10 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'write', value: 8 }, { op: 'Total', value: 4104 }] },
    pids_stats: { current: 3 },
  };
  const s = parseEngineStats(doc);
  assert.equal(s.memoryBytes, 8_000_000);
  assert.equal(s.memoryLimitBytes, 67_108_864);
  assert.equal(s.netRxBytes, 101);
  assert.equal(s.netTxBytes, 12);
  assert.equal(s.blockReadBytes, 4096);
  assert.equal(s.blockWriteBytes, 8);
  assert.equal(s.pids, 3);
  assert.equal(s.onlineCpus, 2);
  // Between the previous and this sample: 1e9 ns of CPU over 2e9 ns of system time on 2 CPUs = one core.
  assert.equal(engineCpuPercent({ cpuTotalNs: 2e9, systemNs: 18e9, readAt: 0 }, s), 100);
  // Without system time (some engines): by the read timestamps.
  const noSystem = { ...s, systemNs: undefined };
  assert.equal(Math.round(engineCpuPercent({ cpuTotalNs: 2.5e9, systemNs: undefined, readAt: s.readAt - 1000 }, noSystem)), 50);
  // online_cpus missing: the per-CPU list's length.
  assert.equal(parseEngineStats({ cpu_stats: { cpu_usage: { total_usage: 1, percpu_usage: [1, 2, 3, 4] } } }).onlineCpus, 4);
  // An empty document (a container that just stopped) reads as zeros, not NaN.
  const empty = parseEngineStats({});
  assert.equal(empty.memoryBytes, 0);
  assert.equal(empty.pids, 0);
});

test('sorting: cpu and mem biggest first with ties by name, name ascending', () => {
  const rows = [
    { name: 'b', cpuPercent: 5, memoryBytes: 10 },
    { name: 'a', cpuPercent: 5, memoryBytes: 30 },
    { name: 'c', cpuPercent: 90, memoryBytes: 20 },
  ];
  assert.deepEqual(sortStats(rows, 'cpu').map((r) => r.name), ['c', 'a', 'b']);
  assert.deepEqual(sortStats(rows, 'mem').map((r) => r.name), ['a', 'c', 'b']);
  assert.deepEqual(sortStats(rows, 'name').map((r) => r.name), ['a', 'b', 'c']);
  assert.deepEqual(rows.map((r) => r.name), ['b', 'a', 'c'], 'the input is left alone');
});

test('sizes as docker prints them: decimal for I/O, binary for memory', () => {
  assert.equal(formatDecimalBytes(0), '0B');
  assert.equal(formatDecimalBytes(796), '796B');
  assert.equal(formatDecimalBytes(1532), '1.53kB');
  assert.equal(formatDecimalBytes(45_600_000), '45.6MB');
  assert.equal(formatBinaryBytes(593_920), '580KiB');
  assert.equal(formatBinaryBytes(64 * 1024 * 1024), '64MiB');
  assert.equal(formatBinaryBytes(25_276_502_016), '23.5GiB');
  assert.equal(formatBinaryBytes(-1), '-');
});

test('API version comparison and the --json row shape', () => {
  assert.ok(apiAtLeast('1.41', '1.41'));
  assert.ok(apiAtLeast('1.45', '1.41'));
  assert.ok(!apiAtLeast('1.40', '1.41'));
  const row = toJsonRow({
    name: 'n', id: 'i', cpuPercent: 12.3456, memoryBytes: 1, memoryLimitBytes: 2, netRxBytes: 3, netTxBytes: 4,
    blockReadBytes: 5, blockWriteBytes: 6, pids: 7, source: 'cgroup',
  } as any);
  assert.equal(row.cpuPercent, 12.35);
  assert.ok(!('source' in row));
});

test('names are matched in one list the way the engine resolves them: full id, name, unique id prefix', () => {
  const c = (id: string, name: string) => ({ id, names: [name], image: '', imageId: '', command: '', created: 0, state: 'running' as const, status: '', labels: {} });
  const list = [c('abc111' + '0'.repeat(58), 'web'), c('abc222' + '0'.repeat(58), 'db'), c('fff000' + '0'.repeat(58), 'abc111')];
  assert.equal(matchReference(list, list[1]!.id)?.names[0], 'db');
  assert.equal(matchReference(list, 'web')?.names[0], 'web');
  assert.equal(matchReference(list, '/web')?.names[0], 'web');
  // A name wins over an id prefix that it also is (as in docker).
  assert.equal(matchReference(list, 'abc111')?.names[0], 'abc111');
  assert.equal(matchReference(list, 'abc2')?.names[0], 'db');
  assert.equal(matchReference(list, 'abc'), undefined, 'ambiguous: left to resolveContainer for its error');
  assert.equal(matchReference(list, 'nope'), undefined);
});

function fakeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'porthole-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('cgroup v2 files (systemd driver path): CPU, memory without inactive_file, max, io.stat, pids', () => {
  const id = 'c'.repeat(64);
  const dir = `system.slice/docker-${id}.scope`;
  const root = fakeTree({
    [`${dir}/cpu.stat`]: 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n',
    [`${dir}/memory.current`]: '10485760\n',
    [`${dir}/memory.stat`]: 'anon 4194304\nfile 6291456\ninactive_file 4194304\nactive_file 2097152\n',
    [`${dir}/memory.max`]: 'max\n',
    [`${dir}/io.stat`]: '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    [`${dir}/pids.current`]: '3\n',
    [`${dir}/cgroup.procs`]: '4242\n4243\n',
  });
  try {
    const layout = { version: 2 as const, v1: {}, v2: { mountPoint: root, root: '/' } };
    const cg = findContainerCgroup(layout, id)!;
    assert.ok(cg, 'not found at system.slice/docker-ID.scope');
    assert.equal(readCpuNs(cg), 2_500_000_000);
    const f = readFigures(cg, 8 * 1024 ** 3)!;
    assert.equal(f.memoryBytes, 10485760 - 4194304);
    assert.equal(f.memoryLimitBytes, 8 * 1024 ** 3, 'max means the machine memory');
    assert.deepEqual([f.blockReadBytes, f.blockWriteBytes, f.pids, f.anyPid], [4096, 8192, 3, 4242]);
    // The cgroupfs driver's path on v2 is found too.
    const other = fakeTree({ [`docker/${id}/cpu.stat`]: 'usage_usec 1\n' });
    try {
      assert.ok(findContainerCgroup({ version: 2, v1: {}, v2: { mountPoint: other, root: '/' } }, id));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    assert.equal(findContainerCgroup(layout, 'd'.repeat(64)), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cgroup v1 files: cpuacct, memory without total_inactive_file, limit, throttle blkio, pids', () => {
  const id = 'a'.repeat(64);
  const root = fakeTree({
    [`cpuacct/docker/${id}/cpuacct.usage`]: '123456789\n',
    [`memory/docker/${id}/memory.usage_in_bytes`]: '8388608\n',
    [`memory/docker/${id}/memory.stat`]: 'cache 2097152\ntotal_inactive_file 1048576\n',
    [`memory/docker/${id}/memory.limit_in_bytes`]: '67108864\n',
    [`blkio/docker/${id}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 100\n8:0 Write 50\n8:0 Total 150\nTotal 150\n',
    [`blkio/docker/${id}/blkio.io_service_bytes_recursive`]: 'Total 0\n',
    [`pids/docker/${id}/pids.current`]: '2\n',
    [`pids/docker/${id}/cgroup.procs`]: '77\n',
  });
  try {
    const mount = (c: string) => ({ mountPoint: join(root, c), root: '/' });
    const layout = { version: 1 as const, v1: { cpuacct: mount('cpuacct'), memory: mount('memory'), blkio: mount('blkio'), pids: mount('pids') } };
    const cg = findContainerCgroup(layout, id)!;
    assert.equal(readCpuNs(cg), 123456789);
    const f = readFigures(cg, 8 * 1024 ** 3)!;
    assert.equal(f.memoryBytes, 8388608 - 1048576);
    assert.equal(f.memoryLimitBytes, 67108864);
    assert.deepEqual([f.blockReadBytes, f.blockWriteBytes, f.pids, f.anyPid], [100, 50, 2, 77]);
    // A cgroup that went away between the readings reads as gone, not as zeros.
    rmSync(join(root, 'memory'), { recursive: true });
    assert.equal(readFigures(cg, 1), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
