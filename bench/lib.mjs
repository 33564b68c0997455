// Side-by-side timing with hyperfine: every command of one comparison runs in the same hyperfine call, so they
// share the machine's noise, and the report prints each mean with its ratio to the baseline.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PORTHOLE = fileURLToPath(new URL('../dist/porthole.cjs', import.meta.url));
export const BENCH_LABEL = 'io.porthole.bench=1';

export function sh(command, opts = {}) {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 1 << 30, ...opts }).trim();
}

/**
 * Times commands side by side. `entries`: [{ name, cmd }]; the first is the baseline of the ratios unless
 * `baseline` names another. Returns [{ name, meanMs, stddevMs, medianMs, ratio }].
 */
export function compare(title, entries, { runs = 20, warmup = 3, baseline, prepare } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const json = join(dir, 'out.json');
  // No --ignore-failure: a command that fails fast must fail the bench, not time as a win.
  const args = ['--style', 'none', '--runs', String(runs), '--warmup', String(warmup), '--export-json', json];
  if (prepare) args.push('--prepare', prepare);
  for (const e of entries) args.push('-n', e.name, e.cmd);
  const r = spawnSync('hyperfine', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`);
  const data = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const results = data.results.map((x, i) => ({
    name: entries[i].name,
    meanMs: x.mean * 1000,
    stddevMs: (x.stddev ?? 0) * 1000,
    medianMs: x.median * 1000,
  }));
  const base = results.find((x) => x.name === (baseline ?? entries[0].name));
  for (const x of results) x.ratio = x.meanMs / base.meanMs;
  printTable(title, results, base.name);
  return results;
}

export function printTable(title, results, baseName) {
  console.log(`\n## ${title}`);
  const w = Math.max(...results.map((x) => x.name.length));
  for (const x of results) {
    console.log(`  ${x.name.padEnd(w)}  ${x.meanMs.toFixed(1).padStart(8)} ms ± ${x.stddevMs.toFixed(1).padStart(5)}  ` + `x${x.ratio.toFixed(2)} of ${baseName}`);
  }
}

/** Peak resident memory of one run of a shell command, in MiB (GNU time's %M). */
export function peakRssMiB(command) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', `${command} >/dev/null`], { encoding: 'utf8' });
  const lines = r.stderr.trim().split('\n');
  return Number(lines[lines.length - 1]) / 1024;
}

/**
 * Median CPU time (user+sys, GNU time) of `runs` runs of a shell command, in ms: steadier than wall time when
 * other work shares the machine.
 */
export function cpuMs(command, runs = 15) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'sh', '-c', `${command} >/dev/null`], { encoding: 'utf8' });
    const [user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    samples.push((user + sys) * 1000);
  }
  return samples.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/**
 * The test cluster for a Kubernetes bench: KUBECONFIG, else the one scripts/k8s-up.sh writes; exits the bench
 * with "skipped" when there is none. kubectl is Debian's (/usr/bin/kubectl) when there, else the cluster's own build.
 * Returns the kubectl command line (`k`) with the kubeconfig.
 */
export function kubeBench() {
  const kubeconfig = process.env.KUBECONFIG || (existsSync('/run/porthole-k8s/admin.kubeconfig') ? '/run/porthole-k8s/admin.kubeconfig' : '');
  if (!kubeconfig) {
    console.log('  skipped: no Kubernetes cluster (KUBECONFIG unset and scripts/k8s-up.sh has not run)');
    process.exit(0);
  }
  const kubectl = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : '/var/cache/porthole/k8s/v1.36.3/bin/kubectl';
  return { kubeconfig, kubectl, k: `${kubectl} --kubeconfig ${kubeconfig}` };
}
