// `porthole net` where the container's processes are not visible here (a tcp:// or ssh:// engine on another
// machine, porthole in another PID namespace): a toolbox sidecar that shares the container's network and PID
// namespaces reads the same files the host way reads (/proc/net/* of that network namespace, the fd tables of
// the container's processes, their command lines) and prints them; porthole parses them here as it parses its own
// /proc. Nothing runs in the container and nothing is written to it; the sidecar is removed however porthole ends.
import type { Context } from '../context.js';
import type { ContainerCreateSpec, ContainerDetails, EngineClient } from '../engine/types.js';
import { Failure, NotFound, Unsupported } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { TOOLBOX_SHELL, toolboxImage } from '../toolbox/image.js';
import { removeLeftover } from './remove.js';
import { containerName, sessionLabels } from './session.js';

/** The /proc/net files `net` reads, as the host way names them. */
export const NET_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'route', 'dev', 'fib_trie', 'if_inet6'] as const;

/**
 * Runs in the sidecar (busybox, as root with SYS_PTRACE to read other users' fd tables). Each /proc/net file goes
 * out base64-encoded on one line (socket paths may hold newlines); then `ps` (one line per process, control
 * characters already made '?') and `ls -l` of every fd table, parsed strictly.
 */
export const NET_SCRIPT = `
for f in ${NET_FILES.join(' ')}; do printf 'F %s ' "$f"; base64 -w 0 "/proc/net/$f" 2>/dev/null; echo; done
echo '@@ps'
ps -o pid,args 2>/dev/null
echo '@@fd'
ls -l /proc/[0-9]*/fd/ 2>/dev/null
`;

export interface SidecarNetView {
  files: Record<string, string>;
  /** container PID -> command line, for the container's processes (the sidecar's own left out). */
  commands: Map<number, string>;
  /** socket inode -> container PID of the first process holding it (lowest PID first). */
  socketPids: Map<number, number>;
}

/** Parses the sidecar's output (pure, for tests). `ownPids`: the sidecar's processes, left out. */
export function parseSidecarOutput(text: string): SidecarNetView {
  const files: Record<string, string> = {};
  const commands = new Map<number, string>();
  const socketPids = new Map<number, number>();
  let section: 'files' | 'ps' | 'fd' = 'files';
  let pid: number | undefined;
  const sidecar = new Set<number>();
  for (const line of text.split('\n')) {
    if (line === '@@ps') section = 'ps';
    else if (line === '@@fd') section = 'fd';
    else if (section === 'files') {
      const m = /^F ([a-z0-9_]+) ([A-Za-z0-9+/=]*)$/.exec(line);
      if (m && (NET_FILES as readonly string[]).includes(m[1]!)) files[m[1]!] = Buffer.from(m[2]!, 'base64').toString('utf8');
    } else if (section === 'ps') {
      const m = /^\s*(\d+)\s(.*)$/.exec(line);
      if (!m) continue;
      const command = m[2]!.trim();
      // The sidecar's own processes: its shell running this script, and ps / ls.
      if (command.includes(`${TOOLBOX_SHELL} -c`) || command === 'ps -o pid,args' || command.startsWith('ls -l /proc/')) sidecar.add(Number(m[1]));
      else commands.set(Number(m[1]), command);
    } else {
      const header = /^\/proc\/(\d+)\/fd\/?:$/.exec(line);
      if (header) {
        pid = Number(header[1]);
        continue;
      }
      const socket = /^l\S+\s+\d+\s+\S+\s+\S+\s+\d+\s.*\s\d+ -> socket:\[(\d+)\]$/.exec(line);
      if (socket && pid !== undefined && !sidecar.has(pid) && commands.has(pid)) {
        const inode = Number(socket[1]);
        const held = socketPids.get(inode);
        if (held === undefined || pid < held) socketPids.set(inode, pid);
      }
    }
  }
  return { files, commands, socketPids };
}

/** Reads the container's network through a toolbox sidecar; needs the toolbox image (made when it can be). */
export async function readNetThroughSidecar(ctx: Context, engine: EngineClient, target: ContainerDetails): Promise<SidecarNetView> {
  if (target.state.paused) {
    throw new Unsupported(`${escapeName(target.name)} is paused, and porthole never unpauses a container.`, `Run \`docker unpause ${escapeName(target.name)}\` first if you mean to.`);
  }
  const image = toolboxImage(ctx.env);
  const spec: ContainerCreateSpec = {
    name: containerName('toolbox sidecar', target.name),
    image,
    entrypoint: [TOOLBOX_SHELL, '-c', NET_SCRIPT],
    cmd: [],
    user: '0:0',
    workingDir: '/',
    labels: sessionLabels(target.id),
    healthcheckNone: true,
    attachStdout: true,
    attachStderr: true,
    hostConfig: { pidMode: `container:${target.id}`, networkMode: `container:${target.id}`, capAdd: ['SYS_PTRACE'], autoRemove: false },
  };
  const create = () => engine.createContainer(spec);
  let pending = create();
  const drop = ctx.cleanup.add('remove the net reader sidecar', async () => {
    const id = await pending.catch(() => undefined);
    if (id) await removeLeftover(id, () => engine.removeContainer(id, { force: true }), engine.endpoint);
  });
  try {
    let id: string;
    try {
      id = await pending;
    } catch (err) {
      if (!(err instanceof NotFound && /no such image/i.test(err.message))) throw err;
      const { obtainToolbox } = await import('../toolbox/build.js');
      await obtainToolbox(ctx, engine, image);
      pending = create();
      id = await pending;
    }
    // Attached before the start, as docker run does: the output comes straight from the sidecar's stdio, all of
    // it (the log files can lag behind the exit).
    const attached = await engine.attachContainer(id, { stdin: false });
    const { demux } = await import('../engine/stdio.js');
    const { PassThrough } = await import('node:stream');
    const raw = new PassThrough();
    if (attached.head.length) raw.write(attached.head);
    attached.socket.pipe(raw);
    const streams = demux(raw);
    const chunks: Buffer[] = [];
    streams.stdout.on('data', (c: Buffer) => chunks.push(c));
    streams.stderr.resume();
    const waited = engine.waitContainer(id, 'not-running');
    waited.catch(() => undefined);
    try {
      await engine.startContainer(id);
    } catch (err) {
      attached.socket.destroy();
      const now = await engine.inspectContainer(target.id).catch(() => undefined);
      if (now && !now.state.running) throw new Unsupported(`${escapeName(target.name)} stopped, and a stopped container has no network namespace to read.`);
      throw err;
    }
    await streams.done;
    const { statusCode } = await waited;
    const text = Buffer.concat(chunks).toString('utf8');
    if (statusCode !== 0 && !text.includes('@@fd')) {
      throw new Failure(`The toolbox sidecar could not read the network of ${escapeName(target.name)} (it exited with ${statusCode}).`, 'Run again with --debug, or check the engine log.');
    }
    return parseSidecarOutput(text);
  } finally {
    const id = await pending.catch(() => undefined);
    if (id) await removeLeftover(id, () => engine.removeContainer(id, { force: true }), engine.endpoint);
    drop();
  }
}
