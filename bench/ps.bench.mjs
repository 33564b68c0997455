// porthole ps C vs docker top C vs bare node, side by side; the target is porthole ps within 30 ms of node -e 0.
// Also porthole ps with no argument (every running container) and porthole which on the container's init.
import { spawnSync } from 'node:child_process';
import { BENCH_LABEL, PORTHOLE, compare, cpuMs, peakRssMiB, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const name = `pt-bench-ps-${process.pid}`;

function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  // Made the way test/support/docker.ts makes it: Debian's static busybox with every applet linked.
  sh(`set -e; d=$(mktemp -d); mkdir -p $d/bin $d/etc $d/tmp; cp /bin/busybox $d/bin/; for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -s busybox $d/bin/$a; done;
      printf 'root:x:0:0:root:/root:/bin/sh\\n' > $d/etc/passwd; tar -C $d -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - ${IMAGE} >/dev/null; rm -rf $d`);
}

ensureImage();
sh(`docker run -d --name ${name} --label ${BENCH_LABEL} ${IMAGE} sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null`);
try {
  const initPid = sh(`docker inspect -f '{{.State.Pid}}' ${name}`);
  // One real run first, so a broken build fails loudly instead of timing an error message.
  const check = spawnSync('sh', ['-c', `${PORTHOLE} ps ${name}`], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`porthole ps failed: ${check.stderr}`);
  process.stdout.write(check.stdout);

  const results = compare('porthole ps C (one container, 3 processes + shim)', [
    { name: 'node -e 0', cmd: `${process.execPath} -e 0` },
    { name: 'porthole ps C', cmd: `${PORTHOLE} ps ${name}` },
    { name: 'porthole ps C --json', cmd: `${PORTHOLE} ps ${name} --json` },
    { name: 'docker top C', cmd: `docker top ${name}` },
    { name: 'porthole ps (all running)', cmd: `${PORTHOLE} ps` },
    { name: 'porthole which PID', cmd: `${PORTHOLE} which ${initPid}` },
  ], { runs: 30, warmup: 5 });

  const base = results.find((x) => x.name === 'node -e 0');
  console.log('\n  over node -e 0:');
  for (const x of results) {
    if (x === base) continue;
    console.log(`    ${x.name.padEnd(26)} +${(x.meanMs - base.meanMs).toFixed(1).padStart(6)} ms   x${x.ratio.toFixed(2)}`);
  }
  const psOver = results.find((x) => x.name === 'porthole ps C').meanMs - base.meanMs;
  console.log(`  target: porthole ps C within 30 ms of node -e 0: ${psOver <= 30 ? 'met' : 'MISSED'} (${psOver.toFixed(1)} ms)`);
  // On a busy, shared machine the steadiest figure is a paired one: each run of a command between two runs of
  // node -e 0, and the median of the differences (slow drifts of the machine's speed cancel out).
  const wall = (cmd) => {
    const start = process.hrtime.bigint();
    spawnSync('sh', ['-c', `exec ${cmd} >/dev/null 2>&1`]);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const nodeCmd = `${process.execPath} -e 0`;
  console.log('  paired with node -e 0 (median of 30 differences):');
  for (const [label, cmd] of [['porthole ps C', `${PORTHOLE} ps ${name}`], ['docker top C', `docker top ${name}`], ['porthole ps (all)', `${PORTHOLE} ps`], ['porthole --version', `${PORTHOLE} --version`], ['porthole engine', `${PORTHOLE} engine`]]) {
    const diffs = [];
    for (let i = 0; i < 30; i++) {
      const before = wall(nodeCmd);
      const mine = wall(cmd);
      diffs.push(mine - (before + wall(nodeCmd)) / 2);
    }
    const median = diffs.sort((a, b) => a - b)[15];
    console.log(`    ${label.padEnd(20)} ${median >= 0 ? '+' : ''}${median.toFixed(1)} ms`);
  }

  // CPU time is steadier than wall time when other work shares the machine (lib.mjs cpuMs)
  const nodeCpu = cpuMs(`${process.execPath} -e 0`);
  console.log(`  CPU time (user+sys, median of 15): node -e 0 ${nodeCpu.toFixed(0)} ms`);
  for (const [label, cmd] of [['porthole ps C', `${PORTHOLE} ps ${name}`], ['docker top C', `docker top ${name}`], ['porthole ps (all)', `${PORTHOLE} ps`]]) {
    const ms = cpuMs(cmd);
    console.log(`    ${label.padEnd(20)} ${ms.toFixed(0).padStart(4)} ms (${ms - nodeCpu >= 0 ? '+' : ''}${(ms - nodeCpu).toFixed(0)} ms)`);
  }
  console.log(`  peak RSS: porthole ps C ${peakRssMiB(`${PORTHOLE} ps ${name}`).toFixed(1)} MiB, node -e 0 ${peakRssMiB(`${process.execPath} -e 0`).toFixed(1)} MiB`);
} finally {
  spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
}
