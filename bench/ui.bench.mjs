// porthole ui's targets (first page, terminal echo vs docker exec -it, logs tab heap), measured in headless
// Chromium: bench/ui-measure.ts, run through tsx because it drives the browser with the tests' own helper.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!['/usr/bin/chromium', '/usr/bin/chromium-browser'].some((p) => existsSync(p))) {
  console.log('skipped: no chromium installed');
  process.exit(0);
}
const tsx = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const r = spawnSync(tsx, [new URL('ui-measure.ts', import.meta.url).pathname], { stdio: 'inherit' });
// the cluster probe's cost on the first page
const k = spawnSync(tsx, [new URL('ui-kube-measure.ts', import.meta.url).pathname], { stdio: 'inherit' });
process.exit(r.status || k.status || 0);
