// porthole's own view of a container engine. Commands see only these types; engine/docker maps the wire to them.
import type { Duplex, Readable } from 'node:stream';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerSummary {
  id: string;
  /** Names without docker's leading slash. */
  names: string[];
  image: string;
  imageId: string;
  command: string;
  created: number; // unix seconds
  state: ContainerState;
  status: string;
  labels: Record<string, string>;
}

export interface HealthState {
  status: string; // starting | healthy | unhealthy | none
  failingStreak: number;
  log: { start: string; end: string; exitCode: number; output: string }[];
}

export interface MountPoint {
  type: string; // bind | volume | tmpfs | npipe
  name?: string; // volume name
  source: string;
  destination: string;
  mode: string;
  rw: boolean;
  propagation?: string;
}

export interface PortBinding {
  containerPort: string; // e.g. "80/tcp"
  hostIp: string;
  hostPort: string;
}

/** A container's resource limits, as docker run sets them (--memory, --memory-swap, --cpus, --pids-limit, --ulimit ...). */
export interface ResourceLimits {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  oomKillDisable?: boolean;
  ulimits?: { name: string; soft: number; hard: number }[];
}

export interface ContainerDetails {
  id: string;
  /** Set when these details stand for an image named as a target (engine/images/target.ts): no container exists. */
  isImage?: boolean;
  name: string; // without leading slash
  image: string; // the image reference the container was created from
  imageId: string;
  created: string;
  path: string;
  args: string[];
  state: {
    status: ContainerState;
    running: boolean;
    paused: boolean;
    restarting: boolean;
    oomKilled: boolean;
    dead: boolean;
    pid: number;
    exitCode: number;
    error: string;
    startedAt: string;
    finishedAt: string;
    health?: HealthState;
  };
  restartCount: number;
  config: {
    hostname: string;
    user: string;
    env: string[];
    cmd: string[] | null;
    entrypoint: string[] | null;
    workingDir: string;
    labels: Record<string, string>;
    tty: boolean;
    openStdin: boolean;
    stopSignal?: string;
    healthcheck?: { test: string[]; interval?: number; timeout?: number; retries?: number };
    exposedPorts: string[];
  };
  hostConfig: {
    networkMode: string;
    restartPolicy: { name: string; maximumRetryCount: number };
    binds: string[];
    readonlyRootfs: boolean;
    privileged: boolean;
    capAdd: string[];
    capDrop: string[];
    securityOpt: string[];
    usernsMode: string;
    pidMode: string;
    memory: number;
    nanoCpus: number;
    autoRemove: boolean;
    /** Every resource limit the container was given (only those set), to carry over to a debug copy. */
    limits?: ResourceLimits;
  };
  mounts: MountPoint[];
  ports: PortBinding[];
  /** The engine's raw inspect document, for `--json` output and for fields porthole does not model. */
  raw: unknown;
}

/** A file read from the container's storage layers on the engine's host (see docker/layer.ts). */
export interface LayerFile {
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** Reads the file from the start, in chunks, until `onData` returns false or `maxBytes` were read; closes it. */
  read(onData: (chunk: Buffer) => boolean, maxBytes: number): { bytesRead: number; stopped: boolean };
  /** The whole file in chunks, for a consumer that waits between them; closes it at the end or on return. */
  chunks(): AsyncGenerator<Buffer>;
}

/** One entry read from the container's storage layers (see docker/layer-walk.ts and docker/layer.ts statOwnLayer). */
export interface LayerDirEntry {
  /** The name's bytes as a byte string (latin1: one char per byte). */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'other';
  /** Permission bits, with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for a regular file, 0 for anything else (as in the engine's archive). */
  size: number;
  /** Seconds since the epoch, whole (the engine's archive drops the fraction). */
  mtime: number;
  /** A symlink's target as a byte string, '' for anything else. */
  linkTarget: string;
  /**
   * The second and later names of a file with several, as the engine's tar writes them: the first name (in the
   * tar's order) as the tar names it; the entry then stands for a hardlink, with no size of its own.
   */
  hardlinkTo?: string;
}

/** One entry of a tree walked from the container's storage layers (see docker/layer-walk.ts). */
export interface LayerWalkEntry extends LayerDirEntry {
  /** Absolute container path, a byte string. */
  path: string;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number; // Go os.FileMode bits as the engine reports them
  mtime: string;
  linkTarget: string;
}

export interface Change {
  path: string;
  kind: 'A' | 'C' | 'D';
}

export interface TopResult {
  titles: string[];
  processes: string[][];
}

export interface ExecSpec {
  cmd: string[];
  user?: string;
  workingDir?: string;
  env?: string[];
  tty: boolean;
  attachStdin: boolean;
  privileged?: boolean;
  detachKeys?: string;
}

export interface ExecState {
  running: boolean;
  exitCode: number | null;
  pid: number;
}

/** A connection to a running process's stdio: raw bytes with a TTY, docker's multiplexed frames without. */
export interface AttachedStream {
  socket: Duplex;
  /** Bytes the engine sent with the upgrade response, before the socket was handed over. */
  head: Buffer;
}

export interface LogOptions {
  follow?: boolean;
  tail?: number | 'all';
  since?: string;
  until?: string;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface ContainerCreateSpec {
  name?: string;
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  labels?: Record<string, string>;
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  attachStdin?: boolean;
  attachStdout?: boolean;
  attachStderr?: boolean;
  hostname?: string;
  healthcheckNone?: boolean;
  hostConfig?: {
    binds?: string[];
    mounts?: { type: string; source: string; target: string; readOnly: boolean }[];
    networkMode?: string;
    pidMode?: string;
    ipcMode?: string;
    capAdd?: string[];
    capDrop?: string[];
    securityOpt?: string[];
    privileged?: boolean;
    autoRemove?: boolean;
    readonlyRootfs?: boolean;
    usernsMode?: string;
    memory?: number;
    /** Resource limits (a debug copy keeps the original's); `memory` above wins where both are given. */
    limits?: ResourceLimits;
    volumesFrom?: string[];
    tmpfs?: Record<string, string>;
    init?: boolean;
  };
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  labels: Record<string, string>;
  created: number;
  size: number;
}

export interface ImageDetails {
  id: string;
  config: { env: string[]; cmd: string[] | null; entrypoint: string[] | null; user: string; workingDir: string; labels: Record<string, string> };
  repoTags: string[];
  /** Empty for an image that never came from or went to a registry (an import or a commit). */
  repoDigests: string[];
  /** The commit or import message. */
  comment: string;
  raw: unknown;
}

export interface VolumeSummary {
  name: string;
  labels: Record<string, string>;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  minApiVersion: string;
  os: string;
  arch: string;
  kernelVersion: string;
  /** e.g. "Docker Engine - Community" or "Podman Engine" */
  platform: string;
}

export interface Filters {
  [key: string]: string[];
}

export interface EngineClient {
  /** How this engine was reached; see engine/docker/discovery.ts. */
  readonly endpoint: import('./endpoint.js').Endpoint;
  /** The API version both sides speak, after negotiation. */
  apiVersion(opts?: { fresh?: boolean }): Promise<string>;
  version(): Promise<EngineVersion>;

  listContainers(opts?: { all?: boolean; filters?: Filters }): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string): Promise<ContainerDetails>;
  top(id: string, psArgs?: string): Promise<TopResult>;
  changes(id: string): Promise<Change[]>;
  logs(id: string, opts: LogOptions): Promise<{ stream: Readable; tty: boolean }>;
  /** One stats sample; `oneShot` skips the engine's second sample (API 1.41+). */
  stats(id: string, opts?: { oneShot?: boolean }): Promise<unknown>;
  statsStream(id: string): Promise<Readable>;

  statPath(id: string, path: string): Promise<PathStat>;
  getArchive(id: string, path: string): Promise<{ stat: PathStat; stream: Readable }>;
  /**
   * The file at `path` straight from the container's storage layers, when the engine runs on this host and that
   * is for sure what the container sees there; undefined otherwise, and always for a container this client has
   * not inspected. Saves the archive endpoint's cost (its tar helper) for logs, configs and the like.
   */
  openLayerFile?(id: string, path: string): Promise<LayerFile | undefined>;
  /**
   * The entries of folder `path` as the container sees them, read from its storage layers, when the engine runs
   * on this host and the layers can answer for sure (checked against the engine's own view); undefined otherwise.
   * Listing a folder through the archive endpoint costs everything below it (a folder holding a 1 GiB file
   * costs that gigabyte); this costs one HEAD request per layer that adds names to the folder. Files with several
   * names come as the folder's archive shows them (hardlinks: false: each as itself, as its own archive shows it).
   * details: false: names and types only (nothing else is read; plain ls of a huge folder needs no more).
   */
  readLayerDir?(id: string, path: string, opts?: { hardlinks?: boolean; details?: boolean }): Promise<LayerDirEntry[] | undefined>;
  /**
   * The entries at `paths`, as changes() names them (added or changed), read from the container's own layer when
   * the engine runs on this host: each path's entry, none for a path gone since; undefined when the layer cannot
   * answer for sure. What an export pass would say about them, without reading the image's files too.
   */
  statChanges?(id: string, paths: string[]): Promise<Map<string, LayerDirEntry> | undefined>;
  /**
   * Every entry under folder `path` in the engine's walk order, read from the container's storage layers when
   * the engine runs on this host and the layers can answer for sure; undefined otherwise (ask the engine).
   * `exportView`: as the export endpoint shows `/` (no mounts, no entry for the root), else as the archive
   * endpoint shows `path`. Names, types, sizes and times only: no contents; without `details`, names and types.
   */
  walkLayers?(id: string, path: string, opts: { exportView: boolean; details: boolean }): Promise<AsyncIterable<LayerWalkEntry> | undefined>;
  putArchive(id: string, path: string, tar: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void>;
  exportContainer(id: string): Promise<Readable>;

  createExec(id: string, spec: ExecSpec): Promise<string>;
  startExec(execId: string, opts: { tty: boolean }): Promise<AttachedStream>;
  resizeExec(execId: string, rows: number, cols: number): Promise<void>;
  inspectExec(execId: string): Promise<ExecState>;

  createContainer(spec: ContainerCreateSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  attachContainer(id: string, opts: { stdin: boolean; logs?: boolean }): Promise<AttachedStream>;
  resizeContainer(id: string, rows: number, cols: number): Promise<void>;
  waitContainer(id: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<{ statusCode: number }>;
  killContainer(id: string, signal?: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  commitContainer(id: string, opts: { repo?: string; tag?: string; labels?: Record<string, string>; pause?: boolean; comment?: string }): Promise<string>;

  listImages(opts?: { filters?: Filters }): Promise<ImageSummary[]>;
  inspectImage(ref: string): Promise<ImageDetails>;
  removeImage(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<void>;
  /** `docker import`: a root filesystem tar becomes an image. */
  importImage(tar: Readable, opts: { repo: string; tag?: string; changes?: string[]; message?: string }): Promise<string>;
  /** `docker pull` of a public image: resolves once it is there; rejects with the engine's reason otherwise. */
  pullImage(ref: string): Promise<void>;
  listVolumes(opts?: { filters?: Filters }): Promise<VolumeSummary[]>;
  removeVolume(name: string, opts?: { force?: boolean }): Promise<void>;

  /** The swarm manager's API, when this engine may be one (Docker); absent for engines without swarms. */
  readonly swarm?: SwarmManagerApi;

  /** Frees sockets so the process can end. */
  close(): void;
}

/** A swarm service as the manager describes it (porthole's own fields only). */
export interface SwarmService {
  id: string;
  name: string;
  image: string;
  /** Replicas wanted; undefined for a global service. */
  replicas?: number;
  mode: 'replicated' | 'global';
}

export type SwarmTaskState =
  | 'new' | 'allocated' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting' | 'running'
  | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';

/** One task: a slot's attempt at running a container on one node. */
export interface SwarmTask {
  id: string;
  serviceId: string;
  nodeId: string;
  /** Replica number; undefined for a global service's task. */
  slot?: number;
  desiredState: string;
  state: SwarmTaskState;
  message: string;
  /** The reason it failed or was rejected, as the engine words it ("task: non-zero exit (3)", "No such image: x"). */
  err: string;
  /** When the task reached its current state (ISO time). */
  timestamp: string;
  createdAt: string;
  containerId?: string;
  exitCode?: number;
}

export interface SwarmNode {
  id: string;
  hostname: string;
  state: string; // ready | down | unknown | disconnected
  availability: string;
  /** The manager's words on the node's status ("heartbeat failure"), empty when none. */
  message?: string;
  /** The node's address as the manager knows it (for a manager, its manager address's host). */
  addr: string;
  manager: boolean;
}

/** The swarm side of an engine that is a swarm manager; see engine/swarm/ for what is built on it. */
export interface SwarmManagerApi {
  listServices(filters?: Filters): Promise<SwarmService[]>;
  listTasks(filters?: Filters): Promise<SwarmTask[]>;
  listNodes(): Promise<SwarmNode[]>;
  /** `/services/{id}/logs` with details: each line carries the task and node it came from (multiplexed frames). */
  serviceLogs(id: string, opts: LogOptions): Promise<Readable>;
}
