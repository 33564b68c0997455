// The executable's own V8 code cache (src/launch.ts) against Node's module.enableCompileCache() (Node 22.1+) and
// against no cache, on the Node that runs the bench: `porthole ps C` and `porthole --version`, each loaded the three
// ways. The runs are interleaved (one of each in turn, 40 rounds) so the machine's drifts hit all three alike, and
// each way's median wall and CPU (user+sys) time is printed. src/launch.ts keeps its own cache only while it wins here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, PORTHOLE, sh } from './lib.mjs';

const IMAGE = 'porthole-fixture/busybox:1';
const name = `pt-bench-launch-${process.pid}`;
const app = PORTHOLE.replace(/porthole\.cjs$/, 'porthole-app.cjs');
const work = mkdtempSync(join(tmpdir(), 'porthole-bench-launch-'));
// Node's own cache, the way a launcher would use it: turned on, then the bundle required: the command's own, as
// src/launch.ts picks it (here the command is the first word), else the whole CLI.
const nodeCache = join(work, 'node-compile-cache.cjs');
writeFileSync(nodeCache, [
  `require('node:module').enableCompileCache(${JSON.stringify(join(work, 'node-cache'))});`,
  `const own = ${JSON.stringify(app.replace(/\.cjs$/, '-'))} + process.argv[2] + '.cjs';`,
  `require(/^[a-z]+$/.test(process.argv[2] ?? '') && require('node:fs').existsSync(own) ? own : ${JSON.stringify(app)});`,
].join('\n') + '\n');
const ownCacheHome = join(work, 'own-cache');
const TIMER = `import os, sys, time
t = time.perf_counter(); pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1); os.dup2(fd, 2); os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0); wall = (time.perf_counter() - t) * 1000
sys.exit(f'child failed: {status}') if status else print(f'{wall:.2f} {(ru.ru_utime + ru.ru_stime) * 1000:.2f}', file=sys.stderr)`;

function ensureImage() {
  if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0) return;
  // Made the way test/support/docker.ts makes it: Debian's static busybox with every applet linked.
  sh(`set -e; d=$(mktemp -d); mkdir -p $d/bin $d/etc $d/tmp; cp /bin/busybox $d/bin/; for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -s busybox $d/bin/$a; done;
      printf 'root:x:0:0:root:/root:/bin/sh\\n' > $d/etc/passwd; tar -C $d -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - ${IMAGE} >/dev/null; rm -rf $d`);
}

ensureImage();
sh(`docker run -d --name ${name} --label ${BENCH_LABEL} ${IMAGE} sh -c 'sleep 1000 & wait' >/dev/null`);
try {
  const node = process.execPath;
  const ways = [
    ['own code cache (src/launch.ts)', (args) => ({ cmd: [node, PORTHOLE, ...args], env: { XDG_CACHE_HOME: ownCacheHome } })],
    ['module.enableCompileCache()', (args) => ({ cmd: [node, nodeCache, ...args], env: {} })],
    ['no cache', (args) => ({ cmd: [node, PORTHOLE, ...args], env: { PORTHOLE_CODE_CACHE: '0' } })],
  ];
  // wall and CPU (user+sys) time of one run, from wait4's rusage: exact, where GNU time rounds to 10 ms
  const run = ({ cmd, env }) => {
    const r = spawnSync('python3', ['-c', TIMER, ...cmd], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
    const [wall, cpu] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    return { wall, cpu };
  };
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`Node ${process.version}`);
  for (const args of [['ps', name], ['--version']]) {
    // the first runs write the caches
    for (const [, way] of ways) for (let i = 0; i < 3; i++) run(way(args));
    const samples = ways.map(() => ({ wall: [], cpu: [] }));
    for (let round = 0; round < 40; round++) {
      ways.forEach(([, way], i) => {
        const s = run(way(args));
        samples[i].wall.push(s.wall);
        samples[i].cpu.push(s.cpu);
      });
    }
    console.log(`\n## porthole ${args[0] === 'ps' ? 'ps C' : args.join(' ')}: median of 40 interleaved runs`);
    const own = median([...samples[0].wall]);
    ways.forEach(([label], i) => {
      const wall = median(samples[i].wall);
      console.log(`  ${label.padEnd(32)} wall ${wall.toFixed(1).padStart(6)} ms (${i ? `${wall - own >= 0 ? '+' : ''}${(wall - own).toFixed(1)} vs own` : 'baseline'})   CPU ${median(samples[i].cpu).toFixed(1).padStart(6)} ms`);
    });
  }
} finally {
  spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
