// `npm run bench`: runs every bench/*.bench.mjs in turn (or the ones named), each printing its comparisons.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const up = spawnSync('bash', ['scripts/engine-up.sh'], { stdio: 'inherit' });
if (up.status !== 0) process.exit(1);
const wanted = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.mjs') && (!wanted.length || wanted.some((w) => f.includes(w)))).sort();
// Everything runs on the Node that runs this script (`npm run bench`: the project's Node 24; `npm run bench:node22`:
// 22), porthole included (PORTHOLE_NODE, see scripts/build.mjs), so `node -e 0` is the same Node's start-up.
// NODE_EXTRA_CA_CERTS, set globally on this project's machine, is left as it is: Node 22 and 24 read it only when
// a TLS connection needs it (Node 20 parsed it at every start, 50-80 ms here).
const env = { ...process.env, PORTHOLE_NODE: process.execPath };
console.log(`Node ${process.version}`);
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [new URL(file, import.meta.url).pathname], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
