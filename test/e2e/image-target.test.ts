// Images as targets, on the real engine: ls, cat, find, grep and du read an image from its layers with no
// container created (the engine's own event stream says so), whiteouts and opaque folders as the engine's export
// shows them; a created-and-removed container only where the layers cannot answer; shell IMAGE leaves nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { porthole } from '../support/cli.js';
import { docker, dockerStatus, ensureBusyboxImage, removeContainers, runContainer, TEST_LABEL, uniqueName } from '../support/docker.js';
import { ensureShellLessImage, ensureToolbox } from '../support/toolbox.js';

const tag = uniqueName('img').replace(/^pt-/, '');
const IMAGE = `pt-image-target/layered:${tag}`;
// a name that is a container's and an image's at once
const BOTH = uniqueName('image-both');
const made: string[] = [BOTH];
let imageId = '';

before(() => {
  ensureBusyboxImage();
  const dir = mkdtempSync(join(tmpdir(), 'pt-image-target-'));
  try {
    // four layers: a whiteout, an opaque folder (rm -rf then mkdir), a link, a hardlink, a declared volume
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM porthole-fixture/busybox:1',
        'RUN rm /etc/group && mkdir -p /home/app/keep && echo kept > /home/app/keep/k',
        'RUN rm -rf /home && mkdir -p /home/new && echo fresh > /home/new/f',
        'RUN echo changed > /etc/passwd && ln -s /etc /linketc && ln /etc/passwd /etc/passwd-hard && mkdir /var/log/app && printf "%01000d" 0 > /var/log/app/a.log',
        // hostile links: out of the image's root, and to a host path
        'RUN ln -s ../../../../../../../etc /escape && ln -s /proc/self/root/etc/hostname /hostlink',
        'VOLUME /data',
        'ENTRYPOINT ["/bin/sh", "-c", "echo entrypoint ran with $0; exit 9"]',
        'CMD ["image-cmd"]',
        '',
      ].join('\n'),
    );
    const built = spawnSync('docker', ['build', '-q', '--label', TEST_LABEL, '-t', IMAGE, dir], { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    assert.equal(built.status, 0, built.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  imageId = docker(['image', 'inspect', '-f', '{{.Id}}', IMAGE]);
  runContainer(BOTH, [], undefined, ['sh', '-c', 'echo container > /who; sleep 3600']);
  docker(['tag', IMAGE, `${BOTH}:latest`]);
});

after(() => {
  removeContainers(...made);
  const ours = docker(['ps', '-aq', '--filter', `label=io.porthole.target=${imageId}`]);
  if (ours) removeContainers(...ours.split('\n'));
  dockerStatus(['rmi', `${BOTH}:latest`]);
  dockerStatus(['rmi', IMAGE]);
});

/**
 * Runs `fn` while watching the engine's container events, and returns the events about this image (created from
 * it, or labelled as porthole's for it): other tests may be making containers of their own meanwhile.
 */
async function containerEventsDuring(fn: () => Promise<void>, all: string[] = []): Promise<string[]> {
  const watcher = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'type=volume', '--format', '{{json .}}']);
  const lines: string[] = [];
  watcher.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  await new Promise((r) => setTimeout(r, 300)); // the stream is open before anything happens
  try {
    await fn();
  } finally {
    await new Promise((r) => setTimeout(r, 500)); // the last events are through
    watcher.kill();
  }
  all.push(...lines);
  return lines.filter((l) => {
    const e = JSON.parse(l) as { Actor?: { Attributes?: Record<string, string> } };
    const a = e.Actor?.Attributes ?? {};
    return a.image === imageId || a.image === IMAGE || a['io.porthole.target'] === imageId;
  });
}

const byImage = () => docker(['ps', '-aq', '--filter', `ancestor=${imageId}`]);

test('ls, cat, find, grep, du on an image: from its layers, and no container is created', async () => {
  const before = byImage();
  const events = await containerEventsDuring(async () => {
    const home = await porthole(['ls', IMAGE, '/home']);
    assert.equal(home.code, 0, home.stderr);
    assert.equal(home.stdout, 'new\n'); // /home was made opaque above the layer that held app
    const etc = await porthole(['ls', IMAGE, '/etc']);
    assert.equal(etc.stdout, 'passwd\npasswd-hard\n'); // group's whiteout hides it
    assert.equal(etc.stderr, '');
    const cat = await porthole(['cat', IMAGE, '/etc/passwd', '/linketc/passwd-hard', '/home/new/f']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'changed\nchanged\nfresh\n');
    const missing = await porthole(['cat', IMAGE, '/etc/group']);
    assert.equal(missing.code, 3);
    // said about the image (not "in the container"), the path escaped, for each command that reads paths
    for (const args of [['cat', IMAGE, '/etc/group'], ['find', IMAGE, '/nope\x1b[2J'], ['ls', IMAGE, '/nope\x1b[2J'], ['du', IMAGE, '/nope\x1b[2J']]) {
      const r = await porthole(args);
      assert.equal(r.code, 3, r.stderr);
      const image = IMAGE.replace(/[.]/g, '\\.');
      assert.match(r.stderr, new RegExp(`^porthole: No such file or directory in image ${image}: /(etc/group|nope\\\\e\\[2J)\\. Check the path with \`porthole ls ${image} /(etc)?\`\\.\n$`));
    }
    const grep = await porthole(['grep', '-r', IMAGE, 'changed|fresh', '/etc', '/home']);
    assert.equal(grep.code, 0, grep.stderr);
    // passwd-hard is the second name of passwd: a hardlink entry, as in the engine's own archive of a container
    assert.deepEqual(grep.stdout.trim().split('\n').sort(), ['/etc/passwd:changed', '/home/new/f:fresh']);
    const du = await porthole(['du', '--json', IMAGE, '/var/log']);
    assert.equal(du.code, 0, du.stderr);
    assert.deepEqual(JSON.parse(du.stdout).find((r: { path: string }) => r.path === '/var/log/app'), { path: '/var/log/app', size: 1000 });
    // a file as the root of a walk, a folder given to cat, the whole tree: still from the layers
    assert.equal((await porthole(['find', IMAGE, '/etc/passwd'])).stdout, '/etc/passwd\n');
    assert.equal((await porthole(['du', IMAGE, '/var/log/app/a.log'])).stdout.trim(), '1000B  /var/log/app/a.log');
    const folder = await porthole(['cat', IMAGE, '/etc']);
    assert.equal(folder.code, 3);
    assert.match(folder.stderr, /is a directory/);
    const whole = await porthole(['grep', '-rl', IMAGE, '^fresh$', '/']);
    assert.equal(whole.stdout, '/home/new/f\n');
  });
  assert.deepEqual(events, [], 'porthole made a container for reading an image');
  assert.equal(byImage(), before);
});

test("find / on an image lists what the engine's own export of it holds", async () => {
  let found = '';
  const events = await containerEventsDuring(async () => {
    const r = await porthole(['find', IMAGE, '/']);
    assert.equal(r.code, 0, r.stderr);
    found = r.stdout;
  });
  assert.deepEqual(events, []);
  // the truth: docker export of a container made from the image, less what the engine adds to every container
  const id = docker(['create', '--label', TEST_LABEL, IMAGE]);
  let exported: string[];
  try {
    const tar = spawnSync('sh', ['-c', `docker export ${id} | tar -t`], { encoding: 'utf8', maxBuffer: 64 << 20 });
    exported = tar.stdout.split('\n').filter(Boolean).map((n) => `/${n.replace(/\/$/, '')}`);
  } finally {
    removeContainers(id);
  }
  const runtime = /^\/(\.dockerenv|dev(\/.*)?|proc|sys|etc\/(hostname|hosts|mtab|resolv\.conf))$/;
  assert.deepEqual(found.trim().split('\n').sort(), ['/', ...exported.filter((p) => !runtime.test(p))].sort().filter((p, i, a) => a.indexOf(p) === i && p !== '/'));
});

test('where the layers cannot be read, a created container is used, said on stderr, and removed', async () => {
  const r = await porthole(['ls', IMAGE, '/home'], { env: { PORTHOLE_LAYER_READS: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'new\n');
  assert.match(r.stderr, /reading image .* through a container made from it \(never started; removed afterwards\)/);
  const cat = await porthole(['cat', IMAGE, '/etc/passwd'], { env: { PORTHOLE_LAYER_READS: '0' } });
  assert.equal(cat.stdout, 'changed\n');
  assert.equal(docker(['ps', '-aq', '--filter', `label=io.porthole.target=${imageId}`]), '');
  assert.equal(byImage(), '');
});

test('a name that is both a container and an image means the container; --image forces the image', async () => {
  const asContainer = await porthole(['cat', BOTH, '/who']);
  assert.equal(asContainer.stdout, 'container\n');
  const asImage = await porthole(['cat', '--image', BOTH, '/etc/passwd']);
  assert.equal(asImage.code, 0, asImage.stderr);
  assert.equal(asImage.stdout, 'changed\n');
  const none = await porthole(['ls', `${uniqueName('no-such')}:1`, '/']);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /No such container or image/);
  // commands that need a container do not take an image
  const why = await porthole(['why', IMAGE]);
  assert.equal(why.code, 2);
});

test('shell IMAGE: a throwaway container with a shell, the entrypoint not run, nothing left behind', async () => {
  const seen: string[] = [];
  let r!: Awaited<ReturnType<typeof porthole>>;
  const ours = await containerEventsDuring(async () => {
    r = await porthole(['shell', IMAGE, '--', 'sh', '-c', 'cat /etc/passwd; echo $0; exit 7']);
  }, seen);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'changed\nsh\n');
  // VOLUME /data got no volume mounted in the throwaway container (a tmpfs stands there instead)
  const ids = new Set(ours.map((l) => (JSON.parse(l) as { Actor: { ID: string } }).Actor.ID));
  assert.ok(ids.size > 0);
  const mounts = seen.map((l) => JSON.parse(l) as { Type: string; Actor: { Attributes: Record<string, string> } }).filter((e) => e.Type === 'volume' && ids.has(e.Actor.Attributes.container ?? ''));
  assert.deepEqual(mounts, []);
  assert.match(r.stderr, /is an image: working in a throwaway container made from it \(its entrypoint not run\)/);
  const entry = await porthole(['shell', '--entrypoint', IMAGE]);
  assert.equal(entry.code, 9);
  assert.equal(entry.stdout, 'entrypoint ran with image-cmd\n');
  const entryArgs = await porthole(['shell', '--entrypoint', IMAGE, '--', 'given']);
  assert.equal(entryArgs.stdout, 'entrypoint ran with given\n');
  assert.equal(docker(['ps', '-aq', '--filter', `label=io.porthole.target=${imageId}`]), '');
  assert.equal(byImage(), '');
});

test('shell on an image without a shell: the toolbox, and nothing left behind', async () => {
  ensureToolbox();
  const image = ensureShellLessImage();
  const id = docker(['image', 'inspect', '-f', '{{.Id}}', image]);
  const r = await porthole(['shell', image, '--', 'ls', '/app']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/app\n');
  assert.match(r.stderr, /is an image without a shell: working in a throwaway container made from it .*toolbox/);
  assert.equal(docker(['ps', '-aq', '--filter', `label=io.porthole.target=${id}`]), '');
});

test("an image's links never reach the host: they resolve inside the image", async () => {
  const events = await containerEventsDuring(async () => {
    // /escape climbs above the root: it stays at the image's /etc, which has no hostname (the host's has)
    const escaped = await porthole(['cat', IMAGE, '/escape/hostname']);
    assert.equal(escaped.code, 3, escaped.stdout);
    assert.equal(escaped.stdout, '');
    const listed = await porthole(['ls', IMAGE, '/escape/']);
    assert.equal(listed.stdout, 'passwd\npasswd-hard\n');
    const host = await porthole(['cat', IMAGE, '/hostlink']);
    assert.equal(host.code, 3, host.stdout);
    assert.equal(host.stdout, '');
  });
  assert.deepEqual(events, []);
});
