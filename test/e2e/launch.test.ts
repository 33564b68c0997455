// The executable itself (src/launch.ts, its first line in scripts/build.mjs): which Node it runs on, the one sentence
// for a Node too old, the code cache it keeps, and NODE_EXTRA_CA_CERTS passed on untouched. Run as a user runs it:
// the file itself, through its shebang, not `node FILE`.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, runProcess } from '../support/cli.js';
import { docker } from '../support/docker.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'porthole-launch-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string | undefined>) => runProcess(BIN, args, { env });
/** The code caches in the folder (it also keeps engines.json, the API versions of local engines). */
const codeCaches = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.v8'));

test('the code cache: written per command after it ran, private to the user, grown by the first three runs, then only read', async () => {
  const cacheHome = join(work, 'cache-a');
  const first = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(first.code, 0, first.stderr);
  const dir = join(cacheHome, 'porthole');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const files = codeCaches(dir);
  assert.equal(files.length, 1, files.join(' '));
  assert.equal(statSync(join(dir, 'engines.json')).mode & 0o777, 0o600);
  assert.match(files[0]!, new RegExp(`^[0-9a-f]{16}-${process.version}-${process.arch}-engine\\.v8$`));
  const file = join(dir, files[0]!);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  // its first byte counts the runs that wrote it; each of the first three adds what it compiled (the second runs
  // another way: --json off)
  assert.equal(readFileSync(file)[0], 1);
  const second = await run(['engine'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(readFileSync(file)[0], 2);
  const third = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(third.stdout, first.stdout);
  assert.equal(readFileSync(file)[0], 3);
  // from then on it is only read
  const written = statSync(file).mtimeMs;
  const size = statSync(file).size;
  const fourth = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(fourth.stdout, first.stdout);
  assert.equal(statSync(file).mtimeMs, written);
  assert.equal(statSync(file).size, size);
  // another command gets its own
  const version = await run(['--version'], { XDG_CACHE_HOME: cacheHome });
  assert.match(version.stdout, /^porthole \d+\.\d+\.\d+\n$/);
  assert.equal(codeCaches(dir).length, 2);
});

test('a run that fails or prints help keeps only a partial cache, until one that succeeds writes the command\'s', async () => {
  const cacheHome = join(work, 'cache-partial');
  const dir = join(cacheHome, 'porthole');
  const failed = await run(['engine', '--no-such-flag'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(failed.code, 2, failed.stderr);
  assert.deepEqual(codeCaches(dir).map((name) => name.replace(/^.*-x64-/, '')), ['engine.partial.v8']);
  const partial = join(dir, codeCaches(dir)[0]!);
  const written = statSync(partial).mtimeMs;
  const help = await run(['engine', '--help'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: porthole engine/);
  // help succeeded, but went a short way too: the partial cache is used and left as it was
  assert.deepEqual(codeCaches(dir).map((name) => name.replace(/^.*-x64-/, '')), ['engine.partial.v8']);
  assert.equal(statSync(partial).mtimeMs, written);
  const ok = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(codeCaches(dir).map((name) => name.replace(/^.*-x64-/, '')), ['engine.v8']);
  // and a later failure leaves the command's cache alone
  const full = join(dir, codeCaches(dir)[0]!);
  const fullWritten = statSync(full).mtimeMs;
  await run(['engine', '--no-such-flag'], { XDG_CACHE_HOME: cacheHome });
  assert.deepEqual(codeCaches(dir).map((name) => name.replace(/^.*-x64-/, '')), ['engine.v8']);
  assert.equal(statSync(full).mtimeMs, fullWritten);
});

test('each command runs from a bundle of its own; ui and completion, which reach other commands, from the whole CLI', async () => {
  const dist = dirname(BIN);
  const help = await run(['--help'], { XDG_CACHE_HOME: join(work, 'cache-bundles') });
  const names = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.length > 20, help.stdout);
  const own = readdirSync(dist).filter((f) => /^porthole-app-[a-z]+\.cjs$/.test(f)).map((f) => f.slice('porthole-app-'.length, -'.cjs'.length));
  assert.deepEqual(own.sort(), names.filter((n) => n !== 'ui' && n !== 'completion').sort());
  // A copy of the executable with the command bundles only, no whole CLI: each command still answers (global
  // flags before it, as the launcher must skip them), and ui, which has no bundle of its own, cannot start.
  const copy = join(work, 'bundles-only');
  mkdirSync(copy);
  copyFileSync(BIN, join(copy, 'porthole.cjs'));
  for (const name of own) copyFileSync(join(dist, `porthole-app-${name}.cjs`), join(copy, `porthole-app-${name}.cjs`));
  const env = { XDG_CACHE_HOME: join(work, 'cache-bundles'), PORTHOLE_NODE: process.execPath };
  for (const name of own) {
    const r = await runProcess(join(copy, 'porthole.cjs'), ['-n', 'ps', '--tlscacert=x', name, '--help'], { env });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: porthole ${name}\\b`));
  }
  const engine = await runProcess(join(copy, 'porthole.cjs'), ['engine', '--json'], { env });
  assert.equal(engine.code, 0, engine.stderr);
  assert.equal(JSON.parse(engine.stdout).engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  const ui = await runProcess(join(copy, 'porthole.cjs'), ['ui', '--help'], { env });
  assert.notEqual(ui.code, 0);
  assert.match(ui.stderr, /porthole-app\.cjs/);
});

test('a damaged cache only means compiling from source; a cache of another build is removed once unused for a week', async () => {
  const cacheHome = join(work, 'cache-b');
  await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  const dir = join(cacheHome, 'porthole');
  const [file] = codeCaches(dir);
  writeFileSync(join(dir, file!), Buffer.alloc(4096, 0x5a));
  // another build unused for 8 days, and one used today (a clone and an installed copy taking turns)
  const old = join(dir, '0123456789abcdef-v0.0.0-x64-engine.v8');
  writeFileSync(old, 'old build');
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(old, eightDaysAgo, eightDaysAgo);
  const recent = 'fedcba9876543210-v0.0.0-x64-engine.v8';
  writeFileSync(join(dir, recent), 'a build used today');
  const r = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(JSON.parse(r.stdout).engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  // rewritten from this run; the other build's unused file is gone, the one in use kept
  assert.notEqual(readFileSync(join(dir, file!))[0], 0x5a);
  assert.deepEqual(codeCaches(dir).sort(), [file, recent].sort());
});

test('no cache where others could write code for us, or when turned off', async () => {
  const shared = join(work, 'cache-c');
  mkdirSync(join(shared, 'porthole'), { recursive: true });
  chmodSync(join(shared, 'porthole'), 0o777);
  const r = await run(['--version'], { XDG_CACHE_HOME: shared });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(shared, 'porthole')), []);
  const off = join(work, 'cache-d');
  const r2 = await run(['--version'], { XDG_CACHE_HOME: off, PORTHOLE_CODE_CACHE: '0' });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(existsSync(off), false);
});

test('NODE_EXTRA_CA_CERTS reaches the programs porthole starts exactly as it was set', async () => {
  // ssh is the program porthole starts for ssh:// engines; this stand-in records its environment.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const log = join(work, 'ssh-env');
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nenv > ${log}\nexec docker system dial-stdio\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  const extra = join(work, 'extra ca.pem');
  writeFileSync(extra, '');
  const r = await run(['-H', 'ssh://box', 'engine', '--json'], { PATH: `${bin}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: extra });
  assert.equal(r.code, 0, r.stderr);
  const env = readFileSync(log, 'utf8');
  assert.ok(env.split('\n').includes(`NODE_EXTRA_CA_CERTS=${extra}`), env);
  assert.doesNotMatch(env, /PORTHOLE_NODE_EXTRA_CA_CERTS/);
});

/** A `node` that only records that it was asked to run something, to see which Node the first line picks. */
function fakeNode(dir: string): { bin: string; log: string } {
  const bin = join(work, dir);
  mkdirSync(bin);
  const log = join(bin, 'ran');
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho "$@" > '${log}'\nexit 9\n`);
  chmodSync(join(bin, 'node'), 0o755);
  return { bin, log };
}

test('in a clone it runs on the clone\'s own Node (the node devDependency), also through a symlink; elsewhere on PATH\'s', async () => {
  const clonesNode = join(dirname(BIN), '..', 'node_modules', 'node', 'bin', 'node');
  assert.ok(existsSync(clonesNode), 'npm ci installs the node devDependency');
  const wanted = spawnSync(clonesNode, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
  const cacheHome = join(work, 'cache-clone');
  const { bin, log } = fakeNode('bin-clone');
  const env = { PATH: `${bin}:${process.env.PATH}`, PORTHOLE_NODE: undefined, XDG_CACHE_HOME: cacheHome };
  const direct = await run(['engine', '--json'], env);
  assert.equal(direct.code, 0, direct.stderr);
  // the code cache is named after the Node that ran the command
  assert.deepEqual(codeCaches(join(cacheHome, 'porthole')).map((name) => name.split('-')[1]), [wanted]);
  // a symlink elsewhere (a docker CLI plugin, npm's bin link) still finds the clone
  const link = join(work, 'docker-porthole');
  symlinkSync(BIN, link);
  const linked = await runProcess(link, ['--version'], { env });
  assert.equal(linked.code, 0, linked.stderr);
  assert.match(linked.stdout, /^porthole \d+\.\d+\.\d+\n$/);
  assert.equal(existsSync(log), false);
  // a copy with no node_modules beside it (an installed package) runs on the node on PATH
  const installed = join(work, 'installed');
  mkdirSync(installed);
  copyFileSync(BIN, join(installed, 'porthole.cjs'));
  const elsewhere = await runProcess(join(installed, 'porthole.cjs'), ['--version'], { env });
  assert.equal(elsewhere.code, 9);
  assert.equal(readFileSync(log, 'utf8'), `${join(installed, 'porthole.cjs')} --version\n`);
});

test('PORTHOLE_NODE names the Node that runs porthole, before the clone\'s and PATH\'s', async () => {
  const { bin, log } = fakeNode('bin-chosen');
  const r = await run(['ps', '--json'], { PORTHOLE_NODE: join(bin, 'node') });
  assert.equal(r.code, 9);
  assert.equal(readFileSync(log, 'utf8'), `${BIN} ps --json\n`);
});

// A machine's system Node may well be 20 (this project's is): found on PATH, it must say so, not fail somewhere inside.
const oldNode = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((path) => {
  const major = Number(spawnSync(path, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout?.trim());
  return major > 0 && major < 22;
});
test('a Node older than 22.8 gets one sentence and exit 1', { skip: oldNode ? false : 'no Node older than 22 on this machine' }, async () => {
  const version = spawnSync(oldNode!, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
  for (const args of [['ps'], ['--version'], ['--debug', 'ps']]) {
    const r = await run(args, { PORTHOLE_NODE: oldNode });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `porthole: Node ${version} is too old for porthole, which needs Node 22.8 or later (24 LTS or 22 LTS): install one, or set PORTHOLE_NODE to its node binary.\n`);
  }
});
