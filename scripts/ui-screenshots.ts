// Screenshots of `porthole ui`'s tabs for docs/img (run with tsx after a build): the list with restart counts and
// sparklines, a demo container with a few changed files and some output, each tab opened in headless Chromium,
// the picture written as docs/img/ui-TAB.png.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Browser } from '../test/support/browser.js';
import { startUi, stopUi } from '../test/support/ui.js';

const name = 'porthole-demo-web';
const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
docker(['run', '-d', '--name', name, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'sh', '-c',
  'mkdir -p /srv/app && echo "listen 8080" > /srv/app/app.conf && rm -rf /home/app && (while :; do echo "GET /health 200"; dd if=/dev/zero of=/tmp/x bs=64k count=40 2>/dev/null; sleep 1; done) & exec sleep 100000']);
// for the list: one that crashed and was restarted three times by its policy, and one busy one
const crashloop = 'porthole-demo-crashloop';
const busy = 'porthole-demo-worker';
spawnSync('docker', ['rm', '-f', crashloop, busy], { stdio: 'ignore' });
docker(['run', '-d', '--name', crashloop, '--label', 'io.porthole.test=1', '--restart', 'on-failure:3', 'porthole-fixture/busybox:1', 'sh', '-c', 'echo "cannot reach db:5432" >&2; sleep 1; exit 1']);
docker(['run', '-d', '--name', busy, '--label', 'io.porthole.test=1', 'porthole-fixture/busybox:1', 'sh', '-c', 'while :; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1; done']);
// settled: restarted three times, then exited for good (so the list shows it crashed, first)
for (let i = 0; i < 200 && docker(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', crashloop]) !== '3 exited'; i++) await new Promise((r) => setTimeout(r, 200));
const ui = await startUi([]);
const browser = await Browser.launch();
try {
  const first = await browser.open(ui.url);
  await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
  // the list with its restart counts and 20 samples in each sparkline, filtered to the demo containers
  const list = await browser.open(`http://127.0.0.1:${ui.port}/#q=porthole-demo`);
  await Browser.waitFor(list, `document.querySelector('tr[data-name="${crashloop}"] td.restarts')?.textContent === '3' && document.querySelector('tr[data-name="${busy}"] svg.spark polyline')?.getAttribute('points').split(' ').length >= 20`, 90000);
  writeFileSync('docs/img/ui-list.png', await list.screenshot());
  await list.close();
  const base = `http://127.0.0.1:${ui.port}/c/${name}`;
  const shots: [string, string, string][] = process.env.UI_SHOTS === 'list' ? [] : [
    ['terminal', '#terminal', `document.querySelector('#terminal')?.dataset.state === 'open' && document.querySelector('#terminal .xterm-rows').textContent.includes('#')`],
    ['processes', '#processes', `document.querySelectorAll('#procs tbody tr').length > 2`],
    ['stats', '#stats', `document.querySelectorAll('#chart-cpu polyline').length && document.querySelectorAll('#events li').length > 0 && Number(document.querySelector('#panel p.muted')?.textContent.split(' ')[0]) >= 20`],
    ['edit', '#files?path=%2Fsrv%2Fapp&file=%2Fsrv%2Fapp%2Fapp.conf', `document.querySelector('#edit') !== null`],
  ];
  for (const [file, hash, ready] of shots) {
    const tab = await browser.open(`${base}${hash}`);
    // a restart, marked on the stats' time axis
    if (file === 'stats') setTimeout(() => docker(['restart', '-t', '0', name]), 10000);
    await Browser.waitFor(tab, ready, 60000);
    if (file === 'terminal') {
      await tab.type('ls -l /srv/app; cat /srv/app/app.conf');
      await tab.key('Enter');
      await Browser.waitFor(tab, `document.querySelector('#terminal .xterm-rows').textContent.includes('listen 8080')`);
    }
    if (file === 'edit') await tab.evaluate(`(document.querySelector('#edit').click(), document.querySelector('#restart').click(), true)`);
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(`docs/img/ui-${file}.png`, await tab.screenshot());
    await tab.close();
  }
} finally {
  await browser.close();
  await stopUi(ui);
  docker(['rm', '-f', name, crashloop, busy]);
}
