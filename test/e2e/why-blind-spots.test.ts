// `why` where the exit code alone misleads, on real containers: a start the engine refused (the program never
// ran), a child killed by the OOM killer while the main process exited on its own, an exit 2 whose output names a
// missing variable; and the debug copy of an OOM-killed container, which keeps its limits unless --no-limits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, docker, dockerStatus, ensureBusyboxImage, leftoversFor, removeContainers, uniqueName } from '../support/docker.js';
import { inspectState, waitFor } from '../support/crash.js';

const made: string[] = [];
before(() => ensureBusyboxImage());
after(() => removeContainers(...made));

function track(name: string): string {
  made.push(name);
  return name;
}

async function whyJson(name: string) {
  const r = await porthole(['why', name, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a start the engine refused (exit 128, never ran): the program never ran, and the engine says why', async () => {
  const name = track(uniqueName('flags-errors-refused'));
  const run = dockerStatus(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', '--device', '/dev/porthole-no-such-device', BUSYBOX_IMAGE, 'sleep', '5']);
  assert.notEqual(run.status, 0);
  assert.equal(inspectState(name).ExitCode, 128);
  const r = await porthole(['why', name]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created: it never started/);
  assert.match(r.stdout, /exit code 128: the program never ran: the engine could not start the container \(error gathering device information while adding custom device "\/dev\/porthole-no-such-device": no such file or directory\)/);
  assert.doesNotMatch(r.stdout, /reported a failure/);
  assert.doesNotMatch(r.stdout, /the engine said:/, 'the error is said once, in the headline');
  const report = await whyJson(name);
  assert.equal(report.happened.exitCode, 128);
  assert.match(report.happened.meaning, /the program never ran/);
});

test('a start the runtime refused (a file mounted over a folder): why still reports, and does not call it "command not found"', async () => {
  const name = track(uniqueName('flags-errors-mount'));
  const run = dockerStatus(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', '-v', '/etc/hostname:/bin', BUSYBOX_IMAGE, 'sleep', '5']);
  assert.notEqual(run.status, 0);
  const r = await porthole(['why', name]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exit code 12[78]: the program never ran: the engine could not start the container \(.*error mounting "\/etc\/hostname" to rootfs at "\/bin"/);
  assert.doesNotMatch(r.stdout, /the command was not found/);
  assert.deepEqual(leftoversFor(docker(['inspect', '-f', '{{.Id}}', name])), []);
});

test('a child OOM-killed while the main process exited on its own: says both', async (t) => {
  // tail buffers an endless line of zeros until the kernel kills it; the shell then exits 3. The engine's flag
  // comes from an event it can miss on cgroup v1, so a few containers are tried.
  let flagged: string | undefined;
  for (let attempt = 0; attempt < 4 && !flagged; attempt++) {
    const name = track(uniqueName('flags-errors-oom-child'));
    const run = dockerStatus(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', '--memory', '16m', '--memory-swap', '16m', BUSYBOX_IMAGE, 'sh', '-c', 'tail /dev/zero; echo "worker died: $?"; exit 3']);
    if (run.status !== 0 && /memory|cgroup|swap/i.test(run.stderr)) return t.skip(`the engine refuses a memory limit here: ${run.stderr.trim()}`);
    assert.equal(run.status, 0, run.stderr);
    await waitFor(name, (s) => s.Status === 'exited', 60000);
    const state = inspectState(name);
    assert.equal(state.ExitCode, 3);
    if (state.OOMKilled) flagged = name;
  }
  assert.ok(flagged, 'the engine never flagged the OOM kill in 4 tries');
  const r = await porthole(['why', flagged]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /a process inside was killed by the kernel's out-of-memory killer \(the container used more memory than it was allowed\), and the main process then exited with code 3/);
  assert.match(r.stdout, /its memory limit was 16\.0MiB/);
  assert.match(r.stdout, /worker died: 137/);
  const report = await whyJson(flagged);
  assert.equal(report.happened.oomKilled, true);
  assert.equal(report.happened.exitCode, 3);
  assert.equal(report.happened.signal, null);

  // its debug copy keeps the 16 MiB limit (and says so), so the crash happens again there; --no-limits lifts it
  const limit = 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes';
  const kept = await porthole(['shell', flagged, '--', 'sh', '-c', limit], { timeoutMs: 120000 });
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(kept.stdout.trim(), String(16 * 1024 * 1024));
  assert.match(kept.stderr, /porthole: the copy keeps .*'s limits \(memory 16\.0MiB\), so what killed it can happen again; --no-limits lifts them\./);
  const again = await porthole(['shell', flagged, '--', 'tail', '/dev/zero'], { timeoutMs: 120000 });
  assert.equal(again.code, 137, 'the copy is OOM-killed like the original: ' + again.stderr);
  const lifted = await porthole(['shell', '--no-limits', flagged, '--', 'sh', '-c', limit], { timeoutMs: 120000 });
  assert.equal(lifted.code, 0, lifted.stderr);
  assert.notEqual(lifted.stdout.trim(), String(16 * 1024 * 1024));
  assert.ok(['max', '9223372036854771712'].includes(lifted.stdout.trim()), lifted.stdout);
  assert.match(lifted.stderr, /the copy runs without .*'s limits \(memory 16\.0MiB\), as --no-limits asks\./);
});

test('exit 2 whose output names a missing variable: the output leads, not "often a usage error"', async () => {
  const cases: [string, string, RegExp][] = [
    ['unset', 'set -u; echo starting; echo "$API_KEY"', /exited with code 2, and its output names the cause: sh: API_KEY: parameter not set/],
    ['required', 'echo starting; : "${DATABASE_URL:?must be set to the database address}"', /exited with code 2, and its output names the cause: sh: DATABASE_URL: must be set to the database address/],
  ];
  for (const [label, script, expected] of cases) {
    const name = track(uniqueName(`flags-errors-var-${label}`));
    docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', BUSYBOX_IMAGE, 'sh', '-c', script]);
    await waitFor(name, (s) => s.Status === 'exited');
    assert.equal(inspectState(name).ExitCode, 2);
    const r = await porthole(['why', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, expected, label);
    assert.doesNotMatch(r.stdout, /usage error/, label);
  }
  // an exit 2 whose output names nothing keeps the usual words
  const plain = track(uniqueName('flags-errors-exit2'));
  docker(['run', '-d', '--name', plain, '--label', 'io.porthole.test=1', BUSYBOX_IMAGE, 'sh', '-c', 'echo bye; exit 2']);
  await waitFor(plain, (s) => s.Status === 'exited');
  assert.match((await porthole(['why', plain])).stdout, /exited with code 2: often a usage error/);
});
