// A unix socket in front of the real engine, for the tests of an engine that misbehaves under porthole: one that
// dies in the middle of a stream, sends slowly, goes away and comes back, or whose requests a test counts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EngineProxy {
  socketPath: string;
  /** The address to give porthole: `-H`/`DOCKER_HOST`. */
  host: string;
  /** Bytes sent from the engine to porthole so far, over every connection. */
  bytesDown(): number;
  /** "METHOD /path" of every request porthole made through the proxy (version prefix and query dropped). */
  requests(): string[];
  /** The engine going away: every connection cut, nobody listening. */
  cut(): void;
  /** The engine coming back on the same address. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface EngineProxyOptions {
  /** Where to listen; a fresh temporary folder (removed by close()) when not given. */
  socketPath?: string;
  /** Close every connection once the engine has sent that many bytes on it (an engine that dies mid-stream). */
  cutAfter?: number;
  /** Pause this long between the engine's chunks (a slow copy). */
  delayMs?: number;
  /** The engine's socket. */
  target?: string;
}

export async function engineProxy(opts: EngineProxyOptions = {}): Promise<EngineProxy> {
  const target = opts.target ?? '/var/run/docker.sock';
  const ownDir = opts.socketPath ? undefined : mkdtempSync(join(tmpdir(), 'porthole-proxy-'));
  const socketPath = opts.socketPath ?? join(ownDir!, 'engine.sock');
  let down = 0;
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();

  const forward = (client: net.Socket) => {
    const upstream = net.connect(target);
    sockets.add(client).add(upstream);
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r$/gm)) {
        requests.push(`${m[1]} ${m[2]!.replace(/^\/v[\d.]+/, '').replace(/\?.*$/, '')}`);
      }
    });
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (opts.cutAfter !== undefined && sent + chunk.length > opts.cutAfter) {
        const room = Math.max(0, opts.cutAfter - sent);
        if (room) client.write(chunk.subarray(0, room));
        sent += room;
        down += room;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      down += chunk.length;
      const ok = client.write(chunk);
      if (opts.delayMs) {
        upstream.pause();
        setTimeout(() => upstream.resume(), opts.delayMs);
      } else if (!ok) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => client.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  };

  const listen = (): Promise<net.Server> =>
    new Promise((resolve, reject) => {
      const s = net.createServer(forward);
      s.on('error', reject);
      s.listen(socketPath, () => resolve(s));
    });
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  let server = await listen();
  return {
    socketPath,
    host: `unix://${socketPath}`,
    bytesDown: () => down,
    requests: () => [...requests],
    cut() {
      server.close();
      dropAll();
    },
    async resume() {
      if (existsSync(socketPath)) rmSync(socketPath);
      server = await listen();
    },
    close: () =>
      new Promise<void>((done) => {
        dropAll();
        server.close(() => {
          if (ownDir) rmSync(ownDir, { recursive: true, force: true });
          done();
        });
      }),
  };
}
