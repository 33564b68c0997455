// `porthole ui`'s rules as plain functions: Host, Origin, token, cookie, flags, the list's order, the shown command.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerPath, containerRef, containerRows, shellCommand } from '../../src/ui/data.js';
import { parseUiOptions } from '../../src/ui/options.js';
import { allowedHosts, hostAllowed, newToken, originAllowed, readCookie, tokenMatches } from '../../src/ui/security.js';
import { InvalidArgument } from '../../src/errors.js';
import type { ContainerSummary } from '../../src/engine/types.js';

test('Host: only loopback names at our own port', () => {
  const allowed = allowedHosts(4000);
  for (const host of ['127.0.0.1:4000', 'localhost:4000', '[::1]:4000', 'LocalHost:4000']) assert.ok(hostAllowed(host, allowed), host);
  for (const host of [undefined, '', 'evil.test:4000', '127.0.0.1:4001', '127.0.0.1', 'localhost', '127.0.0.2:4000', 'localhost.evil.test:4000', '0.0.0.0:4000']) {
    assert.ok(!hostAllowed(host, allowed), String(host));
  }
  assert.ok(hostAllowed('192.168.1.5:4000', allowedHosts(4000, '192.168.1.5')));
  assert.ok(hostAllowed('[fd00::1]:4000', allowedHosts(4000, 'fd00::1')));
});

test('Origin: exactly http:// plus an allowed host; a missing or opaque one is refused', () => {
  const allowed = allowedHosts(4000);
  assert.ok(originAllowed('http://127.0.0.1:4000', allowed));
  assert.ok(originAllowed('http://localhost:4000', allowed));
  for (const origin of [undefined, 'null', 'https://127.0.0.1:4000', 'http://127.0.0.1:4001', 'http://evil.test', 'http://127.0.0.1:4000/', 'http://127.0.0.1:4000.evil.test']) {
    assert.ok(!originAllowed(origin, allowed), String(origin));
  }
});

test('tokens: 32 random bytes, compared whole', () => {
  const token = newToken();
  assert.equal(Buffer.from(token, 'base64url').length, 32);
  assert.notEqual(newToken(), token);
  assert.ok(tokenMatches(token, token));
  assert.ok(!tokenMatches(undefined, token));
  assert.ok(!tokenMatches('', token));
  assert.ok(!tokenMatches(token.slice(0, -1), token));
  assert.ok(!tokenMatches(`${token}x`, token));
  assert.ok(!tokenMatches(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), token));
});

test('cookies: the named one, whatever else is sent', () => {
  assert.equal(readCookie('a=1; porthole_ui_4000=tok; b=2', 'porthole_ui_4000'), 'tok');
  assert.equal(readCookie('porthole_ui_40000=tok', 'porthole_ui_4000'), undefined);
  assert.equal(readCookie(undefined, 'x'), undefined);
});

test('flags: loopback by default, others only with the explicit flag, ports in range', () => {
  assert.deepEqual(parseUiOptions({}), { port: 0, hosts: ['127.0.0.1', '::1'], readOnly: false, allNamespaces: false });
  assert.equal(parseUiOptions({ 'all-namespaces': true }).allNamespaces, true);
  assert.equal(parseUiOptions({ port: '8765', 'read-only': true }).port, 8765);
  assert.deepEqual(parseUiOptions({ host: '::1' }).hosts, ['::1']);
  assert.deepEqual(parseUiOptions({ host: '[::1]' }).hosts, ['::1']);
  for (const port of ['0', '65536', 'abc', '-1', '80x']) assert.throws(() => parseUiOptions({ port }), InvalidArgument, port);
  for (const host of ['0.0.0.0', '192.168.1.5', '::']) assert.throws(() => parseUiOptions({ host }), (err: InvalidArgument) => /--i-know-this-exposes-root/.test(err.hint ?? ''), host);
  assert.throws(() => parseUiOptions({ host: 'example.com' }), InvalidArgument);
  assert.deepEqual(parseUiOptions({ host: '0.0.0.0', 'i-know-this-exposes-root': true }).exposedHost, '0.0.0.0');
});

test('URL parts never become flags of the command run', () => {
  assert.equal(containerRef('web-1'), 'web-1');
  for (const bad of ['--help', '-f', '', '../x', 'a b', 'a/b']) assert.throws(() => containerRef(bad), InvalidArgument, bad);
  assert.equal(containerPath(null), '/');
  assert.equal(containerPath('/etc'), '/etc');
  for (const bad of ['--json', 'etc', '/a\0b']) assert.throws(() => containerPath(bad), InvalidArgument, bad);
});

test('the list: crashed first, exit codes in words', () => {
  const c = (name: string, state: ContainerSummary['state'], status: string, created: number): ContainerSummary => ({
    id: name, names: [name], image: 'img', imageId: 'sha', command: '', created, state, status, labels: {},
  });
  const rows = containerRows([c('ok', 'exited', 'Exited (0) 1 minute ago', 5), c('up', 'running', 'Up 1 minute', 4), c('boom', 'exited', 'Exited (137) 2 minutes ago', 1), c('new', 'created', 'Created', 9)]);
  assert.deepEqual(rows.map((r) => r.name), ['boom', 'up', 'new', 'ok']);
  assert.equal(rows[0]!.exitCode, 137);
  assert.match(rows[0]!.exitWords!, /SIGKILL/);
  assert.equal(rows[3]!.crashed, false);
});

test('the command shown is quoted as a shell needs it', () => {
  assert.equal(shellCommand(['porthole', 'logs', '-f', '--grep=a|b', 'web']), "porthole logs -f --grep='a|b' web");
  assert.equal(shellCommand(['porthole', 'cat', 'web', "/tmp/it's <x>"]), "porthole cat web '/tmp/it'\\''s <x>'");
});
