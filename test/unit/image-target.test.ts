import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeContainer, type ContainerFacts, type ImageFacts } from '../../src/commands/gc.js';
import { containerName, kindOfName } from '../../src/enter/session.js';
import { goMode, goTime, opaqueFolders } from '../../src/engine/docker/image-layers.js';
import { parseTarget } from '../../src/engine/target.js';

const SESSION = '0123456789ab';
const IMAGE_ID = `sha256:${'a'.repeat(64)}`;
const OWN = { 'io.porthole.owned': 'true', 'io.porthole.session': SESSION, 'io.porthole.pid': '4242', 'io.porthole.pid-start': '987', 'io.porthole.host': 'h1', 'io.porthole.target': IMAGE_ID };
const USER_IMAGE: ImageFacts = { labels: {}, repoTags: ['app:1'], repoDigests: [], comment: '' };
const dead = () => false as const;
const facts = (over: Partial<ContainerFacts>): ContainerFacts => ({ name: '', state: 'created', labels: OWN, path: 'true', args: [], ...over });
const why = (v: ReturnType<typeof judgeContainer>) => (v.remove ? 'remove' : v.reason);

test("gc knows an image target's containers: the never-started reader and shell IMAGE's throwaway container", () => {
  assert.equal(kindOfName(`porthole-image-read-${SESSION}`, SESSION), 'image reader');
  assert.equal(kindOfName(`app-1-porthole-image-${SESSION}`, SESSION), 'image shell');
  assert.equal(kindOfName(`app-porthole-${SESSION}`, SESSION), 'debug copy');
  assert.match(containerName('image shell', 'repo/app:1'), /^repo-app-1-porthole-image-[0-9a-f]{12}$/);
  assert.equal(why(judgeContainer(facts({ name: `porthole-image-read-${SESSION}` }), USER_IMAGE, dead)), 'remove');
  assert.match(why(judgeContainer(facts({ name: `porthole-image-read-${SESSION}`, state: 'exited' }), USER_IMAGE, dead)), /never starts/);
  const shell = facts({ name: `app-1-porthole-image-${SESSION}`, state: 'exited', path: 'sh' });
  assert.equal(why(judgeContainer(shell, USER_IMAGE, dead)), 'remove');
  assert.match(why(judgeContainer({ ...shell, labels: { ...OWN, 'io.porthole.target': 'abc' } }, USER_IMAGE, dead)), /names no image/);
  assert.match(why(judgeContainer(shell, USER_IMAGE, () => true)), /still running/);
});

test('opaque folders from a layer\'s tar-split; Go modes and times as the engine writes them', () => {
  const split = [
    '{"type":2,"payload":"x","position":0}',
    '{"type":1,"name":"home/.wh..wh..opq","payload":null,"position":3}',
    '{"type":1,"name":"./var/lib/.wh..wh..opq","payload":null,"position":5}',
    '{"type":1,"name":"etc/.wh.group","payload":null,"position":7}',
    `{"type":1,"name_raw":"${Buffer.from('caf\xe9/.wh..wh..opq', 'latin1').toString('base64')}","position":9}`,
  ].join('\n');
  assert.deepEqual([...opaqueFolders(split)].sort(), ['/caf\xe9', '/home', '/var/lib']);
  assert.equal(goMode('dir', 0o755), 2 ** 31 + 0o755);
  assert.equal(goMode('symlink', 0o777), 2 ** 27 + 0o777);
  assert.equal(goMode('file', 0o4755), 2 ** 23 + 0o755);
  assert.equal(goTime(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
  assert.equal(goTime(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
});

test('image references are Docker names; unknown Kubernetes kinds stay an error', () => {
  assert.deepEqual(parseTarget('nginx:1.27'), { engine: 'docker', name: 'nginx:1.27' });
  assert.deepEqual(parseTarget('library/nginx:1.27'), { engine: 'docker', name: 'library/nginx:1.27' });
  assert.deepEqual(parseTarget('registry.local:5000/team/app@sha256:' + 'b'.repeat(64)).engine, 'docker');
  assert.throws(() => parseTarget('svc/web'), /neither a container name nor a Kubernetes object/);
  assert.equal(parseTarget('pod/api').engine, 'kubernetes');
});
