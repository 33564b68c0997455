// Fixtures for the shell and gc tests: a crashed container like the seed's and a terminal run with script(1) that
// also reports the terminal's modes afterwards.
import { spawn } from 'node:child_process';
import { BIN, runProcess, type CliResult } from './cli.js';
import { BUSYBOX_IMAGE, TEST_LABEL, docker, ensureBusyboxImage } from './docker.js';

export { containerFingerprint as stableFingerprint, leftoversFor } from './docker.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The seed's crash: a container whose program writes its error only to a log file inside the container, prints
 * a line on each stream, and exits with `exitCode`. Returns once it has exited.
 */
export function crashedContainer(name: string, opts: { exitCode?: number; args?: string[] } = {}): string {
  ensureBusyboxImage();
  const script =
    'mkdir -p /var/log/app && echo "[emerg] unknown directive \\"invalid_directive\\" in /etc/app.conf:1" > /var/log/app/error.log; ' +
    `echo started; echo failing >&2; exit ${opts.exitCode ?? 1}`;
  docker(['run', '-d', '--name', name, '--label', TEST_LABEL, '-e', 'APP_MODE=crashy', '-w', '/var/log', ...(opts.args ?? []), BUSYBOX_IMAGE, 'sh', '-c', script]);
  docker(['wait', name]);
  return name;
}


export function containerId(name: string): string {
  return docker(['inspect', '--format', '{{.Id}}', name]);
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function portholeCommand(args: string[]): string {
  return [BIN, ...args].map(shellQuote).join(' ');
}

/**
 * Runs a shell snippet inside a real terminal (script -qec). `$PORTHOLE` in the snippet is the CLI. The terminal
 * output is returned; the snippet's exit code is script's.
 */
export function inTerminal(snippet: string, input: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runProcess('script', ['-qec', snippet, '/dev/null'], {
    input,
    timeoutMs: opts.timeoutMs ?? 60_000,
    // bash, not whatever $SHELL is (dash where it is unset, as in CI): a typed Ctrl-C reaches the waiting shell too,
    // and dash then kills itself after the command ended normally; bash lets the command decide.
    env: { SHELL: '/bin/bash', PORTHOLE: portholeCommand([]), ...opts.env },
  });
}

/** Terminal modes that raw mode changes; all present (without '-') on a restored, cooked terminal. */
export function terminalCooked(sttyOutput: string): boolean {
  const words = sttyOutput.split(/\s+/);
  return ['icanon', 'echo', 'isig', 'icrnl', 'opost'].every((m) => words.includes(m));
}

/** Runs the CLI with byte-exact stdout and stderr (cli.ts decodes stderr as text). */
export function portholeBytes(args: string[], input?: Buffer | string, env?: Record<string, string>): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: porthole ${args.join(' ')}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Kills, from the host, the processes of a container whose command line matches (busybox has no pkill). */
export function killInContainer(container: string, pattern: RegExp): number {
  const lines = docker(['top', container, '-o', 'pid,args']).split('\n').slice(1);
  let killed = 0;
  for (const line of lines) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && pattern.test(m[2]!)) {
      try {
        process.kill(Number(m[1]), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

