// The terminal's, the save endpoint's and the page policy's rules as plain functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionCleanup, initialSize, parseControl } from '../../src/ui/terminal.js';
import { contentHash, parseSaveRequest } from '../../src/ui/views.js';
import { SECURITY_HEADERS, newNonce, pageHeaders } from '../../src/ui/security.js';
import { InvalidArgument } from '../../src/errors.js';

test('terminal size from the URL: whole numbers 1-1000, else the default 80x24', () => {
  assert.deepEqual(initialSize(new URLSearchParams('cols=120&rows=40')), { cols: 120, rows: 40 });
  assert.deepEqual(initialSize(new URLSearchParams('cols=0&rows=-3')), { cols: 80, rows: 24 });
  assert.deepEqual(initialSize(new URLSearchParams('cols=1e9&rows=2.5')), { cols: 80, rows: 24 });
  assert.deepEqual(initialSize(new URLSearchParams('')), { cols: 80, rows: 24 });
});

test('terminal control frames: a resize within bounds, anything else ignored', () => {
  assert.deepEqual(parseControl('{"resize":[100,30]}'), { resize: [100, 30] });
  for (const frame of ['{"resize":[0,30]}', '{"resize":[100]}', '{"resize":"100x30"}', 'not json', '{"exec":"rm -rf /"}', '{"resize":[5000,30]}']) {
    assert.deepEqual(parseControl(frame), {}, frame);
  }
});

test('a session cleanup runs what is registered after it ran (a way in half-way through when the tab closed)', async () => {
  const cleanup = new SessionCleanup();
  const ran: string[] = [];
  cleanup.add('first', () => void ran.push('first'));
  await cleanup.runAll();
  assert.deepEqual(ran, ['first']);
  // the debug container registered after the tab closed: removed at once, and settled() waits for it
  cleanup.add('late', async () => {
    await new Promise((r) => setTimeout(r, 20));
    ran.push('late');
  });
  await cleanup.settled();
  assert.deepEqual(ran, ['first', 'late']);
});

test('save requests: JSON with text and a sha256 base; start only when exactly true', () => {
  const base = contentHash(Buffer.from('bad\n'));
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.deepEqual(parseSaveRequest(Buffer.from(JSON.stringify({ text: 'good\n', base, start: true }))), { text: 'good\n', base, start: true });
  assert.equal(parseSaveRequest(Buffer.from(JSON.stringify({ text: '', base, start: 'yes' }))).start, false);
  for (const body of ['text=x', '{}', JSON.stringify({ text: 1, base }), JSON.stringify({ text: 'x', base: 'abc' }), JSON.stringify({ text: 'x' })]) {
    assert.throws(() => parseSaveRequest(Buffer.from(body)), InvalidArgument, body);
  }
});

test("the page's policy: a style nonce added, scripts still 'self' only, nothing inline", () => {
  const nonce = newNonce();
  assert.notEqual(nonce, newNonce());
  const csp = pageHeaders(nonce)['Content-Security-Policy']!;
  assert.match(csp, new RegExp(`style-src 'self' 'nonce-${nonce.replace(/[+/]/g, '\\$&')}';`));
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes/);
  assert.match(SECURITY_HEADERS['Content-Security-Policy']!, /style-src 'self';/);
  assert.equal(pageHeaders(nonce)['X-Content-Type-Options'], 'nosniff');
});
