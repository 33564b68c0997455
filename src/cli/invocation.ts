// The global flags in force (-H, --context, TLS, Kubernetes), so that every hint naming a porthole command can be
// typed again as it stands: `porthole -H ssh://box shell web`, not `porthole shell web` against another engine.
import type { GlobalFlags } from './global.js';
import type { Endpoint } from '../engine/endpoint.js';

let globalWords: string[] = [];

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A word for a command a hint quotes: shell-quoted, and hostile bytes (a flag value, an endpoint) never reach the terminal. */
export function hintWord(word: string): string {
  return shellQuote(word.replace(/[\x00-\x1f\x7f]/g, '?'));
}

/** Remembers the engine-choosing global flags given on the command line (main.ts, once). */
export function rememberGlobalFlags(flags: Pick<GlobalFlags, 'host' | 'context' | 'tls' | 'kubeconfig' | 'kubeContext' | 'namespace'>): void {
  const words: string[] = [];
  if (flags.host !== undefined) words.push('-H', flags.host);
  if (flags.context !== undefined) words.push('--context', flags.context);
  if (flags.tls.tls !== undefined) words.push(flags.tls.tls ? '--tls' : '--tls=false');
  if (flags.tls.tlsVerify !== undefined) words.push(flags.tls.tlsVerify ? '--tlsverify' : '--tlsverify=false');
  if (flags.tls.caCert !== undefined) words.push('--tlscacert', flags.tls.caCert);
  if (flags.tls.cert !== undefined) words.push('--tlscert', flags.tls.cert);
  if (flags.tls.key !== undefined) words.push('--tlskey', flags.tls.key);
  if (flags.kubeconfig !== undefined) words.push('--kubeconfig', flags.kubeconfig);
  if (flags.kubeContext !== undefined) words.push('--kube-context', flags.kubeContext);
  if (flags.namespace !== undefined) words.push('-n', flags.namespace);
  // hostile bytes in a flag value must not reach the terminal through a hint
  globalWords = words.map(hintWord);
}

/**
 * The start of a hint's command that works on one engine (toolbox build, gc): on a swarm node porthole reached for
 * a task, that node's own -H (or --context), since the global flags in force name the manager; else `porthole`,
 * which withGlobalFlags completes.
 */
export function portholeOnEngine(endpoint?: Endpoint): string {
  if (!endpoint?.node) return 'porthole';
  return `porthole ${endpoint.context ? `--context ${hintWord(endpoint.context)}` : `-H ${hintWord(endpoint.host)}`}`;
}

/** The engine in a sentence: the swarm node's engine a task's container was reached on, else `one` ("this engine"). */
export function engineWords(endpoint?: Endpoint, one = 'this engine'): string {
  return endpoint?.node ? `node ${endpoint.node}'s engine` : one;
}

let typedContainer: string | undefined;

/** Remembers the container the command was given, as typed (main.ts, once), for hints that list a folder in it. */
export function rememberContainer(name: string | undefined): void {
  typedContainer = name;
}

/**
 * A hint that lists `folder` in the container: `${lead} \`porthole ls web /var\`.`, the container as the command
 * named it where it knows (cp), else as the person typed it, else a placeholder.
 */
export function listHint(lead: string, folder: string, container?: string): string {
  return `${lead} \`porthole ls ${hintWord(container ?? typedContainer ?? 'CONTAINER')} ${hintWord(folder)}\`.`;
}

/** `porthole` followed by the global flags in force: the start of any command a hint tells the person to run. */
export function portholeWithFlags(): string {
  return ['porthole', ...globalWords].join(' ');
}

/**
 * Puts the global flags in force into every `porthole COMMAND` a sentence quotes (in backticks, COMMAND one of
 * `names`): the one place hints get them, so no hint can forget. Prose ("porthole which reads /proc") stays as it is.
 */
export function withGlobalFlags(text: string, names: readonly string[]): string {
  if (!globalWords.length || !text.includes('porthole ')) return text;
  const alternatives = names.map((n) => n.replace(/[^\w-]/g, '')).join('|');
  return text.replace(new RegExp(`(\`)porthole (?=(?:${alternatives})(?:[\\s\`'".,;:)]|$))`, 'g'), (_m, before: string) => `${before}${portholeWithFlags()} `);
}
