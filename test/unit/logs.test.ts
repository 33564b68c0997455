import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, escapeLineBytes, LineSplitter, lineMessage, parseDuration, parseLogTime } from '../../src/report/text.js';
import { InvalidArgument } from '../../src/errors.js';

test('LineSplitter keeps each line with its newline, across chunk boundaries, and flushes the rest', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('ab')).map(String), []);
  assert.deepEqual(s.push(Buffer.from('c\nde\n\nf')).map(String), ['abc\n', 'de\n', '\n']);
  assert.deepEqual(s.flush().map(String), ['f']);
  assert.deepEqual(s.flush(), []);
});

test('LineSplitter hands on an endless line in pieces instead of growing without bound', () => {
  const s = new LineSplitter(10);
  const out = s.push(Buffer.alloc(25, 'x'));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 25);
  assert.deepEqual(s.push(Buffer.from('y\n')).map(String), ['y\n']);
});

test('escapeLineBytes shows control characters and invalid UTF-8, keeps tabs and the final newline', () => {
  assert.equal(escapeLineBytes(Buffer.from('a\x1b[31mred\r\n')), 'a\\e[31mred\\r\n');
  assert.equal(escapeLineBytes(Buffer.from('tab\there\n')), 'tab\there\n');
  assert.equal(escapeLineBytes(Buffer.from([0x61, 0xff, 0x62])), 'a\\xffb');
  assert.equal(escapeLineBytes(Buffer.from('\u009b2J ok')), '\\x9b2J ok');
  assert.equal(escapeLineBytes(Buffer.from('plain')), 'plain');
});

test('lineMessage looks past the timestamp the engine adds', () => {
  assert.equal(lineMessage('2024-05-01T10:00:00.123456789Z hello world', true), 'hello world');
  assert.equal(lineMessage('2024-05-01T10:00:00Z hello', false), '2024-05-01T10:00:00Z hello');
  assert.equal(lineMessage('no stamp here', true), 'no stamp here');
});

test('compilePattern refuses a bad regular expression with a usage error', () => {
  assert.ok(compilePattern('err(or)?').test('error'));
  assert.throws(() => compilePattern('('), InvalidArgument);
});

test('parseDuration reads Go durations', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2.5s'), 2500);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(parseDuration('ten minutes'), undefined);
});

test('parseLogTime turns durations, dates and RFC 3339 into unix seconds; numbers pass through', () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  assert.equal(parseLogTime('--since', '10m', now), String(now / 1000 - 600));
  assert.equal(parseLogTime('--since', '1.5s', now), `${now / 1000 - 2}.500000000`);
  assert.equal(parseLogTime('--since', '2024-05-01T10:00:00Z', now), String(Date.UTC(2024, 4, 1, 10) / 1000));
  assert.equal(parseLogTime('--since', '2024-05-01T10:00:00+02:00', now), String(Date.UTC(2024, 4, 1, 8) / 1000));
  assert.equal(parseLogTime('--since', '2024-05-01', now), String(new Date(2024, 4, 1).getTime() / 1000));
  assert.equal(parseLogTime('--since', '1714557600.25', now), '1714557600.25');
  assert.equal(parseLogTime('--since', undefined, now), undefined);
  assert.throws(() => parseLogTime('--since', 'yesterday', now), /--since "yesterday" is not a time/);
});
