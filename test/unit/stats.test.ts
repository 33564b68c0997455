import assert from 'node:assert/strict';
import { test } from 'node:test';
import { samplerOptions, statsSettings } from '../../src/commands/stats.js';
import { globalPrefix, topSettings } from '../../src/commands/top.js';
import { InvalidArgument } from '../../src/errors.js';

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
