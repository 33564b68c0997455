// Reading an image's files: porthole ls/cat IMAGE (from its layers, no container) against the by-hand ways
// (docker run --rm, which needs ls inside; docker create + docker cp + docker rm, which works on any image), and
// porthole's own way through a created container (PORTHOLE_LAYER_READS=0, as on engines whose layers it cannot read).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, sh } from './lib.mjs';

const tag = `${process.pid}-${Date.now().toString(36)}`;
const image = `porthole-bench/image-files:${tag}`;
const root = mkdtempSync(join(tmpdir(), 'porthole-bench-image-'));
try {
  for (const d of ['bin', 'etc/app']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'ls', 'cat']) sh(`ln -s busybox ${join(root, 'bin', applet)}`);
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  for (let i = 0; i < 50; i++) writeFileSync(join(root, 'etc/app', `conf-${i}.ini`), `key=${i}\n`);
  sh(`tar -C ${root} -c . | docker import --change 'LABEL ${BENCH_LABEL}' --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - ${image} >/dev/null`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

try {
  compare('ls of a folder of an image', [
    { name: 'docker run --rm --entrypoint ls IMAGE /etc/app', cmd: `docker run --rm --label ${BENCH_LABEL} --entrypoint ls ${image} /etc/app >/dev/null` },
    { name: 'docker create + docker cp IMAGE:/etc/app - | tar t + docker rm', cmd: `c=$(docker create --label ${BENCH_LABEL} ${image}) && docker cp $c:/etc/app - | tar t >/dev/null; docker rm $c >/dev/null` },
    { name: 'porthole ls IMAGE /etc/app', cmd: `${PORTHOLE} ls ${image} /etc/app >/dev/null` },
    { name: 'porthole ls IMAGE /etc/app through a created container', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} ls ${image} /etc/app >/dev/null` },
  ], { runs: 10, warmup: 2 });
  compare('cat of a file of an image', [
    { name: 'docker run --rm --entrypoint cat IMAGE /etc/passwd', cmd: `docker run --rm --label ${BENCH_LABEL} --entrypoint cat ${image} /etc/passwd >/dev/null` },
    { name: 'porthole cat IMAGE /etc/passwd', cmd: `${PORTHOLE} cat ${image} /etc/passwd >/dev/null` },
  ], { runs: 10, warmup: 2 });
} finally {
  sh(`docker rmi -f ${image} >/dev/null 2>&1 || true`);
}
