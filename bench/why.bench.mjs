// `porthole why C` against the seed's manual investigation, run back to back as one shell command:
// docker inspect + docker diff + docker logs --tail 50 + docker cp of the error log. Target: no slower.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_LABEL, compare, peakRssMiB, PORTHOLE, sh } from './lib.mjs';

const IMAGE = 'porthole-bench/nginx-crash:1';
const NAME = `porthole-bench-why-${process.pid}`;

/** The demo's crash image, built the same way (nginx and its libraries from this machine, busybox for sh). */
function buildImage() {
  if (execFileSync('sh', ['-c', `docker image inspect ${IMAGE} >/dev/null 2>&1 && echo yes || true`], { encoding: 'utf8' }).trim()) return;
  const root = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  try {
    for (const d of ['bin', 'etc/nginx', 'var/log/nginx', 'var/lib/nginx', 'run', 'tmp', 'usr/sbin']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    symlinkSync('busybox', join(root, 'bin/sh'));
    copyFileSync('/usr/sbin/nginx', join(root, 'usr/sbin/nginx'));
    chmodSync(join(root, 'usr/sbin/nginx'), 0o755);
    const ldd = execFileSync('ldd', ['/usr/sbin/nginx'], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(?:=>\s+)?(\/\S+)\s+\(/g)) {
      mkdirSync(join(root, dirname(m[1])), { recursive: true });
      copyFileSync(m[1], join(root, m[1]));
    }
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwww-data:x:33:\n');
    writeFileSync(join(root, 'etc/nginx/nginx.conf'), 'invalid_directive;\nerror_log /var/log/nginx/error.log;\nevents {}\n');
    writeFileSync(join(root, 'entrypoint.sh'), "#!/bin/sh\nexec /usr/sbin/nginx -e /var/log/nginx/error.log -g 'daemon off;' 2>/dev/null\n", { mode: 0o755 });
    sh(`tar -C ${root} -c . | docker import --change 'ENTRYPOINT ["/entrypoint.sh"]' --change 'LABEL ${BENCH_LABEL}' - ${IMAGE} >/dev/null`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

buildImage();
sh(`docker run -d --name ${NAME} --label ${BENCH_LABEL} ${IMAGE} >/dev/null`);
try {
  sh(`for i in $(seq 50); do [ "$(docker inspect -f '{{.State.Status}}' ${NAME})" = exited ] && break; sleep 0.1; done`);
  const manual = `docker inspect ${NAME} >/dev/null; docker diff ${NAME} >/dev/null; docker logs --tail 50 ${NAME} >/dev/null 2>&1; docker cp ${NAME}:/var/log/nginx/error.log - >/dev/null`;
  // The report also shows the config line the error names: by hand that is a fifth command.
  const manualWithLine = `${manual}; docker cp ${NAME}:/etc/nginx/nginx.conf - >/dev/null`;
  compare('porthole why on the nginx crash vs the manual investigation', [
    { name: 'manual: inspect + diff + logs --tail 50 + cp error.log', cmd: manual },
    { name: 'manual + cp nginx.conf (the line why shows)', cmd: manualWithLine },
    { name: 'porthole why', cmd: `${PORTHOLE} why ${NAME}` },
    { name: 'porthole why --json', cmd: `${PORTHOLE} why ${NAME} --json` },
  ]);
  console.log(`  peak RSS: porthole why ${peakRssMiB(`${PORTHOLE} why ${NAME}`).toFixed(1)} MiB`);
} finally {
  sh(`docker rm -f ${NAME} >/dev/null`);
  sh(`docker rmi ${IMAGE} >/dev/null`);
}
