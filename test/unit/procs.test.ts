import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ProcessTable,
  containerIdsInCgroup,
  containerRows,
  containerTree,
  cpuPercentBetween,
  engineTopForest,
  engineTopRows,
  findContainerInits,
  flattenForest,
  formatStart,
  hasHostView,
  lifetimeCpuPercent,
  parseCmdline,
  parseEngineTop,
  parseStat,
  parseStatus,
  placePid,
  statFlags,
} from '../../src/procs/index.js';
import { parsePasswd } from '../../src/procs/parse.js';
import { ID_A, ID_B, fakeProc, sampleHost } from '../support/procs.js';

test('parseStat splits after the last parenthesis, so odd names survive', () => {
  const line = '4242 (evil) S 1 (x) R 7 8 9 0 -1 4194560 1 2 3 4 55 66 0 0 20 -5 3 0 12345 999 77 0\n';
  const s = parseStat(line)!;
  assert.equal(s.pid, 4242);
  assert.equal(s.comm, 'evil) S 1 (x');
  assert.equal(s.state, 'R');
  assert.equal(s.ppid, 7);
  assert.equal(s.pgrp, 8);
  assert.equal(s.session, 9);
  assert.equal(s.tpgid, -1);
  assert.equal(s.utimeTicks, 55);
  assert.equal(s.stimeTicks, 66);
  assert.equal(s.nice, -5);
  assert.equal(s.threads, 3);
  assert.equal(s.startTicks, 12345);
  assert.equal(s.rssPages, 77);
  assert.equal(parseStat('garbage'), undefined);
  assert.equal(parseStat('12 (short) S 1 2'), undefined);
});

test('parseStatus reads uid, NSpid (outermost first), VmRSS and VmLck', () => {
  const s = parseStatus('Name:\tsleep\nTgid:\t9300\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t9305\t57\t7\nVmLck:\t       8 kB\nVmRSS:\t    1380 kB\n');
  assert.deepEqual(s, { uid: 1000, tgid: 9300, nsPids: [9305, 57, 7], rssBytes: 1380 * 1024, lockedBytes: 8192 });
  const zombie = parseStatus('Name:\ttrue\nState:\tZ (zombie)\nUid:\t0\t0\t0\t0\nNSpid:\t925\t9\n');
  assert.equal(zombie.rssBytes, null);
});

test('parseCmdline keeps every argument exactly, control characters included', () => {
  assert.deepEqual(parseCmdline(Buffer.from('sh\0-c\0echo hi\0evil\x1b[31m\nrow\0')), ['sh', '-c', 'echo hi', 'evil\x1b[31m\nrow']);
  assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
  assert.deepEqual(parseCmdline(Buffer.from('nginx: master process')), ['nginx: master process']);
});

test('containerIdsInCgroup finds ids in the cgroup layouts of docker, systemd, podman, containerd and nesting', () => {
  const id = 'f'.repeat(64);
  const other = '0123456789abcdef'.repeat(4);
  assert.deepEqual(containerIdsInCgroup(`12:pids:/docker/${id}\n0::/docker/${id}\n`), [id]);
  assert.deepEqual(containerIdsInCgroup(`0::/system.slice/docker-${id}.scope\n`), [id]);
  assert.deepEqual(containerIdsInCgroup(`0::/machine.slice/libpod-${id}.scope/container\n`), [id]);
  assert.deepEqual(containerIdsInCgroup(`0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-${id}.scope\n`), [id]);
  assert.deepEqual(containerIdsInCgroup(`0::/docker/${id}/docker/${other}\n`), [id, other]);
  assert.deepEqual(containerIdsInCgroup('9:name=systemd:/\n4:memory:/process_api/e3f2164b22d3a647c78515c3e3be2c80\n0::/\n'), []);
  // 64 hex digits that run on into more are not an id.
  assert.deepEqual(containerIdsInCgroup(`0::/x/${id}0\n`), []);
});

test('statFlags builds ps STAT letters like procps', () => {
  const base = { pid: 10, state: 'S', nice: 0, session: 3, threads: 1, pgrp: 10, tpgid: -1 };
  assert.equal(statFlags(base), 'S');
  assert.equal(statFlags({ ...base, session: 10 }), 'Ss');
  assert.equal(statFlags({ ...base, threads: 12 }), 'Sl');
  assert.equal(statFlags({ ...base, tpgid: 10 }), 'S+');
  assert.equal(statFlags({ ...base, nice: -10 }), 'S<');
  assert.equal(statFlags({ ...base, nice: 5 }), 'SN');
  assert.equal(statFlags({ ...base, state: 'Z' }), 'Z');
  assert.equal(statFlags({ ...base, session: 10, threads: 2, tpgid: 10 }, 4096), 'SLsl+');
});

test('formatStart shows HH:MM today, MonDD this year, the year before that', () => {
  const now = new Date(2026, 10, 28, 15, 30).getTime();
  assert.equal(formatStart(new Date(2026, 10, 28, 9, 5).getTime(), now), '09:05');
  assert.equal(formatStart(new Date(2026, 10, 27, 23, 59).getTime(), now), 'Nov27');
  assert.equal(formatStart(new Date(2026, 0, 3).getTime(), now), 'Jan03');
  assert.equal(formatStart(new Date(2025, 11, 31).getTime(), now), '2025');
});

test('CPU percent: lifetime average like ps, and sampled between two readings', () => {
  // 50 ticks (0.5 s) of CPU over 10 s alive = 5 %.
  assert.equal(lifetimeCpuPercent(50, 99_000, 1000, 100), 5);
  assert.equal(lifetimeCpuPercent(10, 100_000, 1000, 100), 0); // started this very tick
  assert.equal(lifetimeCpuPercent(250, 0, 1, 100), 250); // several CPUs
  assert.equal(cpuPercentBetween(100, 150, 1000, 100), 50);
  assert.equal(cpuPercentBetween(100, 90, 1000, 100), 0);
});

test('flattenForest draws the tree exactly as ps f does', () => {
  type N = { name: string; kids: N[] };
  const n = (name: string, ...kids: N[]): N => ({ name, kids });
  // As ps faux drew it here for a shim with an init and a `docker exec`'d process: the init's branch line runs on.
  const forest = [n('shim', n('init', n('a', n('a1'), n('a2')), n('b', n('b1'))), n('exec'))];
  const drawn = flattenForest(forest, (x) => x.kids).map((r) => r.prefix + r.item.name);
  assert.deepEqual(drawn, [
    'shim',
    ' \\_ init',
    ' |   \\_ a',
    ' |   |   \\_ a1',
    ' |   |   \\_ a2',
    ' |   \\_ b',
    ' |       \\_ b1',
    ' \\_ exec',
  ]);
  assert.deepEqual(flattenForest(forest, (x) => x.kids).map((r) => r.depth), [0, 1, 2, 3, 3, 2, 3, 1]);
});

test('parsePasswd maps uids to the first name', () => {
  const users = parsePasswd('root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/:/bin/false\ntoor:x:0:0::/:/bin/sh\nbroken\n');
  assert.equal(users.get(0), 'root');
  assert.equal(users.get(33), 'www-data');
  assert.equal(users.size, 2);
});

test('ProcessTable reads a procfs and builds a container tree rooted at the shim', (t) => {
  const proc = fakeProc(sampleHost(), { uptime: 1000, btime: 1_700_000_000 });
  t.after(proc.remove);
  const table = ProcessTable.read({ procRoot: proc.root, passwdPath: '/nonexistent' });
  assert.deepEqual(table.pids(), [1, 50, 900, 910, 920, 921, 925, 930, 940, 1000, 1010, 1011]);
  assert.deepEqual(table.children(910), [920, 921]);
  assert.ok(hasHostView(table, ID_A, 910));
  assert.ok(!hasHostView(table, ID_A, 1010), 'a PID in another container is not this one');
  assert.ok(!hasHostView(table, ID_A, 4242), 'a PID that does not exist here');
  assert.ok(!hasHostView(table, ID_A, 0));

  const tree = containerTree(table, ID_A, 910)!;
  assert.equal(tree.shim?.hostPid, 900);
  assert.deepEqual(tree.processes.map((n) => n.process.hostPid), [910, 930], 'init and the exec\'d shell, not container B');
  const { rows, prefixes } = containerRows('web', tree);
  assert.deepEqual(rows.map((r) => [r.hostPid, r.pid, r.ppid, r.role, r.depth]), [
    [900, null, null, 'shim', 0],
    [910, 1, 0, 'init', 1],
    [920, 7, 1, 'process', 2],
    [925, 9, 7, 'process', 3],
    [921, 8, 1, 'process', 2],
    [930, 12, 0, 'process', 1],
    [940, 13, 12, 'process', 2], // the container's PID for it, not the 1 of its nested namespace
  ]);
  assert.deepEqual(prefixes, ['', ' \\_ ', ' |   \\_ ', ' |   |   \\_ ', ' |   \\_ ', ' \\_ ', '     \\_ ']);
  const zombie = rows.find((r) => r.hostPid === 925)!;
  assert.equal(zombie.state, 'zombie');
  assert.equal(zombie.stat, 'Zs');
  assert.equal(zombie.command, '[true] <defunct>');
  assert.deepEqual(zombie.argv, []);
  const init = rows[1]!;
  assert.equal(init.cpuPercent, lifetimeCpuPercent(50, 510, 1000, 100));
  assert.equal(init.startTime, new Date((1_700_000_000 + 5.1) * 1000).toISOString());
  assert.equal(rows[2]!.user, '1000', 'a uid the passwd file does not name shows as the number');
  assert.equal(rows[0]!.container, 'web');
  assert.equal(rows[0]!.containerId, ID_A);
});

test('readAround reads only the shim and its descendants, with the same tree as a full read', (t) => {
  const proc = fakeProc(sampleHost());
  t.after(proc.remove);
  const partial = ProcessTable.readAround([910], { procRoot: proc.root });
  assert.deepEqual(partial.pids(), [900, 910, 920, 921, 925, 930, 940]);
  const full = ProcessTable.read({ procRoot: proc.root });
  const strip = (table: ProcessTable) => containerRows('x', containerTree(table, ID_A, 910)!).rows;
  assert.deepEqual(strip(partial), strip(full));
});

test('findContainerInits finds each container\'s topmost process from its id alone', (t) => {
  const proc = fakeProc(sampleHost());
  t.after(proc.remove);
  const table = ProcessTable.read({ procRoot: proc.root });
  const inits = findContainerInits(table, [ID_A, ID_B, 'c'.repeat(64)]);
  assert.equal(inits.get(ID_A), 910, 'the init, not the later exec\'d shell beside it');
  assert.equal(inits.get(ID_B), 1010);
  assert.equal(inits.has('c'.repeat(64)), false);
});

test('findContainerInits also works without a recognisable shim (full cgroup scan)', (t) => {
  const host = sampleHost().map((p) => (p.pid === 1000 ? { ...p, comm: 'mystery-runtime' } : p));
  const proc = fakeProc(host);
  t.after(proc.remove);
  const inits = findContainerInits(ProcessTable.read({ procRoot: proc.root }), [ID_B]);
  assert.equal(inits.get(ID_B), 1010);
});

test('placePid tells container processes, shims, host processes and missing PIDs apart', (t) => {
  const proc = fakeProc(sampleHost());
  t.after(proc.remove);
  const table = ProcessTable.read({ procRoot: proc.root });
  assert.deepEqual(placePid(table, 920), { kind: 'in-container', containerIds: [ID_A] });
  assert.deepEqual(placePid(table, 900), { kind: 'parent-of-container', children: [{ containerId: ID_A, hostPid: 910 }, { containerId: ID_A, hostPid: 930 }] });
  assert.deepEqual(placePid(table, 50), { kind: 'host' });
  assert.deepEqual(placePid(table, 1), { kind: 'host' });
  assert.deepEqual(placePid(table, 31337), { kind: 'no-such-process' });
});

test('parseEngineTop reads our ps columns and the engine\'s default ps -ef columns', () => {
  const now = Date.UTC(2026, 10, 28, 15, 0, 0);
  const ours = parseEngineTop(
    {
      titles: ['PID', 'PPID', 'USER', '%CPU', 'RSS', 'ELAPSED', 'STAT', 'COMMAND'],
      processes: [
        ['9273', '9252', 'root', '1.5', '1516', '60', 'Ss', 'sh -c sleep 1000 & wait'],
        ['9305', '9273', 'root', '0.0', '1380', '59', 'S', 'sleep 1000'],
        ['9310', '9305', 'root', '0.0', '0', '10', 'Z', '[true] <defunct>'],
      ],
    },
    now,
  );
  assert.deepEqual(ours[0], { hostPid: 9273, hostPpid: 9252, user: 'root', cpuPercent: 1.5, rssBytes: 1516 * 1024, startTimeMs: now - 60_000, stat: 'Ss', command: 'sh -c sleep 1000 & wait' });
  const rows = engineTopRows('web', ID_A, 9273, ours);
  assert.deepEqual(rows.rows.map((r) => [r.hostPid, r.role, r.depth, r.state, r.pid, r.view]), [
    [9273, 'init', 0, 'sleeping', null, 'engine'],
    [9305, 'process', 1, 'sleeping', null, 'engine'],
    [9310, 'process', 2, 'zombie', null, 'engine'],
  ]);
  assert.deepEqual(rows.prefixes, ['', ' \\_ ', '     \\_ ']);

  const defaults = parseEngineTop(
    { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes: [['root', '12', '3', '0', '15:23', '?', '00:00:00', 'sleep 1000']] },
    now,
  );
  assert.deepEqual(defaults, [{ hostPid: 12, hostPpid: 3, user: 'root', cpuPercent: 0, rssBytes: null, startTimeMs: null, stat: null, command: 'sleep 1000' }]);
});

test('engineTopForest makes roots of rows whose parent is not listed', () => {
  const row = (hostPid: number, hostPpid: number) => ({ hostPid, hostPpid, user: 'r', cpuPercent: 0, rssBytes: 0, startTimeMs: 0, stat: 'S', command: '' });
  const { roots, children } = engineTopForest([row(30, 10), row(10, 5), row(20, 10), row(40, 99)]);
  assert.deepEqual(roots.map((r) => r.hostPid), [10, 40]);
  assert.deepEqual(children(roots[0]!).map((r) => r.hostPid), [20, 30]);
});

test('cmdlineBytes: each argument\'s exact bytes only when one is not UTF-8; shownCommand escapes them as \\xHH', async () => {
  const { cmdlineBytes } = await import('../../src/procs/parse.js');
  const { shownCommand } = await import('../../src/procs/format.js');
  assert.equal(cmdlineBytes(Buffer.from('sleep\u00001000\u0000')), undefined);
  assert.equal(cmdlineBytes(Buffer.from('caf\u00e9\u0000\u001b[31m\u0000')), undefined);
  const raw = Buffer.concat([Buffer.from('a\nb\u0000bad'), Buffer.from([0xff]), Buffer.from('\u0000\u0000x\u0000')]);
  const bytes = cmdlineBytes(raw)!;
  assert.deepEqual(bytes.map((b) => Buffer.from(b, 'base64').toString('latin1')), ['a\nb', 'bad\xff', '', 'x']);
  assert.equal(shownCommand({ command: 'ignored', argvBytes: bytes }), 'a\\nb bad\\xff  x');
  assert.equal(shownCommand({ command: '\x1b]0;t\x07 x' }), '\\e]0;t\\x07 x');
});
