// Pure parts of `porthole shell`: the login shell from /etc/passwd, -e parsing, the request, and the snapshot's
// debug container specification (what it keeps, what it never inherits).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRequest, parseEnvFlags, spec } from '../../src/commands/shell.js';
import { parseCommand } from '../../src/cli/args.js';
import type { Context } from '../../src/context.js';
import type { ContainerDetails } from '../../src/engine/types.js';
import { findUser, isNoLoginShell, parsePasswd, shellCandidates } from '../../src/enter/choose-shell.js';
import { debugContainerSpec, neutralLabels, snapshotRepo, startFailureCode } from '../../src/enter/snapshot.js';
import type { EnterRequest } from '../../src/enter/types.js';
import { InvalidArgument } from '../../src/errors.js';

const PASSWD = `root:x:0:0:root:/root:/bin/zsh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App,,,:/home/app:/bin/bash
broken line
svc:x:1001:1001::/srv:
`;

test('parsePasswd and findUser follow docker user specs (name, uid, name:group, empty = root)', () => {
  const entries = parsePasswd(PASSWD);
  assert.deepEqual(entries.map((e) => e.name), ['root', 'daemon', 'app', 'svc']);
  assert.equal(findUser(entries, undefined)?.name, 'root');
  assert.equal(findUser(entries, '')?.name, 'root');
  assert.equal(findUser(entries, 'app')?.shell, '/bin/bash');
  assert.equal(findUser(entries, '1000:1000')?.name, 'app');
  assert.equal(findUser(entries, 'app:staff')?.uid, 1000);
  assert.equal(findUser(entries, '4242'), undefined);
  assert.equal(findUser(entries, 'nobody'), undefined);
});

test('shell candidates: a real login shell first, then bash, then sh; nologin shells skipped', () => {
  assert.deepEqual(shellCandidates('/bin/zsh'), ['/bin/zsh', '/bin/bash', '/usr/bin/bash', '/bin/sh', '/usr/bin/sh']);
  assert.deepEqual(shellCandidates('/bin/sh'), ['/bin/sh', '/bin/bash', '/usr/bin/bash', '/usr/bin/sh']);
  assert.deepEqual(shellCandidates('/usr/sbin/nologin'), ['/bin/bash', '/usr/bin/bash', '/bin/sh', '/usr/bin/sh']);
  assert.deepEqual(shellCandidates(''), shellCandidates(undefined));
  assert.deepEqual(shellCandidates('zsh'), shellCandidates(undefined), 'a relative shell is not trusted');
  for (const s of ['/bin/false', '/sbin/nologin', '/usr/bin/true', '']) assert.ok(isNoLoginShell(s), s);
  assert.ok(!isNoLoginShell('/bin/ash'));
});

test('-e: KEY=VAL as given, KEY alone from our environment or dropped, bad keys refused', () => {
  assert.deepEqual(parseEnvFlags(['A=1', 'B=x=y', 'C=', 'HOME', 'MISSING'], { HOME: '/root' }), ['A=1', 'B=x=y', 'C=', 'HOME=/root']);
  assert.throws(() => parseEnvFlags(['=x'], {}), InvalidArgument);
  assert.throws(() => parseEnvFlags(['A B=1'], {}), InvalidArgument);
});

function ctxWith(stdinTty: boolean, stdoutTty: boolean): Context {
  // stdinIsTTY is what the request reads: making the stdin stream to ask it costs 5 ms
  return { stdinIsTTY: stdinTty, stdout: { isTTY: stdoutTty }, env: {} } as unknown as Context;
}

test('the request: a TTY only when stdin and stdout are both terminals; the command after -- or after the name', () => {
  const parse = (argv: string[]) => parseCommand(spec, argv);
  assert.equal(buildRequest(parse(['c']), ctxWith(true, true)).tty, true);
  assert.equal(buildRequest(parse(['c']), ctxWith(true, false)).tty, false);
  assert.equal(buildRequest(parse(['c']), ctxWith(false, true)).tty, false);
  assert.equal(buildRequest(parse(['c']), ctxWith(true, true)).cmd, undefined);
  assert.deepEqual(buildRequest(parse(['-u', 'app', 'c', '--', 'ls', '-l']), ctxWith(false, false)).cmd, ['ls', '-l']);
  assert.deepEqual(buildRequest(parse(['c', 'ls', '-l']), ctxWith(false, false)).cmd, ['ls', '-l']);
  const r = buildRequest(parse(['-u', 'app', '-w', '/srv', '-e', 'A=1', '-e', 'B=2', '--keep', '--rw-mounts', '--network', 'none', 'c']), ctxWith(false, false));
  assert.deepEqual([r.user, r.workdir, r.env, r.keep, r.rwMounts, r.network], ['app', '/srv', ['A=1', 'B=2'], true, true, 'none']);
  assert.throws(() => buildRequest(parse(['c', '--']), ctxWith(false, false)), /Nothing after "--"/);
  assert.throws(() => buildRequest(parse(['--detach-keys', 'ctrl-1', 'c']), ctxWith(false, false)), InvalidArgument);
});

function target(over: Partial<ContainerDetails> = {}): ContainerDetails {
  return {
    id: 'abc123',
    name: 'web_1',
    image: 'nginx',
    imageId: 'sha256:1',
    created: '',
    path: 'nginx',
    args: [],
    state: { status: 'exited', running: false, paused: false, restarting: false, oomKilled: false, dead: false, pid: 0, exitCode: 1, error: '', startedAt: '', finishedAt: '' },
    restartCount: 0,
    config: {
      hostname: 'abc',
      user: 'www',
      env: ['PATH=/bin', 'MODE=prod'],
      cmd: ['nginx'],
      entrypoint: null,
      workingDir: '/srv',
      labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'io.kubernetes.pod.name': 'p', 'team': 'a', 'io.porthole.owned': 'true' },
      tty: false,
      openStdin: false,
      healthcheck: { test: ['CMD', 'true'] },
      exposedPorts: ['80/tcp'],
    },
    hostConfig: {
      networkMode: 'shop_default',
      restartPolicy: { name: 'always', maximumRetryCount: 0 },
      binds: [],
      readonlyRootfs: false,
      privileged: false,
      capAdd: [],
      capDrop: [],
      securityOpt: [],
      usernsMode: '',
      pidMode: '',
      memory: 0,
      nanoCpus: 0,
      autoRemove: false,
    },
    mounts: [
      { type: 'volume', name: 'data', source: '/var/lib/docker/volumes/data/_data', destination: '/data', mode: 'z', rw: true },
      { type: 'bind', source: '/etc/site', destination: '/etc/nginx/conf.d', mode: '', rw: false },
      { type: 'tmpfs', source: '', destination: '/run', mode: '', rw: true },
    ],
    ports: [{ containerPort: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' }],
    raw: { Config: { Volumes: { '/data': {}, '/cache': {} } } },
    ...over,
  };
}

const request = (over: Partial<EnterRequest> = {}): EnterRequest & { cmd: string[] } => ({
  cmd: ['/bin/sh'],
  env: [],
  tty: false,
  capAdd: [],
  rwMounts: false,
  keep: false,
  ...over,
} as EnterRequest & { cmd: string[] });

test("the debug container keeps env, workdir, user, mounts (read-only) and network; never restart, health, ports, compose labels", () => {
  const s = debugContainerSpec(target(), 'sha256:snap', request({ cmd: ['nginx', '-t'] }), {});
  assert.equal(s.image, 'sha256:snap');
  assert.deepEqual([s.entrypoint, s.cmd], [['nginx'], ['-t']]);
  assert.deepEqual(s.env, ['PATH=/bin', 'MODE=prod']);
  assert.equal(s.user, 'www');
  assert.equal(s.workingDir, '/srv');
  assert.equal(s.hostConfig?.networkMode, 'shop_default');
  assert.deepEqual(s.hostConfig?.mounts, [
    { type: 'volume', source: 'data', target: '/data', readOnly: true },
    { type: 'bind', source: '/etc/site', target: '/etc/nginx/conf.d', readOnly: true },
  ]);
  // /run was a tmpfs (gets a fresh one); /cache is an image VOLUME the original had no mount for
  assert.deepEqual(s.hostConfig?.tmpfs, { '/run': '', '/cache': '' });
  assert.equal(s.healthcheckNone, true);
  assert.equal(s.hostConfig?.autoRemove, false);
  assert.equal((s.hostConfig as Record<string, unknown>).restartPolicy, undefined);
  assert.equal((s.hostConfig as Record<string, unknown>).portBindings, undefined);
  assert.equal(s.labels?.['com.docker.compose.project'], '');
  assert.equal(s.labels?.['com.docker.compose.service'], '');
  assert.equal(s.labels?.['io.kubernetes.pod.name'], '');
  assert.equal(s.labels?.['io.porthole.owned'], 'true');
  assert.equal(s.labels?.['io.porthole.target'], 'abc123');
  assert.equal(s.labels?.team, undefined, 'ordinary labels come from the image, untouched');
  assert.equal(s.openStdin && s.stdinOnce && s.attachStdin, true);
});

test('overrides: -u, -w, -e, --rw-mounts (a read-only original mount stays read-only), --network none, TTY', () => {
  const s = debugContainerSpec(target(), 'img', request({ user: '0', workdir: '/tmp', env: ['MODE=debug'], rwMounts: true, network: 'none', tty: true }), { TERM: 'screen' });
  assert.equal(s.user, '0');
  assert.equal(s.workingDir, '/tmp');
  assert.deepEqual(s.env, ['PATH=/bin', 'MODE=prod', 'MODE=debug', 'TERM=screen']);
  assert.deepEqual(s.hostConfig?.mounts?.map((m) => m.readOnly), [false, true]);
  assert.equal(s.hostConfig?.networkMode, 'none');
  assert.equal(s.tty, true);
});

test('labels: orchestrator keys blanked, our own win; repository names docker accepts; start failures as docker run codes', () => {
  assert.deepEqual(neutralLabels({ 'com.docker.swarm.task.id': 'x', 'a': 'b', 'io.porthole.session': 'old' }, { 'io.porthole.session': 'new' }), {
    'com.docker.swarm.task.id': '',
    'io.porthole.session': 'new',
  });
  assert.equal(snapshotRepo('My_Web.1'), 'porthole-snapshot/my_web.1');
  assert.equal(snapshotRepo('--'), 'porthole-snapshot/container');
  assert.equal(startFailureCode('OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown'), 127);
  assert.equal(startFailureCode('exec: "/etc": permission denied'), 126);
  assert.equal(startFailureCode('network shop_default not found'), undefined);
});
