// `porthole ui`'s terminal, processes, stats and file editing, on the real engine, in Debian's headless Chromium:
// a shell in a running (exec), a stopped (snapshot) and a shell-less (toolbox) container, nothing left after the
// tab closes or the server stops; every rule on the WebSocket upgrade and the one write endpoint as a failing
// request; the ps tree, the stats samples with a restart marked, diff markers, a folder as tar, edit-and-save
// with a restart that brings a crashed container up.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Browser, CHROMIUM, type Tab } from '../support/browser.js';
import { ensureNginxCrashImage, waitFor } from '../support/crash.js';
import { docker, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { ensureToolbox, runShellLess } from '../support/toolbox.js';
import { login, readEvents, request, startUi, stopUi, upgrade } from '../support/ui.js';

const made: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  removeContainers(...made);
});

let running: string;
let stopped: string;
let shellless: string;
let badConfig: string;

before(async () => {
  ensureBusyboxImage();
  ensureToolbox();
  running = uniqueName('ui-more-running');
  stopped = uniqueName('ui-more-stopped');
  shellless = uniqueName('ui-more-static');
  badConfig = uniqueName('ui-more-badconf');
  made.push(running, stopped, shellless, badConfig);
  // files for the diff markers (A: /srv/data, D: /home/app from the image) and the folder download
  runContainer(running, [], undefined, ['sh', '-c', 'mkdir -p /srv/data/sub && echo one > /srv/data/one.txt && echo two > /srv/data/sub/two.txt && rm -rf /home/app && echo started && exec sleep 3600']);
  runContainer(stopped, [], undefined, ['sh', '-c', 'echo stopped-marker > /tmp/marker; exit 0']);
  runShellLess(shellless);
  // exits 3 until /etc/app.conf says good
  runContainer(badConfig, [], undefined, ['sh', '-c', '[ -f /etc/app.conf ] || echo bad > /etc/app.conf; grep -q good /etc/app.conf || { echo "bad config: /etc/app.conf" >&2; exit 3; }; exec sleep 3600']);
  await waitFor(stopped, (s) => s.Status === 'exited');
  await waitFor(badConfig, (s) => s.Status === 'exited');
  const deadline = Date.now() + 10000;
  while (!docker(['logs', running]).includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
});

const id = (name: string) => docker(['inspect', '-f', '{{.Id}}', name]);

/** Records CSP violations from the first script on, so the terminal's styles can be checked against the policy. */
const RECORD_VIOLATIONS = `window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));`;

/** Types a command line into the terminal tab and waits until `expect` shows in its rows. */
async function runInTerminal(tab: Tab, line: string, expect: string, timeoutMs = 30000): Promise<void> {
  await Browser.waitFor(tab, `document.querySelector('#terminal')?.dataset.state === 'open'`, timeoutMs);
  await tab.evaluate(`document.querySelector('#terminal textarea')?.focus(), true`);
  await tab.type(line);
  await tab.key('Enter');
  await Browser.waitFor(tab, `document.querySelector('#terminal .xterm-rows')?.textContent.includes(${JSON.stringify(expect)})`, timeoutMs);
}

test('terminal: a shell in a running, a stopped and a shell-less container; nothing left after the tab closes; CSP holds', { skip: CHROMIUM ? false : 'no chromium installed' }, async () => {
  const ui = await startUi([], children);
  const browser = await Browser.launch();
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
    const base = `http://127.0.0.1:${ui.port}`;

    // running: exec; 24-bit colour and the styles xterm makes pass the page's policy
    const exec = await browser.open(`${base}/c/${running}#terminal`, { init: RECORD_VIOLATIONS });
    await runInTerminal(exec, 'echo "exec-$((6*7))"; printf "\\033[38;2;255;0;0mTRUECOLOR\\033[0m\\n"', 'exec-42');
    await Browser.waitFor(exec, `document.querySelector('#terminal .xterm-rows')?.textContent.includes('TRUECOLOR')`);
    assert.equal(await exec.evaluate(`document.querySelector('.cmd').textContent`), `porthole shell ${running}`);
    const red = await exec.evaluate(`[...document.querySelectorAll('#terminal .xterm-rows span')].filter((s) => s.textContent === 'TRUECOLOR').map((s) => getComputedStyle(s).color)[0]`);
    assert.equal(red, 'rgb(255, 0, 0)', '24-bit colour drawn (style set through the CSSOM)');
    assert.deepEqual(await exec.evaluate('window.__violations'), [], 'no CSP violation');
    assert.ok(await exec.evaluate(`[...document.querySelectorAll('style')].length > 0 && [...document.querySelectorAll('style')].every((s) => s.nonce)`), "xterm's style elements carry the page's nonce");
    // resize: the shell sees the new size
    await exec.evaluate(`(() => { document.querySelector('#terminal').style.width = '400px'; window.dispatchEvent(new Event('resize')); return true; })()`);
    await new Promise((r) => setTimeout(r, 500));
    // 'SIZE:' is in the echoed command line at once: wait for the answer itself
    await runInTerminal(exec, 'echo "SIZE:$(stty size)"', 'SIZE:');
    await Browser.waitFor(exec, `/SIZE:\\d+ \\d+/.test(document.querySelector('#terminal .xterm-rows')?.textContent)`);
    const size = /SIZE:(\d+) (\d+)/.exec(await exec.evaluate(`document.querySelector('#terminal .xterm-rows').textContent`));
    assert.ok(size && Number(size[2]) < 60 && Number(size[1]) > 5, `the shell sees the narrower tab: ${size?.[0]}`);
    // closing the tab hangs up the shell and what runs in its foreground, as closing a terminal does
    await exec.type('sleep 4321');
    await exec.key('Enter');
    const top = () => docker(['top', running, '-o', 'pid,args']);
    let deadline = Date.now() + 10000;
    while (!top().includes('sleep 4321') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(top(), /sleep 4321/);
    await exec.close();
    deadline = Date.now() + 10000;
    while (/sleep 4321|\bsh\b/.test(top()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.doesNotMatch(top(), /sleep 4321|\bsh\b/, 'nothing of the session left running in the container');

    // stopped: a snapshot copy, removed when the tab closes
    const snap = await browser.open(`${base}/c/${stopped}#terminal`);
    await runInTerminal(snap, 'cat /tmp/marker', 'stopped-marker', 60000);
    assert.match(await snap.evaluate(`document.querySelector('#terminal .xterm-rows').textContent`), /working in a snapshot/);
    assert.notDeepEqual(leftoversFor(id(stopped)), [], 'the snapshot copy exists while the tab is open');
    await snap.close();
    deadline = Date.now() + 30000;
    while (leftoversFor(id(stopped)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leftoversFor(id(stopped)), [], 'snapshot image and copy removed after the tab closed');

    // shell-less: the toolbox sidecar, removed when the tab closes
    const toolbox = await browser.open(`${base}/c/${shellless}#terminal`);
    await runInTerminal(toolbox, 'echo "toolbox-$((7*6))"', 'toolbox-42', 60000);
    assert.notDeepEqual(leftoversFor(id(shellless)), [], 'the sidecar exists while the tab is open');
    await toolbox.close();
    deadline = Date.now() + 30000;
    while (leftoversFor(id(shellless)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leftoversFor(id(shellless)), [], 'sidecar removed after the tab closed');

    // the server stops with a snapshot terminal open: the copy goes with it
    const open = await browser.open(`${base}/c/${stopped}#terminal`);
    await runInTerminal(open, 'echo still-here', 'still-here', 60000);
    assert.notDeepEqual(leftoversFor(id(stopped)), []);
    assert.equal(await stopUi(ui), 143);
    assert.deepEqual(leftoversFor(id(stopped)), [], 'snapshot removed before the server exited');
  } finally {
    await browser.close();
    await stopUi(ui);
  }
  for (const name of [running, stopped, shellless]) assert.deepEqual(leftoversFor(id(name)), []);
});

test('security: the terminal upgrade and the save endpoint refuse foreign Origin, another port, Host: evil.test, no cookie, a token; --read-only refuses both', async () => {
  const ui = await startUi([], children);
  const readOnly = await startUi(['--read-only'], children);
  try {
    const cookie = await login(ui);
    const own = `http://127.0.0.1:${ui.port}`;
    const other = ui.port === 65535 ? ui.port - 1 : ui.port + 1;
    const path = `/ws/terminal?c=${running}`;
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie, Origin: 'http://evil.test' }), 403, 'foreign Origin');
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie, Origin: `http://127.0.0.1:${other}` }), 403, 'another localhost port');
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie, Origin: `http://localhost:${other}` }), 403, 'another localhost port by name');
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie }), 403, 'no Origin');
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie, Origin: own }, `evil.test:${ui.port}`), 403, 'Host: evil.test');
    assert.equal(await upgrade(ui.port, path, { Origin: own }), 401, 'no cookie');
    assert.equal(await upgrade(ui.port, `${path}&t=${ui.token}`, { Origin: own }), 403, 'the token in the query');
    assert.equal(await upgrade(ui.port, `/ws/terminal?c=--help`, { Cookie: cookie, Origin: own }), 400, 'a flag as a name');
    assert.equal(await upgrade(ui.port, path, { Cookie: cookie, Origin: own }), 101, 'our own page');
    const roCookie = await login(readOnly);
    assert.equal(await upgrade(readOnly.port, `/ws/terminal?c=${running}`, { Cookie: roCookie, Origin: `http://127.0.0.1:${readOnly.port}` }), 403, '--read-only: no terminal');

    const file = JSON.parse((await request(ui.port, `/api/c/${running}/file?path=/srv/data/one.txt`, { headers: { Cookie: cookie } })).body);
    const body = JSON.stringify({ text: 'changed\n', base: file.hash, start: false });
    const post = (port: number, headers: Record<string, string>, host?: string) =>
      request(port, `/api/c/${running}/save?path=/srv/data/one.txt`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body, host });
    assert.equal((await post(ui.port, { Cookie: cookie, Origin: 'http://evil.test' })).status, 403);
    assert.equal((await post(ui.port, { Cookie: cookie, Origin: `http://localhost:${other}` })).status, 403);
    assert.equal((await post(ui.port, { Cookie: cookie })).status, 403);
    assert.equal((await post(ui.port, { Cookie: cookie, Origin: own }, `evil.test:${ui.port}`)).status, 403);
    assert.equal((await post(ui.port, { Origin: own })).status, 401);
    // a form post (no JSON) is refused even from our own origin
    assert.equal((await request(ui.port, `/api/c/${running}/save?path=/srv/data/one.txt`, { method: 'POST', headers: { Cookie: cookie, Origin: own, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'text=x' })).status, 415);
    assert.equal((await post(readOnly.port, { Cookie: roCookie, Origin: `http://127.0.0.1:${readOnly.port}` })).status, 403, '--read-only: no edits');
    assert.equal(docker(['exec', running, 'cat', '/srv/data/one.txt']), 'one', 'nothing was written by a refused request');
    // GET changes nothing
    assert.equal((await request(ui.port, `/api/c/${running}/save?path=/srv/data/one.txt`, { headers: { Cookie: cookie } })).status, 404);
  } finally {
    assert.equal(await stopUi(ui), 143);
    assert.equal(await stopUi(readOnly), 143);
  }
});

test('processes, stats with a restart marked, diff markers, folder tar, edit-and-save with restart', async () => {
  const ui = await startUi([], children);
  try {
    const cookie = await login(ui);
    const own = `http://127.0.0.1:${ui.port}`;
    // processes: the ps tree with host PIDs, live
    const ps = await readEvents(ui.port, `/api/c/${running}/ps`, cookie, (events) => events.filter((e) => e.event === 'ps').length >= 2, 30000);
    assert.equal(ps.find((e) => e.event === 'command')!.data, `porthole ps ${running}`);
    const rows = ps.find((e) => e.event === 'ps')!.data.rows as { hostPid: number; pid: number | null; command: string; rssBytes: number | null }[];
    const sleep = rows.find((r) => r.command === 'sleep 3600');
    assert.ok(sleep, JSON.stringify(rows));
    assert.equal(sleep.pid, 1);
    assert.equal(String(sleep.hostPid), docker(['inspect', '-f', '{{.State.Pid}}', running]));
    assert.ok(sleep.rssBytes! > 0);

    // stats: one sample a second, and a restart on the same time axis
    const stats = readEvents(ui.port, `/api/c/${running}/stats`, cookie, (events) => events.some((e) => e.event === 'event') && events.filter((e) => e.event === 'sample').length >= 3, 60000);
    await new Promise((r) => setTimeout(r, 2500));
    docker(['restart', '-t', '0', running]);
    const statEvents = await stats;
    assert.equal(statEvents.find((e) => e.event === 'command')!.data, `porthole stats --interval 1 ${running}`);
    const sample = statEvents.find((e) => e.event === 'sample')!.data;
    for (const key of ['t', 'cpuPercent', 'memoryBytes', 'netRxBytes', 'netTxBytes', 'blockReadBytes', 'blockWriteBytes']) assert.equal(typeof sample[key], 'number', key);
    assert.ok(sample.memoryBytes > 0);
    assert.match(statEvents.find((e) => e.event === 'event')!.data.kind, /^(die|restart|start)$/);

    // diff markers and a folder as tar (the restart kept the writable layer)
    const changes = JSON.parse((await request(ui.port, `/api/c/${running}/changes`, { headers: { Cookie: cookie } })).body);
    const kinds = new Map(changes.changes.map((c: { path: string; kind: string }) => [c.path, c.kind]));
    assert.equal(kinds.get('/srv/data/one.txt'), 'A');
    assert.equal(kinds.get('/home/app'), 'D');
    assert.equal(changes.command, `porthole diff ${running}`);
    const tar = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      import('node:http').then(({ get }) =>
        get({ host: '127.0.0.1', port: ui.port, path: '/api/c/' + running + '/tar?path=/srv/data', headers: { Cookie: cookie, Host: `127.0.0.1:${ui.port}` } }, (res) => {
          assert.equal(res.headers['content-type'], 'application/x-tar');
          assert.match(String(res.headers['content-disposition']), /^attachment; filename="data.tar"/);
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject),
      );
    });
    const dir = mkdtempSync(join(tmpdir(), 'ui-more-tar-'));
    try {
      writeFileSync(join(dir, 'data.tar'), tar);
      assert.deepEqual(execFileSync('tar', ['-tf', join(dir, 'data.tar')], { encoding: 'utf8' }).split('\n').filter(Boolean).sort(), ['data/', 'data/one.txt', 'data/sub/', 'data/sub/two.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal((await request(ui.port, `/api/c/${running}/tar?path=/no/such/folder`, { headers: { Cookie: cookie } })).status, 404);

    // edit-and-save: a stale version is refused; the right one is written, and "restart after saving" brings it up
    const view = JSON.parse((await request(ui.port, `/api/c/${badConfig}/file?path=/etc/app.conf`, { headers: { Cookie: cookie } })).body);
    assert.equal(view.text, 'bad\n');
    const save = (text: string, base: string, start: boolean) =>
      request(ui.port, `/api/c/${badConfig}/save?path=/etc/app.conf`, { method: 'POST', headers: { Cookie: cookie, Origin: own, 'Content-Type': 'application/json' }, body: JSON.stringify({ text, base, start }) });
    const stale = await save('good\n', '0'.repeat(64), true);
    assert.equal(stale.status, 500);
    assert.match(JSON.parse(stale.body).error, /changed in the container since the page showed it/);
    const saved = await save('good\n', view.hash, true);
    assert.equal(saved.status, 200, saved.body);
    const answer = JSON.parse(saved.body);
    assert.equal(answer.changed, true);
    assert.equal(answer.start.outcome, 'stays up');
    assert.equal(answer.command, `porthole edit ${badConfig} /etc/app.conf --start`);
    assert.equal(docker(['inspect', '-f', '{{.State.Running}}', badConfig]), 'true');
    assert.equal(docker(['exec', badConfig, 'cat', '/etc/app.conf']), 'good');
    assert.equal(docker(['exec', badConfig, 'stat', '-c', '%a %u', '/etc/app.conf']), '644 0', 'mode and owner kept');
  } finally {
    assert.equal(await stopUi(ui), 143);
  }
});

test('browser: processes and stats tabs draw, files show A/C/D and edit-and-save with restart from the page', { skip: CHROMIUM ? false : 'no chromium installed' }, async () => {
  const crashing = uniqueName('ui-more-crash2');
  made.push(crashing);
  runContainer(crashing, [], undefined, ['sh', '-c', '[ -f /etc/app.conf ] || echo bad > /etc/app.conf; grep -q good /etc/app.conf || { echo "bad config: /etc/app.conf" >&2; exit 3; }; exec sleep 3600']);
  await waitFor(crashing, (s) => s.Status === 'exited');
  const ui = await startUi([], children);
  const browser = await Browser.launch();
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
    const base = `http://127.0.0.1:${ui.port}`;
    const procs = await browser.open(`${base}/c/${running}#processes`);
    await Browser.waitFor(procs, `[...document.querySelectorAll('#procs td.command')].some((td) => td.textContent.endsWith('sleep 3600'))`, 30000);
    assert.equal(await procs.evaluate(`document.querySelector('.cmd').textContent`), `porthole ps ${running}`);
    await procs.close();

    const stats = await browser.open(`${base}/c/${running}#stats`);
    await Browser.waitFor(stats, `document.querySelectorAll('#chart-mem polyline').length === 1 && document.querySelector('#chart-net polyline') !== null`, 30000);
    assert.equal(await stats.evaluate(`document.querySelector('.cmd').textContent`), `porthole stats --interval 1 ${running}`);
    await stats.close();

    const files = await browser.open(`${base}/c/${running}#files?path=%2Fhome`);
    await Browser.waitFor(files, `document.querySelector('tr[data-path="/home/app"] td.change')?.textContent === 'D'`, 30000);
    const tree = await browser.open(`${base}/c/${running}#files?path=%2Fsrv%2Fdata`);
    await Browser.waitFor(tree, `document.querySelector('tr[data-path="/srv/data/one.txt"] td.change')?.textContent === 'A'`, 30000);
    assert.match(await tree.evaluate(`document.querySelector('#folder-download').getAttribute('href')`), /\/tar\?path=%2Fsrv%2Fdata$/);
    assert.equal(await tree.evaluate(`document.querySelector('#diff-command').textContent`), `porthole diff ${running}`);

    const edit = await browser.open(`${base}/c/${crashing}#files?path=%2Fetc&file=%2Fetc%2Fapp.conf`);
    await Browser.waitFor(edit, `document.querySelector('#edit') !== null`, 30000);
    await edit.evaluate(`document.querySelector('#edit').click(), true`);
    await edit.evaluate(`(() => { document.querySelector('#editor').value = 'good\\n'; const r = document.querySelector('#restart'); r.checked = true; r.dispatchEvent(new Event('change')); document.querySelector('#save').click(); return true; })()`);
    const result = await Browser.waitFor(edit, `document.querySelector('#save-result p:not(.muted)')?.textContent`, 30000);
    assert.match(result, /^Wrote \/etc\/app\.conf/);
    assert.match(await edit.evaluate(`document.querySelector('#save-result').textContent`), /stays up/);
    assert.equal(await edit.evaluate(`document.querySelector('#edit-form .cmd').textContent`), `porthole edit ${crashing} /etc/app.conf --start`);
    assert.equal(docker(['inspect', '-f', '{{.State.Running}}', crashing]), 'true');
  } finally {
    await browser.close();
    assert.equal(await stopUi(ui), 143);
  }
});

test('browser: the why of a crashed nginx links its config line into the Files tab, that line marked', { skip: CHROMIUM ? false : 'no chromium installed' }, async () => {
  const image = await ensureNginxCrashImage();
  const nginx = uniqueName('ui-more-nginx');
  made.push(nginx);
  docker(['run', '-d', '--name', nginx, '--label', 'io.porthole.test=1', image]);
  await waitFor(nginx, (s) => s.Status === 'exited');
  const ui = await startUi([], children);
  const browser = await Browser.launch();
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#containers tbody tr') !== null`);
    const why = await browser.open(`http://127.0.0.1:${ui.port}/c/${nginx}#why`);
    const point = await Browser.waitFor(why, `document.querySelector('#points a.point')?.textContent`, 30000);
    assert.match(point, /^\/etc\/nginx\/.*\.conf:1$/);
    await why.evaluate(`document.querySelector('#points a.point').click(), true`);
    const hit = await Browser.waitFor(why, `document.querySelector('#file-text .line.hit')?.textContent`, 30000);
    assert.match(hit, /invalid_directive/);
    assert.equal(await why.evaluate(`document.querySelector('#file-text .line.hit').dataset.line`), '1');
    assert.match(await why.evaluate('location.hash'), /^#files\?.*&line=1$/);
  } finally {
    await browser.close();
    assert.equal(await stopUi(ui), 143);
  }
});

