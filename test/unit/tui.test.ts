import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ALT_SCREEN_OFF, ALT_SCREEN_ON, CURSOR_SHOW, Screen } from '../../src/tui/screen.js';
import { History, liveStatsLines, statsCells } from '../../src/tui/stats-view.js';
import { clip, fit, layoutTable, parseKeys, sparkline } from '../../src/tui/text.js';
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
