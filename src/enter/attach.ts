// Pumps one attached session (an exec, or a container attached before start) between the user and the engine.
// Shared by every way in: exec, snapshot and toolbox call runAttached and then ask their engine for the code.
//
// With a TTY: raw bytes both ways, the user's terminal in raw mode, window size forwarded, docker's detach
// keys honoured, and the terminal restored on every exit path. Without: docker's multiplexed frames split into
// stdout and stderr with back-pressure, byte-exact, and stdin's end delivered by half-closing the socket.
import type { Context } from '../context.js';
import type { AttachedStream } from '../engine/types.js';
import { demux } from '../engine/stdio.js';
import { DEFAULT_DETACH_KEYS, DetachWatcher, parseDetachKeys } from '../tty/detach-keys.js';
import { enterRawMode } from '../tty/raw.js';
import { watchResize, type ResizeFn } from '../tty/resize.js';

export interface AttachOptions {
  /** The session has a TTY: raw bytes, raw mode, resize, detach keys. */
  tty: boolean;
  /** Forward porthole's stdin into the session (default true); the engine side must have stdin attached. */
  stdin?: boolean;
  /** Tells the engine the window size (exec resize or container resize); only used with a TTY. */
  resize?: ResizeFn;
  /** docker's --detach-keys format; default ctrl-p,ctrl-q. Only with a TTY, as docker. */
  detachKeys?: string;
  /**
   * Resolves once the process is known to have ended. If the stream is still open `drainMs` later (a child
   * that kept stdout open, an engine that never closes the stream), the session ends anyway.
   */
  exited?: (signal: AbortSignal) => Promise<unknown>;
  drainMs?: number;
}

export interface AttachOutcome {
  /** The user typed the detach keys: the process may still be running. */
  detached: boolean;
  /** The stream was still open after the process ended, and porthole stopped waiting for it. */
  cut: boolean;
  /** The connection broke instead of ending cleanly (the engine went away, or a reset). */
  error?: Error;
}

/** Runs the session until the engine ends the stream, the user detaches, or the process is gone. */
export function runAttached(ctx: Context, attached: AttachedStream, opts: AttachOptions): Promise<AttachOutcome> {
  const { socket, head } = attached;
  const tty = opts.tty;
  const forwardStdin = opts.stdin !== false;
  const watcher = tty && forwardStdin ? new DetachWatcher(parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS)) : undefined;
  const stdin = ctx.stdin;
  const watchExit = new AbortController();

  // Raw mode first, so nothing the user types before the first byte arrives is echoed by the local terminal.
  const restoreTerminal = tty ? enterRawMode(stdin) : () => undefined;
  const dropRestore = ctx.cleanup.add('restore the terminal', restoreTerminal);
  const dropClose = ctx.cleanup.add('close the session stream', () => {
    socket.destroy();
  });
  // What the user types before the session has its window size waits for it, so a command typed ahead (or a
  // full-screen program started at once) does not see a 0x0 terminal: the engine starts a TTY at that size.
  let sized = !(tty && opts.resize);
  let onSized = () => {
    sized = true;
  };
  const stopResize = tty && opts.resize ? watchResize(ctx.stdout, opts.resize, () => onSized()) : () => undefined;

  return new Promise<AttachOutcome>((resolve) => {
    let finished = false;
    let cutTimer: NodeJS.Timeout | undefined;
    let streamError: Error | undefined;

    const finish = (outcome: Omit<AttachOutcome, 'error'>, error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(cutTimer);
      watchExit.abort();
      stdin.off('data', onData);
      stdin.off('end', onStdinEnd);
      stdin.off('error', onStdinEnd);
      stdin.pause();
      stopResize();
      restoreTerminal();
      dropRestore();
      dropClose();
      socket.destroy();
      const result: AttachOutcome = { ...outcome };
      if (error) result.error = error;
      // Let bytes already handed to stdout reach it before the caller exits the process.
      const out = ctx.stdout;
      if (out.writableEnded || out.destroyed) resolve(result);
      else out.write('', () => resolve(result));
    };

    // --- engine -> user
    if (head.length) socket.unshift(head);
    socket.on('error', (err) => {
      streamError ??= err;
    });
    const closedEarly = () => streamError ?? new Error('the engine closed the session before it ended');
    if (tty) {
      socket.pipe(ctx.stdout, { end: false });
      socket.on('end', () => finish({ detached: false, cut: false }));
      // A reset or a socket destroyed under us ends the session too.
      socket.on('close', () => finish({ detached: false, cut: false }, socket.readableEnded ? streamError : closedEarly()));
    } else {
      const streams = demux(socket);
      streams.stdout.pipe(ctx.stdout, { end: false });
      streams.stderr.pipe(ctx.stderr, { end: false });
      let open = 2;
      const oneEnded = () => {
        if (--open === 0) finish({ detached: false, cut: false }, streamError);
      };
      // A write after a forced end (socket reset mid-frame) must not become an uncaught error.
      streams.stdout.on('error', () => undefined);
      streams.stderr.on('error', () => undefined);
      streams.stdout.on('end', oneEnded);
      streams.stderr.on('end', oneEnded);
      streams.done.catch((err: Error) => {
        // A system-error frame from the engine: show it in the engine's words; the session ends with it.
        ctx.stderr.write(`porthole: ${err.message}\n`);
      });
      // Closed without an end (reset, destroyed): flush what was already split, then end with the error.
      socket.on('close', () => {
        if (socket.readableEnded) return;
        streamError = closedEarly();
        streams.stdout.end();
        streams.stderr.end();
      });
    }

    // --- user -> engine
    function onData(chunk: Buffer) {
      let data = chunk;
      if (watcher) {
        const seen = watcher.feed(chunk);
        data = seen.forward;
        if (seen.detach) {
          if (data.length && socket.writable) socket.write(data);
          finish({ detached: true, cut: false });
          return;
        }
      }
      if (!data.length || !socket.writable) return;
      if (!socket.write(data)) {
        stdin.pause();
        socket.once('drain', () => {
          if (!finished) stdin.resume();
        });
      }
    }
    // End of input: half-close, so the process sees EOF and its remaining output still arrives.
    function onStdinEnd() {
      if (!finished && socket.writable) socket.end();
    }
    const startInput = () => {
      if (finished) return;
      stdin.on('data', onData);
      stdin.on('end', onStdinEnd);
      stdin.on('error', onStdinEnd);
      if (stdin.readableEnded) onStdinEnd();
      else stdin.resume();
    };
    if (!forwardStdin) {
      if (socket.writable) socket.end();
    } else if (sized) startInput();
    else onSized = startInput;

    // --- the process is gone but the stream stays open: stop waiting after a moment
    opts.exited?.(watchExit.signal).then(
      () => {
        if (finished) return;
        cutTimer = setTimeout(() => finish({ detached: false, cut: true }), opts.drainMs ?? 1000);
      },
      () => undefined,
    );
  });
}
