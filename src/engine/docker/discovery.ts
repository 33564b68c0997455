// Engine discovery in the docker CLI's order: --context, -H, DOCKER_HOST, DOCKER_CONTEXT, the config's current
// context, then the well-known sockets. Each way either yields an endpoint or says why it was skipped.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint, TlsFiles } from '../endpoint.js';
import type { TlsFlags } from '../../cli/global.js';
import { EngineUnavailable, InvalidArgument } from '../../errors.js';

export interface DiscoveryInput {
  contextFlag?: string;
  hostFlag?: string;
  /** --tls, --tlsverify, --tlscacert, --tlscert, --tlskey, for -H and DOCKER_HOST (a context brings its own). */
  tlsFlags?: TlsFlags;
  env: NodeJS.ProcessEnv;
}

type Found = { host: string; tls?: TlsFiles; via: string; context?: string };

function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A PEM file the person named (a flag): unreadable is an error. One of docker's defaults: absent is fine. */
function readTlsFile(path: string, flag: string | undefined, what: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (!flag) return undefined;
    const code = (err as NodeJS.ErrnoException).code;
    throw new EngineUnavailable(
      `Could not read the TLS ${what} ${path} given by ${flag}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}.`,
      `Give ${flag} a readable PEM file.`,
    );
  }
}

/**
 * TLS settings as the docker CLI decides them: --tls (default DOCKER_TLS set), --tlsverify (default DOCKER_TLS_VERIFY
 * set; given at all, even =false, it turns TLS on), and the CA, certificate and key from --tlscacert/--tlscert/--tlskey,
 * else ca.pem, cert.pem, key.pem in DOCKER_CERT_PATH (default ~/.docker). Undefined when TLS is off.
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv, flags: TlsFlags = {}): TlsFiles | undefined {
  const verify = flags.tlsVerify ?? !!env.DOCKER_TLS_VERIFY;
  const on = (flags.tls ?? !!env.DOCKER_TLS) || verify || flags.tlsVerify !== undefined;
  if (!on) return undefined;
  const dir = env.DOCKER_CERT_PATH || configDir(env);
  const caPath = flags.caCert ?? join(dir, 'ca.pem');
  const certPath = flags.cert ?? join(dir, 'cert.pem');
  const keyPath = flags.key ?? join(dir, 'key.pem');
  const ca = readTlsFile(caPath, flags.caCert && '--tlscacert', 'CA certificate');
  const cert = readTlsFile(certPath, flags.cert && '--tlscert', 'certificate');
  const key = readTlsFile(keyPath, flags.key && '--tlskey', 'key');
  const how = flags.tlsVerify !== undefined ? `--tlsverify${flags.tlsVerify ? '' : '=false'}` : flags.tls !== undefined ? '--tls' : env.DOCKER_TLS_VERIFY ? 'DOCKER_TLS_VERIFY' : 'DOCKER_TLS';
  const parts = [
    verify ? `${how}: verify the engine against ${ca ? caPath : "Node's trusted CAs (no " + caPath + ')'}` : `${how}: TLS without verifying the engine`,
    cert && key ? `client certificate ${certPath}` : `no client certificate (none at ${certPath})`,
  ];
  return { ca, cert, key, verify, described: parts.join(', ') };
}

/** Reads a named docker context's endpoint from $DOCKER_CONFIG/contexts. */
export async function loadContext(name: string, env: NodeJS.ProcessEnv): Promise<Found> {
  const dir = configDir(env);
  // node:crypto costs several ms to load: only contexts need it.
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(name).digest('hex');
  const metaPath = join(dir, 'contexts', 'meta', digest, 'meta.json');
  if (!existsSync(metaPath)) {
    throw new EngineUnavailable(
      `Docker context "${name}" not found (looked for ${metaPath}).`,
      'List contexts with `docker context ls`, or pass -H/--host instead.',
    );
  }
  let meta: any;
  try {
    meta = readJson(metaPath);
  } catch (err) {
    throw new EngineUnavailable(`Docker context "${name}" is unreadable: ${(err as Error).message}.`);
  }
  const ep = meta?.Endpoints?.docker;
  if (!ep?.Host) throw new EngineUnavailable(`Docker context "${name}" has no docker endpoint (${metaPath}).`);
  const tlsDir = join(dir, 'contexts', 'tls', digest, 'docker');
  const ca = readIfExists(join(tlsDir, 'ca.pem'));
  const cert = readIfExists(join(tlsDir, 'cert.pem'));
  const key = readIfExists(join(tlsDir, 'key.pem'));
  const tls = ca || cert || key ? { ca, cert, key, verify: !ep.SkipTLSVerify } : undefined;
  return { host: ep.Host, tls, via: `context "${name}"`, context: name };
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export function defaultSockets(env: NodeJS.ProcessEnv): string[] {
  const home = homedir();
  const candidates = ['/var/run/docker.sock'];
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'));
  candidates.push(join(home, '.docker', 'run', 'docker.sock'));
  candidates.push('/run/podman/podman.sock');
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'));
  return candidates;
}

/** Accepts docker's host forms: unix://, tcp://, ssh://, fd:// is refused, a bare path means unix. */
export function normalizeHost(host: string): string {
  const trimmed = host.trim();
  if (trimmed.startsWith('/')) return `unix://${trimmed}`;
  if (/^(unix|tcp|ssh|https?):\/\//.test(trimmed)) return trimmed.replace(/^https?:\/\//, 'tcp://');
  if (/^[\w.-]+:\d+$/.test(trimmed)) return `tcp://${trimmed}`;
  throw new InvalidArgument(
    `Engine host "${host}" is not understood.`,
    'Use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST.',
  );
}

export async function discover(input: DiscoveryInput): Promise<Endpoint> {
  const { env } = input;
  const skipped: { way: string; reason: string }[] = [];
  const done = (found: Found): Endpoint => ({ ...found, host: normalizeHost(found.host), skipped });

  if (input.contextFlag && input.hostFlag) {
    throw new InvalidArgument('--context and --host cannot be used together.', 'Pick one of them.');
  }
  if (input.contextFlag) {
    if (input.contextFlag !== 'default') return done(await loadContext(input.contextFlag, env));
    skipped.push({ way: '--context', reason: 'the "default" context means the default socket' });
  } else skipped.push({ way: '--context', reason: 'not given' });

  if (input.hostFlag) return done({ host: input.hostFlag, tls: tlsFromEnv(env, input.tlsFlags), via: '--host flag' });
  skipped.push({ way: '-H/--host', reason: 'not given' });

  if (!input.contextFlag) {
    if (env.DOCKER_HOST) return done({ host: env.DOCKER_HOST, tls: tlsFromEnv(env, input.tlsFlags), via: 'DOCKER_HOST' });
    skipped.push({ way: 'DOCKER_HOST', reason: 'not set' });

    if (env.DOCKER_CONTEXT && env.DOCKER_CONTEXT !== 'default') return done(await loadContext(env.DOCKER_CONTEXT, env));
    skipped.push({ way: 'DOCKER_CONTEXT', reason: env.DOCKER_CONTEXT ? 'set to "default"' : 'not set' });

    const configPath = join(configDir(env), 'config.json');
    let current: string | undefined;
    try {
      current = readJson(configPath)?.currentContext;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        skipped.push({ way: `currentContext in ${configPath}`, reason: `unreadable (${(err as Error).message})` });
      }
    }
    if (current && current !== 'default') return done(await loadContext(current, env));
    if (!skipped.some((s) => s.way.startsWith('currentContext'))) {
      skipped.push({
        way: `currentContext in ${configPath}`,
        reason: current ? 'set to "default"' : existsSync(configPath) ? 'not set' : 'no such file',
      });
    }
  }

  const sockets = defaultSockets(env);
  for (const path of sockets) {
    if (isSocket(path)) return done({ host: `unix://${path}`, via: 'default socket' });
    skipped.push({ way: path, reason: existsSync(path) ? 'not a socket' : 'no such socket' });
  }
  throw new EngineUnavailable(
    `No container engine found: looked for DOCKER_HOST, a docker context, and the sockets ${sockets.join(', ')}.`,
    'Start the Docker engine (e.g. `dockerd` or `systemctl start docker`), or point porthole at one with -H/--host or DOCKER_HOST.',
  );
}
