import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porthole } from '../support/cli.js';
import { docker, removeContainers, runContainer, uniqueName } from '../support/docker.js';
import { leftoversFor, makeFixtures, makeHostile, removeFixtures, stableFingerprint, type FsFixtures } from '../support/fs.js';

let fx: FsFixtures;
let hostile: string;
before(() => {
  fx = makeFixtures('ls');
  hostile = makeHostile('ls');
});
after(() => removeFixtures(...fx.all, hostile));

test('ls lists a folder on running and stopped containers, hidden names only with -a', async () => {
  for (const c of [fx.running, fx.stopped]) {
    const before = stableFingerprint(c);
    const r = await porthole(['ls', c, '/app']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'binary.bin\nconfig.txt\ndirlink\nlink-to-config\nlogs\nsub\n');
    const all = await porthole(['ls', '-a', c, '/app']);
    assert.equal(all.stdout, '.hidden\nbinary.bin\nconfig.txt\ndirlink\nlink-to-config\nlogs\nsub\n');
    assert.deepEqual(stableFingerprint(c), before);
  }
  assert.deepEqual(leftoversFor(...fx.all), []);
});

test('ls -l: mode, owner names from the container\'s /etc/passwd, size, time, link target', async () => {
  const r = await porthole(['ls', '-l', fx.stopped, '/app']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-rw-r--r-- app {2}app {3}29 \d{4}-\d\d-\d\d \d\d:\d\d config\.txt$/m);
  assert.match(r.stdout, /^lrwxrwxrwx root root +0 .* link-to-config -> config\.txt$/m);
  assert.match(r.stdout, /^drwxr-xr-x root root +0 .* logs$/m);
  const file = await porthole(['ls', '-l', fx.stopped, '/app/binary.bin']);
  assert.match(file.stdout, /^-rw-r--r-- root root 512 .* \/app\/binary\.bin\n$/);
});

test('ls -R lists every folder below, each as a block; a symlink to a folder is followed', async () => {
  const r = await porthole(['ls', '-R', fx.stopped, '/app']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    '/app/logs:\napp.log\nbig.log\n\n/app/sub/deeper:\nleaf\n\n/app/sub:\ndeeper\nup-link\n\n/app:\nbinary.bin\nconfig.txt\ndirlink\nlink-to-config\nlogs\nsub\n',
  );
  const link = await porthole(['ls', fx.stopped, '/app/dirlink']);
  assert.equal(link.stdout, 'deeper\nup-link\n');
});

test('ls on a shell-less container that was never started', async () => {
  const before = stableFingerprint(fx.shellless);
  const r = await porthole(['ls', '-l', fx.shellless, '/']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-rwxr-xr-x 0 0 \d+ .* app$/m);
  assert.deepEqual(stableFingerprint(fx.shellless), before);
  const json = JSON.parse((await porthole(['ls', '--json', fx.shellless, '/'])).stdout);
  assert.ok(json.some((e: { path: string; type: string }) => e.path === '/app' && e.type === 'file'));
});

test('ls of hostile names: escaped on screen, exact in --json (nameBytes for non-UTF-8), no forged rows', async () => {
  const r = await porthole(['ls', '-l', hostile, '/h']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
  assert.match(r.stdout, / esc\\e\]0;pwned\\x07\\e\[2Jname$/m);
  assert.match(r.stdout, / nl\\nA forged-row$/m);
  assert.match(r.stdout, / cr\\rback$/m);
  assert.match(r.stdout, / bad\\xff\\xfebytes$/m);
  assert.match(r.stdout, / esclink -> \\e\[31mred$/m);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 7);
  const json = JSON.parse((await porthole(['ls', '--json', hostile, '/h'])).stdout);
  const names = json.map((e: { name: string }) => e.name);
  assert.ok(names.includes('esc\x1b]0;pwned\x07\x1b[2Jname'));
  assert.ok(names.includes('nl\nA forged-row'));
  const bad = json.find((e: { nameBytes?: string }) => e.nameBytes);
  assert.ok(Buffer.from(bad.nameBytes, 'base64').equals(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x62, 0x79, 0x74, 0x65, 0x73])));
  assert.ok(Buffer.from(bad.pathBytes, 'base64').equals(Buffer.concat([Buffer.from('/h/'), Buffer.from(bad.nameBytes, 'base64')])));
  assert.equal(json.find((e: { name: string }) => e.name === 'esclink').linkTarget, '\x1b[31mred');
  const deep = await porthole(['ls', '-R', hostile, '/h']);
  assert.equal(deep.code, 0, deep.stderr);
  assert.match(deep.stdout, /\/h(\/d){600}:\nbottom\n/);
});

test('ls -l escapes owner and group names from the container\'s /etc/passwd and /etc/group; --json keeps them exact', async () => {
  // The container names its own users: a name with a clear-screen and a carriage return, a group with a bell.
  const name = uniqueName('ls-owners');
  try {
    runContainer(name, [], undefined, [
      'sh',
      '-c',
      "printf 'ev\\033[2Jil\\rX:x:4242:4242::/:/bin/false\\n' >> /etc/passwd; printf 'g\\007rp:x:4242:\\n' >> /etc/group; touch /f; chown 4242:4242 /f",
    ]);
    docker(['wait', name]);
    const r = await porthole(['ls', '-l', name, '/f']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f]/, 'a control character reached the terminal');
    assert.match(r.stdout, /^-rw-r--r-- ev\\e\[2Jil\\rX g\\x07rp 0 .* \/f\n$/);
    const json = JSON.parse((await porthole(['ls', '--json', name, '/f'])).stdout);
    assert.equal(json[0].user, 'ev\x1b[2Jil\rX');
    assert.equal(json[0].group, 'g\x07rp');
  } finally {
    removeContainers(name);
  }
});

test('ls of a missing path or container: a sentence, exit 3', async () => {
  const r = await porthole(['ls', fx.stopped, '/nope']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^porthole: No such file or directory in the container: \/nope\./);
});
