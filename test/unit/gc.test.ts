import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render, triage, type GcItem } from '../../src/commands/gc.js';

const thing = (name: string, kind: GcItem['kind'] = 'container'): GcItem => ({ kind, id: `${name}-id-0123456789`, name, session: 's1', pid: 42, host: 'h' });

test('triage: dead owners removed, live and other-host owners kept with a reason, unlabelled ignored', () => {
  const verdicts: Record<string, boolean | 'unknown'> = { dead: false, live: true, far: 'unknown' };
  const { remove, kept } = triage(
    [
      { item: thing('dead'), labels: { 'io.porthole.owned': 'true', who: 'dead' } },
      { item: thing('live'), labels: { 'io.porthole.owned': 'true', who: 'live' } },
      { item: thing('far'), labels: { 'io.porthole.owned': 'true', who: 'far' } },
      { item: thing('stranger'), labels: { who: 'dead' } },
      { item: thing('false'), labels: { 'io.porthole.owned': 'false', who: 'dead' } },
    ],
    (labels) => verdicts[labels.who!]!,
  );
  assert.deepEqual(remove.map((x) => x.name), ['dead']);
  assert.deepEqual(kept.map((x) => [x.name, /still running/.test(x.reason) || /another|host/.test(x.reason)]), [['live', true], ['far', true]]);
});

test('render: one line each, names escaped, --json stable', () => {
  const result = { dryRun: true, removed: [thing('evil\x1b[31m\nname')], kept: [], failed: [] };
  const parsed = { options: { 'dry-run': true, json: false }, args: [], rest: [], hasRest: false };
  const text = render(result, parsed);
  assert.equal(text.split('\n').filter(Boolean).length, 1);
  assert.doesNotMatch(text, /\x1b/);
  assert.match(text, /^would remove container /);
  const json = JSON.parse(render(result, { ...parsed, options: { 'dry-run': true, json: true } }));
  assert.deepEqual(Object.keys(json), ['dryRun', 'removed', 'kept', 'failed']);
  assert.equal(json.removed[0].name, 'evil\x1b[31m\nname');
  assert.equal(render({ dryRun: false, removed: [], kept: [], failed: [] }, parsed), 'Nothing to remove.\n');
});
