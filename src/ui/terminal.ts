// The Terminal tab's server side: one WebSocket per tab, running `porthole shell NAME` in this process with the
// socket as its terminal. The shell command picks the way in as on the command line (exec for a running container,
// a snapshot copy for a stopped one, the toolbox sidecar for one without a shell); whatever that way creates is
// removed when the tab closes, the socket breaks, the shell ends, or the server stops.
//
// Wire: binary frames are terminal bytes both ways; text frames are JSON control messages:
//   browser -> server  {"resize":[cols,rows]}
//   server -> browser  {"command":"porthole shell NAME"}  {"exit":CODE}  {"error":"sentence"}
import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Cleanup } from '../cleanup.js';
import { parseCommand } from '../cli/args.js';
import type { Context, InputStream, OutputStream } from '../context.js';
import { findCommand } from '../commands/registry.js';
import type { EngineClient } from '../engine/types.js';
import { PortholeError } from '../errors.js';
import { cgroupMentions } from '../procs/parse.js';
import { portholeCommand } from './data.js';

/**
 * A cleanup registry that, once run, runs anything registered later at once: a way in that was half-way through
 * (a snapshot being committed when the tab closed) registers its debug container after the session was told to
 * end, and that container must go too.
 */
export class SessionCleanup extends Cleanup {
  private closed = false;
  private late: Promise<unknown>[] = [];
  override add(description: string, run: () => Promise<void> | void): () => void {
    if (!this.closed) return super.add(description, run);
    this.late.push(Promise.resolve().then(run).catch(() => undefined));
    return () => undefined;
  }
  override runAll(): Promise<string[]> {
    this.closed = true;
    return super.runAll();
  }
  /** Resolves when everything registered, before or after runAll, has run. */
  async settled(): Promise<void> {
    await this.runAll();
    while (this.late.length) await Promise.all(this.late.splice(0));
  }
}

/** A terminal session: ends (and cleans up) when close() is called or the shell ends by itself. */
export interface TerminalSession {
  close(): void;
  /** Resolves when the shell has returned and everything it created is removed. */
  done: Promise<void>;
}

const MAX_SIZE = 1000;
const clampSize = (value: unknown, fallback: number) => {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= MAX_SIZE ? n : fallback;
};

/** The size a tab asks for in its URL (?cols=&rows=), within sane bounds. */
export function initialSize(params: URLSearchParams): { cols: number; rows: number } {
  return { cols: clampSize(params.get('cols'), 80), rows: clampSize(params.get('rows'), 24) };
}

/** Reads a control message; anything else in a text frame is ignored (a terminal must not die of a stray frame). */
export function parseControl(text: string): { resize?: [number, number] } {
  try {
    const value = JSON.parse(text);
    if (Array.isArray(value?.resize) && value.resize.length === 2) {
      const [cols, rows] = value.resize;
      if (clampSize(cols, 0) && clampSize(rows, 0)) return { resize: [cols, rows] };
    }
  } catch {
    // not JSON: ignored
  }
  return {};
}

/**
 * A tab closed on a running container's shell: the engine has no way to end an exec, and closing the stream
 * leaves the shell running in the container (as a killed `docker exec -it` does). When porthole sees the engine's
 * processes (same host), it hangs up as a terminal would: SIGHUP to the shell and to its foreground process group,
 * only after checking in /proc/PID/cgroup that the PID is in that container (a PID from a remote engine, or one
 * reused meanwhile, is left alone).
 */
export function hangUp(hostPid: number, containerId: string): boolean {
  let cgroup: string;
  let stat: string;
  try {
    cgroup = readFileSync(`/proc/${hostPid}/cgroup`, 'utf8');
    stat = readFileSync(`/proc/${hostPid}/stat`, 'utf8');
  } catch {
    return false;
  }
  if (!cgroupMentions(cgroup, containerId)) return false;
  // fields after the command name: state ppid pgrp session tty_nr tpgid
  const tpgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
  try {
    process.kill(hostPid, 'SIGHUP');
    if (tpgid > 0 && tpgid !== hostPid) process.kill(-tpgid, 'SIGHUP');
    return true;
  } catch {
    return false;
  }
}

/** The engine, with the execs a session starts remembered (container id, exec id), so they can be hung up. */
function recordingExecs(engine: EngineClient, execs: { containerId: string; execId: string }[]): EngineClient {
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === 'createExec') {
        return async (containerId: string, spec: Parameters<EngineClient['createExec']>[1]) => {
          const execId = await target.createExec(containerId, spec);
          if (spec.tty) execs.push({ containerId, execId });
          return execId;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

let server: WebSocketServer | undefined;

/** Takes over an upgrade that passed the server's checks and runs a shell on it. */
export function upgradeToTerminal(
  base: Context,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  ref: string,
  size: { cols: number; rows: number },
  onSession: (session: TerminalSession) => void,
  /** Checked before the shell starts; what it throws is the tab's error (a pod that exec cannot enter). */
  preflight?: () => Promise<void>,
): void {
  // no compression (a terminal's frames are small, and deflate has its own memory costs), 1 MB frames at most
  server ??= new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  server.handleUpgrade(req, socket, head, (ws) => onSession(runTerminal(base, ws, ref, size, preflight)));
}

function runTerminal(base: Context, ws: WebSocket, ref: string, size: { cols: number; rows: number }, preflight?: () => Promise<void>): TerminalSession {
  const abort = new AbortController();
  const cleanup = new SessionCleanup();
  const sendText = (value: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
  };
  // What the shell reads: the bytes the tab sends. A terminal as far as the ways in can tell (raw mode is the
  // browser's business: xterm.js sends keys as they are typed).
  const stdin = new PassThrough() as PassThrough & InputStream;
  stdin.isTTY = true;
  stdin.setRawMode = () => stdin;
  // What the shell prints goes to the tab as it comes; a slow tab holds the engine's stream back.
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(chunk, { binary: true }, () => cb());
    },
  }) as Writable & OutputStream;
  stdout.isTTY = true;
  stdout.columns = size.cols;
  stdout.rows = size.rows;
  // porthole's own notices ("working in a snapshot of it...") are shown in the terminal, as on the command line
  const toTerminal = (text: string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.from(text.replace(/\r?\n/g, '\r\n')), { binary: true });
  };
  const stderr = new Writable({
    write(chunk: Buffer, _enc, cb) {
      toTerminal(chunk.toString('utf8'));
      cb();
    },
  });

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      stdin.write(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
      return;
    }
    const control = parseControl(String(data));
    if (control.resize) {
      [stdout.columns, stdout.rows] = control.resize;
      stdout.emit('resize');
    }
  });
  ws.on('error', () => undefined);
  const execs: { containerId: string; execId: string }[] = [];
  const engine = base.engine().then((e) => recordingExecs(e, execs));
  engine.catch(() => undefined);
  let ended = false;
  const hangUpShells = async () => {
    if (ended) return;
    const client = await engine;
    for (const { containerId, execId } of execs.splice(0)) {
      const state = await client.inspectExec(execId).catch(() => undefined);
      if (state?.running && state.pid > 0) hangUp(state.pid, containerId);
    }
  };
  const close = () => {
    if (abort.signal.aborted) return;
    abort.abort(new Error('the terminal tab was closed'));
    cleanup.add('hang up the shell', hangUpShells);
    // the session's stream and everything the way in made go now; the shell's run then returns
    void cleanup.runAll();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
  };
  ws.on('close', close);

  const ctx: Context = {
    ...base,
    stdin,
    stdout,
    stderr,
    stdinIsTTY: true,
    stdinIsNull: false,
    env: { ...base.env, TERM: 'xterm-256color' },
    cleanup,
    signal: abort.signal,
    engine: () => engine,
    notice: (message) => toTerminal(`${message}\n`),
  };
  const undo = base.cleanup.add('close a terminal tab', () => {
    close();
    return cleanup.settled();
  });
  const command = portholeCommand(base, ref, ['shell', ref]);
  sendText({ command });
  const done = (async () => {
    try {
      await preflight?.();
      const mod = await findCommand('shell')!.load();
      const result = (await mod.run(ctx, parseCommand(mod.spec, [ref]))) as { exitCode: number };
      if (!abort.signal.aborted) ended = true;
      sendText({ exit: result.exitCode });
    } catch (err) {
      if (!abort.signal.aborted) {
        sendText({ error: err instanceof PortholeError ? `${err.message}${err.hint ? ` ${err.hint}` : ''}` : `unexpected error: ${(err as Error)?.message ?? String(err)}` });
      }
    } finally {
      close();
      await cleanup.settled();
      undo();
    }
  })();
  return { close, done };
}
