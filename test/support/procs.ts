// A fake procfs in a temporary folder, for unit tests of src/procs without a real container: each process gets
// stat, status, cmdline, cgroup and task/PID/children written the way the kernel formats them.
import type { ProcessRow } from '../../src/procs/rows.js';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, portholeLeftovers } from './docker.js';

export interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  argv?: string[];
  state?: string;
  uid?: number;
  nsPids?: number[];
  /** e.g. `/docker/<id>`; written as cgroup v1 lines plus the v2 line. */
  cgroupPath?: string;
  utime?: number;
  stime?: number;
  startTicks?: number;
  threads?: number;
  session?: number;
  pgrp?: number;
  tpgid?: number;
  nice?: number;
  rssKiB?: number;
  pidNs?: string;
}

export function statLine(p: FakeProcess): string {
  const fields = [
    p.state ?? 'S', p.ppid, p.pgrp ?? p.pid, p.session ?? p.pid, 0, p.tpgid ?? -1, 4194560, 0, 0, 0, 0,
    p.utime ?? 0, p.stime ?? 0, 0, 0, 20, p.nice ?? 0, p.threads ?? 1, 0, p.startTicks ?? 100, 1000000,
    Math.round((p.rssKiB ?? 0) / 4), 0, 0,
  ];
  return `${p.pid} (${p.comm}) ${fields.join(' ')}\n`;
}

/** Writes a procfs with these processes; uptime in seconds and boot time in unix seconds. Returns its root. */
export function fakeProc(processes: FakeProcess[], opts: { uptime?: number; btime?: number } = {}): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'porthole-fakeproc-'));
  writeFileSync(join(root, 'uptime'), `${opts.uptime ?? 1000}.00 1500.00\n`);
  writeFileSync(join(root, 'stat'), `cpu  1 2 3 4\nbtime ${opts.btime ?? 1_700_000_000}\nprocesses 99\n`);
  mkdirSync(join(root, 'self'));
  writeFileSync(join(root, 'self/stat'), '1 (self) S 0\n');
  mkdirSync(join(root, 'thread-self'));
  writeFileSync(join(root, 'thread-self/children'), '');
  for (const p of processes) {
    const dir = join(root, String(p.pid));
    mkdirSync(join(dir, 'task', String(p.pid)), { recursive: true });
    writeFileSync(join(dir, 'stat'), statLine(p));
    const uid = p.uid ?? 0;
    const status = [
      `Name:\t${p.comm}`,
      `State:\t${p.state ?? 'S'}`,
      `PPid:\t${p.ppid}`,
      `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
      `NSpid:\t${(p.nsPids ?? [p.pid]).join('\t')}`,
      ...(p.state === 'Z' ? [] : [`VmLck:\t       0 kB`, `VmRSS:\t    ${p.rssKiB ?? 0} kB`]),
      `Threads:\t${p.threads ?? 1}`,
    ];
    writeFileSync(join(dir, 'status'), status.join('\n') + '\n');
    writeFileSync(join(dir, 'cmdline'), p.argv?.length ? p.argv.join('\0') + '\0' : '');
    const cg = p.cgroupPath ?? '/';
    writeFileSync(join(dir, 'cgroup'), `9:name=systemd:${cg}\n4:memory:${cg}\n1:cpu:${cg}\n0::${cg}\n`);
    const children = processes.filter((c) => c.ppid === p.pid).map((c) => c.pid);
    writeFileSync(join(dir, 'task', String(p.pid), 'children'), children.length ? children.join(' ') + ' ' : '');
    mkdirSync(join(dir, 'ns'));
    symlinkSync(p.pidNs ?? 'pid:[4026531836]', join(dir, 'ns', 'pid'));
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export const ID_A = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8);
export const ID_B = 'b'.repeat(64);

/** A host like ps faux shows it: init, one shim for container A (init, two children, a zombie, an exec'd shell with a nested sandbox), one for B. */
export function sampleHost(): FakeProcess[] {
  const inA = `/docker/${ID_A}`;
  const inB = `/system.slice/docker-${ID_B}.scope`;
  return [
    { pid: 1, ppid: 0, comm: 'systemd', argv: ['/sbin/init'] },
    { pid: 50, ppid: 1, comm: 'dockerd', argv: ['/usr/bin/dockerd'] },
    { pid: 900, ppid: 1, comm: 'containerd-shim', argv: ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'moby', '-id', ID_A], threads: 10, startTicks: 500 },
    { pid: 910, ppid: 900, comm: 'sh', argv: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], nsPids: [910, 1], cgroupPath: inA, startTicks: 510, utime: 30, stime: 20 },
    { pid: 920, ppid: 910, comm: 'sleep', argv: ['sleep', '1000'], nsPids: [920, 7], cgroupPath: inA, startTicks: 520, uid: 1000 },
    { pid: 921, ppid: 910, comm: 'sleep', argv: ['sleep', '1000'], nsPids: [921, 8], cgroupPath: inA, startTicks: 520 },
    { pid: 925, ppid: 920, comm: 'true', state: 'Z', nsPids: [925, 9], cgroupPath: inA, startTicks: 530 },
    { pid: 930, ppid: 900, comm: 'sh', argv: ['sh'], nsPids: [930, 12], cgroupPath: inA, startTicks: 900 },
    // A sandbox nested inside the container (unshare -p): PID 13 in the container, 1 in its own namespace.
    { pid: 940, ppid: 930, comm: 'sandboxed', argv: ['sandboxed'], nsPids: [940, 13, 1], cgroupPath: inA, startTicks: 950 },
    { pid: 1000, ppid: 1, comm: 'containerd-shim', argv: ['/usr/bin/containerd-shim-runc-v2', '-id', ID_B], threads: 9 },
    { pid: 1010, ppid: 1000, comm: 'nginx', argv: ['nginx: master process'], nsPids: [1010, 1], cgroupPath: inB, startTicks: 600 },
    { pid: 1011, ppid: 1010, comm: 'nginx', argv: ['nginx: worker process'], nsPids: [1011, 2], cgroupPath: inB, startTicks: 601, uid: 33 },
  ];
}

// ---- helpers for the end-to-end tests of ps and which, on the real engine ----

/** The host PIDs `docker top` reports for a container (the engine's own answer, independent of porthole). */
export function dockerTopPids(name: string): number[] {
  const lines = docker(['top', name, '-eo', 'pid']).split('\n').slice(1);
  return lines.map((l) => Number(l.trim())).filter((n) => n > 0).sort((a, b) => a - b);
}

export function statePid(name: string): number {
  return Number(docker(['inspect', '-f', '{{.State.Pid}}', name]));
}

export function containerId(name: string): string {
  return docker(['inspect', '-f', '{{.Id}}', name]);
}

/** A host process's field from /proc/PID/status, e.g. PPid or NSpid. */
export function procStatusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1).trim() : '';
}

/** PID -> args as ps inside the container shows them (busybox ps), to check NSpid-derived PIDs against. */
export function insidePs(name: string): Map<number, string> {
  const out = docker(['exec', name, 'ps', '-o', 'pid,args']).split('\n').slice(1);
  const map = new Map<number, string>();
  for (const line of out) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) map.set(Number(m[1]), m[2]!);
  }
  return map;
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The JSON row shape `porthole ps --json` documents. */
export type PsRow = ProcessRow;

export const PS_ROW_KEYS = [
  'container', 'containerId', 'role', 'hostPid', 'pid', 'hostPpid', 'ppid', 'user', 'uid', 'cpuPercent', 'rssBytes',
  'startTime', 'state', 'stat', 'command', 'argv', 'depth', 'view',
];

/** Host PIDs of the zombie children of a host process, read from /proc. */
export function zombieChildren(hostPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' && Number(fields[1]) === hostPid) found.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/**
 * What porthole left on the engine, waiting up to `patienceMs` for it to go: other sessions (other test files run
 * at the same time on this engine) create and remove their own things meanwhile. ps and which create nothing,
 * so anything that stays is a leak, and anything labelled with one of `targetIds` as its target is ours at once.
 */
export async function leftoversAfterLooking(targetIds: string[], patienceMs = 15_000): Promise<string[]> {
  const targeted = () =>
    targetIds.flatMap((id) => docker(['ps', '-a', '-q', '--filter', 'label=io.porthole.owned=true', '--filter', `label=io.porthole.target=${id}`]).split('\n').filter(Boolean));
  if (targeted().length) return targeted();
  const until = Date.now() + patienceMs;
  for (;;) {
    const all = portholeLeftovers();
    if (!all.length || Date.now() > until) return all;
    await new Promise((r) => setTimeout(r, 500));
  }
}
