// porthole which HOSTPID on real processes: one inside a container (init, child, docker exec'd), the runtime
// shim, a host process, a PID that does not exist, and words that are not PIDs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { containerFingerprint, docker, ensureBusyboxImage, ensureStaticImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { containerId, insidePs, leftoversAfterLooking, procStatusField, statePid, waitFor } from '../support/procs.js';

const EVIL = 'tag\x1b]0;pwned\x07\nline';
const target = uniqueName('which');
const execTarget = uniqueName('which-exec');
const threaded = uniqueName('which-threads');
let fingerprint: ReturnType<typeof containerFingerprint>;
let childPid = 0;

function hostPidOf(name: string, args: string): number {
  const line = docker(['top', name, '-o', 'pid,args']).split('\n').find((l) => l.trim().endsWith(args));
  return Number(line?.trim().split(/\s+/)[0] ?? 0);
}

before(async () => {
  ensureBusyboxImage();
  runContainer(target, [], undefined, ['sh', '-c', 'sleep 1000 & wait', EVIL]);
  runContainer(execTarget, [], undefined, ['sleep', '1000']);
  await waitFor('the child sleep', () => (childPid = hostPidOf(target, 'sleep 1000')) > 0);
  fingerprint = containerFingerprint(target);
});

after(() => removeContainers(target, execTarget, threaded));

test('which on a process inside a container: the container, its PID inside, its command', async () => {
  const r = await porthole(['which', String(childPid), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(answer).sort(), ['argv', 'command', 'container', 'containerId', 'hostPid', 'initHostPid', 'pid', 'role', 'stat', 'state', 'thread', 'uid', 'user'].sort());
  assert.equal(answer.container, target);
  assert.equal(answer.containerId, containerId(target));
  assert.equal(answer.role, 'process');
  assert.equal(answer.hostPid, childPid);
  assert.equal(answer.initHostPid, statePid(target));
  const nsPid = procStatusField(childPid, 'NSpid').split(/\s+/).map(Number);
  assert.equal(answer.pid, nsPid[nsPid.length - 1]);
  assert.equal(insidePs(target).get(answer.pid), 'sleep 1000', 'ps inside the container shows the same PID');
  assert.equal(answer.command, 'sleep 1000');
  assert.deepEqual(answer.argv, ['sleep', '1000']);
  assert.equal(answer.state, 'sleeping');
  assert.equal(answer.thread, null);

  const human = await porthole(['which', String(childPid)]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^PID ${childPid} is PID ${answer.pid} in container ${target} \\(${answer.containerId.slice(0, 12)}\\)\\.\nCommand: sleep 1000\n`));
});

test('which on the init: PID 1, its command line exact in JSON and escaped for the terminal', async () => {
  const init = statePid(target);
  const r = await porthole(['which', String(init), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.role, 'init');
  assert.equal(answer.pid, 1);
  assert.deepEqual(answer.argv, ['sh', '-c', 'sleep 1000 & wait', EVIL]);
  const human = await porthole(['which', String(init)]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /is PID 1 in container .*, its init\./);
  assert.ok(human.stdout.includes('Command: sh -c sleep 1000 & wait tag\\e]0;pwned\\x07\\nline\n'));
  assert.doesNotMatch(human.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
});

test('which on a docker exec\'d process: in the container, though its parent is the shim', async () => {
  docker(['exec', '-d', execTarget, 'sleep', '999']);
  let execPid = 0;
  await waitFor('the exec\'d sleep', () => (execPid = hostPidOf(execTarget, 'sleep 999')) > 0);
  assert.equal(Number(procStatusField(execPid, 'PPid')), Number(procStatusField(statePid(execTarget), 'PPid')), 'the shim parents it');
  const r = await porthole(['which', String(execPid), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.container, execTarget);
  assert.equal(answer.role, 'process');
  assert.equal(answer.command, 'sleep 999');
  assert.notEqual(answer.pid, 1);
});

test('which on a thread id (top -H, strace -f): answers for its process, and says which thread', async () => {
  // A static program whose second thread sleeps beside the main one.
  const image = ensureStaticImage('porthole-fixture/threads:1', `
#include <pthread.h>
#include <unistd.h>
static void *nap(void *arg) { (void)arg; for (;;) pause(); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, nap, 0); for (;;) pause(); }
`);
  runContainer(threaded, [], image);
  const init = statePid(threaded);
  let tids: number[] = [];
  await waitFor('the second thread', () => (tids = readdirSync(`/proc/${init}/task`).map(Number).filter((t) => t !== init)).length === 1);
  const r = await porthole(['which', String(tids[0]), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.hostPid, init);
  assert.equal(answer.pid, 1);
  assert.equal(answer.role, 'init');
  assert.equal(answer.container, threaded);
  assert.equal(answer.thread.hostTid, tids[0]);
  const threadNsPid = Number(procStatusField(tids[0]!, 'NSpid').split(/\s+/).at(-1));
  assert.ok(threadNsPid > 1);
  assert.equal(answer.thread.tid, threadNsPid, 'the thread\'s id in the container\'s PID namespace');
  const human = await porthole(['which', String(tids[0])]);
  assert.match(human.stdout, new RegExp(`^PID ${tids[0]} is a thread \\(${threadNsPid} inside\\) of PID ${init}\\.\nPID ${init} is PID 1 in container ${threaded} `));
  const shim = Number(procStatusField(init, 'PPid'));
  const shimThread = readdirSync(`/proc/${shim}/task`).map(Number).find((t) => t !== shim)!;
  const viaShimThread = JSON.parse((await porthole(['which', String(shimThread), '--json'])).stdout);
  assert.equal(viaShimThread.role, 'shim');
  assert.deepEqual(viaShimThread.thread, { hostTid: shimThread, tid: null });
});

test('which on the runtime shim: named as the shim of its container', async () => {
  const init = statePid(target);
  const shim = Number(procStatusField(init, 'PPid'));
  assert.match(readFileSync(`/proc/${shim}/cmdline`, 'utf8'), /containerd-shim/);
  const r = await porthole(['which', String(shim), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.role, 'shim');
  assert.equal(answer.pid, null);
  assert.equal(answer.container, target);
  assert.equal(answer.initHostPid, init);
  const human = await porthole(['which', String(shim)]);
  assert.match(human.stdout, new RegExp(`^PID ${shim} is the runtime shim of container ${target} \\([0-9a-f]{12}\\): it runs outside the container`));
});

test('which on the host\'s PID 1 and on porthole\'s own parent: not in any container, exit 1', async () => {
  for (const pid of [1, process.pid]) {
    const r = await porthole(['which', String(pid)]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^porthole: PID ${pid} \\(.+\\) is not in any container: it is a process of the host\\.\n$`));
  }
  const json = await porthole(['which', '1', '--json']);
  assert.equal(json.code, 1);
  assert.equal(json.stdout, '');
});

test('which on a PID that does not exist: exit 3; on words that are not PIDs: exit 2', async () => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  let missing = pidMax - 1;
  while (existsSync(`/proc/${missing}`)) missing--;
  const r = await porthole(['which', String(missing)]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`^porthole: No process with PID ${missing} on this host\\.`));
  // a whole number past any PID Linux gives is no such process (3), not a bad word
  const huge = await porthole(['which', '99999999']);
  assert.equal(huge.code, 3, huge.stderr);
  assert.match(huge.stderr, /^porthole: No process with PID 99999999 on this host: PIDs go up to 4194304 at most\./);
  for (const word of ['abc', '0', '12x', '1e3']) {
    const bad = await porthole(['which', word]);
    assert.equal(bad.code, 2, `${word}: ${bad.stderr}`);
    assert.match(bad.stderr, /is not a process id/);
  }
  assert.equal((await porthole(['which', '-5'])).code, 2);
  const none = await porthole(['which']);
  assert.equal(none.code, 2);
});

test('looking changed nothing, and porthole left nothing behind', async () => {
  assert.deepEqual(containerFingerprint(target), fingerprint);
  assert.deepEqual(await leftoversAfterLooking([target, execTarget].map(containerId)), []);
});
