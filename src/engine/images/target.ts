// An image as a target for the commands that read files (ls, cat, find, grep, du) and for shell. resolveContainer
// hands back details standing for the image (isImage: true, id: the image id), and the engine commands hold
// (wrapped once by withImageTargets, in engine/index.ts) answers the file methods for that id from the image's
// layers, with no container created. Only where the layers cannot answer for sure (another storage driver, the
// containerd snapshotter, an engine on another host, paths through /proc, /sys, /dev) is a container created
// from the image, never started, labelled as porthole's, and removed when the command ends. shell makes its
// own throwaway container from the image (enter/snapshot.ts), with the image as the "snapshot".
import { Readable } from 'node:stream';
import type { ContainerDetails, EngineClient, ImageDetails, LayerDirEntry, LayerFile, LayerWalkEntry, PathStat } from '../types.js';
import { NoSuchPath, NotFound, Unsupported } from '../../errors.js';
import type { NameScope } from '../compose/scope.js';
import { openLayerFile } from '../docker/layer.js';
import { listLayerDir, prepareLayerWalk } from '../docker/layer-walk.js';
import { imageLayerView, type ImageLayerView } from '../docker/image-layers.js';
import { containerName, sessionLabels } from '../../enter/session.js';
import { removeLeftover } from '../../enter/remove.js';
import { dirname, show } from '../../fs/paths.js';

const VIEWS = Symbol('porthole image targets');

/** Engine methods that take a target id first and that an image answers. */
const ANSWERED = new Set(['inspectContainer', 'statPath', 'getArchive', 'exportContainer', 'openLayerFile', 'readLayerDir', 'walkLayers', 'statChanges', 'changes']);
/** Engine methods that need a container: an image id there is refused with a sentence. */
const REFUSED = new Set([
  'top', 'logs', 'stats', 'statsStream', 'putArchive', 'createExec', 'startContainer', 'attachContainer', 'resizeContainer', 'waitContainer',
  'killContainer', 'stopContainer', 'removeContainer', 'commitContainer',
]);

/**
 * The engine commands use, answering the file methods for image targets (registered by findImageTarget) and
 * passing everything else through untouched.
 */
export function withImageTargets(engine: EngineClient): EngineClient {
  const views = new Map<string, ImageFiles>();
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === VIEWS) return views;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof prop !== 'string' || (!ANSWERED.has(prop) && !REFUSED.has(prop))) return method.bind(target);
      return (id: string, ...args: unknown[]) => {
        const view = typeof id === 'string' ? views.get(id) : undefined;
        if (!view) return method.call(target, id, ...args);
        if (REFUSED.has(prop)) {
          return Promise.reject(new Unsupported(`${view.ref} is an image, not a container: this needs a running or stopped container.`, 'Run one from it with `docker run`, or read the image with porthole ls, cat, find, grep, du or shell.'));
        }
        return (view as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}

/** The image `ref` names, as a target, or undefined when there is no such image (or this engine takes none). */
export async function findImageTarget(engine: EngineClient, ref: string, scope: NameScope): Promise<ContainerDetails | undefined> {
  const views = (engine as unknown as Record<symbol, Map<string, ImageFiles> | undefined>)[VIEWS];
  if (!views) return undefined;
  let image: ImageDetails;
  try {
    image = await engine.inspectImage(ref);
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
  const existing = views.get(image.id);
  if (existing) return existing.details;
  const local = engine.endpoint.host.startsWith('unix://') && scope.env.PORTHOLE_LAYER_READS !== '0';
  const files = new ImageFiles(engine, ref, image, local ? await imageLayerView(image.raw) : undefined, scope);
  views.set(image.id, files);
  return files.details;
}

/** What porthole's own types say of an image that stands where a container would. */
function imageDetails(ref: string, image: ImageDetails): ContainerDetails {
  const raw = image.raw as { Created?: string; Config?: { Hostname?: string; Healthcheck?: unknown; ExposedPorts?: Record<string, unknown> } };
  return {
    id: image.id,
    name: ref,
    image: ref,
    imageId: image.id,
    isImage: true,
    created: raw.Created ?? '',
    path: image.config.entrypoint?.[0] ?? image.config.cmd?.[0] ?? '',
    args: [...(image.config.entrypoint ?? []), ...(image.config.cmd ?? [])].slice(1),
    state: { status: 'created', running: false, paused: false, restarting: false, oomKilled: false, dead: false, pid: 0, exitCode: 0, error: '', startedAt: '', finishedAt: '' },
    restartCount: 0,
    config: {
      hostname: '',
      user: image.config.user,
      env: image.config.env,
      cmd: image.config.cmd,
      entrypoint: image.config.entrypoint,
      workingDir: image.config.workingDir,
      labels: image.config.labels,
      tty: false,
      openStdin: false,
      exposedPorts: Object.keys(raw.Config?.ExposedPorts ?? {}),
    },
    hostConfig: {
      networkMode: 'default',
      restartPolicy: { name: 'no', maximumRetryCount: 0 },
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
    mounts: [],
    ports: [],
    raw: image.raw,
  };
}

/** The file methods for one image: from its layers where they answer for sure, else through a created container. */
class ImageFiles {
  readonly details: ContainerDetails;
  private reader: Promise<string> | undefined;
  constructor(
    private readonly engine: EngineClient,
    readonly ref: string,
    private readonly image: ImageDetails,
    private readonly view: ImageLayerView | undefined,
    private readonly scope: NameScope,
  ) {
    this.details = imageDetails(ref, image);
  }

  async inspectContainer(): Promise<ContainerDetails> {
    return this.details;
  }

  async changes(): Promise<[]> {
    return []; // an image has no writable layer of its own
  }

  async statChanges(): Promise<Map<string, LayerDirEntry>> {
    return new Map();
  }

  async statPath(path: string): Promise<PathStat> {
    if (!this.view) return this.engine.statPath(await this.container(), path);
    const seen = this.view.stat(path);
    if (!seen) throw new NoSuchPath(`No such file or directory in image ${this.ref}: ${show(path)}.`, dirname(path));
    return seen;
  }

  private async statOrAbsent(path: string): Promise<PathStat | undefined> {
    return this.view ? this.view.stat(path) : undefined;
  }

  /** The path with links on the way followed in the image: the layer readers answer "not for sure" at a link. */
  private canonical(path: string): string {
    return this.view?.canonical(path) ?? path;
  }

  async openLayerFile(path: string): Promise<LayerFile | undefined> {
    const real = this.canonical(path);
    return this.view && openLayerFile(this.view.doc, real, () => this.statOrAbsent(real));
  }

  async readLayerDir(path: string, opts: { hardlinks?: boolean; details?: boolean } = {}): Promise<LayerDirEntry[] | undefined> {
    return this.view && listLayerDir(this.view.doc, this.canonical(path), (p) => this.statOrAbsent(p), opts.hardlinks ?? true, opts.details ?? true);
  }

  async walkLayers(path: string, opts: { exportView: boolean; details: boolean }): Promise<AsyncIterable<LayerWalkEntry> | undefined> {
    const real = this.canonical(path);
    const single = this.view?.entry(real);
    // a file or a link named as the root: the walk is that entry alone, as the engine's archive of it
    if (single && single.type !== 'dir') {
      const named = { ...single, path: Buffer.from(path.replace(/\/+$/, ''), 'utf8').toString('latin1') };
      return (async function* () {
        yield named;
      })();
    }
    const walk = this.view && (await prepareLayerWalk(this.view.doc, real, (p) => this.statOrAbsent(p), opts.exportView, opts.details));
    if (!walk || real === path) return walk?.();
    // named under the path asked for, as the engine's walk of it would name them
    const [from, to] = [real, path].map((p) => Buffer.from(p, 'utf8').toString('latin1'));
    return (async function* () {
      for await (const e of walk()) yield { ...e, path: to + e.path.slice(from!.length) };
    })();
  }

  async getArchive(path: string): Promise<{ stat: PathStat; stream: Readable }> {
    const stat = this.view?.stat(path);
    if (this.view && !stat) throw new NoSuchPath(`No such file or directory in image ${this.ref}: ${show(path)}.`, dirname(path));
    const root = Buffer.from(path.replace(/\/+$/, '') || '/', 'utf8').toString('latin1');
    const base = root.slice(0, root.lastIndexOf('/'));
    // the engine's archive of / names its entries from the root (`/`, `/bin/`, ...)
    const stream = stat && (root === '/' ? await this.rootTar() : await this.layerTar(path, false, (p) => p.slice(base.length + 1)));
    return stream ? { stat: stat!, stream } : this.engine.getArchive(await this.container(), path);
  }

  async exportContainer(): Promise<Readable> {
    return (await this.layerTar('/', true, (p) => p.slice(1))) ?? this.engine.exportContainer(await this.container());
  }

  /** The archive of / as the archive endpoint names it: the root, then the tree as the export walks it. */
  private async rootTar(): Promise<Readable | undefined> {
    const top = this.view?.entry('/');
    const entries = top && (await this.walkLayers('/', { exportView: true, details: true }).catch(() => undefined));
    if (!top || !entries) return undefined;
    const all = (async function* () {
      yield { ...top, path: '/' };
      yield* entries;
    })();
    const { layerArchive } = await import('./archive.js');
    return Readable.from(layerArchive(all, (p) => p, (p) => this.openLayerFile(p)), { objectMode: false });
  }

  /** The archive of `path` made from the layers, or undefined when they cannot answer for sure. */
  private async layerTar(path: string, exportView: boolean, nameOf: (path: string) => string): Promise<Readable | undefined> {
    if (!this.view) return undefined;
    const entries = await this.walkLayers(path, { exportView, details: true }).catch(() => undefined);
    if (!entries) return undefined;
    const { layerArchive } = await import('./archive.js');
    return Readable.from(layerArchive(entries, nameOf, (p) => this.openLayerFile(p)), { objectMode: false });
  }

  /**
   * A container made from the image and never started, for what the layers cannot answer: labelled as this
   * session's, removed (with any volume the engine made for it) when the command ends.
   */
  private container(): Promise<string> {
    if (this.reader) return this.reader;
    this.scope.notice(`porthole: reading image ${this.ref} through a container made from it (never started; removed afterwards): its layers cannot be read here for sure.`);
    const volumes = Object.keys(((this.image.raw as { Config?: { Volumes?: Record<string, unknown> } }).Config?.Volumes ?? {}) as Record<string, unknown>);
    const create = this.engine.createContainer({
      name: containerName('image reader'),
      image: this.image.id,
      // never run (gc knows porthole's never-started containers by `true` and their names)
      entrypoint: ['true'],
      cmd: [],
      labels: sessionLabels(this.image.id),
      healthcheckNone: true,
      hostConfig: { networkMode: 'none', ...(volumes.length ? { tmpfs: Object.fromEntries(volumes.map((v) => [v, ''])) } : {}) },
    });
    this.scope.cleanup?.add('remove the image reader container', async () => {
      const id = await create.catch(() => undefined);
      if (id) await removeLeftover(id, () => this.engine.removeContainer(id, { force: true, volumes: true }), this.engine.endpoint);
    });
    this.reader = create;
    return create;
  }
}
