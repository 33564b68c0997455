// The `porthole` executable: loads the bundled CLI (dist/porthole-app.cjs) through V8's code cache.
//
// Node 20 has no compile cache of its own (module.enableCompileCache came in Node 22), and compiling the bundle
// is most of porthole's own start-up: with the cache, `porthole ps C` starts about 30 ms sooner here. The cache is
// written once per build, Node version and command, after the command ran, so it holds the functions that command
// really used. It lives in $XDG_CACHE_HOME/porthole (default ~/.cache/porthole) in a folder only this user can write,
// because a code cache is code. PORTHOLE_CODE_CACHE=0 turns it off. Anything wrong with the cache (unreadable,
// stale, from another V8) only means compiling from source, as without it.
//
// Not v8-compile-cache: it hooks every module's compile and produces each cache right after compiling, which holds
// only the top level (V8 compiles functions when first called), and it keeps caches under $TMP. Here there is one
// file, and the cache made after the run is the one that skips the compiling a command really does.
//
// Kept to node: builtins and plain statements: everything here runs before the cache can help.
import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Module } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { cacheFolder } from './util/cache-folder.js';

declare const PORTHOLE_BUILD_ID: string;

// The first line under the shebang (scripts/build.mjs) is shell to sh and a comment to Node: when NODE_EXTRA_CA_CERTS
// is set, it moves it to PORTHOLE_NODE_EXTRA_CA_CERTS before starting Node, because Node reads and parses that
// file at start-up, before any code runs (80 ms per command on this project's machine). Put back here for the
// programs porthole starts (editors, ssh); the engine connection adds the certificates itself where it needs
// them (src/engine/docker/discovery.ts).
const extraCa = process.env.PORTHOLE_NODE_EXTRA_CA_CERTS;
if (extraCa !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = extraCa;
  delete process.env.PORTHOLE_NODE_EXTRA_CA_CERTS;
}

const app = join(__dirname, 'porthole-app.cjs');
if (process.argv.includes('--debug') || process.argv.includes('-D')) {
  // --debug prints stack traces: load the app the plain way, with its source map, so they name src/ lines.
  process.setSourceMapsEnabled(true);
  require(app);
} else {
  runCached();
}

function runCached(): void {
  // The bundle is ASCII (scripts/build.mjs checks): read as latin1, it needs no UTF-8 decoding (about 1.5 ms).
  const source = readFileSync(app, 'latin1');
  const cacheDir = codeCacheFolder();
  // One cache per command: the first word that looks like one (global flags and their values come first and are
  // skipped: `-n shop why` is `why`, not a cache per namespace). Kubernetes names run other code than container
  // names, so they get their own cache (`why-k8s`).
  const argv = process.argv.slice(2);
  let word: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^(-H|--host|-c|--context|--kubeconfig|--kube-context|-n|--namespace)$/.test(arg)) i++;
    else if (!arg.startsWith('-')) {
      word = arg;
      break;
    }
  }
  const kube = argv.some((a) => /^(pods?|po|deploy(ments?)?|sts|statefulsets?|ds|daemonsets?|jobs?|rs|replicasets?)\//i.test(a));
  const key = word && /^[a-z]{2,12}$/.test(word) ? `${word}${kube ? '-k8s' : ''}` : 'other';
  const cacheFile = cacheDir && join(cacheDir, `${PORTHOLE_BUILD_ID}-${process.version}-${process.arch}-${key}.v8`);
  let cached: Buffer | undefined;
  if (cacheFile) {
    try {
      cached = readFileSync(cacheFile);
    } catch {
      // no cache yet
    }
  }
  const script = new Script(Module.wrap(source), { filename: app, cachedData: cached });
  // Written at exit, so it holds what this command compiled on the way, not only the top level.
  if (cacheDir && cacheFile && (!cached || script.cachedDataRejected)) process.once('exit', () => saveCache(script, cacheDir, cacheFile));
  const wrapper = script.runInThisContext() as (e: unknown, r: NodeRequire, m: NodeModule, f: string, d: string) => void;
  wrapper(module.exports, require, module, app, __dirname);
}

/** The cache folder, or undefined when the cache is off or the folder is not safely ours. */
function codeCacheFolder(): string | undefined {
  return process.env.PORTHOLE_CODE_CACHE === '0' ? undefined : cacheFolder(process.env);
}

/** Writes the cache with what the command compiled, atomically; drops caches of other builds. Never fails the run. */
function saveCache(script: Script, dir: string, file: string): void {
  try {
    const data = script.createCachedData();
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.v8') && !name.startsWith(`${PORTHOLE_BUILD_ID}-`)) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // a cache we cannot write is only a slower next start
  }
}
