// The API version settled with an engine on a local socket, remembered between runs, so that a one-shot command
// skips the /_ping round trip (about 5 ms of `porthole ps C` here). It is remembered for the socket file and that
// file's identity (device, inode, change time): an engine makes its socket anew when it starts, so a restarted,
// maybe upgraded, engine is asked again. A socket kept across restarts (systemd's socket activation) can still
// hide an upgrade: the engine then refuses the version ("client version 1.41 is too old"), and the client forgets
// it, asks the engine and sends the request again (transport.ts). PORTHOLE_REMEMBER_API=0 turns this off.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Memory = Record<string, { id: string; api: string }>;

export class RememberedVersion {
  private readonly file: string;

  constructor(
    cacheDir: string,
    private readonly socket: string,
  ) {
    this.file = join(cacheDir, 'engines.json');
  }

  /** The version remembered for this very socket, or undefined. */
  recall(): string | undefined {
    const id = this.socketId();
    const entry = id ? this.read()[this.socket] : undefined;
    return entry?.id === id && /^\d+\.\d+$/.test(entry?.api ?? '') ? entry!.api : undefined;
  }

  remember(api: string): void {
    const id = this.socketId();
    if (!id) return;
    const memory = this.read();
    if (memory[this.socket]?.id === id && memory[this.socket]?.api === api) return;
    memory[this.socket] = { id, api };
    this.write(memory);
  }

  forget(): void {
    const memory = this.read();
    if (!(this.socket in memory)) return;
    delete memory[this.socket];
    this.write(memory);
  }

  private socketId(): string | undefined {
    try {
      const st = statSync(this.socket, { bigint: true });
      return st.isSocket() ? `${st.dev}:${st.ino}:${st.ctimeNs}` : undefined;
    } catch {
      return undefined;
    }
  }

  private read(): Memory {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Memory) : {};
    } catch {
      return {};
    }
  }

  /** Atomically (two porthole runs may write at once: the last one wins); a failure only means asking next time. */
  private write(memory: Memory): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(memory)}\n`, { mode: 0o600 });
      renameSync(temp, this.file);
    } catch {
      // not remembered: the next run pings
    }
  }
}
