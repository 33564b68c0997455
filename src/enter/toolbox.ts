// The toolbox way into a container without a shell (distroless, FROM scratch, one static binary).
//
// Running target: a sidecar container from the toolbox image joins the target's PID and network namespaces (and
// its IPC namespace when the target shares it), with the target's capabilities, security options and user. Its
// first process is a small busybox script that:
//   1. opens the sidecar's own root directory as fd 9 (`exec 9</`): every process of the session inherits it,
//      so the toolbox's programs stay reachable as /proc/self/fd/9/.porthole/bin/... from anywhere;
//   2. chroots into /proc/<target pid>/root. Through the shared PID namespace that magic link is the target's
//      root, with the target's own mounts (its /proc, volumes, /etc/hosts) on it, so `ls /` and `cat /etc/...`
//      show the target's files and `ps` the target's processes;
//   3. execs the toolbox's static shell (or the user's command) inside that root, with PATH = the target's PATH
//      followed by /proc/self/fd/9/.porthole/bin. Inside the chroot /proc is the target's procfs, which shows
//      the same PID namespace, so /proc/self/fd/9 resolves in every process of the session.
// Nothing is written into the target: no symlink, no folder, no mount (its `docker diff` stays identical). The
// busybox is static and built with standalone applets, so it needs no file from the target's root.
//
// Who may do what (Linux rules the script has to live with):
//   - /proc/PID/root can be followed only by a process with the same uid/gid as PID, or with CAP_SYS_PTRACE;
//     the session therefore runs by default as the user the target's main process runs as (read from /proc or
//     docker top, so an entrypoint that switched users like gosu is followed), and root entering a non-root
//     target needs --cap-add SYS_PTRACE;
//   - chroot needs CAP_SYS_CHROOT, and docker drops every capability of a non-root process at exec; the toolbox
//     carries a copy of busybox with the file capability cap_sys_chroot+ep (/.porthole/chroot) for that case,
//     used only for the chroot itself: the shell after it is the plain busybox and holds no capability.
// When a rule bites, the script says which one and which flag helps, and exits 125 (porthole's own failure).
//
// The sidecar is created with autoRemove and a wait for its removal sent before it starts (as docker run --rm),
// and its removal is registered with ctx.cleanup too, for errors and signals.
//
// Stopped target: the snapshot way (./snapshot.ts's takeSnapshot, debugContainerSpec, runDebugContainer) with
// the toolbox volume mounted at /.porthole in the debug copy (never in the original) and /.porthole/bin at the
// end of its PATH; toolboxMountsFor() and withToolbox() are that hook.
import type { Context } from '../context.js';
import type { ContainerCreateSpec, ContainerDetails, EngineClient } from '../engine/types.js';
import { EngineError, Failure, InvalidArgument, NotFound, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { TOOLBOX_BIN, TOOLBOX_CHROOT, TOOLBOX_DIR, TOOLBOX_SHELL, toolboxImage } from '../toolbox/image.js';
import { runAttached } from './attach.js';
import { removeLeftover } from './remove.js';
import { sessionEnv } from './exec.js';
import { containerName, sessionLabels } from './session.js';
import type { EnterRequest } from './types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where the sidecar's root is seen from inside the chroot: fd 9, opened before the chroot. */
const FD_ROOT = '/proc/self/fd/9';

/** The setup script's exit code when the target's process vanished before the chroot. */
const TARGET_GONE = 124;

/** Runs in the sidecar, as the session's user; "$@" is the user's command (none: an interactive shell). */
export const SETUP_SCRIPT = `
fail() { echo "porthole: $*" >&2; exit 125; }
t=$PORTHOLE_TARGET_PID
if [ -z "$t" ]; then
  for d in /proc/[0-9]*; do
    case "$(cat "$d/cgroup" 2>/dev/null)" in *"$PORTHOLE_TARGET_ID"*) t=\${d#/proc/}; break;; esac
  done
  [ -n "$t" ] || fail "could not find the target's processes from the toolbox sidecar."
fi
exec 9</
if [ "$PORTHOLE_UID" = 0 ]; then ch=${TOOLBOX_BIN}/chroot; else ch=${TOOLBOX_CHROOT}; fi
if ! $ch /proc/$t/root ${FD_ROOT}${TOOLBOX_BIN}/true 2>/dev/null; then
  # The target's process is gone (it stopped as the sidecar joined it): porthole says so.
  [ -e /proc/$t/status ] || exit ${TARGET_GONE}
  if ! [ -d /proc/$t/root/ ]; then
    tu=?; tg=?
    while read -r k a b; do case $k in Uid:) tu=$a;; Gid:) tg=$a;; esac; done </proc/$t/status
    if [ "$PORTHOLE_UID" = 0 ]; then
      fail "the target's process runs as uid $tu, and root may look into another user's process only with the SYS_PTRACE capability: add --cap-add SYS_PTRACE, or enter as its user with -u $tu:$tg."
    fi
    fail "the target's process runs as uid $tu gid $tg, and a session as uid $PORTHOLE_UID gid $PORTHOLE_GID cannot look into it: enter as its user with -u $tu:$tg, or as root with -u 0 --cap-add SYS_PTRACE."
  fi
  nnp=0; bnd=0
  while read -r k a; do case $k in NoNewPrivs:) nnp=$a;; CapBnd:) bnd=$a;; esac; done </proc/self/status
  if [ "$PORTHOLE_UID" != 0 ] && [ "$nnp" = 1 ]; then
    fail "the target runs with no-new-privileges, which stops a non-root session from changing its root directory: enter as root with -u 0 (add --cap-add SYS_PTRACE if the target's process is not root)."
  fi
  if [ $(( 0x$bnd >> 18 & 1 )) = 0 ]; then
    fail "the sidecar may not change its root directory to the target's (the SYS_CHROOT capability is dropped): add --cap-add SYS_CHROOT."
  fi
  fail "the container's seccomp or AppArmor profile forbids chroot, and the toolbox sidecar runs under the same profile, so it cannot use the container's files as its root; read them with porthole ls, cat or cp instead."
fi
# The inner script travels in the environment, so the session's \`ps\` shows a short command line.
exec $ch /proc/$t/root ${FD_ROOT}${TOOLBOX_SHELL} -c 'i=$PORTHOLE_INNER; unset PORTHOLE_INNER; eval "$i"' sh "$@"
`;

/** Runs inside the target's root; "$@" is the user's command. */
export const INNER_SCRIPT = `
wd=$PORTHOLE_WORKDIR; explicit=$PORTHOLE_WORKDIR_EXPLICIT; tb=$PORTHOLE_TOOLBOX_CUSTOM
unset PORTHOLE_TARGET_PID PORTHOLE_TARGET_ID PORTHOLE_UID PORTHOLE_GID PORTHOLE_WORKDIR PORTHOLE_WORKDIR_EXPLICIT PORTHOLE_TOOLBOX_CUSTOM
if ! cd "$wd" 2>/dev/null; then
  [ -n "$explicit" ] && { echo "porthole: there is no directory $wd in the container." >&2; exit 125; }
  cd /
fi
[ $# -eq 0 ] && exec ${FD_ROOT}${TOOLBOX_SHELL}
if ! p=$(command -v -- "$1" 2>/dev/null); then
  case $1 in
  -*|*/*|*[!A-Za-z0-9_.+-]*) echo "porthole: $1: no such command in the container or in the toolbox\${tb:+ $tb}." >&2;;
  *) echo "porthole: $1: no such command in the container or in the toolbox\${tb:+ $tb}; \\\`porthole toolbox build --with $1\\\` adds it to porthole's toolbox\${tb:+ (used without --toolbox)}." >&2;;
  esac
  exit 127
fi
# A dynamic program of the toolbox looks for its loader in the container's root: say so, rather than "not found".
case $p in ${FD_ROOT}/*)
  b=${FD_ROOT}${TOOLBOX_BIN}/busybox
  if [ "$($b head -c 4 "$p" 2>/dev/null)" = "$(printf '\\177ELF')" ]; then
    l=$($b head -c 4096 "$p" | $b tr -c 'A-Za-z0-9/._+-' '\n' | $b grep -m1 -E '^/([A-Za-z0-9._+-]+/)*ld-[A-Za-z0-9._+-]*[.]so([.][0-9]+)*$')
    if [ -n "$l" ] && ! [ -e "$l" ]; then
      echo "porthole: $1 in the toolbox\${tb:+ $tb} is dynamically linked and its loader $l is not in the container, so it cannot run there; \\\`porthole toolbox build --with $1\\\` carries a program with its loader and libraries." >&2
      exit 126
    fi
  fi;;
esac
exec "$@"
`;

export interface SessionUser {
  uid: number;
  gid: number;
  home: string;
}

/** docker's user spec (`name`, `uid`, `name:group`, `uid:gid`; empty is root) resolved in the target's own files. */
export function resolveUserSpec(spec: string | undefined, passwd: string | undefined, group: string | undefined): SessionUser {
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2);
  const entries = (passwd ?? '').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 7 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!));
  let uid: number;
  let gid = 0;
  let home = '/';
  const user = userPart || '0';
  const entry = /^\d+$/.test(user) ? entries.find((f) => Number(f[2]) === Number(user)) : entries.find((f) => f[0] === user);
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
  } else if (/^\d+$/.test(user) || user === 'root') {
    uid = user === 'root' ? 0 : Number(user);
    if (uid === 0) home = '/root';
  } else {
    throw new InvalidArgument(`There is no user "${escapeName(user)}" in the container's /etc/passwd.`, 'Give a numeric id instead: -u UID[:GID].');
  }
  if (groupPart) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = (group ?? '').split('\n').map((l) => l.split(':')).find((f) => f.length >= 3 && f[0] === groupPart && /^\d+$/.test(f[2]!));
      if (!g) throw new InvalidArgument(`There is no group "${escapeName(groupPart)}" in the container's /etc/group.`, 'Give a numeric id instead: -u UID:GID.');
      gid = Number(g[2]);
    }
  }
  return { uid, gid, home };
}

async function sessionUser(engine: EngineClient, target: ContainerDetails, spec: string | undefined): Promise<SessionUser> {
  if (!spec || /^\d+:\d+$/.test(spec) || spec === '0' || spec === 'root') return resolveUserSpec(spec, undefined, undefined);
  const { readContainerFile } = await import('./choose-shell.js');
  const [passwd, group] = await Promise.all([
    readContainerFile(engine, target.id, '/etc/passwd').catch(() => undefined),
    spec.includes(':') && !/:\d+$/.test(spec) ? readContainerFile(engine, target.id, '/etc/group').catch(() => undefined) : undefined,
  ]);
  return resolveUserSpec(spec, passwd, group);
}

function capName(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

export interface SidecarSecurity {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  securityOpt: string[];
}

/**
 * The sidecar's capabilities and security options: the target's, plus --cap-add, and no more. Throws with the
 * flag that helps when they cannot work at all (checked here, before anything is created).
 */
export function sidecarSecurity(target: ContainerDetails, request: Pick<EnterRequest, 'capAdd'>, user: SessionUser): SidecarSecurity {
  const h = target.hostConfig;
  const capAdd = [...new Set([...h.capAdd, ...request.capAdd].map(capName))];
  const capDrop = [...new Set(h.capDrop.map(capName))].filter((c) => !request.capAdd.map(capName).includes(c));
  const security: SidecarSecurity = { capAdd, capDrop, privileged: h.privileged, securityOpt: [...h.securityOpt] };
  if (h.privileged) return security;
  const chrootDropped = (capDrop.includes('ALL') || capDrop.includes('SYS_CHROOT')) && !capAdd.includes('SYS_CHROOT') && !capAdd.includes('ALL');
  if (chrootDropped) {
    throw new Unsupported(
      `${escapeName(target.name)} runs without the SYS_CHROOT capability, and the toolbox needs it to use the container's files as its root.`,
      'Add --cap-add SYS_CHROOT (the sidecar gets it, the container does not).',
    );
  }
  const nnp = h.securityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o));
  if (nnp && user.uid !== 0) {
    throw new Unsupported(
      `${escapeName(target.name)} runs with no-new-privileges, which stops a non-root session from changing its root directory.`,
      'Enter as root with -u 0 (add --cap-add SYS_PTRACE if its process does not run as root).',
    );
  }
  return security;
}

/** Tools that need a capability docker does not give by default, and that one. */
const TOOL_CAPABILITIES: Record<string, string> = {
  strace: 'SYS_PTRACE',
  ltrace: 'SYS_PTRACE',
  gdb: 'SYS_PTRACE',
  gdbserver: 'SYS_PTRACE',
  perf: 'SYS_ADMIN',
  nsenter: 'SYS_ADMIN',
  mount: 'SYS_ADMIN',
  iptables: 'NET_ADMIN',
  ip6tables: 'NET_ADMIN',
  tc: 'NET_ADMIN',
};

/** What docker gives a container's root unless told otherwise. */
const DOCKER_DEFAULT_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

/**
 * After a command failed: when it is a tool known to need a capability the session did not have, the sentence
 * that says which flag to add (a non-root session has no capability at all, whatever the sidecar holds).
 */
export function missingCapabilityHint(cmd: string[] | undefined, security: SidecarSecurity, user: SessionUser): string | undefined {
  const tool = cmd?.[0]?.replace(/^.*\//, '');
  const needed = tool ? TOOL_CAPABILITIES[tool] : undefined;
  if (!needed || security.privileged) return undefined;
  if (user.uid !== 0) {
    return `porthole: if ${tool} failed for lack of permission: it needs the ${needed} capability, which a non-root session never has; enter as root with -u 0 --cap-add ${needed}.`;
  }
  const has = security.capAdd.includes('ALL') || security.capAdd.includes(needed) || (DOCKER_DEFAULT_CAPS.includes(needed) && !security.capDrop.includes(needed) && !security.capDrop.includes('ALL'));
  return has ? undefined : `porthole: if ${tool} failed for lack of permission: it needs the ${needed} capability, which the container does not have; add --cap-add ${needed}.`;
}

/** Namespaces to join: PID and network always; IPC only when the target shares it (docker refuses otherwise). */
export function sidecarNamespaces(target: ContainerDetails): { pidMode: string; networkMode: string; ipcMode?: string; targetPid: string } {
  const raw = (target.raw ?? {}) as { HostConfig?: { IpcMode?: string } };
  const ipc = raw.HostConfig?.IpcMode ?? '';
  const ipcMode = ipc === 'shareable' ? `container:${target.id}` : ipc === 'host' || ipc.startsWith('container:') ? ipc : undefined;
  const pidMode = target.hostConfig.pidMode;
  // The target's main process: PID 1 of its own namespace; in the host's, its host PID; otherwise found by cgroup.
  const targetPid = !pidMode || pidMode === 'private' ? '1' : pidMode === 'host' ? String(target.state.pid) : '';
  return { pidMode: `container:${target.id}`, networkMode: `container:${target.id}`, ...(ipcMode ? { ipcMode } : {}), targetPid };
}

function envMap(entries: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq > 0) map.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return map;
}

/** PATH with the toolbox's directories after the container's own, so its own programs win. */
export function appendPath(path: string | undefined, additions: string[]): string {
  const parts = (path || DEFAULT_PATH).split(':').filter(Boolean);
  for (const a of additions) if (!parts.includes(a)) parts.push(a);
  return parts.join(':');
}

/** The toolbox's directories as seen from inside the chroot (through fd 9). */
export function toolboxPathDirs(imagePath: string | undefined, customImage: boolean): string[] {
  const dirs = customImage ? (imagePath || DEFAULT_PATH).split(':').filter((d) => d.startsWith('/') && d !== TOOLBOX_BIN) : [];
  return [...dirs, TOOLBOX_BIN].map((d) => `${FD_ROOT}${d}`);
}

/** Turns an engine's refusal to start the sidecar into a sentence; never the runtime's raw words alone. */
export function explainStartFailure(message: string, targetName: string): Failure {
  const name = escapeName(targetName);
  if (/is not running|cannot join network|joining .*namespace|no such process|restarting/i.test(message)) {
    return new Failure(`${name} stopped before the toolbox could join it.`, 'Run `porthole shell` again: a stopped container is entered through a snapshot.');
  }
  if (/apparmor/i.test(message)) {
    return new Failure(`The engine could not give the toolbox sidecar ${name}'s AppArmor profile.`, 'Check that the profile is loaded (aa-status) on the engine host.');
  }
  if (/seccomp/i.test(message)) {
    return new Failure(`The engine could not give the toolbox sidecar ${name}'s seccomp profile.`, "Check the profile named in the container's security options.");
  }
  const reason = message
    .replace(/^.*?OCI runtime (?:create|start|exec) failed:\s*/i, '')
    .replace(/\b[\w./-]+\.go:\d+:\s*/g, '')
    .replace(/starting container process caused:?\s*/gi, '')
    .replace(/:\s*unknown\.?$/i, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.$/, '');
  return new Failure(`The engine could not start the toolbox sidecar for ${name} (${escapeName(reason || 'no reason given')}).`, 'Run again with --debug, or check the engine log.');
}

export interface ToolboxMounts {
  /** Add to the debug container's hostConfig.mounts: the toolbox volume, read-only, at /.porthole. */
  mounts: { type: 'volume'; source: string; target: string; readOnly: boolean }[];
  /** Append to PATH (after the container's own directories). */
  pathAddition: string;
  /** A static shell to run when the container has none. */
  shell: string;
}

/**
 * The hook for the snapshot way (and for sidecars from a custom --toolbox image): a read-only volume with the
 * toolbox's static busybox, filled from porthole/toolbox:1 on first use. Throws the "run porthole toolbox build"
 * error when the toolbox image is missing.
 */
export async function toolboxMountsFor(ctx: Context): Promise<ToolboxMounts> {
  const engine = await ctx.engine();
  const { ensureToolboxVolume } = await import('../toolbox/build.js');
  const volume = await ensureToolboxVolume(ctx, engine, toolboxImage(ctx.env));
  return {
    mounts: [{ type: 'volume', source: volume, target: TOOLBOX_DIR, readOnly: true }],
    pathAddition: TOOLBOX_BIN,
    shell: TOOLBOX_SHELL,
  };
}

/** Applies toolboxMountsFor()'s result to a debug container's specification (its env's PATH and its mounts). */
export function withToolbox(spec: ContainerCreateSpec, toolbox: ToolboxMounts): ContainerCreateSpec {
  const env = [...(spec.env ?? [])];
  const last = env.map((e) => e.startsWith('PATH=')).lastIndexOf(true);
  const path = appendPath(last >= 0 ? env[last]!.slice(5) : undefined, [toolbox.pathAddition]);
  if (last >= 0) env[last] = `PATH=${path}`;
  else env.push(`PATH=${path}`);
  const hostConfig = { ...spec.hostConfig, mounts: [...(spec.hostConfig?.mounts ?? []), ...toolbox.mounts] };
  return { ...spec, env, hostConfig };
}


function removeQuietly(engine: EngineClient, id: string): Promise<void> {
  return removeLeftover(id, () => engine.removeContainer(id, { force: true }), engine.endpoint);
}

/** The sidecar's specification for a running target (pure: everything it needs is passed in). */
export function sidecarSpec(
  target: ContainerDetails,
  request: EnterRequest,
  user: SessionUser,
  security: SidecarSecurity,
  toolbox: { image: string; custom: boolean; imagePath?: string; volume?: string },
  userEnv: NodeJS.ProcessEnv,
): ContainerCreateSpec {
  const ns = sidecarNamespaces(target);
  const env = envMap(target.config.env);
  if (!env.has('HOME')) env.set('HOME', user.home);
  for (const [k, v] of envMap(sessionEnv(request, userEnv))) env.set(k, v);
  env.set('PATH', appendPath(env.get('PATH'), toolboxPathDirs(toolbox.imagePath, toolbox.custom)));
  if (!request.cmd && !env.has('PS1')) env.set('PS1', '(toolbox) \\w \\$ ');
  env.set('PORTHOLE_TARGET_PID', ns.targetPid);
  env.set('PORTHOLE_TARGET_ID', target.id);
  env.set('PORTHOLE_UID', String(user.uid));
  env.set('PORTHOLE_GID', String(user.gid));
  env.set('PORTHOLE_WORKDIR', request.workdir ?? (target.config.workingDir || '/'));
  env.set('PORTHOLE_WORKDIR_EXPLICIT', request.workdir ? '1' : '');
  env.set('PORTHOLE_INNER', INNER_SCRIPT);
  if (toolbox.custom) env.set('PORTHOLE_TOOLBOX_CUSTOM', toolbox.image);
  const h = target.hostConfig;
  return {
    name: containerName('toolbox sidecar', target.name),
    image: toolbox.image,
    entrypoint: [TOOLBOX_SHELL, '-c', SETUP_SCRIPT, 'porthole-toolbox'],
    cmd: request.cmd ?? [],
    env: [...env].map(([k, v]) => `${k}=${v}`),
    user: `${user.uid}:${user.gid}`,
    workingDir: '/',
    labels: sessionLabels(target.id),
    tty: request.tty,
    openStdin: true,
    stdinOnce: true,
    attachStdin: true,
    attachStdout: true,
    attachStderr: true,
    healthcheckNone: true,
    hostConfig: {
      pidMode: ns.pidMode,
      networkMode: ns.networkMode,
      ...(ns.ipcMode ? { ipcMode: ns.ipcMode } : {}),
      capAdd: security.capAdd,
      capDrop: security.capDrop,
      privileged: security.privileged,
      securityOpt: security.securityOpt,
      ...(h.usernsMode ? { usernsMode: h.usernsMode } : {}),
      ...(toolbox.volume ? { mounts: [{ type: 'volume', source: toolbox.volume, target: TOOLBOX_DIR, readOnly: true }] } : {}),
      autoRemove: true,
    },
  };
}

async function toolboxImageFor(ctx: Context, engine: EngineClient, request: EnterRequest): Promise<{ image: string; custom: boolean; imagePath?: string; volume?: string }> {
  const ownImage = toolboxImage(ctx.env);
  const image = request.toolboxImage ?? ownImage;
  const custom = image !== ownImage;
  if (!custom) return { image, custom };
  let inspected;
  try {
    inspected = await engine.inspectImage(image);
  } catch (err) {
    if (err instanceof NotFound) {
      throw new NotFound(`There is no image ${escapeName(image)} on this engine.`, 'Pull or build it first, or leave out --toolbox to use porthole\'s own toolbox.');
    }
    throw err;
  }
  // A custom image brings its programs; porthole's static busybox (shell, chroot) comes from the toolbox volume.
  const { ensureToolboxVolume } = await import('../toolbox/build.js');
  const volume = await ensureToolboxVolume(ctx, engine, ownImage);
  const imagePath = envMap(inspected.config.env).get('PATH');
  return { image, custom, volume, ...(imagePath ? { imagePath } : {}) };
}

/** Creates the sidecar, its removal registered first, so a signal during the request still removes it. */
async function createSidecar(ctx: Context, engine: EngineClient, spec: ContainerCreateSpec): Promise<string> {
  const create = engine.createContainer(spec);
  const drop = ctx.cleanup.add('remove the toolbox sidecar', async () => {
    const id = await create.catch(() => undefined);
    if (id) await removeQuietly(engine, id);
  });
  try {
    return await create;
  } catch (err) {
    drop();
    const unknownCap = err instanceof EngineError && /unknown capability:?\s*"?([^"]+)"?/i.exec(err.message);
    if (unknownCap) throw new InvalidArgument(`--cap-add ${escapeName(unknownCap[1]!.replace(/^CAP_/, ''))}: the engine knows no such capability.`);
    throw err;
  }
}

/** uid:gid (effective) from /proc/PID/status text. */
export function statusUser(status: string): string | undefined {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  return uid && gid ? `${uid}:${gid}` : undefined;
}

/**
 * uid:gid of the target's main process: from this machine's /proc when porthole runs beside the engine (the
 * process's cgroup names the container, so a PID from another machine is never mistaken for it), else from
 * the engine's view of the host (docker top); undefined when neither can tell.
 */
export async function processUser(engine: EngineClient, target: ContainerDetails): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const hostPid = target.state.pid;
  if (hostPid > 0) {
    const [cgroup, status] = await Promise.all([readFile(`/proc/${hostPid}/cgroup`, 'utf8').catch(() => ''), readFile(`/proc/${hostPid}/status`, 'utf8').catch(() => '')]);
    const local = cgroup.includes(target.id) ? statusUser(status) : undefined;
    if (local) return local;
  }
  const top = await engine.top(target.id, '-eo pid,uid,gid').catch(() => undefined);
  if (!top) return undefined;
  const [pid, uid, gid] = ['PID', 'UID', 'GID'].map((t) => top.titles.indexOf(t));
  const row = top.processes.find((p) => Number(p[pid!]) === target.state.pid);
  return row && /^\d+$/.test(row[uid!] ?? '') && /^\d+$/.test(row[gid!] ?? '') ? `${row[uid!]}:${row[gid!]}` : undefined;
}

/** A running target: the sidecar, attached before start; resolves with the session's exit code. */
async function enterRunning(ctx: Context, target: ContainerDetails, request: EnterRequest): Promise<number> {
  const engine = await ctx.engine();
  // Without -u: the user the container's main process really runs as (an entrypoint may have switched, as gosu
  // does), which is the one Linux lets look into it; the configured user when the engine cannot tell.
  const [configured, running, toolbox] = await Promise.all([
    sessionUser(engine, target, request.user ?? target.config.user),
    request.user === undefined ? processUser(engine, target) : undefined,
    toolboxImageFor(ctx, engine, request),
  ]);
  let user = configured;
  if (running && running !== `${configured.uid}:${configured.gid}`) {
    const [uid, gid] = running.split(':').map(Number) as [number, number];
    user = { uid, gid, home: uid === configured.uid ? configured.home : uid === 0 ? '/root' : '/' };
  }
  const security = sidecarSecurity(target, request, user);
  const spec = sidecarSpec(target, request, user, security, toolbox, ctx.env);
  if (!request.cmd) {
    const why = request.toolboxImage ? `a toolbox session in ${escapeName(target.name)}` : `${escapeName(target.name)} has no shell of its own`;
    ctx.notice(`porthole: ${why}: this shell and its tools come from ${escapeName(toolbox.image)}; / is the container's.`);
  }

  let id: string;
  try {
    id = await createSidecar(ctx, engine, spec);
  } catch (err) {
    if (err instanceof NotFound && !toolbox.custom && /no such image/i.test(err.message)) {
      const { obtainToolbox } = await import('../toolbox/build.js');
      await obtainToolbox(ctx, engine, toolbox.image);
      id = await createSidecar(ctx, engine, spec);
    } else if (err instanceof EngineError && (await stoppedMeanwhile(engine, target))) {
      return enterToolbox(ctx, await engine.inspectContainer(target.id), request);
    } else throw err;
  }
  const attached = await engine.attachContainer(id, { stdin: true });
  // As docker run --rm: the engine removes the sidecar when it exits, and the wait, sent before the start,
  // answers with the exit code once it is gone (so nothing of the session is left when porthole returns).
  const waited = engine.waitContainer(id, 'removed');
  waited.catch(() => undefined);
  try {
    await engine.startContainer(id);
  } catch (err) {
    attached.socket.destroy();
    // It stopped (or a restart loop caught it) between the look and the start: a snapshot holds still.
    if (err instanceof EngineError && (await stoppedMeanwhile(engine, target))) {
      return enterToolbox(ctx, await engine.inspectContainer(target.id), request);
    }
    if (err instanceof EngineError || err instanceof NotFound) throw explainStartFailure(err.message, target.name);
    throw err;
  }
  const outcome = await runAttached(ctx, attached, {
    tty: request.tty,
    resize: (rows, cols) => engine.resizeContainer(id, rows, cols),
    ...(request.detachKeys ? { detachKeys: request.detachKeys } : {}),
    exited: () => waited,
  });
  if (outcome.detached) {
    ctx.notice('\r\nporthole: detached; the toolbox session ends now.');
    return 0;
  }
  let code: number;
  try {
    code = (await waited).statusCode;
  } catch (err) {
    if (err instanceof NotFound) throw new Failure('The toolbox sidecar went away before porthole could read its exit code.');
    throw err;
  }
  if (code === TARGET_GONE && (await stoppedMeanwhile(engine, target))) {
    const now = await engine.inspectContainer(target.id);
    // Typed-ahead keys are all a TTY session can lose; piped input may have gone to the sidecar, so ask instead.
    if (request.tty) {
      ctx.notice(`porthole: ${escapeName(target.name)} stopped as the toolbox joined it; working in a snapshot instead.`);
      return enterToolbox(ctx, now, request);
    }
    throw new Failure(`${escapeName(target.name)} stopped as the toolbox joined it.`, 'Run the command again: a stopped container is entered through a snapshot.');
  }
  if (code === 137) {
    // The PID namespace's init died: the kernel killed every process in it, the session included.
    const now = await engine.inspectContainer(target.id).catch(() => undefined);
    if (!now?.state.running) ctx.notice(`porthole: ${escapeName(target.name)} stopped, and that ended the session.`);
  } else if (code !== 0 && code !== 125 && code !== 126 && code !== 127) {
    const hint = missingCapabilityHint(request.cmd, security, user);
    if (hint) ctx.notice(hint);
  }
  return code;
}

/** A stopped target: a snapshot with the toolbox volume in the debug copy, its own files as the root. */
async function enterStopped(ctx: Context, target: ContainerDetails, request: EnterRequest): Promise<number> {
  if (request.toolboxImage && request.toolboxImage !== toolboxImage(ctx.env)) {
    throw new Unsupported(
      `A --toolbox image can join only a running container; ${escapeName(target.name)} is not running.`,
      `Leave out --toolbox: porthole brings its own toolbox into a snapshot of it.`,
    );
  }
  const engine = await ctx.engine();
  const toolbox = await toolboxMountsFor(ctx);
  const { takeSnapshot, debugContainerSpec, runDebugContainer } = await import('./snapshot.js');
  ctx.notice(
    target.isImage
      ? `porthole: ${escapeName(target.name)} is an image without a shell: working in a throwaway container made from it (its entrypoint not run), with the toolbox's tools in ${TOOLBOX_BIN}; it is removed afterwards.`
      : `porthole: ${escapeName(target.name)} is not running and has no shell: working in a snapshot of it, with the toolbox's tools in ${TOOLBOX_BIN}. ` +
          'Changes you make stay in the copy; the original is not touched.',
  );
  const snapshot = await takeSnapshot(ctx, engine, target, { keep: request.keep });
  const cmd = request.cmd ?? [toolbox.shell];
  const spec = withToolbox(debugContainerSpec(target, snapshot.id, { ...request, cmd }, ctx.env), toolbox);
  const code = await runDebugContainer(ctx, engine, spec, request);
  if (snapshot.name) ctx.notice(`porthole: kept the snapshot image ${snapshot.name} (remove it with \`docker rmi ${snapshot.name}\`).`);
  return code;
}

/** The toolbox way in (an EnterWay): a sidecar for a running target, a snapshot with the tools for a stopped one. */
export async function enterToolbox(ctx: Context, target: ContainerDetails, request: EnterRequest): Promise<number> {
  if (target.state.paused) {
    throw new Unsupported(`${escapeName(target.name)} is paused, and porthole never unpauses a container.`, `Run \`docker unpause ${escapeName(target.name)}\` first if you mean to.`);
  }
  if (isRunning(target)) return enterRunning(ctx, target, request);
  return enterStopped(ctx, target, request);
}

/** Running and holding still: a crash-looping (restarting) container is entered like a stopped one. */
function isRunning(target: ContainerDetails): boolean {
  return target.state.running && !target.state.restarting && target.state.status !== 'restarting';
}

/** Whether the target is no longer running (steadily) now, after the engine refused to join it. */
async function stoppedMeanwhile(engine: EngineClient, target: ContainerDetails): Promise<boolean> {
  const now = await engine.inspectContainer(target.id).catch(() => undefined);
  return !!now && !now.state.paused && !isRunning(now);
}
