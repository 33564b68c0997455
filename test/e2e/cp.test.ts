// `porthole cp` end to end: the built CLI against real containers, one of them hostile (links out of any
// destination, link chains, hardlinks, FIFOs, a device, setuid files, names with ESC and newlines, a very deep
// folder), compared with the real `docker cp` for docker's trailing-slash rules, and with an engine connection that
// dies or crawls in the middle of a copy.
import assert from 'node:assert/strict';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, portholeInTty, runProcess, spawnPorthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { comparable, hostileScript, sha256, snapshotTree, stableFingerprint } from '../support/cp.js';
import { engineProxy } from '../support/engine-proxy.js';

const work = mkdtempSync(join(tmpdir(), 'pt-cp-e2e-'));
const victim = join(work, 'victim');
let hostile = '';
let normal = '';
let stopped = '';
const bigSha: { value: string } = { value: '' };
const DEPTH = 600;
/** Copy out through the engine's archive stream, not from the container's layer (tests of that stream). */
const VIA_ENGINE = { PORTHOLE_LAYER_READS: '0' };

function fresh(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

before(() => {
  ensureBusyboxImage();
  mkdirSync(victim);
  writeFileSync(join(victim, 'keep'), 'victim');
  hostile = uniqueName('cp-hostile');
  // Runs its script and exits: the copies below read a stopped container.
  docker(['run', '--name', hostile, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', hostileScript(victim, DEPTH)]);
  normal = runContainer(uniqueName('cp-normal'), [], BUSYBOX_IMAGE, [
    'sh',
    '-c',
    [
      'mkdir -p /d/sub /d/empty /in',
      'echo alpha > /d/a && chmod 640 /d/a',
      'echo beta > /d/sub/b && chmod 750 /d/sub',
      'head -c 5242881 /dev/urandom > /d/big',
      'ln -s sub/b /d/rel-link',
      'ln -s d /dl',
      'echo app > /d/app && chown 1000:1000 /d/app',
      'touch /ready',
      'exec sleep 100000',
    ].join(' && '),
  ]);
  for (let i = 0; i < 50 && dockerStatus(['exec', normal, 'test', '-e', '/ready']).status !== 0; i++) execFileSync('sleep', ['0.1']);
  bigSha.value = docker(['exec', normal, 'sha256sum', '/d/big']).split(' ')[0]!;
  stopped = uniqueName('cp-stopped');
  docker(['run', '--name', stopped, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', 'mkdir -p /s && echo stopped > /s/f']);
});

after(() => {
  removeContainers(hostile, normal, stopped);
  rmSync(work, { recursive: true, force: true });
});

function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

test('copying out of a hostile container: links made as links, nothing written through them, specials skipped, bits dropped', async () => {
  const dest = fresh('hostile-out');
  const fingerprint = stableFingerprint(hostile);
  const passwdBefore = sha256File('/etc/passwd');
  const r = await porthole(['cp', `${hostile}:/h`, join(dest, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  const out = join(dest, 'out');
  assert.equal(readlinkSync(join(out, 'evil')), '/etc');
  assert.equal(readlinkSync(join(out, 'up')), '../../..');
  assert.equal(readlinkSync(join(out, 'victim')), victim);
  assert.equal(readlinkSync(join(out, 'l1')), 'l2');
  assert.equal(lstatSync(join(out, 'hard')).ino, lstatSync(join(out, 'file')).ino);
  // FIFOs and the device were not created, and said so with their names escaped.
  assert.equal(existsSync(join(out, 'fifo')), false);
  assert.equal(existsSync(join(out, 'null')), false);
  assert.match(r.stderr, /^porthole: skipped h\/fifo: it is a FIFO\.$/m);
  assert.match(r.stderr, /^porthole: skipped h\/null: it is a device file\.$/m);
  assert.ok(r.stderr.includes('porthole: skipped h/fifo\\e]0;pwned\\x07: it is a FIFO.'), r.stderr);
  assert.doesNotMatch(r.stderr, /\x1b|\x07/);
  assert.equal(r.stderr.trim().split('\n').length, 3, r.stderr);
  // setuid, setgid and sticky dropped.
  assert.equal(lstatSync(join(out, 'suid')).mode & 0o7777, 0o755);
  assert.equal(lstatSync(join(out, 'sgid')).mode & 0o7777, 0o711);
  assert.equal(lstatSync(join(out, 'sticky')).mode & 0o7777, 0o777);
  // Names with ESC and newline are kept exactly.
  assert.equal(readFileSync(join(out, 'esc\x1b[31mred'), 'utf8'), 'esc\n');
  assert.equal(readFileSync(join(out, 'new\nline'), 'utf8'), 'nl\n');
  // Owned by whoever runs porthole, unless -a.
  assert.equal(lstatSync(join(out, 'app-owned')).uid, process.getuid!());
  const kept = await porthole(['cp', '-a', `${hostile}:/h/app-owned`, join(dest, 'kept')]);
  assert.equal(kept.code, 0, kept.stderr);
  if (process.getuid!() === 0) assert.deepEqual([lstatSync(join(dest, 'kept')).uid, lstatSync(join(dest, 'kept')).gid], [1000, 1000]);
  assert.deepEqual(readdirSync(victim), ['keep']);
  assert.equal(sha256File('/etc/passwd'), passwdBefore);
  assert.deepEqual(stableFingerprint(hostile), fingerprint);
});

test('a second copy into a destination holding those links (and one the user put there) writes nothing through them', async () => {
  const dest = fresh('hostile-twice');
  const r1 = await porthole(['cp', `${hostile}:/h`, join(dest, 'out')]);
  assert.equal(r1.code, 0, r1.stderr);
  const out = join(dest, 'out');
  symlinkSync(victim, join(out, 'pre')); // a link that already stands in DEST, pointing outside
  const snapshotAbove = snapshotTree(work);
  const passwdBefore = sha256File('/etc/passwd');
  const r2 = await porthole(['cp', `${hostile}:/h2/.`, `${out}/`]);
  assert.equal(r2.code, 1, r2.stderr);
  for (const name of ['evil', 'up', 'l1', 'victim', 'pre']) {
    assert.match(r2.stderr, new RegExp(`^porthole: refused \\./${name}/: a symbolic link already stands at ${name}; porthole does not replace it with a folder\\.$`, 'm'));
    assert.match(r2.stderr, new RegExp(`^porthole: refused \\./${name}/[a-z]+: its folder ${name} is a symbolic link, and porthole never writes through links\\.$`, 'm'));
  }
  assert.match(r2.stderr, /^porthole: Copied .* but refused 10 entries that would have been written outside it or through a link \(named above\)\./m);
  assert.equal(readFileSync(join(out, 'plain'), 'utf8'), 'plain\n');
  assert.equal(sha256File('/etc/passwd'), passwdBefore);
  assert.equal(existsSync('/etc/pwned'), false);
  assert.deepEqual(readdirSync(victim), ['keep']);
  // Above the destination (where `up` points) nothing changed; inside it only `plain` is new.
  const now = snapshotTree(work);
  for (const [path, entry] of Object.entries(snapshotAbove)) assert.deepEqual(now[path], entry, path);
  assert.deepEqual(Object.keys(now).filter((p) => !(p in snapshotAbove)), ['hostile-twice/out/plain']);
});

test('a very deep folder is a clean error and leaves nothing behind', async () => {
  const dest = fresh('deep');
  const r = await porthole(['cp', `${hostile}:/deep`, join(dest, 'deep')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^porthole: Copying .*:\/deep failed: Entry deep\/(d\/)+ cannot be copied: it is nested 513 folders deep, more than the 512 porthole accepts\. Nothing of this copy was left in the destination\.\n$/);
  assert.deepEqual(readdirSync(dest), []);
});

test('both ways byte-exact, on a running and on a stopped container, target unchanged, nothing created on the engine', async () => {
  const dest = fresh('exact');
  const fingerprint = stableFingerprint(normal);
  // Through a recording proxy: the copy out only reads (inspect, archive), it never creates anything on the engine.
  const proxyPath = join(work, 'record.sock');
  const proxy = await engineProxy({ socketPath: proxyPath });
  // Through the engine's archive (a plain file is otherwise read from the container's layer: then only the
  // inspect, see layer-read.test.ts).
  const r = await porthole(['cp', `${normal}:/d/big`, join(dest, 'big')], { env: { DOCKER_HOST: `unix://${proxyPath}`, ...VIA_ENGINE } });
  const fromLayer = await porthole(['cp', `${normal}:/d/big`, join(dest, 'big-layer')], { env: { DOCKER_HOST: `unix://${proxyPath}` } });
  await proxy.close();
  const id = docker(['inspect', '-f', '{{.Id}}', normal]);
  assert.deepEqual([...new Set(proxy.requests())].sort(), ['GET /_ping', `GET /containers/${normal}/json`, `GET /containers/${id}/archive`].sort());
  assert.equal(proxy.requests().filter((line) => line.endsWith('/archive')).length, 1, 'the layer copy asked for no archive');
  assert.equal(fromLayer.code, 0, fromLayer.stderr);
  assert.equal(sha256File(join(dest, 'big-layer')), bigSha.value);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '');
  assert.equal(sha256File(join(dest, 'big')), bigSha.value);
  assert.deepEqual(stableFingerprint(normal), fingerprint);
  const s = await porthole(['cp', `${stopped}:/s`, join(dest, 's')]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(readFileSync(join(dest, 's/f'), 'utf8'), 'stopped\n');
  // In: a random file and a tree, checked inside the container.
  const payload = randomBytes(3 * 1024 * 1024 + 5);
  writeFileSync(join(dest, 'payload'), payload);
  const i = await porthole(['cp', join(dest, 'payload'), `${normal}:/in/payload`]);
  assert.equal(i.code, 0, i.stderr);
  assert.equal(docker(['exec', normal, 'sha256sum', '/in/payload']).split(' ')[0], sha256(payload));
  const toStopped = await porthole(['cp', join(dest, 'payload'), `${stopped}:/s/payload`]);
  assert.equal(toStopped.code, 0, toStopped.stderr);
  const back = await porthole(['cp', `${stopped}:/s/payload`, join(dest, 'back')]);
  assert.equal(sha256File(join(dest, 'back')), sha256(payload));
  assert.equal(back.code, 0);
});

test('copying out follows docker cp\'s rules: the same cases give the same trees and the same success as docker cp', async () => {
  // Each case runs in two identical fresh folders, one for docker cp and one for porthole cp.
  // portholeFlags: what porthole needs to do what docker does (a DEST that is a link is refused unless asked).
  const cases: { args: (c: string) => [string, string]; setup?: (dir: string) => void; flags?: string[]; portholeFlags?: string[] }[] = [
    { args: (c) => [`${c}:/d`, 'new'] },
    { args: (c) => [`${c}:/d`, 'exists'], setup: (d) => mkdirSync(join(d, 'exists')) },
    { args: (c) => [`${c}:/d/`, 'exists'], setup: (d) => mkdirSync(join(d, 'exists')) },
    { args: (c) => [`${c}:/d/.`, 'exists'], setup: (d) => mkdirSync(join(d, 'exists')) },
    { args: (c) => [`${c}:/d/.`, 'new'] },
    { args: (c) => [`${c}:/d/a`, 'new'] },
    { args: (c) => [`${c}:/d/a`, 'exists'], setup: (d) => mkdirSync(join(d, 'exists')) },
    { args: (c) => [`${c}:/d/a`, 'exists/'], setup: (d) => mkdirSync(join(d, 'exists')) },
    { args: (c) => [`${c}:/d/a`, 'file'], setup: (d) => writeFileSync(join(d, 'file'), 'old') },
    { args: (c) => [`${c}:/d/a`, 'nodir/'] },
    { args: (c) => [`${c}:/d`, 'file'], setup: (d) => writeFileSync(join(d, 'file'), 'old') },
    { args: (c) => [`${c}:/d/a`, 'missing/x'] },
    { args: (c) => [`${c}:/dl`, 'new'] },
    { args: (c) => [`${c}:/dl`, 'new'], flags: ['-L'] },
    { args: (c) => [`${c}:/dl/`, 'new'] },
    { args: (c) => [`${c}:/dl`, 'exists'], setup: (d) => mkdirSync(join(d, 'exists')), flags: ['-L'] },
    { args: (c) => [`${c}:/nope`, 'new'] },
    { args: (c) => [`${c}:/d/rel-link`, 'new'] },
    { args: (c) => [`${c}:/d/a`, 'dlink'], setup: (d) => { mkdirSync(join(d, 'real')); symlinkSync('real', join(d, 'dlink')); }, portholeFlags: ['--follow-dest-link'] },
  ];
  for (const [n, kase] of cases.entries()) {
    const results = [];
    for (const tool of ['docker', 'porthole'] as const) {
      const dir = fresh(`rules-out-${n}-${tool}`);
      kase.setup?.(dir);
      const [src, dst] = kase.args(normal);
      const args = ['cp', ...(kase.flags ?? []), ...(tool === 'porthole' ? (kase.portholeFlags ?? []) : []), src, dst];
      const r = tool === 'docker' ? await runProcess('docker', args, { cwd: dir }) : await porthole(args, { cwd: dir });
      results.push({ ok: r.code === 0, tree: comparable(snapshotTree(dir)), stderr: r.stderr });
    }
    const [d, p] = results;
    const label = `case ${n}: cp ${(kase.flags ?? []).join(' ')} ${kase.args('C').join(' ')}\ndocker: ${d!.stderr}\nporthole: ${p!.stderr}`;
    assert.equal(p!.ok, d!.ok, label);
    assert.deepEqual(p!.tree, d!.tree, label);
    if (!p!.ok) assert.match(p!.stderr, /^porthole: [A-Z].*\.\n$/, label);
  }
});

/** Lists a folder inside the container: relative path, type, mode, size, link target. */
function containerTree(container: string, root: string): string[] {
  const out = docker(['exec', container, 'sh', '-c', `cd ${root} && find . | sort | while read -r p; do if [ -L "$p" ]; then echo "$p link $(readlink "$p")"; elif [ -d "$p" ]; then echo "$p dir $(stat -c %a "$p")"; else echo "$p file $(stat -c '%a %s %u' "$p")"; fi; done`]);
  return out.split('\n');
}

test('copying in follows docker cp\'s rules: same results in the container as docker cp', async () => {
  const host = fresh('rules-in');
  mkdirSync(join(host, 'srcdir/sub'), { recursive: true });
  writeFileSync(join(host, 'srcdir/a'), 'a');
  writeFileSync(join(host, 'srcdir/sub/b'), 'bb');
  symlinkSync('a', join(host, 'srcdir/link-inside'));
  writeFileSync(join(host, 'srcfile'), 'file');
  symlinkSync('srcfile', join(host, 'srclink'));
  const cases: { src: string; dst: string; flags?: string[] }[] = [
    { src: 'srcdir', dst: 'new1' },
    { src: 'srcdir', dst: 'exdir' },
    { src: 'srcdir/.', dst: 'exdir2' },
    { src: 'srcdir/', dst: 'new2' },
    { src: 'srcfile', dst: 'exdir3/' },
    { src: 'srcfile', dst: 'newfile' },
    { src: 'srcfile', dst: 'exfile' },
    { src: 'srcfile', dst: 'nodir/' },
    { src: 'srcdir', dst: 'exfile2' },
    { src: 'srclink', dst: 'exdir4' },
    { src: 'srclink', dst: 'followed', flags: ['-L'] },
    { src: 'srcfile', dst: 'linkdir' },
    { src: 'srcfile', dst: 'missing/sub/x' },
  ];
  for (const base of ['/cmp-docker', '/cmp-porthole']) {
    docker(['exec', normal, 'sh', '-c', `mkdir -p ${base}/exdir ${base}/exdir2 ${base}/exdir3 ${base}/exdir4 ${base}/realdir && echo old > ${base}/exfile && echo old > ${base}/exfile2 && ln -s realdir ${base}/linkdir`]);
  }
  for (const kase of cases) {
    const d = await runProcess('docker', ['cp', ...(kase.flags ?? []), kase.src, `${normal}:/cmp-docker/${kase.dst}`], { cwd: host });
    const p = await porthole(['cp', ...(kase.flags ?? []), kase.src, `${normal}:/cmp-porthole/${kase.dst}`], { cwd: host });
    assert.equal(p.code === 0, d.code === 0, `cp ${kase.src} C:${kase.dst}\ndocker: ${d.stderr}\nporthole: ${p.stderr}`);
    if (p.code !== 0) assert.match(p.stderr, /^porthole: [A-Z].*\.\n$/);
  }
  assert.deepEqual(containerTree(normal, '/cmp-porthole'), containerTree(normal, '/cmp-docker'));
});

// docker documents root-owned files without -a; the engine (20.10) keeps the tar's ids either way, and so does the
// docker CLI's copy, so here porthole follows the documentation rather than the CLI.
test('-a keeps the uid/gid when copying in; without it files belong to the container\'s root', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root to make a file owned by someone else');
  const host = fresh('owner-in');
  writeFileSync(join(host, 'owned'), 'x');
  chownSync(join(host, 'owned'), 1234, 4321);
  assert.equal((await porthole(['cp', '-a', join(host, 'owned'), `${normal}:/in/kept`])).code, 0);
  assert.equal((await porthole(['cp', join(host, 'owned'), `${normal}:/in/root`])).code, 0);
  assert.equal(docker(['exec', normal, 'stat', '-c', '%u:%g', '/in/kept']), '1234:4321');
  assert.equal(docker(['exec', normal, 'stat', '-c', '%u:%g', '/in/root']), '0:0');
});

test('copying in: host symlinks go as links unless -L, special files are skipped, read-only and missing destinations are a sentence', async () => {
  const host = fresh('in-special');
  mkdirSync(join(host, 'tree'));
  writeFileSync(join(host, 'tree/target'), 'T');
  symlinkSync('/etc/shadow', join(host, 'tree/abs-link'));
  execFileSync('mkfifo', [join(host, 'tree/fifo')]);
  const r = await porthole(['cp', join(host, 'tree'), `${normal}:/in/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `porthole: skipped ${join(host, 'tree/fifo')}: it is a FIFO.\n`);
  assert.equal(docker(['exec', normal, 'readlink', '/in/tree/abs-link']), '/etc/shadow');
  assert.notEqual(dockerStatus(['exec', normal, 'test', '-e', '/in/tree/fifo']).status, 0);
  const fifo = await porthole(['cp', join(host, 'tree/fifo'), `${normal}:/in/`]);
  assert.equal(fifo.code, 2);
  assert.match(fifo.stderr, /is a device file, FIFO or socket; porthole copies files, folders and links\.\n$/);
  const missing = await porthole(['cp', join(host, 'tree/target'), `${normal}:/no/such/dir/x`]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^porthole: The folder \/no\/such\/dir does not exist in .*, so .*:\/no\/such\/dir\/x cannot be created\./);
  const readonly = runContainer(uniqueName('cp-ro'), ['--read-only'], BUSYBOX_IMAGE, ['sleep', '100000']);
  try {
    const ro = await porthole(['cp', join(host, 'tree/target'), `${readonly}:/etc/x`]);
    const dockerRo = await runProcess('docker', ['cp', join(host, 'tree/target'), `${readonly}:/etc/x`]);
    assert.notEqual(dockerRo.code, 0);
    assert.equal(ro.code, 1, ro.stderr);
    assert.match(ro.stderr, /^porthole: .*:\/etc\/x is on a read-only file system in the container: .*\. Copy to a writable volume or \/tmp instead\.\n$/);
  } finally {
    removeContainers(readonly);
  }
});

test('- as DEST writes the engine\'s tar to stdout (never to a terminal); - as SRC reads a tar from stdin', async () => {
  const out = await porthole(['cp', `${normal}:/d`, '-']);
  assert.equal(out.code, 0, out.stderr);
  const viaDocker = execFileSync('docker', ['cp', `${normal}:/d`, '-'], { maxBuffer: 64 * 1024 * 1024 });
  // Sizes first: a short tar (output lost at exit) reads better as sizes than as two hashes.
  assert.equal(out.stdoutBytes.length, viaDocker.length);
  assert.equal(sha256(out.stdoutBytes), sha256(viaDocker));
  const listing = execFileSync('tar', ['-tf', '-'], { input: out.stdoutBytes, encoding: 'utf8' });
  assert.match(listing, /^d\/big$/m);
  const tty = await portholeInTty(['cp', `${normal}:/d`, '-'], '');
  assert.equal(tty.code, 2);
  assert.match(tty.stdout, /porthole cp will not write a tar archive to a terminal\./);
  const host = fresh('stdin');
  mkdirSync(join(host, 'pkg'));
  writeFileSync(join(host, 'pkg/x'), 'from stdin');
  const tar = execFileSync('tar', ['-C', host, '-c', 'pkg']);
  const r = await porthole(['cp', '-', `${normal}:/in`], { input: tar });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(docker(['exec', normal, 'cat', '/in/pkg/x']), 'from stdin');
  const notDir = await porthole(['cp', '-', `${normal}:/d/a`], { input: tar });
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /must be an existing folder when the tar comes from stdin/);
});

test('the engine closing the connection mid-copy: non-zero exit, one sentence, nothing half-written left', async () => {
  const proxyPath = join(work, 'cut.sock');
  const proxy = await engineProxy({ socketPath: proxyPath, cutAfter: 1024 * 1024 });
  try {
    const dest = fresh('cut');
    writeFileSync(join(dest, 'mine'), 'user file');
    const r = await porthole(['cp', `${normal}:/d`, dest], { env: { DOCKER_HOST: `unix://${proxyPath}` } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^porthole: Copying .*:\/d failed: The engine closed the connection in the middle of the copy\. Nothing of this copy was left in the destination\.\n$/);
    assert.deepEqual(readdirSync(dest), ['mine']);
    const toStdout = await porthole(['cp', `${normal}:/d`, '-'], { env: { DOCKER_HOST: `unix://${proxyPath}` } });
    assert.equal(toStdout.code, 1);
    assert.match(toStdout.stderr, /failed after .*: the engine closed the connection in the middle of the copy\. What reached stdout is an incomplete tar\.\n$/);
  } finally {
    await proxy.close();
  }
});

test('a container removed during a copy: the engine finishes the stream first, so the copy is whole or nothing', async () => {
  const doomed = runContainer(uniqueName('cp-doomed'), [], BUSYBOX_IMAGE, ['sh', '-c', 'head -c 3000000 /dev/urandom > /big && touch /ready && exec sleep 100000']);
  for (let i = 0; i < 50 && dockerStatus(['exec', doomed, 'test', '-e', '/ready']).status !== 0; i++) execFileSync('sleep', ['0.1']);
  const expected = docker(['exec', doomed, 'sha256sum', '/big']).split(' ')[0];
  const proxyPath = join(work, 'doomed.sock');
  const proxy = await engineProxy({ socketPath: proxyPath, delayMs: 10 });
  try {
    const dest = fresh('doomed');
    const copy = porthole(['cp', `${doomed}:/big`, join(dest, 'big')], { env: { DOCKER_HOST: `unix://${proxyPath}`, ...VIA_ENGINE } });
    for (let i = 0; i < 100 && proxy.bytesDown() < 200_000; i++) await new Promise((r) => setTimeout(r, 20));
    const removed = runProcess('docker', ['rm', '-f', doomed]); // asynchronous: the proxy must keep forwarding
    const r = await copy;
    assert.equal((await removed).code, 0);
    if (r.code === 0) assert.equal(sha256File(join(dest, 'big')), expected);
    else {
      assert.match(r.stderr, /^porthole: .*\.\n$/);
      assert.deepEqual(readdirSync(dest), []);
    }
  } finally {
    await proxy.close();
    removeContainers(doomed);
  }
});

test('Ctrl-C during a copy stops it promptly and removes what it wrote; progress shows on a terminal only', async () => {
  const proxyPath = join(work, 'slow.sock');
  const proxy = await engineProxy({ socketPath: proxyPath, delayMs: 25 });
  try {
    const dest = fresh('interrupt');
    const child = spawnPorthole(['cp', `${normal}:/d`, join(dest, 'copy')], { DOCKER_HOST: `unix://${proxyPath}` });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 100 && proxy.bytesDown() < 256 * 1024; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(join(dest, 'copy')), 'the copy had started');
    const sentAt = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.ok(Date.now() - sentAt < 3000, 'stopped promptly');
    assert.equal(stderr, `porthole: The copy was stopped; what it had created in ${join(dest, 'copy')} was removed.\n`, 'an interrupted copy says only what it left');
    assert.deepEqual(readdirSync(dest), []);

    const tty = await portholeInTty(['cp', `${normal}:/d/big`, join(dest, 'big')], '', { env: { DOCKER_HOST: `unix://${proxyPath}`, ...VIA_ENGINE }, timeoutMs: 60_000 });
    assert.equal(tty.code, 0, tty.stdout);
    assert.match(tty.stdout, /Copying: [\d.]+ (KiB|MiB), [\d.]+ (KiB|MiB)\/s/);
    assert.match(tty.stdout, /Copied 5\.0 MiB to .*big in [\d.]+ s/);
    assert.equal(sha256File(join(dest, 'big')), bigSha.value);
    const quiet = await portholeInTty(['cp', '-q', `${normal}:/d/big`, join(dest, 'big2')], '', { env: { DOCKER_HOST: `unix://${proxyPath}`, ...VIA_ENGINE }, timeoutMs: 60_000 });
    assert.equal(quiet.code, 0);
    assert.doesNotMatch(quiet.stdout, /Copying|Copied/);
    const piped = await porthole(['cp', `${normal}:/d/big`, join(dest, 'big3')], { env: { DOCKER_HOST: `unix://${proxyPath}`, ...VIA_ENGINE } });
    assert.equal(piped.stderr, '');
  } finally {
    await proxy.close();
  }
});

test('usage errors are one sentence with the right exit code', async () => {
  const both = await porthole(['cp', 'a:/x', 'b:/y']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^porthole: porthole cp copies between a container and the host, not between two containers\./);
  const none = await porthole(['cp', 'x', 'y']);
  assert.equal(none.code, 2);
  const noContainer = await porthole(['cp', 'pt-no-such-container-xyz:/x', work]);
  assert.equal(noContainer.code, 3);
  const noPath = await porthole(['cp', `${normal}:/nope`, join(work, 'nope')]);
  assert.equal(noPath.code, 3);
  assert.match(noPath.stderr, /^porthole: No such file or folder in the container: .*:\/nope\./);
  const noParent = await porthole(['cp', `${normal}:/d/a`, join(work, 'no/such/parent/x')]);
  assert.equal(noParent.code, 3);
  assert.match(noParent.stderr, /^porthole: The destination folder .*no\/such\/parent does not exist\./);
});
