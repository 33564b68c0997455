// `porthole logs CONTAINER`: what a container said, stdout to stdout and stderr to stderr, running or stopped.
// Bytes pass through exactly unless a terminal is watching (then control characters are shown escaped) or
// --grep filters lines.
import type { Readable } from 'node:stream';
import { composeLongOptions } from '../cli/name-options.js';
import { defineCommand, parseCount, type Parsed } from '../cli/args.js';
import type { Context, OutputStream } from '../context.js';
import { kubeFlags, kubeOptions, openKube, type KubeTargetRef } from '../cli/kube-flags.js';
import { resolveContainer, resolveReplicas } from '../engine/resolve.js';
import { parseTarget } from '../engine/target.js';
import type { SwarmName } from '../engine/swarm/names.js';
import { escapeName } from '../render/escape.js';
import { demux } from '../engine/stdio.js';
import { compilePattern, escapeLineBytes, LineSplitter, lineMessage, parseLogTime } from '../report/text.js';
import { InvalidArgument } from '../errors.js';

export const spec = defineCommand({
  name: 'logs',
  summary: 'Show what a container printed, stdout and stderr kept apart',
  usage: 'porthole logs CONTAINER|pod/NAME[/CONTAINER]|deploy/NAME|...|service/NAME[.SLOT]|task/ID [--tail N] [--since T] [--until T] [-f] [-t] [--grep PATTERN] [--previous] [-c NAME] [--all-containers]',
  description:
    'Works on running and stopped containers. stderr lines go to stderr. Control characters are shown escaped\n' +
    'when writing to a terminal; through a pipe the bytes are passed on exactly.\n' +
    'For pods (Kubernetes keeps one stream, all of it goes to stdout): --previous, -c, --all-containers (lines\n' +
    'prefixed by container); a workload (deploy/X, sts/X, ...) shows every pod, prefixed by pod, and with -f\n' +
    'follows the pods that appear as well.\n' +
    "service/NAME or task/ID (on a swarm manager): every task's lines through the manager, in time order, each\n" +
    'prefixed with its task and node (web.2@node-2 | ...); nodes whose logs are missing are named on stderr.',
  options: {
    tail: { type: 'string', short: 'n', valueName: 'N', description: 'Only the last N lines (stdout and stderr counted together, as docker does), or "all"' },
    since: { type: 'string', valueName: 'T', description: 'Only lines since T: a duration (10m), a time (2024-05-01T10:00:00Z) or unix seconds' },
    until: { type: 'string', valueName: 'T', description: 'Only lines before T (same forms as --since)' },
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new lines until the container stops or Ctrl-C' },
    timestamps: { type: 'boolean', short: 't', description: 'Put the time each line was written in front of it' },
    grep: { type: 'string', valueName: 'PATTERN', description: 'Only lines matching this regular expression (each stream stays on its own fd)' },
    previous: { type: 'boolean', short: 'p', description: 'Kubernetes: the output of the instance before the last restart' },
    container: { type: 'string', short: 'c', valueName: 'NAME', description: "Kubernetes: the pod's container to show (default: its default container)" },
    'all-containers': { type: 'boolean', description: "Kubernetes: every container of the pod, lines prefixed by container" },
    ...kubeOptions,
    ...composeLongOptions,
  },
  args: { min: 1, max: 1 },
  examples: [
    'porthole logs porthole-demo-clock --tail 5',
    'porthole logs -f -t porthole-demo-clock',
    'porthole logs web --since 10m --grep "error|warn" 2>&1',
    'porthole logs pod/api-7d9f --previous --tail 50',
    'porthole logs -f deploy/api --namespace shop',
  ],
});

export interface LogsResult {
  stdoutLines: number;
  stderrLines: number;
}

type Options = Parsed<typeof spec.options>;

function parseTail(value: string | undefined): number | 'all' | undefined {
  if (value === undefined || value === 'all') return value;
  return parseCount('--tail', value);
}

/** Writes one stream's bytes to one output: exactly, or line by line when filtering or escaping for a terminal. */
class StreamWriter {
  lines = 0;
  private readonly splitter = new LineSplitter();
  private readonly escape: boolean;
  constructor(
    readonly dest: OutputStream,
    private readonly filter: RegExp | undefined,
    private readonly timestamps: boolean,
  ) {
    this.escape = !!dest.isTTY;
  }

  /** Returns false when the output wants the reader to wait for 'drain'. */
  write(chunk: Buffer): boolean {
    if (!this.escape && !this.filter) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) this.lines++;
      return this.dest.write(chunk);
    }
    return this.emit(this.splitter.push(chunk));
  }

  end(): void {
    this.emit(this.splitter.flush());
  }

  private emit(batch: Buffer[]): boolean {
    const out: (Buffer | string)[] = [];
    for (const line of batch) {
      if (this.filter) {
        const text = line.toString('utf8').replace(/\r?\n$/, '');
        this.filter.lastIndex = 0;
        if (!this.filter.test(lineMessage(text, this.timestamps))) continue;
      }
      this.lines++;
      out.push(this.escape ? escapeLineBytes(line) : line);
    }
    if (!out.length) return true;
    return this.dest.write(this.escape ? (out as string[]).join('') : Buffer.concat(out as Buffer[]));
  }
}

/**
 * Copies the sources to their writers in the order the engine sent them (a terminal shows stdout and stderr
 * interleaved as they happened); a slow output pauses every source, so memory stays bounded.
 */
function pump(pairs: [Readable, StreamWriter][]): Promise<void> {
  return new Promise((resolve, reject) => {
    let open = pairs.length;
    const pauseAll = () => pairs.forEach(([s]) => s.pause());
    const resumeAll = () => pairs.forEach(([s]) => s.resume());
    for (const [source, writer] of pairs) {
      source.on('data', (chunk: Buffer) => {
        if (!writer.write(chunk)) {
          pauseAll();
          writer.dest.once('drain', resumeAll);
        }
      });
      source.on('error', reject);
      source.on('end', () => {
        writer.end();
        if (--open === 0) resolve();
      });
    }
  });
}

export async function run(ctx: Context, parsed: Options): Promise<LogsResult> {
  const o = parsed.options;
  // kubectl users write `-n NS`; here -n is --tail, as in docker logs: say so instead of "not a number".
  if (o.tail !== undefined && !/^(\d+|all)$/.test(o.tail) && parseTarget(parsed.args[0]!).engine === 'kubernetes') {
    throw new InvalidArgument(`-n/--tail "${o.tail}" is not a number of lines: for logs, -n is --tail, as in docker logs.`, `Give the namespace with --namespace ${o.tail}, or before the command: porthole -n ${o.tail} logs ...`);
  }
  const tail = parseTail(o.tail);
  const since = parseLogTime('--since', o.since);
  const until = parseLogTime('--until', o.until);
  if (o.follow && until !== undefined && Number(until) * 1000 < Date.now()) {
    throw new InvalidArgument('--follow with an --until in the past would stop at once.', 'Drop one of them.');
  }
  const filter = o.grep === undefined ? undefined : compilePattern(o.grep);
  const ref = parseTarget(parsed.args[0]!);
  if (ref.engine === 'kubernetes') return kubeLogs(ctx, parsed, ref, { tail, since, until, filter });
  if (ref.engine === 'swarm') {
    if (ref.name.kind === 'node') throw new InvalidArgument('logs takes a container, service/NAME[.SLOT] or task/ID; a node has no logs of its own.');
    if (o.previous || o.container !== undefined || o['all-containers']) throw new InvalidArgument('--previous, -c and --all-containers are for pods.');
    return serviceLogs(ctx, ref.name, { follow: o.follow, tail, since, until, timestamps: o.timestamps }, filter);
  }
  if (o.previous || o.container !== undefined || o['all-containers']) {
    throw new InvalidArgument('--previous, -c and --all-containers are for pods.', 'Name a pod as pod/NAME, or leave them out for a Docker container.');
  }
  const engine = await ctx.engine();
  // a Compose service with several replicas: all of them, each line prefixed with its replica
  const replicas = await resolveReplicas(engine, ref.name);
  if (replicas) return (await import('./logs-replicas.js')).replicaLogs(ctx, engine, replicas, { follow: o.follow, tail, since, until, timestamps: o.timestamps }, filter);
  const target = await resolveContainer(engine, ref.name);
  const { stream } = await engine.logs(target.id, { follow: o.follow, tail, since, until, timestamps: o.timestamps });
  // Ctrl-C while following: stop reading; main.ts then ends the process with 130.
  const stop = () => {
    stream.destroy();
  };
  ctx.cleanup.add('stop reading the logs', stop);
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    // A container with a TTY has one raw stream: stdout and stderr were merged by the terminal inside it.
    const out = new StreamWriter(ctx.stdout, filter, o.timestamps);
    const err = new StreamWriter(ctx.stderr, filter, o.timestamps);
    if (target.config.tty) {
      await pump([[stream, out]]);
    } else {
      const { stdout, stderr, done } = demux(stream);
      await Promise.all([pump([[stdout, out], [stderr, err]]), done]);
    }
    return { stdoutLines: out.lines, stderrLines: err.lines };
  } catch (err) {
    if (ctx.signal.aborted) return { stdoutLines: 0, stderrLines: 0 };
    throw err;
  }
}

async function kubeLogs(
  ctx: Context,
  parsed: Options,
  ref: KubeTargetRef,
  o: { tail: number | 'all' | undefined; since: string | undefined; until: string | undefined; filter: RegExp | undefined },
): Promise<LogsResult> {
  if (ref.container && parsed.options.container !== undefined && ref.container !== parsed.options.container) {
    throw new InvalidArgument(`${ref.text} names container ${ref.container}, and -c names ${parsed.options.container}.`, 'Give the container once.');
  }
  if (parsed.options['all-containers'] && (ref.container || parsed.options.container !== undefined)) {
    throw new InvalidArgument('--all-containers and a container name exclude each other.', 'Drop one of them.');
  }
  const cluster = await openKube(ctx, kubeFlags(ctx, parsed.options));
  const { streamKubeLogs } = await import('../engine/kubernetes/logs.js');
  try {
    const { lines } = await streamKubeLogs(cluster, ref, {
      follow: parsed.options.follow,
      tail: o.tail,
      since: o.since,
      until: o.until,
      timestamps: parsed.options.timestamps,
      filter: o.filter,
      previous: parsed.options.previous,
      container: parsed.options.container,
      allContainers: parsed.options['all-containers'],
      out: ctx.stdout,
      signal: ctx.signal,
      notice: ctx.notice,
    });
    return { stdoutLines: lines, stderrLines: 0 };
  } catch (err) {
    // Ctrl-C while following: main.ts ends the process with 130.
    if (ctx.signal.aborted) return { stdoutLines: 0, stderrLines: 0 };
    throw err;
  }
}

/** Writes and waits for 'drain' when the output asks, so a slow reader bounds memory. */
function writeWaiting(dest: OutputStream, data: string | Buffer): Promise<void> | undefined {
  if (dest.write(data)) return undefined;
  return new Promise((resolve) => dest.once('drain', () => resolve()));
}

async function serviceLogs(
  ctx: Context,
  name: Extract<SwarmName, { kind: 'service' | 'task' }>,
  opts: { follow?: boolean; tail?: number | 'all'; since?: string; until?: string; timestamps?: boolean },
  filter: RegExp | undefined,
): Promise<LogsResult> {
  const { swarmApi, selectSwarm } = await import('../report/swarm.js');
  const { serviceLogs: read } = await import('../engine/swarm/logs.js');
  const api = swarmApi(await ctx.engine());
  const { service, tasks, selected, nodes, narrowed } = await selectSwarm(api, name);
  const wanted = narrowed ? new Set(selected.map((t) => t.id)) : undefined;
  // the service endpoint takes no --until (API 1.41): lines after it are dropped here
  const untilMs = opts.until === undefined ? undefined : Number(opts.until) * 1000;
  const result: LogsResult = { stdoutLines: 0, stderrLines: 0 };
  const gaps: string[] = [];
  const events = read(api, service, tasks, nodes, { follow: opts.follow, tail: opts.tail, since: opts.since }, ctx.signal);
  const emit = (line: import('../engine/swarm/logs.js').ServiceLogLine): Promise<void> | undefined => {
    const dest = line.stream === 'stderr' ? ctx.stderr : ctx.stdout;
    const text = line.message.toString('utf8').replace(/\r?\n$/, '');
    if (filter) {
      filter.lastIndex = 0;
      if (!filter.test(text)) return undefined;
    }
    if (line.stream === 'stderr') result.stderrLines++;
    else result.stdoutLines++;
    const body = dest.isTTY ? escapeLineBytes(line.message) : line.message;
    // names come from the engine (a node's hostname is whatever that host says): escaped for a terminal,
    const who = `${line.taskName}@${line.node}`;
    // and never a control character through a pipe either: a newline in a name must not forge a line
    const prefix = `${opts.timestamps ? `${line.time} ` : ''}${dest.isTTY ? escapeName(who) : who.replace(/[\x00-\x1f\x7f]/g, '?')} | `;
    const newline = line.message.length && line.message[line.message.length - 1] === 10 ? '' : '\n';
    return writeWaiting(dest, typeof body === 'string' ? prefix + body + newline : Buffer.concat([Buffer.from(prefix), body, Buffer.from(newline)]));
  };
  const buffered: import('../engine/swarm/logs.js').ServiceLogLine[] = [];
  try {
    for await (const event of events) {
      if ('gap' in event) {
        gaps.push(event.gap);
        continue;
      }
      const line = event.line;
      if (wanted && !wanted.has(line.taskId)) continue;
      if (untilMs !== undefined && Date.parse(line.time) > untilMs) continue;
      // following: as they come; otherwise merged in time order across nodes (the manager interleaves by arrival)
      if (opts.follow) await emit(line);
      else buffered.push(line);
    }
  } catch (err) {
    if (!ctx.signal.aborted) throw err;
  }
  buffered.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const line of buffered) await emit(line);
  const down = nodes.filter((n) => n.state !== 'ready' && (wanted ? selected : tasks).some((t) => t.nodeId === n.id));
  for (const n of down) ctx.notice(`node ${n.hostname} is ${n.state}: the logs of its tasks are missing`);
  if (gaps.length) ctx.notice(`some logs are missing: ${[...new Set(gaps)].join('; ')}`);
  return result;
}
