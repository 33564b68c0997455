// The crash report's words where the exit code alone misleads (pure functions of report/findings.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { causeLine, exitMeaning, neverRanMeaning } from '../../src/report/findings.js';
import { describeLimits } from '../../src/enter/snapshot.js';

test('OOMKilled with an exit code that is not 137: a process inside was killed, the main process exited on its own', () => {
  const m = exitMeaning(3, true);
  assert.match(m.words, /a process inside was killed by the kernel's out-of-memory killer .* the main process then exited with code 3$/);
  assert.equal(m.signal, null);
  assert.match(exitMeaning(137, true).words, /^killed by the kernel's out-of-memory killer/);
});

test("never started: the exit code is the engine's; an exec failure keeps its meaning", () => {
  assert.match(neverRanMeaning(128, 'error gathering device information while adding custom device "/dev/x": no such file or directory').words, /^exit code 128: the program never ran: the engine could not start the container \(error gathering/);
  assert.equal(
    neverRanMeaning(127, 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchprog": executable file not found in $PATH: unknown').words,
    'exit code 127: the command was not found, so the program never ran',
  );
  assert.match(neverRanMeaning(127, 'error mounting "/etc/hostname" to rootfs at "/bin": not a directory').words, /never ran: the engine could not start/);
});

test('output lines that name their own cause', () => {
  assert.equal(causeLine(['starting', 'sh: API_KEY: parameter not set']), 'sh: API_KEY: parameter not set');
  assert.equal(causeLine(['./run.sh: line 3: TOKEN: unbound variable']), './run.sh: line 3: TOKEN: unbound variable');
  assert.equal(causeLine(['Error: environment variable DATABASE_URL is not set']), 'Error: environment variable DATABASE_URL is not set');
  assert.equal(causeLine(['missing required environment variable: PORT', 'exiting']), 'missing required environment variable: PORT');
  assert.equal(causeLine(['usage: app [-v] FILE']), null);
  assert.equal(causeLine([]), null);
});

test('limits in docker run terms', () => {
  assert.equal(describeLimits({}), '');
  assert.equal(describeLimits(undefined), '');
  assert.equal(describeLimits({ memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024, nanoCpus: 5e8, pidsLimit: 64 }), 'memory 16.0MiB, 0.5 CPUs, 64 PIDs');
  assert.equal(describeLimits({ ulimits: [{ name: 'nofile', soft: 10, hard: 10 }] }), 'ulimits nofile');
});
