// Bundles src/ into dist/ as ESM with code splitting, so each command loads only its own modules.
// Builds into a fresh folder and moves files in one by one, entry last, so a CLI that is running while
// another build happens never sees a half-written dist/.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const staging = `dist/.build-${process.pid}`;
mkdirSync(staging, { recursive: true });
try {
  await build({
    entryPoints: ['src/main.ts'],
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'bundle',
    minifySyntax: true,
    sourcemap: 'linked',
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __porthole_cr } from 'node:module'; const require = __porthole_cr(import.meta.url);" },
    define: { PORTHOLE_VERSION: JSON.stringify(pkg.version) },
    logLevel: 'warning',
  });
  chmodSync(`${staging}/main.js`, 0o755);
  const files = readdirSync(staging).sort((a, b) => (a === 'main.js') - (b === 'main.js'));
  for (const file of files) renameSync(`${staging}/${file}`, `dist/${file}`);
  // Chunks of earlier builds: removed once they are a minute old, so a CLI started just before stays whole.
  const fresh = new Set(files);
  for (const file of readdirSync('dist')) {
    const path = `dist/${file}`;
    if (!fresh.has(file) && !file.startsWith('.build-') && Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true });
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
