// `npm run bench`: runs every bench/*.bench.mjs in turn (or the ones named), each printing its comparisons.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const up = spawnSync('bash', ['scripts/engine-up.sh'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(1);
const wanted = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.mjs') && (!wanted.length || wanted.some((w) => f.includes(w)))).sort();
// Bare Node reads and parses the file NODE_EXTRA_CA_CERTS names at every start (80 ms on this project's machine,
// where it is set globally); porthole's executable does not (src/launch.ts). Comparing porthole against a
// `node -e 0` that pays for it would flatter porthole, so every bench runs without it: the baselines are bare Node.
const env = { ...process.env };
if (env.NODE_EXTRA_CA_CERTS) {
  console.log(`NODE_EXTRA_CA_CERTS is set (${env.NODE_EXTRA_CA_CERTS}): the benches run without it, so node -e 0 is bare Node's start-up.`);
  delete env.NODE_EXTRA_CA_CERTS;
}
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [new URL(file, import.meta.url).pathname], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
