// `porthole stats` vs `docker stats --no-stream` for the same 32 running containers, side by side.
// Target: porthole at most 500 ms. The containers carry io.porthole.bench=1 and are removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, cpuMs as medianCpuMs, peakRssMiB, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const COUNT = 32;
const WINDOW_MS = 100; // src/commands/stats.ts SAMPLE_WINDOW_MS
const prefix = `pt-bench-stats-${process.pid}`;
const names = Array.from({ length: COUNT }, (_, i) => `${prefix}-${i}`);

function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  // The same offline image the tests build: Debian's static busybox and its applets.
  const root = mkdtempSync(join(tmpdir(), 'porthole-bench-bb-'));
  try {
    for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    }
    const tar = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 28 });
    execFileSync('docker', ['import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["sh"]', '-', IMAGE], { input: tar });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function cleanup() {
  spawnSync('sh', ['-c', `ids=$(docker ps -aq --filter label=${BENCH_LABEL} --filter name=${prefix}); [ -z "$ids" ] || docker rm -f $ids >/dev/null`]);
}

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

ensureImage();
try {
  console.log(`starting ${COUNT} containers...`);
  for (const [i, name] of names.entries()) {
    // Mostly idle, one busy (this machine has 2 CPUs: more busy loops would time the load, not the tools).
    const cmd = i === 0 ? ['sh', '-c', 'while :; do :; done'] : ['sleep', '3600'];
    execFileSync('docker', ['run', '-d', '--name', name, '--label', BENCH_LABEL, IMAGE, ...cmd], { stdio: 'ignore' });
  }
  const list = names.join(' ');
  const rows = JSON.parse(sh(`${PORTHOLE} stats --json ${list}`));
  if (rows.length !== COUNT) throw new Error(`porthole stats returned ${rows.length} rows for ${COUNT} containers`);

  const results = compare(
    `stats for ${COUNT} running containers (porthole target: <= 500 ms)`,
    [
      { name: 'docker stats --no-stream', cmd: `docker stats --no-stream ${list}` },
      { name: 'porthole stats (named)', cmd: `${PORTHOLE} stats ${list}` },
      { name: 'porthole stats (all running)', cmd: `${PORTHOLE} stats` },
      { name: 'porthole stats (engine way)', cmd: `PORTHOLE_STATS_SOURCE=engine ${PORTHOLE} stats ${list}` },
      { name: 'node -e 0', cmd: `${process.execPath} -e 0` },
    ],
    { runs: 10, warmup: 1 },
  );
  const named = results.find((r) => r.name === 'porthole stats (named)');
  const nodeRun = results.find((r) => r.name === 'node -e 0');
  console.log(`  load average while measuring: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  console.log(`  porthole stats over node -e 0: ${(named.meanMs - nodeRun.meanMs).toFixed(0)} ms (of which the sampling window is ${WINDOW_MS} ms)`);
  const cpuMs = (cmd) => medianCpuMs(cmd, 9);
  const nodeCpu = cpuMs(`${process.execPath} -e 0`);
  console.log(`  CPU time (user+sys, median of 9): node -e 0 ${nodeCpu.toFixed(0)} ms`);
  for (const [label, cmd] of [['porthole stats (named)', `${PORTHOLE} stats ${list}`], ['docker stats --no-stream', `docker stats --no-stream ${list}`]]) {
    const ms = cpuMs(cmd);
    console.log(`    ${label.padEnd(26)} ${ms.toFixed(0).padStart(4)} ms (${ms - nodeCpu >= 0 ? '+' : ''}${(ms - nodeCpu).toFixed(0)} ms)`);
  }
  console.log(`  peak RSS porthole stats: ${peakRssMiB(`${PORTHOLE} stats ${list}`).toFixed(1)} MiB`);
  console.log(`  target <= 500 ms: ${named.meanMs <= 500 ? 'met' : 'NOT met'} (${named.meanMs.toFixed(0)} ms)`);
} finally {
  cleanup();
}
