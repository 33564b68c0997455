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
  const figuresCmd = el('div');
  const figuresStatus = el('p', { class: 'muted', id: 'figures-status' });
  app.replaceChildren(el('h1', { text: 'Containers' }), cmd, el('div', { class: 'bar' }, filter), el('table', { id: 'containers' },
    el('thead', null, el('tr', null, ...['Name', 'State', 'Exit', 'Restarts', 'CPU', 'Memory', 'Status', 'Image'].map((h) => el('th', { text: h })))), body),
    figuresCmd, figuresStatus);
  let rows = [];
  const figures = new Map();
  const draw = () => {
    const words = filter.value.trim().toLowerCase();
    body.replaceChildren(...rows
      .filter((c) => !words || `${c.name} ${c.image} ${c.state} ${c.status}`.toLowerCase().includes(words))
      .map((c) => {
        const row = el('tr', { class: c.crashed ? 'crashed' : c.state, 'data-name': c.name, 'data-id': c.id },
          el('td', null, el('a', { href: `/c/${encodeURIComponent(c.name)}#why`, text: c.name })),
          el('td', { class: 'state', text: c.crashed ? `${c.state} (crashed)` : c.state }),
          el('td', { text: c.exitWords || '' }),
          el('td', { class: 'restarts' }),
          el('td', { class: 'cpu spark-cell' }),
          el('td', { class: 'mem spark-cell' }),
          el('td', { class: 'muted', text: c.status }),
          el('td', { text: c.image }));
        drawFigures(row, figures.get(c.id));
        return row;
      }));
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
  // restart counts and sparklines come after, on their own stream: the list never waits for a sample
  listFigures(body, figures, figuresCmd, figuresStatus);
  // pods come after, on their own request: a cluster that is slow or absent never holds the containers back
  podList().catch(() => {});
  serviceList().catch(() => {});
}

const SPARK_POINTS = 30;

/** A small inline chart of the last values: 0 at the bottom, the largest of them (or `floor`) at the top. */
function sparkline(values, label, floor) {
  const width = 80;
  const height = 18;
  const max = Math.max(...values, floor || 0) || 1;
  const step = width / (SPARK_POINTS - 1);
  const offset = (SPARK_POINTS - values.length) * step;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'spark', width, height, role: 'img', 'aria-label': label });
  chart.append(svg('polyline', { points: values.map((v, i) => `${(offset + i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ') }));
  const tip = svg('title');
  tip.textContent = label;
  chart.append(tip);
  return chart;
}

/** Fills a list row's Restarts, CPU and Memory cells from what the figures stream said of that container. */
function drawFigures(row, f) {
  const [restarts, cpu, mem] = ['restarts', 'cpu', 'mem'].map((c) => row.querySelector(`td.${c}`));
  restarts.textContent = f && f.restarts != null ? String(f.restarts) : '';
  if (!f || !f.cpu.length) {
    cpu.replaceChildren();
    mem.replaceChildren();
    return;
  }
  const lastCpu = f.cpu[f.cpu.length - 1];
  const lastMem = f.mem[f.mem.length - 1];
  // CPU up to at least 10% of a core: an idle container's noise stays a flat line at the bottom
  cpu.replaceChildren(sparkline(f.cpu, `CPU, last ${f.cpu.length} samples`, 10), el('span', { class: 'value', text: `${lastCpu.toFixed(1)}%` }));
  mem.replaceChildren(sparkline(f.mem, `Memory, last ${f.mem.length} samples`), el('span', { class: 'value', text: formatBytes(lastMem) }));
  cpu.dataset.value = String(lastCpu);
  mem.dataset.value = String(lastMem);
}

/** The figures stream (`porthole stats --interval 2` for every running container, restart counts from inspect). */
function listFigures(body, figures, cmd, status) {
  let source;
  const entry = (id) => {
    if (!figures.has(id)) figures.set(id, { restarts: null, cpu: [], mem: [] });
    return figures.get(id);
  };
  const redraw = (ids) => {
    for (const id of ids) {
      const row = body.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (row) drawFigures(row, figures.get(id));
    }
  };
  const open = () => {
    source = new EventSource('/api/containers/figures');
    source.addEventListener('command', (e) => cmd.replaceChildren(commandLine(JSON.parse(e.data))));
    source.addEventListener('restarts', (e) => {
      const counts = JSON.parse(e.data);
      for (const [id, n] of Object.entries(counts)) entry(id).restarts = n;
      redraw(Object.keys(counts));
      status.dataset.restarts = 'loaded';
    });
    source.addEventListener('sample', (e) => {
      const data = JSON.parse(e.data);
      const seen = new Set();
      for (const r of data.rows) {
        const f = entry(r.id);
        f.cpu.push(r.cpuPercent);
        f.mem.push(r.memoryBytes);
        if (f.cpu.length > SPARK_POINTS) { f.cpu.shift(); f.mem.shift(); }
        seen.add(r.id);
      }
      // a container that stopped has no figures any more
      for (const [id, f] of figures) if (!seen.has(id) && f.cpu.length) { f.cpu = []; f.mem = []; seen.add(id); }
      redraw(seen);
      // after the list, never before it: read by the browser test
      if (!performance.getEntriesByName('porthole-figures-drawn').length) performance.mark('porthole-figures-drawn');
      status.textContent = `CPU and memory of the running containers every 2 s (the last ${SPARK_POINTS} samples); updated ${new Date(data.t).toLocaleTimeString()}.`;
    });
    source.addEventListener('failed', (e) => { status.textContent = JSON.parse(e.data); status.className = 'error'; source.close(); });
  };
  // a hidden tab costs nothing: the stream is closed until it is shown again
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) { if (source) source.close(); source = undefined; }
    else if (!source) open();
  });
  if (!document.hidden) open();
}

/** The swarm's services, when this engine is a manager; nothing at all otherwise. */
async function serviceList() {
  const data = await getJson('/api/services');
  if (!data.services || !data.services.length) return;
  const body = el('tbody');
  body.replaceChildren(...data.services.map((s) => el('tr', { class: s.crashed ? 'crashed' : 'running', 'data-name': s.ref },
    el('td', null, el('a', { href: `/c/${encodeURIComponent(s.ref)}#why`, text: s.name })),
    el('td', { class: 'state', text: `${s.running}/${s.wanted == null ? s.mode : s.wanted}${s.crashed ? ' (crashed)' : ''}` }),
    el('td', { text: s.reason || '' }),
    el('td', { text: s.image }))));
  app.append(el('h2', { text: 'Swarm services' }), commandLine(data.command), el('table', { id: 'services' },
    el('thead', null, el('tr', null, ...['Service', 'Running', 'Last failure', 'Image'].map((h) => el('th', { text: h })))), body));
}

/** A page of a pod: pod/NAME, or NS/pod/NAME from the list of every namespace (porthole ui -A). */
function isPod(name) {
  return /^([a-z0-9][-a-z0-9]*\/)?pod\//.test(name);
}

/** The namespace's pods under the containers, crashed first; nothing at all when there is no cluster. */
async function podList() {
  const data = await getJson('/api/pods');
  if (!data.pods || !data.pods.length) return;
  // every namespace (porthole ui -A): a column says whose each pod is
  const all = data.namespace === null;
  const body = el('tbody');
  body.replaceChildren(...data.pods.map((p) => el('tr', { class: p.crashed ? 'crashed' : p.phase.toLowerCase(), 'data-name': p.ref },
    all ? el('td', { class: 'namespace', text: p.namespace }) : null,
    el('td', null, el('a', { href: `/c/${encodeURIComponent(p.ref)}#why`, text: p.name })),
    el('td', { class: 'state', text: p.crashed ? `${p.phase} (crashed)` : p.phase }),
    el('td', { text: p.ready }),
    el('td', { text: String(p.restarts) }),
    el('td', { text: p.reason || '' }))));
  app.append(el('h2', { text: all ? 'Pods (all namespaces)' : `Pods (namespace ${data.namespace})` }), commandLine(data.command), el('table', { id: 'pods' },
    el('thead', null, el('tr', null, ...[...(all ? ['Namespace'] : []), 'Pod', 'Phase', 'Ready', 'Restarts', 'Last termination'].map((h) => el('th', { text: h })))), body));
}

function containerView(name) {
  document.title = `porthole: ${name}`;
  const pod = isPod(name);
  const service = name.startsWith('service/');
  const tabs = service ? ['why', 'logs', 'processes'] : pod ? ['why', 'logs', 'terminal', 'files', 'processes'] : ['why', 'logs', 'terminal', 'files', 'processes', 'stats'];
  const nav = el('nav', { class: 'tabs' }, ...tabs.map((t) => el('a', { href: `#${t}`, 'data-tab': t, text: t[0].toUpperCase() + t.slice(1) })));
  const panel = el('section', { id: 'panel' });
  app.replaceChildren(el('p', null, el('a', { href: '/', text: pod || service ? 'All containers, pods and services' : 'All containers' })), el('h1', { text: name }), nav, panel);
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
    if (tab === 'terminal') stopCurrent = terminalTab(name, panel);
    if (tab === 'processes') stopCurrent = processesTab(name, panel);
    if (tab === 'stats') stopCurrent = statsTab(name, panel);
  };
  window.addEventListener('hashchange', show);
  show();
}

async function whyTab(name, panel) {
  try {
    const data = await getJson(`/api/c/${encodeURIComponent(name)}/why`);
    const h = data.report.happened || {};
    const headline = data.headline;
    // where the output points (path:line), each a link to that line in the Files tab
    const points = (data.report.points || []).map((p) => el('li', null,
      el('a', { href: `#files?${new URLSearchParams({ path: p.path.replace(/\/[^/]*$/, '') || '/', file: p.path, line: String(p.line) })}`, class: 'point', text: `${p.path}:${p.line}` }),
      ` (seen in ${p.from})`));
    // Copy as Markdown: the server's Markdown of this same report, kept in the page as text and copied on a click
    const markdown = el('textarea', { id: 'why-markdown', readonly: '', hidden: '', 'aria-hidden': 'true', tabindex: '-1' });
    markdown.value = data.markdown;
    const copied = el('span', { class: 'muted', id: 'why-copied', role: 'status' });
    const copy = el('button', { type: 'button', id: 'copy-markdown', text: 'Copy as Markdown' });
    copy.addEventListener('click', () => copyText(markdown).then(
      () => { copied.textContent = 'Copied.'; copied.className = 'ok'; },
      (err) => { copied.textContent = `Not copied: ${err.message || err}`; copied.className = 'error'; }));
    panel.replaceChildren(...present(commandLine(data.command),
      el('div', { class: 'bar' }, copy, copied), markdown,
      el('p', { class: 'headline', text: headline }),
      h.error ? el('p', { class: 'error', text: `Engine error: ${h.error}` }) : null,
      points.length ? el('div', null, el('h3', { text: 'Where it points' }), el('ul', { id: 'points' }, ...points)) : null,
      el('pre', { id: 'why-text', text: data.text })));
  } catch (err) {
    showError(panel, err);
  }
}

/** Copies a textarea's text: the Clipboard API, or where the browser refuses it, the selection and copy command. */
async function copyText(area) {
  try {
    await navigator.clipboard.writeText(area.value);
  } catch (err) {
    area.hidden = false;
    area.select();
    const done = document.execCommand('copy');
    area.hidden = true;
    if (!done) throw err;
  }
}

function logsTab(name, panel) {
  const grep = el('input', { type: 'text', placeholder: 'regular expression (filtered on the server)', 'aria-label': 'filter' });
  const pause = el('input', { type: 'checkbox' });
  const since = el('input', { type: 'text', name: 'since', placeholder: 'time: 10m, 1h, 2024-05-01T10:00:00Z (as logs --since)', 'aria-label': 'jump to time' });
  const skipped = el('span', { class: 'muted' });
  const cmd = el('div');
  // A windowed list: the last MAX_LOG_LINES lines are kept as strings, and only the ones in view are elements
  // (one line each, no wrapping, so every line has the same height). A container printing 10,000 lines a second
  // costs the page a few dozen elements per frame, not thousands.
  const spacer = el('div', { class: 'spacer' });
  const view = el('div', { class: 'view' });
  const log = el('div', { id: 'log' }, spacer, view);
  const status = el('p', { class: 'muted' });
  let source;
  let skippedCount = 0;
  let lines = [];
  let lineHeight = 0;
  let queue = [];
  let scheduled = false;
  const render = () => {
    if (!lineHeight) {
      const probe = el('div', { class: 'out', text: 'x' });
      view.replaceChildren(probe);
      lineHeight = probe.getBoundingClientRect().height || 16;
    }
    spacer.style.height = `${lines.length * lineHeight}px`;
    const first = Math.max(0, Math.floor(log.scrollTop / lineHeight) - 2);
    const count = Math.ceil(log.clientHeight / lineHeight) + 4;
    view.style.transform = `translateY(${first * lineHeight}px)`;
    view.replaceChildren(...lines.slice(first, first + count).map(([kind, text]) => el('div', { class: kind, text })));
  };
  // new lines are taken once per frame; a frame's worth beyond MAX_LOG_LINES is skipped (and counted)
  const draw = () => {
    scheduled = false;
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - lineHeight - 4;
    if (queue.length > MAX_LOG_LINES) {
      skippedCount += queue.length - MAX_LOG_LINES;
      queue = queue.slice(-MAX_LOG_LINES);
    }
    lines = lines.length + queue.length > MAX_LOG_LINES ? lines.slice(lines.length + queue.length - MAX_LOG_LINES).concat(queue) : lines.concat(queue);
    queue = [];
    skipped.textContent = skippedCount ? `${skippedCount} lines skipped` : '';
    spacer.style.height = `${lines.length * (lineHeight || 16)}px`;
    if (stick) log.scrollTop = log.scrollHeight;
    render();
  };
  log.addEventListener('scroll', () => { if (!scheduled) render(); });
  const connect = () => {
    if (source) source.close();
    lines = [];
    queue = [];
    render();
    const query = new URLSearchParams();
    // jump to time: the stream starts again from then (all lines since), else from the last 200
    if (since.value.trim()) query.set('since', since.value.trim());
    else query.set('tail', '200');
    if (grep.value) query.set('grep', grep.value);
    source = new EventSource(`/api/c/${encodeURIComponent(name)}/logs?${query}`);
    const add = (kind) => (event) => {
      if (pause.checked) {
        skippedCount++;
        skipped.textContent = `${skippedCount} lines skipped`;
        return;
      }
      queue.push([kind, JSON.parse(event.data)]);
      // bounded even while the tab is hidden (no frames there): the oldest waiting lines go first
      if (queue.length > 2 * MAX_LOG_LINES) {
        skippedCount += queue.length - MAX_LOG_LINES;
        queue = queue.slice(-MAX_LOG_LINES);
      }
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(draw);
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
  const restart = (e) => { e.preventDefault(); status.textContent = ''; status.className = 'muted'; connect(); };
  form.addEventListener('submit', restart);
  const latest = el('button', { type: 'button', text: 'Latest', title: 'Back to the last 200 lines and what follows' });
  latest.addEventListener('click', (e) => { since.value = ''; restart(e); });
  const jump = el('form', { class: 'bar', id: 'jump' }, since, el('button', { type: 'submit', text: 'Jump to time' }), latest);
  jump.addEventListener('submit', restart);
  panel.replaceChildren(cmd, form, jump, log, status);
  connect();
  return () => source && source.close();
}

function joinPath(dir, name) {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

const changesCache = new Map();
/** `porthole diff` of the container, once per page: path -> A/C/D. */
function containerChanges(name) {
  // a pod has no image layers to compare with: no changes to mark
  if (isPod(name)) return Promise.resolve({ kinds: new Map(), command: null });
  if (!changesCache.has(name)) {
    changesCache.set(name, getJson(`/api/c/${encodeURIComponent(name)}/changes`)
      .then((data) => ({ kinds: new Map(data.changes.map((c) => [c.path, c.kind])), command: data.command }))
      .catch(() => ({ kinds: new Map(), command: null })));
  }
  return changesCache.get(name);
}

async function filesTab(name, panel, path) {
  const base = `/api/c/${encodeURIComponent(name)}`;
  const go = (p) => { location.hash = `files?path=${encodeURIComponent(p)}`; };
  try {
    const [data, diff] = await Promise.all([getJson(`${base}/ls?path=${encodeURIComponent(path)}`), containerChanges(name)]);
    const changes = diff.kinds;
    const parent = path === '/' ? null : path.replace(/\/[^/]*$/, '') || '/';
    const body = el('tbody');
    const marker = (p) => {
      const kind = changes.get(p);
      return el('td', { class: `change ${kind || ''}`, title: kind ? { A: 'added', C: 'changed', D: 'deleted' }[kind] + ' since the container was created (porthole diff)' : '', text: kind || '' });
    };
    for (const entry of data.entries) {
      const entryPath = entry.path || joinPath(path, entry.name);
      const link = el('a', { href: '#', text: entry.name + (entry.type === 'dir' ? '/' : ''), class: 'entry' });
      link.addEventListener('click', (e) => {
        e.preventDefault();
        if (entry.type === 'dir') go(entryPath);
        else viewFile(entryPath);
      });
      body.append(el('tr', { 'data-path': entryPath }, marker(entryPath), el('td', { text: entry.mode }), el('td', { text: entry.user ?? String(entry.uid) }), el('td', { text: String(entry.size) }),
        el('td', null, link, entry.linkTarget ? ` -> ${entry.linkTarget}` : '')));
    }
    // what the container deleted from this folder is no longer listed: shown from the diff, struck through
    for (const [changed, kind] of changes) {
      if (kind !== 'D' || changed === path || (changed.slice(0, changed.lastIndexOf('/')) || '/') !== path) continue;
      body.append(el('tr', { 'data-path': changed, class: 'deleted' }, marker(changed), el('td'), el('td'), el('td'), el('td', { class: 'gone', text: changed.slice(changed.lastIndexOf('/') + 1) })));
    }
    const viewer = el('div', { id: 'viewer' });
    const viewFile = async (filePath) => {
      const line = new URLSearchParams(location.hash.split('?')[1] || '').get('line');
      const keepLine = line && new URLSearchParams(location.hash.split('?')[1] || '').get('file') === filePath ? `&line=${encodeURIComponent(line)}` : '';
      history.replaceState(null, '', `#files?path=${encodeURIComponent(path)}&file=${encodeURIComponent(filePath)}${keepLine}`);
      viewer.replaceChildren(el('p', { class: 'muted', text: 'Loading...' }));
      try {
        const file = await getJson(`${base}/file?path=${encodeURIComponent(filePath)}`);
        const editable = !INFO.readOnly && file.hash;
        const edit = editable ? el('button', { type: 'button', id: 'edit', text: 'Edit' }) : null;
        const content = file.binary ? el('p', { class: 'muted', text: 'Binary file: download it to look inside.' }) : el('pre', { id: 'file-text', text: file.text });
        // a line asked for (a link from Why): the file's lines as elements, that one marked and scrolled to
        const wanted = Number(new URLSearchParams(location.hash.split('?')[1] || '').get('line'));
        if (!file.binary && Number.isInteger(wanted) && wanted > 0) {
          content.replaceChildren(...file.text.split('\n').map((text, i) => el('span', { class: i + 1 === wanted ? 'line hit' : 'line', 'data-line': String(i + 1), text: `${text}\n` })));
        }
        viewer.replaceChildren(...present(el('h2', { text: filePath }), commandLine(file.command),
          el('p', null, el('a', { href: `${base}/download?path=${encodeURIComponent(filePath)}`, download: '', text: 'Download' }),
            file.truncated ? ' (only the first MB is shown)' : '', edit ? ' ' : '', edit),
          content));
        if (edit) edit.addEventListener('click', () => editFile(filePath, file, content));
        content.querySelector?.('.hit')?.scrollIntoView({ block: 'center' });
      } catch (err) {
        showError(viewer, err);
      }
    };
    const editFile = (filePath, file, content) => {
      const area = el('textarea', { id: 'editor', spellcheck: 'false', 'aria-label': 'file contents' });
      area.value = file.text;
      const restart = el('input', { type: 'checkbox', id: 'restart' });
      const saveButton = el('button', { type: 'submit', id: 'save', text: 'Save into the container' });
      const cmd = el('div');
      const result = el('div', { id: 'save-result' });
      const showCommand = () => cmd.replaceChildren(commandLine(`porthole edit ${name} ${filePath}${restart.checked ? ' --start' : ''}`));
      restart.addEventListener('change', showCommand);
      showCommand();
      let baseHash = file.hash;
      const form = el('form', { id: 'edit-form' }, cmd, area, el('div', { class: 'bar' }, saveButton,
        el('label', null, restart, ' restart after saving (start it and watch it for 5 s, as edit --start)')), result);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        saveButton.disabled = true;
        result.replaceChildren(el('p', { class: 'muted', text: restart.checked ? 'Saving, starting and watching...' : 'Saving...' }));
        try {
          const res = await fetch(`${base}/save?path=${encodeURIComponent(filePath)}`, {
            method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text: area.value, base: baseHash, start: restart.checked }),
          });
          const answer = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
          if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
          baseHash = answer.hash;
          const lines = [answer.changed ? `Wrote ${answer.path} (${answer.bytesBefore} -> ${answer.bytesAfter} bytes).` : 'No change: the container was not touched.'];
          if (answer.start) lines.push({ 'stays up': 'Started; it stays up.', 'was already running': 'It was already running: the program sees the change when it reads the file again (restart it to be sure).', died: 'Started, and it stopped again; here is why:' }[answer.start.outcome]);
          result.replaceChildren(...present(...lines.map((line) => el('p', { class: answer.start?.outcome === 'died' ? 'error' : 'ok', text: line })),
            answer.whyText ? el('pre', { id: 'save-why', text: answer.whyText }) : null));
        } catch (err) {
          showError(result, err);
        } finally {
          saveButton.disabled = false;
        }
      });
      content.replaceWith(form);
      area.focus();
    };
    const folderCommand = `porthole cp ${name}:${path} - > ${(path.replace(/\/+$/, '').split('/').pop() || 'root')}.tar`;
    panel.replaceChildren(...present(commandLine(data.command), el('h2', { text: path }),
      el('p', null, el('a', { href: `${base}/tar?path=${encodeURIComponent(path)}`, download: '', id: 'folder-download', text: 'Download this folder (tar)' }), ' ', el('code', { class: 'muted', text: folderCommand })),
      diff.command ? el('p', { class: 'muted' }, 'A added, C changed, D deleted since the container was created: ', el('code', { id: 'diff-command', text: diff.command })) : null,
      parent ? el('p', null, el('a', { href: '#', text: '.. (up)', onclick: (e) => { e.preventDefault(); go(parent); } })) : null,
      el('table', { id: 'files' }, body), viewer));
    const shown = new URLSearchParams(location.hash.split('?')[1] || '').get('file');
    if (shown) viewFile(shown);
  } catch (err) {
    showError(panel, err);
  }
}

/** What the server allows (read from /api/info once): read-only means no terminal and no edits. */
let INFO = { readOnly: true, terminal: false };
const infoLoaded = getJson('/api/info').then((info) => {
  INFO = info;
  document.getElementById('mode').textContent = `${info.version}${info.readOnly ? ' - read-only' : ''}`;
}).catch(() => {});

// ---- Terminal ----------------------------------------------------------------------------------------------

let xtermLoading;
/**
 * Loads xterm.js 6 and its fit addon (served by porthole) once. xterm makes <style> elements (its colours and cell
 * size) and sets style attributes (24-bit colours) at run time. The page's policy allows <style> elements only
 * with this page's nonce (given to each one here) and style attributes not at all, so style attributes are set
 * through the CSSOM (element.style.cssText), which the policy does not restrict. Scripts stay 'self' only.
 */
function loadXterm() {
  xtermLoading ??= new Promise((resolve, reject) => {
    const nonce = document.querySelector('meta[name="porthole-style-nonce"]').content;
    const create = document.createElement;
    document.createElement = function (tag, options) {
      const node = create.call(this, tag, options);
      if (String(tag).toLowerCase() === 'style') node.nonce = nonce;
      return node;
    };
    const setAttribute = Element.prototype.setAttribute;
    Element.prototype.setAttribute = function (name, value) {
      if (String(name).toLowerCase() === 'style' && this.style) this.style.cssText = String(value);
      else setAttribute.call(this, name, value);
    };
    document.head.append(el('link', { rel: 'stylesheet', href: '/assets/xterm.css' }));
    const script = (src) => new Promise((ok, fail) => document.head.append(el('script', { src, onload: ok, onerror: () => fail(new Error(`could not load ${src}`)) })));
    script('/assets/xterm.js').then(() => script('/assets/addon-fit.js')).then(resolve, reject);
  });
  return xtermLoading;
}

function terminalTab(name, panel) {
  if (!INFO.terminal) {
    panel.replaceChildren(el('p', { class: 'muted', text: 'No terminal: this server is read-only (porthole ui --read-only).' }));
    return () => {};
  }
  const cmd = el('div');
  const box = el('div', { id: 'terminal' });
  const status = el('p', { class: 'muted', id: 'term-status' });
  const how = isPod(name)
    ? 'A pod is entered by exec only: a new process in its running container. A crashed pod is not copied from here (porthole shell pod/NAME in a terminal does that). If the container has no shell, porthole asks in this terminal before adding an ephemeral toolbox container, which Kubernetes cannot remove: answer N to add nothing.'
    : 'A running container gets a new process (exec); a stopped one a snapshot copy; one without a shell the toolbox. Copies are removed when this tab closes.';
  panel.replaceChildren(cmd, el('p', { class: 'muted', text: how }), box, status);
  let ws;
  let term;
  let closed = false;
  let onResize;
  loadXterm().then(() => {
    if (closed) return;
    term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000, fontFamily: 'ui-monospace, monospace' });
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(box);
    fit.fit();
    const query = new URLSearchParams({ c: name, cols: String(term.cols), rows: String(term.rows) });
    ws = new WebSocket(`ws://${location.host}/ws/terminal?${query}`);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    ws.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') {
        term.write(new Uint8Array(event.data));
        return;
      }
      const message = JSON.parse(event.data);
      if (message.command) cmd.replaceChildren(commandLine(message.command));
      if ('exit' in message) status.textContent = `The shell ended (exit code ${message.exit}).`;
      if (message.error) {
        status.textContent = message.error;
        status.className = 'error';
      }
    });
    ws.addEventListener('open', () => { box.dataset.state = 'open'; });
    ws.addEventListener('close', () => {
      box.dataset.state = 'closed';
      if (!status.textContent) status.textContent = 'Disconnected.';
    });
    const send = (data) => { if (ws.readyState === WebSocket.OPEN) ws.send(data); };
    term.onData((data) => send(encoder.encode(data)));
    term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    term.onResize(({ cols, rows }) => send(JSON.stringify({ resize: [cols, rows] })));
    onResize = () => fit.fit();
    window.addEventListener('resize', onResize);
    term.focus();
  }).catch((err) => showError(panel, err));
  return () => {
    closed = true;
    if (ws) ws.close();
    if (term) term.dispose();
    if (onResize) window.removeEventListener('resize', onResize);
  };
}

// ---- Processes ---------------------------------------------------------------------------------------------

function formatBytes(n) {
  if (n == null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function processesTab(name, panel) {
  const cmd = el('div');
  const body = el('tbody');
  const status = el('p', { class: 'muted' });
  panel.replaceChildren(cmd, el('table', { id: 'procs' },
    el('thead', null, el('tr', null, ...['Host PID', 'PID', 'User', '%CPU', 'RSS', 'State', 'Command'].map((h) => el('th', { text: h })))), body), status);
  const source = new EventSource(`/api/c/${encodeURIComponent(name)}/ps`);
  source.addEventListener('command', (e) => cmd.replaceChildren(commandLine(JSON.parse(e.data))));
  source.addEventListener('ps', (e) => {
    const data = JSON.parse(e.data);
    status.textContent = data.notRunning ? `Not running (${data.notRunning}): no processes.` : `Updated ${new Date().toLocaleTimeString()} (every 2 s). %CPU is the process's lifetime average, as ps shows it.`;
    body.replaceChildren(...data.rows.map((row, i) => el('tr', { class: row.role, 'data-pid': String(row.hostPid) },
      el('td', { text: row.hostPid == null ? '' : String(row.hostPid) }),
      el('td', { text: row.pid == null ? '' : String(row.pid) }),
      el('td', { text: row.user }),
      el('td', { text: row.cpuPercent == null ? '' : row.cpuPercent.toFixed(1) }),
      el('td', { text: formatBytes(row.rssBytes) }),
      el('td', { text: row.stat || row.state || '' }),
      el('td', { class: 'command', title: row.command, text: `${data.prefixes[i] || ''}${row.command}` }))));
  });
  source.addEventListener('failed', (e) => { status.textContent = JSON.parse(e.data); status.className = 'error'; source.close(); });
  return () => source.close();
}

// ---- Stats -------------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

/** One chart: lines of [t, value] on the shared time axis [t0, t1], the events as vertical marks. */
function drawChart(box, title, series, t0, t1, events, format) {
  const width = 640;
  const height = 120;
  let max = 0;
  for (const s of series) for (const [, v] of s.points) max = Math.max(max, v);
  max = max || 1;
  const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * width;
  const y = (v) => height - (v / max) * (height - 10);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', preserveAspectRatio: 'none', role: 'img', 'aria-label': title });
  for (const event of events) {
    const mark = svg('line', { x1: x(event.t), x2: x(event.t), y1: 0, y2: height, class: `event ${event.kind}` });
    const tip = svg('title');
    tip.textContent = `${new Date(event.t).toLocaleTimeString()}: ${event.text}`;
    mark.append(tip);
    chart.append(mark);
  }
  for (const s of series) {
    if (!s.points.length) continue;
    chart.append(svg('polyline', { points: s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' '), class: `series ${s.cls}` }));
  }
  const latest = series.map((s) => `${s.label} ${s.points.length ? format(s.points[s.points.length - 1][1]) : '-'}`).join(' · ');
  box.replaceChildren(el('h3', { text: `${title}: ${latest}` }), chart,
    el('div', { class: 'muted axis' }, el('span', { text: new Date(t0).toLocaleTimeString() }), el('span', { text: `max ${format(max)}` }), el('span', { text: new Date(t1).toLocaleTimeString() })));
}

function statsTab(name, panel) {
  const WINDOW_MS = 5 * 60 * 1000;
  const cmd = el('div');
  const status = el('p', { class: 'muted', text: 'Sampling every second...' });
  const boxes = { cpu: el('div', { class: 'chart-box', id: 'chart-cpu' }), mem: el('div', { class: 'chart-box', id: 'chart-mem' }), net: el('div', { class: 'chart-box', id: 'chart-net' }), blk: el('div', { class: 'chart-box', id: 'chart-blk' }) };
  const eventList = el('ul', { id: 'events' });
  panel.replaceChildren(cmd, status, boxes.cpu, boxes.mem, boxes.net, boxes.blk, el('h3', { text: 'Events' }), eventList);
  const samples = [];
  const events = [];
  const rate = (key) => {
    const out = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].t - samples[i - 1].t) / 1000;
      out.push([samples[i].t, Math.max(0, samples[i][key] - samples[i - 1][key]) / (dt || 1)]);
    }
    return out;
  };
  const draw = () => {
    const t1 = Date.now();
    const t0 = Math.min(samples.length ? samples[0].t : t1, t1 - 60 * 1000);
    const series = (key) => samples.map((s) => [s.t, s[key]]);
    const perSecond = (v) => `${formatBytes(Math.round(v))}/s`;
    drawChart(boxes.cpu, 'CPU', [{ label: '%', cls: 'a', points: series('cpuPercent') }], t0, t1, events, (v) => `${v.toFixed(1)}%`);
    drawChart(boxes.mem, 'Memory', [{ label: 'used', cls: 'a', points: series('memoryBytes') }], t0, t1, events, formatBytes);
    drawChart(boxes.net, 'Network', [{ label: 'rx', cls: 'a', points: rate('netRxBytes') }, { label: 'tx', cls: 'b', points: rate('netTxBytes') }], t0, t1, events, perSecond);
    drawChart(boxes.blk, 'Block I/O', [{ label: 'read', cls: 'a', points: rate('blockReadBytes') }, { label: 'write', cls: 'b', points: rate('blockWriteBytes') }], t0, t1, events, perSecond);
  };
  const source = new EventSource(`/api/c/${encodeURIComponent(name)}/stats`);
  source.addEventListener('command', (e) => cmd.replaceChildren(commandLine(JSON.parse(e.data))));
  source.addEventListener('sample', (e) => {
    samples.push(JSON.parse(e.data));
    while (samples.length && samples[0].t < Date.now() - WINDOW_MS) samples.shift();
    status.textContent = `${samples.length} samples, one a second (the last 5 minutes are kept).`;
    draw();
  });
  source.addEventListener('event', (e) => {
    const event = JSON.parse(e.data);
    events.push(event);
    eventList.append(el('li', { class: event.kind, text: `${new Date(event.t).toLocaleTimeString()} ${event.kind}: ${event.text}` }));
    draw();
  });
  source.addEventListener('failed', (e) => { status.textContent = JSON.parse(e.data); status.className = 'error'; source.close(); });
  return () => source.close();
}

async function start() {
  const m = /^\/c\/([^/]+)$/.exec(location.pathname);
  if (m) infoLoaded.then(() => containerView(decodeURIComponent(m[1])));
  else listView();
}

start();
