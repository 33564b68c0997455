// Plain files are read straight from the container's storage layers where the engine runs here
// (src/engine/docker/layer.ts); links on the way, volumes and the like still go through the engine. The report must be the same
// either way: PORTHOLE_LAYER_READS=0 turns the direct reads off for the comparison, and PORTHOLE_TRACE shows
// which files went through the engine's archive endpoint.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { docker, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { waitFor } from '../support/crash.js';

const made: string[] = [];
const volumes: string[] = [];
const dirs: string[] = [];
after(() => {
  removeContainers(...made);
  for (const v of volumes) docker(['volume', 'rm', '-f', v]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
before(() => ensureBusyboxImage());

/** A folder on the host for this file's copies, removed at the end. */
function hostDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pt-layer-cp-'));
  dirs.push(dir);
  return dir;
}

/** A running container of this file's. */
function running(script: string): string {
  const name = uniqueName('layer-run');
  made.push(name);
  runContainer(name, [], undefined, ['sh', '-c', script]);
  return name;
}

/** `porthole cp -q ARGS` that must succeed with no read through the archive endpoint: the file came from the layer. */
async function cpFromLayer(...args: string[]) {
  const r = await porthole(['cp', '-q', ...args], { env: { PORTHOLE_TRACE: '1' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(archivedPaths(r.stderr), []);
  return r;
}

/** The paths `porthole why` read through the engine's archive endpoint, and its report. */
async function whyReads(name: string, env: Record<string, string> = {}): Promise<{ report: string; archived: string[] }> {
  const r = await porthole(['why', name], { env: { PORTHOLE_TRACE: '1', ...env } });
  assert.equal(r.code, 0, r.stderr);
  const archived = archivedPaths(r.stderr);
  // "exited 294 ms ago" moves between two runs
  return { report: r.stdout.replace(/exited [\d.]+ \w+ ago/, 'exited (a while) ago'), archived };
}

async function crashed(script: string, extra: string[] = []): Promise<string> {
  const name = uniqueName('layer');
  made.push(name);
  runContainer(name, extra, undefined, ['sh', '-c', script]);
  await waitFor(name, (s) => s.Status === 'exited');
  return name;
}

test('a log the container wrote is read from its layer: same report, no archive read for it', async () => {
  const name = await crashed('mkdir -p /var/log/app; printf "starting\\nERROR: bad value in /etc/app.conf:2\\n" > /var/log/app/app.log; printf "a=1\\nb=oops\\n" > /etc/app.conf; exit 1');
  const direct = await whyReads(name);
  const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
  assert.equal(direct.report, viaEngine.report);
  assert.match(direct.report, /ERROR: bad value in \/etc\/app\.conf:2/);
  assert.match(direct.report, /> 2 \| b=oops/);
  assert.deepEqual(direct.archived, [], `the log and the config the container wrote came from its layer:\n${direct.report}`);
  assert.deepEqual(viaEngine.archived.sort(), ['/etc/app.conf', '/var/log/app/app.log'], viaEngine.report);
});

test('files behind a link or in a volume still go through the engine; the image\'s own files need not', async () => {
  const volume = uniqueName('layer-vol');
  volumes.push(volume);
  docker(['volume', 'create', volume]);
  // /logs is a volume; /conf is a link to a folder the container made; /etc/passwd comes from the image
  const name = await crashed(
    'mkdir -p /real; ln -s /real /conf; printf "x=1\\ny=2\\nz=3\\n" > /real/app.conf; echo "kept in a volume" > /logs/app.log; ' +
      'echo "ERROR: see /conf/app.conf:3" >&2; echo "ERROR: and /logs/app.log:1" >&2; echo "root entry at /etc/passwd:1" >&2; exit 2',
    ['-v', `${volume}:/logs`],
  );
  const direct = await whyReads(name);
  const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
  assert.equal(direct.report, viaEngine.report);
  assert.match(direct.report, /> 3 \| z=3/);
  assert.match(direct.report, /> 1 \| root:x:0:0/);
  assert.match(direct.report, /> 1 \| kept in a volume/);
  for (const path of ['/conf/app.conf', '/logs/app.log']) assert.ok(direct.archived.includes(path), `${path} went through the engine: ${direct.archived}`);
  // /etc/passwd: the image layer's file, once the engine's stat (a HEAD, no tar) said it is that file
  assert.ok(!direct.archived.includes('/etc/passwd'), `${direct.archived}`);
  assert.ok(viaEngine.archived.includes('/etc/passwd'));
});

test('a file the container deleted, or hid under a folder it remade, is not read from the image below', async () => {
  for (const script of ['rm /etc/passwd', 'rm -rf /etc; mkdir /etc; echo other > /etc/other']) {
    const name = await crashed(`${script}; echo "ERROR: see /etc/passwd:1" >&2; exit 1`);
    const direct = await whyReads(name);
    const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
    assert.equal(direct.report, viaEngine.report, script);
    assert.match(direct.report, /ERROR: see \/etc\/passwd:1/);
    assert.doesNotMatch(direct.report, /root:x:0:0/, `${script}: the deleted file was shown`);
  }
});

test('cat gives the same bytes from the layers as through the engine, and skips the archive endpoint for plain files', async () => {
  const name = await crashed('head -c 300000 /dev/urandom > /var/blob; printf "x\\0y" > /etc/zero; ln -s /var/blob /link; exit 0');
  for (const path of ['/var/blob', '/etc/zero', '/etc/passwd', '/link']) {
    const direct = await porthole(['cat', name, path], { env: { PORTHOLE_TRACE: '1' } });
    const viaEngine = await porthole(['cat', name, path], { env: { PORTHOLE_LAYER_READS: '0' } });
    assert.equal(direct.code, 0, direct.stderr);
    assert.ok(direct.stdoutBytes.equals(viaEngine.stdoutBytes), `${path}: different bytes`);
    const archived = archivedPaths(direct.stderr);
    // a link is resolved by the engine (one archive read), then its target comes from the layer
    assert.deepEqual(archived, path === '/link' ? ['/link'] : [], path);
  }
  assert.equal((await porthole(['cat', name, '/var/blob'])).stdoutBytes.length, 300000);
});

/** The paths a porthole run read through the engine's archive endpoint (from PORTHOLE_TRACE). */
function archivedPaths(stderr: string): string[] {
  return [...stderr.matchAll(/GET \S+\/archive\?path=(\S+) /g)].map((m) => decodeURIComponent(m[1]!));
}

test('cp of a plain file comes from the layers: the same file on disk as through the engine, and no archive read', async () => {
  const name = await crashed('head -c 300000 /dev/urandom > /var/blob; printf "x\\0y" > /etc/zero; echo s > /var/suid; chmod 4751 /var/suid; touch -d "2001-02-03 04:05:06" /var/blob; ln -s /var/blob /link; exit 0');
  const host = hostDir();
  // [path in the container, extra options, what went through the archive endpoint]
  const cases: [string, string[], string[]][] = [
    ['/var/blob', [], []],
    ['/etc/zero', [], []],
    ['/var/suid', [], []],
    ['/etc/passwd', [], []], // the image's file, once a HEAD said it is the one the container sees
    ['/link', [], ['/link']], // a link is copied as a link, by the engine
    ['/link', ['-L'], []], // -L: the engine's stat names the target, whose bytes come from the layer
  ];
  for (const [path, extra, expected] of cases) {
    const label = `${path} ${extra.join(' ')}`;
    const a = join(host, 'direct');
    const b = join(host, 'engine');
    mkdirSync(a);
    mkdirSync(b);
    const direct = await porthole(['cp', '-q', ...extra, `${name}:${path}`, a], { env: { PORTHOLE_TRACE: '1' } });
    const viaEngine = await porthole(['cp', '-q', ...extra, `${name}:${path}`, b], { env: { PORTHOLE_LAYER_READS: '0' } });
    assert.equal(direct.code, 0, `${label}: ${direct.stderr}`);
    assert.equal(viaEngine.code, 0, `${label}: ${viaEngine.stderr}`);
    assert.deepEqual(archivedPaths(direct.stderr), expected, label);
    const base = path.slice(path.lastIndexOf('/') + 1);
    const [x, y] = [join(a, base), join(b, base)];
    if (path === '/link' && !extra.length) {
      assert.equal(readlinkSync(x), '/var/blob', label);
      assert.equal(readlinkSync(y), '/var/blob', label);
    } else {
      const [sx, sy] = [statSync(x), statSync(y)];
      assert.ok(readFileSync(x).equals(readFileSync(y)), `${label}: different bytes`);
      assert.equal(sx.mode, sy.mode, `${label}: mode ${sx.mode.toString(8)} vs ${sy.mode.toString(8)}`);
      assert.equal(sx.mtimeMs, sy.mtimeMs, `${label}: mtime`);
    }
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  }
});

test('cp from the layers keeps the rules of the engine way: setuid dropped, a link standing in DEST replaced, not followed', async () => {
  const name = await crashed('echo secret-ish > /var/suid; chmod 4755 /var/suid; echo new > /var/conf; exit 0');
  const host = hostDir();
  const dest = join(host, 'dest');
  const outside = join(host, 'outside');
  mkdirSync(dest);
  writeFileSync(outside, 'untouched\n');
  symlinkSync(outside, join(dest, 'conf'));
  await cpFromLayer(`${name}:/var/conf`, dest);
  assert.equal(readFileSync(outside, 'utf8'), 'untouched\n', 'the copy wrote through the link standing in DEST');
  assert.equal(readFileSync(join(dest, 'conf'), 'utf8'), 'new\n');
  await cpFromLayer(`${name}:/var/suid`, join(dest, 'suid'));
  assert.equal(statSync(join(dest, 'suid')).mode & 0o7777, 0o755);
});

test('cp of a file a running container is still writing gives a prefix of it, cut where it stood when opened', async () => {
  const name = running('i=0; while :; do echo "line $i"; i=$((i+1)); done > /var/grow');
  const host = hostDir();
  await new Promise((r) => setTimeout(r, 300));
  await cpFromLayer(`${name}:/var/grow`, join(host, 'grow'));
  const copied = readFileSync(join(host, 'grow'));
  docker(['stop', '-t', '0', name]);
  const whole = (await porthole(['cat', name, '/var/grow'])).stdoutBytes;
  assert.ok(copied.length > 0 && copied.length < whole.length, `${copied.length} of ${whole.length} bytes`);
  assert.ok(whole.subarray(0, copied.length).equals(copied), 'the copy is not a prefix of the file');
});

test('Ctrl-C during a copy from the layers stops it and leaves nothing in DEST, saying only that', async () => {
  const name = running('head -c 400000000 /dev/zero > /var/big && touch /ready && exec sleep 1000');
  for (let i = 0; i < 300 && docker(['exec', name, 'sh', '-c', 'test -e /ready && echo y || true']) !== 'y'; i++) await new Promise((r) => setTimeout(r, 100));
  const dest = hostDir();
  const child = spawnPorthole(['cp', `${name}:/var/big`, join(dest, 'big')], { PORTHOLE_TRACE: '1' });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // interrupt once the copy is writing its (hidden) temporary file
  for (let i = 0; i < 2000 && !readdirSync(dest).length; i++) await new Promise((r) => setTimeout(r, 2));
  assert.equal(readdirSync(dest).length, 1, 'the copy had started');
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.deepEqual(archivedPaths(stderr), [], 'the file came from the layer');
  const said = stderr.split('\n').filter((line) => line.startsWith('porthole: '));
  assert.deepEqual(said, [`porthole: The copy was stopped; what it had created in ${join(dest, 'big')} was removed.`]);
  assert.deepEqual(readdirSync(dest), []);
});
