// Bundles src/ into dist/ as two CommonJS files: porthole-app.cjs, the whole CLI in one file, and porthole.cjs,
// the small executable that loads it through V8's code cache (src/launch.ts says why). One CommonJS file measured
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
  await build({
    ...common,
    entryPoints: ['src/main.ts'],
    outfile: `${staging}/porthole-app.cjs`,
    packages: 'bundle',
    sourcemap: 'linked',
    // import('node:tls') and the like become require(): the launcher compiles the app with vm.Script, which has
    // no loader for a real dynamic import.
    supported: { 'dynamic-import': false },
    define: { PORTHOLE_VERSION: JSON.stringify(pkg.version) },
    // The YAML parser (kubeconfigs only) is a file of its own: 200 KB in the app would cost every Docker command
    // its parsing at start-up (about 10 ms here), and only Kubernetes names and flags need it.
    plugins: [
      { name: 'yaml-apart', setup: (b) => b.onResolve({ filter: /^yaml$/ }, () => ({ path: './porthole-yaml.cjs', external: true })) },
      // The WebSocket library (porthole ui's terminal only) is a file of its own too, loaded when a terminal opens.
      { name: 'ws-apart', setup: (b) => b.onResolve({ filter: /^ws$/ }, () => ({ path: './porthole-ws.cjs', external: true })) },
    ],
  });
  await build({ ...common, entryPoints: ['node_modules/yaml/dist/index.js'], outfile: `${staging}/porthole-yaml.cjs`, packages: 'bundle' });
  // ws's optional native helpers are not shipped: it falls back to its own JavaScript when require() fails
  await build({ ...common, entryPoints: ['node_modules/ws/index.js'], outfile: `${staging}/porthole-ws.cjs`, packages: 'bundle', external: ['bufferutil', 'utf-8-validate'] });
  // src/launch.ts reads the bundle as latin1, which is right only for ASCII: esbuild escapes non-ASCII in strings,
  // not in regular expression literals, so write those as \u escapes.
  const nonAscii = readFileSync(`${staging}/porthole-app.cjs`).findIndex((b) => b > 0x7f);
  if (nonAscii >= 0) throw new Error(`porthole-app.cjs has a non-ASCII byte at ${nonAscii}: use a \\u escape in the source`);
  // The map was written from the staging folder, one level deeper than where it will live.
  const mapFile = `${staging}/porthole-app.cjs.map`;
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  map.sources = map.sources.map((s) => s.replace(/^\.\.\//, ''));
  writeFileSync(mapFile, JSON.stringify(map));
  // The code cache is keyed by the app's content: V8 itself only checks a cache against the source's length.
  const buildId = createHash('sha256').update(readFileSync(`${staging}/porthole-app.cjs`)).digest('hex').slice(0, 16);
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
    if (!fresh.has(file) && !file.startsWith('.build-') && Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true });
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
