// Inside a swarm's tasks, on the real three-node test swarm (scripts/swarm-up.sh): shell, files, ps and stats on
// service/NAME[.SLOT] and task/ID run on the node that holds the container, reached through PORTHOLE_SWARM_NODES;
// a crashed replica is entered through a copy on its node; a node that stops or hangs is named, nothing waits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { porthole, portholeInTty, spawnPorthole } from '../support/cli.js';
import { createService, dockerAt, MANAGER, NODES, removeService, serviceTasks, skipSwarm, uniqueService, waitFor } from '../support/swarm.js';

const created: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'swarm-inside-'));
after(() => {
  if (created.length) removeService(...created);
  rmSync(scratch, { recursive: true, force: true });
});
const ph = (args: string[], env: Record<string, string> = {}) => porthole(['-H', MANAGER!, ...args], { env, timeoutMs: 90_000 });

/** What porthole made on any node: nothing may be left (containers and images labelled io.porthole.owned). */
function ownedLeftOnNodes(): string[] {
  const left: string[] = [];
  for (const [node, host] of Object.entries(NODES)) {
    const c = dockerAt(host, ['ps', '-aq', '--filter', 'label=io.porthole.owned']).stdout.trim();
    const i = dockerAt(host, ['images', '-q', '--filter', 'label=io.porthole.owned']).stdout.trim();
    if (c) left.push(`${node} containers: ${c}`);
    if (i) left.push(`${node} images: ${i}`);
  }
  return left;
}

async function runningOn(name: string, count: number) {
  return waitFor(`${count} running task(s) of ${name}`, () => {
    const running = serviceTasks(name).filter((t) => t.current.startsWith('Running') && t.desired === 'Running');
    return running.length === count && running;
  }, 90_000);
}

function containerOf(node: string, taskId: string): string {
  const r = dockerAt(NODES[node]!, ['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.swarm.task.id=${taskId}`]);
  return r.stdout.trim();
}

test('shell into a replica on a worker: pipes, exit code, a TTY, by slot and by task id', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-shell');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  const [task] = await runningOn(name, 1);
  assert.equal(task!.node, 'porthole-swarm-2');
  const cid = containerOf('porthole-swarm-2', task!.id);
  assert.match(cid, /^[0-9a-f]{64}$/);

  // stdin in, stdout out, the command's exit code through; written into the container on the worker
  const piped = await porthole(['-H', MANAGER!, 'shell', `service/${name}.1`, '--', 'sh', '-c', 'cat > /tmp/from-porthole; echo written; exit 7'], { input: 'through the pipe\n', timeoutMs: 60_000 });
  assert.equal(piped.code, 7, piped.stderr);
  assert.equal(piped.stdout, 'written\n');
  assert.equal(piped.stderr, '', 'a command run by name says nothing on stderr');
  assert.equal(dockerAt(NODES['porthole-swarm-2']!, ['exec', cid, 'cat', '/tmp/from-porthole']).stdout, 'through the pipe\n');
  // not on the manager's engine: it has no such container
  assert.notEqual(dockerAt(MANAGER!, ['inspect', cid]).code, 0);

  // task/ID (a prefix) is the same container
  const byTask = await ph(['shell', `task/${task!.id.slice(0, 10)}`, '--', 'cat', '/tmp/from-porthole']);
  assert.equal(byTask.code, 0, byTask.stderr);
  assert.equal(byTask.stdout, 'through the pipe\n');

  // a TTY: script(1) gives porthole a terminal; the shell inside gets one too
  const tty = await portholeInTty(['-H', MANAGER!, 'shell', `service/${name}.1`, '--', 'sh', '-c', 'tty; test -t 0 && echo stdin-is-a-tty; exit 3'], '', { timeoutMs: 60_000 });
  assert.equal(tty.code, 3, tty.stdout);
  assert.match(tty.stdout, /\/dev\/pts\/\d+\r*\n/);
  assert.match(tty.stdout, /stdin-is-a-tty/);

  // an interactive shell says where it is
  const interactive = await portholeInTty(['-H', MANAGER!, 'shell', `service/${name}.1`], 'echo in-$((6*7))\nexit 5\n', { timeoutMs: 60_000 });
  assert.equal(interactive.code, 5, interactive.stdout);
  assert.match(interactive.stdout, /in-42/);
  assert.match(interactive.stdout, new RegExp(`service/${name}\\.1 is task \\w{12} \\(${name}\\.1\\) on node porthole-swarm-2`));

  // the toolbox way, on the node. Not there yet: the node is named, and the hint builds it on that node (the
  // manager's -H would build it where it is not needed); built there once (offline, from /bin/busybox), removed at the end
  const worker = NODES['porthole-swarm-2']!;
  await porthole(['-H', worker, 'toolbox', 'rm'], { timeoutMs: 60_000 });
  const missing = await ph(['shell', '--toolbox', 'porthole/toolbox:1', `task/${task!.id}`, '--', 'true']);
  assert.equal(missing.code, 125, missing.stderr);
  assert.match(missing.stderr, /The toolbox image porthole\/toolbox:1 is not on node porthole-swarm-2's engine/);
  const hint = /Run `porthole (-H \S+) toolbox build` once \(it builds it offline from \/bin\/busybox\) on that node/.exec(missing.stderr);
  assert.ok(hint, missing.stderr);
  assert.equal(hint[1], `-H ${worker}`);
  assert.deepEqual(ownedLeftOnNodes(), []);
  const built = await porthole([...hint[1]!.split(' '), 'toolbox', 'build'], { timeoutMs: 90_000 });
  assert.equal(built.code, 0, built.stderr);
  try {
    const viaToolbox = await ph(['shell', '--toolbox', 'porthole/toolbox:1', `task/${task!.id}`, '--', 'sh', '-c', 'cat /proc/1/root/tmp/from-porthole; exit 9']);
    assert.equal(viaToolbox.code, 9, viaToolbox.stderr);
    assert.equal(viaToolbox.stdout, 'through the pipe\n');
    assert.deepEqual(ownedLeftOnNodes(), []);
  } finally {
    await porthole(['-H', worker, 'toolbox', 'rm'], { timeoutMs: 60_000 });
  }

  // the name alone is fine with one replica; a slot that does not exist is not found (3)
  const bare = await ph(['shell', `service/${name}`, '--', 'hostname']);
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(bare.stdout.trim(), cid.slice(0, 12));
  const noSlot = await ph(['shell', `service/${name}.9`, '--', 'true']);
  assert.equal(noSlot.code, 125);
  assert.equal(noSlot.stderr, `porthole: Service ${name} has no task in slot 9. See its tasks with \`docker service ps ${name}\`.\n`);
});

test('a crashed replica on a worker is entered through a copy on its node, and the copy is removed there', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-crashed');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-3', '--restart-condition', 'none',
    'porthole-fixture/busybox:1', 'sh', '-c', 'echo "left by the crash" > /tmp/state; exit 4']);
  const task = await waitFor('a failed task', () => serviceTasks(name).find((t) => t.current.startsWith('Failed')), 90_000);
  const cid = containerOf('porthole-swarm-3', task.id);
  assert.ok(cid, 'the failed task keeps its container on its node');

  const r = await ph(['shell', `service/${name}.1`, '--', 'sh', '-c', 'cat /tmp/state; echo copy-was-here > /tmp/state; exit 6']);
  assert.equal(r.code, 6, r.stderr);
  assert.equal(r.stdout, 'left by the crash\n');
  assert.match(r.stderr, new RegExp(`task \\w{12} \\(${name}\\.1\\) on node porthole-swarm-3 is failed \\(exited with code 4[^)]*\\); its container is entered through a copy there`));
  // the original is untouched: still exited with 4, its file as the crash left it
  const node3 = NODES['porthole-swarm-3']!;
  assert.equal(dockerAt(node3, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', cid]).stdout.trim(), 'exited 4');
  const cat = await ph(['cat', `task/${task.id}`, '/tmp/state']);
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'left by the crash\n');
  // nothing porthole made is left on any node
  assert.deepEqual(ownedLeftOnNodes(), []);

  // why --all-nodes lists it on its node
  const why = await ph(['why', '--all-nodes']);
  assert.equal(why.code, 0, why.stderr);
  assert.match(why.stdout, new RegExp(`porthole-swarm-3 +${cid.slice(0, 12)} +${name}\\.1\\.${task.id} +Exited \\(4\\) .* +exited with code 4`));
  // its hint names the newest failed task with the manager's flags, and can be typed as it stands
  const hinted = /`porthole -H (\S+) why task\/(\w{12})` \(a service's task\)/.exec(why.stdout);
  assert.ok(hinted, why.stdout);
  assert.equal(hinted[1], MANAGER);
  const explained = await ph(['why', `task/${hinted[2]}`]);
  assert.equal(explained.code, 0, explained.stderr);
  assert.match(explained.stdout, /^Failed tasks$/m);
  const whyJson = JSON.parse((await ph(['why', '--all-nodes', '--json'])).stdout);
  const entry = whyJson.failed.find((f: any) => f.id === cid);
  assert.equal(entry.node, 'porthole-swarm-3');
  assert.equal(entry.exitCode, 4);
  assert.equal(entry.service, name);
  assert.equal(entry.task, task.id);
});

test('files of a task on a worker: cp, cat, ls, find, grep, diff, du, export, from its node; layer reads agree with the engine', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-files');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', 'porthole-fixture/busybox:1', 'sh', '-c',
    'mkdir -p /data && printf "needle in the worker\\n" > /data/report.txt && head -c 3000 /dev/zero > /data/zeros && sleep 3600']);
  const [task] = await runningOn(name, 1);
  const cid = containerOf('porthole-swarm-2', task!.id);
  await waitFor('the files written', () => dockerAt(NODES['porthole-swarm-2']!, ['exec', cid, 'test', '-f', '/data/zeros']).code === 0);
  const ref = `task/${task!.id.slice(0, 12)}`;

  const dest = join(scratch, 'out');
  const cp = await ph(['cp', `${ref}:/data`, dest]);
  assert.equal(cp.code, 0, cp.stderr);
  assert.equal(readFileSync(join(dest, 'report.txt'), 'utf8'), 'needle in the worker\n');
  assert.equal(readFileSync(join(dest, 'zeros')).length, 3000);
  const cpSlot = await ph(['cp', `service/${name}.1:/data/report.txt`, '-']);
  assert.equal(cpSlot.code, 0, cpSlot.stderr);
  assert.match(cpSlot.stdout, /^report\.txt/); // a tar stream, as docker cp - gives

  for (const layerReads of ['1', '0']) {
    const cat = await ph(['cat', `service/${name}.1`, '/data/report.txt', '/etc/hostname'], { PORTHOLE_LAYER_READS: layerReads });
    assert.equal(cat.code, 0, cat.stderr);
    // the container's files, its hostname (not this machine's)
    assert.equal(cat.stdout, `needle in the worker\n${cid.slice(0, 12)}\n`);
  }
  const ls = await ph(['ls', ref, '/data']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n'), ['report.txt', 'zeros']);
  const find = await ph(['find', ref, '/data', '--type', 'f']);
  assert.equal(find.code, 0, find.stderr);
  assert.deepEqual(find.stdout.trim().split('\n').sort(), ['/data/report.txt', '/data/zeros']);
  const grep = await ph(['grep', '-r', ref, 'needle', '/data']);
  assert.equal(grep.code, 0, grep.stderr);
  assert.equal(grep.stdout, '/data/report.txt:needle in the worker\n');
  const diff = await ph(['diff', ref]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^A \/data\/report\.txt$/m);
  const du = await ph(['du', ref]);
  assert.equal(du.code, 0, du.stderr);
  assert.match(du.stdout, /\/data/);
  const exported = await ph(['export', ref, '--list']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /data\/report\.txt/);

  // a path that is not there: the message and the hint name the task as typed, never the node's container id, and
  // the hint, with the manager's -H, runs as printed
  const missing = await ph(['cp', `service/${name}.1:/data/nope`, dest]);
  assert.equal(missing.code, 3);
  assert.equal(missing.stderr, `porthole: No such file or folder in the container: service/${name}.1:/data/nope. Check the path with \`porthole -H ${MANAGER} ls service/${name}.1 /data\`.\n`);
  const folder = await ph(['cat', ref, '/data']);
  assert.equal(folder.code, 3);
  assert.equal(folder.stderr, `porthole: /data is a directory, not a file. List it with \`porthole -H ${MANAGER} ls ${ref} /data\`.\n`);
  assert.doesNotMatch(missing.stderr + folder.stderr, new RegExp(cid.slice(0, 12)));
  const hint = folder.stderr.match(/`porthole (.*)`/)![1]!.split(' ');
  const asPrinted = await porthole(hint, { timeoutMs: 90_000 });
  assert.equal(asPrinted.code, 0, asPrinted.stderr);
  assert.deepEqual(asPrinted.stdout.trim().split('\n'), ['report.txt', 'zeros']);

  // several replicas: service/NAME alone does not guess
  const wide = uniqueService('swarm-files-3');
  created.push(wide);
  createService(wide, ['--replicas', '2', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  await runningOn(wide, 2);
  const amb = await ph(['cat', `service/${wide}`, '/etc/hostname']);
  assert.equal(amb.code, 4);
  assert.equal(amb.stderr, `porthole: service/${wide} has 2 replicas: name one of service/${wide}.1, service/${wide}.2. Or name a task: task/ID (\`docker service ps --no-trunc\`).\n`);
});

test('ps and stats on a service: each replica from its own node, grouped by node, with that node\'s host PIDs', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-ps');
  created.push(name);
  createService(name, ['--replicas', '3', '--replicas-max-per-node', '1', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  const tasks = await runningOn(name, 3);
  assert.equal(new Set(tasks.map((t) => t.node)).size, 3);
  const ps = await ph(['ps', `service/${name}`]);
  assert.equal(ps.code, 0, ps.stderr);
  const headings = ps.stdout.split('\n').filter((l) => l.startsWith('NODE '));
  assert.deepEqual(headings, ['NODE porthole-swarm-1', 'NODE porthole-swarm-2', 'NODE porthole-swarm-3']);
  for (const t of tasks) {
    const cid = containerOf(t.node, t.id);
    const pid = dockerAt(NODES[t.node]!, ['inspect', '--format', '{{.State.Pid}}', cid]).stdout.trim();
    // under its node's heading: the container, then its sleep with the host PID the node's engine gives
    const block = ps.stdout.split('\n\n').find((b) => b.includes(`NODE ${t.node}\n`) || b.includes(`(${cid.slice(0, 12)})`))!;
    assert.ok(ps.stdout.indexOf(`NODE ${t.node}`) < ps.stdout.indexOf(`(${cid.slice(0, 12)})`));
    assert.match(ps.stdout, new RegExp(`^ +${pid} +1 +root .*sleep 3600$`, 'm'), block);
  }
  const json = JSON.parse((await ph(['ps', `service/${name}`, '--json'])).stdout);
  assert.deepEqual([...new Set(json.map((r: any) => r.node))].sort(), ['porthole-swarm-1', 'porthole-swarm-2', 'porthole-swarm-3']);

  const stats = await ph(['stats', `service/${name}`, '--json']);
  assert.equal(stats.code, 0, stats.stderr);
  const rows = JSON.parse(stats.stdout);
  assert.equal(rows.length, 3);
  for (const t of tasks) {
    const row = rows.find((r: any) => r.id === containerOf(t.node, t.id));
    assert.ok(row, `a row for ${t.name}`);
    assert.equal(row.node, t.node);
    assert.equal(row.pids, 1);
  }
  const all = await ph(['stats', '--all-nodes']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^NODE +CONTAINER ID +NAME +CPU %/);
  for (const t of tasks) assert.match(all.stdout, new RegExp(`^${t.node} +${containerOf(t.node, t.id).slice(0, 12)} +${name}\\.`, 'm'));
  const psAll = await ph(['ps', '--all-nodes']);
  assert.equal(psAll.code, 0, psAll.stderr);
  assert.equal(psAll.stdout.split('\n').filter((l) => /^NODE porthole-swarm-\d$/.test(l)).length, 3);
});

test('a node whose engine hangs is named after the deadline; the other nodes answer', { skip: skipSwarm }, async () => {
  // node 3 mapped to a socket that takes connections and never answers: a hung engine
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  const path = join(scratch, 'hung.sock');
  await new Promise<void>((res) => server.listen(path, res));
  try {
    const nodes = JSON.stringify({ ...NODES, 'porthole-swarm-3': `unix://${path}` });
    const t0 = Date.now();
    const r = await ph(['ps', '--all-nodes'], { PORTHOLE_SWARM_NODES: nodes });
    const took = Date.now() - t0;
    assert.equal(r.code, 5, r.stderr);
    assert.ok(took < 9000, `named within the deadline, not hung (${took} ms)`);
    assert.match(r.stderr, /Node porthole-swarm-3's engine cannot be reached \(PORTHOLE_SWARM_NODES: did not answer: no answer within 4 s\)/);
    assert.match(r.stdout, /^NODE porthole-swarm-1$/m);
    assert.match(r.stdout, /^NODE porthole-swarm-2$/m);
    assert.match(r.stdout, /^NODE porthole-swarm-3: no answer \(why: on stderr\)$/m);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('a node whose engine is stopped: a shell there ends, ps/stats/why across nodes name it and answer the rest', { skip: skipSwarm }, async () => {
  const name = uniqueService('swarm-stop');
  created.push(name);
  createService(name, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-3', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  await runningOn(name, 1);
  const other = uniqueService('swarm-stop-other');
  created.push(other);
  createService(other, ['--replicas', '1', '--constraint', 'node.hostname==porthole-swarm-2', 'porthole-fixture/busybox:1', 'sleep', '3600']);
  const [otherTask] = await runningOn(other, 1);

  // a session on node 3, then node 3's engine stops under it
  const shell = spawnPorthole(['-H', MANAGER!, 'shell', `service/${name}.1`, '--', 'sh', '-c', 'echo started; sleep 300']);
  let out = '';
  let err = '';
  shell.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  shell.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const ended = new Promise<number | null>((res) => shell.on('exit', (code) => res(code)));
  try {
    await waitFor('the session started', () => out.includes('started'), 30_000);
    const stop = spawnSync('bash', ['scripts/swarm-node.sh', 'stop', '3'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(stop.status, 0, stop.stderr);
    const code = await Promise.race([ended, new Promise((res) => setTimeout(() => res('hung'), 30_000))]);
    assert.notEqual(code, 'hung', 'the shell returned when its node stopped');
    assert.notEqual(code, 0, err);

    const t0 = Date.now();
    const ps = await ph(['ps', '--all-nodes']);
    assert.ok(Date.now() - t0 < 9000, 'no wait on the stopped node');
    assert.equal(ps.code, 5, ps.stderr);
    assert.match(ps.stderr, /Node porthole-swarm-3's engine cannot be reached \(PORTHOLE_SWARM_NODES: did not answer: No engine socket at \/run\/porthole-swarm\/node3\.sock/);
    assert.match(ps.stdout, /^NODE porthole-swarm-3: no answer/m);
    assert.match(ps.stdout, new RegExp(`^${other}\\.1\\.${otherTask!.id}`, 'm'));

    const stats = await ph(['stats', '--all-nodes', '--json']);
    assert.equal(stats.code, 5, stats.stderr);
    assert.match(stats.stderr, /porthole-swarm-3/);
    const rows = JSON.parse(stats.stdout);
    assert.ok(rows.some((r: any) => r.node === 'porthole-swarm-2' && r.name.startsWith(`${other}.1.`)));
    assert.ok(!rows.some((r: any) => r.node === 'porthole-swarm-3'));

    const why = await ph(['why', '--all-nodes']);
    assert.equal(why.code, 5, why.stderr);
    assert.match(why.stdout, /^porthole-swarm-3: no answer/m);
  } finally {
    shell.kill('SIGKILL');
    const start = spawnSync('bash', ['scripts/swarm-node.sh', 'start', '3'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(start.status, 0, start.stderr);
  }
});
