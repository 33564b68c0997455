// `porthole shell C -- true` on a running container without a shell (toolbox sidecar, chroot into the target)
// against the bare docker equivalent that only joins the PID namespace: docker run --rm --pid container:C TOOLBOX true.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, peakRssMiB, sh } from './lib.mjs';

const IMAGE = 'porthole-bench/static-sleeper:1';
const TOOLBOX = 'porthole/toolbox:1';
const name = `porthole-bench-toolbox-${process.pid}`;

function ensureImage() {
  if (sh(`docker images -q ${IMAGE}`)) return;
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-static-'));
  try {
    writeFileSync(join(dir, 'prog.c'), '#include <unistd.h>\nint main(void){for(;;)pause();}\n');
    mkdirSync(join(dir, 'root'));
    execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'root/app'), join(dir, 'prog.c')]);
    sh(`tar -C ${join(dir, 'root')} -c . | docker import --change 'ENTRYPOINT ["/app"]' --change 'LABEL ${BENCH_LABEL}' - ${IMAGE}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

ensureImage();
if (!sh(`docker images -q ${TOOLBOX}`)) sh(`${PORTHOLE} toolbox build`);
sh(`docker run -d --name ${name} --label ${BENCH_LABEL} ${IMAGE}`);
try {
  const results = compare('shell-less container: porthole shell C -- true vs docker run --pid container:C', [
    { name: 'docker run --rm --pid container:C toolbox true', cmd: `docker run --rm --label ${BENCH_LABEL} --pid container:${name} ${TOOLBOX} true` },
    { name: 'porthole shell C -- true', cmd: `${PORTHOLE} shell ${name} -- true` },
  ], { runs: 20, warmup: 2 });
  const ratio = results[1].ratio;
  console.log(`  target: porthole at most x1.30 of docker run: ${ratio <= 1.3 ? 'met' : 'NOT met'} (x${ratio.toFixed(2)})`);
  console.log(`  peak RSS of porthole shell C -- true: ${peakRssMiB(`${PORTHOLE} shell ${name} -- true`).toFixed(1)} MiB`);
} finally {
  sh(`docker rm -f ${name} >/dev/null`);
}
