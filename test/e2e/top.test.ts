import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hasCommand, porthole, portholeInTty } from '../support/cli.js';
import { BUSYBOX_IMAGE, containerFingerprint, docker, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { startBusy, startIdle, TmuxSession } from '../support/metrics.js';

const busy = uniqueName('top-busy');
const idle = uniqueName('top-idle');

before(() => {
  // A busy loop with a child, so the process view has a tree: sh (PID 1) -> sleep.
  startBusy(busy);
  docker(['exec', '-d', busy, 'sleep', '3600']);
  startIdle(idle);
});

after(() => removeContainers(busy, idle));

/** The screen line drawn in reverse video (the selected row), from a capture with escapes kept. */
function selectedLine(session: TmuxSession): string | undefined {
  return session.captureWithEscapes().split('\n').slice(1).find((l) => l.includes('\x1b[7m'));
}

/** Moves the selection with j/k until the named container's row is selected. */
async function select(session: TmuxSession, name: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const screen = session.capture().split('\n');
    const selected = selectedLine(session);
    if (selected?.includes(name)) return;
    const target = screen.findIndex((l) => l.includes(name));
    const current = screen.findIndex((l) => selected !== undefined && l.length > 20 && selected.includes(l.trim().slice(0, 12)));
    session.keys(target >= 0 && current >= 0 && target < current ? 'k' : 'j');
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`could not select ${name}:\n${session.capture()}`);
}

function assertRestored(session: TmuxSession): void {
  assert.ok(!session.inAlternateScreen(), 'still on the alternate screen');
  assert.match(session.sttyState(), / icanon/, 'the terminal was left in raw mode');
  assert.match(session.sttyState(), / echo/, 'echo was left off');
  assert.ok(session.cursorVisible(), 'the cursor was left hidden');
}

test('top in a real terminal: select a container, open its processes, come back, quit with the terminal restored', async (t) => {
  if (!hasCommand('tmux')) return t.skip('tmux is not installed (scripts/engine-up.sh installs it)');
  const before = containerFingerprint(idle);
  const session = new TmuxSession(uniqueName('top-tmux'), ['top', '--sort', 'name', '--interval', '0.5'], { width: 200, height: 60 });
  try {
    await session.waitFor(new RegExp(`porthole top · \\d+ containers · sorted by name[\\s\\S]*${idle}`));
    assert.ok(session.inAlternateScreen());
    assert.match(session.sttyState(), /-icanon/);
    await select(session, busy);
    session.keys('Enter');
    // The process tree from src/procs: the shim, sh as PID 1 with live CPU, the exec'd sleep.
    const procs = await session.waitFor(/ 1 +\d+ +root +\d+\.\d +[\d.]+\w+ +R[\s\S]*sleep 3600/);
    assert.match(procs, new RegExp(`porthole top › ${busy} \\(`));
    assert.match(procs, /PID +HOST PID +USER +CPU % +RSS +STAT +COMMAND/);
    assert.match(procs, /containerd-shim/);
    assert.match(procs, / \\_ sh -c while :; do :; done/);
    const shCpu = Number(/ 1 +\d+ +root +(\d+\.\d)/.exec(procs)![1]);
    assert.ok(shCpu > 5, `the busy loop's live CPU: ${shCpu}`);
    session.keys('Escape');
    const list = await session.waitFor(/porthole top · \d+ containers/);
    assert.match(list, new RegExp(idle));
    // The list's first frame can be captured half drawn: give the selected row a moment to appear.
    for (let i = 0; i < 30 && !selectedLine(session); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(selectedLine(session)?.includes(busy), `the selection was kept:\n${session.capture()}`);
    session.keys('q');
    await session.waitFor(/EXIT=0/);
    assertRestored(session);
  } finally {
    session.kill();
  }
  assert.deepEqual(containerFingerprint(idle), before);
});

test('top CONTAINER opens on its processes; s hands the terminal to porthole shell and takes it back', async (t) => {
  if (!hasCommand('tmux')) return t.skip('tmux is not installed (scripts/engine-up.sh installs it)');
  const session = new TmuxSession(uniqueName('top-tmux'), ['top', idle], { width: 200, height: 50 });
  try {
    await session.waitFor(new RegExp(`porthole top › ${idle}[\\s\\S]*sleep 3600`));
    session.keys('s');
    await session.waitFor(new RegExp(`porthole top: shell ${idle}`));
    assert.ok(!session.inAlternateScreen(), 'the shell must get the normal screen');
    await new Promise((r) => setTimeout(r, 1000));
    session.keys('echo handed-over-$((6*7)); exit', 'Enter');
    // Back in top, on the same container's processes.
    await session.waitFor(new RegExp(`porthole top › ${idle}`));
    assert.ok(session.inAlternateScreen());
    session.keys('Escape');
    await session.waitFor(/porthole top · \d+ containers/);
    session.keys('C-c');
    const after = await session.waitFor(/EXIT=0/);
    // The shell ran on the normal screen: its output is there after top ends.
    assert.match(after, /handed-over-42/);
    assertRestored(session);
  } finally {
    session.kill();
  }
});

test('l follows the logs; Ctrl-C stops them, not top; a key brings top back', async (t) => {
  if (!hasCommand('tmux')) return t.skip('tmux is not installed (scripts/engine-up.sh installs it)');
  const talker = uniqueName('top-logs');
  runContainer(talker, [], BUSYBOX_IMAGE, ['sh', '-c', 'echo log-marker-from-container; exec sleep 3600']);
  const session = new TmuxSession(uniqueName('top-tmux'), ['top', talker], { width: 160, height: 40 });
  try {
    await session.waitFor(new RegExp(`porthole top › ${talker}`));
    session.keys('l');
    await session.waitFor(/log-marker-from-container/);
    assert.ok(!session.inAlternateScreen());
    session.keys('C-c');
    await session.waitFor(/press any key to return to porthole top/);
    session.keys('x');
    await session.waitFor(new RegExp(`porthole top › ${talker}`));
    assert.ok(session.inAlternateScreen(), 'top did not come back after logs');
    session.keys('q');
    await session.waitFor(/porthole top · \d+ containers/);
    session.keys('q');
    await session.waitFor(/EXIT=0/);
    assertRestored(session);
  } finally {
    session.kill();
    removeContainers(talker);
  }
});

test('top restores the terminal on SIGTERM', async (t) => {
  if (!hasCommand('tmux')) return t.skip('tmux is not installed (scripts/engine-up.sh installs it)');
  const session = new TmuxSession(uniqueName('top-tmux'), ['top']);
  try {
    await session.waitFor(/porthole top · \d+ containers/);
    process.kill(session.portholePid(), 'SIGTERM');
    await session.waitFor(/EXIT=143/);
    assertRestored(session);
  } finally {
    session.kill();
  }
});

test('top needs a terminal; an unknown or stopped container is a clear error', async () => {
  const piped = await porthole(['top']);
  assert.equal(piped.code, 6);
  assert.match(piped.stderr, /^porthole: porthole top needs a terminal on stdin and stdout\. For a table that a script can read, use `porthole stats`/);
  const missing = await portholeInTty(['top', 'pt-no-such-container-xyz'], '');
  assert.equal(missing.code, 3, missing.stdout);
  assert.match(missing.stdout, /No such container: pt-no-such-container-xyz\./);
  const bad = await porthole(['top', '--interval', 'x']);
  assert.equal(bad.code, 2);
});
