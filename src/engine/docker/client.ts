// The Docker Engine API adapter: maps porthole's EngineClient onto the wire and the wire's types onto ours.
import type { Readable } from 'node:stream';
import type { Endpoint } from '../endpoint.js';
import type {
  ResourceLimits,
  AttachedStream,
  Change,
  ContainerCreateSpec,
  ContainerDetails,
  ContainerState,
  ContainerSummary,
  EngineClient,
  EngineVersion,
  ExecSpec,
  ExecState,
  Filters,
  ImageSummary,
  LayerDirEntry,
  LayerFile,
  LayerWalkEntry,
  LogOptions,
  PathStat,
  SwarmManagerApi,
  TopResult,
  VolumeSummary,
} from '../types.js';
import { EngineError, EngineUnavailable, NotFound } from '../../errors.js';
import { Transport, readBody } from './transport.js';
import { confirmChanges, openLayerFile, statOwnLayer, type InspectDoc } from './layer.js';
import { listLayerDir, prepareLayerWalk } from './layer-walk.js';
import { layerChanges } from './layer-diff.js';
import { RememberedVersion } from './remembered-version.js';
import { toNode, toService, toTask } from './swarm.js';
import { cacheFolder } from '../../util/cache-folder.js';

/** The newest API version porthole was written against, and the oldest it accepts. */
export const CLIENT_API_VERSION = '1.45';
export const MIN_API_VERSION = '1.40';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

const CHANGE_KIND: Record<number, Change['kind']> = { 0: 'C', 1: 'A', 2: 'D' };

function stripSlash(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

export function decodePathStat(header: string | string[] | undefined): PathStat {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  return {
    name: parsed.name ?? '',
    size: Number(parsed.size ?? 0),
    mode: Number(parsed.mode ?? 0),
    mtime: parsed.mtime ?? '',
    linkTarget: parsed.linkTarget ?? '',
  };
}

function mapDetails(raw: any): ContainerDetails {
  const state = raw.State ?? {};
  const config = raw.Config ?? {};
  const host = raw.HostConfig ?? {};
  const ports: ContainerDetails['ports'] = [];
  for (const [containerPort, bindings] of Object.entries<any>(raw.NetworkSettings?.Ports ?? {})) {
    for (const b of bindings ?? []) ports.push({ containerPort, hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' });
  }
  const health = state.Health
    ? {
        status: state.Health.Status,
        failingStreak: state.Health.FailingStreak ?? 0,
        log: (state.Health.Log ?? []).map((l: any) => ({ start: l.Start, end: l.End, exitCode: l.ExitCode, output: l.Output ?? '' })),
      }
    : undefined;
  const hc = config.Healthcheck;
  return {
    id: raw.Id,
    name: stripSlash(raw.Name ?? ''),
    image: config.Image ?? '',
    imageId: raw.Image ?? '',
    created: raw.Created ?? '',
    path: raw.Path ?? '',
    args: raw.Args ?? [],
    state: {
      status: state.Status as ContainerState,
      running: !!state.Running,
      paused: !!state.Paused,
      restarting: !!state.Restarting,
      oomKilled: !!state.OOMKilled,
      dead: !!state.Dead,
      pid: state.Pid ?? 0,
      exitCode: state.ExitCode ?? 0,
      error: state.Error ?? '',
      startedAt: state.StartedAt ?? '',
      finishedAt: state.FinishedAt ?? '',
      health,
    },
    restartCount: raw.RestartCount ?? 0,
    config: {
      hostname: config.Hostname ?? '',
      user: config.User ?? '',
      env: config.Env ?? [],
      cmd: config.Cmd ?? null,
      entrypoint: config.Entrypoint ?? null,
      workingDir: config.WorkingDir ?? '',
      labels: config.Labels ?? {},
      tty: !!config.Tty,
      openStdin: !!config.OpenStdin,
      stopSignal: config.StopSignal,
      healthcheck: hc?.Test ? { test: hc.Test, interval: hc.Interval, timeout: hc.Timeout, retries: hc.Retries } : undefined,
      exposedPorts: Object.keys(config.ExposedPorts ?? {}),
    },
    hostConfig: {
      networkMode: host.NetworkMode ?? '',
      restartPolicy: { name: host.RestartPolicy?.Name ?? '', maximumRetryCount: host.RestartPolicy?.MaximumRetryCount ?? 0 },
      binds: host.Binds ?? [],
      readonlyRootfs: !!host.ReadonlyRootfs,
      privileged: !!host.Privileged,
      capAdd: host.CapAdd ?? [],
      capDrop: host.CapDrop ?? [],
      securityOpt: host.SecurityOpt ?? [],
      usernsMode: host.UsernsMode ?? '',
      pidMode: host.PidMode ?? '',
      memory: host.Memory ?? 0,
      nanoCpus: host.NanoCpus ?? 0,
      autoRemove: !!host.AutoRemove,
      limits: limitsFrom(host),
    },
    mounts: (raw.Mounts ?? []).map((m: any) => ({
      type: m.Type ?? '',
      name: m.Name,
      source: m.Source ?? '',
      destination: m.Destination ?? '',
      mode: m.Mode ?? '',
      rw: !!m.RW,
      propagation: m.Propagation,
    })),
    ports,
    raw,
  };
}

function filtersQuery(filters?: Filters): string | undefined {
  return filters && Object.keys(filters).length ? JSON.stringify(filters) : undefined;
}

function createBody(spec: ContainerCreateSpec): unknown {
  const h = spec.hostConfig ?? {};
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: spec.env,
    User: spec.user,
    WorkingDir: spec.workingDir,
    Labels: spec.labels,
    Tty: spec.tty ?? false,
    OpenStdin: spec.openStdin ?? false,
    StdinOnce: spec.stdinOnce ?? false,
    AttachStdin: spec.attachStdin ?? false,
    AttachStdout: spec.attachStdout ?? true,
    AttachStderr: spec.attachStderr ?? true,
    Hostname: spec.hostname,
    Healthcheck: spec.healthcheckNone ? { Test: ['NONE'] } : undefined,
    HostConfig: {
      Binds: h.binds,
      Mounts: h.mounts?.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
      NetworkMode: h.networkMode,
      PidMode: h.pidMode,
      IpcMode: h.ipcMode,
      CapAdd: h.capAdd,
      CapDrop: h.capDrop,
      SecurityOpt: h.securityOpt,
      Privileged: h.privileged ?? false,
      AutoRemove: h.autoRemove ?? false,
      ReadonlyRootfs: h.readonlyRootfs ?? false,
      UsernsMode: h.usernsMode,
      ...limitsTo(h.limits),
      ...(h.memory !== undefined ? { Memory: h.memory } : {}),
      VolumesFrom: h.volumesFrom,
      Tmpfs: h.tmpfs,
      Init: h.init,
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** docker's HostConfig resource fields and porthole's names for them. */
const LIMIT_FIELDS = [
  ['memory', 'Memory'],
  ['memorySwap', 'MemorySwap'],
  ['memoryReservation', 'MemoryReservation'],
  ['nanoCpus', 'NanoCpus'],
  ['cpuShares', 'CpuShares'],
  ['cpuQuota', 'CpuQuota'],
  ['cpuPeriod', 'CpuPeriod'],
  ['cpusetCpus', 'CpusetCpus'],
  ['cpusetMems', 'CpusetMems'],
  ['pidsLimit', 'PidsLimit'],
  ['blkioWeight', 'BlkioWeight'],
  ['oomKillDisable', 'OomKillDisable'],
] as const;

/** The limits a container was given: zero, empty and null mean "none" and are left out. */
function limitsFrom(host: any): ResourceLimits {
  const limits: Record<string, unknown> = {};
  for (const [ours, theirs] of LIMIT_FIELDS) {
    const v = host[theirs];
    if (v !== undefined && v !== null && v !== 0 && v !== '' && v !== false) limits[ours] = v;
  }
  if (Array.isArray(host.Ulimits) && host.Ulimits.length) {
    limits.ulimits = host.Ulimits.map((u: any) => ({ name: String(u.Name), soft: Number(u.Soft), hard: Number(u.Hard) }));
  }
  return limits as ResourceLimits;
}

function limitsTo(limits: ResourceLimits | undefined): Record<string, unknown> {
  if (!limits) return {};
  const out: Record<string, unknown> = {};
  for (const [ours, theirs] of LIMIT_FIELDS) if (limits[ours] !== undefined) out[theirs] = limits[ours];
  if (limits.ulimits?.length) out.Ulimits = limits.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  return out;
}

export class DockerEngine implements EngineClient {
  readonly endpoint: Endpoint;
  private readonly transport: Transport;
  private negotiated: Promise<string> | undefined;
  /** The version in use came from memory, not from this engine's answer. */
  private recalled = false;
  /** Where the version settled with a local engine is kept between runs; undefined for remote engines. */
  private readonly memory: RememberedVersion | undefined;
  private pingHeaders: Record<string, string | string[] | undefined> = {};

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    this.transport = new Transport(endpoint);
    const cacheDir = endpoint.host.startsWith('unix://') && process.env.PORTHOLE_REMEMBER_API !== '0' ? cacheFolder(process.env) : undefined;
    if (cacheDir) this.memory = new RememberedVersion(cacheDir, decodeURIComponent(new URL(endpoint.host).pathname));
  }

  /**
   * The version remembered for this engine's socket (remembered-version.ts), else a ping. `fresh`: what the engine
   * says now (`porthole engine` reports it).
   */
  apiVersion(opts: { fresh?: boolean } = {}): Promise<string> {
    if (!this.negotiated || (opts.fresh && this.recalled)) this.negotiated = (opts.fresh ? undefined : this.recall()) ?? this.ping();
    return this.negotiated;
  }

  /** The remembered version, if any; should the engine refuse it, it is forgotten and asked for, once for all. */
  private recall(): Promise<string> | undefined {
    const known = this.memory?.recall();
    if (!known) return undefined;
    this.recalled = true;
    let asked: Promise<string> | undefined;
    this.transport.onStaleVersion = () => {
      if (!asked) {
        this.memory?.forget();
        asked = this.negotiated = this.ping();
      }
      return asked;
    };
    return Promise.resolve(known);
  }

  /** Pings and settles on min(engine's version, ours); refuses engines older than MIN_API_VERSION. */
  private ping(): Promise<string> {
    this.recalled = false;
    const settled = (async () => {
      const res = await this.transport.request('GET', '/_ping', { timeoutMs: 30_000 });
      await readBody(res);
      this.pingHeaders = res.headers;
      const engineVersion = String(res.headers['api-version'] ?? '');
      if (!engineVersion) return MIN_API_VERSION;
      if (compareVersions(engineVersion, MIN_API_VERSION) < 0) {
        throw new EngineUnavailable(
          `The engine speaks API ${engineVersion}, older than the ${MIN_API_VERSION} porthole needs (Docker 19.03 or newer).`,
          'Upgrade the engine, or use the docker CLI for this one.',
        );
      }
      return compareVersions(engineVersion, CLIENT_API_VERSION) < 0 ? engineVersion : CLIENT_API_VERSION;
    })();
    settled.then((v) => this.memory?.remember(v), () => undefined);
    return settled;
  }

  private async path(p: string): Promise<string> {
    return `/v${await this.apiVersion()}${p}`;
  }

  private async get<T = any>(p: string, query?: Record<string, string | number | boolean | undefined>): Promise<T> {
    return this.transport.json<T>('GET', await this.path(p), { query });
  }

  async version(): Promise<EngineVersion> {
    const v = await this.get('/version');
    return {
      version: v.Version ?? '',
      apiVersion: v.ApiVersion ?? '',
      minApiVersion: v.MinAPIVersion ?? '',
      os: v.Os ?? '',
      arch: v.Arch ?? '',
      kernelVersion: v.KernelVersion ?? '',
      platform: v.Platform?.Name ?? String(this.pingHeaders['server'] ?? ''),
    };
  }

  async listContainers(opts: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    const list = await this.get<any[]>('/containers/json', { all: opts.all ? 1 : undefined, filters: filtersQuery(opts.filters) });
    return list.map((c) => ({
      id: c.Id,
      names: (c.Names ?? []).map(stripSlash),
      image: c.Image ?? '',
      imageId: c.ImageID ?? '',
      command: c.Command ?? '',
      created: c.Created ?? 0,
      state: c.State as ContainerState,
      status: c.Status ?? '',
      labels: c.Labels ?? {},
    }));
  }

  inspectContainer(idOrName: string): Promise<ContainerDetails> {
    // the same container asked for at once (a command's own inspect, logs' TTY check, changes' layer place) is
    // one request: on a busy engine each inspect costs it tens of ms
    let request = this.inspecting.get(idOrName);
    if (!request) {
      request = this.get(`/containers/${encodeURIComponent(idOrName)}/json`);
      this.inspecting.set(idOrName, request);
      const done = () => this.inspecting.delete(idOrName);
      request.then(done, done);
    }
    // each caller gets its own details, made from the one answer
    return request.then((doc) => {
      const details = mapDetails(doc);
      this.inspected.set(details.id, details.raw);
      return details;
    });
  }

  /** Inspects on the way, by the name or id asked: a later ask (after the answer) asks the engine again. */
  private readonly inspecting = new Map<string, Promise<unknown>>();

  /** Inspect documents by id, for openLayerFile: where the container's layer is and what covers it. */
  private readonly inspected = new Map<string, unknown>();

  async openLayerFile(id: string, path: string): Promise<LayerFile | undefined> {
    // Only an engine on a local socket shares this machine's paths.
    if (!this.endpoint.host.startsWith('unix://') || process.env.PORTHOLE_LAYER_READS === '0') return undefined;
    const doc = this.inspected.get(id) as Parameters<typeof openLayerFile>[0] | undefined;
    // an image file needs the engine's word on it: a HEAD (a few ms, no tar helper)
    return doc && openLayerFile(doc, path, () => this.statPath(id, path).catch(() => undefined));
  }

  async statChanges(id: string, paths: string[]): Promise<Map<string, LayerDirEntry> | undefined> {
    if (!this.endpoint.host.startsWith('unix://') || process.env.PORTHOLE_LAYER_READS === '0') return undefined;
    const doc = this.inspected.get(id) as Parameters<typeof statOwnLayer>[0] | undefined;
    return doc && statOwnLayer(doc, paths);
  }

  async walkLayers(id: string, path: string, opts: { exportView: boolean; details: boolean }): Promise<AsyncIterable<LayerWalkEntry> | undefined> {
    if (!this.endpoint.host.startsWith('unix://') || process.env.PORTHOLE_LAYER_READS === '0') return undefined;
    const doc = this.inspected.get(id) as Parameters<typeof prepareLayerWalk>[0] | undefined;
    const walk = doc && (await prepareLayerWalk(doc, path, (p) => this.statOrAbsent(id, p), opts.exportView, opts.details));
    return walk?.();
  }

  /** The engine's stat of a path, undefined when it does not exist; any other failure is an error. */
  private statOrAbsent(id: string, path: string): Promise<PathStat | undefined> {
    return this.statPath(id, path).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err)));
  }

  async readLayerDir(id: string, path: string, opts: { hardlinks?: boolean; details?: boolean } = {}): Promise<LayerDirEntry[] | undefined> {
    if (!this.endpoint.host.startsWith('unix://') || process.env.PORTHOLE_LAYER_READS === '0') return undefined;
    const doc = this.inspected.get(id) as Parameters<typeof listLayerDir>[0] | undefined;
    return doc && listLayerDir(doc, path, (p) => this.statOrAbsent(id, p), opts.hardlinks ?? true, opts.details ?? true);
  }

  async top(id: string, psArgs?: string): Promise<TopResult> {
    const r = await this.get(`/containers/${encodeURIComponent(id)}/top`, { ps_args: psArgs });
    return { titles: r.Titles ?? [], processes: r.Processes ?? [] };
  }

  async changes(id: string): Promise<Change[]> {
    const local = this.endpoint.host.startsWith('unix://') && process.env.PORTHOLE_LAYER_READS !== '0';
    // where porthole can see the layers (a local engine on overlay2), the layer's place and the container's state,
    // asked once for both ways below
    const doc = local ? ((this.inspected.get(id) as InspectDoc | undefined) ?? (await this.inspectContainer(id).then((d) => d.raw as InspectDoc, () => undefined))) : undefined;
    // a stopped container's changes from its own layer, where that is certain (layer-diff.ts): the engine's walk
    // of the whole image is skipped, and the inspect and logs it would hold up go through at once
    const read = doc && (await layerChanges(doc, (p) => this.statOrAbsent(id, p)));
    if (read) {
      if (process.env.PORTHOLE_TRACE) process.stderr.write(`porthole-trace: changes of ${id} read from its layers (${read.length})\n`);
      return read;
    }
    // the engine names changes by walking the layer by path: checked against the layer walked safely
    const changes: Change[] = ((await this.get<any[] | null>(`/containers/${encodeURIComponent(id)}/changes`)) ?? []).map((c) => ({ path: c.Path, kind: CHANGE_KIND[c.Kind] ?? 'C' }));
    return (doc && confirmChanges(doc, changes)) ?? changes;
  }

  async logs(id: string, opts: LogOptions): Promise<{ stream: Readable; tty: boolean }> {
    // whether the container has a TTY (how its stream is framed) is asked alongside, not before
    const inspecting = this.inspectContainer(id);
    const requesting = this.path(`/containers/${encodeURIComponent(id)}/logs`).then((url) =>
      this.transport.request('GET', url, { query: { ...logQuery(opts), until: opts.until, timestamps: opts.timestamps ? 1 : undefined } }));
    const [inspected, requested] = await Promise.allSettled([inspecting, requesting]);
    if (inspected.status === 'rejected') {
      if (requested.status === 'fulfilled') requested.value.destroy();
      throw inspected.reason;
    }
    if (requested.status === 'rejected') throw requested.reason;
    return { stream: requested.value, tty: inspected.value.config.tty };
  }

  async stats(id: string, opts: { oneShot?: boolean } = {}): Promise<unknown> {
    return this.get(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'false', 'one-shot': opts.oneShot ? 'true' : undefined });
  }

  async statsStream(id: string): Promise<Readable> {
    return this.transport.request('GET', await this.path(`/containers/${encodeURIComponent(id)}/stats`), { query: { stream: 'true' } });
  }

  async statPath(id: string, path: string): Promise<PathStat> {
    const url = await this.path(`/containers/${encodeURIComponent(id)}/archive`);
    const res = await this.transport.request('HEAD', url, { query: { path } }).catch((err) => {
      // a HEAD answer has no body to say why; the engine fails it when a running container changes the path as it looks
      if (err instanceof EngineError && err.statusCode === 500) throw new EngineError(500, `The engine could not look at ${JSON.stringify(path)} in the container (it answered 500).`, 'If the running container is changing it, run the command again.');
      throw err;
    });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  }

  async getArchive(id: string, path: string): Promise<{ stat: PathStat; stream: Readable }> {
    try {
      const url = await this.path(`/containers/${encodeURIComponent(id)}/archive`);
      const res = await this.transport.request('GET', url, { query: { path } });
      return { stat: decodePathStat(res.headers['x-docker-container-path-stat']), stream: res };
    } catch (err) {
      if (err instanceof NotFound && !/no such container/i.test(err.message)) {
        throw new NotFound(`No such file or directory in the container: ${path}.`);
      }
      throw err;
    }
  }

  async putArchive(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    const res = await this.transport.request('PUT', await this.path(`/containers/${encodeURIComponent(id)}/archive`), {
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir ? 'true' : undefined, copyUIDGID: opts.copyUIDGID ? 'true' : undefined },
      body: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    await readBody(res);
  }

  async exportContainer(id: string): Promise<Readable> {
    return this.transport.request('GET', await this.path(`/containers/${encodeURIComponent(id)}/export`));
  }

  async createExec(id: string, spec: ExecSpec): Promise<string> {
    const r = await this.transport.json('POST', await this.path(`/containers/${encodeURIComponent(id)}/exec`), {
      body: {
        Cmd: spec.cmd,
        User: spec.user || undefined,
        WorkingDir: spec.workingDir || undefined,
        Env: spec.env?.length ? spec.env : undefined,
        Tty: spec.tty,
        AttachStdin: spec.attachStdin,
        AttachStdout: true,
        AttachStderr: true,
        Privileged: spec.privileged ?? false,
        DetachKeys: spec.detachKeys,
      },
    });
    return r.Id;
  }

  async startExec(execId: string, opts: { tty: boolean }): Promise<AttachedStream> {
    return this.transport.hijack('POST', await this.path(`/exec/${execId}/start`), { Detach: false, Tty: opts.tty });
  }

  async resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    const res = await this.transport.request('POST', await this.path(`/exec/${execId}/resize`), { query: { h: rows, w: cols }, okStatus: [201] });
    res.resume();
  }

  async inspectExec(execId: string): Promise<ExecState> {
    const r = await this.get(`/exec/${execId}/json`);
    return { running: !!r.Running, exitCode: r.ExitCode ?? null, pid: r.Pid ?? 0 };
  }

  async createContainer(spec: ContainerCreateSpec): Promise<string> {
    const r = await this.transport.json('POST', await this.path('/containers/create'), { query: { name: spec.name }, body: createBody(spec) });
    return r.Id;
  }

  async startContainer(id: string): Promise<void> {
    const res = await this.transport.request('POST', await this.path(`/containers/${encodeURIComponent(id)}/start`), { okStatus: [304] });
    res.resume();
  }

  async attachContainer(id: string, opts: { stdin: boolean; logs?: boolean }): Promise<AttachedStream> {
    return this.transport.hijack('POST', await this.path(`/containers/${encodeURIComponent(id)}/attach`), undefined, {
      stream: 1,
      stdin: opts.stdin ? 1 : 0,
      stdout: 1,
      stderr: 1,
      logs: opts.logs ? 1 : undefined,
    });
  }

  async resizeContainer(id: string, rows: number, cols: number): Promise<void> {
    const res = await this.transport.request('POST', await this.path(`/containers/${encodeURIComponent(id)}/resize`), { query: { h: rows, w: cols } });
    res.resume();
  }

  async waitContainer(id: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<{ statusCode: number }> {
    const r = await this.transport.json('POST', await this.path(`/containers/${encodeURIComponent(id)}/wait`), { query: { condition } });
    return { statusCode: r?.StatusCode ?? 0 };
  }

  async killContainer(id: string, signal?: string): Promise<void> {
    const res = await this.transport.request('POST', await this.path(`/containers/${encodeURIComponent(id)}/kill`), { query: { signal } });
    res.resume();
  }

  async stopContainer(id: string, timeoutSeconds?: number): Promise<void> {
    const res = await this.transport.request('POST', await this.path(`/containers/${encodeURIComponent(id)}/stop`), { query: { t: timeoutSeconds }, okStatus: [304] });
    res.resume();
  }

  async removeContainer(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const res = await this.transport.request('DELETE', await this.path(`/containers/${encodeURIComponent(id)}`), {
      query: { force: opts.force ? 'true' : undefined, v: opts.volumes ? 'true' : undefined },
    });
    res.resume();
  }

  async commitContainer(id: string, opts: { repo?: string; tag?: string; labels?: Record<string, string>; pause?: boolean; comment?: string }): Promise<string> {
    const r = await this.transport.json('POST', await this.path('/commit'), {
      query: { container: id, repo: opts.repo, tag: opts.tag, pause: opts.pause === false ? 'false' : undefined, comment: opts.comment },
      body: opts.labels ? { Labels: opts.labels } : {},
    });
    return r.Id;
  }

  async listImages(opts: { filters?: Filters } = {}): Promise<ImageSummary[]> {
    const list = await this.get<any[]>('/images/json', { filters: filtersQuery(opts.filters) });
    return list.map((i) => ({ id: i.Id, repoTags: i.RepoTags ?? [], labels: i.Labels ?? {}, created: i.Created ?? 0, size: i.Size ?? 0 }));
  }

  async inspectImage(ref: string) {
    const raw = await this.get(`/images/${encodeURIComponent(ref)}/json`);
    const c = raw.Config ?? {};
    return {
      id: raw.Id as string,
      config: { env: c.Env ?? [], cmd: c.Cmd ?? null, entrypoint: c.Entrypoint ?? null, user: c.User ?? '', workingDir: c.WorkingDir ?? '', labels: c.Labels ?? {} },
      repoTags: ((raw.RepoTags ?? []) as string[]).filter((t) => t !== '<none>:<none>'),
      repoDigests: ((raw.RepoDigests ?? []) as string[]).filter((d) => !d.startsWith('<none>@')),
      comment: (raw.Comment ?? '') as string,
      raw,
    };
  }

  async removeImage(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<void> {
    const res = await this.transport.request('DELETE', await this.path(`/images/${encodeURIComponent(ref)}`), {
      query: { force: opts.force ? 'true' : undefined, noprune: opts.noprune ? 'true' : undefined },
    });
    await readBody(res);
  }

  async importImage(tar: Readable, opts: { repo: string; tag?: string; changes?: string[]; message?: string }): Promise<string> {
    const params = new URLSearchParams({ fromSrc: '-', repo: opts.repo, tag: opts.tag ?? 'latest' });
    if (opts.message) params.set('message', opts.message);
    for (const change of opts.changes ?? []) params.append('changes', change);
    const res = await this.transport.request('POST', `${await this.path('/images/create')}?${params}`, {
      body: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    const body = (await readBody(res)).toString('utf8');
    let id = '';
    for (const line of body.split('\n')) {
      if (!line.trim()) continue;
      const msg = JSON.parse(line);
      if (msg.error) throw new Error(msg.error);
      if (msg.status && /^sha256:/.test(msg.status)) id = msg.status;
    }
    return id;
  }

  async pullImage(ref: string): Promise<void> {
    const slash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    const [fromImage, tag] = colon > slash && !ref.includes('@') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ref.includes('@') ? undefined : 'latest'];
    const res = await this.transport.request('POST', await this.path('/images/create'), { query: { fromImage, tag } });
    // Progress comes as JSON lines; a failure after the 200 arrives as an {"error": ...} line.
    for (const line of (await readBody(res)).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const msg = JSON.parse(line);
      if (msg.error) throw new EngineError(500, `${String(msg.error).replace(/\.?$/, '.')}`);
    }
  }

  async listVolumes(opts: { filters?: Filters } = {}): Promise<VolumeSummary[]> {
    const r = await this.get('/volumes', { filters: filtersQuery(opts.filters) });
    return (r.Volumes ?? []).map((v: any) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async removeVolume(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const res = await this.transport.request('DELETE', await this.path(`/volumes/${encodeURIComponent(name)}`), { query: { force: opts.force ? 'true' : undefined } });
    res.resume();
  }

  /** Answers only on a swarm manager; a worker or a plain engine gives the engine's own "not a swarm manager" error. */
  readonly swarm: SwarmManagerApi = {
    listServices: async (filters?: Filters) => (await this.get<any[]>('/services', { filters: filtersQuery(filters) })).map(toService),
    listTasks: async (filters?: Filters) => (await this.get<any[]>('/tasks', { filters: filtersQuery(filters) })).map(toTask),
    listNodes: async () => (await this.get<any[]>('/nodes')).map(toNode),
    serviceLogs: async (id: string, opts: LogOptions) =>
      this.transport.request('GET', await this.path(`/services/${encodeURIComponent(id)}/logs`), {
        query: {
          ...logQuery(opts),
          // the engine's logs of a service always carry their time: porthole drops it unless asked
          timestamps: 1,
          details: 1,
        },
      }),
  };

  close(): void {
    this.transport.close();
  }
}

/** The query of the engine's logs endpoints (a container's, a service's) that both take alike. */
function logQuery(opts: LogOptions): Record<string, string | number | boolean | undefined> {
  return {
    stdout: opts.stdout ?? true,
    stderr: opts.stderr ?? true,
    follow: opts.follow ? 1 : undefined,
    tail: opts.tail === undefined ? undefined : String(opts.tail),
    since: opts.since,
  };
}
