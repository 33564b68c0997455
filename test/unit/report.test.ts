import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  directoriesIn,
  durationWords,
  elfInterpreter,
  engineTime,
  exitMeaning,
  findReferences,
  isErrorLine,
  isLogLike,
  isSecretName,
  maskEnvironment,
  orderChanges,
  parseShebang,
  permissionString,
  redact,
  redactAll,
  redactRendered,
  resolveInContainer,
  signalName,
} from '../../src/report/findings.js';
import { singleFileTar, splitCommand, chooseEditor } from '../../src/report/editor.js';
import { parseLdd } from '../../src/demo/images.js';

test('exit codes in words: 0, 1, 126, 127, signals, 137 with and without OOM, 139, 143', () => {
  assert.match(exitMeaning(0, false).words, /normally/);
  assert.match(exitMeaning(1, false).words, /reported a failure/);
  assert.match(exitMeaning(126, false).words, /could not be executed/);
  assert.match(exitMeaning(127, false).words, /not found/);
  assert.match(exitMeaning(137, false).words, /SIGKILL.*not by the out-of-memory killer/);
  assert.equal(exitMeaning(137, false).signal, 'SIGKILL');
  assert.match(exitMeaning(137, true).words, /out-of-memory killer/);
  assert.doesNotMatch(exitMeaning(137, true).words, /not by/);
  assert.match(exitMeaning(139, false).words, /SIGSEGV, segmentation fault/);
  assert.match(exitMeaning(143, false).words, /SIGTERM/);
  assert.match(exitMeaning(134, false).words, /SIGABRT/);
  assert.equal(exitMeaning(130, false).signal, 'SIGINT');
  assert.equal(exitMeaning(42, false).signal, null);
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(99), undefined);
});

test('durations and the engine zero time', () => {
  assert.equal(durationWords(41), '41 ms');
  assert.equal(durationWords(3200), '3.2 s');
  assert.equal(durationWords(250_000), '4 min 10 s');
  assert.equal(durationWords(2 * 3600_000 + 5 * 60_000), '2 h 5 min');
  assert.equal(engineTime('0001-01-01T00:00:00Z'), null);
  assert.equal(engineTime('2024-05-01T10:00:00.5Z'), Date.UTC(2024, 4, 1, 10, 0, 0, 500));
});

test('log-like paths and error-like lines', () => {
  for (const p of ['/var/log/nginx/error.log', '/app/logs/out.txt', '/srv/app.log.1', '/tmp/stderr.err']) assert.ok(isLogLike(p), p);
  for (const p of ['/etc/nginx/nginx.conf', '/var/lib/x', '/catalog.json']) assert.ok(!isLogLike(p), p);
  assert.ok(isErrorLine('2024/05/01 [emerg] 1#1: unknown directive'));
  assert.ok(isErrorLine('Traceback (most recent call last):'));
  assert.ok(isErrorLine('connect() failed (111: Connection refused)'));
  assert.ok(!isErrorLine('GET / 200 OK'));
  assert.ok(!isErrorLine('terrorist-free zone'), 'whole words only');
});

test('changes come logs first, then added, changed, deleted, directories last', () => {
  const changes = [
    { path: '/var', kind: 'C' as const },
    { path: '/var/log', kind: 'C' as const },
    { path: '/var/log/nginx', kind: 'C' as const },
    { path: '/var/log/nginx/error.log', kind: 'A' as const },
    { path: '/etc/app.conf', kind: 'C' as const },
    { path: '/tmp/gone', kind: 'D' as const },
    { path: '/tmp/new', kind: 'A' as const },
  ];
  assert.deepEqual(
    orderChanges(changes).map((c) => c.path),
    ['/var/log/nginx/error.log', '/tmp/new', '/etc/app.conf', '/tmp/gone', '/var', '/var/log', '/var/log/nginx'],
  );
  assert.deepEqual([...directoriesIn(['/a/b/c'])].sort(), ['/a', '/a/b']);
});

test('references to a file and line: path:line, "path", line N, path line N; no URLs, ports or times', () => {
  const refs = (t: string) => findReferences(t).map((r) => `${r.path}:${r.line}`);
  assert.deepEqual(refs('[emerg] 1#1: unknown directive "invalid_directive" in /etc/nginx/nginx.conf:1'), ['/etc/nginx/nginx.conf:1']);
  assert.deepEqual(refs('  File "/app/main.py", line 12, in <module>'), ['/app/main.py:12']);
  assert.deepEqual(refs('syntax error at /srv/x.pl line 3.'), ['/srv/x.pl:3']);
  assert.deepEqual(refs('/srv/run.sh: line 3: syntax error: unexpected "fi"'), ['/srv/run.sh:3']);
  assert.deepEqual(refs('app.js:7:15 TypeError'), ['app.js:7']);
  assert.deepEqual(refs('see ./conf/a.yml:4 and ../b.ini:9'), ['./conf/a.yml:4', '../b.ini:9']);
  assert.deepEqual(refs('GET https://example.com:443/x from 10.0.0.1:8080 at 15:24:30 localhost:80'), []);
  assert.deepEqual(refs('a /x/y.conf:2 then /x/y.conf:2 again'), ['/x/y.conf:2']);
  assert.equal(resolveInContainer('conf/a.yml', '/srv/app'), '/srv/app/conf/a.yml');
  assert.equal(resolveInContainer('../b.ini', '/srv/app'), '/srv/b.ini');
  assert.equal(resolveInContainer('/etc/x', '/srv'), '/etc/x');
  assert.equal(resolveInContainer('../../../../etc/x', '/a'), '/etc/x');
});

test('secret-looking settings are masked, and their values scrubbed from other text', () => {
  assert.ok(isSecretName('DB_PASSWORD') && isSecretName('api_key') && isSecretName('GITHUB_TOKEN') && isSecretName('AWS_SECRET_ACCESS_KEY'));
  assert.ok(!isSecretName('PATH') && !isSecretName('HOME') && !isSecretName('PWD'));
  const env = ['PATH=/bin', 'DB_PASSWORD=hunter2hunter2', 'DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app', 'EMPTY_TOKEN='];
  const masked = maskEnvironment(env, false);
  assert.deepEqual(masked.entries[0], { name: 'PATH', value: '/bin', masked: false });
  assert.deepEqual(masked.entries[1], { name: 'DB_PASSWORD', value: null, masked: true });
  assert.equal(masked.entries[2]!.value, 'postgres://app:******@db:5432/app');
  assert.equal(masked.entries[2]!.masked, true);
  assert.deepEqual(masked.entries[3], { name: 'EMPTY_TOKEN', value: '', masked: false });
  assert.deepEqual(masked.secrets.sort(), ['hunter2hunter2', 's3cr3tpw']);
  assert.equal(redact('login with hunter2hunter2 failed', masked.secrets), 'login with ****** failed');
  assert.equal(redact('dial mysql://root:pw12@x', []), 'dial mysql://root:******@x');
  const shown = maskEnvironment(env, true);
  assert.equal(shown.entries[1]!.value, 'hunter2hunter2');
  assert.equal(shown.entries[2]!.value, 'postgres://app:s3cr3tpw@db:5432/app');
});

test('interpreter lines and ELF program loaders', () => {
  assert.deepEqual(parseShebang(Buffer.from('#!/bin/sh\necho hi\n')), { line: '#!/bin/sh', interpreter: '/bin/sh', viaEnv: null, crlf: false });
  assert.deepEqual(parseShebang(Buffer.from('#!/usr/bin/env -S python3 -u\r\n')), { line: '#!/usr/bin/env -S python3 -u', interpreter: '/usr/bin/env', viaEnv: 'python3', crlf: true });
  assert.equal(parseShebang(Buffer.from('echo no')), null);
  const nginx = elfInterpreter(readFileSync('/usr/sbin/nginx').subarray(0, 4096));
  assert.equal(nginx.elf, true);
  assert.match(nginx.interpreter ?? '', /^\/lib.*ld-linux.*\.so/);
  assert.deepEqual(elfInterpreter(readFileSync('/bin/busybox').subarray(0, 4096)), { elf: true, interpreter: null });
  assert.deepEqual(elfInterpreter(Buffer.from('#!/bin/sh\n'.padEnd(64))), { elf: false, interpreter: null });
  assert.equal(permissionString(0o755), 'rwxr-xr-x');
  assert.equal(permissionString(0o640 | 2 ** 31), 'rw-r-----');
});

test('ldd output gives the libraries and the loader', () => {
  const out = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n';
  assert.deepEqual(parseLdd(out), ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
});

test('editor settings split into words without a shell', () => {
  assert.deepEqual(splitCommand('sed -i s/invalid_directive;//'), ['sed', '-i', 's/invalid_directive;//']);
  assert.deepEqual(splitCommand('code --wait'), ['code', '--wait']);
  assert.deepEqual(splitCommand(`"/opt/My Editor/bin/ed" -n 'a b' c\\ d`), ['/opt/My Editor/bin/ed', '-n', 'a b', 'c d']);
  assert.throws(() => splitCommand('vim "unclosed'), /unclosed quote/);
  assert.equal(chooseEditor({ VISUAL: 'code -w', EDITOR: 'nano' }), 'code -w');
  assert.equal(chooseEditor({ EDITOR: 'nano' }), 'nano');
  assert.equal(chooseEditor({}), 'vi');
});

test('singleFileTar holds one file with its mode, owner and content, readable by node-tar', async () => {
  const { Parser } = await import('tar');
  const tar = await singleFileTar({
    name: 'nginx.conf',
    content: Buffer.from('events {}\n'),
    mode: 0o640,
    uid: 33,
    gid: 44,
    uname: 'www-data',
    gname: 'adm',
    mtime: new Date('2024-05-01T10:00:00Z'),
  });
  assert.equal(tar.length % 512, 0);
  const seen: { path: string; mode?: number; uid?: number; gid?: number; uname?: string; body: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = new Parser({
      onReadEntry: (e) => {
        const entry = { path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, uname: e.uname, body: '' };
        seen.push(entry);
        e.on('data', (c: Buffer) => (entry.body += c.toString()));
      },
    });
    p.on('end', resolve);
    p.on('error', reject);
    p.end(tar);
  });
  assert.deepEqual(seen, [{ path: 'nginx.conf', mode: 0o640, uid: 33, gid: 44, uname: 'www-data', body: 'events {}\n' }]);
});

test('redactAll masks a secret in every string of nested data, and the rendered text once more', () => {
  const secrets = ['s3cr3t-value'];
  const data = { a: 'x s3cr3t-value y', list: [{ path: '/tmp/s3cr3t-value.log', n: 4 }, 'ok'], none: null, flag: true };
  const masked = redactAll(data, secrets);
  assert.deepEqual(masked, { a: 'x ****** y', list: [{ path: '/tmp/******.log', n: 4 }, 'ok'], none: null, flag: true });
  assert.equal(data.a, 'x s3cr3t-value y', 'the input is left as it was');
  // a name whose escaped form spells the secret (ESC shown as \e) is caught in the rendered text
  const tricky = redactAll({ name: 'ab\x1bcd' }, ['ab\\ecd']);
  assert.equal(redactRendered(tricky, 'name: ab\\ecd\n'), 'name: ******\n');
  assert.equal(redactRendered({}, 'ab\\ecd'), 'ab\\ecd', 'a report redactAll did not make is left alone');
});
