// The host side of `porthole nsenter`: where util-linux's nsenter is, whether porthole may enter another process's
// namespaces, and the nsenter command line for the chosen ones.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type Namespace = 'net' | 'pid' | 'mount' | 'uts' | 'ipc';
export const NAMESPACES: Namespace[] = ['net', 'pid', 'mount', 'uts', 'ipc'];

/** An executable's full path on PATH (or the path itself when it names one), undefined when there is none. */
export function findOnPath(program: string, path: string | undefined): string | undefined {
  const candidates = program.includes('/') ? [program] : (path || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there, or not executable: the next one
    }
  }
  return undefined;
}

/** Whether this process holds CAP_SYS_ADMIN, which setns(2) into another process's namespaces needs. */
export function canEnterNamespaces(procRoot = '/proc'): boolean {
  try {
    const line = readFileSync(`${procRoot}/self/status`, 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    return line !== undefined && (BigInt(`0x${line.slice(7).trim()}`) >> 21n) % 2n === 1n;
  } catch {
    return false;
  }
}

/** nsenter's arguments: -t PID, one flag a namespace (-a for all of them), then the program. */
export function nsenterArgs(hostPid: number, namespaces: Namespace[] | 'all', program: string[]): string[] {
  const flags = namespaces === 'all' ? ['--all'] : namespaces.map((ns) => `--${ns}`);
  return ['--target', String(hostPid), ...flags, '--', ...program];
}
