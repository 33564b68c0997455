// `porthole ui` with the real test cluster: the namespace's pods join the list (the crash-looping one first, its
// last termination in words), and open the same tabs as containers through the CLI's own commands: why, live
// logs, ps, a terminal (exec). Pod-produced text with escape sequences and HTML stays text; a pod name that is not
// one is refused; no cluster means no pods and no error on the page. The namespace is removed afterwards.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Browser, CHROMIUM } from '../support/browser.js';
import { apply, BUSYBOX, deleteNamespace, makeNamespace, pods, skipReason, waitForPod } from '../support/k8s.js';
import { login, readEvents, request, startUi, stopUi } from '../support/ui.js';

const skip = skipReason();
if (skip) console.log(`# skipping the ui Kubernetes tests: ${skip}`);
let ns = '';
const children: ChildProcess[] = [];
// what the crashing pod prints: colour, a title change, and markup that would run if it were HTML
const HOSTILE = `\\033[31m<img src=x onerror="window.PWNED=1">HOSTILE-OUT\\033]0;retitled\\007 <b>bold</b>`;

before(async () => {
  if (skip) return;
  ns = makeNamespace('ui');
  apply(
    ns,
    `
apiVersion: v1
kind: Pod
metadata: { name: crasher }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'printf "${HOSTILE}\\n"; exit 3']
---
apiVersion: v1
kind: Pod
metadata: { name: ticker }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: tick
    image: ${BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done']
`,
  );
  await waitForPod(ns, 'ticker running', (p) => p.metadata.name === 'ticker' && p.status?.phase === 'Running', { timeoutMs: 120_000 });
  await waitForPod(ns, 'crasher restarted', (p) => p.metadata.name === 'crasher' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, { timeoutMs: 120_000 });
});

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (ns) deleteNamespace(ns);
});

test('pods in the list (crashed first), why, live logs, ps, and pod names checked', { skip }, async () => {
  const ui = await startUi(['--namespace', ns], children);
  try {
    const cookie = await login(ui);
    const list = await request(ui.port, '/api/pods', { headers: { Cookie: cookie } });
    assert.equal(list.status, 200);
    const data = JSON.parse(list.body);
    assert.equal(data.namespace, ns);
    assert.deepEqual(data.pods.map((p: { name: string }) => p.name), ['crasher', 'ticker'], 'the crash-looping pod comes first');
    const crasher = data.pods[0];
    assert.equal(crasher.ref, 'pod/crasher');
    assert.equal(crasher.crashed, true);
    assert.ok(crasher.restarts >= 1);
    assert.match(crasher.reason, /Error, exit code 3/);
    assert.equal(data.pods[1].phase, 'Running');
    assert.equal(data.pods[1].crashed, false);

    const why = await request(ui.port, '/api/c/pod%2Fcrasher/why', { headers: { Cookie: cookie } });
    assert.equal(why.status, 200, why.body);
    const report = JSON.parse(why.body);
    // as a person would type it: with the namespace the ui was given
    assert.equal(report.command, `porthole -n ${ns} why pod/crasher`);
    assert.match(report.text, /exit code 3|exited with 3|code 3/i);

    const logs = await readEvents(ui.port, '/api/c/pod%2Fticker/logs?tail=5', cookie, (e) => e.filter((x) => x.event === 'out' && /tick \d+/.test(x.data)).length >= 7, 60_000);
    assert.ok(logs.some((e) => e.event === 'command' && e.data === `porthole -n ${ns} logs -f --tail=5 pod/ticker`));
    const ticks = logs.filter((e) => e.event === 'out').map((e) => Number(/tick (\d+)/.exec(e.data)?.[1]));
    assert.ok(ticks[ticks.length - 1]! > ticks[4]!, `lines keep coming after the tail: ${ticks}`);

    const ps = await readEvents(ui.port, '/api/c/pod%2Fticker/ps', cookie, (e) => e.some((x) => x.event === 'ps' || x.event === 'failed'), 60_000);
    const block = ps.find((e) => e.event === 'ps');
    assert.ok(block, JSON.stringify(ps));
    assert.ok(block.data.rows.some((r: { command: string }) => /sleep 1/.test(r.command)) || block.data.rows.some((r: { command: string }) => /while true/.test(r.command)), JSON.stringify(block.data.rows));

    const ls = await request(ui.port, '/api/c/pod%2Fticker/ls?path=%2Fetc', { headers: { Cookie: cookie } });
    assert.equal(ls.status, 200, ls.body);
    assert.ok(JSON.parse(ls.body).entries.some((e: { name: string }) => e.name === 'hostname'), ls.body.slice(0, 500));
    const file = await request(ui.port, '/api/c/pod%2Fticker/file?path=%2Fetc%2Fhostname', { headers: { Cookie: cookie } });
    assert.equal(file.status, 200, file.body);
    assert.equal(JSON.parse(file.body).text.trim(), 'ticker');

    for (const bad of ['pod%2F..%2Fetc', 'pod%2FA_B', 'pod%2Fx%2Fy%2Fz', 'pod%2F-rf']) {
      const r = await request(ui.port, `/api/c/${bad}/why`, { headers: { Cookie: cookie } });
      assert.equal(r.status, 400, `${bad}: ${r.body}`);
    }
    const unauthenticated = await request(ui.port, '/api/pods');
    assert.equal(unauthenticated.status, 401);
  } finally {
    await stopUi(ui);
  }
});

test('-A: every namespace\'s pods, each with its namespace; a pod of another namespace opens as NS/pod/NAME', { skip }, async () => {
  // started without --namespace: the default namespace is not the test's, so every view below needs the row's own
  const ui = await startUi(['-A'], children);
  try {
    const cookie = await login(ui);
    const data = JSON.parse((await request(ui.port, '/api/pods', { headers: { Cookie: cookie } })).body);
    assert.equal(data.namespace, null);
    assert.match(data.command, /kubectl get pods -A/);
    const ours = data.pods.filter((p: { namespace: string }) => p.namespace === ns);
    assert.deepEqual(ours.map((p: { ref: string }) => p.ref), [`${ns}/pod/crasher`, `${ns}/pod/ticker`]);
    const at = (name: string, view: string) => `/api/c/${encodeURIComponent(`${ns}/pod/${name}`)}/${view}`;
    const file = await request(ui.port, `${at('ticker', 'file')}?path=%2Fetc%2Fhostname`, { headers: { Cookie: cookie } });
    assert.equal(file.status, 200, file.body);
    assert.equal(JSON.parse(file.body).text.trim(), 'ticker');
    assert.match(JSON.parse(file.body).command, new RegExp(`^porthole -n ${ns} cat pod/ticker /etc/hostname$`));
    const why = JSON.parse((await request(ui.port, at('crasher', 'why'), { headers: { Cookie: cookie } })).body);
    assert.match(why.command, new RegExp(`^porthole -n ${ns} why pod/crasher$`));
    assert.match(why.text, /exit code 3|exited with 3|code 3/i);
    const logs = await readEvents(ui.port, `${at('ticker', 'logs')}?tail=2`, cookie, (e) => e.some((x) => x.event === 'out' && /tick \d+/.test(x.data)), 60_000);
    assert.ok(logs.some((e) => e.event === 'command' && e.data.startsWith(`porthole -n ${ns} logs -f`)), JSON.stringify(logs.slice(0, 2)));
    // the same pod name in the ui's own namespace (default) does not exist: the namespace in the name is what counts
    const plain = await request(ui.port, '/api/c/pod%2Fticker/why', { headers: { Cookie: cookie } });
    assert.notEqual(plain.status, 200);
    for (const bad of ['..%2Fpod%2Fticker', 'A_B%2Fpod%2Fticker', `${ns}%2Fpod%2F..`, `${ns}%2Fpod%2Fx%2Fy%2Fz`, `${ns}%2Fticker`]) {
      const r = await request(ui.port, `/api/c/${bad}/why`, { headers: { Cookie: cookie } });
      assert.equal(r.status, 400, `${bad}: ${r.body}`);
    }
  } finally {
    await stopUi(ui);
  }
});

test('-A in the browser: a Namespace column, and a pod of another namespace with its files and a terminal', { skip: skip ?? (CHROMIUM ? false : 'no chromium installed') }, async () => {
  const ui = await startUi(['-A'], children);
  const browser = await Browser.launch();
  try {
    const list = await browser.open(ui.url);
    const row = `document.querySelector('#pods tr[data-name="${ns}/pod/ticker"]')`;
    await Browser.waitFor(list, `${row} !== null`, 30_000);
    assert.equal(await list.evaluate(`document.querySelector('#pods thead th').textContent`), 'Namespace');
    assert.equal(await list.evaluate(`${row}.querySelector('td').textContent`), ns);
    assert.match(await list.evaluate(`document.querySelector('h2:last-of-type').textContent`), /all namespaces/);
    const base = `http://127.0.0.1:${ui.port}/c/${encodeURIComponent(`${ns}/pod/ticker`)}`;
    const files = await browser.open(`${base}#files?path=%2Fetc`);
    await Browser.waitFor(files, `[...document.querySelectorAll('a.entry')].some((a) => a.textContent === 'hostname')`, 30_000);
    const term = await browser.open(`${base}#terminal`);
    await Browser.waitFor(term, `document.querySelector('#terminal')?.dataset.state === 'open'`, 30_000);
    await term.evaluate(`document.querySelector('#terminal textarea')?.focus(), true`);
    await term.type('cat /etc/hostname; echo NS-$((40+2))');
    await term.key('Enter');
    await Browser.waitFor(term, `document.querySelector('#terminal .xterm-rows')?.textContent.includes('NS-42')`, 30_000);
    assert.match(await term.evaluate(`document.querySelector('#terminal .xterm-rows').textContent`), /ticker/);
  } finally {
    await browser.close();
    await stopUi(ui);
  }
});

test('in the browser: the pod list, hostile output as text, a terminal in a pod', { skip: skip ?? (CHROMIUM ? false : 'no chromium installed') }, async () => {
  const ui = await startUi(['--namespace', ns], children);
  const browser = await Browser.launch();
  try {
    const first = await browser.open(ui.url);
    await Browser.waitFor(first, `document.querySelector('#pods tbody tr') !== null`, 30_000);
    assert.equal(await first.evaluate(`document.querySelector('#pods tbody tr').dataset.name`), 'pod/crasher');
    assert.match(await first.evaluate(`document.querySelector('#pods tbody tr').textContent`), /crashed.*exit code 3/);
    const base = `http://127.0.0.1:${ui.port}`;

    const logs = await browser.open(`${base}/c/pod%2Fcrasher#logs`);
    await Browser.waitFor(logs, `document.querySelector('#log')?.textContent.includes('HOSTILE-OUT')`, 60_000);
    const text = await logs.evaluate(`document.querySelector('#log').textContent`);
    assert.match(text, /<img src=x onerror=window\.PWNED=1>HOSTILE-OUT/, 'the markup is shown as text');
    assert.equal(await logs.evaluate(`document.querySelectorAll('#log img, #log b').length`), 0);
    assert.equal(await logs.evaluate(`window.PWNED === undefined`), true);
    assert.equal(await logs.evaluate(`document.title`), 'porthole: pod/crasher');

    const procs = await browser.open(`${base}/c/pod%2Fticker#processes`);
    await Browser.waitFor(procs, `[...document.querySelectorAll('#procs tbody tr')].some((r) => r.textContent.includes('while true'))`, 60_000);

    const why = await browser.open(`${base}/c/pod%2Fcrasher#why`);
    await Browser.waitFor(why, `document.querySelector('#why-text')?.textContent.length > 0`, 60_000);

    const term = await browser.open(`${base}/c/pod%2Fticker#terminal`);
    await Browser.waitFor(term, `document.querySelector('#terminal')?.dataset.state === 'open'`, 30_000);
    await term.evaluate(`document.querySelector('#terminal textarea')?.focus(), true`);
    await term.type('echo UI-K8S-$((40+2))');
    await term.key('Enter');
    await Browser.waitFor(term, `document.querySelector('#terminal .xterm-rows')?.textContent.includes('UI-K8S-42')`, 30_000);
    assert.ok(!(await term.evaluate(`document.querySelector('#term-status').textContent`)).includes('error'));

    // a crash-looping pod: exec only from the page, so refused with the reason; no copy of the pod is made
    const crashed = await browser.open(`${base}/c/pod%2Fcrasher#terminal`);
    await Browser.waitFor(crashed, `document.querySelector('#term-status')?.textContent.includes('by exec only')`, 30_000);
    assert.match(await crashed.evaluate(`document.querySelector('#term-status').textContent`), /keeps crashing|has exited|not running/);
    assert.deepEqual(pods(ns).map((p) => p.metadata.name).sort(), ['crasher', 'ticker'], 'no copy of the pod was made');
  } finally {
    await browser.close();
    await stopUi(ui);
  }
});

test('no cluster: no pods, no error on the page, the containers as before', { skip: CHROMIUM ? false : 'no chromium installed' }, async () => {
  const ui = await startUi(['--kubeconfig', '/nonexistent/porthole-ui-kubeconfig'], children);
  const browser = await Browser.launch();
  try {
    const cookie = await login(ui);
    const r = await request(ui.port, '/api/pods', { headers: { Cookie: cookie } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { pods: [] });
    const ui2 = await startUi(['--kubeconfig', '/nonexistent/porthole-ui-kubeconfig'], children);
    try {
      const page = await browser.open(ui2.url);
      await Browser.waitFor(page, `document.querySelector('#containers') !== null && performance.getEntriesByName('porthole-list-drawn').length > 0`, 30_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await page.evaluate(`document.querySelector('#pods')`), null);
      assert.equal(await page.evaluate(`document.querySelectorAll('.error').length`), 0);
    } finally {
      await stopUi(ui2);
    }
  } finally {
    await browser.close();
    await stopUi(ui);
  }
});
