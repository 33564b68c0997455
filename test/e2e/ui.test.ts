// `porthole ui` on the real engine: the built CLI is started, its URL line parsed, and real HTTP requests (and
// headless Chromium where installed) check every security rule as a failing request, the pages' data, live logs,
// hostile file names, and that SIGTERM ends it with nothing left behind.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { porthole, spawnPorthole } from '../support/cli.js';
import { containerFingerprint, docker, ensureBusyboxImage, leftoversFor, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { waitFor } from '../support/crash.js';
import { Browser, CHROMIUM } from '../support/browser.js';

const made: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  removeContainers(...made);
});

const HOSTILE = '<img src=x onerror=alert(1)>.txt';
let crashed: string;
let chatty: string;
let hostile: string;

before(async () => {
  ensureBusyboxImage();
  crashed = uniqueName('web-ui-crashed');
  chatty = uniqueName('web-ui-chatty');
  hostile = uniqueName('web-ui-hostile');
  made.push(crashed, chatty, hostile);
  runContainer(crashed, [], undefined, ['sh', '-c', 'echo "web-ui: cannot open /etc/app.conf: no such file" >&2; exit 3']);
  runContainer(chatty, [], undefined, ['sh', '-c', 'echo started; exec sleep 3600']);
  runContainer(hostile, [], undefined, ['sh', '-c', `yes 'a line of text' | head -c 3000000 > /tmp/big.txt; printf '<script>alert(1)</script>\\n' > '/tmp/${HOSTILE}'; exec sleep 3600`]);
  await waitFor(crashed, (s) => s.Status === 'exited');
  const deadline = Date.now() + 10000;
  while (!docker(['exec', hostile, 'ls', '/tmp']).includes('onerror') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
});

interface Ui {
  child: ChildProcess;
  port: number;
  token: string;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

async function startUi(args: string[] = []): Promise<Ui> {
  const child = spawnPorthole(['ui', ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL line within 30 s; stderr: ${err}`)), 30000);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`porthole ui exited with ${code}: ${err}`)));
  });
  const m = /^porthole ui: (http:\/\/127\.0\.0\.1:(\d+)\/\?t=([A-Za-z0-9_-]{43}))$/.exec(line);
  assert.ok(m, `first stdout line is the URL: ${line}`);
  return { child, url: m[1]!, port: Number(m[2]), token: m[3]!, stdout: () => out, stderr: () => err };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { Host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Swaps the URL's token for the cookie, as the browser does; returns the Cookie header to send. */
async function login(ui: Ui): Promise<string> {
  const r = await request(ui.port, `/?t=${ui.token}`);
  assert.equal(r.status, 303);
  const cookie = String(r.headers['set-cookie']?.[0] ?? '');
  return cookie.split(';')[0]!;
}

async function stop(ui: Ui): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => ui.child.on('exit', (code) => resolve(code)));
  ui.child.kill('SIGTERM');
  const timer = setTimeout(() => ui.child.kill('SIGKILL'), 10000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test('security: token once, then only the cookie; Host and Origin checked; strict headers on every answer', async () => {
  const ui = await startUi();
  const held: Socket[] = [];
  try {
    const other = ui.port === 65535 ? ui.port - 1 : ui.port + 1;
    // nothing without the token
    assert.equal((await request(ui.port, '/api/containers')).status, 401);
    assert.equal((await request(ui.port, '/')).status, 401);
    // a wrong token is refused and does not use up the real one
    assert.equal((await request(ui.port, '/?t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 403);
    assert.equal((await request(ui.port, '/?t=short')).status, 403);
    // the right token on a foreign Host is refused before it is looked at (DNS rebinding)
    assert.equal((await request(ui.port, `/?t=${ui.token}`, { host: `evil.test:${ui.port}` })).status, 403);
    const first = await request(ui.port, `/?t=${ui.token}`);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    const setCookie = String(first.headers['set-cookie']?.[0]);
    assert.match(setCookie, new RegExp(`^porthole_ui_${ui.port}=${ui.token}; `));
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    // the redirect stays on this server whatever the path looked like
    const offsite = await startUi();
    try {
      const r = await request(offsite.port, `/.//evil.test/x?t=${offsite.token}`);
      assert.equal(r.status, 303);
      assert.equal(r.headers.location, '/evil.test/x');
    } finally {
      assert.equal(await stop(offsite), 143);
    }
    // never again in a query string, not even with the cookie
    const again = await request(ui.port, `/?t=${ui.token}`);
    assert.equal(again.status, 403);
    assert.match(again.body, /already used/);
    assert.equal((await request(ui.port, `/api/containers?t=${ui.token}`, { headers: { Cookie: cookie } })).status, 403);
    // a wrong cookie
    assert.equal((await request(ui.port, '/api/containers', { headers: { Cookie: `porthole_ui_${ui.port}=${'B'.repeat(43)}` } })).status, 403);
    // the cookie works
    const page = await request(ui.port, '/', { headers: { Cookie: cookie } });
    assert.equal(page.status, 200);
    // Host: only 127.0.0.1, localhost, [::1] at this very port
    for (const host of ['evil.test', `evil.test:${ui.port}`, `127.0.0.1:${other}`, `localhost:${other}`, '127.0.0.1', `0.0.0.0:${ui.port}`]) {
      assert.equal((await request(ui.port, '/api/containers', { host, headers: { Cookie: cookie } })).status, 403, `Host ${host}`);
    }
    for (const host of [`localhost:${ui.port}`, `[::1]:${ui.port}`, `LOCALHOST:${ui.port}`]) {
      assert.equal((await request(ui.port, '/api/containers', { host, headers: { Cookie: cookie } })).status, 200, `Host ${host}`);
    }
    // writes and upgrades need our own Origin (and there is no write endpoint: 405 after the checks)
    for (const origin of ['http://evil.test', `http://localhost:${other}`, `https://127.0.0.1:${ui.port}`, 'null']) {
      assert.equal((await request(ui.port, '/api/containers', { method: 'POST', headers: { Cookie: cookie, Origin: origin } })).status, 403, `Origin ${origin}`);
      const upgrade = await request(ui.port, '/ws', { headers: { Cookie: cookie, Origin: origin, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      assert.equal(upgrade.status, 403, `upgrade from ${origin}`);
    }
    assert.equal((await request(ui.port, '/api/containers', { method: 'POST', headers: { Cookie: cookie } })).status, 403, 'POST without Origin');
    assert.equal((await request(ui.port, '/api/containers', { method: 'POST', headers: { Cookie: cookie, Origin: `http://127.0.0.1:${ui.port}` } })).status, 405);
    const ownUpgrade = await request(ui.port, '/ws', { headers: { Cookie: cookie, Origin: `http://127.0.0.1:${ui.port}`, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    assert.equal(ownUpgrade.status, 404);
    // headers on pages, data and refusals alike; no CORS
    for (const answer of [page, first, again, await request(ui.port, '/api/containers', { headers: { Cookie: cookie } })]) {
      const csp = String(answer.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['access-control-allow-origin'], undefined);
    }
    // the page: no inline script, nothing from another origin
    assert.doesNotMatch(page.body, /<script(?![^>]*\ssrc=)[^>]*>/);
    assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//);
    const js = await request(ui.port, '/assets/app.js', { headers: { Cookie: cookie } });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    // (the SVG namespace name is a name, not an address: the charts' elements need it)
    assert.doesNotMatch(js.body.replaceAll("'http://www.w3.org/2000/svg'", ''), /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|eval\(|https?:\/\//);
    assert.equal((await request(ui.port, '/assets/../../package.json', { headers: { Cookie: cookie } })).status, 404);
    // a client that keeps its sockets open (a refused upgrade, an idle keep-alive) cannot hold the server up at the end
    held.push(connect(ui.port, '127.0.0.1', function (this: Socket) {
      this.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${ui.port}\r\nOrigin: http://evil.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    }));
    held.push(connect(ui.port, '127.0.0.1', function (this: Socket) {
      this.write(`GET /assets/app.css HTTP/1.1\r\nHost: 127.0.0.1:${ui.port}\r\nCookie: ${cookie}\r\nConnection: keep-alive\r\n\r\n`);
    }));
    for (const socket of held) socket.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    // the token appears once, in the URL line, and never on stderr
    assert.equal(ui.stdout().split(ui.token).length - 1, 1);
    assert.ok(!ui.stderr().includes(ui.token));
  } finally {
    const started = Date.now();
    assert.equal(await stop(ui), 143);
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms with sockets held open`);
    for (const socket of held) socket.destroy();
  }
});

test('flags: a non-loopback --host is refused without the explicit flag; --port is used', async () => {
  const refused = await porthole(['ui', '--host', '0.0.0.0']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--i-know-this-exposes-root/);
  assert.equal(refused.stdout, '');
  assert.equal((await porthole(['ui', '--port', 'abc'])).code, 2);
  // no engine: the command's own error (exit 5), and no URL to a page that could only fail
  const noEngine = await porthole(['-H', 'unix:///nonexistent/porthole-web-ui.sock', 'ui']);
  assert.equal(noEngine.code, 5);
  assert.equal(noEngine.stdout, '');
  // a port in use is a sentence, not a stack
  const busy = await startUi();
  try {
    const taken = await porthole(['ui', '--port', String(busy.port)]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^porthole: Port \d+ is taken\./);
    assert.equal(taken.stdout, '');
  } finally {
    assert.equal(await stop(busy), 143);
  }
  const port = await freePort();
  const ui = await startUi(['--port', String(port), '--read-only']);
  try {
    assert.equal(ui.port, port);
    const cookie = await login(ui);
    const info = JSON.parse((await request(port, '/api/info', { headers: { Cookie: cookie } })).body);
    assert.equal(info.readOnly, true);
  } finally {
    assert.equal(await stop(ui), 143);
  }
});

test('data: the container list (crashed first), why of a crashed container, files with hostile names, live logs', async () => {
  const before = containerFingerprint(crashed);
  const ui = await startUi();
  let sse: ReturnType<typeof httpRequest> | undefined;
  try {
    const cookie = await login(ui);
    const get = (path: string) => request(ui.port, path, { headers: { Cookie: cookie } });
    const list = JSON.parse((await get('/api/containers')).body);
    const names = list.containers.map((c: { name: string }) => c.name);
    for (const name of [crashed, chatty, hostile]) assert.ok(names.includes(name), `${name} listed`);
    const crashRow = list.containers.find((c: { name: string }) => c.name === crashed);
    assert.equal(crashRow.exitCode, 3);
    assert.equal(crashRow.crashed, true);
    assert.match(crashRow.exitWords, /3/);
    const firstHealthy = list.containers.findIndex((c: { crashed: boolean }) => !c.crashed);
    assert.ok(firstHealthy === -1 || list.containers.slice(firstHealthy).every((c: { crashed: boolean }) => !c.crashed), 'crashed ones first');

    const why = await get(`/api/c/${crashed}/why`);
    assert.equal(why.status, 200);
    const report = JSON.parse(why.body);
    assert.equal(report.report.happened.exitCode, 3);
    assert.match(report.text, /cannot open \/etc\/app\.conf/);
    assert.equal(report.command, `porthole why ${crashed}`);
    assert.equal((await get('/api/c/pt-web-ui-no-such-container/why')).status, 404);
    assert.equal((await get('/api/c/--help/why')).status, 400);

    // hostile names and contents come back as JSON data, never as markup
    const listing = await get(`/api/c/${hostile}/ls?path=/tmp`);
    assert.equal(listing.status, 200);
    assert.match(String(listing.headers['content-type']), /^application\/json/);
    assert.ok(JSON.parse(listing.body).entries.some((e: { name: string }) => e.name === HOSTILE));
    const file = await get(`/api/c/${hostile}/file?path=${encodeURIComponent(`/tmp/${HOSTILE}`)}`);
    assert.equal(JSON.parse(file.body).text, '<script>alert(1)</script>\n');
    const download = await get(`/api/c/${hostile}/download?path=${encodeURIComponent(`/tmp/${HOSTILE}`)}`);
    assert.equal(download.status, 200);
    assert.equal(download.headers['content-type'], 'application/octet-stream');
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="_img_src_x_onerror_alert_1__.txt"/);
    assert.equal(download.body, '<script>alert(1)</script>\n');
    // a big file: the view stops at 1 MB (and says so), the download has all of it
    const big = JSON.parse((await get(`/api/c/${hostile}/file?path=/tmp/big.txt`)).body);
    assert.equal(big.truncated, true);
    assert.equal(big.size, 1024 * 1024);
    assert.equal((await get(`/api/c/${hostile}/download?path=/tmp/big.txt`)).body.length, 3000000);
    assert.equal((await get(`/api/c/${hostile}/download?path=/tmp/no-such-file`)).status, 404);
    // no host file through the page: paths are the container's
    const escape = await get(`/api/c/${hostile}/file?path=${encodeURIComponent('/../../../etc/hostname')}`);
    assert.equal(JSON.parse(escape.body).text, docker(['exec', hostile, 'cat', '/etc/hostname']) + '\n');
    assert.equal((await get(`/api/c/${hostile}/file?path=relative`)).status, 400);

    // live logs: a line printed after connecting arrives, stderr marked, the server-side filter applied
    const events: { event: string; data: string }[] = [];
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    sse = httpRequest({ host: '127.0.0.1', port: ui.port, path: `/api/c/${chatty}/logs?grep=${encodeURIComponent('keep|started')}`, headers: { Cookie: cookie, Host: `127.0.0.1:${ui.port}` } }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buffer += d;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          if (event === 'out' && JSON.parse(data!) === 'started') connected();
        }
      });
    });
    sse.end();
    await ready;
    docker(['exec', chatty, 'sh', '-c', 'echo drop-me-out > /proc/1/fd/1; echo keep-out-1 > /proc/1/fd/1; echo keep-err-1 > /proc/1/fd/2']);
    const deadline = Date.now() + 15000;
    while (!(events.some((e) => e.data === 'keep-out-1') && events.some((e) => e.data === 'keep-err-1')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.find((e) => e.data === 'keep-out-1')?.event, 'out');
    assert.deepEqual(events.find((e) => e.data === 'keep-err-1')?.event, 'err');
    assert.ok(!events.some((e) => e.data === 'drop-me-out'), 'filtered on the server');
    assert.match(events.find((e) => e.event === 'command')!.data, /^porthole logs -f --tail=200 --grep='keep\|started' /);
  } finally {
    // SIGTERM with a log stream open: it ends at once, and nothing is left for the containers looked at
    const started = Date.now();
    assert.equal(await stop(ui), 143);
    assert.ok(Date.now() - started < 8000, 'stopped promptly');
    sse?.destroy();
  }
  await assert.rejects(request(ui.port, '/'), /ECONNREFUSED/);
  assert.deepEqual(containerFingerprint(crashed), before, 'the crashed container was only looked at');
  for (const name of [crashed, chatty, hostile]) assert.deepEqual(leftoversFor(docker(['inspect', '-f', '{{.Id}}', name])), []);
});

test('browser: headless Chromium draws the list, why, live logs and files, hostile names as text', { skip: CHROMIUM ? false : 'no chromium installed' }, async () => {
  const ui = await startUi();
  const browser = await Browser.launch();
  try {
    const base = `http://127.0.0.1:${ui.port}`;
    const opened = Date.now();
    const list = await browser.open(ui.url);
    await Browser.waitFor(list, `document.querySelector('tr[data-name="${crashed}"]') !== null`);
    console.log(`# container list drawn ${Date.now() - opened} ms after opening the URL (token exchange included)`);
    assert.equal(await list.evaluate('location.href'), `${base}/`, 'the token is gone from the address bar');
    const order = await list.evaluate(`[...document.querySelectorAll('#containers tbody tr')].map((r) => r.dataset.name)`);
    assert.ok(order.indexOf(crashed) < order.indexOf(chatty), 'crashed first');
    // the filter box
    await list.evaluate(`(() => { const f = document.querySelector('input[type=search]'); f.value = ${JSON.stringify(hostile)}; f.dispatchEvent(new Event('input')); })()`);
    assert.deepEqual(await list.evaluate(`[...document.querySelectorAll('#containers tbody tr')].map((r) => r.dataset.name)`), [hostile]);
    // an authenticated reload: from navigation start to the list drawn, as the page itself measured it
    const again = await browser.open(`${base}/`);
    const drawnMs = await Browser.waitFor(again, `performance.getEntriesByName('porthole-list-drawn')[0]?.startTime`);
    const count = await again.evaluate(`document.querySelectorAll('#containers tbody tr').length`);
    console.log(`# list of ${count} containers drawn ${Math.round(drawnMs)} ms after navigation start (page's own performance mark)`);
    await again.close();
    // the cookie is HttpOnly: the page's own script cannot read it
    assert.equal(await list.evaluate('document.cookie'), '');

    const why = await browser.open(`${base}/c/${crashed}#why`);
    const whyText = await Browser.waitFor(why, `document.querySelector('#why-text')?.textContent`);
    assert.match(whyText, /cannot open \/etc\/app\.conf/);
    assert.equal(await why.evaluate(`document.querySelector('.cmd').textContent`), `porthole why ${crashed}`);

    const files = await browser.open(`${base}/c/${hostile}#files?path=%2Ftmp&file=${encodeURIComponent(`/tmp/${HOSTILE}`)}`);
    await Browser.waitFor(files, `[...document.querySelectorAll('a.entry')].some((a) => a.textContent === ${JSON.stringify(HOSTILE)})`);
    const fileText = await Browser.waitFor(files, `document.querySelector('#file-text')?.textContent`);
    assert.equal(fileText, '<script>alert(1)</script>\n');
    assert.equal(await files.evaluate(`document.querySelectorAll('img, #viewer script').length`), 0, 'no element made from container content');

    const logs = await browser.open(`${base}/c/${chatty}#logs`);
    await Browser.waitFor(logs, `[...document.querySelectorAll('#log div.out')].some((d) => d.textContent === 'started')`);
    docker(['exec', chatty, 'sh', '-c', 'echo browser-out-1 > /proc/1/fd/1; echo "<b>browser-err-1</b>" > /proc/1/fd/2']);
    await Browser.waitFor(logs, `[...document.querySelectorAll('#log div.out')].some((d) => d.textContent === 'browser-out-1')`);
    await Browser.waitFor(logs, `[...document.querySelectorAll('#log div.err')].some((d) => d.textContent === '<b>browser-err-1</b>')`);
    assert.equal(await logs.evaluate(`document.querySelectorAll('#log b').length`), 0);
    await logs.close();
  } finally {
    await browser.close();
    assert.equal(await stop(ui), 143);
  }
});
