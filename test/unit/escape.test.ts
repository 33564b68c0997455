import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeBytes, escapeLine, escapeName } from '../../src/render/escape.js';
import { renderTable } from '../../src/render/table.js';

test('escapeName makes terminal escapes and newlines visible', () => {
  assert.equal(escapeName('evil\x1b]0;pwned\x07name'), 'evil\\e]0;pwned\\x07name');
  assert.equal(escapeName('a\nb\rc'), 'a\\nb\\rc');
  assert.equal(escapeName('\u009b31m'), '\\x9b31m');
  assert.equal(escapeName('abc\u202eevil'), 'abc\\u{202e}evil');
  assert.equal(escapeName('plain/path-ok_ü'), 'plain/path-ok_ü');
});

test('escapeLine keeps tabs and newlines but not other controls', () => {
  assert.equal(escapeLine('a\tb\n'), 'a\tb\n');
  assert.equal(escapeLine('x\x1b[2Jy\n'), 'x\\e[2Jy\n');
});

test('escapeBytes shows invalid UTF-8 bytes instead of losing them', () => {
  assert.equal(escapeBytes(Buffer.from([0x61, 0xff, 0x62])), 'a\\xffb');
  assert.equal(escapeBytes(Buffer.from('ü\x1b', 'utf8')), 'ü\\e');
});

test('a name with a newline cannot forge a table row', () => {
  const out = renderTable([{ name: 'a\nFAKE   row' }, { name: 'b' }], [{ header: 'NAME', value: (r) => r.name }]);
  assert.equal(out.split('\n').length, 4);
  assert.match(out, /a\\nFAKE/);
});
