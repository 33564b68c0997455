// Which cluster, user and namespace to use, found the way kubectl finds them: --kubeconfig, else $KUBECONFIG (a
// list of files, merged: the first file to set a name wins), else ~/.kube/config, else the pod's own service
// account; the current context unless --kube-context names another; the namespace from -n/--namespace, else the
// context's, else "default". Pure apart from reading files: the network is client.ts's.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parseKubeYaml } from './mini-yaml.js';
import { EngineUnavailable, InvalidArgument } from '../../errors.js';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ExecPlugin {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** The folder of the kubeconfig that named it: a relative command is found from there. */
  baseDir: string;
  installHint: string | null;
}

export interface KubeAuth {
  token?: string;
  tokenFile?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  username?: string;
  password?: string;
  exec?: ExecPlugin;
}

export interface KubeTarget {
  server: string;
  clusterName: string;
  contextName: string;
  userName: string;
  namespace: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  auth: KubeAuth;
  /** Why this configuration: where it came from, and why the context and namespace are these. */
  via: string;
  contextVia: string;
  namespaceVia: string;
  files: string[];
}

type Named<T> = { name: string } & T;
interface RawConfig {
  'current-context'?: string;
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: Record<string, unknown> }>[];
}

interface Loaded {
  currentContext?: string;
  clusters: Map<string, { value: Record<string, unknown>; dir: string }>;
  users: Map<string, { value: Record<string, unknown>; dir: string }>;
  contexts: Map<string, Record<string, unknown>>;
}

export type ReadText = (path: string) => string | undefined;

const readIfThere: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineUnavailable(`Cannot read the kubeconfig ${path}: ${(err as Error).message}.`, 'Check its permissions, or name another with --kubeconfig.');
  }
};

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

async function merge(into: Loaded, path: string, text: string): Promise<void> {
  let raw: RawConfig;
  try {
    // The common kubeconfig is parsed here in well under a millisecond; anything unusual goes to the full parser.
    const quick = parseKubeYaml(text);
    raw = ((quick !== undefined ? quick : (await import('yaml')).parse(text)) ?? {}) as RawConfig;
  } catch (err) {
    throw new EngineUnavailable(`The kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}.`, 'Fix the file, or name another with --kubeconfig.');
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new EngineUnavailable(`The kubeconfig ${path} is not a kubeconfig.`, 'Name another with --kubeconfig.');
  const dir = dirname(path);
  if (!into.currentContext && raw['current-context']) into.currentContext = String(raw['current-context']);
  for (const c of raw.clusters ?? []) if (c?.name && !into.clusters.has(c.name)) into.clusters.set(c.name, { value: c.cluster ?? {}, dir });
  for (const u of raw.users ?? []) if (u?.name && !into.users.has(u.name)) into.users.set(u.name, { value: u.user ?? {}, dir });
  for (const c of raw.contexts ?? []) if (c?.name && !into.contexts.has(c.name)) into.contexts.set(c.name, c.context ?? {});
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const fromFile = (path: string, dir: string) => (isAbsolute(path) ? path : join(dir, path));

function readBytes(path: string, what: string, read: (p: string) => Buffer): Buffer {
  try {
    return read(path);
  } catch (err) {
    throw new EngineUnavailable(`Cannot read the ${what} ${path} named in the kubeconfig: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Fix the path in the kubeconfig, or use another --kube-context.');
  }
}

export interface LoadInput {
  flags: KubeFlags;
  env: NodeJS.ProcessEnv;
  readText?: ReadText;
  readBytes?: (path: string) => Buffer;
  home?: string;
}

export async function loadKubeTarget(input: LoadInput): Promise<KubeTarget> {
  const read = input.readText ?? readIfThere;
  const bytes = input.readBytes ?? ((p: string) => readFileSync(p));
  const { flags, env } = input;
  const loaded: Loaded = { clusters: new Map(), users: new Map(), contexts: new Map() };
  const files: string[] = [];
  let via: string;
  if (flags.kubeconfig) {
    const text = read(flags.kubeconfig);
    if (text === undefined) throw new EngineUnavailable(`The kubeconfig ${flags.kubeconfig} given with --kubeconfig does not exist.`, 'Check the path.');
    await merge(loaded, flags.kubeconfig, text);
    files.push(flags.kubeconfig);
    via = `--kubeconfig ${flags.kubeconfig}`;
  } else if (env.KUBECONFIG) {
    for (const path of env.KUBECONFIG.split(delimiter).filter(Boolean)) {
      const text = read(path);
      // kubectl skips listed files that do not exist.
      if (text === undefined) continue;
      await merge(loaded, path, text);
      files.push(path);
    }
    via = `KUBECONFIG=${env.KUBECONFIG}`;
  } else {
    const path = join(input.home ?? env.HOME ?? homedir(), '.kube', 'config');
    const text = read(path);
    if (text !== undefined) {
      await merge(loaded, path, text);
      files.push(path);
    }
    via = path;
  }
  if (!files.length) {
    const inCluster = inClusterTarget(input, read);
    if (inCluster) return inCluster;
    throw new EngineUnavailable(
      `No kubeconfig found (looked at ${via}) and not running in a pod.`,
      'Point --kubeconfig or KUBECONFIG at one, or create ~/.kube/config (e.g. with your cloud CLI).',
    );
  }

  let contextName: string;
  let contextVia: string;
  if (flags.context) {
    contextName = flags.context;
    contextVia = '--kube-context';
  } else if (loaded.currentContext) {
    contextName = loaded.currentContext;
    contextVia = 'the current-context of the kubeconfig';
  } else {
    throw new EngineUnavailable(`The kubeconfig (${files.join(', ')}) has no current-context.`, `Choose one with --kube-context NAME (there: ${[...loaded.contexts.keys()].join(', ') || 'none'}).`);
  }
  const context = loaded.contexts.get(contextName);
  if (!context) {
    const known = [...loaded.contexts.keys()];
    throw new EngineUnavailable(
      `Kubernetes context "${contextName}" (from ${contextVia}) is not in ${files.join(', ')}.`,
      known.length ? `Known contexts: ${known.join(', ')}.` : 'The kubeconfig defines no contexts.',
    );
  }
  const clusterName = str(context.cluster) ?? '';
  const cluster = loaded.clusters.get(clusterName);
  if (!cluster) throw new EngineUnavailable(`Context "${contextName}" names cluster "${clusterName}", which the kubeconfig does not define.`, 'Fix the kubeconfig, or use another --kube-context.');
  const server = str(cluster.value.server);
  if (!server) throw new EngineUnavailable(`Cluster "${clusterName}" in the kubeconfig has no server address.`, 'Fix the kubeconfig, or use another --kube-context.');
  const userName = str(context.user) ?? '';
  const user = loaded.users.get(userName) ?? { value: {}, dir: '' };

  let ca: Buffer | undefined;
  const caData = str(cluster.value['certificate-authority-data']);
  const caFile = str(cluster.value['certificate-authority']);
  if (caData) ca = Buffer.from(caData, 'base64');
  else if (caFile) ca = readBytes(fromFile(caFile, cluster.dir), 'certificate authority file', bytes);

  const u = user.value;
  const auth: KubeAuth = {};
  const certData = str(u['client-certificate-data']);
  const certFile = str(u['client-certificate']);
  const keyData = str(u['client-key-data']);
  const keyFile = str(u['client-key']);
  if (certData) auth.clientCert = Buffer.from(certData, 'base64');
  else if (certFile) auth.clientCert = readBytes(fromFile(certFile, user.dir), 'client certificate', bytes);
  if (keyData) auth.clientKey = Buffer.from(keyData, 'base64');
  else if (keyFile) auth.clientKey = readBytes(fromFile(keyFile, user.dir), 'client key', bytes);
  if (str(u.token)) auth.token = str(u.token);
  else if (str(u.tokenFile)) auth.tokenFile = fromFile(str(u.tokenFile)!, user.dir);
  if (str(u.username)) {
    auth.username = str(u.username);
    auth.password = typeof u.password === 'string' ? u.password : '';
  }
  const exec = u.exec as Record<string, unknown> | undefined;
  if (exec && str(exec.command)) {
    auth.exec = {
      command: str(exec.command)!,
      args: Array.isArray(exec.args) ? exec.args.map(String) : [],
      env: Array.isArray(exec.env) ? (exec.env as { name: string; value: string }[]).filter((e) => e?.name).map((e) => ({ name: String(e.name), value: String(e.value ?? '') })) : [],
      apiVersion: str(exec.apiVersion) ?? 'client.authentication.k8s.io/v1',
      baseDir: user.dir,
      installHint: str(exec.installHint) ?? null,
    };
  }
  if (u['auth-provider']) {
    throw new EngineUnavailable(
      `User "${userName}" in the kubeconfig uses an auth-provider, which kubectl itself no longer supports.`,
      'Switch the user to an exec credential plugin (e.g. kubelogin or gke-gcloud-auth-plugin).',
    );
  }

  const [namespace, namespaceVia] = flags.namespace
    ? [flags.namespace, '-n/--namespace']
    : str(context.namespace)
      ? [str(context.namespace)!, `the namespace of context "${contextName}"`]
      : ['default', 'the default (the context names none)'];
  checkNamespace(namespace);
  return {
    server: server.replace(/\/+$/, ''),
    clusterName,
    contextName,
    userName,
    namespace,
    ca,
    insecureSkipTlsVerify: cluster.value['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster.value['tls-server-name']),
    auth,
    via,
    contextVia,
    namespaceVia,
    files,
  };
}

function checkNamespace(namespace: string): void {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new InvalidArgument(`"${namespace.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a valid Kubernetes namespace.`, 'Namespaces are lower-case letters, digits and "-".');
  }
}

/** Inside a pod: the API server from the environment, the pod's service account token and CA. */
function inClusterTarget(input: LoadInput, read: ReadText): KubeTarget | undefined {
  const { env, flags } = input;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const dir = env.PORTHOLE_SERVICE_ACCOUNT_DIR ?? SERVICE_ACCOUNT_DIR;
  const token = read(join(dir, 'token'));
  if (token === undefined) return undefined;
  const ca = read(join(dir, 'ca.crt'));
  const ownNamespace = read(join(dir, 'namespace'))?.trim();
  const namespace = flags.namespace ?? ownNamespace ?? 'default';
  checkNamespace(namespace);
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    clusterName: 'in-cluster',
    contextName: 'in-cluster',
    userName: 'the pod\'s service account',
    namespace,
    ca: ca === undefined ? undefined : Buffer.from(ca),
    insecureSkipTlsVerify: false,
    auth: { tokenFile: join(dir, 'token') },
    via: `in-cluster service account (${dir}), no kubeconfig found`,
    contextVia: 'running in a pod',
    namespaceVia: flags.namespace ? '-n/--namespace' : ownNamespace ? "the pod's own namespace" : 'the default',
    files: [],
  };
}
