// `porthole ui`'s containers list figures (restart counts, CPU and memory sparklines), the Why tab's "Copy as
// Markdown" and the Logs tab's "jump to time", on the real engine in Debian's headless Chromium: the figures come
// after the list, agree with `porthole stats` and `docker inspect`; the clipboard holds the report as Markdown;
// a jump shows only the lines written since that time.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Browser, CHROMIUM } from '../support/browser.js';
import { porthole } from '../support/cli.js';
import { waitFor } from '../support/crash.js';
import { docker, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { login, readEvents, request, startUi, stopUi } from '../support/ui.js';

const made: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  removeContainers(...made);
});

const skip = CHROMIUM ? false : 'no chromium installed';

before(() => {
  ensureBusyboxImage();
});

test('list: restart counts and CPU/memory sparklines come after the list and agree with stats and inspect', { skip }, async () => {
  const busy = uniqueName('ui-gaps-busy');
  const idle = uniqueName('ui-gaps-idle');
  const memory = uniqueName('ui-gaps-mem');
  const restarting = uniqueName('ui-gaps-restart');
  made.push(busy, idle, memory, restarting);
  runContainer(busy, [], undefined, ['sh', '-c', 'while :; do :; done']);
  runContainer(idle, [], undefined, ['sleep', '3600']);
  // 48 MiB in the container's tmpfs, charged to its memory cgroup
  runContainer(memory, ['--shm-size', '96m'], undefined, ['sh', '-c', 'head -c 50331648 /dev/zero > /dev/shm/fill && exec sleep 3600']);
  // fails after 5 s, restarted twice by its policy while the page is open, then stays exited
  runContainer(restarting, ['--restart', 'on-failure:2'], undefined, ['sh', '-c', 'sleep 5; exit 1']);
  const ui = await startUi([], children);
  const browser = await Browser.launch();
  try {
    const list = await browser.open(ui.url);
    await Browser.waitFor(list, `document.querySelector('tr[data-name="${restarting}"]') !== null`);
    // the figures arrive on their own stream, after the list was drawn
    await Browser.waitFor(list, `performance.getEntriesByName('porthole-figures-drawn').length > 0`, 30000);
    const [drawn, figured] = await list.evaluate(`['porthole-list-drawn', 'porthole-figures-drawn'].map((n) => performance.getEntriesByName(n)[0].startTime)`);
    assert.ok(drawn < figured, `list drawn (${drawn} ms) before the first figures (${figured} ms)`);
    assert.ok((await list.evaluate(`[...document.querySelectorAll('.cmd')].map((c) => c.textContent)`)).includes('porthole stats --interval 2'));
    const firstRestarts = await Browser.waitFor(list, `document.querySelector('tr[data-name="${restarting}"] td.restarts').textContent`);
    assert.ok(['0', '1'].includes(firstRestarts), `restart count while it runs: ${firstRestarts}`);
    assert.equal(await Browser.waitFor(list, `document.querySelector('tr[data-name="${idle}"] td.restarts').textContent`), '0');

    const cell = (name: string, column: string) => `document.querySelector('tr[data-name="${name}"] td.${column}')`;
    // a few samples: every running row has a sparkline of several points
    await Browser.waitFor(list, `${cell(busy, 'cpu')}?.querySelector('svg polyline')?.getAttribute('points').split(' ').length >= 3`, 30000);
    for (const name of [busy, idle, memory]) {
      for (const column of ['cpu', 'mem']) {
        const points = await list.evaluate(`${cell(name, column)}.querySelector('svg.spark polyline').getAttribute('points').split(' ').length`);
        assert.ok(points >= 2, `${name} ${column}: ${points} points`);
      }
    }
    const value = (name: string, column: string) => list.evaluate(`Number(${cell(name, column)}.dataset.value)`);
    assert.ok((await value(busy, 'cpu')) > 20, `busy loop CPU ${await value(busy, 'cpu')}%`);
    assert.ok((await value(idle, 'cpu')) < 5, `idle CPU ${await value(idle, 'cpu')}%`);
    assert.match(await list.evaluate(`${cell(busy, 'cpu')}.querySelector('.value').textContent`), /^\d+\.\d%$/);
    // the page's memory figure is the CLI's: `porthole stats --json` within the time between two samples
    const pageMemory = await value(memory, 'mem');
    const cli = await porthole(['stats', '--json', memory]);
    assert.equal(cli.code, 0, cli.stderr);
    const cliMemory = JSON.parse(cli.stdout)[0].memoryBytes as number;
    assert.ok(pageMemory > 48 * 1024 * 1024, `the 48 MiB in /dev/shm counted: ${pageMemory}`);
    assert.ok(Math.abs(pageMemory - cliMemory) / cliMemory < 0.1, `page ${pageMemory} vs porthole stats ${cliMemory}`);
    assert.match(await list.evaluate(`${cell(memory, 'mem')}.querySelector('.value').textContent`), /^\d+\.\d MiB$/);

    // the restarts the policy made while the page was open reach the row, as inspect counts them
    await waitFor(restarting, (s) => s.Status === 'exited' && !s.Running, 60000);
    const final = docker(['inspect', '-f', '{{.RestartCount}}', restarting]);
    assert.equal(final, '2');
    assert.equal(await Browser.waitFor(list, `${cell(restarting, 'restarts')}.textContent === '2' && '2'`, 30000), '2');
    // stopped: no figures any more
    await Browser.waitFor(list, `!${cell(restarting, 'cpu')}.querySelector('svg')`, 30000);
    assert.equal(await list.evaluate(`${cell(restarting, 'restarts')}.textContent`), final);
  } finally {
    await browser.close();
    assert.equal(await stopUi(ui), 143);
  }
});

test('list figures: the stream is a GET read behind the same Host and cookie checks; containers even with a namespace given', async () => {
  const sleeper = uniqueName('ui-gaps-sleeper');
  made.push(sleeper);
  runContainer(sleeper, [], undefined, ['sleep', '3600']);
  // with --namespace the page lists that namespace's pods too; the list's figures stay the containers'
  const ui = await startUi(['--namespace', 'pt-ui-gaps-no-such-namespace'], children);
  try {
    assert.equal((await request(ui.port, '/api/containers/figures')).status, 401, 'no cookie');
    const cookie = await login(ui);
    assert.equal((await request(ui.port, '/api/containers/figures', { headers: { Cookie: cookie }, host: 'evil.test' })).status, 403, 'foreign Host');
    assert.equal((await request(ui.port, `/api/containers/figures?t=${ui.token}`, { headers: { Cookie: cookie } })).status, 403, 'token again');
    assert.equal((await request(ui.port, '/api/containers/figures', { method: 'POST', headers: { Cookie: cookie, Origin: `http://127.0.0.1:${ui.port}` } })).status, 405);
    const sleeperId = docker(['inspect', '-f', '{{.Id}}', sleeper]);
    const events = await readEvents(ui.port, '/api/containers/figures', cookie, (e) => e.some((x) => x.event === 'restarts') && e.some((x) => x.event === 'sample'), 30000);
    assert.equal(events.find((e) => e.event === 'restarts')!.data[sleeperId], 0);
    assert.equal(events[0]!.event, 'command');
    assert.equal(events[0]!.data, 'porthole stats --interval 2');
    const sample = events.find((e) => e.event === 'sample')!.data;
    assert.ok(Array.isArray(sample.rows) && typeof sample.t === 'number');
    for (const row of sample.rows) assert.deepEqual(Object.keys(row), ['id', 'cpuPercent', 'memoryBytes', 'memoryLimitBytes']);
    const mine = sample.rows.find((r: { id: string }) => r.id === sleeperId);
    assert.ok(mine && mine.memoryBytes > 0 && mine.cpuPercent < 5, JSON.stringify(sample.rows).slice(0, 500));
  } finally {
    assert.equal(await stopUi(ui), 143);
  }
});

test('why: Copy as Markdown puts the report on the clipboard: headline, fenced report, command, path:line list', { skip }, async () => {
  const crashed = uniqueName('ui-gaps-why');
  made.push(crashed);
  // its output names a file and line, and carries a triple backtick the fence must not end at
  runContainer(crashed, [], undefined, ['sh', '-c', 'printf "name = shop\\nport = eighty\\nworkers = 4\\n" > /etc/app.conf; echo \'config error at /etc/app.conf:2: bad value ```eighty```\' >&2; exit 3']);
  await waitFor(crashed, (s) => s.Status === 'exited');
  const ui = await startUi([], children);
  const browser = await Browser.launch({ permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
    const why = await browser.open(`http://127.0.0.1:${ui.port}/c/${crashed}#why`);
    const text = await Browser.waitFor(why, `document.querySelector('#why-text')?.textContent`, 30000);
    await why.click('#copy-markdown');
    assert.equal(await Browser.waitFor(why, `document.querySelector('#why-copied').textContent`), 'Copied.');
    const copied: string = await why.evaluate('navigator.clipboard.readText()');
    assert.equal(copied, await why.evaluate(`document.querySelector('#why-markdown').value`), 'the clipboard holds what the page keeps');
    const api = await why.evaluate(`fetch('/api/c/${crashed}/why').then((r) => r.json())`);
    // the server built it from the same report (asked again: only the "exited N s ago" clock moved)
    const clock = (md: string) => md.replace(/exited [\d.]+ (ms|s|min|h) ago/, 'exited ... ago');
    assert.equal(clock(copied), clock(api.markdown));

    const headline = await why.evaluate(`document.querySelector('.headline').textContent`);
    assert.match(headline, /exited with code 3/);
    const lines = copied.split('\n');
    assert.equal(lines[0], `## ${crashed.replace(/_/g, '\\_')}: ${headline}`);
    // a fence of four: the report holds a run of three
    assert.equal(lines[2], '````text');
    const close = lines.indexOf('````', 3);
    assert.ok(close > 3, 'the fence is closed');
    assert.equal(lines.slice(3, close).join('\n'), text.replace(/\n+$/, ''), 'the fenced block is the report the tab shows');
    assert.ok(copied.includes('```eighty```'));
    assert.ok(lines.includes(`Command: \`porthole why ${crashed}\``));
    assert.ok(lines.includes('- `/etc/app.conf:2` (seen in stderr)'), copied);
    assert.equal(await why.evaluate(`document.querySelector('#why-markdown').hidden`), true);
  } finally {
    await browser.close();
    assert.equal(await stopUi(ui), 143);
  }
});

test('logs: jump to time restarts the live stream from then: only the later lines', { skip }, async () => {
  const ticker = uniqueName('ui-gaps-ticks');
  made.push(ticker);
  runContainer(ticker, [], undefined, ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "tick $i at $(date +%s)"; sleep 1; done; exec sleep 3600']);
  const ui = await startUi([], children);
  const browser = await Browser.launch();
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
    const logs = await browser.open(`http://127.0.0.1:${ui.port}/c/${ticker}#logs`);
    const ticks = `[...document.querySelectorAll('#log div.out')].map((d) => Number(/^tick (\\d+) at \\d+$/.exec(d.textContent)?.[1]))`;
    await Browser.waitFor(logs, `${ticks}.includes(5)`, 30000);
    assert.deepEqual((await logs.evaluate(ticks)).slice(0, 5), [1, 2, 3, 4, 5]);
    // a time between tick 3 and tick 4, from the engine's own timestamps
    const stamped = docker(['logs', '-t', ticker]).split('\n');
    const at3 = Date.parse(stamped.find((l) => / tick 3 at /.test(l))!.split(' ')[0]!);
    const at4 = Date.parse(stamped.find((l) => / tick 4 at /.test(l))!.split(' ')[0]!);
    const jump = new Date((at3 + at4) / 2).toISOString();
    const jumpTo = async (value: string) => {
      await logs.evaluate(`(() => { const i = document.querySelector('input[name=since]'); i.value = ${JSON.stringify(value)}; document.querySelector('#jump').requestSubmit(); return true; })()`);
    };
    await jumpTo(jump);
    await Browser.waitFor(logs, `document.querySelector('.cmd')?.textContent.includes('--since=')`);
    assert.equal(await logs.evaluate(`document.querySelector('.cmd').textContent`), `porthole logs -f --since=${jump} ${ticker}`);
    await Browser.waitFor(logs, `${ticks}.includes(7)`, 30000);
    const after = (await logs.evaluate(ticks)) as number[];
    assert.equal(after[0], 4, `the first line shown is the first written after the jump: ${after.join(',')}`);
    assert.deepEqual(after, after.map((_, i) => 4 + i), 'then every later line, in order, live');

    // relative, as logs --since takes it: the last 3 s
    const latest = Math.max(...((await logs.evaluate(ticks)) as number[]));
    await jumpTo('3s');
    await Browser.waitFor(logs, `document.querySelector('.cmd')?.textContent.includes('--since=3s')`);
    await Browser.waitFor(logs, `${ticks}.length > 0 && ${ticks}.includes(${latest + 2})`, 30000);
    const recent = (await logs.evaluate(ticks)) as number[];
    assert.ok(recent[0]! >= latest - 4 && recent[0]! <= latest + 1, `3s back from tick ${latest}: first ${recent[0]}`);

    // not a time: the logs command's own sentence, nothing shown
    await jumpTo('next tuesday');
    const error = await Browser.waitFor(logs, `document.querySelector('#panel p.error')?.textContent`);
    assert.match(error, /--since "next tuesday" is not a time\./);

    // Latest: back to the last lines and what follows
    await logs.evaluate(`(() => { document.querySelector('#jump button[type=button]').click(); return true; })()`);
    await Browser.waitFor(logs, `${ticks}[0] === 1`, 30000);
  } finally {
    await browser.close();
    assert.equal(await stopUi(ui), 143);
  }
});
