// `npm run try`, the README's install-and-run command, on the real engine: it uses the engine that answers (it
// starts dockerd only when none does, through scripts/engine-up.sh --engine-only), starts the demo and shows
// `why` on the crashed container.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { porthole, runProcess } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
after(async () => {
  await porthole(['demo', 'down'], { timeoutMs: 60000 });
});

test('npm run try: install (when needed), build (when needed), engine, demo up, why on the crashed container', async () => {
  const started = Date.now();
  const r = await runProcess('npm', ['run', '--silent', 'try'], { cwd: ROOT, env: { NODE_TEST_CONTEXT: undefined }, timeoutMs: 600000 });
  assert.equal(r.code, 0, r.stderr);
  // the engine that answers is used: nothing is started
  assert.doesNotMatch(r.stderr, /starting dockerd/);
  assert.match(r.stdout, /^Engine: +Docker-compatible engine/m);
  assert.match(r.stderr, /try: starting the demo: a clock and a crashed nginx/);
  assert.match(r.stdout, /^(created|already there) +porthole-demo-crash +exited \(exit code 1\)$/m);
  assert.match(r.stderr, /try: why did porthole-demo-crash stop\?/);
  assert.match(r.stdout, /^porthole-demo-crash {2}[0-9a-f]{12} {2}image porthole-demo-crash:latest$/m);
  assert.match(r.stdout, /unknown directive "invalid_directive" in \/etc\/nginx\/nginx\.conf:1/);
  assert.match(r.stdout, /> 1 \| invalid_directive;/);
  console.log(`npm run try took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
