import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Cleanup } from '../../src/cleanup.js';
import type { Context } from '../../src/context.js';
import type { ContainerDetails, EngineClient } from '../../src/engine/types.js';
import { EngineError, NotFound } from '../../src/errors.js';
import type { EnterRequest } from '../../src/enter/types.js';
import {
  INNER_SCRIPT,
  SETUP_SCRIPT,
  appendPath,
  explainStartFailure,
  missingCapabilityHint,
  processUser,
  statusUser,
  resolveUserSpec,
  sidecarNamespaces,
  sidecarSecurity,
  sidecarSpec,
  toolboxPathDirs,
  withToolbox,
} from '../../src/enter/toolbox.js';
import { busyboxFromBinTar, elfInfo, obtainToolbox, toolboxEntries } from '../../src/toolbox/build.js';
import { splitImageRef, toolboxImage, toolboxVolume } from '../../src/toolbox/image.js';
import { CAP_SYS_CHROOT, fileCapability, paxRecord, writeTar } from '../../src/toolbox/tar.js';

function target(overrides: { hostConfig?: Partial<ContainerDetails['hostConfig']>; config?: Partial<ContainerDetails['config']>; raw?: unknown; pid?: number } = {}): ContainerDetails {
  return {
    id: 'abc123',
    name: 'web',
    image: 'app',
    imageId: 'sha256:1',
    created: '',
    path: '/app',
    args: [],
    state: { status: 'running', running: true, paused: false, restarting: false, oomKilled: false, dead: false, pid: overrides.pid ?? 4242, exitCode: 0, error: '', startedAt: '', finishedAt: '' },
    restartCount: 0,
    config: { hostname: 'h', user: '', env: ['PATH=/usr/bin:/bin', 'APP=1'], cmd: null, entrypoint: ['/app'], workingDir: '/srv', labels: {}, tty: false, openStdin: false, exposedPorts: [], ...overrides.config },
    hostConfig: {
      networkMode: 'default', restartPolicy: { name: 'always', maximumRetryCount: 0 }, binds: [], readonlyRootfs: false, privileged: false,
      capAdd: [], capDrop: [], securityOpt: [], usernsMode: '', pidMode: '', memory: 0, nanoCpus: 0, autoRemove: false, ...overrides.hostConfig,
    },
    mounts: [],
    ports: [],
    raw: overrides.raw ?? { HostConfig: { IpcMode: 'private' } },
  };
}

/** The whole sentence the user sees: the message and the hint. */
const says = (pattern: RegExp) => (err: unknown) => pattern.test(`${(err as Error).message} ${(err as { hint?: string }).hint ?? ''}`);

const request = (r: Partial<EnterRequest> = {}): EnterRequest => ({ cmd: undefined, env: [], tty: false, capAdd: [], rwMounts: false, keep: false, ...r });

test('fileCapability is what setcap cap_sys_chroot+ep writes', () => {
  assert.equal(fileCapability([CAP_SYS_CHROOT]).toString('hex'), '0100000200000400000000000000000000000000');
});

test('paxRecord counts its own length, across a digit boundary too', () => {
  for (const size of [1, 80, 85, 86, 87, 95, 990, 995]) {
    const record = paxRecord('k', Buffer.alloc(size, 0x61));
    const declared = Number(record.toString('latin1').split(' ')[0]);
    assert.equal(declared, record.length, `value of ${size} bytes`);
  }
});

test('writeTar: GNU tar reads it back, with the xattr, links and modes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-tartest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const archive = writeTar([
    { path: 'a', type: 'dir', mode: 0o755 },
    { path: 'a/file', type: 'file', mode: 0o644, data: Buffer.from('hello') },
    { path: 'a/capped', type: 'file', mode: 0o755, data: Buffer.from('x'), xattrs: { 'security.capability': fileCapability([CAP_SYS_CHROOT]) } },
    { path: 'a/link', type: 'symlink', mode: 0o777, linkTarget: 'file' },
    { path: `deep/${'d'.repeat(90)}/${'f'.repeat(60)}`, type: 'file', mode: 0o600, data: Buffer.alloc(1000, 1) },
  ]);
  assert.equal(archive.length % 512, 0);
  writeFileSync(join(dir, 'x.tar'), archive);
  const listing = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvvf', join(dir, 'x.tar')], { encoding: 'utf8' });
  assert.match(listing, /^drwxr-xr-x .* a\/$/m);
  assert.match(listing, /^-rw-r--r-- .* 5 .* a\/file$/m);
  assert.match(listing, /^-rwxr-xr-x\* .* a\/capped$/m);
  assert.match(listing, /x: +20 security\.capability/);
  assert.match(listing, /^lrwxrwxrwx .* a\/link -> file$/m);
  assert.match(listing, /^-rw------- .* 1000 .* deep\/d{90}\/f{60}$/m);
  execFileSync('tar', ['-xf', join(dir, 'x.tar'), '-C', dir]);
  assert.equal(readFileSync(join(dir, 'a/file'), 'utf8'), 'hello');
});

test('elfInfo tells a static busybox from a dynamic program', () => {
  const busybox = elfInfo(readFileSync('/bin/busybox'));
  assert.equal(busybox?.static, true);
  assert.equal(busybox?.arch, process.arch === 'x64' ? 'amd64' : process.arch);
  assert.equal(elfInfo(readFileSync('/bin/ls'))?.static, false);
  assert.equal(elfInfo(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80))), undefined);
});

test('toolboxEntries: busybox, the capped chroot, one safe link per applet', () => {
  const entries = toolboxEntries(Buffer.from('bb'), ['sh', 'ls', 'busybox', '../evil', 'a/b', 'ls', '[[']);
  const paths = entries.map((e) => e.path);
  assert.ok(paths.includes('.porthole/bin/sh') && paths.includes('.porthole/bin/ls') && paths.includes('.porthole/bin/[['));
  assert.ok(!paths.some((p) => p.includes('evil') || p.endsWith('a/b')));
  assert.equal(paths.filter((p) => p === '.porthole/bin/ls').length, 1);
  const chroot = entries.find((e) => e.path === '.porthole/chroot')!;
  assert.ok(chroot.xattrs?.['security.capability']);
  assert.equal(entries.find((e) => e.path === '.porthole/bin/busybox')?.xattrs, undefined, 'only the chroot copy carries a capability');
});

test('resolveUserSpec follows docker: names and numbers, group from passwd or given', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n';
  const group = 'root:x:0:\nstaff:x:50:\n';
  assert.deepEqual(resolveUserSpec(undefined, undefined, undefined), { uid: 0, gid: 0, home: '/root' });
  assert.deepEqual(resolveUserSpec('root', undefined, undefined), { uid: 0, gid: 0, home: '/root' });
  assert.deepEqual(resolveUserSpec('app', passwd, group), { uid: 1000, gid: 1001, home: '/home/app' });
  assert.deepEqual(resolveUserSpec('1000', passwd, group), { uid: 1000, gid: 1001, home: '/home/app' });
  assert.deepEqual(resolveUserSpec('1000:7', passwd, group), { uid: 1000, gid: 7, home: '/home/app' });
  assert.deepEqual(resolveUserSpec('app:staff', passwd, group), { uid: 1000, gid: 50, home: '/home/app' });
  assert.deepEqual(resolveUserSpec('4242', undefined, undefined), { uid: 4242, gid: 0, home: '/' });
  assert.throws(() => resolveUserSpec('nobody', passwd, group), says(/no user "nobody".*-u UID/));
  assert.throws(() => resolveUserSpec('app:wheel', passwd, group), says(/no group "wheel"/));
});

test("sidecarSecurity: the target's capabilities plus --cap-add, and a sentence when they cannot work", () => {
  const root = { uid: 0, gid: 0, home: '/' };
  const s = sidecarSecurity(target({ hostConfig: { capAdd: ['NET_ADMIN'], capDrop: ['CAP_MKNOD'], securityOpt: ['apparmor=x'] } }), { capAdd: ['sys_ptrace'] }, root);
  assert.deepEqual(s, { capAdd: ['NET_ADMIN', 'SYS_PTRACE'], capDrop: ['MKNOD'], privileged: false, securityOpt: ['apparmor=x'] });
  assert.throws(() => sidecarSecurity(target({ hostConfig: { capDrop: ['ALL'] } }), { capAdd: [] }, root), says(/SYS_CHROOT.*--cap-add SYS_CHROOT/s));
  assert.doesNotThrow(() => sidecarSecurity(target({ hostConfig: { capDrop: ['ALL'] } }), { capAdd: ['SYS_CHROOT'] }, root));
  assert.doesNotThrow(() => sidecarSecurity(target({ hostConfig: { capDrop: ['ALL'], privileged: true } }), { capAdd: [] }, root));
  const nnp = target({ hostConfig: { securityOpt: ['no-new-privileges:true'] } });
  assert.doesNotThrow(() => sidecarSecurity(nnp, { capAdd: [] }, root));
  assert.throws(() => sidecarSecurity(nnp, { capAdd: [] }, { uid: 1000, gid: 1000, home: '/' }), says(/no-new-privileges.*-u 0/s));
});

test('sidecarNamespaces: PID and network always, IPC only when shared; where the target process is', () => {
  const plain = sidecarNamespaces(target());
  assert.deepEqual(plain, { pidMode: 'container:abc123', networkMode: 'container:abc123', targetPid: '1' });
  assert.equal(sidecarNamespaces(target({ raw: { HostConfig: { IpcMode: 'shareable' } } })).ipcMode, 'container:abc123');
  assert.equal(sidecarNamespaces(target({ raw: { HostConfig: { IpcMode: 'host' } } })).ipcMode, 'host');
  assert.equal(sidecarNamespaces(target({ hostConfig: { pidMode: 'host' }, pid: 777 })).targetPid, '777');
  assert.equal(sidecarNamespaces(target({ hostConfig: { pidMode: 'container:other' } })).targetPid, '');
});

test('PATH: the container first, then the toolbox through fd 9', () => {
  assert.equal(appendPath('/usr/bin:/bin', toolboxPathDirs(undefined, false)), '/usr/bin:/bin:/proc/self/fd/9/.porthole/bin');
  assert.equal(appendPath('', ['/x']), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/x');
  assert.deepEqual(toolboxPathDirs('/opt/tools/bin:relative', true), ['/proc/self/fd/9/opt/tools/bin', '/proc/self/fd/9/.porthole/bin']);
});

test('sidecarSpec: session labels, no restart policy, the target\'s namespaces and user, the internal env', () => {
  const spec = sidecarSpec(
    target({ config: { user: 'app' } }),
    request({ cmd: ['ls', '/'], env: ['APP=2'], capAdd: [] }),
    { uid: 1000, gid: 1001, home: '/home/app' },
    { capAdd: [], capDrop: [], privileged: false, securityOpt: [] },
    { image: 'porthole/toolbox:1', custom: false },
    {},
  );
  assert.equal(spec.labels!['io.porthole.owned'], 'true');
  assert.equal(spec.labels!['io.porthole.target'], 'abc123');
  assert.equal(spec.user, '1000:1001');
  assert.deepEqual(spec.cmd, ['ls', '/']);
  assert.equal(spec.hostConfig!.pidMode, 'container:abc123');
  assert.equal(spec.hostConfig!.mounts, undefined, 'the default toolbox needs no volume');
  assert.ok(spec.env!.includes('APP=2') && !spec.env!.includes('APP=1'), '-e wins over the target env');
  assert.ok(spec.env!.includes('HOME=/home/app'));
  assert.ok(spec.env!.includes('PORTHOLE_WORKDIR=/srv'));
  assert.ok(spec.env!.includes('PATH=/usr/bin:/bin:/proc/self/fd/9/.porthole/bin'));
  const custom = sidecarSpec(target(), request(), { uid: 0, gid: 0, home: '/root' }, { capAdd: [], capDrop: [], privileged: false, securityOpt: [] }, { image: 'mine', custom: true, volume: 'porthole-toolbox-1' }, {});
  assert.deepEqual(custom.hostConfig!.mounts, [{ type: 'volume', source: 'porthole-toolbox-1', target: '/.porthole', readOnly: true }]);
  assert.ok(custom.env!.some((e) => e.startsWith('PS1=')), 'an interactive session gets a prompt that says toolbox');
});

test('the scripts run under busybox sh without syntax errors', () => {
  for (const script of [SETUP_SCRIPT, INNER_SCRIPT]) execFileSync('/bin/busybox', ['sh', '-n', '-c', script]);
});

test('withToolbox appends the volume and PATH to a debug container spec', () => {
  const tb = { mounts: [{ type: 'volume' as const, source: 'v', target: '/.porthole', readOnly: true }], pathAddition: '/.porthole/bin', shell: '/.porthole/bin/sh' };
  const spec = withToolbox({ image: 'x', env: ['A=1', 'PATH=/bin'], hostConfig: { mounts: [{ type: 'bind', source: '/s', target: '/t', readOnly: true }] } }, tb);
  assert.deepEqual(spec.env, ['A=1', 'PATH=/bin:/.porthole/bin']);
  assert.equal(spec.hostConfig!.mounts!.length, 2);
  assert.deepEqual(withToolbox({ image: 'x' }, tb).env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/.porthole/bin']);
});

test('explainStartFailure never hands back the runtime\'s raw words alone', () => {
  const oci = 'OCI runtime create failed: container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: some odd thing: unknown';
  const e = explainStartFailure(oci, 'web');
  assert.match(e.message, /^The engine could not start the toolbox sidecar for web \(container init caused: some odd thing\)\.$/);
  assert.match(explainStartFailure('cannot join network of a non running container: abc', 'web').message, /web stopped before the toolbox could join it/);
  assert.match(explainStartFailure('apparmor failed to apply profile: write /proc/self/attr/exec: no such file', 'web').message, /AppArmor profile/);
});

test('toolbox image names: the env override, its volume, and the import split', () => {
  assert.equal(toolboxImage({}), 'porthole/toolbox:1');
  assert.equal(toolboxImage({ PORTHOLE_TOOLBOX_IMAGE: 'reg:5000/me/tb:2' }), 'reg:5000/me/tb:2');
  assert.deepEqual(splitImageRef('reg:5000/me/tb:2'), { repo: 'reg:5000/me/tb', tag: '2' });
  assert.deepEqual(splitImageRef('reg:5000/me/tb'), { repo: 'reg:5000/me/tb', tag: 'latest' });
  assert.equal(toolboxVolume('porthole/toolbox:1'), 'porthole-toolbox-1');
  assert.equal(toolboxVolume('Reg:5000/me/tb:2'), 'porthole-toolbox-reg-5000-me-tb-2');
});

test('missingCapabilityHint names the flag for tools that need more than the session has', () => {
  const plain = { capAdd: [], capDrop: [], privileged: false, securityOpt: [] };
  const root = { uid: 0, gid: 0, home: '/root' };
  assert.match(missingCapabilityHint(['strace', '-p', '1'], plain, root)!, /strace .* SYS_PTRACE .* add --cap-add SYS_PTRACE/);
  assert.match(missingCapabilityHint(['/usr/bin/gdb'], plain, root)!, /gdb/);
  assert.equal(missingCapabilityHint(['strace'], { ...plain, capAdd: ['SYS_PTRACE'] }, root), undefined);
  assert.equal(missingCapabilityHint(['strace'], { ...plain, privileged: true }, root), undefined);
  assert.equal(missingCapabilityHint(['ls'], plain, root), undefined);
  assert.equal(missingCapabilityHint(undefined, plain, root), undefined);
  assert.match(missingCapabilityHint(['strace'], { ...plain, capAdd: ['SYS_PTRACE'] }, { uid: 1000, gid: 1000, home: '/' })!, /non-root session never has.*-u 0 --cap-add SYS_PTRACE/);
});

test('busyboxFromBinTar finds busybox behind hard and symbolic links, and lists the applets', async () => {
  const elf = readFileSync('/bin/busybox');
  const archive = writeTar([
    { path: 'bin', type: 'dir', mode: 0o755 },
    { path: 'bin/[', type: 'file', mode: 0o755, data: elf },
    { path: 'bin/busybox', type: 'link', mode: 0o755, linkTarget: 'bin/[' },
    { path: 'bin/sh', type: 'link', mode: 0o755, linkTarget: 'bin/[' },
    { path: 'bin/ls', type: 'symlink', mode: 0o777, linkTarget: 'busybox' },
  ]);
  const found = await busyboxFromBinTar(Readable.from([archive]));
  assert.ok(found.busybox?.equals(elf));
  assert.deepEqual(found.applets.sort(), ['[', 'ls', 'sh']);
  const none = await busyboxFromBinTar(Readable.from([writeTar([{ path: 'bin/sh', type: 'file', mode: 0o755, data: Buffer.from('x') }])]));
  assert.equal(none.busybox, undefined);
});

/** An engine that answers only what the toolbox's pull path asks, recording what it was given. */
function pullEngine(opts: { pullFails?: string; bin: Buffer }) {
  const calls: string[] = [];
  let imported: Buffer | undefined;
  const engine = {
    async pullImage(ref: string) {
      calls.push(`pull ${ref}`);
      if (opts.pullFails) throw new EngineError(500, opts.pullFails);
    },
    async createContainer(spec: { image: string; labels?: Record<string, string> }) {
      calls.push(`create ${spec.image} owned=${spec.labels?.['io.porthole.owned']}`);
      return `c${calls.length}`;
    },
    async getArchive(id: string, path: string) {
      calls.push(`archive ${id} ${path}`);
      return { stat: {}, stream: Readable.from([opts.bin]) };
    },
    async removeContainer(id: string) {
      calls.push(`rm ${id}`);
    },
    async version() {
      return { arch: elfInfo(readFileSync('/bin/busybox'))!.arch };
    },
    async inspectImage() {
      throw new NotFound('No such image.');
    },
    async importImage(tar: Readable, o: { repo: string; tag: string }) {
      const chunks: Buffer[] = [];
      for await (const c of tar) chunks.push(c as Buffer);
      imported = Buffer.concat(chunks);
      calls.push(`import ${o.repo}:${o.tag}`);
      return 'sha256:new';
    },
    async listVolumes() {
      return [];
    },
  };
  return { engine: engine as unknown as EngineClient, calls, imported: () => imported };
}

function fakeCtx() {
  const notices: string[] = [];
  return { ctx: { env: {}, cleanup: new Cleanup(), notice: (m: string) => notices.push(m) } as unknown as Context, notices };
}

test('where the engine can pull, the toolbox is made from busybox:musl; the helper container is removed', async () => {
  const bin = writeTar([
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync('/bin/busybox') },
    { path: 'bin/sh', type: 'link', mode: 0o755, linkTarget: 'bin/busybox' },
    { path: 'bin/chroot', type: 'link', mode: 0o755, linkTarget: 'bin/busybox' },
  ]);
  const fake = pullEngine({ bin });
  const { ctx, notices } = fakeCtx();
  await obtainToolbox(ctx, fake.engine, 'porthole/toolbox:1');
  assert.deepEqual(fake.calls, [
    'pull busybox:musl',
    'create busybox:musl owned=true',
    'archive c2 /bin',
    'rm c2',
    'import porthole/toolbox:1',
    'create porthole/toolbox:1 owned=true',
    'rm c6',
  ]);
  assert.match(notices[0]!, /making it from busybox:musl/);
  const listing = fake.imported()!.toString('latin1');
  assert.match(listing, /SCHILY\.xattr\.security\.capability=/);
  assert.match(listing, /\.porthole\/bin\/chroot/);
});

test('where it cannot pull, the error says why and to run porthole toolbox build', async () => {
  const fake = pullEngine({ pullFails: 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host.', bin: Buffer.alloc(0) });
  const { ctx } = fakeCtx();
  await assert.rejects(
    obtainToolbox(ctx, fake.engine, 'porthole/toolbox:1'),
    says(/porthole\/toolbox:1 is not on this engine and could not be pulled \(Get .*no such host\).*porthole toolbox build/),
  );
  assert.deepEqual(fake.calls, ['pull busybox:musl']);
  const other = pullEngine({ pullFails: 'pull access denied.', bin: Buffer.alloc(0) });
  await assert.rejects(obtainToolbox(ctx, other.engine, 'registry.example/me/tb:2'), says(/registry\.example\/me\/tb:2 is not on this engine and could not be pulled \(pull access denied\)/));
  assert.deepEqual(other.calls, ['pull registry.example/me/tb:2']);
});

test("the main process's user: effective ids from /proc status, or the engine's top when not beside it", async () => {
  assert.equal(statusUser('Name:\tapp\nUid:\t0\t1000\t1000\t1000\nGid:\t0\t1001\t1001\t1001\n'), '1000:1001');
  assert.equal(statusUser('Name:\tapp\n'), undefined);
  const remote = target({ pid: 999_999_999 });
  const engine = { async top(id: string, args: string) {
    assert.equal(id, 'abc123');
    assert.equal(args, '-eo pid,uid,gid');
    return { titles: ['PID', 'UID', 'GID'], processes: [['12', '0', '0'], ['999999999', '65532', '65533']] };
  } } as unknown as EngineClient;
  assert.equal(await processUser(engine, remote), '65532:65533');
  const failing = { async top() { throw new Error('podman says no'); } } as unknown as EngineClient;
  assert.equal(await processUser(failing, remote), undefined);
  // This very process is not in a container named abc123: its /proc entry must not be taken for the target's.
  assert.equal(await processUser(failing, target({ pid: process.pid })), undefined);
});
