// Entry point: parse the global flags, build the context, dispatch to one command, and map errors to exit codes
// (the only place that does).
import { fstatSync, statSync } from 'node:fs';
import { Cleanup } from './cleanup.js';
import { formatHelp, parseCommand } from './cli/args.js';
import { calledAsPlugin, parseInvocation } from './cli/global.js';
import { rememberContainer, rememberGlobalFlags, withGlobalFlags } from './cli/invocation.js';
import { typedContainer } from './cli/container-arg.js';
import type { Context } from './context.js';
import type { EngineClient } from './engine/types.js';
import { EXIT, ExitStatus, InvalidArgument, PortholeError } from './errors.js';
import { commands, findCommand } from './commands/registry.js';
import { escapeName } from './render/escape.js';
import { scopeFromOptions, setNameScope } from './engine/compose/scope.js';
import { widest } from './render/table.js';
import { exitWhenFlushed } from './util/exit.js';
import { madeStreams, stderr, stdout } from './util/stdio.js';

declare const PORTHOLE_VERSION: string;
const VERSION = typeof PORTHOLE_VERSION === 'string' ? PORTHOLE_VERSION : '0.0.0-dev';

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

function mainHelp(): string {
  const width = widest(commands, (c) => c.name) + 3;
  const groups: [string, string][] = [
    ['inspect', 'Look at containers'],
    ['enter', 'Get inside'],
    ['files', 'Files'],
    ['engine', 'Engine and housekeeping'],
  ];
  const lines = [
    'Usage: porthole [-H HOST | --context NAME] [--tlsverify ...] [--kube-context NAME] [-n NAMESPACE] COMMAND [OPTIONS]',
    '',
    'Get inside any container and see what is wrong with it: running or crashed, with a shell or without one.',
  ];
  for (const [group, title] of groups) {
    const members = commands.filter((c) => c.group === group);
    if (!members.length) continue;
    lines.push('', `${title}:`, ...members.map((c) => `  ${c.name.padEnd(width)}${c.summary}`));
  }
  lines.push(
    '',
    'Global flags:',
    '  -H, --host URL       Engine address (unix://, tcp://, ssh://); default: DOCKER_HOST, the docker context, the socket',
    '  -c, --context NAME   Docker context to use',
    '  --tls                Use TLS; implied by --tlsverify (default: DOCKER_TLS set)',
    '  --tlsverify          Use TLS and verify the engine (default: DOCKER_TLS_VERIFY set)',
    '  --tlscacert FILE     Trust certificates signed only by this CA (default: DOCKER_CERT_PATH or ~/.docker, ca.pem)',
    '  --tlscert FILE       TLS client certificate (default: cert.pem there)',
    '  --tlskey FILE        TLS client key (default: key.pem there)',
    '  --kubeconfig FILE    Kubernetes: kubeconfig to use (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    '  --kube-context NAME  Kubernetes: context to use (default: the current-context)',
    "  -n, --namespace NS   Kubernetes: namespace (default: the context's, else default)",
    '  -D, --debug          Show stack traces for unexpected errors',
    '  -v, --version        Print the version',
    '',
    'A name like pod/NAME[/CONTAINER], deploy/NAME, sts/NAME, ds/NAME or job/NAME is a Kubernetes object (why, logs, shell);',
    'a bare name is a Docker container, else a Compose service of the project here (web, web-2), else for ls, cat, find,',
    'grep, du and shell an image.',
    '',
    'Run `porthole COMMAND --help` for a command\'s flags and examples.',
  );
  return lines.join('\n') + '\n';
}

function pluginMetadata(): string {
  return JSON.stringify({
    SchemaVersion: '0.1.0',
    Vendor: 'porthole',
    Version: VERSION,
    ShortDescription: 'Get inside any container and see what is wrong with it',
  }) + '\n';
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'docker-cli-plugin-metadata') {
    stdout().write(pluginMetadata());
    return EXIT.ok;
  }
  const cleanup = new Cleanup();
  const abort = new AbortController();
  let engine: EngineClient | undefined;
  let commandName = '';
  // for hints: on a swarm, which node container id stands for the container the person named
  let routedAs: { id: string; name: string } | undefined;
  /** A sentence with what the person typed put back for a routed container's id, and the global flags in its commands. */
  const hinted = (text: string) => withGlobalFlags(routedAs ? namedAsTyped(text, routedAs) : text, commandNames);
  let debug = argv.includes('--debug') || argv.includes('-D');

  let foreground: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (name: keyof typeof SIGNALS) => {
    if (foreground) return foreground(name);
    if (abort.signal.aborted) return;
    abort.abort(Object.assign(new Error(`interrupted by ${name}`), { signal: name }));
    void cleanup.runAll().then((failures) => {
      for (const f of failures) stderr().write(`porthole: ${f}\n`);
      engine?.close();
      // What is queued for stdout and stderr still goes out, unless a reader that no longer reads holds it back.
      exitWhenFlushed(128 + SIGNALS[name], madeStreams(), 1000);
    });
  };
  for (const name of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(name, () => onSignal(name));

  try {
    const global = parseInvocation(argv, calledAsPlugin(process.env, process.argv[1]));
    debug ||= global.debug;
    rememberGlobalFlags(global);
    if (global.version) {
      stdout().write(`porthole ${VERSION}\n`);
      return EXIT.ok;
    }
    const [name, ...rest] = global.rest;
    if (!name || global.help || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const entry = topic ? findCommand(topic) : undefined;
      if (topic && !entry) throw new InvalidArgument(`Unknown command "${escapeName(topic)}".`, 'See `porthole --help`.');
      stdout().write(entry ? formatHelp((await entry.load()).spec) : mainHelp());
      return name || global.help ? EXIT.ok : EXIT.usage;
    }
    const entry = findCommand(name);
    if (!entry) throw new InvalidArgument(`Unknown command "${escapeName(name)}".`, 'See `porthole --help` for the list.');
    commandName = entry.name;
    const mod = await entry.load();
    const parsed = parseCommand(mod.spec, rest);
    rememberContainer(typedContainer(entry.name, parsed.args));
    if (parsed.help) {
      stdout().write(formatHelp(mod.spec));
      return EXIT.ok;
    }
    // node:tty loads node:net and the streams (8 ms): only commands pay for it, which need them anyway
    const { isatty } = await import('node:tty');
    const ctx: Context = {
      get stdout() {
        return stdout();
      },
      get stderr() {
        return stderr();
      },
      // process.stdin sets up a stream on first use (about 3 ms): only commands that read it pay for it.
      get stdin() {
        return process.stdin;
      },
      stdinIsTTY: isatty(0),
      stdinIsNull: isDevNull(0),
      env: process.env,
      kube: { kubeconfig: global.kubeconfig, context: global.kubeContext, namespace: global.namespace },
      cleanup,
      signal: abort.signal,
      foreground: (handler) => {
        foreground = handler;
        return () => {
          if (foreground === handler) foreground = undefined;
        };
      },
      notice: (message) => stderr().write(`${hinted(message)}\n`),
      engine: async () => {
        if (!engine) {
          const { connectEngine } = await import('./engine/index.js');
          engine = await connectEngine({ hostFlag: global.host, contextFlag: global.context, tlsFlags: global.tls, env: process.env });
        }
        return engine;
      },
    };
    setNameScope({ env: ctx.env, notice: ctx.notice, cleanup, ...scopeFromOptions(entry.name, parsed.options as Record<string, unknown>) });
    // service/NAME.SLOT, task/ID: the command runs on that container's node (engine/swarm/route.ts)
    const [runCtx, runParsed, routed] = parsed.args.some((a) => /^(service|task|node)\//.test(a)) ? await (await import('./engine/swarm/route.js')).routeToNode(commandName, ctx, parsed) : [ctx, parsed];
    routedAs = routed;
    const result = await mod.run(runCtx, runParsed);
    if (mod.render) stdout().write(mod.render(result, parsed, ctx));
    return mod.exitCode ? mod.exitCode(result) : EXIT.ok;
  } catch (err) {
    // Stopped by a signal: what failed because of it is no news; the signal's own exit code follows.
    if (abort.signal.aborted) return 128 + SIGNALS[(abort.signal.reason as { signal: keyof typeof SIGNALS }).signal];
    return reportError(err, commandName, debug, hinted);
  } finally {
    const failures = await cleanup.runAll();
    for (const f of failures) stderr().write(`porthole: ${hinted(f)}\n`);
    engine?.close();
  }
}

const commandNames = commands.map((c) => c.name);

/**
 * A routed command works on the container's id on its node; what it says names the container as typed instead
 * (`service/web.2`), which, with the manager's flags that withGlobalFlags adds, reaches it again.
 */
function namedAsTyped(text: string, routed: { id: string; name: string }): string {
  return text.split(routed.id).join(routed.name).split(routed.id.slice(0, 12)).join(routed.name);
}

/** The engine's connection dropped in the middle of an answer (wire.ts prematureClose, a reset, a stream cut short). */
function connectionLost(err: NodeJS.ErrnoException | undefined): boolean {
  return err?.code === 'ECONNRESET' || err?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function reportError(err: unknown, commandName: string, debug: boolean, hinted: (text: string) => string): number {
  if (err instanceof ExitStatus) return err.code;
  if (err instanceof PortholeError) {
    stderr().write(`porthole: ${hinted(err.message)}${err.hint ? ` ${hinted(err.hint)}` : ''}\n`);
    if (debug && err.stack) stderr().write(`${err.stack}\n`);
    // `shell -- CMD` passes CMD's status through, so porthole's own failures there use docker run's 125.
    if (commandName === 'shell' && err.exitCode !== EXIT.usage) return EXIT.shellOwnFailure;
    return err.exitCode;
  }
  const error = err as NodeJS.ErrnoException;
  if (error?.code === 'EPIPE') return EXIT.ok; // the reader went away (`porthole ps | head`): not our failure
  if (connectionLost(error)) {
    // A stream the engine was sending (logs -f, an attach, a wait) ended with the connection: it stopped, restarted
    // or was cut off. Each command that can say more (cp: what is left) says it itself.
    stderr().write(`porthole: The engine closed the connection in the middle of ${commandName}: it stopped, restarted, or the connection was cut.\n`);
    if (debug && error?.stack) stderr().write(`${error.stack}\n`);
    return commandName === 'shell' ? EXIT.shellOwnFailure : EXIT.engine;
  }
  stderr().write(`porthole: unexpected error: ${error?.message ?? String(err)}. Run again with --debug for details.\n`);
  if (debug && error?.stack) stderr().write(`${error.stack}\n`);
  return commandName === 'shell' ? EXIT.shellOwnFailure : EXIT.failure;
}

/** Whether the descriptor is /dev/null (hyperfine's and cron's stdin, `< /dev/null`): the same character device. */
function isDevNull(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

main(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code, madeStreams()),
  (err) => {
    stderr().write(`porthole: ${(err as Error).message}\n`);
    exitWhenFlushed(EXIT.failure, madeStreams());
  },
);
