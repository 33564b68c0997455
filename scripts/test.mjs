// `npm test`: bring up an engine when none answers (installing it on Debian as root), and the test Kubernetes
// cluster (scripts/k8s-up.sh) when a Kubernetes e2e test file is selected and KUBECONFIG is not set; then run every
// test file under test/ with node's own runner, and fail if porthole left anything labelled as its own on the engine.
// Everything runs on the Node that runs this script (npm scripts put the project's Node 24, node_modules/.bin/node,
// first on PATH), the porthole executables the tests start included (PORTHOLE_NODE, see scripts/build.mjs).
// `--subset` (`npm run test:node22`, which runs this on the node22 devDependency): the unit tests and one e2e file
// per command, plus the executable's and the transports' own (what depends on Node itself), so the older
// supported line cannot silently break without paying for the whole suite twice.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const up = spawnSync('bash', ['scripts/engine-up.sh'], { stdio: 'inherit' });
if (up.status !== 0) {
  console.error('npm test: the tests need a running Docker engine and none could be started (see above). Start dockerd, then run npm test again.');
  process.exit(1);
}

// The engine answering is not enough: one that cannot start a container (a broken network bridge, a runtime that
// fails) would fail every test with a stack dump. One container of a tiny image, on the default network as the
// tests use it, tells at once; when it cannot start, one sentence with the engine's own words, and no tests.
function probeEngine() {
  const image = 'porthole-test/probe:1';
  const has = spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
  if (!has) {
    const tar = spawnSync('tar', ['-c', '-C', '/', 'bin/busybox'], { maxBuffer: 64 * 1024 * 1024 });
    const imported = tar.status === 0 && spawnSync('docker', ['import', '--change', 'LABEL io.porthole.test=1', '-', image], { input: tar.stdout, encoding: 'utf8' });
    if (!imported || imported.status !== 0) {
      console.error(`npm test: could not make the probe image from /bin/busybox: ${(imported ? imported.stderr : tar.stderr?.toString() ?? '').trim() || 'tar failed'}.`);
      process.exit(1);
    }
  }
  const name = `porthole-test-probe-${process.pid}`;
  const started = Date.now();
  // create, then start attached: a start the engine refuses is an error at once (docker run --rm would wait for a
  // removal that a container that never ran may not get)
  const create = spawnSync('docker', ['create', '--name', name, '--label', 'io.porthole.test=1', image, '/bin/busybox', 'true'], { encoding: 'utf8', timeout: 60_000 });
  const run = create.status === 0 ? spawnSync('docker', ['start', '-a', name], { encoding: 'utf8', timeout: 60_000 }) : create;
  spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  if (run.status === 0) return Date.now() - started;
  const said = (run.stderr || '').split('\n').map((l) => l.trim()).filter((l) => l && !/^Run 'docker \w+ --help'/.test(l)).join(' ').replace(/^docker: /, '').replace(/\.$/, '');
  const why = run.error?.code === 'ETIMEDOUT' ? 'it did not finish within 60 s' : said || `docker start exited with ${run.status}`;
  console.error(`npm test: the engine answers but cannot start a container (${why}), so every test would fail; fix the engine (its log says more), then run npm test again.`);
  process.exit(1);
}
probeEngine();

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) found.push(path);
  }
  return found.sort();
}

const subset = process.argv.includes('--subset');
const only = process.argv.slice(2).filter((arg) => arg !== '--subset');
const commands = readdirSync('src/commands').map((file) => file.replace(/\.ts$/, ''));
const perCommand = [...commands, 'launch', 'transport'].map((name) => `test/e2e/${name}.test.ts`).filter((file) => existsSync(file));
const files = only.length ? only : subset ? [...findTests('test/unit'), ...perCommand] : findTests('test');
console.log(`npm test: ${files.length} test files on Node ${process.version}${subset ? ' (the subset: unit tests and one e2e file per command)' : ''}`);

// Kubernetes e2e test files say so in their name (test/e2e/k8s-*.test.ts); unit tests need no cluster.
const isK8sTest = (file) => {
  const path = file.replace(/\\/g, '/');
  return /(^|[/_.-])(k8s|kube)/i.test(path) && !/(^|\/)unit\//.test(path);
};
if (files.some(isK8sTest) && !process.env.KUBECONFIG) {
  const k8s = spawnSync('bash', ['scripts/k8s-up.sh'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (k8s.status !== 0) {
    console.error('npm test: the Kubernetes tests need the test cluster and scripts/k8s-up.sh could not bring it up (see above). Fix that, or set KUBECONFIG to a cluster of your own.');
    process.exit(1);
  }
  // its last two lines: KUBECONFIG=PATH and CONTAINERD_ADDRESS=SOCKET
  for (const line of k8s.stdout.trim().split('\n').slice(-2)) {
    const eq = line.indexOf('=');
    if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
}
// Swarm e2e test files say so in their name too (test/e2e/swarm-*.test.ts): scripts/swarm-up.sh brings up the
// three-node test swarm; its last lines MANAGER=... and NODE_<hostname>=... become PORTHOLE_SWARM_MANAGER and the
// node mapping PORTHOLE_SWARM_NODES ({"hostname": "unix:///..."}), the one porthole itself reads.
const isSwarmTest = (file) => /(^|\/)swarm-[^/]*\.test\.ts$/.test(file.replace(/\\/g, '/')) && !/(^|\/)unit\//.test(file.replace(/\\/g, '/'));
if (files.some(isSwarmTest) && !process.env.PORTHOLE_SWARM_MANAGER) {
  const swarm = spawnSync('bash', ['scripts/swarm-up.sh'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (swarm.status !== 0) {
    console.error('npm test: the swarm tests need the test swarm and scripts/swarm-up.sh could not bring it up (see above). Fix that, or set PORTHOLE_SWARM_MANAGER and PORTHOLE_SWARM_NODES to a swarm of your own.');
    process.exit(1);
  }
  const nodes = {};
  for (const line of swarm.stdout.trim().split('\n')) {
    const m = /^(MANAGER|NODE_(.+?))=(.+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'MANAGER') process.env.PORTHOLE_SWARM_MANAGER = m[3];
    else nodes[m[2]] = m[3];
  }
  process.env.PORTHOLE_SWARM_NODES = JSON.stringify(nodes);
}
const env = { ...process.env, PORTHOLE_NODE: process.execPath };
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter', 'spec', ...files], { stdio: 'inherit', env });

const leftovers = spawnSync('docker', ['ps', '-a', '-q', '--filter', 'label=io.porthole.owned=true'], { encoding: 'utf8' }).stdout.trim();
// porthole's snapshot images carry their own label namespace (io.porthole.image.*), so their containers inherit no owned label
const leftoverImages = ['io.porthole.owned=true', 'io.porthole.image.owned=true']
  .map((label) => spawnSync('docker', ['images', '-q', '--filter', `label=${label}`], { encoding: 'utf8' }).stdout.trim())
  .filter(Boolean)
  .join('\n');
if (!only.length) {
  // Tests remove what they make; this catches what a crashed test could not.
  spawnSync('sh', ['-c', 'ids=$(docker ps -aq --filter label=io.porthole.test=1); [ -z "$ids" ] || docker rm -f -v $ids >/dev/null'], { stdio: 'inherit' });
  spawnSync('sh', ['-c', 'vols=$(docker volume ls -q --filter label=io.porthole.test=1); [ -z "$vols" ] || docker volume rm -f $vols >/dev/null'], { stdio: 'inherit' });
}
// Only a whole run can tell: a partial one may overlap another session's live work.
if (!only.length && (leftovers || leftoverImages)) {
  console.error(`npm test: porthole left things on the engine after the tests:\n${leftovers}\n${leftoverImages}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
