// porthole cp C:/big DEST vs docker cp C:/big DEST for a 256 MiB file, side by side; the target is at least 0.9x
// docker cp's throughput (time at most 1.11x). porthole reads the file from the container's layer; the same copy
// through the engine's archive stream (what a file behind a link or mount, or `cp -a`, takes) is timed beside it.
// Also the other way in, and peak memory of the copy out.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, peakRssMiB, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const name = `pt-bench-cp-${process.pid}`;
const SIZE = 256 * 1024 * 1024;

function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  // Made the way test/support/docker.ts makes it: Debian's static busybox with every applet linked.
  sh(`set -e; d=$(mktemp -d); mkdir -p $d/bin $d/etc $d/tmp; cp /bin/busybox $d/bin/; for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -s busybox $d/bin/$a; done;
      printf 'root:x:0:0:root:/root:/bin/sh\\n' > $d/etc/passwd; tar -C $d -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - ${IMAGE} >/dev/null; rm -rf $d`);
}

ensureImage();
const dir = mkdtempSync(join(tmpdir(), 'pt-bench-cp-'));
sh(`docker run -d --name ${name} --label ${BENCH_LABEL} ${IMAGE} sh -c 'head -c ${SIZE} /dev/urandom > /big && mkdir /in && touch /ready && exec sleep 100000' >/dev/null`);
try {
  for (let i = 0; i < 300 && spawnSync('docker', ['exec', name, 'test', '-e', '/ready']).status !== 0; i++) sh('sleep 0.1');
  // One real run first, so a broken build fails loudly instead of timing an error message.
  const check = spawnSync('sh', ['-c', `${PORTHOLE} cp -q ${name}:/big ${dir}/check`], { encoding: 'utf8' });
  if (check.status !== 0 || statSync(`${dir}/check`).size !== SIZE) throw new Error(`porthole cp failed: ${check.stderr}`);
  const sum = (p) => sh(`sha256sum ${p}`).split(' ')[0];
  if (sum(`${dir}/check`) !== sh(`docker exec ${name} sha256sum /big`).split(' ')[0]) throw new Error('porthole cp copied different bytes');

  const out = compare('copy a 256 MiB file out of a container', [
    { name: 'docker cp C:/big DEST', cmd: `docker cp -q ${name}:/big ${dir}/by-docker` },
    { name: 'porthole cp C:/big DEST', cmd: `${PORTHOLE} cp -q ${name}:/big ${dir}/by-porthole` },
    // the same copy through the engine's archive stream, as for a file the layers cannot vouch for (or -a)
    { name: 'porthole cp, engine archive', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} cp -q ${name}:/big ${dir}/by-engine` },
    // sync before each run: otherwise the second command runs while the kernel writes back the first one's
    // gigabytes, and loses by that alone
  ], { runs: 10, warmup: 2, prepare: 'sync' });
  const outRatio = out[1].meanMs / out[0].meanMs;
  const mibps = (x) => (256 / (x.meanMs / 1000)).toFixed(0);
  console.log(`  throughput: docker cp ${mibps(out[0])} MiB/s, porthole cp ${mibps(out[1])} MiB/s -> ${(1 / outRatio).toFixed(2)}x docker's (target >= 0.90x) ${1 / outRatio >= 0.9 ? 'OK' : 'MISSED'}`);
  console.log(`  through the engine's archive: ${mibps(out[2])} MiB/s -> ${(out[0].meanMs / out[2].meanMs).toFixed(2)}x docker's`);

  const into = compare('copy a 256 MiB file into a container', [
    { name: 'docker cp DEST C:/in/big', cmd: `docker cp -q ${dir}/check ${name}:/in/by-docker` },
    { name: 'porthole cp DEST C:/in/big', cmd: `${PORTHOLE} cp -q ${dir}/check ${name}:/in/by-porthole` },
  ], { runs: 10, warmup: 2, prepare: 'sync' });
  console.log(`  throughput in: ${(into[0].meanMs / into[1].meanMs).toFixed(2)}x docker's`);

  const rss = peakRssMiB(`${PORTHOLE} cp -q ${name}:/big ${dir}/rss`);
  console.log(`  peak RSS of porthole cp out (256 MiB file): ${rss.toFixed(0)} MiB`);
  process.exitCode = 1 / outRatio >= 0.9 ? 0 : 1;
} finally {
  sh(`docker rm -f -v ${name} >/dev/null`);
  rmSync(dir, { recursive: true, force: true });
}
