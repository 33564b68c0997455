// porthole's cache folder: $XDG_CACHE_HOME/porthole (default ~/.cache/porthole). What it holds (V8 code caches,
// the API versions settled with local engines) is trusted on the next run, so it is used only when it is a real
// folder of this user's that nobody else can write. Kept to node:fs and node:path: the launcher uses it too.
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The folder, made if missing, or undefined when there is no home or it is not safely ours. */
export function cacheFolder(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  if (!base) return undefined;
  const dir = join(base, 'porthole');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}
