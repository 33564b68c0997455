// `npm run bench`: runs every bench/*.bench.mjs in turn (or the ones named), each printing its comparisons.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const up = spawnSync('bash', ['scripts/engine-up.sh'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(1);
const wanted = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.mjs') && (!wanted.length || wanted.some((w) => f.includes(w)))).sort();
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [new URL(file, import.meta.url).pathname], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
