// Runs the built CLI the way a user does: a child process, with pipes or with a real terminal (script -qec).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/porthole.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
}

export function porthole(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return runProcess(BIN, args, opts);
}

export function runProcess(cmd: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${opts.timeoutMs ?? 60000} ms: ${cmd} ${args.join(' ')}\nstderr: ${Buffer.concat(err)}`));
    }, opts.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Spawns a child without waiting, for tests that signal it or talk to it. */
export function spawnPorthole(args: string[], env?: Record<string, string>) {
  return spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs porthole inside a real pseudo-terminal with `script -qec`, feeding `input` to the terminal as typed.
 * Returns everything the terminal showed and the exit code (script -e passes the child's code through).
 */
export function portholeInTty(args: string[], input: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  // `exec`: porthole is script's child itself. Otherwise the shell script(1) starts ($SHELL, or dash where SHELL is
  // unset, as in CI) waits in the same process group, and dash killed itself with a typed Ctrl-C after porthole
  // had ended normally, turning porthole's exit code into 130.
  const command = `exec ${[BIN, ...args].map(shellQuote).join(' ')}`;
  return runProcess('script', ['-qec', command, '/dev/null'], { input, timeoutMs: opts.timeoutMs, env: { SHELL: '/bin/bash', ...opts.env } });
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
