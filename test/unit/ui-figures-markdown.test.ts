// The list's restart-count refresh rule and the Why tab's Markdown layout, as plain functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dueForInspect, RECHECK_RUNNING_MS, RestartCounts, type KnownCount } from '../../src/ui/figures.js';
import { escapeMarkdown, fenceFor, inlineCode, whyMarkdown } from '../../src/ui/markdown.js';
import type { ContainerSummary, EngineClient } from '../../src/engine/types.js';

test('restart counts: inspect new, changed and restarting containers, running ones now and then, exited ones once', () => {
  const now = 100_000;
  const known = new Map<string, KnownCount>([
    ['run-fresh', { count: 0, state: 'running', checkedAt: now - 1000 }],
    ['run-stale', { count: 0, state: 'running', checkedAt: now - RECHECK_RUNNING_MS }],
    ['exited-old', { count: 3, state: 'exited', checkedAt: 0 }],
    ['was-running', { count: 1, state: 'running', checkedAt: now - 1000 }],
    ['restarting', { count: 4, state: 'restarting', checkedAt: now - 1000 }],
  ]);
  const list = [
    { id: 'run-fresh', state: 'running' as const },
    { id: 'run-stale', state: 'running' as const },
    { id: 'exited-old', state: 'exited' as const },
    { id: 'was-running', state: 'exited' as const },
    { id: 'restarting', state: 'restarting' as const },
    { id: 'new', state: 'created' as const },
  ];
  assert.deepEqual(dueForInspect(known, list, now), ['run-stale', 'was-running', 'restarting', 'new']);
});

test('restart counts: each update answers only what moved, and forgets removed containers', async () => {
  const counts: Record<string, number> = { a: 0, b: 2 };
  const asked: string[] = [];
  const engine = {
    inspectContainer: async (id: string) => {
      asked.push(id);
      if (id === 'gone') throw new Error('No such container');
      return { restartCount: counts[id] };
    },
  } as unknown as EngineClient;
  const row = (id: string, state: ContainerSummary['state']) => ({ id, state }) as ContainerSummary;
  const tracker = new RestartCounts(engine);
  assert.deepEqual(await tracker.update([row('a', 'running'), row('b', 'exited'), row('gone', 'running')], 0), { a: 0, b: 2 });
  asked.length = 0;
  counts.a = 1;
  // a restarted between two lists (running both times): seen at the periodic re-read, not before
  assert.deepEqual(await tracker.update([row('a', 'running'), row('b', 'exited')], 1000), {});
  assert.deepEqual(asked, []);
  assert.deepEqual(await tracker.update([row('a', 'running'), row('b', 'exited')], RECHECK_RUNNING_MS), { a: 1 });
  assert.deepEqual(asked, ['a']);
  assert.deepEqual([...tracker.known.keys()], ['a', 'b']);
  await tracker.update([row('b', 'exited')], RECHECK_RUNNING_MS + 1);
  assert.deepEqual([...tracker.known.keys()], ['b']);
});

test('Markdown: a fence longer than any backtick run, inline code that holds backticks, prose escaped', () => {
  assert.equal(fenceFor('plain'), '```');
  assert.equal(fenceFor('a ``` b ```` c'), '`````');
  assert.equal(inlineCode('/etc/app.conf:2'), '`/etc/app.conf:2`');
  assert.equal(inlineCode('a`b'), '``a`b``');
  assert.equal(inlineCode('`x'), '`` `x ``');
  assert.equal(escapeMarkdown('exit *3* [x](y) <b>\nnext'), 'exit \\*3\\* \\[x\\](y) \\<b\\> next');
});

test('Markdown: headline as a heading, the report fenced, the command, the path:line points as a list', () => {
  const md = whyMarkdown({
    ref: 'web',
    headline: 'exited with code 1: the program reported a failure',
    text: 'web  abc\n\nWhat it said\n  ! bad ``` value\n',
    command: 'porthole why web',
    points: [{ path: '/etc/nginx/nginx.conf', line: 1, from: 'stderr' }, { path: '/etc/a`b', line: 3 }],
  });
  assert.equal(
    md,
    [
      '## web: exited with code 1: the program reported a failure',
      '',
      '````text',
      'web  abc',
      '',
      'What it said',
      '  ! bad ``` value',
      '````',
      '',
      'Command: `porthole why web`',
      '',
      'Where it points:',
      '',
      '- `/etc/nginx/nginx.conf:1` (seen in stderr)',
      '- ``/etc/a`b:3``',
      '',
    ].join('\n'),
  );
  assert.equal(whyMarkdown({ ref: 'x', headline: '', text: 'r', command: 'porthole why x', points: [] }), '## x\n\n```text\nr\n```\n\nCommand: `porthole why x`\n');
});
