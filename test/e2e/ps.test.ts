// porthole ps against real containers: host PIDs agree with the engine, PIDs inside agree with ps run inside,
// the tree is the shim's as ps faux draws it, zombies show, hostile command lines are escaped, and looking
// changes nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hasCommand, porthole, runProcess, BIN } from '../support/cli.js';
import { containerFingerprint, createContainer, docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { PS_ROW_KEYS, containerId, leftoversAfterLooking, zombieChildren, dockerTopPids, insidePs, procStatusField, statePid, waitFor, type PsRow } from '../support/procs.js';

const EVIL_ARG = 'evil\x1b[31m\nFAKE   row\x07';
// Two sleeps under the init, and a subshell that starts `sleep 0` then becomes `sleep 1001`, which never reaps
// it: a zombie at depth 3. The last argument ($0 of the script) carries terminal escapes and a newline.
const SCRIPT = 'sleep 1000 & sleep 1000 & (sleep 0 & exec sleep 1001) & wait';

const target = uniqueName('ps');
const second = uniqueName('ps2');
const exited = uniqueName('ps-exited');
const created = uniqueName('ps-created');
const made: string[] = [target, second, exited, created];
let fingerprint: ReturnType<typeof containerFingerprint>;

function rowsOf(stdout: string, name: string): PsRow[] {
  return (JSON.parse(stdout) as PsRow[]).filter((r) => r.container === name);
}

before(async () => {
  ensureBusyboxImage();
  runContainer(target, [], undefined, ['sh', '-c', SCRIPT, EVIL_ARG]);
  runContainer(second, [], undefined, ['sleep', '1000']);
  runContainer(exited, [], undefined, ['true']);
  createContainer(created, []);
  docker(['wait', exited]);
  let keeper = 0;
  await waitFor('both sleeps and the zombie keeper', () => {
    const top = docker(['top', target, '-o', 'pid,args']);
    keeper = Number(/^(\d+)\s+sleep 1001$/m.exec(top)?.[1] ?? 0);
    return (top.match(/\ssleep 1000$/gm) ?? []).length === 2 && keeper > 0;
  });
  // docker top leaves zombies out, so look for it in /proc: a child of `sleep 1001` in state Z.
  await waitFor('the zombie', () => zombieChildren(keeper).length === 1);
  fingerprint = containerFingerprint(target);
});

after(() => {
  removeContainers(...made);
});

test('ps C: the shim-rooted tree with host PIDs as docker top has them and PIDs inside as ps inside shows', async () => {
  const r = await porthole(['ps', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const rows = rowsOf(r.stdout, target);
  for (const row of rows) assert.deepEqual(Object.keys(row).sort(), [...PS_ROW_KEYS].sort());

  const initPid = statePid(target);
  const shimPid = Number(procStatusField(initPid, 'PPid'));
  const [shim, ...inside] = rows;
  assert.equal(shim!.role, 'shim');
  assert.equal(shim!.hostPid, shimPid);
  assert.equal(shim!.pid, null);
  assert.equal(shim!.depth, 0);
  assert.match(shim!.command, /containerd-shim/);
  assert.ok(shim!.argv!.includes(containerId(target)), 'the shim is the one started for this container');

  // Host PIDs: exactly the engine's own list for the container, plus the zombie the engine's top leaves out.
  assert.deepEqual(inside.filter((x) => x.state !== 'zombie').map((x) => x.hostPid).sort((a, b) => a - b), dockerTopPids(target));
  const init = inside.find((x) => x.role === 'init')!;
  assert.equal(init.hostPid, initPid);
  assert.equal(init.pid, 1);
  assert.equal(init.hostPpid, shimPid);
  assert.equal(init.depth, 1);

  // PIDs inside: the last NSpid field, and what ps inside the container prints for the same command.
  const fromInside = insidePs(target);
  for (const row of inside) {
    const nsPid = procStatusField(row.hostPid, 'NSpid').split(/\s+/).map(Number);
    assert.equal(row.pid, nsPid[nsPid.length - 1], `NSpid of ${row.hostPid}`);
    if (row.state !== 'zombie') assert.equal(fromInside.get(row.pid!)?.startsWith(row.argv![0]!), true, `ps inside shows ${row.pid} as ${row.command}`);
  }

  // The tree: init > sleep, sleep, sleep 1001 > zombie; children in PID order; ppid is the parent's PID inside.
  const byHost = new Map(rows.map((x) => [x.hostPid, x]));
  for (const row of inside) {
    const parent = byHost.get(row.hostPpid!)!;
    assert.equal(row.depth, parent.depth + 1);
    assert.equal(row.ppid, parent.role === 'shim' ? 0 : parent.pid);
  }
  const sleeps = inside.filter((x) => x.command === 'sleep 1000');
  assert.equal(sleeps.length, 2);
  for (const s of sleeps) assert.equal(s.hostPpid, initPid);
  const keeper = inside.find((x) => x.command === 'sleep 1001')!;
  const zombie = inside.find((x) => x.state === 'zombie')!;
  assert.equal(zombie.hostPpid, keeper.hostPid);
  assert.deepEqual(zombieChildren(keeper.hostPid), [zombie.hostPid]);
  assert.equal(zombie.depth, 3);
  assert.match(zombie.stat!, /^Z/);
  assert.equal(zombie.command, '[sleep] <defunct>');
  assert.deepEqual(zombie.argv, []);

  // JSON carries the hostile argument exactly.
  assert.deepEqual(init.argv, ['sh', '-c', SCRIPT, EVIL_ARG]);
  assert.equal(init.command, ['sh', '-c', SCRIPT, EVIL_ARG].join(' '));
  for (const row of inside) {
    assert.equal(row.user, 'root');
    assert.equal(row.uid, 0);
    assert.ok(row.rssBytes! >= 0 && row.cpuPercent! >= 0);
    assert.ok(Math.abs(Date.parse(row.startTime!) - Date.parse(docker(['inspect', '-f', '{{.State.StartedAt}}', target]))) < 5000);
    assert.equal(row.view, 'host');
  }
  assert.equal(init.stat, 'Ss');
});

test('ps C human output: one row per process, tree drawn like ps faux, control characters escaped', async () => {
  const r = await porthole(['ps', target]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control characters reach the terminal');
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^${target} \\([0-9a-f]{12}\\)$`));
  assert.match(lines[1]!, /^HOST PID\s+PID\s+USER\s+%CPU\s+RSS\s+START\s+STAT\s+COMMAND$/);
  const body = lines.slice(2);
  assert.equal(body.length, 2 + dockerTopPids(target).length, 'shim, processes, zombie: the escaped newline forged no extra row');
  assert.match(body[0]!, /^\s*\d+\s+-\s+root\s.*containerd-shim/);
  assert.match(body[1]!, new RegExp(`^\\s*${statePid(target)}\\s+1\\s+root\\s+.*\\sSs\\s+ \\\\_ sh -c sleep 1000 .* evil\\\\e\\[31m\\\\nFAKE   row\\\\x07$`));
  assert.ok(body.some((l) => /\s+\|   \\_ sleep 1000$/.test(l) || /     \\_ sleep 1000$/.test(l)));
  assert.ok(body.some((l) => /\sZs?\s+.*\\_ \[sleep\] <defunct>$/.test(l)), 'the zombie is shown');
  // The same tree drawing as the host's own ps (`ps -e --forest`, as in ps faux), row for row.
  const commandColumn = lines[1]!.indexOf('COMMAND');
  const drawing = (cell: string) => /^(?:(?: \|  |    )* \\_ )?/.exec(cell)![0];
  const forest = new Map<number, string>();
  for (const line of (await runProcess('ps', ['-e', '--forest', '-o', 'pid=,args='])).stdout.split('\n')) {
    const m = /^\s*(\d+) (.*)$/.exec(line);
    if (m) forest.set(Number(m[1]), drawing(m[2]!));
  }
  for (const line of body) {
    const hostPid = Number(line.trim().split(/\s+/)[0]);
    assert.equal(drawing(line.slice(commandColumn)), forest.get(hostPid), `tree drawing of ${hostPid}`);
  }
});

test('on a terminal, long command lines are cut at its width like ps; piped, they stay whole', async () => {
  const tty = await runProcess('script', ['-qec', `stty cols 70; exec ${BIN} ps ${target}`, '/dev/null']);
  assert.equal(tty.code, 0, tty.stdout);
  const lines = tty.stdout.replace(/\r/g, '').trimEnd().split('\n');
  assert.equal(lines.length, 2 + 2 + dockerTopPids(target).length);
  for (const line of lines) assert.ok(line.length <= 70, `cut: ${JSON.stringify(line)}`);
  assert.ok(lines.some((l) => l.length === 70), 'the shim line reaches the edge');
  const piped = await porthole(['ps', target]);
  assert.ok(piped.stdout.includes(`-id ${containerId(target)}`), 'piped output keeps the whole shim command line');
});

test('ps with no argument shows every running container, mine among them, each as its own tree', async () => {
  const r = await porthole(['ps', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const all = JSON.parse(r.stdout) as PsRow[];
  const mine = rowsOf(r.stdout, target);
  const other = rowsOf(r.stdout, second);
  assert.deepEqual(mine.filter((x) => x.role !== 'shim' && x.state !== 'zombie').map((x) => x.hostPid).sort((a, b) => a - b), dockerTopPids(target));
  assert.deepEqual(other.map((x) => [x.role, x.pid, x.command]), [['shim', null, other[0]!.command], ['init', 1, 'sleep 1000']]);
  assert.ok(!all.some((x) => x.container === exited || x.container === created), 'stopped containers are not listed');
  // Rows of one container are contiguous.
  const order = all.map((x) => x.containerId).filter((id, i, a) => i === 0 || a[i - 1] !== id);
  assert.equal(new Set(order).size, order.length);
  const human = await porthole(['ps']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^${second} \\(`, 'm'));
  assert.match(human.stdout, new RegExp(`^${target} \\(`, 'm'));
});

test('ps on two named containers lists both, in the order named', async () => {
  const r = await porthole(['ps', second, target, second, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const names = (JSON.parse(r.stdout) as PsRow[]).map((x) => x.container).filter((n, i, a) => i === 0 || a[i - 1] !== n);
  assert.deepEqual(names, [second, target]);
});

test('an unknown name: exit 3 and one sentence', async () => {
  const r = await porthole(['ps', 'pt-no-such-container-xyz']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^porthole: No such container: pt-no-such-container-xyz\./);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('an ambiguous id prefix: exit 4 and the matching containers listed', async () => {
  // 17 containers must share a first hex digit somewhere (pigeonhole), which makes a 1-character prefix ambiguous.
  const extra = Array.from({ length: 17 }, (_, i) => uniqueName(`amb${i}`));
  made.push(...extra);
  for (const name of extra) createContainer(name, []);
  const ids = extra.map(containerId);
  const byDigit = new Map<string, string[]>();
  for (const id of ids) byDigit.set(id[0]!, [...(byDigit.get(id[0]!) ?? []), id]);
  const [digit, shared] = [...byDigit].find(([, list]) => list.length >= 2)!;
  const r = await porthole(['ps', digit]);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^porthole: "${digit}" matches \\d+ containers: `));
  for (const id of shared) assert.ok(r.stderr.includes(id.slice(0, 12)), `lists ${id.slice(0, 12)}`);
  removeContainers(...extra);
});

test('a stopped container named explicitly: a sentence, exit 6, no crash; with a running one, that one is still shown', async () => {
  const r = await porthole(['ps', exited]);
  assert.equal(r.code, 6);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^porthole: Container "${exited}" has exited, so it has no processes to show\\. Start it`));
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const never = await porthole(['ps', created, '--json']);
  assert.equal(never.code, 6);
  // a JSON reader still gets JSON
  assert.deepEqual(JSON.parse(never.stdout), []);
  assert.match(never.stderr, /has never been started/);
  const mixed = await porthole(['ps', target, exited, '--json']);
  assert.equal(mixed.code, 6);
  assert.deepEqual([...new Set((JSON.parse(mixed.stdout) as PsRow[]).map((x) => x.container))], [target]);
  assert.match(mixed.stderr, new RegExp(`Container "${exited}" has exited`));
});

test('without a view of the engine\'s processes (another PID namespace), the engine\'s top stands in and says so', async (t) => {
  if (process.getuid?.() !== 0 || !hasCommand('unshare')) return t.skip('needs root and unshare to make a PID namespace');
  // A fresh PID namespace with its own /proc: the container's host PIDs are not visible from there.
  const r = await runProcess('unshare', ['--pid', '--fork', '--mount-proc', BIN, 'ps', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /cannot see the engine's processes .* engine's top: host PIDs are the engine host's/);
  const rows = rowsOf(r.stdout, target);
  assert.deepEqual(rows.map((x) => x.hostPid).sort((a, b) => a - b), dockerTopPids(target));
  for (const row of rows) {
    assert.equal(row.view, 'engine');
    assert.equal(row.pid, null);
    assert.deepEqual(Object.keys(row).sort(), [...PS_ROW_KEYS].sort());
  }
  const init = rows.find((x) => x.role === 'init')!;
  assert.equal(init.hostPid, statePid(target));
  assert.equal(init.depth, 0);
  assert.equal(rows.find((x) => x.command === 'sleep 1001')?.depth, 1);
  assert.equal(rows.find((x) => x.state === 'zombie'), undefined, 'the engine\'s top leaves zombies out (a limit of that view)');
  const human = await runProcess('unshare', ['--pid', '--fork', '--mount-proc', BIN, 'ps', target]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /\[engine view: PIDs of the engine host\]/);
  assert.doesNotMatch(human.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
});

test('looking changed nothing, and porthole left nothing behind', async () => {
  assert.deepEqual(containerFingerprint(target), fingerprint);
  assert.deepEqual(await leftoversAfterLooking([target, second].map(containerId)), []);
  assert.equal(dockerStatus(['inspect', target]).status, 0);
});
