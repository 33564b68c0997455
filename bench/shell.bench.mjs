// porthole shell, side by side with the docker CLI doing the same by hand:
//   running container:  porthole shell C -- true      vs  docker exec C true                  (target: within 50 ms)
//   stopped container:  porthole shell S -- true      vs  docker commit + docker run --rm --entrypoint sh IMG -c true
//                                                        + docker rmi                           (target: at most 1.1x)
//   the same with 1 GiB written into the stopped container's layer.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const tag = `${process.pid}`;
const running = `pt-bench-shell-run-${tag}`;
const stopped = `pt-bench-shell-stopped-${tag}`;
const big = `pt-bench-shell-big-${tag}`;

function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE]).status === 0) return;
  const root = mkdtempSync(join(tmpdir(), 'porthole-bench-bb-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'root']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    }
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    sh(`tar -C ${root} -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - ${IMAGE} >/dev/null`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function cleanup() {
  spawnSync('docker', ['rm', '-f', running, stopped, big], { stdio: 'ignore' });
}

ensureImage();
cleanup();
try {
  sh(`docker run -d --name ${running} --label ${BENCH_LABEL} ${IMAGE} sleep 1000000`);
  sh(`docker run --name ${stopped} --label ${BENCH_LABEL} ${IMAGE} sh -c 'echo boom > /var-log; exit 1' || true`);
  console.log('writing 1 GiB into a stopped container\'s layer ...');
  sh(`docker run --name ${big} --label ${BENCH_LABEL} ${IMAGE} sh -c 'dd if=/dev/urandom of=/big bs=1M count=1024 2>/dev/null; exit 1' || true`);

  const exec = compare('porthole shell C -- true vs docker exec C true (running container)', [
    { name: 'docker exec C true', cmd: `docker exec ${running} true` },
    { name: 'porthole shell C -- true', cmd: `${PORTHOLE} shell ${running} -- true` },
    { name: 'node -e 0', cmd: `${process.execPath} -e 0` },
  ], { runs: 30, warmup: 3 });
  const execDelta = exec[1].meanMs - exec[0].meanMs;
  console.log(`  porthole - docker exec: ${execDelta.toFixed(1)} ms (target: at most 50 ms) ${execDelta <= 50 ? 'MET' : 'MISSED'}`);

  // On a busy shared machine the means above wander; interleaved runs compared by their fastest and median
  // show what porthole itself adds.
  const rounds = { docker: [], porthole: [], node: [] };
  const cmds = {
    docker: ['docker', ['exec', running, 'true']],
    porthole: [PORTHOLE, ['shell', running, '--', 'true']],
    node: [process.execPath, ['-e', '0']],
  };
  for (let i = 0; i < 30; i++) {
    for (const key of Object.keys(cmds)) {
      const started = process.hrtime.bigint();
      const r = spawnSync(cmds[key][0], cmds[key][1], { stdio: 'ignore' });
      // a command that failed fast would time as a win
      if (r.status !== 0) throw new Error(`${key} failed (status ${r.status}): ${cmds[key].flat().join(' ')}`);
      rounds[key].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  const stat = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
  };
  console.log('\n## interleaved, 30 rounds (fastest / median)');
  for (const key of Object.keys(rounds)) {
    const s = stat(rounds[key]);
    console.log(`  ${key.padEnd(9)} ${s.min.toFixed(1).padStart(7)} ms / ${s.median.toFixed(1).padStart(7)} ms`);
  }
  const gapMin = stat(rounds.porthole).min - stat(rounds.docker).min;
  const gapMedian = stat(rounds.porthole).median - stat(rounds.docker).median;
  console.log(`  porthole - docker exec: ${gapMin.toFixed(1)} ms fastest, ${gapMedian.toFixed(1)} ms median (target: at most 50 ms); load average ${sh('cut -d" " -f1-3 /proc/loadavg')}`);

  const manual = (name) => `sh -c 'img=$(docker commit ${name}) && docker run --rm --entrypoint sh $img -c true && docker rmi $img >/dev/null'`;
  const snap = compare('porthole shell STOPPED -- true vs commit + run --rm + rmi (small layer)', [
    { name: 'docker commit + run + rmi', cmd: manual(stopped) },
    { name: 'porthole shell S -- true', cmd: `${PORTHOLE} shell ${stopped} -- true` },
  ], { runs: 15, warmup: 2 });
  console.log(`  ratio: x${snap[1].ratio.toFixed(2)} (target: at most x1.10) ${snap[1].ratio <= 1.1 ? 'MET' : 'MISSED'}`);

  const heavy = compare('porthole shell STOPPED -- true vs commit + run --rm + rmi (1 GiB in the layer)', [
    { name: 'docker commit + run + rmi', cmd: manual(big) },
    { name: 'porthole shell S -- true', cmd: `${PORTHOLE} shell ${big} -- true` },
  ], { runs: 4, warmup: 1 });
  console.log(`  ratio: x${heavy[1].ratio.toFixed(2)} (target: at most x1.10) ${heavy[1].ratio <= 1.1 ? 'MET' : 'MISSED'}`);
} finally {
  cleanup();
}
