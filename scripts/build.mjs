// Bundles src/ into dist/ as CommonJS files: porthole-app.cjs, the whole CLI in one file, porthole-app-COMMAND.cjs,
// the same with one command only, and porthole.cjs, the small executable that loads one of them through V8's code
// cache (src/launch.ts says why). One CommonJS file measured
// about 30 ms faster per command here than ESM with code splitting: the ESM loader's resolve/link work and the
// ESM facades of node: builtins cost more than compiling code a command never calls, which the cache then skips.
// Builds into a fresh folder and moves files in one by one, executable last, so a CLI that is running while
// another build happens never sees a half-written dist/.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const staging = `dist/.build-${process.pid}`;
mkdirSync(staging, { recursive: true });
try {
  // Short identifiers: the app is 716 KB instead of 894 (its code cache about the same size), and commands measured
  // faster: `why service/NAME` 4-5 ms sooner on a quiet machine, 9 under load, `ps` 1-2 ms (interleaved runs).
  // keepNames keeps class and function names (stack traces under --debug, error names), at no measurable cost.
  const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node22', minifySyntax: true, minifyWhitespace: true, minifyIdentifiers: true, keepNames: true, logLevel: 'warning' };
  const app = {
    ...common,
    entryPoints: ['src/main.ts'],
    packages: 'bundle',
    // import('node:tls') and the like become require(): the launcher compiles the app with vm.Script, which has
    // no loader for a real dynamic import.
    supported: { 'dynamic-import': false },
    define: { PORTHOLE_VERSION: JSON.stringify(pkg.version) },
  };
  // The YAML parser (kubeconfigs only) is a file of its own: 200 KB in the app would cost every Docker command
  // its parsing at start-up (about 10 ms here), and only Kubernetes names and flags need it.
  const yamlApart = { name: 'yaml-apart', setup: (b) => b.onResolve({ filter: /^yaml$/ }, () => ({ path: './porthole-yaml.cjs', external: true })) };
  // The WebSocket library (porthole ui's terminal only) is a file of its own too, loaded when a terminal opens.
  const wsApart = { name: 'ws-apart', setup: (b) => b.onResolve({ filter: /^ws$/ }, () => ({ path: './porthole-ws.cjs', external: true })) };
  // The whole CLI: --debug (with its source map), help on a command, and the commands that reach others (ui).
  await build({ ...app, outfile: `${staging}/porthole-app.cjs`, sourcemap: 'linked', plugins: [yamlApart, wsApart] });
  // And one bundle per command, main.ts with that command only: the registry's other commands are left out, so a
  // command reads and deserializes about a third of the code (src/launch.ts picks the bundle). A command whose
  // code reaches the registry itself (ui, completion) needs the others, and runs the whole CLI instead.
  const registry = readFileSync('src/commands/registry.ts', 'utf8');
  const modules = [...registry.matchAll(/import\('\.\/([a-z]+)\.js'\)/g)].map((m) => m[1]);
  if (modules.length < 20) throw new Error(`found only ${modules.length} commands in src/commands/registry.ts`);
  const own = await Promise.all(modules.map(async (name) => {
    const only = {
      name: 'only-this-command',
      setup: (b) => {
        b.onResolve({ filter: /^\.\/[a-z]+\.js$/ }, (a) => (a.importer.endsWith('/commands/registry.ts') && a.path !== `./${name}.js` ? { path: a.path, namespace: 'left-out' } : undefined));
        // unreachable: src/launch.ts and main.ts find the command with the same parseInvocation
        b.onLoad({ filter: /.*/, namespace: 'left-out' }, (a) => ({ contents: `throw new Error(${JSON.stringify(`porthole: this bundle holds only ${name}, not ${a.path}`)});`, loader: 'js' }));
      },
    };
    const outfile = `${staging}/porthole-app-${name}.cjs`;
    const result = await build({ ...app, outfile, metafile: true, plugins: [yamlApart, wsApart, only] });
    const reachesOthers = Object.entries(result.metafile.inputs).some(([file, input]) => file !== 'src/main.ts' && input.imports.some((i) => i.path === 'src/commands/registry.ts'));
    if (reachesOthers) rmSync(outfile);
    return reachesOthers ? undefined : name;
  }));
  if (!own.includes('ps') || own.includes('ui')) throw new Error(`unexpected per-command bundles: ${own.filter(Boolean).join(' ')}`);
  await build({ ...common, entryPoints: ['node_modules/yaml/dist/index.js'], outfile: `${staging}/porthole-yaml.cjs`, packages: 'bundle' });
  // ws's optional native helpers are not shipped: it falls back to its own JavaScript when require() fails
  await build({ ...common, entryPoints: ['node_modules/ws/index.js'], outfile: `${staging}/porthole-ws.cjs`, packages: 'bundle', external: ['bufferutil', 'utf-8-validate'] });
  // src/launch.ts reads the bundles as latin1, which is right only for ASCII: esbuild escapes non-ASCII in strings,
  // not in regular expression literals, so write those as \u escapes.
  const bundles = readdirSync(staging).filter((f) => /^porthole-app.*\.cjs$/.test(f)).sort();
  for (const file of bundles) {
    const nonAscii = readFileSync(`${staging}/${file}`).findIndex((b) => b > 0x7f);
    if (nonAscii >= 0) throw new Error(`${file} has a non-ASCII byte at ${nonAscii}: use a \\u escape in the source`);
  }
  // The map was written from the staging folder, one level deeper than where it will live.
  const mapFile = `${staging}/porthole-app.cjs.map`;
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  map.sources = map.sources.map((s) => s.replace(/^\.\.\//, ''));
  writeFileSync(mapFile, JSON.stringify(map));
  // The code cache is keyed by the bundles' content: V8 itself only checks a cache against the source's length.
  const hash = createHash('sha256');
  for (const file of bundles) hash.update(file).update(readFileSync(`${staging}/${file}`));
  const buildId = hash.digest('hex').slice(0, 16);
  await build({
    ...common,
    entryPoints: ['src/launch.ts'],
    outfile: `${staging}/porthole.cjs`,
    // sh runs the first two lines; to Node the second is a string and a comment. It picks the Node that runs
    // porthole: $PORTHOLE_NODE; else, in a clone (the file itself, symlinks followed, sits in dist/ beside
    // node_modules/), the project's own Node 24 from the `node` devDependency; else `node` on PATH. src/launch.ts
    // then refuses a Node older than 22.8 in one sentence.
    banner: {
      js: [
        '#!/bin/sh',
        `":" //; f=$0; [ -L "$f" ] && f=$(readlink -f "$f"); n=\${f%/*}/../node_modules/node/bin/node; [ -x "$n" ] || n=node; exec "\${PORTHOLE_NODE:-$n}" "$0" "$@"`,
      ].join('\n'),
    },
    define: { PORTHOLE_BUILD_ID: JSON.stringify(buildId) },
  });
  // `porthole ui`'s page: plain files read by the server when it starts, never by other commands.
  cpSync('src/ui/assets', `${staging}/ui`, { recursive: true });
  // The Terminal tab's xterm.js and fit addon (UMD builds: window.Terminal, window.FitAddon) and xterm's stylesheet,
  // served by porthole itself; their source map comments are dropped (no map is served).
  const vendor = { 'xterm.js': '@xterm/xterm/lib/xterm.js', 'xterm.css': '@xterm/xterm/css/xterm.css', 'addon-fit.js': '@xterm/addon-fit/lib/addon-fit.js' };
  for (const [name, from] of Object.entries(vendor)) {
    writeFileSync(`${staging}/ui/${name}`, readFileSync(`node_modules/${from}`, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  }
  chmodSync(`${staging}/porthole.cjs`, 0o755);
  const files = readdirSync(staging).sort((a, b) => (a === 'porthole.cjs') - (b === 'porthole.cjs'));
  for (const file of files) {
    // a folder (ui/) cannot be renamed over an existing one: the old one goes first
    if (statSync(`${staging}/${file}`).isDirectory()) rmSync(`dist/${file}`, { recursive: true, force: true });
    renameSync(`${staging}/${file}`, `dist/${file}`);
  }
  // Chunks of earlier builds: removed once they are a minute old, so a CLI started just before stays whole.
  const fresh = new Set(files);
  for (const file of readdirSync('dist')) {
    const path = `dist/${file}`;
    if (fresh.has(file) || file.startsWith('.build-')) continue;
    // A command's bundle this build no longer makes goes at once: the launcher would pick it. A running CLI has
    // read its bundle whole when it started.
    if (/^porthole-app-.*\.cjs$/.test(file) || Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true });
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
