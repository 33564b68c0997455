// `npm run try`: from a fresh clone to the crash report in one command. Installs the dependencies (when
// node_modules is missing or older than the lock file), builds, makes sure an engine answers (scripts/engine-up.sh
// --engine-only starts dockerd only when none does, and says so), starts the demo and shows `why` on its crashed
// container. Plain JavaScript that runs on any Node: the project's own Node 24 arrives with the install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const say = (line) => console.error(`try: ${line}`);
function step(what, command, args, opts = {}) {
  if (what) say(what);
  const r = spawnSync(command, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    say(`${[command, ...args].join(' ')} failed${r.error ? ` (${r.error.message})` : ` with exit code ${r.status}`}; see above.`);
    process.exit(r.status || 1);
  }
}

const installed = existsSync('node_modules/.package-lock.json') && statSync('node_modules/.package-lock.json').mtimeMs >= statSync('package-lock.json').mtimeMs;
if (!installed) step('installing the dependencies (npm ci), the project\'s Node 24 among them', 'npm', ['ci', '--no-audit', '--no-fund']);
/** The newest modification time of the files under a folder. */
function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}
const built = existsSync('dist/porthole.cjs') && statSync('dist/porthole.cjs').mtimeMs >= Math.max(newest('src'), statSync('scripts/build.mjs').mtimeMs, statSync('package-lock.json').mtimeMs);
if (!built) step('building dist/porthole.cjs', 'npm', ['run', '--silent', 'build']);
step('', 'bash', ['scripts/engine-up.sh', '--engine-only']);
const porthole = './dist/porthole.cjs';
step('', porthole, ['engine']);
step('starting the demo: a clock and a crashed nginx', porthole, ['demo', 'up']);
say('why did porthole-demo-crash stop?');
step('', porthole, ['why', 'porthole-demo-crash']);
say('next: ./dist/porthole.cjs shell porthole-demo-crash, or see README.md; `./dist/porthole.cjs demo down` removes the demo.');
