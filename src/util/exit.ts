// Ending the process without losing output. process.exit() ends at once, and what a pipe could not take yet is
// still queued in the stream: it is dropped. Seen with `porthole cp C:/d - | slow-reader` on a loaded machine, the
// tar's last few KiB missing after an exit code of 0. So the exit waits until every byte written has reached the
// pipe (an empty write's callback runs after the writes before it), however slow the reader.
import type { Writable } from 'node:stream';

/** Calls process.exit(code) once everything written to `streams` has been handed to the OS. */
export function exitWhenFlushed(code: number, streams: Writable[] = [process.stdout, process.stderr], graceMs?: number): void {
  let waiting = streams.length + 1;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  for (const stream of streams) {
    // A stream closed or broken (EPIPE) has nothing left to deliver.
    if (stream.writableLength === 0 || stream.destroyed || stream.writableEnded) done();
    else stream.write('', () => done());
  }
  // A deadline for the exits that must not wait on a reader (a signal): the rest is given up.
  if (graceMs !== undefined) setTimeout(() => process.exit(code), graceMs).unref();
  done();
}
