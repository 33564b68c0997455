// The engines' multiplexed stdio framing (non-TTY exec, attach and logs): an 8-byte header per frame,
// byte 0 the stream (0 stdin, 1 stdout, 2 stderr, 3 system error), bytes 4-7 a big-endian length.
import { PassThrough, Writable, type Readable } from 'node:stream';

export interface DemuxedStreams {
  stdout: PassThrough;
  stderr: PassThrough;
  /** Resolves when the input ended and both outputs were ended; rejects on a framing or system error. */
  done: Promise<void>;
}

/**
 * Splits a multiplexed stream into stdout and stderr, honouring back-pressure on both (dockerode's
 * demuxStream does not, and has blown up memory on big outputs).
 */
export function demux(input: Readable): DemuxedStreams {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let pending: Buffer = Buffer.alloc(0);
  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined);

  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let wait: PassThrough | undefined;
      while (pending.length >= 8) {
        const kind = pending[0];
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        const payload = pending.subarray(8, 8 + size);
        pending = pending.subarray(8 + size);
        if (kind === 3) {
          callback(new Error(payload.toString('utf8').trim() || 'the engine reported an error on the stream'));
          return;
        }
        const target = kind === 2 ? stderr : stdout;
        if (!target.write(payload)) wait = target;
      }
      if (wait) wait.once('drain', () => callback());
      else callback();
    },
    final(callback) {
      stdout.end();
      stderr.end();
      callback();
    },
  });
  sink.on('finish', () => resolveDone());
  sink.on('error', (err) => {
    stdout.end();
    stderr.end();
    rejectDone(err);
  });
  input.on('error', (err) => sink.destroy(err));
  input.pipe(sink);
  return { stdout, stderr, done };
}

/** Frames one chunk the way engines do, for tests and fakes. */
export function frame(kind: 1 | 2 | 3, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
