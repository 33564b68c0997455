import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ALT_SCREEN_OFF, ALT_SCREEN_ON, CURSOR_SHOW, Screen } from '../../src/tui/screen.js';
import { History, liveStatsLines, statsCells } from '../../src/tui/stats-view.js';
import { clip, fit, layoutTable, parseKeys, sparkline } from '../../src/tui/text.js';
import { listFrame, maxProcessScroll, processFrame, visibleWindow, type ProcessLine } from '../../src/tui/top-view.js';
import type { StatsRow } from '../../src/metrics/types.js';

test('sparkline: eight heights, scaled to max, padded on the left while history is short', () => {
  assert.equal(sparkline([0, 50, 100], 3, 100), '▁▅█');
  assert.equal(sparkline([100], 4, 100), '   █');
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3), '▇▇█');
  assert.equal(sparkline([0, 0], 2), '▁▁');
  assert.equal(sparkline([250], 1, 100), '█', 'above max is the full block');
});

test('fit and clip keep cells and lines within the width', () => {
  assert.equal(fit('abc', 5), 'abc  ');
  assert.equal(fit('abc', 5, 'right'), '  abc');
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fit('x', 0), '');
  assert.equal(clip('abcdef', 3), 'ab…');
  assert.equal(clip('ab', 3), 'ab');
});

test('layoutTable: fixed columns keep their width, the flexible one gives way', () => {
  const rows = [{ a: 'x', b: 'a-long-container-name', c: '1.00%' }];
  const columns = [
    { header: 'A', value: (r: (typeof rows)[0]) => r.a },
    { header: 'NAME', value: (r: (typeof rows)[0]) => r.b, flexible: true },
    { header: 'CPU %', value: (r: (typeof rows)[0]) => r.c, align: 'right' as const },
  ];
  const wide = layoutTable(rows, columns, 80);
  assert.equal(wide.header, 'A  NAME                   CPU %');
  assert.equal(wide.lines[0], 'x  a-long-container-name  1.00%');
  const narrow = layoutTable(rows, columns, 20);
  assert.equal(narrow.lines[0], 'x  a-long-co…  1.00%');
  assert.ok(narrow.lines[0]!.length <= 20);
});

test('keys: arrows in both cursor modes, j/k, Enter, Esc, q, Ctrl-C, letters', () => {
  assert.deepEqual(parseKeys('\x1b[A\x1b[B\x1bOA\x1bOB'), ['up', 'down', 'up', 'down']);
  assert.deepEqual(parseKeys('jk\r\x1bq\x03s'), ['down', 'up', 'enter', 'escape', 'quit', 'interrupt', { char: 's' }]);
  assert.deepEqual(parseKeys('\x1b[5~\x1b[6~\x1b[H\x1b[F'), ['pageup', 'pagedown', 'home', 'end']);
});

function row(over: Partial<StatsRow>): StatsRow {
  return {
    name: 'web', id: 'a'.repeat(64), cpuPercent: 0, memoryBytes: 0, memoryLimitBytes: 1024 ** 3, netRxBytes: 0, netTxBytes: 0,
    blockReadBytes: 0, blockWriteBytes: 0, pids: 1, source: 'cgroup', ...over,
  };
}

test('live stats lines: sparklines from history, names escaped, selection in reverse video', () => {
  const history = new History();
  history.record([row({ cpuPercent: 0 })]);
  history.record([row({ cpuPercent: 100 })]);
  const lines = liveStatsLines([row({ cpuPercent: 100, name: 'evil\x1b[2Jname' })], history, 200, 0);
  assert.match(lines[0]!, /CONTAINER ID\s+NAME\s+CPU %\s+CPU\s+MEM USAGE \/ LIMIT/);
  assert.match(lines[1]!, /^\x1b\[7m/);
  assert.match(lines[1]!, /evil\\e\[2Jname/);
  assert.ok(!lines[1]!.includes('\x1b[2J'));
  assert.match(lines[1]!, /100\.00%\s+▁█/);
  // Gone containers drop out of the history.
  history.record([]);
  assert.deepEqual(history.cpu('a'.repeat(64)), []);
  assert.equal(statsCells(row({ notRunning: 'exited' })).cpu, '--');
});

test('screen: alternate screen in, frames overwrite in place, everything restored on leave', () => {
  const out = new PassThrough() as PassThrough & { columns: number; rows: number };
  out.columns = 40;
  out.rows = 3;
  const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (m: boolean) => void };
  const modes: boolean[] = [];
  input.isTTY = true;
  input.setRawMode = (m) => void modes.push(m);
  let written = '';
  out.on('data', (d) => (written += d));
  const screen = new Screen(out, input);
  screen.enter(() => undefined);
  screen.draw(['one', 'two', 'three', 'four (cut: only 3 rows)']);
  screen.leave();
  screen.leave();
  assert.ok(written.startsWith(ALT_SCREEN_ON));
  assert.ok(written.endsWith(CURSOR_SHOW + ALT_SCREEN_OFF));
  assert.equal(written.split(ALT_SCREEN_OFF).length, 2, 'left once');
  assert.match(written, /\x1b\[Hone\x1b\[0m\x1b\[K\r\ntwo/);
  assert.ok(!written.includes('four'));
  assert.ok(!written.includes('\x1b[2J'), 'never clears the whole screen (that flickers)');
  assert.deepEqual(modes, [true, false]);
});

test('visibleWindow keeps the selection on screen and scrolls as little as it can', () => {
  assert.deepEqual(visibleWindow(100, 0, 10), { top: 0, end: 10 });
  assert.deepEqual(visibleWindow(100, 15, 10, 0), { top: 6, end: 16 });
  assert.deepEqual(visibleWindow(100, 8, 10, 6), { top: 6, end: 16 }, 'no scroll while the selection is visible');
  assert.deepEqual(visibleWindow(100, 3, 10, 6), { top: 3, end: 13 });
  assert.deepEqual(visibleWindow(5, 4, 10, 50), { top: 0, end: 5 });
  assert.deepEqual(visibleWindow(0, 0, 10), { top: 0, end: 0 });
});

test('the list frame: title with the keys, the selected row, the status on the last line', () => {
  const history = new History();
  const rows = Array.from({ length: 30 }, (_, i) => row({ id: String(i).padStart(64, '0'), name: `c${i}` }));
  history.record(rows);
  const { frame, scrollTop } = listFrame({ rows, history, selected: 25, scrollTop: 0, sort: 'cpu', intervalS: 2, status: 'updated now' }, 160, 12);
  assert.equal(frame.length, 12);
  assert.match(frame[0]!, /porthole top · 30 containers · sorted by cpu · every 2s · ↑↓\/jk select · Enter processes · s shell · l logs · w why · q quit/);
  assert.equal(scrollTop, 17);
  const selected = frame.find((l) => l.includes('\x1b[7m') && !l.includes('porthole top'));
  assert.match(selected!, /c25 /);
  assert.equal(frame.at(-1), 'updated now');
  const empty = listFrame({ rows: [], history, selected: 0, scrollTop: 0, sort: 'cpu', intervalS: 2, status: '' }, 80, 10);
  assert.ok(empty.frame.includes('No running containers.'));
});

test('the process frame: tree drawing, live CPU or the lifetime figure marked ~, names escaped', () => {
  const processes: ProcessLine[] = [
    { pid: null, hostPid: 900, user: 'root', liveCpuPercent: 0, lifetimeCpuPercent: 0, rssBytes: 13_000_000, stat: 'Sl', prefix: '', command: 'containerd-shim', role: 'shim' },
    { pid: 1, hostPid: 901, user: 'root', liveCpuPercent: 99.5, lifetimeCpuPercent: 80, rssBytes: 1_600_000, stat: 'Rs', prefix: ' \\_ ', command: 'sh -c loop', role: 'init' },
    { pid: 7, hostPid: 950, user: 'app\x1b[31m', liveCpuPercent: null, lifetimeCpuPercent: 2.5, rssBytes: null, stat: 'S', prefix: '     \\_ ', command: 'evil\x1b]0;x\x07', role: 'process' },
  ];
  const frame = processFrame({
    container: { name: 'web', id: 'f'.repeat(64) }, stats: row({ cpuPercent: 99.5, pids: 2 }), processes, view: 'host', scrollTop: 0, status: 'ok',
  }, 120, 10);
  assert.match(frame[0]!, /porthole top › web \(ffffffffffff\) · 3 processes · ↑↓ scroll · Esc back/);
  assert.match(frame[1]!, /^CPU 99\.50% +MEM 0B \/ 1GiB \(0\.00%\) +PIDS 2$/);
  assert.match(frame[2]!, /PID +HOST PID +USER +CPU % +RSS +STAT +COMMAND/);
  assert.match(frame[4]!, /^ +1 +901 +root +99\.5 +1\.53MiB +Rs + \\_ sh -c loop$/);
  assert.match(frame[5]!, /~2\.5 +- +S + +\\_ evil\\e\]0;x\\x07$/);
  assert.ok(!frame.join('').includes('\x1b]0;'), 'a process title cannot reach the terminal');
  assert.match(frame[5]!, /app\\e\[31m/);
  const engineView = processFrame({ container: { name: 'web', id: 'f'.repeat(64) }, stats: row({}), processes: [], view: 'engine', scrollTop: 0, status: '' }, 300, 5);
  assert.match(engineView[1]!, /PIDs are the engine host's/);
  assert.equal(maxProcessScroll(20, 10), 14);
  assert.equal(maxProcessScroll(2, 10), 0);
});
