// Bundles src/ into dist/ as ESM with code splitting, so each command loads only its own modules.
import { build } from 'esbuild';
import { readFileSync, rmSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
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
chmodSync('dist/main.js', 0o755);
