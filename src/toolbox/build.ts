// Building and removing the toolbox image offline, from a static busybox on the host (Debian's busybox-static
// installs one at /bin/busybox): no registry, no Dockerfile, one `import` of a root filesystem made in memory.
//
// Layout of the image:
//   /.porthole/bin/busybox       the static busybox, and one symlink per applet next to it (sh, ls, ps, ...)
//   /.porthole/chroot            a second copy carrying the file capability CAP_SYS_CHROOT (setcap cap_sys_chroot+ep):
//                                docker drops every capability of a non-root process at exec, so without it a
//                                session running as the target's non-root user could not chroot into the target
//   /bin -> .porthole/bin        so the image also works as a plain image (`docker run porthole/toolbox:1 ls`)
//   /tmp                         1777
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import type { EngineClient } from '../engine/types.js';
import { EngineError, Failure, InvalidArgument, NotFound } from '../errors.js';
import { containerName, sessionLabels } from '../enter/session.js';
import { escapeName } from '../render/escape.js';
import { engineWords, portholeOnEngine } from '../cli/invocation.js';
import { CAP_SYS_CHROOT, fileCapability, writeTar, type TarEntry } from './tar.js';
import { planWith, type WithMissing, type WithPlan, type WithProgram } from './with.js';
import { DEFAULT_TOOLBOX_IMAGE, TOOLBOX_CHROOT, TOOLBOX_DIR, TOOLBOX_LABEL, splitImageRef, toolboxImage, toolboxVolume } from './image.js';

export const DEFAULT_BUSYBOX = '/bin/busybox';

/** ELF e_machine values and the engine's names for them. */
const MACHINES: Record<number, string> = { 3: '386', 40: 'arm', 62: 'amd64', 183: 'arm64', 243: 'riscv64', 21: 'ppc64le', 22: 's390x' };

export interface ElfInfo {
  arch: string;
  /** No program interpreter (PT_INTERP): runs without any library from the root it runs in. */
  static: boolean;
}

/** Reads an ELF header and its program headers; undefined when the bytes are not an ELF executable. */
export function elfInfo(bytes: Buffer): ElfInfo | undefined {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const u16 = (o: number) => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o));
  const machine = u16(18);
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  let hasInterp = false;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return undefined;
    if (u32(at) === 3) hasInterp = true; // PT_INTERP
  }
  return { arch: MACHINES[machine] ?? `elf-machine-${machine}`, static: !hasInterp };
}

/** The image's root filesystem as tar entries (pure, for tests). */
export function toolboxEntries(busybox: Buffer, applets: string[], withPlan?: WithPlan): TarEntry[] {
  const dir = TOOLBOX_DIR.slice(1);
  const entries: TarEntry[] = [
    { path: dir, type: 'dir', mode: 0o755 },
    { path: `${dir}/bin`, type: 'dir', mode: 0o755 },
    { path: `${dir}/bin/busybox`, type: 'file', mode: 0o755, data: busybox },
    { path: TOOLBOX_CHROOT.slice(1), type: 'file', mode: 0o755, data: busybox, xattrs: { 'security.capability': fileCapability([CAP_SYS_CHROOT]) } },
    { path: 'bin', type: 'symlink', mode: 0o777, linkTarget: `${dir}/bin` },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
  ];
  // A program carried with --with takes the place of busybox's applet of the same name (lsof, for one).
  const seen = new Set(['busybox', ...(withPlan?.programs.map((p) => p.name) ?? [])]);
  for (const applet of applets) {
    // Applet names come from running the binary: keep only plain file names.
    if (!/^[A-Za-z0-9_.[\]-]+$/.test(applet) || applet === '.' || applet === '..' || seen.has(applet)) continue;
    seen.add(applet);
    entries.push({ path: `${dir}/bin/${applet}`, type: 'symlink', mode: 0o777, linkTarget: 'busybox' });
  }
  if (withPlan) entries.push(...withPlan.entries);
  return entries;
}

export interface BuildResult {
  image: string;
  id: string;
  source: string;
  tools: number;
  arch: string;
  /** The image this build replaced (its id), when there was one. */
  replaced: string | null;
  /** The image there was already made from the same busybox: nothing was rebuilt. */
  upToDate: boolean;
  /** Host programs carried with --with (each with the libraries it loads). */
  with: WithProgram[];
  /** What --with asked for that could not be carried, and why. */
  missing: WithMissing[];
}

/** What a toolbox image was made from (layout version and busybox digest), to skip needless rebuilds. */
const TOOLBOX_STAMP_LABEL = 'io.porthole.toolbox.source';
/** Bumped whenever toolboxEntries() changes what goes into the image. */
const TOOLBOX_LAYOUT = 'layout1';

/** The busybox to build from, checked before anything is announced or built: its size. */
export function checkBusyboxPath(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new NotFound(
      `No busybox at ${escapeName(path)}.`,
      path === DEFAULT_BUSYBOX ? 'Install a static busybox (Debian: apt-get install busybox-static), or give one with --from PATH.' : 'Give the path of a static busybox with --from PATH.',
    );
  }
  if (st.isDirectory()) throw new InvalidArgument(`${escapeName(path)} is a folder, not a busybox.`, 'Give the path of a static busybox with --from PATH.');
  return st.size;
}

function readBusybox(path: string): Buffer {
  const size = checkBusyboxPath(path);
  if (size > 64 * 1024 * 1024) throw new InvalidArgument(`${escapeName(path)} is ${Math.round(size / 1048576)} MB: that is not a busybox.`);
  return readFileSync(path);
}

function listApplets(path: string): string[] {
  try {
    const out = execFileSync(path, ['--list'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    throw new InvalidArgument(`Could not run ${path} --list to learn its tools.`, 'Give a busybox built for this machine with --from PATH.');
  }
}

/** Checks a busybox is static, has what the toolbox needs, and suits the engine; returns its architecture. */
async function checkBusybox(engine: EngineClient, source: string, busybox: Buffer, applets: string[], fix: string): Promise<string> {
  const elf = elfInfo(busybox);
  if (!elf) throw new InvalidArgument(`${source} is not a Linux executable.`, fix);
  if (!elf.static) {
    throw new InvalidArgument(`${source} is dynamically linked: its tools would not run inside other containers.`, 'Use a static busybox (Debian: apt-get install busybox-static), with --from PATH.');
  }
  for (const needed of ['sh', 'chroot']) {
    if (!applets.includes(needed)) throw new InvalidArgument(`${source} has no "${needed}" applet; the toolbox needs it.`, 'Use a fuller busybox build.');
  }
  const version = await engine.version();
  if (version.arch && version.arch !== elf.arch) {
    throw new InvalidArgument(`${source} is built for ${elf.arch}, but the engine runs ${version.arch} containers.`, `Give a ${version.arch} static busybox with --from PATH.`);
  }
  return elf.arch;
}

/** Imports the toolbox image from busybox's bytes, drops the image it replaces, and refills the volume. */
async function importToolbox(ctx: Context, engine: EngineClient, image: string, busybox: Buffer, applets: string[], source: string, arch: string, withPlan?: WithPlan): Promise<BuildResult> {
  // Same busybox, same layout, same --with files: the image there already is this build (a rebuild would only
  // churn the engine).
  let stamp = `${TOOLBOX_LAYOUT}:${createHash('sha256').update(busybox).digest('hex')}`;
  if (withPlan?.entries.length) {
    const hash = createHash('sha256');
    for (const e of withPlan.entries) hash.update(`${e.path}\0${e.type}\0${e.mode}\0`).update(e.data ?? Buffer.alloc(0));
    stamp += `+with:${hash.digest('hex')}`;
  }
  const carried = { with: withPlan?.programs ?? [], missing: withPlan?.missing ?? [] };
  const existing = await engine.inspectImage(image).catch(() => undefined);
  if (existing && existing.config.labels[TOOLBOX_STAMP_LABEL] === stamp) {
    const volume = toolboxVolume(image);
    if (!(await volumeExists(engine, volume))) await fillToolboxVolume(ctx, engine, image);
    return { image, id: existing.id, source, tools: applets.length, arch, replaced: null, upToDate: true, ...carried };
  }
  const previous = existing?.id ?? null;
  const tar = writeTar(toolboxEntries(busybox, applets, withPlan));
  const id = await engine.importImage(Readable.from([tar]), {
    ...splitImageRef(image),
    changes: [`LABEL ${TOOLBOX_LABEL}=1`, `LABEL ${TOOLBOX_STAMP_LABEL}=${stamp}`, `ENV PATH=${TOOLBOX_DIR}/bin`, 'CMD ["sh"]'],
    message: `porthole toolbox from ${source}`,
  });
  if (previous && previous !== id) {
    // The old image lost its tag; it is ours to remove unless something still uses it.
    await engine.removeImage(previous).catch(() => undefined);
  }
  await refillToolboxVolume(ctx, engine, image);
  return { image, id, source, tools: applets.length, arch, replaced: previous && previous !== id ? previous : null, upToDate: false, ...carried };
}

/**
 * Makes the toolbox image from a static busybox on this machine (--from, else /bin/busybox); with neither
 * given nor installed, from busybox:musl pulled by the engine.
 */
export async function buildToolbox(ctx: Context, opts: { from?: string; with?: string[] }): Promise<BuildResult> {
  const image = toolboxImage(ctx.env);
  const shown = escapeName(image);
  if (opts.from === undefined && !existsSync(DEFAULT_BUSYBOX)) {
    if (opts.with?.length) {
      throw new NotFound(`No busybox at ${DEFAULT_BUSYBOX} to build the toolbox with --with from.`, 'Install a static busybox (Debian: apt-get install busybox-static), or give one with --from PATH.');
    }
    const engine = await ctx.engine();
    ctx.notice(`porthole: building ${shown} from ${PULL_SOURCE} (pulling) ...`);
    return pullToolbox(ctx, engine, image);
  }
  const source = opts.from ?? DEFAULT_BUSYBOX;
  // Everything about the host's files is checked before a word about building: `--from /missing` is one sentence.
  const busybox = readBusybox(source);
  const elf = elfInfo(busybox);
  if (!elf) throw new InvalidArgument(`${escapeName(source)} is not a Linux executable.`, 'Give the path of a static busybox with --from PATH.');
  const applets = elf.static ? listApplets(source) : ['sh', 'chroot'];
  const engine = await ctx.engine();
  const arch = await checkBusybox(engine, source, busybox, applets, 'Give the path of a static busybox with --from PATH.');
  const withPlan = opts.with?.length ? planWith(opts.with, ctx.env.PATH, arch, (bytes) => elfInfo(bytes)?.arch) : undefined;
  if (withPlan && !withPlan.programs.length) {
    throw new NotFound(`None of the programs to carry could be found: ${withPlan.missing.map((m) => `${escapeName(m.name)} (${escapeName(m.reason)})`).join(', ')}.`, 'Name programs on this host\'s PATH, or give their paths.');
  }
  const carrying = withPlan ? ` with ${withPlan.programs.map((p) => escapeName(p.name)).join(', ')}` : '';
  ctx.notice(`porthole: building ${shown} from ${escapeName(source)}${carrying} ...`);
  return importToolbox(ctx, engine, image, busybox, applets, source, arch, withPlan);
}

/** The image the toolbox is made from where the engine can pull: busybox's static musl build. */
export const PULL_SOURCE = 'busybox:musl';

/** busybox's bytes and its applet names, from a tar of an image's /bin (every applet is a link to busybox). */
export async function busyboxFromBinTar(stream: Readable): Promise<{ busybox: Buffer | undefined; applets: string[] }> {
  const { Parser } = await import('tar');
  const files = new Map<string, Buffer>();
  const links = new Map<string, string>();
  const applets: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        const path = entry.path.replace(/^\.?\//, '').replace(/\/$/, '');
        const parts = path.split('/');
        if (parts.length === 2 && parts[0] === 'bin' && entry.type !== 'Directory') applets.push(parts[1]!);
        if (entry.type === 'Link' || entry.type === 'SymbolicLink') links.set(path, entry.linkpath ?? '');
        if (entry.type !== 'File' || (entry.size ?? 0) > 64 * 1024 * 1024) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(path, Buffer.concat(chunks)));
      },
    });
    parser.on('end', () => resolve());
    parser.on('error', reject);
    stream.on('error', reject);
    stream.pipe(parser);
  });
  let path = 'bin/busybox';
  for (let hops = 0; hops < 4 && !files.has(path) && links.has(path); hops++) {
    const link = links.get(path)!.replace(/^\.?\//, '');
    // A hard link names a path from the archive's root; a symbolic one is relative to bin/ unless absolute.
    path = link.startsWith('bin/') ? link : link.startsWith('/') ? link.slice(1) : `bin/${link}`;
  }
  return { busybox: files.get(path), applets: applets.filter((a) => a !== 'busybox') };
}

/** Pulls busybox:musl and makes the toolbox from its /bin/busybox (read through a created, never started container). */
export async function pullToolbox(ctx: Context, engine: EngineClient, image: string): Promise<BuildResult> {
  await engine.pullImage(PULL_SOURCE);
  const create = engine.createContainer({ name: containerName('toolbox reader'), image: PULL_SOURCE, cmd: ['true'], labels: sessionLabels() });
  const drop = ctx.cleanup.add('remove the container busybox was read from', async () => {
    const id = await create.catch(() => undefined);
    if (id) await engine.removeContainer(id, { force: true }).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err)));
  });
  const id = await create;
  let found;
  try {
    found = await busyboxFromBinTar((await engine.getArchive(id, '/bin')).stream);
  } finally {
    await engine.removeContainer(id, { force: true });
    drop();
  }
  const source = `${PULL_SOURCE} (pulled)`;
  if (!found.busybox) throw new Failure(`The pulled ${PULL_SOURCE} has no /bin/busybox.`, 'Run `porthole toolbox build --from PATH` with a static busybox.');
  const arch = await checkBusybox(engine, source, found.busybox, found.applets, 'Run `porthole toolbox build --from PATH` with a static busybox.');
  return importToolbox(ctx, engine, image, found.busybox, found.applets, source, arch);
}


/**
 * What `shell` does when the toolbox image is missing: pull it where the engine can (the default toolbox is
 * made from busybox:musl, another name is pulled as it is); else the error that says to build it.
 */
export async function obtainToolbox(ctx: Context, engine: EngineClient, image: string): Promise<void> {
  const where = engineWords(engine.endpoint);
  try {
    if (image === DEFAULT_TOOLBOX_IMAGE) {
      ctx.notice(`porthole: ${image} is not on ${where}; making it from ${PULL_SOURCE} (pulling) ...`);
      await pullToolbox(ctx, engine, image);
    } else {
      ctx.notice(`porthole: ${image} is not on ${where}; pulling it ...`);
      await engine.pullImage(image);
    }
  } catch (err) {
    if (err instanceof InvalidArgument) throw err;
    throw toolboxMissing(image, err instanceof Error ? err.message : String(err), engine);
  }
}

async function volumeExists(engine: EngineClient, volume: string): Promise<boolean> {
  const volumes = await engine.listVolumes({ filters: { name: [volume] } });
  return volumes.some((v) => v.name === volume);
}

/** The engine fills an empty named volume from the image's content at the mount point when a container is created. */
async function fillToolboxVolume(ctx: Context, engine: EngineClient, image: string): Promise<void> {
  const create = engine.createContainer({
    name: containerName('toolbox filler'),
    image,
    cmd: ['true'],
    labels: sessionLabels(),
    hostConfig: { mounts: [{ type: 'volume', source: toolboxVolume(image), target: TOOLBOX_DIR, readOnly: false }] },
  });
  const drop = ctx.cleanup.add('remove the container that filled the toolbox volume', async () => {
    const id = await create.catch(() => undefined);
    if (id) await engine.removeContainer(id, { force: true }).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err)));
  });
  const id = await create;
  await engine.removeContainer(id, { force: true });
  drop();
}

async function refillToolboxVolume(ctx: Context, engine: EngineClient, image: string): Promise<void> {
  const volume = toolboxVolume(image);
  if (await volumeExists(engine, volume)) {
    try {
      await engine.removeVolume(volume);
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 409) {
        ctx.notice(`porthole: the volume ${volume} is in use by a session; it keeps the previous tools until the next build.`);
        return;
      }
      if (!(err instanceof NotFound)) throw err;
    }
  }
  await fillToolboxVolume(ctx, engine, image);
}

/** The error `shell` gives when the toolbox it needs is not there. */
export function toolboxMissing(image: string, pullFailure?: string, engine?: EngineClient): NotFound {
  const why = pullFailure ? ` and could not be pulled (${pullFailure.replace(/\.$/, '')})` : '';
  // on a swarm node: built there, through the way porthole reached it (the global flags name the manager)
  const node = engine?.endpoint?.node;
  const build = `${portholeOnEngine(engine?.endpoint)} toolbox build`;
  return new NotFound(
    `The toolbox image ${image} is not on ${engineWords(engine?.endpoint)}${why}, and porthole needs it to enter a container without a shell.`,
    `Run \`${build}\` once (it builds it offline from /bin/busybox)${node ? ' on that node' : ''}, then try again.`,
  );
}

/** Makes sure the toolbox volume exists and is filled; throws toolboxMissing() when the image is not there. */
export async function ensureToolboxVolume(ctx: Context, engine: EngineClient, image: string): Promise<string> {
  const volume = toolboxVolume(image);
  if (await volumeExists(engine, volume)) return volume;
  try {
    await engine.inspectImage(image);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    // A fresh build fills the volume too.
    await obtainToolbox(ctx, engine, image);
    if (await volumeExists(engine, volume)) return volume;
  }
  await fillToolboxVolume(ctx, engine, image);
  return volume;
}

export interface RemoveResult {
  image: string;
  volume: string;
  removedImage: string | null;
  removedVolume: boolean;
}

/** Removes the toolbox image and its volume; refuses while a session uses them. Nothing there is not an error. */
export async function removeToolbox(engine: EngineClient, name: string): Promise<RemoveResult> {
  let removedImage: string | null = null;
  const volume = toolboxVolume(name);
  const image = await engine.inspectImage(name).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err)));
  if (image) {
    if (image.config.labels[TOOLBOX_LABEL] !== '1') {
      throw new Failure(`${name} on this engine was not made by porthole toolbox build (it has no ${TOOLBOX_LABEL} label), so porthole leaves it alone.`, `Remove it with \`docker rmi ${name}\` if you mean to.`);
    }
    try {
      await engine.removeImage(name);
      removedImage = image.id;
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 409) {
        throw new Failure(`The toolbox image is in use by a container (a session still running?).`, 'End the porthole sessions that use it, then run `porthole toolbox rm` again.');
      }
      throw err;
    }
  }
  let removedVolume = false;
  if (await volumeExists(engine, volume)) {
    try {
      await engine.removeVolume(volume);
      removedVolume = true;
    } catch (err) {
      if (err instanceof EngineError && err.statusCode === 409) {
        throw new Failure(`The toolbox volume ${volume} is in use by a container (a session still running?).`, 'End the porthole sessions that use it, then run `porthole toolbox rm` again.');
      }
      if (!(err instanceof NotFound)) throw err;
    }
  }
  return { image: name, volume, removedImage, removedVolume };
}
