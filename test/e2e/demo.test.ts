// `porthole demo up|down` with the real names on the real engine, and the README walk-through on it:
// demo up, logs, why, edit --start, running. It removes an existing demo first (the demo is disposable by
// design: `demo down` is how a user ends it too).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker, dockerStatus, ensureBusyboxImage, removeContainers, uniqueName } from '../support/docker.js';
import { ensureStandInCrashImage, nginxAvailable, waitFor } from '../support/crash.js';

const CLOCK = 'porthole-demo-clock';
const CRASH = 'porthole-demo-crash';
const made: string[] = [];
after(async () => {
  removeContainers(...made);
  await porthole(['demo', 'down']);
});

function labels(ref: string): Record<string, string> {
  return JSON.parse(docker(['inspect', '-f', '{{json .Config.Labels}}', ref])) ?? {};
}

test('demo up builds both images offline and starts the seed\'s two containers; again changes nothing; down removes all', async () => {
  ensureBusyboxImage();
  assert.equal((await porthole(['demo', 'down'])).code, 0);

  const up = await porthole(['demo', 'up'], { timeoutMs: 120000 });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^created +porthole-demo-clock +running$/m);
  assert.match(up.stdout, /^created +porthole-demo-crash +exited \(exit code 1\)$/m);
  assert.match(up.stdout, /static busybox from \/bin\/busybox/);
  if (nginxAvailable()) assert.match(up.stdout, /image porthole-demo-crash:latest: nginx [\d.]+ from \/usr\/sbin\/nginx and its \d+ libraries/);
  else assert.match(up.stdout, /a busybox script standing in for nginx/);
  assert.match(up.stdout, /Try next:\n {2}porthole logs -f porthole-demo-clock\n {2}porthole why porthole-demo-crash\n {2}porthole edit porthole-demo-crash \/etc\/nginx\/nginx\.conf --start/);
  assert.match(up.stderr, /building porthole-demo-crash:latest/);

  // the user's, not the session's: labelled as the demo, never as porthole-owned
  for (const ref of [CLOCK, CRASH, 'porthole-demo-clock:latest', 'porthole-demo-crash:latest']) {
    assert.equal(labels(ref)['io.porthole.demo'], 'true', ref);
    assert.equal(labels(ref)['io.porthole.owned'], undefined, ref);
  }

  // the seed, exactly: no output, and the error only in the log file the diff shows
  assert.equal(JSON.parse(docker(['inspect', '-f', '{{json .State.Running}}', CLOCK])), true);
  assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', CRASH]), '1');
  const logs = dockerStatus(['logs', CRASH]);
  assert.equal(logs.stdout + logs.stderr, '');
  assert.equal(docker(['diff', CRASH]), 'C /var\nC /var/log\nC /var/log/nginx\nA /var/log/nginx/error.log');
  const errorLog = docker(['cp', `${CRASH}:/var/log/nginx/error.log`, '-']);
  assert.match(errorLog, /\[emerg\] 1#1: unknown directive "invalid_directive" in \/etc\/nginx\/nginx\.conf:1/);

  const ids = docker(['inspect', '-f', '{{.Id}} {{.Image}}', CLOCK, CRASH]);
  const again = await porthole(['demo', 'up', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const data = JSON.parse(again.stdout);
  assert.deepEqual(data.containers.map((c: any) => [c.container, c.action]), [[CLOCK, 'already there'], [CRASH, 'already there']]);
  assert.equal(docker(['inspect', '-f', '{{.Id}} {{.Image}}', CLOCK, CRASH]), ids, 'up again recreated something');
  assert.equal(again.stderr, '', 'nothing was built the second time');

  // the walk-through: logs, why, edit --start, running
  await new Promise((r) => setTimeout(r, 1500));
  const clockLogs = await porthole(['logs', '--tail', '2', CLOCK]);
  assert.match(clockLogs.stdout, /^(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \w+ \d{4}\n){2}$/);
  const why = await porthole(['why', CRASH]);
  assert.match(why.stdout, /\/etc\/nginx\/nginx\.conf line 1 .*\n {2}> 1 \| invalid_directive;/);
  const edit = await porthole(['edit', CRASH, '/etc/nginx/nginx.conf', '--start', '--watch', '3'], {
    env: { EDITOR: 'sed -i s/invalid_directive;//', VISUAL: undefined },
    timeoutMs: 30000,
  });
  assert.equal(edit.code, 0, edit.stderr + edit.stdout);
  assert.match(edit.stderr, /writing \/etc\/nginx\/nginx\.conf back into porthole-demo-crash: this changes the container/);
  assert.match(edit.stdout, /porthole-demo-crash started and stays up/);
  assert.equal(JSON.parse(docker(['inspect', '-f', '{{json .State.Running}}', CRASH])), true);
  if (nginxAvailable()) assert.equal(docker(['exec', CRASH, 'wget', '-qO-', 'http://127.0.0.1/']), 'hello from the porthole demo');

  const down = await porthole(['demo', 'down']);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /^removed +porthole-demo-clock$/m);
  assert.match(down.stdout, /^removed +porthole-demo-crash$/m);
  assert.match(down.stdout, /removed images .*porthole-demo-c/);
  assert.notEqual(dockerStatus(['inspect', CLOCK]).status, 0);
  assert.equal(docker(['images', '-q', '--filter', 'label=io.porthole.demo=true']), '');
  const downAgain = await porthole(['demo', 'down']);
  assert.equal(downAgain.code, 0);
  assert.match(downAgain.stdout, /^not there +porthole-demo-clock$/m);
  assert.match(downAgain.stdout, /no demo images to remove/);
});

test('demo refuses to touch a container of the same name that is not its own', async () => {
  // tests in one file run one after another, so this cannot race the walk-through above for the name
  docker(['run', '-d', '--name', CLOCK, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'sleep', '300']);
  made.push(CLOCK);
  const up = await porthole(['demo', 'up']);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /^porthole: A container named porthole-demo-clock exists and is not porthole's demo\. Remove or rename it/);
  const down = await porthole(['demo', 'down']);
  assert.equal(down.code, 1);
  assert.equal(JSON.parse(docker(['inspect', '-f', '{{json .State.Running}}', CLOCK])), true, 'the stranger was left alone');
  removeContainers(CLOCK);
  const bad = await porthole(['demo', 'sideways']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /takes "up" or "down"/);
});

test('without nginx, the busybox stand-in fails the same way (no output, error only in the log) and edit fixes it', async () => {
  const image = await ensureStandInCrashImage();
  assert.match(labels(image)['io.porthole.demo.program'] ?? '', /busybox script standing in for nginx/);
  const name = uniqueName('demo-standin');
  made.push(name);
  docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', image]);
  await waitFor(name, (s) => s.Status === 'exited');
  assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', name]), '1');
  const logs = dockerStatus(['logs', name]);
  assert.equal(logs.stdout + logs.stderr, '');
  assert.equal(docker(['diff', name]), 'C /var\nC /var/log\nC /var/log/nginx\nA /var/log/nginx/error.log');
  const why = await porthole(['why', name]);
  assert.match(why.stdout, /unknown directive "invalid_directive" in \/etc\/nginx\/nginx\.conf:1/);
  assert.match(why.stdout, /> 1 \| invalid_directive;/);
  const edit = await porthole(['edit', name, '/etc/nginx/nginx.conf', '--start', '--watch', '2'], { env: { EDITOR: 'sed -i s/invalid_directive;//', VISUAL: undefined } });
  assert.equal(edit.code, 0, edit.stderr + edit.stdout);
  assert.match(edit.stdout, /started and stays up/);
});
