// `porthole logs web` for a Compose service with several replicas: every replica's lines, each prefixed with its
// container's name as `docker compose logs` does (`shop-web-1  | ...`), stdout to stdout and stderr to stderr,
// merged in time order (the engine's own timestamps); with -f, in the order they arrive.
import type { Readable } from 'node:stream';
import type { Context, OutputStream } from '../context.js';
import type { ContainerDetails, EngineClient, LogOptions } from '../engine/types.js';
import { demux } from '../engine/stdio.js';
import { escapeLineBytes, LineSplitter } from '../report/text.js';
import { escapeName } from '../render/escape.js';

interface Line {
  time: string;
  seq: number;
  stderr: boolean;
  prefix: string;
  /** The line's bytes after the engine's timestamp, its newline kept. */
  body: Buffer;
}

export async function replicaLogs(
  ctx: Context,
  engine: EngineClient,
  replicas: ContainerDetails[],
  opts: LogOptions,
  filter: RegExp | undefined,
): Promise<{ stdoutLines: number; stderrLines: number }> {
  const width = Math.max(...replicas.map((r) => r.name.length));
  const counts = { stdoutLines: 0, stderrLines: 0 };
  const collected: Line[] = [];
  let seq = 0;
  const write = (dest: OutputStream, line: Line): Promise<void> | undefined => {
    const text = line.body.toString('utf8').replace(/\r?\n$/, '');
    if (filter) {
      filter.lastIndex = 0;
      if (!filter.test(text)) return undefined;
    }
    if (line.stderr) counts.stderrLines++;
    else counts.stdoutLines++;
    const stamp = opts.timestamps ? `${line.time} ` : '';
    const newline = line.body.length && line.body[line.body.length - 1] === 10 ? '' : '\n';
    const data = dest.isTTY
      ? `${escapeName(line.prefix)}${stamp}${escapeLineBytes(line.body)}${newline}`
      : Buffer.concat([Buffer.from(line.prefix.replace(/[\x00-\x1f\x7f]/g, '?') + stamp), line.body, Buffer.from(newline)]);
    if (dest.write(data)) return undefined;
    return new Promise((resolve) => dest.once('drain', () => resolve()));
  };
  const emit = (line: Line) => (opts.follow ? write(line.stderr ? ctx.stderr : ctx.stdout, line) : void collected.push(line));

  const streams: Readable[] = [];
  const stop = () => streams.forEach((s) => s.destroy());
  ctx.cleanup.add('stop reading the logs', stop);
  ctx.signal.addEventListener('abort', stop, { once: true });
  const readOne = async (replica: ContainerDetails) => {
    const { stream } = await engine.logs(replica.id, { ...opts, timestamps: true });
    streams.push(stream);
    const prefix = `${replica.name.padEnd(width)}  | `;
    const sources: [Readable, boolean][] = replica.config.tty ? [[stream, false]] : (() => {
      const { stdout, stderr } = demux(stream);
      return [[stdout, false], [stderr, true]] as [Readable, boolean][];
    })();
    await Promise.all(
      sources.map(async ([source, stderr]) => {
        const splitter = new LineSplitter();
        const take = async (raw: Buffer) => {
          const space = raw.indexOf(32);
          const time = space > 0 ? raw.subarray(0, space).toString('latin1') : '';
          const body = space > 0 && /^\d{4}-\d\d-\d\dT/.test(time) ? raw.subarray(space + 1) : raw;
          await emit({ time, seq: seq++, stderr, prefix, body });
        };
        for await (const chunk of source) for (const raw of splitter.push(chunk as Buffer)) await take(raw);
        for (const raw of splitter.flush()) await take(raw);
      }),
    );
  };
  try {
    await Promise.all(replicas.map(readOne));
  } catch (err) {
    if (ctx.signal.aborted) return counts;
    throw err;
  }
  // RFC 3339 times in UTC from the engine, trailing zeros of the fraction dropped: padded, as text they sort in order.
  const key = (time: string) => time.replace(/(?:\.(\d+))?Z$/, (_m, frac: string | undefined) => `.${(frac ?? '').padEnd(9, '0')}Z`);
  for (const line of collected) line.time = line.time && key(line.time);
  collected.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq));
  for (const line of collected) await write(line.stderr ? ctx.stderr : ctx.stdout, line);
  return counts;
}
