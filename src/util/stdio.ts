// porthole's stdout and stderr, made on first use: Node builds each stream when process.stdout/stderr is first
// read (about 5 ms for the two), and `tool` and `nsenter`, whose program writes to the terminal itself, need
// neither when all goes well. exitWhenFlushed() waits only for the streams that were made.

let out: NodeJS.WriteStream | undefined;
let err: NodeJS.WriteStream | undefined;

export function stdout(): NodeJS.WriteStream {
  if (!out) {
    out = process.stdout;
    // stdout closed early by the reader (e.g. `| head`) is not an error worth a trace.
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
    });
  }
  return out;
}

export function stderr(): NodeJS.WriteStream {
  err ??= process.stderr;
  return err;
}

/** The standard streams made so far. */
export function madeStreams(): NodeJS.WriteStream[] {
  return [out, err].filter((s): s is NodeJS.WriteStream => s !== undefined);
}
