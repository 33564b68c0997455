import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeContainer, judgeImage, render, type ContainerFacts, type GcItem, type ImageFacts } from '../../src/commands/gc.js';
import { CONTAINER_KEYS, IMAGE_KEYS, kindOfName, readOwner } from '../../src/enter/session.js';
import { SETUP_SCRIPT } from '../../src/enter/toolbox.js';
import { TOOLBOX_SHELL } from '../../src/toolbox/image.js';

const thing = (name: string, kind: GcItem['kind'] = 'container'): GcItem => ({ kind, id: `${name}-id-0123456789`, name, session: 's1', pid: 42, host: 'h' });

const SESSION = '0123456789ab';
const OWN = { 'io.porthole.owned': 'true', 'io.porthole.session': SESSION, 'io.porthole.pid': '4242', 'io.porthole.pid-start': '987', 'io.porthole.host': 'h1' };
const SNAPSHOT: ImageFacts = {
  labels: { 'io.porthole.image.owned': 'true', 'io.porthole.image.session': SESSION, 'io.porthole.image.pid': '4242', 'io.porthole.image.pid-start': '987', 'io.porthole.image.host': 'h1' },
  repoTags: [],
  repoDigests: [],
  comment: 'porthole snapshot of web',
};
const PLAIN: ImageFacts = { labels: {}, repoTags: ['busybox:latest'], repoDigests: [], comment: '' };
const dead = () => false as const;
const copy = (over: Partial<ContainerFacts> = {}): ContainerFacts => ({ name: `web-porthole-${SESSION}`, state: 'running', labels: OWN, path: 'sh', args: [], ...over });
const why = (v: ReturnType<typeof judgeContainer>) => (v.remove ? 'remove' : v.reason);

test('judgeContainer: a dead session\'s debug copy, sidecar, reader and filler are removed', () => {
  assert.equal(why(judgeContainer(copy(), SNAPSHOT, dead)), 'remove');
  assert.equal(why(judgeContainer(copy({ state: 'exited' }), SNAPSHOT, dead)), 'remove');
  const sidecar = copy({ name: `web-porthole-toolbox-${SESSION}`, path: TOOLBOX_SHELL, args: ['-c', SETUP_SCRIPT, 'porthole-toolbox', 'sleep', '9'] });
  assert.equal(why(judgeContainer(sidecar, PLAIN, dead)), 'remove');
  for (const name of [`porthole-toolbox-read-${SESSION}`, `porthole-toolbox-fill-${SESSION}`]) {
    assert.equal(why(judgeContainer(copy({ name, state: 'created', path: 'true' }), PLAIN, dead)), 'remove', name);
  }
});

test('judgeContainer: labels inherited from the image prove nothing (the issue 11 attack)', () => {
  // docker import -c 'LABEL io.porthole.owned=true ...' then docker run: every label equals the image's
  const hostile: ImageFacts = { labels: { ...OWN }, repoTags: ['evil:1'], repoDigests: [], comment: '' };
  assert.match(why(judgeContainer(copy({ name: 'victim' }), hostile, dead)), /comes from its image/);
  assert.match(why(judgeContainer(copy(), hostile, dead)), /io\.porthole\.owned label comes from its image/);
  // one key alone inherited is enough to refuse
  for (const key of Object.keys(OWN)) {
    assert.match(why(judgeContainer(copy(), { ...SNAPSHOT, labels: { ...SNAPSHOT.labels, [key]: OWN[key as keyof typeof OWN] } }, dead)), /comes from its image/, key);
  }
  // a snapshot of a porthole copy holds the container keys blanked: the copy's own values differ, so they count
  const blanked = { ...SNAPSHOT, labels: { ...SNAPSHOT.labels, 'io.porthole.owned': '', 'io.porthole.session': '' } };
  assert.equal(why(judgeContainer(copy(), blanked, dead)), 'remove');
  assert.match(why(judgeContainer(copy(), undefined, dead)), /image is gone/);
});

test('judgeContainer: every label in porthole\'s form, a porthole name of that session, the kind porthole makes', () => {
  const without = (key: string) => Object.fromEntries(Object.entries(OWN).filter(([k]) => k !== key));
  for (const key of Object.keys(OWN)) assert.match(why(judgeContainer(copy({ labels: without(key) }), SNAPSHOT, dead)), /not porthole's/, key);
  for (const [key, value] of [['io.porthole.session', 'fake'], ['io.porthole.pid', '0'], ['io.porthole.pid', '12x'], ['io.porthole.pid-start', ''], ['io.porthole.host', ''], ['io.porthole.owned', 'yes']]) {
    assert.match(why(judgeContainer(copy({ labels: { ...OWN, [key!]: value! } }), SNAPSHOT, dead)), /not porthole's/, `${key}=${value}`);
  }
  assert.match(why(judgeContainer(copy({ name: 'web' }), SNAPSHOT, dead)), /name is not one porthole gives/);
  assert.match(why(judgeContainer(copy({ name: 'web-porthole-ba9876543210' }), SNAPSHOT, dead)), /name is not one porthole gives/);
  assert.match(why(judgeContainer(copy({ name: `-porthole-${SESSION}` }), SNAPSHOT, dead)), /name is not one porthole gives/);
  // a debug copy runs the snapshot porthole made in the same session, committed by porthole
  assert.match(why(judgeContainer(copy(), PLAIN, dead)), /does not run porthole's snapshot/);
  assert.match(why(judgeContainer(copy(), { ...SNAPSHOT, comment: 'mine' }, dead)), /does not run porthole's snapshot/);
  assert.match(why(judgeContainer(copy(), { ...SNAPSHOT, labels: { ...SNAPSHOT.labels, 'io.porthole.image.session': 'ba9876543210' } }, dead)), /does not run porthole's snapshot/);
  // a sidecar runs porthole's toolbox command; the reader and filler never run
  assert.match(why(judgeContainer(copy({ name: `web-porthole-toolbox-${SESSION}`, path: 'sleep', args: ['100000'] }), PLAIN, dead)), /toolbox command/);
  assert.match(why(judgeContainer(copy({ name: `porthole-toolbox-fill-${SESSION}`, path: 'true', state: 'running' }), PLAIN, dead)), /never starts/);
  assert.match(why(judgeContainer(copy({ name: `porthole-toolbox-fill-${SESSION}`, path: 'true', state: 'exited' }), PLAIN, dead)), /never starts/);
  assert.match(why(judgeContainer(copy({ name: `porthole-toolbox-read-${SESSION}`, path: 'sleep', state: 'created' }), PLAIN, dead)), /runs `true`/);
});

test('judgeContainer and judgeImage: a live owner or one on another host keeps it', () => {
  assert.match(why(judgeContainer(copy(), SNAPSHOT, () => true)), /still running \(pid 4242\)/);
  assert.match(why(judgeContainer(copy(), SNAPSHOT, () => 'unknown')), /on host h1, which cannot be checked/);
  const seen: unknown[] = [];
  judgeContainer(copy(), SNAPSHOT, (owner) => (seen.push(owner), false));
  assert.deepEqual(seen, [{ session: SESSION, pid: 4242, pidStart: '987', host: 'h1' }]);
  assert.match(why(judgeImage(SNAPSHOT, () => true)), /still running/);
});

test('judgeImage: only an untagged, undigested porthole commit with the image-namespace labels', () => {
  assert.equal(why(judgeImage(SNAPSHOT, dead)), 'remove');
  assert.match(why(judgeImage({ ...SNAPSHOT, repoTags: ['x:1'] }, dead)), /name or a digest/);
  assert.match(why(judgeImage({ ...SNAPSHOT, repoDigests: ['x@sha256:00'] }, dead)), /name or a digest/);
  assert.match(why(judgeImage({ ...SNAPSHOT, comment: '' }, dead)), /not committed by porthole/);
  // container-namespace labels on an image make nothing of it
  assert.match(why(judgeImage({ ...PLAIN, repoTags: [], labels: OWN }, dead)), /no io\.porthole\.image\.owned=true/);
  const kept = { ...SNAPSHOT, labels: { 'io.porthole.image.session': SESSION, 'io.porthole.snapshot': 'kept' }, repoTags: ['porthole-snapshot/web:1'] };
  assert.match(why(judgeImage(kept, dead)), /not porthole's/);
});

test('readOwner and kindOfName', () => {
  assert.deepEqual(readOwner(OWN, CONTAINER_KEYS), { session: SESSION, pid: 4242, pidStart: '987', host: 'h1' });
  assert.match(readOwner(OWN, IMAGE_KEYS) as string, /no io\.porthole\.image\.owned/);
  assert.equal(kindOfName(`a-porthole-${SESSION}`, SESSION), 'debug copy');
  assert.equal(kindOfName(`a-porthole-toolbox-${SESSION}`, SESSION), 'toolbox sidecar');
  assert.equal(kindOfName(`porthole-toolbox-read-${SESSION}`, SESSION), 'toolbox reader');
  assert.equal(kindOfName(`x-porthole-toolbox-read-${SESSION}`, SESSION), undefined);
  assert.equal(kindOfName(`a-porthole-${SESSION}x`, SESSION), undefined);
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
