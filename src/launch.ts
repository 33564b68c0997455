// The `porthole` executable: loads the bundled CLI (dist/porthole-app-COMMAND.cjs, else dist/porthole-app.cjs) through
// V8's code cache.
//
// Compiling the bundle is most of porthole's own start-up: with the cache, `porthole ps C` starts about 20 ms
// sooner here (30-60 under load). The cache is written per build, Node version and command, after the command ran
// and succeeded (by its first three such runs), so it holds the functions that command really used. Each command has
// a bundle of its own (scripts/build.mjs), so it reads and deserializes only its own code. It lives in $XDG_CACHE_HOME/porthole (default
// ~/.cache/porthole) in a folder only this user can write, because a code cache is code. PORTHOLE_CODE_CACHE=0
// turns it off. Anything wrong with the cache (unreadable, stale, from another V8) only means compiling from
// source, as without it.
//
// Kept by hand although Node 22+ has module.enableCompileCache(), because it still wins (bench/launch.bench.mjs:
// 40 interleaved runs of each way, medians, 2026-12-05, load average 4). `porthole ps C` on Node 24: 68.1 ms with
// this cache, 75.0 with Node's (+7.0; CPU 55.7 vs 62.1 ms), 88.3 with none; on Node 22: 59.5 / 67.9 (+8.5; CPU
// 49.1 vs 54.9) / 79.2. A run at load 8-18 gave the same order (+18.5 ms on 24, +45.7 on 22). `porthole --version`
// (little to compile) ties: 53.3 / 51.7 on 24, 45.4 / 46.8 on 22, the same CPU. Node's cache is made when each
// module is compiled, so it holds little more than the top level (V8 compiles a function when first called); this
// one is made after the command ran, with what it really compiled.
//
// Not v8-compile-cache: it hooks every module's compile and produces each cache right after compiling, which holds
// only the top level (V8 compiles functions when first called), and it keeps caches under $TMP. Here there is one
// file, and the cache made after the run is the one that skips the compiling a command really does.
//
// Kept to node: builtins and plain statements: everything here runs before the cache can help.
import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { calledAsPlugin, parseInvocation } from './cli/global.js';
import { cacheFolder } from './util/cache-folder.js';

declare const PORTHOLE_BUILD_ID: string;

// The first line under the shebang (scripts/build.mjs) chose the Node: $PORTHOLE_NODE, the project's own in a clone,
// else the one on PATH. porthole is built for and tested on Node 22 and 24 (package.json engines): an older one
// (a machine's system Node 20, say) gets one sentence here, before anything that might not run on it.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 8)) {
  process.stderr.write(`porthole: Node ${process.versions.node} is too old for porthole, which needs Node 22.8 or later (24 LTS or 22 LTS): install one, or set PORTHOLE_NODE to its node binary.\n`);
  process.exit(1);
}

// The whole CLI, with its source map: --debug, help on a command, and the commands that reach other commands
// (ui, completion). Every other command has a bundle of its own (scripts/build.mjs).
const fullApp = join(__dirname, 'porthole-app.cjs');
if (process.argv.includes('--debug') || process.argv.includes('-D')) {
  // --debug prints stack traces: load the app the plain way, with its source map, so they name src/ lines.
  process.setSourceMapsEnabled(true);
  require(fullApp);
} else {
  runCached();
}

function runCached(): void {
  // The command, found as main.ts finds it (global flags and their values come first: `-n shop why` is `why`).
  // Flags it cannot parse load the whole CLI, which says what is wrong with them.
  const argv = process.argv.slice(2);
  let word: string | undefined;
  try {
    const global = parseInvocation(argv, calledAsPlugin(process.env, process.argv[1]));
    if (!global.help && !global.version) word = global.rest[0];
  } catch {
    // main.ts reports it
  }
  if (word !== undefined && !/^[a-z]{2,12}$/.test(word)) word = undefined;
  // The command's own bundle holds main.ts and that command only: about a third of the whole, so reading it and
  // its code cache costs less (3.5-5 ms a command here). A command without one (ui, completion), a word that is no
  // command, --version and help run the whole CLI.
  // The bundles are ASCII (scripts/build.mjs checks): read as latin1, they need no UTF-8 decoding (about 1.5 ms).
  let app = word ? join(__dirname, `porthole-app-${word}.cjs`) : fullApp;
  let source: string;
  try {
    source = readFileSync(app, 'latin1');
  } catch {
    // no bundle of its own
    app = fullApp;
    source = readFileSync(app, 'latin1');
  }
  const cacheDir = codeCacheFolder();
  // One cache per command. Kubernetes names run other code than container names, so they get their own cache
  // (`why-k8s`); so do swarm names and --all-nodes (`why-swarm`).
  const kube = argv.some((a) => /^(pods?|po|deploy(ments?)?|sts|statefulsets?|ds|daemonsets?|jobs?|rs|replicasets?)\//i.test(a));
  const swarm = !kube && argv.some((a) => /^(service|task|node)\//.test(a) || a === '--all-nodes');
  const key = word ? `${word}${kube ? '-k8s' : swarm ? '-swarm' : ''}` : 'other';
  const base = cacheDir && join(cacheDir, `${PORTHOLE_BUILD_ID}-${process.version}-${process.arch}-${key}`);
  // A run that failed or printed help went a short way (a mistyped name, `why --help`), so its cache holds little
  // of the command: it is kept as KEY.partial.v8, used until a run that succeeds writes KEY.v8. Without that, one
  // early typo left every later run compiling most of the command from source. One command runs different code
  // for different targets (`why` on a service with a failed task reads that task's container, on a healthy one
  // it does not), so the first MERGES runs that succeed each write the cache again: it holds what they compiled
  // and what the cache gave them, so it grows to the union of their ways; later runs only read it. The file's
  // first byte counts those runs; V8's data follows.
  let cached: Buffer | undefined;
  let partial = false;
  let merged = 0;
  if (base) {
    let file: Buffer | undefined;
    try {
      file = readFileSync(`${base}.v8`);
    } catch {
      try {
        file = readFileSync(`${base}.partial.v8`);
        partial = true;
      } catch {
        // no cache yet
      }
    }
    if (file && file.length > 1) {
      merged = file[0]!;
      cached = file.subarray(1);
    }
  }
  // Module.wrap's text, written out: node:module itself would load its source-map support (about 0.2 ms)
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename: app, cachedData: cached });
  // Written at exit, so it holds what this command compiled on the way, not only the top level.
  if (cacheDir && base) {
    const stale = !cached || script.cachedDataRejected === true;
    const help = argv.includes('--help') || argv.includes('-h');
    process.once('exit', (code) => {
      if (code === 0 && !help) {
        if (stale || partial || merged < MERGES) saveCache(script, cacheDir, `${base}.v8`, stale || partial ? 1 : merged + 1);
        if (partial) rmSync(`${base}.partial.v8`, { force: true });
      } else if (stale) {
        saveCache(script, cacheDir, `${base}.partial.v8`, 0);
      }
    });
  }
  const wrapper = script.runInThisContext() as (e: unknown, r: NodeRequire, m: NodeModule, f: string, d: string) => void;
  wrapper(module.exports, require, module, app, __dirname);
}

/** The cache folder, or undefined when the cache is off or the folder is not safely ours. */
function codeCacheFolder(): string | undefined {
  return process.env.PORTHOLE_CODE_CACHE === '0' ? undefined : cacheFolder(process.env);
}

/** Runs that succeed and write the cache of a command again, each adding what it compiled (about 4 ms each). */
const MERGES = 3;

/** Writes the cache with what the command compiled, atomically; drops other builds' caches unused for a week. Never fails the run. */
function saveCache(script: Script, dir: string, file: string, merged: number): void {
  try {
    const data = script.createCachedData();
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, Uint8Array.of(merged));
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    // Another build's caches go once unused for a week: two builds used in turn (a clone and an installed copy)
    // would otherwise remove each other's on every run, and every command would compile from source.
    const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.v8') || name.startsWith(`${PORTHOLE_BUILD_ID}-`)) continue;
      const path = join(dir, name);
      if (statSync(path).atimeMs < weekAgo) rmSync(path, { force: true });
    }
  } catch {
    // a cache we cannot write is only a slower next start
  }
}
