// porthole tool CONTAINER [--pid N | --match REGEX] -- PROGRAM: host programs run against a container's process,
// {} its host PID, on the real engine. Also the shell option bug of issue 16 (`shell C --cap-add X -- CMD`).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { BIN, hasCommand, porthole, portholeInTty, runProcess, spawnPorthole } from '../support/cli.js';
import { containerFingerprint, docker, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { containerId, procStatusField, statePid, waitFor } from '../support/procs.js';
import { runShellLess } from '../support/toolbox.js';

const target = uniqueName('host-tools-tool');
const writer = uniqueName('host-tools-writer');
const stopped = uniqueName('host-tools-stopped');
const shellLess = uniqueName('host-tools-sl');
const scratch = mkdtempSync(join(tmpdir(), 'host-tools-'));
let fingerprint: ReturnType<typeof containerFingerprint>;

/** Host PID of the container's process whose args are exactly `args` (docker top's view). */
function hostPidOf(name: string, args: string): number {
  const line = docker(['top', name, '-o', 'pid,args']).split('\n').find((l) => l.trim().endsWith(args));
  return Number(line?.trim().split(/\s+/)[0] ?? 0);
}

function pidInside(hostPid: number): number {
  return Number(procStatusField(hostPid, 'NSpid').split(/\s+/).at(-1));
}

before(async () => {
  ensureBusyboxImage();
  runContainer(target, [], undefined, ['sh', '-c', 'sleep 1001 & sleep 1002 & exec sleep 1000']);
  runContainer(writer, [], undefined, ['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
  docker(['create', '--name', stopped, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'true']);
  runShellLess(shellLess);
  await waitFor('both children', () => hostPidOf(target, 'sleep 1001') > 0 && hostPidOf(target, 'sleep 1002') > 0);
  fingerprint = containerFingerprint(target);
});

after(() => {
  removeContainers(target, writer, stopped, shellLess);
  rmSync(scratch, { recursive: true, force: true });
});

test('tool C -- cat /proc/{}/comm: the main process, its host PID in place of {}', async () => {
  const r = await porthole(['tool', target, '--', 'cat', '/proc/{}/comm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(`/proc/${statePid(target)}/comm`, 'utf8'));
  assert.equal(r.stdout, 'sleep\n');
  assert.equal(r.stderr, '');
  const echoed = await porthole(['tool', target, '--', 'echo', '{}', 'pid={}']);
  assert.equal(echoed.stdout, `${statePid(target)} pid=${statePid(target)}\n`);
});

test('tool C --match REGEX: the one process whose command line matches', async () => {
  const r = await porthole(['tool', target, '--match', 'sleep 100[1]$', '--', 'echo', '{}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Number(r.stdout), hostPidOf(target, 'sleep 1001'));
  // -m and the flags after the container name, closed by --, as `shell` takes them.
  const short = await porthole(['tool', target, '-m', '1002', '--', 'cat', '/proc/{}/cmdline']);
  assert.equal(short.code, 0, short.stderr);
  assert.equal(short.stdout, 'sleep\x001002\x00');
});

test('tool C --pid N: N is the PID inside the container, mapped to the host PID through NSpid', async () => {
  const host = hostPidOf(target, 'sleep 1002');
  const inside = pidInside(host);
  assert.notEqual(inside, host, 'the container has its own PID namespace');
  const r = await porthole(['tool', target, '--pid', String(inside), '--', 'echo', '{}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Number(r.stdout), host);
  const one = await porthole(['tool', '--pid', '1', target, '--', 'echo', '{}']);
  assert.equal(Number(one.stdout), statePid(target));
  const missing = await porthole(['tool', target, '--pid', '4000000', '--', 'echo', '{}']);
  assert.equal(missing.code, 3);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /has no process with PID 4000000\./);
});

test('tool C --match with several matches: lists them, runs nothing, exit 4', async () => {
  const marker = join(scratch, 'ran');
  const r = await porthole(['tool', target, '--match', 'sleep', '--', 'touch', marker]);
  assert.equal(r.code, 4);
  assert.equal(r.stdout, '');
  assert.equal(existsSync(marker), false, 'the program did not run');
  for (const args of ['sleep 1000', 'sleep 1001', 'sleep 1002']) {
    const host = hostPidOf(target, args);
    assert.ok(r.stderr.includes(`PID ${pidInside(host)} (host ${host}) ${args}`), r.stderr);
  }
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one sentence');
  const none = await porthole(['tool', target, '--match', 'nginx', '--', 'true']);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /No process of .* has a command line matching "nginx"\./);
});

test("tool passes the program's exit code, stdin and stdout through", async () => {
  const seven = await porthole(['tool', target, '--', 'sh', '-c', 'exit 7']);
  assert.equal(seven.code, 7);
  assert.equal(seven.stderr, '');
  const cat = await porthole(['tool', target, '--', 'cat'], { input: 'through stdin\n' });
  assert.equal(cat.code, 0);
  assert.equal(cat.stdout, 'through stdin\n');
  const killed = await porthole(['tool', target, '--', 'sh', '-c', 'kill -TERM $$']);
  assert.equal(killed.code, 128 + 15);
});

test('SIGTERM or SIGINT sent to porthole alone reaches the program, whose status porthole exits with', async () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    const child = spawnPorthole(['tool', target, '--', 'sleep', '30']);
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    let programPid = 0;
    await waitFor('the program', () => (programPid = Number(spawnSync('pgrep', ['-P', String(child.pid), '-x', 'sleep']).stdout.toString().trim())) > 0);
    child.kill(signal);
    assert.equal(await closed, code);
    assert.equal(existsSync(`/proc/${programPid}`), false, 'the program ended with porthole');
  }
});

test('tool in a terminal: the program gets the terminal itself', async () => {
  const r = await portholeInTty(['tool', target, '--', 'sh', '-c', 'tty; exit 3'], '');
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
});

test('a program not on the host: one sentence, 127 as in a shell', async () => {
  const r = await porthole(['tool', target, '--', 'no-such-program-xyz', '{}']);
  assert.equal(r.code, 127);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'porthole: no-such-program-xyz: no such program on this host. porthole runs host programs here: install it, or give its full path.\n');
});

test('bad uses are usage errors; a stopped container is named as such', async () => {
  const both = await porthole(['tool', target, '--pid', '1', '--match', 'x', '--', 'true']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--pid or --match, not both/);
  const nothing = await porthole(['tool', target, '--']);
  assert.equal(nothing.code, 2);
  const regex = await porthole(['tool', target, '--match', '(', '--', 'true']);
  assert.equal(regex.code, 2);
  const flagAsProgram = await porthole(['tool', target, '--pid', '1', 'echo', '{}']);
  assert.equal(flagAsProgram.code, 2);
  assert.match(flagAsProgram.stderr, /"--pid" after the container name would be the program to run/);
  const notRunning = await porthole(['tool', stopped, '--', 'echo', '{}']);
  assert.equal(notRunning.code, 6);
  assert.match(notRunning.stderr, /is not running, so it has no process for a host program to work on\./);
  const noSuch = await porthole(['tool', 'host-tools-no-such-container', '--', 'true']);
  assert.equal(noSuch.code, 3);
});

test("processes not visible here (porthole in another PID namespace): the program runs in a toolbox sidecar", { skip: !hasCommand('unshare') }, async () => {
  const elsewhere = (args: string[]) => runProcess('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, ...args]);
  const r = await elsewhere(['tool', target, '--', 'cat', '/proc/{}/comm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'sleep\n', "the main process's name, read from the sidecar sharing its PID namespace");
  assert.match(r.stderr, /^porthole: the processes of .* are not visible here \(a remote engine\): running cat in a toolbox sidecar that shares their PID namespace; \{\} is 1, the PID there\.\n$/);
  const inside = pidInside(hostPidOf(target, 'sleep 1002'));
  const byPid = await elsewhere(['tool', target, '--pid', String(inside), '--', 'sh', '-c', 'cat /proc/{}/cmdline; exit 9']);
  assert.equal(byPid.code, 9);
  assert.equal(byPid.stdout, 'sleep\x001002\x00');
  const missing = await elsewhere(['tool', target, '--', 'no-such-program-xyz', '-p', '{}']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /\nporthole: no-such-program-xyz: no such command in the container or in the toolbox; `porthole toolbox build --with no-such-program-xyz` adds it to porthole's toolbox\.\n$/);
  const match = await elsewhere(['tool', target, '--match', 'sleep', '--', 'true']);
  assert.equal(match.code, 6);
  assert.match(match.stderr, /--match needs them\. Give --pid N/);
  assert.deepEqual(leftoversFor(containerId(target)), [], 'the sidecars are gone');
});

test('strace -p {} shows the main process writing', { skip: !hasCommand('strace') || !hasCommand('timeout') }, async () => {
  const r = await porthole(['tool', writer, '--', 'timeout', '2', 'strace', '-p', '{}', '-e', 'trace=write', '-c']);
  assert.equal(r.code, 124, 'timeout ended strace, and its code came through');
  const row = r.stderr.split('\n').find((l) => /\swrite$/.test(l));
  assert.ok(row, r.stderr);
  const calls = Number(row.trim().split(/\s+/)[3]);
  assert.ok(calls >= 5, `about 10 writes a second, got ${calls}`);
  assert.match(r.stderr, new RegExp(`Process ${statePid(writer)} attached`));
});

test('lsof -p {} lists the main process', { skip: !hasCommand('lsof') }, async () => {
  const r = await porthole(['tool', target, '--', 'lsof', '-p', '{}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^sleep\\s+${statePid(target)}\\s`, 'm'));
});

test('shell C --cap-add X -- CMD: options after the container are options, no internal script error', async () => {
  const r = await porthole(['shell', shellLess, '--cap-add', 'SYS_PTRACE', '--', 'cat', '/proc/1/comm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), readFileSync(`/proc/${statePid(shellLess)}/comm`, 'utf8').trim());
  assert.doesNotMatch(r.stderr, /illegal option|line \d+/);
  const absent = await porthole(['shell', shellLess, '--cap-add', 'SYS_PTRACE', '--', 'strace', '-p', '1']);
  assert.equal(absent.code, 127);
  assert.equal(absent.stderr, "porthole: strace: no such command in the container or in the toolbox; `porthole toolbox build --with strace` adds it to porthole's toolbox.\n");
  const dashed = await porthole(['shell', shellLess, '--', '--weird']);
  assert.equal(dashed.code, 127);
  assert.equal(dashed.stderr, 'porthole: --weird: no such command in the container or in the toolbox.\n');
  const noSeparator = await porthole(['shell', shellLess, '--cap-add', 'SYS_PTRACE']);
  assert.equal(noSeparator.code, 2);
  assert.match(noSeparator.stderr, /"--cap-add" after the container name would be the program to run, not an option of porthole shell\./);
});

test('tool never changes the target', () => {
  assert.deepEqual(containerFingerprint(target), fingerprint);
});
