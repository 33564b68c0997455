// `porthole cp` out against the holes of issue 11, on the real engine with the built CLI: names that are not valid
// UTF-8 (merged into one file before), a DEST that is a link an earlier copy left there (followed before), and a copy
// stopped by SIGINT or SIGTERM, from the container's layer and from the engine's archive, to a folder and to stdout.
// (Entries out of order need a tar no container's file system can produce: test/unit/extract-safety.test.ts.)
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { BIN, porthole, spawnPorthole } from '../support/cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, dockerStatus, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { stableFingerprint } from '../support/cp.js';
import { engineProxy } from '../support/engine-proxy.js';

const work = mkdtempSync(join(tmpdir(), 'pt-cp-safety-'));
const made: string[] = [];
let names = '';
let linker = '';
let bigStopped = '';
let bigRunning = '';
const elsewhere = join(work, 'elsewhere');
const BIG = 256 * 1024 * 1024;

function fresh(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function waitUntil(check: () => boolean, ms: number, what: string): void {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

before(() => {
  ensureBusyboxImage();
  mkdirSync(elsewhere);
  writeFileSync(join(elsewhere, 'keep'), 'mine');
  names = uniqueName('cp-safety-names');
  made.push(names);
  docker(['run', '--name', names, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', [
    'mkdir -p /c',
    'echo one > "/c/$(printf "name\\377")"',
    'echo two > /c/name',
    'echo three > "/c/$(printf "na\\377me")"',
    'mkdir "/c/$(printf "d\\376")" && echo inside > "/c/$(printf "d\\376")/in"',
    'ln -s "$(printf "/t\\377")" /c/lnk',
    'ln "/c/$(printf "na\\377me")" "/c/$(printf "hard\\303")"',
  ].join(' && ')]);
  linker = uniqueName('cp-safety-linker');
  made.push(linker);
  docker(['run', '--name', linker, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', `mkdir -p /h && ln -s ${elsewhere} /h/evil && echo payload > /h/x && echo payload > /x`]);
  bigStopped = uniqueName('cp-safety-big-stopped');
  made.push(bigStopped);
  docker(['run', '--name', bigStopped, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', `mkdir /d && echo first > /d/a && head -c ${BIG} /dev/zero > /d/big && echo small > /d/small`]);
  bigRunning = runContainer(uniqueName('cp-safety-big-running'), [], BUSYBOX_IMAGE, ['sh', '-c', `mkdir /d && echo first > /d/a && head -c ${BIG} /dev/zero > /d/big && echo small > /d/small && touch /ready && exec sleep 100000`]);
  made.push(bigRunning);
  waitUntil(() => dockerStatus(['exec', bigRunning, 'test', '-e', '/ready']).status === 0, 120_000, 'the big file');
});

after(() => {
  removeContainers(...made);
  rmSync(work, { recursive: true, force: true });
});

const raw = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p as string)));

test('names that are not valid UTF-8 are copied byte for byte: name\\xff, name and na\\xffme stay three files', async () => {
  for (const env of [{}, { PORTHOLE_LAYER_READS: '0' }]) {
    const dest = fresh('names');
    const r = await porthole(['cp', `${names}:/c`, join(dest, 'c')], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const c = Buffer.from(join(dest, 'c'));
    const at = (...parts: (string | number[])[]) => Buffer.concat([c, Buffer.from('/'), raw(...parts)]);
    const listed = readdirSync(c, { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
    const expected = [raw('name', [0xff]), raw('name'), raw('na', [0xff], 'me'), raw('d', [0xfe]), raw('lnk'), raw('hard', [0xc3])];
    assert.deepEqual(listed, expected.map((n) => n.toString('hex')).sort());
    assert.equal(readFileSync(at('name', [0xff]), 'utf8'), 'one\n');
    assert.equal(readFileSync(at('name'), 'utf8'), 'two\n');
    assert.equal(readFileSync(at('na', [0xff], 'me'), 'utf8'), 'three\n');
    assert.equal(readFileSync(at('d', [0xfe], '/in'), 'utf8'), 'inside\n');
    assert.deepEqual(readlinkSync(at('lnk'), { encoding: 'buffer' }), raw('/t', [0xff]));
    assert.equal(lstatSync(at('hard', [0xc3])).ino, lstatSync(at('na', [0xff], 'me')).ino);
  }
});

test('copying in sends names that are not valid UTF-8 byte for byte too (they were dropped without a word)', async () => {
  const src = Buffer.from(fresh('names-in'));
  const at = (...parts: (string | number[])[]) => Buffer.concat([src, Buffer.from('/'), raw(...parts)]);
  writeFileSync(at('name', [0xff]), 'one');
  writeFileSync(at('name'), 'two');
  writeFileSync(at('na', [0xff], 'me'), 'three');
  mkdirSync(at('d', [0xfe]));
  writeFileSync(at('d', [0xfe], '/in'), 'inside');
  symlinkSync(raw('/t', [0xff]), at('lnk'));
  const inbox = runContainer(uniqueName('cp-safety-names-in'), [], BUSYBOX_IMAGE, ['sleep', '100000']);
  made.push(inbox);
  const r = await porthole(['cp', src.toString(), `${inbox}:/tmp/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  // find prints each path with its bytes; one line a path, the contents and link target after a tab
  const listing = execFileSync('docker', ['exec', inbox, 'sh', '-c', 'cd /tmp/names-in && for f in * */*; do if [ -L "$f" ]; then printf "%s\\t-> %s\\n" "$f" "$(readlink "$f")"; elif [ -f "$f" ]; then printf "%s\\t%s\\n" "$f" "$(cat "$f")"; else printf "%s\\t/\\n" "$f"; fi; done']);
  const lines = listing.toString('latin1').trim().split('\n').sort();
  const latin = (...parts: (string | number[])[]) => raw(...parts).toString('latin1');
  assert.deepEqual(lines, [
    `${latin('d', [0xfe])}\t/`,
    `${latin('d', [0xfe], '/in')}\tinside`,
    'lnk\t-> ' + latin('/t', [0xff]),
    `${latin('na', [0xff], 'me')}\tthree`,
    'name\ttwo',
    `${latin('name', [0xff])}\tone`,
  ].sort());
});

test('a DEST that is a link an earlier copy left there is refused; --follow-dest-link follows it and says so', async () => {
  const dest = fresh('dest-link');
  const first = await porthole(['cp', `${linker}:/h`, join(dest, 'out')]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(readlinkSync(join(dest, 'out/evil')), elsewhere);
  const before = stableFingerprint(linker);
  for (const target of ['out/evil', 'out/evil/', 'out/evil/.']) {
    for (const src of ['/h/x', '/x', '/h']) {
      const r = await porthole(['cp', `${linker}:${src}`, join(dest, target)]);
      assert.equal(r.code, 2, `${src} -> ${target}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `porthole: The destination ${join(dest, target)} is a symbolic link to ${elsewhere}; porthole does not write through links. Name the folder it points to, or pass --follow-dest-link to write there.\n`,
      );
      assert.deepEqual(readdirSync(elsewhere), ['keep']);
    }
  }
  const followed = await porthole(['cp', '--follow-dest-link', `${linker}:/x`, join(dest, 'out/evil')]);
  assert.equal(followed.code, 0, followed.stderr);
  assert.equal(followed.stderr, `porthole: the destination ${join(dest, 'out/evil')} is a symbolic link; following it to ${elsewhere} (--follow-dest-link).\n`);
  assert.equal(readFileSync(join(elsewhere, 'x'), 'utf8'), 'payload\n');
  rmSync(join(elsewhere, 'x'));
  // A link the user put there themselves is refused the same way (porthole cannot tell who made it).
  symlinkSync(join(dest, 'out'), join(dest, 'mine'));
  const mine = await porthole(['cp', `${linker}:/x`, join(dest, 'mine')]);
  assert.equal(mine.code, 2);
  assert.deepEqual(stableFingerprint(linker), before);
});

/** The copy's temporary file in `dir` once it holds some bytes: the copy is under way. */
function copyUnderWay(dir: string): boolean {
  const walk = (d: string): boolean =>
    readdirSync(d).some((n) => {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) return walk(p);
      return n.startsWith('.porthole-cp-') && st.size > 1024 * 1024;
    });
  try {
    return walk(dir);
  } catch {
    return false;
  }
}

interface Stopped {
  code: number | null;
  stderr: string;
  archived: boolean;
  msToExit: number;
}

/** Runs `porthole cp ARGS`, sends `signal` once the copy is under way in `dir`, and returns how it ended. */
async function stopMidway(args: string[], signal: NodeJS.Signals, dir: string, env: Record<string, string> = {}): Promise<Stopped> {
  const child = spawnPorthole(['cp', ...args], { PORTHOLE_TRACE: '1', ...env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = Date.now() + 60_000;
  while (!copyUnderWay(dir)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the copy never got under way: ${stderr}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const sentAt = Date.now();
  child.kill(signal);
  const code = await exited;
  const archived = /GET \S+\/archive\?path=/.test(stderr);
  return { code, stderr: stderr.replace(/^porthole-trace: .*\n/gm, ''), archived, msToExit: Date.now() - sentAt };
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} during a copy out, from the layer and from the engine: exit ${code}, DEST as it was, container unchanged, nothing left on the engine`, async () => {
    const cases: { container: string; src: string; env: Record<string, string>; archived: boolean }[] = [
      // one plain file of a stopped container: read from its layer
      { container: bigStopped, src: '/d/big', env: {}, archived: false },
      // the same file through the engine's archive, and a folder of a running container (always the engine's)
      { container: bigStopped, src: '/d/big', env: { PORTHOLE_LAYER_READS: '0' }, archived: true },
      { container: bigRunning, src: '/d', env: {}, archived: true },
    ];
    for (const kase of cases) {
      const label = `${signal} ${kase.container}:${kase.src} ${JSON.stringify(kase.env)}`;
      const id = docker(['inspect', '-f', '{{.Id}}', kase.container]);
      const before = stableFingerprint(kase.container);
      const dest = fresh(`stop-${signal}`);
      writeFileSync(join(dest, 'keep'), 'mine');
      const target = join(dest, 'copy');
      const r = await stopMidway([`${kase.container}:${kase.src}`, target], signal, dest, kase.env);
      assert.equal(r.code, code, `${label}: ${r.stderr}`);
      assert.equal(r.archived, kase.archived, `${label}: read from the ${kase.archived ? 'engine' : 'layer'}`);
      assert.ok(r.msToExit < 5000, `${label}: stopped in ${r.msToExit} ms`);
      assert.equal(r.stderr, `porthole: The copy was stopped; what it had created in ${target} was removed.\n`, label);
      assert.deepEqual(readdirSync(dest), ['keep'], label);
      assert.equal(readFileSync(join(dest, 'keep'), 'utf8'), 'mine');
      assert.deepEqual(leftoversFor(id), [], label);
      assert.deepEqual(stableFingerprint(kase.container), before, label);
    }
  });
}

test('a stopped copy that had already replaced files says so; one to stdout says its tar is incomplete', async () => {
  // The engine sends /d in name order: a, big, small. `a` replaces the file of that name before big is under way.
  const dest = fresh('stop-replaced');
  mkdirSync(join(dest, 'd'));
  for (const name of ['a', 'big', 'small']) writeFileSync(join(dest, 'd', name), `old ${name}`);
  const r = await stopMidway([`${bigRunning}:/d`, dest], 'SIGTERM', dest);
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.stderr, `porthole: The copy was stopped; what it had created in ${dest} was removed; 1 file that was there before was already replaced by the container's.\n`);
  assert.equal(readFileSync(join(dest, 'd/a'), 'utf8'), 'first\n');
  // A file is replaced only once wholly written: the old big file and the one after it are as they were.
  assert.equal(readFileSync(join(dest, 'd/big'), 'utf8'), 'old big');
  assert.equal(readFileSync(join(dest, 'd/small'), 'utf8'), 'old small');
  assert.deepEqual(readdirSync(join(dest, 'd')).sort(), ['a', 'big', 'small']);

  // To stdout: what was written cannot be taken back, so porthole says what it is.
  const child = spawnPorthole(['cp', `${bigRunning}:/d`, '-']);
  let stderr = '';
  let bytes = 0;
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => (bytes += d.length));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const until = Date.now() + 60_000;
  while (bytes < 8 * 1024 * 1024 && Date.now() < until) await new Promise((res) => setTimeout(res, 5));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /^porthole: The copy was stopped after [\d.]+ (KiB|MiB); what reached stdout is an incomplete tar\.\n$/);
  assert.ok(bytes < BIG, 'stopped before the end');
});

test('Ctrl-C typed on a terminal mid-copy (script -qec): exit 130, the progress line cleared, DEST as it was', async () => {
  // The real engine behind a slow socket, so the copy lasts long enough to draw its progress line first.
  const proxyPath = join(work, 'slow.sock');
  const proxy = await engineProxy({ socketPath: proxyPath, delayMs: 25 });
  try {
    const dest = fresh('stop-tty');
    const target = join(dest, 'copy');
    const command = `exec ${BIN} cp ${bigRunning}:/d ${target}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, SHELL: '/bin/bash', DOCKER_HOST: `unix://${proxyPath}` }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const until = Date.now() + 60_000;
    while (!(copyUnderWay(dest) && /Copying: /.test(screen))) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the copy never got under way: ${screen}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.stdin.write('\x03');
    assert.equal(await exited, 130, screen);
    // The progress line is cleared (\r ESC[K) and the sentence stands alone on its line.
    assert.match(screen, /Copying: [^\r\n]*\r\x1b\[Kporthole: The copy was stopped; what it had created in \S+ was removed\.\r?\n/);
    assert.ok(screen.includes(target), screen);
    assert.deepEqual(readdirSync(dest), []);
  } finally {
    await proxy.close();
  }
});

/** How far porthole (pid) has read the host file `path`, from its open file descriptions; -1 when not open. */
function readPosition(pid: number, path: string): number {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target !== path) continue;
      const pos = /^pos:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (pos) return Number(pos[1]);
    }
  } catch {
    // the process is gone
  }
  return -1;
}

test('SIGINT or SIGTERM during a copy into a container: exit 130/143, a sentence saying what may already be there, nothing left on the engine', async () => {
  const source = join(work, 'big-in');
  writeFileSync(source, Buffer.alloc(BIG));
  const inbox = runContainer(uniqueName('cp-safety-inbox'), [], BUSYBOX_IMAGE, ['sh', '-c', 'mkdir -p /in && exec sleep 100000']);
  made.push(inbox);
  const id = docker(['inspect', '-f', '{{.Id}}', inbox]);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const child = spawnPorthole(['cp', source, `${inbox}:/in/${signal}`]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const until = Date.now() + 60_000;
    while (readPosition(child.pid!, source) < 16 * 1024 * 1024) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the copy never got under way: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill(signal);
    assert.equal(await exited, code, stderr);
    assert.match(stderr, new RegExp(`^porthole: The copy into ${inbox}:/in/${signal} was stopped after [\\d.]+ MiB; the part the engine had already written there stays, possibly ending in a cut-off file\\.\\n$`));
    // What the sentence says: the engine extracts as the tar arrives and keeps the cut-off file.
    const size = Number(docker(['exec', inbox, 'stat', '-c', '%s', `/in/${signal}`]));
    assert.ok(size > 0 && size < BIG, `a cut-off file of ${size} bytes`);
    assert.deepEqual(leftoversFor(id), []);
  }
});
