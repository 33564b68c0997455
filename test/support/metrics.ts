// Fixtures for the stats and top tests: busy and idle containers, docker stats' own figures parsed to numbers,
// and a tmux session to drive the full-screen views in a real terminal.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { BIN } from './cli.js';
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, runContainer } from './docker.js';

export const BUSY_LOOP = ['sh', '-c', 'while :; do :; done'];
export const IDLE = ['sleep', '3600'];

export function startBusy(name: string, args: string[] = []): string {
  ensureBusyboxImage();
  return runContainer(name, args, BUSYBOX_IMAGE, BUSY_LOOP);
}

export function startIdle(name: string, args: string[] = []): string {
  ensureBusyboxImage();
  return runContainer(name, args, BUSYBOX_IMAGE, IDLE);
}

const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** "1.5MiB" or "796B" as a number of bytes. */
export function parseSize(text: string): number {
  const m = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
  if (!m || UNITS[m[2]!] === undefined) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export interface DockerStatsFigures {
  name: string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
}

/** `docker stats --no-stream` for the named containers, as numbers. */
export function dockerStats(names: string[]): Map<string, DockerStatsFigures> {
  const out = docker(['stats', '--no-stream', '--format', '{{json .}}', ...names]);
  const figures = new Map<string, DockerStatsFigures>();
  for (const line of out.split('\n').filter(Boolean)) {
    const s = JSON.parse(line);
    const [used, limit] = String(s.MemUsage).split(' / ');
    figures.set(s.Name, {
      name: s.Name,
      cpuPercent: Number(String(s.CPUPerc).replace('%', '')),
      memoryBytes: parseSize(used!),
      memoryLimitBytes: parseSize(limit!),
      pids: Number(s.PIDs),
    });
  }
  return figures;
}

/** A detached tmux session running porthole in a terminal of the given size, on a tmux server of its own. */
export class TmuxSession {
  readonly name: string;
  /** Its own server socket (-L), so other sessions' tmux use (kill-server) cannot end it. */
  private readonly socket: string;

  constructor(name: string, args: string[], opts: { width?: number; height?: number; env?: Record<string, string> } = {}) {
    this.name = name;
    this.socket = `porthole-test-${name}`;
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // A shell runs porthole, then records its exit code and stays, so the screen after the exit can be checked.
    // It traps Ctrl-C (a trap, unlike an ignored signal, is not inherited): the terminal sends SIGINT to the whole
    // foreground group, and a user's interactive shell would not be in it.
    const command = `trap : INT; ${shellQuote(BIN)} ${args.map(shellQuote).join(' ')}; echo "EXIT=$?"; sleep 600`;
    this.tmux(['new-session', '-d', '-s', name, '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 40), ...env, 'sh', '-c', command]);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  private query(format: string): string {
    return this.tmux(['display-message', '-p', '-t', this.name, format]).trim();
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** The visible screen as text. */
  capture(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name]);
  }

  /** The visible screen with its colours and attributes as escape sequences (reverse video shows as ESC[7m). */
  captureWithEscapes(): string {
    return this.tmux(['capture-pane', '-p', '-e', '-t', this.name]);
  }

  /** The pane's shell (porthole runs as its child). */
  panePid(): number {
    return Number(this.query('#{pane_pid}'));
  }

  /** Whether the pane shows the alternate screen right now. */
  inAlternateScreen(): boolean {
    return this.query('#{alternate_on}') === '1';
  }

  /** The terminal's modes as stty reports them for the pane's tty (raw mode shows as -icanon -echo). */
  sttyState(): string {
    return execFileSync('stty', ['-a', '-F', this.query('#{pane_tty}')], { encoding: 'utf8' });
  }

  cursorVisible(): boolean {
    return this.query('#{cursor_flag}') === '1';
  }

  /** Waits until the screen matches, returning it; throws with the last screen when it does not in time. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < end) {
      screen = this.capture();
      if (pattern.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen never matched ${pattern}:\n${screen}`);
  }

  /** The porthole process in the pane: the pane shell's child running dist/porthole.cjs. */
  portholePid(): number {
    const panePid = this.panePid();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === panePid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('porthole.cjs')) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
    throw new Error(`no porthole process under the tmux pane ${panePid}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
