// The executable itself (src/launch.ts): the code cache it keeps, and NODE_EXTRA_CA_CERTS kept from Node's start-up
// but still honoured. Run as a user runs it: the file itself, through its shebang, not `node FILE`.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('the code cache: written once per command after it ran, private to the user, and reused', async () => {
  const cacheHome = join(work, 'cache-a');
  const first = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(first.code, 0, first.stderr);
  const dir = join(cacheHome, 'porthole');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const files = codeCaches(dir);
  assert.equal(files.length, 1, files.join(' '));
  assert.equal(statSync(join(dir, 'engines.json')).mode & 0o777, 0o600);
  assert.match(files[0]!, new RegExp(`^[0-9a-f]{16}-${process.version}-${process.arch}-engine\\.v8$`));
  assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600);
  const written = statSync(join(dir, files[0]!)).mtimeMs;
  // The second run reads it and leaves it alone; another command gets its own.
  const second = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(second.stdout, first.stdout);
  assert.equal(statSync(join(dir, files[0]!)).mtimeMs, written);
  const version = await run(['--version'], { XDG_CACHE_HOME: cacheHome });
  assert.match(version.stdout, /^porthole \d+\.\d+\.\d+\n$/);
  assert.equal(codeCaches(dir).length, 2);
});

test('a damaged cache only means compiling from source; a cache of another build is removed', async () => {
  const cacheHome = join(work, 'cache-b');
  await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  const dir = join(cacheHome, 'porthole');
  const [file] = codeCaches(dir);
  writeFileSync(join(dir, file!), Buffer.alloc(4096, 0x5a));
  writeFileSync(join(dir, '0123456789abcdef-v0.0.0-x64-engine.v8'), 'old build');
  const r = await run(['engine', '--json'], { XDG_CACHE_HOME: cacheHome });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(JSON.parse(r.stdout).engineVersion, docker(['version', '--format', '{{.Server.Version}}']));
  // rewritten from this run, and the other build's file is gone
  assert.notEqual(readFileSync(join(dir, file!))[0], 0x5a);
  assert.deepEqual(codeCaches(dir), [file]);
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
