// Plain files are read straight from the container's storage layers where the engine runs here
// (src/engine/docker/layer.ts); links on the way, volumes and the like still go through the engine. The report must be the same
// either way: PORTHOLE_LAYER_READS=0 turns the direct reads off for the comparison, and PORTHOLE_TRACE shows
// which files went through the engine's archive endpoint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker, ensureBusyboxImage, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { waitFor } from '../support/crash.js';

const made: string[] = [];
const volumes: string[] = [];
after(() => {
  removeContainers(...made);
  for (const v of volumes) docker(['volume', 'rm', '-f', v]);
});
before(() => ensureBusyboxImage());

/** The paths `porthole why` read through the engine's archive endpoint, and its report. */
async function whyReads(name: string, env: Record<string, string> = {}): Promise<{ report: string; archived: string[] }> {
  const r = await porthole(['why', name], { env: { PORTHOLE_TRACE: '1', ...env } });
  assert.equal(r.code, 0, r.stderr);
  const archived = [...r.stderr.matchAll(/GET \S+\/archive\?path=(\S+) /g)].map((m) => decodeURIComponent(m[1]!));
  // "exited 294 ms ago" moves between two runs
  return { report: r.stdout.replace(/exited [\d.]+ \w+ ago/, 'exited (a while) ago'), archived };
}

async function crashed(script: string, extra: string[] = []): Promise<string> {
  const name = uniqueName('layer');
  made.push(name);
  runContainer(name, extra, undefined, ['sh', '-c', script]);
  await waitFor(name, (s) => s.Status === 'exited');
  return name;
}

test('a log the container wrote is read from its layer: same report, no archive read for it', async () => {
  const name = await crashed('mkdir -p /var/log/app; printf "starting\\nERROR: bad value in /etc/app.conf:2\\n" > /var/log/app/app.log; printf "a=1\\nb=oops\\n" > /etc/app.conf; exit 1');
  const direct = await whyReads(name);
  const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
  assert.equal(direct.report, viaEngine.report);
  assert.match(direct.report, /ERROR: bad value in \/etc\/app\.conf:2/);
  assert.match(direct.report, /> 2 \| b=oops/);
  assert.deepEqual(direct.archived, [], `the log and the config the container wrote came from its layer:\n${direct.report}`);
  assert.deepEqual(viaEngine.archived.sort(), ['/etc/app.conf', '/var/log/app/app.log'], viaEngine.report);
});

test('files behind a link or in a volume still go through the engine; the image\'s own files need not', async () => {
  const volume = uniqueName('layer-vol');
  volumes.push(volume);
  docker(['volume', 'create', volume]);
  // /logs is a volume; /conf is a link to a folder the container made; /etc/passwd comes from the image
  const name = await crashed(
    'mkdir -p /real; ln -s /real /conf; printf "x=1\\ny=2\\nz=3\\n" > /real/app.conf; echo "kept in a volume" > /logs/app.log; ' +
      'echo "ERROR: see /conf/app.conf:3" >&2; echo "ERROR: and /logs/app.log:1" >&2; echo "root entry at /etc/passwd:1" >&2; exit 2',
    ['-v', `${volume}:/logs`],
  );
  const direct = await whyReads(name);
  const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
  assert.equal(direct.report, viaEngine.report);
  assert.match(direct.report, /> 3 \| z=3/);
  assert.match(direct.report, /> 1 \| root:x:0:0/);
  assert.match(direct.report, /> 1 \| kept in a volume/);
  for (const path of ['/conf/app.conf', '/logs/app.log']) assert.ok(direct.archived.includes(path), `${path} went through the engine: ${direct.archived}`);
  // /etc/passwd: the image layer's file, once the engine's stat (a HEAD, no tar) said it is that file
  assert.ok(!direct.archived.includes('/etc/passwd'), `${direct.archived}`);
  assert.ok(viaEngine.archived.includes('/etc/passwd'));
});

test('a file the container deleted, or hid under a folder it remade, is not read from the image below', async () => {
  for (const script of ['rm /etc/passwd', 'rm -rf /etc; mkdir /etc; echo other > /etc/other']) {
    const name = await crashed(`${script}; echo "ERROR: see /etc/passwd:1" >&2; exit 1`);
    const direct = await whyReads(name);
    const viaEngine = await whyReads(name, { PORTHOLE_LAYER_READS: '0' });
    assert.equal(direct.report, viaEngine.report, script);
    assert.match(direct.report, /ERROR: see \/etc\/passwd:1/);
    assert.doesNotMatch(direct.report, /root:x:0:0/, `${script}: the deleted file was shown`);
  }
});

test('cat gives the same bytes from the layers as through the engine, and skips the archive endpoint for plain files', async () => {
  const name = await crashed('head -c 300000 /dev/urandom > /var/blob; printf "x\\0y" > /etc/zero; ln -s /var/blob /link; exit 0');
  for (const path of ['/var/blob', '/etc/zero', '/etc/passwd', '/link']) {
    const direct = await porthole(['cat', name, path], { env: { PORTHOLE_TRACE: '1' } });
    const viaEngine = await porthole(['cat', name, path], { env: { PORTHOLE_LAYER_READS: '0' } });
    assert.equal(direct.code, 0, direct.stderr);
    assert.ok(direct.stdoutBytes.equals(viaEngine.stdoutBytes), `${path}: different bytes`);
    const archived = [...direct.stderr.matchAll(/GET \S+\/archive\?path=(\S+) /g)].map((m) => decodeURIComponent(m[1]!));
    // a link is resolved by the engine (one archive read), then its target comes from the layer
    assert.deepEqual(archived, path === '/link' ? ['/link'] : [], path);
  }
  assert.equal((await porthole(['cat', name, '/var/blob'])).stdoutBytes.length, 300000);
});
