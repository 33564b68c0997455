// porthole ui: the page. Plain DOM, every piece of container content set with textContent (never innerHTML),
// so names, logs and files a container controls are shown as text, whatever they contain.
'use strict';

const MAX_LOG_LINES = 2000;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** replaceChildren() would show a null as the text "null": optional parts are dropped instead. */
function present(...nodes) {
  return nodes.filter((n) => n != null);
}

function commandLine(text) {
  return el('code', { class: 'cmd', title: 'The same view on the command line', text: text });
}

async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin' });
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function showError(parent, err) {
  parent.replaceChildren(el('p', { class: 'error', text: String(err.message || err) }));
}

const app = document.getElementById('app');

async function listView() {
  document.title = 'porthole: containers';
  const filter = el('input', { type: 'search', placeholder: 'Filter by name, image, state', 'aria-label': 'filter' });
  const body = el('tbody');
  const cmd = el('div');
  app.replaceChildren(el('h1', { text: 'Containers' }), cmd, el('div', { class: 'bar' }, filter), el('table', { id: 'containers' },
    el('thead', null, el('tr', null, ...['Name', 'State', 'Exit', 'Status', 'Image'].map((h) => el('th', { text: h })))), body));
  let rows = [];
  const draw = () => {
    const words = filter.value.trim().toLowerCase();
    body.replaceChildren(...rows
      .filter((c) => !words || `${c.name} ${c.image} ${c.state} ${c.status}`.toLowerCase().includes(words))
      .map((c) => el('tr', { class: c.crashed ? 'crashed' : c.state, 'data-name': c.name },
        el('td', null, el('a', { href: `/c/${encodeURIComponent(c.name)}#why`, text: c.name })),
        el('td', { class: 'state', text: c.crashed ? `${c.state} (crashed)` : c.state }),
        el('td', { text: c.exitWords || '' }),
        el('td', { class: 'muted', text: c.status }),
        el('td', { text: c.image }))));
  };
  // #q=WORDS fills the filter box, so a filtered list can be linked to
  filter.value = new URLSearchParams(location.hash.slice(1)).get('q') || '';
  filter.addEventListener('input', () => {
    history.replaceState(null, '', filter.value ? `#q=${encodeURIComponent(filter.value)}` : location.pathname);
    draw();
  });
  try {
    const data = await getJson('/api/containers');
    rows = data.containers;
    cmd.replaceChildren(commandLine(data.command));
    draw();
    // for the first-page target (list drawn within 300 ms of opening): read by the browser test
    performance.mark('porthole-list-drawn');
  } catch (err) {
    showError(cmd, err);
  }
}

function containerView(name) {
  document.title = `porthole: ${name}`;
  const tabs = ['why', 'logs', 'files'];
  const nav = el('nav', { class: 'tabs' }, ...tabs.map((t) => el('a', { href: `#${t}`, 'data-tab': t, text: t[0].toUpperCase() + t.slice(1) })));
  const panel = el('section', { id: 'panel' });
  app.replaceChildren(el('p', null, el('a', { href: '/', text: 'All containers' })), el('h1', { text: name }), nav, panel);
  let stopCurrent = () => {};
  const show = () => {
    stopCurrent();
    stopCurrent = () => {};
    const tab = tabs.includes(location.hash.slice(1).split('?')[0]) ? location.hash.slice(1).split('?')[0] : 'why';
    for (const a of nav.children) a.classList.toggle('active', a.dataset.tab === tab);
    panel.replaceChildren(el('p', { class: 'muted', text: 'Loading...' }));
    if (tab === 'why') whyTab(name, panel);
    if (tab === 'logs') stopCurrent = logsTab(name, panel);
    if (tab === 'files') filesTab(name, panel, new URLSearchParams(location.hash.split('?')[1] || '').get('path') || '/');
  };
  window.addEventListener('hashchange', show);
  show();
}

async function whyTab(name, panel) {
  try {
    const data = await getJson(`/api/c/${encodeURIComponent(name)}/why`);
    const h = data.report.happened || {};
    const headline = h.meaning || h.state || '';
    panel.replaceChildren(...present(commandLine(data.command),
      el('p', { class: 'headline', text: headline }),
      h.error ? el('p', { class: 'error', text: `Engine error: ${h.error}` }) : null,
      el('pre', { id: 'why-text', text: data.text })));
  } catch (err) {
    showError(panel, err);
  }
}

function logsTab(name, panel) {
  const grep = el('input', { type: 'text', placeholder: 'regular expression (filtered on the server)', 'aria-label': 'filter' });
  const pause = el('input', { type: 'checkbox' });
  const skipped = el('span', { class: 'muted' });
  const cmd = el('div');
  const log = el('div', { id: 'log' });
  const status = el('p', { class: 'muted' });
  let source;
  let skippedCount = 0;
  const connect = () => {
    if (source) source.close();
    log.replaceChildren();
    const query = new URLSearchParams({ tail: '200' });
    if (grep.value) query.set('grep', grep.value);
    source = new EventSource(`/api/c/${encodeURIComponent(name)}/logs?${query}`);
    // lines are drawn in batches (every 50 ms), and at most MAX_LOG_LINES of them: a container printing faster than the
    // page can draw skips lines (counted) instead of freezing the tab or growing it without end
    let queue = [];
    let scheduled = false;
    const draw = () => {
      scheduled = false;
      const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      if (queue.length > MAX_LOG_LINES) {
        skippedCount += queue.length - MAX_LOG_LINES;
        queue = queue.slice(-MAX_LOG_LINES);
      }
      const frag = document.createDocumentFragment();
      for (const [kind, text] of queue) frag.append(el('div', { class: kind, text: text }));
      queue = [];
      log.append(frag);
      while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
      skipped.textContent = skippedCount ? `${skippedCount} lines skipped` : '';
      if (stick) log.scrollTop = log.scrollHeight;
    };
    const add = (kind) => (event) => {
      if (pause.checked) {
        skippedCount++;
        skipped.textContent = `${skippedCount} lines skipped`;
        return;
      }
      queue.push([kind, JSON.parse(event.data)]);
      // bounded even while the tab is hidden (timers slow down there): the oldest waiting lines go first
      if (queue.length > 2 * MAX_LOG_LINES) {
        skippedCount += queue.length - MAX_LOG_LINES;
        queue = queue.slice(-MAX_LOG_LINES);
      }
      if (!scheduled) {
        scheduled = true;
        setTimeout(draw, 50);
      }
    };
    source.addEventListener('out', add('out'));
    source.addEventListener('err', add('err'));
    source.addEventListener('command', (e) => cmd.replaceChildren(commandLine(JSON.parse(e.data))));
    source.addEventListener('end', (e) => { status.textContent = JSON.parse(e.data); source.close(); });
    source.addEventListener('failed', (e) => { status.textContent = JSON.parse(e.data); status.className = 'error'; source.close(); });
  };
  pause.addEventListener('change', () => { if (!pause.checked) { skippedCount = 0; skipped.textContent = ''; } });
  const form = el('form', { class: 'bar' }, grep, el('button', { type: 'submit', text: 'Filter' }), el('label', null, pause, ' pause'), skipped);
  form.addEventListener('submit', (e) => { e.preventDefault(); status.textContent = ''; status.className = 'muted'; connect(); });
  panel.replaceChildren(cmd, form, log, status);
  connect();
  return () => source && source.close();
}

function joinPath(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

async function filesTab(name, panel, path) {
  const base = `/api/c/${encodeURIComponent(name)}`;
  const go = (p) => { location.hash = `files?path=${encodeURIComponent(p)}`; };
  try {
    const data = await getJson(`${base}/ls?path=${encodeURIComponent(path)}`);
    const parent = path === '/' ? null : path.replace(/\/[^/]*$/, '') || '/';
    const body = el('tbody');
    for (const entry of data.entries) {
      const entryPath = entry.path || joinPath(path, entry.name);
      const link = el('a', { href: '#', text: entry.name + (entry.type === 'dir' ? '/' : ''), class: 'entry' });
      link.addEventListener('click', (e) => {
        e.preventDefault();
        if (entry.type === 'dir') go(entryPath);
        else viewFile(entryPath);
      });
      body.append(el('tr', null, el('td', { text: entry.mode }), el('td', { text: entry.user ?? String(entry.uid) }), el('td', { text: String(entry.size) }),
        el('td', null, link, entry.linkTarget ? ` -> ${entry.linkTarget}` : '')));
    }
    const viewer = el('div', { id: 'viewer' });
    const viewFile = async (filePath) => {
      history.replaceState(null, '', `#files?path=${encodeURIComponent(path)}&file=${encodeURIComponent(filePath)}`);
      viewer.replaceChildren(el('p', { class: 'muted', text: 'Loading...' }));
      try {
        const file = await getJson(`${base}/file?path=${encodeURIComponent(filePath)}`);
        viewer.replaceChildren(el('h2', { text: filePath }), commandLine(file.command),
          el('p', null, el('a', { href: `${base}/download?path=${encodeURIComponent(filePath)}`, download: '', text: 'Download' }),
            file.truncated ? ' (only the first MB is shown)' : ''),
          file.binary ? el('p', { class: 'muted', text: 'Binary file: download it to look inside.' }) : el('pre', { id: 'file-text', text: file.text }));
      } catch (err) {
        showError(viewer, err);
      }
    };
    panel.replaceChildren(...present(commandLine(data.command), el('h2', { text: path }),
      parent ? el('p', null, el('a', { href: '#', text: '.. (up)', onclick: (e) => { e.preventDefault(); go(parent); } })) : null,
      el('table', { id: 'files' }, body), viewer));
    const shown = new URLSearchParams(location.hash.split('?')[1] || '').get('file');
    if (shown) viewFile(shown);
  } catch (err) {
    showError(panel, err);
  }
}

async function start() {
  getJson('/api/info').then((info) => {
    document.getElementById('mode').textContent = `${info.version}${info.readOnly ? ' - read-only' : ''}`;
  }).catch(() => {});
  const m = /^\/c\/([^/]+)$/.exec(location.pathname);
  if (m) containerView(decodeURIComponent(m[1]));
  else listView();
}

start();
