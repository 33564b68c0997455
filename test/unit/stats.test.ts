import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Cleanup } from '../../src/cleanup.js';
import { run, samplerOptions, statsSettings } from '../../src/commands/stats.js';
import { globalPrefix, topSettings } from '../../src/commands/top.js';
import type { Context } from '../../src/context.js';
import { EngineUnavailable, InvalidArgument } from '../../src/errors.js';
import { ALT_SCREEN_OFF, ALT_SCREEN_ON, CURSOR_SHOW } from '../../src/tui/screen.js';

const settings = (options: Record<string, unknown>, args: string[] = []) =>
  statsSettings({ options: { json: false, watch: false, sort: undefined, interval: undefined, ...options } as any, args });

test('stats flags: one-shot by default, sorted by name', () => {
  assert.deepEqual(settings({}, ['web']), { refs: ['web'], sort: 'name', watch: false, intervalMs: 2000 });
});

test('-w takes an optional period: a number right after it, or --interval (which implies --watch)', () => {
  assert.deepEqual(settings({ watch: true }), { refs: [], sort: 'name', watch: true, intervalMs: 2000 });
  assert.deepEqual(settings({ watch: true }, ['5', 'web']), { refs: ['web'], sort: 'name', watch: true, intervalMs: 5000 });
  assert.deepEqual(settings({ watch: true }, ['0.5']), { refs: [], sort: 'name', watch: true, intervalMs: 500 });
  assert.deepEqual(settings({ interval: '3' }, ['web']), { refs: ['web'], sort: 'name', watch: true, intervalMs: 3000 });
  // With --interval given, a number is a container name (docker allows names like "10").
  assert.deepEqual(settings({ watch: true, interval: '1' }, ['10']), { refs: ['10'], sort: 'name', watch: true, intervalMs: 1000 });
  // Without --watch, a number is a container name too.
  assert.deepEqual(settings({}, ['10']).refs, ['10']);
});

test('bad sort keys and periods are usage errors with a sentence', () => {
  assert.throws(() => settings({ sort: 'io' }), (e: Error) => e instanceof InvalidArgument && /--sort takes cpu, mem or name, not "io"/.test(e.message));
  for (const interval of ['0', '-1', 'soon', '1e3', '100000']) {
    assert.throws(() => settings({ interval }), InvalidArgument, interval);
  }
  assert.throws(() => settings({ watch: true }, ['0']), /--watch takes a number of seconds/);
});

test('the engine way can be forced for comparison', () => {
  assert.deepEqual(samplerOptions({ PORTHOLE_STATS_SOURCE: 'engine' }), { source: 'engine' });
  assert.deepEqual(samplerOptions({}), { source: 'auto' });
});

test('top: sort and period flags, and the global flags handed to child commands', () => {
  assert.deepEqual(topSettings({ sort: undefined, interval: undefined }), { sort: 'cpu', intervalMs: 2000 });
  assert.deepEqual(topSettings({ sort: 'mem', interval: '0.5' }), { sort: 'mem', intervalMs: 500 });
  assert.throws(() => topSettings({ sort: 'x', interval: undefined }), InvalidArgument);
  assert.throws(() => topSettings({ sort: undefined, interval: 'x' }), InvalidArgument);
  assert.deepEqual(globalPrefix(['-H', 'ssh://box', 'top', 'web']), ['-H', 'ssh://box']);
  assert.deepEqual(globalPrefix(['top']), []);
});

// --watch on a fake terminal with a fake engine: the screen is given back before an error reaches the user.

function fakeTerminal() {
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 20 });
  const modes: boolean[] = [];
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (m: boolean) => void modes.push(m) });
  let written = '';
  stdout.on('data', (d) => (written += d));
  return { stdout, stdin, modes, written: () => written };
}

function fakeEngine(failAfter: number) {
  let lists = 0;
  const doc = {
    read: new Date().toISOString(),
    cpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 1e12, online_cpus: 2 },
    memory_stats: { usage: 1024 * 1024, limit: 64 * 1024 * 1024, stats: {} },
    pids_stats: { current: 1 },
  };
  return {
    endpoint: { host: 'unix:///fake.sock', via: 'test', skipped: [] },
    apiVersion: async () => '1.41',
    listContainers: async () => {
      if (++lists > failAfter) throw new EngineUnavailable('The engine at /fake.sock closed the connection.');
      return [{ id: 'f'.repeat(64), names: ['web'], image: 'x', imageId: 'x', command: '', created: 0, state: 'running', status: 'Up', labels: {} }];
    },
    stats: async () => doc,
    close: () => undefined,
  };
}

function fakeContext(term: ReturnType<typeof fakeTerminal>, engine: unknown): Context {
  return {
    stdout: term.stdout,
    stderr: new PassThrough(),
    stdin: term.stdin,
    stdinIsTTY: true,
    stdinIsNull: false,
    env: { PORTHOLE_STATS_SOURCE: 'engine' },
    engine: async () => engine as any,
    cleanup: new Cleanup(),
    signal: new AbortController().signal,
    notice: () => undefined,
  };
}

const watchParsed = { options: { watch: true, interval: '0.1', json: false, sort: undefined }, args: [], rest: [], hasRest: false } as any;

test('--watch: an error mid-way leaves the alternate screen and raw mode before it propagates', async () => {
  const term = fakeTerminal();
  const ctx = fakeContext(term, fakeEngine(2));
  await assert.rejects(run(ctx, watchParsed), /closed the connection/);
  const out = term.written();
  assert.ok(out.startsWith(ALT_SCREEN_ON));
  assert.ok(out.endsWith(CURSOR_SHOW + ALT_SCREEN_OFF), JSON.stringify(out.slice(-40)));
  assert.match(out, /web/);
  assert.deepEqual(term.modes, [true, false]);
  assert.equal(ctx.cleanup.size, 0, 'the restore step was dropped once done');
});

test('--watch: q ends it and restores the screen', async () => {
  const term = fakeTerminal();
  const ctx = fakeContext(term, fakeEngine(1000));
  const done = run(ctx, watchParsed);
  await new Promise((r) => setTimeout(r, 600));
  term.stdin.write('q');
  const result = await done;
  assert.equal(result.streamed, true);
  assert.ok(term.written().endsWith(CURSOR_SHOW + ALT_SCREEN_OFF));
  assert.deepEqual(term.modes, [true, false]);
});
