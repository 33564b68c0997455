// Global flags stand before the command name, as with docker.
import { InvalidArgument } from '../errors.js';

/** The global flags, as data for help-free uses (shell completion); parseGlobal below is their parser. */
export const GLOBAL_FLAGS: { long: string; short?: string; value?: 'file' | 'word'; description: string }[] = [
  { long: 'host', short: 'H', value: 'word', description: 'Engine address (unix://, tcp://, ssh://)' },
  { long: 'context', short: 'c', value: 'word', description: 'Docker context to use' },
  { long: 'tls', description: 'Use TLS; implied by --tlsverify' },
  { long: 'tlsverify', description: 'Use TLS and verify the engine' },
  { long: 'tlscacert', value: 'file', description: 'Trust certificates signed only by this CA' },
  { long: 'tlscert', value: 'file', description: 'TLS client certificate' },
  { long: 'tlskey', value: 'file', description: 'TLS client key' },
  { long: 'kubeconfig', value: 'file', description: 'Kubernetes: kubeconfig to use' },
  { long: 'kube-context', value: 'word', description: 'Kubernetes: context to use' },
  { long: 'namespace', short: 'n', value: 'word', description: 'Kubernetes: namespace' },
  { long: 'debug', short: 'D', description: 'Show stack traces for unexpected errors' },
  { long: 'help', short: 'h', description: 'Show help' },
  { long: 'version', short: 'v', description: 'Print the version' },
];

export interface TlsFlags {
  tls?: boolean;
  tlsVerify?: boolean;
  caCert?: string;
  cert?: string;
  key?: string;
}

/** A boolean flag as pflag takes it: `--tls`, `--tls=true`, `--tls=false` (also 1/0). */
function boolFlag(word: string, name: string): boolean | undefined {
  if (word === name) return true;
  if (!word.startsWith(`${name}=`)) return undefined;
  const v = word.slice(name.length + 1).toLowerCase();
  if (['true', '1', 't'].includes(v)) return true;
  if (['false', '0', 'f'].includes(v)) return false;
  throw new InvalidArgument(`${name} takes true or false, not "${v.replace(/[^\x20-\x7e]/g, '?')}".`);
}

export interface GlobalFlags {
  host?: string;
  context?: string;
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string;
  /** docker's TLS flags; undefined where not given, so DOCKER_TLS / DOCKER_TLS_VERIFY decide (engine/docker/tls.ts). */
  tls: TlsFlags;
  debug: boolean;
  help: boolean;
  version: boolean;
  rest: string[];
}

export function parseGlobal(argv: string[]): GlobalFlags {
  const flags: GlobalFlags = { tls: {}, debug: false, help: false, version: false, rest: [] };
  let i = 0;
  const value = (name: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new InvalidArgument(`${name} needs a value.`);
    return v;
  };
  const pathFlags = { '--tlscacert': 'caCert', '--tlscert': 'cert', '--tlskey': 'key' } as const;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    const tls = boolFlag(word, '--tls');
    const tlsVerify = boolFlag(word, '--tlsverify');
    const pathFlag = Object.keys(pathFlags).find((f) => word === f || word.startsWith(`${f}=`)) as keyof typeof pathFlags | undefined;
    if (tls !== undefined) flags.tls.tls = tls;
    else if (tlsVerify !== undefined) flags.tls.tlsVerify = tlsVerify;
    else if (pathFlag) flags.tls[pathFlags[pathFlag]] = word === pathFlag ? value(word) : word.slice(pathFlag.length + 1);
    else if (word === '-H' || word === '--host') flags.host = value(word);
    else if (word.startsWith('--host=')) flags.host = word.slice(7);
    else if (word.startsWith('-H') && word.length > 2) flags.host = word.slice(2);
    else if (word === '-c' || word === '--context') flags.context = value(word);
    else if (word.startsWith('--context=')) flags.context = word.slice(10);
    else if (word === '--kubeconfig') flags.kubeconfig = value(word);
    else if (word.startsWith('--kubeconfig=')) flags.kubeconfig = word.slice(13);
    else if (word === '--kube-context') flags.kubeContext = value(word);
    else if (word.startsWith('--kube-context=')) flags.kubeContext = word.slice(15);
    else if (word === '-n' || word === '--namespace') flags.namespace = value(word);
    else if (word.startsWith('--namespace=')) flags.namespace = word.slice(12);
    else if (word === '-D' || word === '--debug') flags.debug = true;
    else if (word === '-h' || word === '--help') flags.help = true;
    else if (word === '-v' || word === '--version') flags.version = true;
    else if (word.startsWith('-') && word !== '-') throw new InvalidArgument(`Unknown global flag ${word}.`, 'See `porthole --help`.');
    else break;
  }
  flags.rest = argv.slice(i);
  return flags;
}

/** Whether docker runs us as its CLI plugin (`docker porthole ...`): its environment variable, or our plugin name. */
export function calledAsPlugin(env: NodeJS.ProcessEnv, script: string | undefined): boolean {
  return !!env.DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND || /docker-porthole$/.test(script ?? '');
}

/**
 * The global flags and what follows them. As a docker CLI plugin we are called with docker's own arguments,
 * `[docker's global flags] porthole [ours] COMMAND ...`: ours win, docker's fill the gaps. main.ts dispatches on
 * it, and src/launch.ts picks the command's bundle with it, so the two always agree on the command.
 */
export function parseInvocation(argv: string[], asPlugin: boolean): GlobalFlags {
  const outer = parseGlobal(argv);
  if (!asPlugin || outer.rest[0] !== 'porthole') return outer;
  const inner = parseGlobal(outer.rest.slice(1));
  return {
    ...inner,
    host: inner.host ?? outer.host,
    context: inner.context ?? outer.context,
    kubeconfig: inner.kubeconfig ?? outer.kubeconfig,
    kubeContext: inner.kubeContext ?? outer.kubeContext,
    namespace: inner.namespace ?? outer.namespace,
    tls: { ...outer.tls, ...inner.tls },
    debug: inner.debug || outer.debug,
  };
}
