// `porthole ui`'s first page with the cluster probe: the container list (100+ containers) drawn with no cluster
// (a kubeconfig that does not exist), and with the test cluster's kubeconfig when it is there, 7 opens each; the
// pods come on their own request after the containers are drawn, so the draw should not move. Run by ui.bench.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Browser } from '../test/support/browser.js';
import { startUi, stopUi } from '../test/support/ui.js';

const IMAGE = 'porthole-fixture/busybox:1';
const LABEL = 'io.porthole.bench=1';
const CLUSTER = process.env.KUBECONFIG || '/run/porthole-k8s/admin.kubeconfig';
const made: string[] = [];
const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(kubeconfig: string): Promise<{ drawn: number[]; pods: number[]; rows: number; podRows: number }> {
  const ui = await startUi(['--kubeconfig', kubeconfig]);
  const browser = await Browser.launch();
  const drawn: number[] = [];
  const pods: number[] = [];
  let rows = 0;
  let podRows = 0;
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelectorAll('#containers tbody tr').length >= 100`, 30000);
    for (let i = 0; i < 7; i++) {
      const page = await browser.open(`http://127.0.0.1:${ui.port}/`);
      drawn.push(await Browser.waitFor(page, `performance.getEntriesByName('porthole-list-drawn')[0]?.startTime`, 30000));
      rows = await page.evaluate(`document.querySelectorAll('#containers tbody tr').length`);
      const answered = await Browser.waitFor(page, `(() => { const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/pods')); return e && e.responseEnd > 0 ? e.responseEnd : 0; })()`, 30000);
      pods.push(answered);
      await new Promise((r) => setTimeout(r, 200));
      podRows = await page.evaluate(`document.querySelectorAll('#pods tbody tr').length`);
      await page.close();
    }
  } finally {
    await browser.close();
    await stopUi(ui);
  }
  return { drawn, pods, rows, podRows };
}

async function main(): Promise<void> {
  const existing = docker(['ps', '-aq']).split('\n').filter(Boolean).length;
  for (let i = 0; i < Math.max(0, 110 - existing); i++) {
    const name = `pt-bench-uik-${process.pid}-${i}`;
    docker(['create', '--name', name, '--label', LABEL, IMAGE, 'true']);
    made.push(name);
  }
  console.log('\n## first page with the cluster probe (7 opens each; ms after navigation start)');
  const none = await measure('/nonexistent/porthole-bench-kubeconfig');
  console.log(`  no cluster:   list of ${none.rows} drawn median ${Math.round(median(none.drawn))} ms (min ${Math.round(Math.min(...none.drawn))}, max ${Math.round(Math.max(...none.drawn))}); /api/pods answered (empty) at ${Math.round(median(none.pods))} ms; ${none.podRows} pod rows`);
  if (existsSync(CLUSTER)) {
    const kube = await measure(CLUSTER);
    console.log(`  test cluster: list of ${kube.rows} drawn median ${Math.round(median(kube.drawn))} ms (min ${Math.round(Math.min(...kube.drawn))}, max ${Math.round(Math.max(...kube.drawn))}); pods answered at ${Math.round(median(kube.pods))} ms; ${kube.podRows} pod rows`);
    console.log(`  ratio of the list's draw (cluster / none): ${(median(kube.drawn) / median(none.drawn)).toFixed(2)}`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    if (made.length) execFileSync('docker', ['rm', '-f', ...made], { stdio: 'ignore' });
  });
