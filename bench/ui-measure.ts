// `porthole ui`'s three targets, measured in Debian's headless Chromium on the real engine (run by ui.bench.mjs
// through tsx, for the tests' browser helper):
//   1. first page: the container list drawn with at least 100 containers (target: 300 ms from opening the URL), and
//      when its sparklines follow (UI_BENCH_RUNNING=N runs N of the containers);
//   2. terminal keystroke echo round trip, in the browser, vs `docker exec -it` in a terminal (a pty), side by side
//      (target: within 20 ms of it);
//   3. the logs tab on a container printing ~10,000 lines/s for 60 s: JS heap (target: < 100 MB) and frame times.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Browser } from '../test/support/browser.js';
import { startUi, stopUi } from '../test/support/ui.js';

const IMAGE = 'porthole-fixture/busybox:1';
const LABEL = 'io.porthole.bench=1';
const tag = process.pid;
const made: string[] = [];
const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** user + system CPU seconds of a process so far (/proc/PID/stat, 100 ticks a second). */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const seconds = Number(process.env.UI_BENCH_LOG_SECONDS ?? 60);

async function main(): Promise<void> {
  // --- containers: enough for a list of 100, a shell for the terminal, a chatty one for the logs
  const existing = Number(docker(['ps', '-aq']).split('\n').filter(Boolean).length);
  const needed = Math.max(0, 110 - existing);
  // UI_BENCH_RUNNING=N: N of them running (sleeping), so the list's sparklines sample that many
  const runningWanted = Number(process.env.UI_BENCH_RUNNING ?? 0);
  for (let i = 0; i < needed; i++) {
    const name = `pt-bench-ui-${tag}-${i}`;
    if (i < runningWanted) docker(['run', '-d', '--name', name, '--label', LABEL, IMAGE, 'sleep', '1000000']);
    else docker(['create', '--name', name, '--label', LABEL, IMAGE, 'true']);
    made.push(name);
  }
  const shell = `pt-bench-ui-shell-${tag}`;
  const chatty = `pt-bench-ui-chatty-${tag}`;
  made.push(shell, chatty);
  docker(['run', '-d', '--name', shell, '--label', LABEL, IMAGE, 'sleep', '1000000']);

  const ui = await startUi([]);
  const browser = await Browser.launch();
  try {
    const base = `http://127.0.0.1:${ui.port}`;
    // 1. first page
    const opened = Date.now();
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelectorAll('#containers tbody tr').length >= 100`, 30000);
    const withToken = Date.now() - opened;
    const drawn: number[] = [];
    const api: number[] = [];
    const figured: number[] = [];
    let count = 0;
    let running = 0;
    for (let i = 0; i < 7; i++) {
      const page = await browser.open(`${base}/`);
      drawn.push(await Browser.waitFor(page, `performance.getEntriesByName('porthole-list-drawn')[0]?.startTime`, 30000));
      count = await page.evaluate(`document.querySelectorAll('#containers tbody tr').length`);
      // the restart counts and sparklines, on their own stream after the list
      figured.push(await Browser.waitFor(page, `performance.getEntriesByName('porthole-figures-drawn')[0]?.startTime`, 30000));
      running = await page.evaluate(`document.querySelectorAll('#containers svg.spark').length / 2`);
      api.push(await page.evaluate(`(() => { const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/containers')); return e.responseEnd - e.requestStart; })()`));
      await page.close();
    }
    console.log(`\n## first page: the list of ${count} containers`);
    console.log(`  drawn ${Math.round(median(drawn))} ms after navigation start (median of 7; min ${Math.round(Math.min(...drawn))}, max ${Math.round(Math.max(...drawn))}); target 300 ms`);
    console.log(`  of which the /api/containers answer (the engine's list): median ${Math.round(median(api))} ms`);
    console.log(`  first CPU/memory sparklines (${running} running containers, own stream after the list): median ${Math.round(median(figured))} ms after navigation start`);
    console.log(`  first open with the token (redirect and cookie included): ${withToken} ms, as seen from the test`);
    // what the open list costs the server: its figures stream (stats sampler + restart counts), 20 s
    const listTab = await browser.open(`${base}/`);
    await Browser.waitFor(listTab, `performance.getEntriesByName('porthole-figures-drawn').length > 0`, 30000);
    const before = cpuSeconds(ui.child.pid!);
    await sleep(20000);
    const listCpu = (cpuSeconds(ui.child.pid!) - before) / 20;
    await listTab.close();
    console.log(`  the server while the list is open (${running} running containers sampled every 2 s): ${(listCpu * 100).toFixed(1)}% of one core`);

    // 2. terminal echo: one key at a time, from the textarea's input event to the echoed character in the DOM
    const term = await browser.open(`${base}/c/${shell}#terminal`);
    await Browser.waitFor(term, `document.querySelector('#terminal')?.dataset.state === 'open' && document.querySelector('#terminal .xterm-rows').textContent.includes('#')`, 30000);
    await term.evaluate(`document.querySelector('#terminal textarea').focus(), true`);
    const browserEcho: number[] = [];
    for (let i = 0; i < 40; i++) {
      await term.evaluate(`(() => {
        const rows = document.querySelector('#terminal .xterm-rows');
        const area = document.querySelector('#terminal textarea');
        const before = rows.textContent;
        let t0;
        window.__echo = new Promise((resolve) => {
          area.addEventListener('input', () => { t0 = performance.now(); }, { once: true, capture: true });
          const watch = new MutationObserver(() => {
            if (t0 !== undefined && rows.textContent !== before) { watch.disconnect(); resolve(performance.now() - t0); }
          });
          watch.observe(rows, { childList: true, subtree: true, characterData: true });
        });
        return true;
      })()`);
      await term.type('x');
      browserEcho.push(await term.evaluate('window.__echo'));
      await sleep(30);
    }
    await term.close();
    const py = spawnSync('python3', ['-c', PTY_ECHO, shell, '40'], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`docker exec -it echo failed: ${py.stderr}`);
    const dockerEcho = JSON.parse(py.stdout) as number[];
    console.log(`\n## terminal keystroke echo round trip (40 keys each)`);
    console.log(`  docker exec -it in a pty:      median ${median(dockerEcho).toFixed(1)} ms, p95 ${p95(dockerEcho).toFixed(1)} ms`);
    console.log(`  porthole ui terminal (browser): median ${median(browserEcho).toFixed(1)} ms, p95 ${p95(browserEcho).toFixed(1)} ms (key to character drawn)`);
    console.log(`  difference of medians: ${(median(browserEcho) - median(dockerEcho)).toFixed(1)} ms; target within 20 ms`);

    // 3. logs under ~10,000 lines/s for `seconds` seconds
    docker(['run', '-d', '--name', chatty, '--label', LABEL, IMAGE, 'sh', '-c', 'for i in $(seq 1200); do echo "line $i of a chatty container, printing ten thousand lines a second"; done > /tmp/block; while :; do cat /tmp/block; usleep 100000; done']);
    const logs = await browser.open(`${base}/c/${chatty}#logs`);
    await Browser.waitFor(logs, `document.querySelectorAll('#log .view div').length > 10`, 30000);
    await logs.evaluate(`(() => { window.__frames = []; let last = performance.now(); const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); }; requestAnimationFrame(tick); return true; })()`);
    const started = Date.now();
    const linesBefore = Number(execFileSync('sh', ['-c', `docker logs ${chatty} 2>&1 | wc -l`], { encoding: 'utf8' }).trim());
    const heaps: number[] = [];
    while (Date.now() - started < seconds * 1000) {
      await sleep(10000);
      heaps.push(await logs.heapBytes());
    }
    const elapsed = (Date.now() - started) / 1000;
    const linesAfter = Number(execFileSync('sh', ['-c', `docker logs ${chatty} 2>&1 | wc -l`], { encoding: 'utf8' }).trim());
    const frames = (await logs.evaluate('window.__frames')) as number[];
    const shown = await logs.evaluate(`document.querySelectorAll('#log .view div').length`);
    const nodes = await logs.evaluate(`document.getElementsByTagName('*').length`);
    const skipped = await logs.evaluate(`document.querySelector('.bar .muted')?.textContent || ''`);
    console.log(`\n## logs tab, ${Math.round((linesAfter - linesBefore) / elapsed)} lines/s for ${Math.round(elapsed)} s`);
    console.log(`  JS heap (after GC) every 10 s: ${heaps.map((h) => (h / 1048576).toFixed(1)).join(', ')} MB; max ${(Math.max(...heaps) / 1048576).toFixed(1)} MB; target < 100 MB`);
    console.log(`  frames: ${frames.length}, median ${median(frames).toFixed(1)} ms, p95 ${p95(frames).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms`);
    console.log(`  line elements in view: ${shown} (${nodes} elements in the document); ${skipped}`);
    await logs.close();
  } finally {
    await browser.close();
    await stopUi(ui);
  }
}

/** docker exec -it C sh in a pty: waits for the prompt, then times each key to its echo. */
const PTY_ECHO = String.raw`
import json, os, pty, select, sys, time
name, n = sys.argv[1], int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp('docker', ['docker', 'exec', '-it', name, 'sh'])
def read_until(marker, timeout=20):
    buf = b''
    end = time.time() + timeout
    while marker not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            raise SystemExit('timeout waiting for %r, got %r' % (marker, buf))
        buf += os.read(fd, 4096)
    return buf
read_until(b'#')
times = []
for i in range(n):
    t = time.perf_counter()
    os.write(fd, b'x')
    read_until(b'x')
    times.append((time.perf_counter() - t) * 1000)
    time.sleep(0.03)
os.write(fd, b'\x15exit\r')
try:
    os.waitpid(pid, 0)
except Exception:
    pass
print(json.dumps(times))
`;

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    if (made.length) spawnSync('docker', ['rm', '-f', ...made], { stdio: 'ignore' });
  });
