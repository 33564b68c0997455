// Pure parts of `toolbox build --with` (ldd's output, an ELF's loader, the loader script) and of `net` through a
// sidecar (its output, hostile names included).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NET_FILES, parseSidecarOutput } from '../../src/enter/net-sidecar.js';
import { elfInterpreter, parseLdd, splitWith, wrapperScript } from '../../src/toolbox/with.js';

test('parseLdd: libraries with paths, not found ones, the loader; vdso left out', () => {
  const out = parseLdd(
    [
      '\tlinux-vdso.so.1 (0x00007ffc)',
      '\tlibunwind-ptrace.so.0 => /lib/x86_64-linux-gnu/libunwind-ptrace.so.0 (0x00007f39a0754000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f39a021e000)',
      '\tlibgone.so.2 => not found',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f39a076e000)',
      '',
    ].join('\n'),
  );
  assert.deepEqual(out.libraries, [
    { name: 'libunwind-ptrace.so.0', path: '/lib/x86_64-linux-gnu/libunwind-ptrace.so.0' },
    { name: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6' },
    { name: 'libgone.so.2', path: null },
  ]);
  assert.equal(out.loader, '/lib64/ld-linux-x86-64.so.2');
  assert.deepEqual(parseLdd('\tstatically linked\n'), { libraries: [], loader: undefined });
});

test("elfInterpreter: a dynamic program's PT_INTERP; none for a static one or for text", () => {
  const node = readFileSync(process.execPath);
  const interp = elfInterpreter(node);
  assert.ok(interp === undefined || /^\/.*ld-.*\.so/.test(interp), String(interp));
  assert.equal(elfInterpreter(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(200))), undefined);
  assert.equal(elfInterpreter(readFileSync('/bin/busybox')), undefined, 'busybox-static has no loader');
});

test('the loader script runs the carried program through the carried loader, never the target root\'s', () => {
  const script = wrapperScript('strace', '/lib64/ld-linux-x86-64.so.2', true);
  assert.equal(
    script,
    '#!/proc/self/fd/9/.porthole/bin/sh\nexec /proc/self/fd/9/.porthole/lib/ld-linux-x86-64.so.2 --inhibit-cache --library-path /proc/self/fd/9/.porthole/lib --argv0 strace /proc/self/fd/9/.porthole/with/strace "$@"\n',
  );
  assert.match(wrapperScript('gdb', '/lib64/ld-linux-x86-64.so.2', false), /\/with\/gdb '-iex' 'set sysroot \/' "\$@"\n$/);
  assert.deepEqual(splitWith(['strace,lsof', ' gdb ,strace', '']), ['strace', 'lsof', 'gdb']);
});

test('parseSidecarOutput: files, owners by PID inside; the sidecar itself and forged lines left out', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const text = [
    `F tcp ${b64('  sl  local_address\n   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5385459 1\n')}`,
    `F unix ${b64('Num RefCount\n0000: 00000002 00000000 00010000 0001 01 77 /tmp/evil\nF tcp AAAA\n')}`,
    'F bogus AAAA',
    '@@ps',
    'PID   COMMAND',
    '    1 httpd -f -p 8081',
    '    6 httpd -f -p 127.0.0.1:80',
    '   24 /.porthole/bin/sh -c ?for f in tcp; do ...',
    '   35 {ps} /.porthole/bin/sh -c ?for f in tcp; do ...',
    '@@fd',
    '/proc/1/fd/:',
    'total 0',
    'lrwx------    1 0        0               64 Dec  5 12:21 3 -> socket:[5385011]',
    '',
    '/proc/24/fd/:',
    'lrwx------    1 0        0               64 Dec  5 12:21 4 -> socket:[999]',
    '',
    '/proc/6/fd/:',
    'l-wx------    1 0        0               64 Dec  5 12:21 1 -> pipe:[5384880]',
    'lrwx------    1 0        0               64 Dec  5 12:21 3 -> socket:[5385459]',
    'lrwx------    1 0        0               64 Dec  5 12:21 5 -> /tmp/x -> socket:[777]',
  ].join('\n');
  const view = parseSidecarOutput(text);
  assert.deepEqual(Object.keys(view.files).sort(), ['tcp', 'unix']);
  assert.ok(view.files.unix!.includes('/tmp/evil\nF tcp AAAA'), 'a socket path holding a newline stays inside its file');
  assert.deepEqual([...view.commands], [
    [1, 'httpd -f -p 8081'],
    [6, 'httpd -f -p 127.0.0.1:80'],
  ]);
  assert.deepEqual([...view.socketPids].sort(), [
    [5385011, 1],
    [5385459, 6],
  ]);
  assert.ok(NET_FILES.includes('fib_trie'));
});
