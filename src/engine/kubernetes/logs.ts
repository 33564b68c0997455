// `logs` for pods: one container, a chosen one (-c), all of them (--all-containers, lines prefixed by container),
// or every pod of a workload (prefixed by pod/container; with -f, pods that appear later are picked up too).
// Kubernetes keeps stdout and stderr as one stream, so everything goes to stdout. --until has no API parameter:
// lines carry the kubelet's timestamps and later ones are dropped here.
import type { IncomingMessage } from 'node:http';
import type { OutputStream } from '../../context.js';
import { EngineError, PortholeError } from '../../errors.js';
import { escapeLineBytes, LineSplitter } from '../../report/text.js';
import type { TargetRef } from '../target.js';
import { containerNames, podPath, requireContainer, resolveWorkload, workloadPods, type KubeCluster } from './index.js';
import type { Pod } from './wire.js';

export interface KubeLogOptions {
  follow: boolean;
  tail: number | 'all' | undefined;
  /** Unix seconds, as parseLogTime gives them. */
  since?: string;
  until?: string;
  timestamps: boolean;
  filter?: RegExp;
  previous: boolean;
  container?: string;
  allContainers: boolean;
  out: OutputStream;
  signal: AbortSignal;
  notice(message: string): void;
  /** How often a workload's pods are listed again while following (ms). */
  pollMs?: number;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Writes lines from one source: prefix, --until, --grep, timestamps, terminal escaping. */
export class LineSink {
  lines = 0;
  private readonly splitter = new LineSplitter();
  private readonly untilMs: number | undefined;
  /** The time of the last line seen (from its timestamp), to resume a stream after a restart. */
  lastTime: string | undefined;
  /** Set once a line is later than --until: the source can stop. */
  pastUntil = false;

  constructor(
    private readonly opts: Pick<KubeLogOptions, 'timestamps' | 'filter' | 'until' | 'out'>,
    private readonly prefix: string,
    private readonly parseTimes: boolean,
  ) {
    this.untilMs = opts.until === undefined ? undefined : Number(opts.until) * 1000;
  }

  /** Whether bytes can pass through untouched (the fast path for a single container). */
  get exact(): boolean {
    return !this.prefix && !this.parseTimes && !this.opts.filter && !this.opts.out.isTTY;
  }

  write(chunk: Buffer): boolean {
    if (this.exact) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) this.lines++;
      return this.opts.out.write(chunk);
    }
    return this.emit(this.splitter.push(chunk));
  }

  end(): void {
    this.emit(this.splitter.flush());
  }

  private emit(batch: Buffer[]): boolean {
    const out: string[] = [];
    for (let line of batch) {
      if (this.parseTimes) {
        const head = line.subarray(0, 40).toString('latin1');
        const m = TIMESTAMP.exec(head);
        if (m) {
          this.lastTime = m[1];
          if (this.untilMs !== undefined && Date.parse(m[1]!) > this.untilMs) {
            this.pastUntil = true;
            continue;
          }
          if (!this.opts.timestamps) line = line.subarray(m[0].length);
        }
      }
      if (this.opts.filter) {
        this.opts.filter.lastIndex = 0;
        const text = line.toString('utf8').replace(/\r?\n$/, '');
        const message = this.opts.timestamps ? text.replace(TIMESTAMP, '') : text;
        if (!this.opts.filter.test(message)) continue;
      }
      this.lines++;
      const body = this.opts.out.isTTY ? escapeLineBytes(line) : line.toString('utf8');
      out.push(this.prefix + (body.endsWith('\n') ? body : `${body}\n`));
    }
    return out.length ? this.opts.out.write(out.join('')) : true;
  }
}

interface StreamChoice {
  follow: boolean;
  tail?: number | 'all';
  sinceTime?: string;
  /** Ask for the kubelet's timestamps (the sink strips them again unless -t). */
  stamps: boolean;
}

function logQuery(container: string, opts: KubeLogOptions, extra: StreamChoice): string {
  const q = new URLSearchParams({ container });
  if (extra.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (typeof extra.tail === 'number') q.set('tailLines', String(extra.tail));
  if (opts.timestamps || extra.stamps) q.set('timestamps', 'true');
  const since = extra.sinceTime ?? (opts.since === undefined ? undefined : new Date(Math.floor(Number(opts.since)) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
  if (since) q.set('sinceTime', since);
  return q.toString();
}

function defaultContainers(pod: Pod, opts: KubeLogOptions, explicit: string | null): string[] {
  if (explicit) {
    requireContainer(pod, explicit);
    return [explicit];
  }
  if (opts.allContainers) {
    const started = new Set([...(pod.status?.initContainerStatuses ?? [])].filter((s) => !s.state?.waiting || (s.restartCount ?? 0) > 0).map((s) => s.name));
    return [...(pod.spec.initContainers ?? []).map((c) => c.name).filter((n) => started.has(n)), ...pod.spec.containers.map((c) => c.name)];
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  // kubectl's rule: the annotated default container, else the first one.
  return [annotated && pod.spec.containers.some((c) => c.name === annotated) ? annotated : pod.spec.containers[0]!.name];
}

/** Pipes one log stream into a sink, honouring back-pressure; resolves when it ends or is stopped. */
function pump(res: IncomingMessage, sink: LineSink, out: OutputStream): Promise<void> {
  return new Promise((resolve, reject) => {
    res.on('data', (chunk: Buffer) => {
      if (!sink.write(chunk)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
      if (sink.pastUntil) res.destroy();
    });
    res.on('end', () => {
      sink.end();
      resolve();
    });
    res.on('close', () => {
      sink.end();
      resolve();
    });
    res.on('error', (err) => (sink.pastUntil ? resolve() : reject(err)));
  });
}

/** The log stream when the API can choose the container itself; undefined when the pod must be read first. */
async function openDirect(cluster: KubeCluster, pod: string, container: string | null, opts: KubeLogOptions): Promise<IncomingMessage | undefined> {
  const q = new URLSearchParams(logQuery(container ?? '', opts, { follow: opts.follow, tail: opts.tail, stamps: opts.until !== undefined }));
  if (!container) q.delete('container');
  try {
    return await cluster.client.stream(`${podPath(cluster.namespace, pod)}/log?${q}`, { verb: 'get', resource: 'pods/log', namespace: cluster.namespace, name: pod }, opts.signal);
  } catch (err) {
    // "a container name must be specified" and "container X is not valid": the pod is read for a good answer.
    if (err instanceof EngineError && err.statusCode === 400 && /container name must be specified|is not valid for pod/.test(err.message)) return undefined;
    throw err;
  }
}

export async function streamKubeLogs(cluster: KubeCluster, ref: Extract<TargetRef, { engine: 'kubernetes' }>, opts: KubeLogOptions): Promise<{ lines: number }> {
  const ns = cluster.namespace;
  const explicit = ref.container ?? opts.container ?? null;
  const open = (pod: Pod, container: string, extra: StreamChoice) =>
    cluster.client.stream(`${podPath(ns, pod.metadata.name)}/log?${logQuery(container, opts, extra)}`, { verb: 'get', resource: 'pods/log', namespace: ns, name: pod.metadata.name }, opts.signal);

  if (ref.kind === 'pod' && !opts.allContainers) {
    // One container asked for, or the pod's only one: the API picks it, so the log is asked for at once (one round
    // trip less). A pod of several containers answers 400, and then the default container is chosen as kubectl does.
    const direct = await openDirect(cluster, ref.name, explicit, opts);
    if (direct) {
      const sink = new LineSink(opts, '', opts.until !== undefined);
      await pump(direct, sink, opts.out);
      return { lines: sink.lines };
    }
  }
  if (ref.kind === 'pod') {
    const pod = await cluster.client.get<Pod>(podPath(ns, ref.name), { verb: 'get', resource: 'pods', namespace: ns, name: ref.name });
    const containers = defaultContainers(pod, opts, explicit);
    if (!explicit && !opts.allContainers && pod.spec.containers.length > 1) {
      opts.notice(`porthole: showing container ${containers[0]} of ${containerNames(pod).join(', ')}; choose with -c NAME or --all-containers.`);
    }
    const multi = containers.length > 1;
    const stamps = opts.until !== undefined;
    const sinks = containers.map((c) => new LineSink(opts, multi ? `[${c}] ` : '', stamps));
    if (!multi) {
      const res = await open(pod, containers[0]!, { follow: opts.follow, tail: opts.tail, stamps });
      await pump(res, sinks[0]!, opts.out);
      return { lines: sinks[0]!.lines };
    }
    // Several containers: without -f each one's lines come as a block, in the pod's order; with -f they interleave.
    if (opts.follow) {
      await Promise.all(containers.map(async (c, i) => pump(await open(pod, c, { follow: true, tail: opts.tail, stamps }), sinks[i]!, opts.out)));
    } else {
      const responses = await Promise.all(containers.map((c) => open(pod, c, { follow: false, tail: opts.tail, stamps })));
      for (let i = 0; i < responses.length; i++) await pump(responses[i]!, sinks[i]!, opts.out);
    }
    return { lines: sinks.reduce((n, s) => n + s.lines, 0) };
  }

  const workload = await resolveWorkload(cluster, ref);
  const pods = await workloadPods(cluster, workload.selector);
  if (!opts.follow) {
    const jobs = pods.flatMap((pod) => defaultContainers(pod, opts, explicit).map((c) => ({ pod, c })));
    const results = await Promise.all(
      jobs.map(({ pod, c }) =>
        open(pod, c, { follow: false, tail: opts.tail, stamps: opts.until !== undefined }).then(
          (res) => ({ res, err: null }),
          (err: unknown) => ({ res: null, err }),
        ),
      ),
    );
    let lines = 0;
    for (let i = 0; i < jobs.length; i++) {
      const { pod, c } = jobs[i]!;
      const r = results[i]!;
      if (!r.res) {
        if (!(r.err instanceof PortholeError)) throw r.err;
        opts.notice(`porthole: ${pod.metadata.name}/${c}: ${r.err.message}`);
        continue;
      }
      const sink = new LineSink(opts, `[${pod.metadata.name}/${c}] `, opts.until !== undefined);
      await pump(r.res, sink, opts.out);
      lines += sink.lines;
    }
    return { lines };
  }
  return followWorkload(cluster, workload.selector, pods, opts, explicit, open);
}

/** Follows every pod of a workload, and the ones that appear, until stopped; restarted containers are picked up again. */
async function followWorkload(
  cluster: KubeCluster,
  selector: string,
  firstPods: Pod[],
  opts: KubeLogOptions,
  explicit: string | null,
  open: (pod: Pod, c: string, extra: StreamChoice) => Promise<IncomingMessage>,
): Promise<{ lines: number }> {
  const streams = new Map<string, { restarts: number; active: boolean; sink: LineSink }>();
  let lines = 0;
  const initial = new Set(firstPods.map((p) => p.metadata.uid));
  const startFor = (pod: Pod) => {
    for (const c of defaultContainers(pod, opts, explicit)) {
      const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === c);
      if (!status || (!status.state?.running && !status.state?.terminated && !(status.restartCount ?? 0))) continue;
      const key = `${pod.metadata.uid}/${c}`;
      const known = streams.get(key);
      const restarts = status.restartCount ?? 0;
      if (known && (known.active || known.restarts === restarts)) continue;
      const sink = known?.sink ?? new LineSink({ ...opts, until: opts.until }, `[${pod.metadata.name}/${c}] `, true);
      const entry = { restarts, active: true, sink };
      streams.set(key, entry);
      // The first pods show their --tail; a restarted container resumes after its last line; a new pod shows all.
      const extra: StreamChoice = known ? { follow: true, sinceTime: sink.lastTime, stamps: true } : initial.has(pod.metadata.uid) ? { follow: true, tail: opts.tail, stamps: true } : { follow: true, stamps: true };
      open(pod, c, extra)
        .then((res) => pump(res, sink, opts.out))
        .catch((err: unknown) => {
          if (!opts.signal.aborted && !(err instanceof EngineError)) opts.notice(`porthole: ${pod.metadata.name}/${c}: ${(err as Error).message}`);
        })
        .finally(() => {
          entry.active = false;
        });
    }
  };
  firstPods.forEach(startFor);
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout;
    const poll = async () => {
      try {
        (await workloadPods(cluster, selector)).forEach(startFor);
      } catch (err) {
        if (!opts.signal.aborted) opts.notice(`porthole: listing the pods again failed: ${(err as Error).message}`);
      }
      if (!opts.signal.aborted) timer = setTimeout(() => void poll(), opts.pollMs ?? 2000);
    };
    timer = setTimeout(() => void poll(), opts.pollMs ?? 2000);
    opts.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  for (const s of streams.values()) lines += s.sink.lines;
  return { lines };
}
