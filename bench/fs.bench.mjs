// porthole ls -R over a container of 100,000 files vs `docker export C | tar t` (target: no slower), ls of one
// folder of it against the by-hand ways, and the peak memory of porthole ls -R (target: at most 150 MiB). The
// container comes from an imported rootfs and is removed at the end, with its image.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, compare, peakRssMiB, sh } from './lib.mjs';

const FILES = 100_000;
const PER_DIR = 100;
const tag = `${process.pid}-${Date.now().toString(36)}`;
const image = `porthole-bench/fs-100k:${tag}`;
const name = `pt-bench-fs-${tag}`;

const root = mkdtempSync(join(tmpdir(), 'porthole-bench-fs-'));
try {
  for (let d = 0; d < FILES / PER_DIR; d++) {
    const dir = join(root, 'data', `dir${String(d).padStart(4, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) writeFileSync(join(dir, `file-${f}.txt`), `${d}/${f}\n`);
  }
  sh(`tar -C ${root} -c . | docker import --change 'LABEL ${BENCH_LABEL}' --change 'CMD ["/none"]' - ${image} >/dev/null`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

try {
  sh(`docker create --name ${name} --label ${BENCH_LABEL} ${image} >/dev/null`);
  const entries = Number(sh(`docker export ${name} | tar t | wc -l`));
  const lines = Number(sh(`${PORTHOLE} ls -R ${name} / | wc -l`));
  console.log(`container ${name}: ${entries} entries in its export; porthole ls -R printed ${lines} lines`);
  const results = compare(`ls -R over ${FILES.toLocaleString('en')} files (stopped container)`, [
    { name: 'docker export C | tar t', cmd: `docker export ${name} | tar t >/dev/null` },
    { name: 'porthole ls -R C /', cmd: `${PORTHOLE} ls -R ${name} / >/dev/null` },
    { name: 'porthole ls -R -l C /', cmd: `${PORTHOLE} ls -R -l ${name} / >/dev/null` },
    { name: 'porthole ls -R C / through the engine', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} ls -R ${name} / >/dev/null` },
    { name: 'porthole export --list C', cmd: `${PORTHOLE} export --list ${name} >/dev/null` },
    { name: 'docker export C >/dev/null (engine alone)', cmd: `docker export ${name} >/dev/null` },
  ], { runs: 8, warmup: 1 });
  const ls = results.find((r) => r.name === 'porthole ls -R C /');
  console.log(`  target ls -R no slower than docker export | tar t: ${ls.ratio <= 1 ? 'met' : 'MISSED'} (x${ls.ratio.toFixed(2)}; from the layers where the engine is local)`);
  // One folder, not -R: by hand, the engine's archive of that folder (all below it) or its whole export; porthole
  // reads the folder's names from the container's layers where the engine is local.
  compare('ls of one folder (same container)', [
    { name: 'docker export C | tar t (by hand, for /)', cmd: `docker export ${name} | tar t >/dev/null` },
    { name: 'porthole ls C /', cmd: `${PORTHOLE} ls ${name} / >/dev/null` },
    { name: 'porthole ls C / through the engine', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} ls ${name} / >/dev/null` },
  ], { runs: 5, warmup: 1 });
  compare('ls -l of one folder of 100 files', [
    { name: 'docker cp C:/data/dir0001 - | tar tv', cmd: `docker cp ${name}:/data/dir0001 - | tar tv >/dev/null` },
    { name: 'porthole ls -l C /data/dir0001', cmd: `${PORTHOLE} ls -l ${name} /data/dir0001 >/dev/null` },
  ], { runs: 20, warmup: 2 });
  const rss = peakRssMiB(`${PORTHOLE} ls -R ${name} /`);
  const rssLong = peakRssMiB(`${PORTHOLE} ls -R -l ${name} /`);
  const rssFind = peakRssMiB(`${PORTHOLE} find ${name} / --name '*.txt'`);
  const rssEngine = peakRssMiB(`PORTHOLE_LAYER_READS=0 ${PORTHOLE} ls -R ${name} /`);
  console.log(`  peak memory: ls -R ${rss.toFixed(1)} MiB, ls -R -l ${rssLong.toFixed(1)} MiB, find ${rssFind.toFixed(1)} MiB, ls -R through the engine ${rssEngine.toFixed(1)} MiB (target <= 150 MiB: ${rss <= 150 ? 'met' : 'MISSED'})`);
  // What the container changed, with sizes: docker diff alone has none (by hand: export it and match the names);
  // porthole reads the container's own layer where the engine is local, else one export pass.
  const changes = mkdtempSync(join(tmpdir(), 'porthole-bench-changes-'));
  try {
    mkdirSync(join(changes, 'logs'));
    for (let i = 0; i < 20; i++) writeFileSync(join(changes, 'logs', `app-${i}.log`), 'x'.repeat(100_000));
    sh(`docker cp ${changes}/logs ${name}:/data/logs`);
  } finally {
    rmSync(changes, { recursive: true, force: true });
  }
  compare('what the container changed, with sizes (same container, 20 files copied in)', [
    { name: 'docker diff C (no sizes)', cmd: `docker diff ${name} >/dev/null` },
    // the engine's diff walks the whole image twice (its "naive" diff); porthole reads the container's layer alone
    { name: 'porthole diff C', cmd: `${PORTHOLE} diff ${name} >/dev/null` },
    { name: 'porthole diff C through the engine', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} diff ${name} >/dev/null` },
    { name: 'porthole diff -l C', cmd: `${PORTHOLE} diff -l ${name} >/dev/null` },
    { name: 'porthole du C', cmd: `${PORTHOLE} du ${name} >/dev/null` },
    { name: 'porthole diff -l C through the export', cmd: `PORTHOLE_LAYER_READS=0 ${PORTHOLE} diff -l ${name} >/dev/null` },
  ], { runs: 5, warmup: 1 });
} finally {
  sh(`docker rm -f ${name} >/dev/null 2>&1 || true`);
  sh(`docker rmi -f ${image} >/dev/null 2>&1 || true`);
}
