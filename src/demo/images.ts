// The demo's two images, built offline from programs on this machine (no registry needed): a "clock" from the
// static busybox, and a "crash" around a real nginx that fails at start on a bad config, its error written only
// to /var/log/nginx/error.log, as in the seed. Without nginx a busybox script plays its part, and says so.
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EngineClient } from '../engine/types.js';
import { Unsupported } from '../errors.js';

export const DEMO_LABEL = 'io.porthole.demo';
export const CLOCK = { container: 'porthole-demo-clock', image: 'porthole-demo-clock:latest' } as const;
export const CRASH = { container: 'porthole-demo-crash', image: 'porthole-demo-crash:latest' } as const;
export const BUSYBOX = '/bin/busybox';
export const NGINX = '/usr/sbin/nginx';

/** Line 1 is the mistake; the rest is a working config, so removing line 1 makes the server start. */
export const NGINX_CONF = `invalid_directive;
error_log /var/log/nginx/error.log;
pid /run/nginx.pid;
user www-data;
worker_processes 1;

events {
    worker_connections 64;
}

http {
    access_log /var/log/nginx/access.log;
    server {
        listen 80;
        location / {
            return 200 "hello from the porthole demo\\n";
        }
    }
}
`;

// Like many images' start scripts, it keeps the server's messages in the server's own log file: a failure at
// start shows nothing on the console (nginx would otherwise also print config errors on stderr).
const ENTRYPOINT = `#!/bin/sh
# Starts nginx in the foreground; its messages go to /var/log/nginx/error.log only.
exec /usr/sbin/nginx -e /var/log/nginx/error.log -g 'daemon off;' 2>/dev/null
`;

// Stands in for nginx when it is not installed: checks the config the way nginx does and fails the same way.
const NGINX_STAND_IN = `#!/bin/sh
# A stand-in for nginx (it was not installed where this demo was built): same config check, same error.
conf=/etc/nginx/nginx.conf
log=/var/log/nginx/error.log
while [ $# -gt 0 ]; do
  case "$1" in -e) log="$2"; shift ;; -c) conf="$2"; shift ;; esac
  shift
done
line=$(grep -n '^[[:space:]]*invalid_directive' "$conf" | head -n 1 | cut -d: -f1)
if [ -n "$line" ]; then
  echo "$(date '+%Y/%m/%d %H:%M:%S') [emerg] 1#1: unknown directive \\"invalid_directive\\" in $conf:$line" >> "$log"
  exit 1
fi
echo "$(date '+%Y/%m/%d %H:%M:%S') [notice] 1#1: start worker processes" >> "$log"
while true; do sleep 3600; done
`;

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n';

export interface BuiltImage {
  image: string;
  id: string;
  /** What the image runs, in words, for the user. */
  program: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The shared libraries a dynamic executable loads, as ldd lists them (the loader included). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path && !libs.includes(path)) libs.push(path);
  }
  return libs;
}

/** A busybox root: the binary and a link per applet, so the image has a shell and the usual tools. */
function addBusybox(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
  for (const dir of ['etc', 'tmp', 'root']) mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc/passwd'), PASSWD);
  writeFileSync(join(root, 'etc/group'), GROUP);
}

export const PROGRAM_LABEL = 'io.porthole.demo.program';

/** Where a built image goes: the demo's own name and label by default; tests give their own. */
export interface ImageTarget {
  image: string;
  labels: Record<string, string>;
}

async function importRoot(engine: EngineClient, root: string, target: ImageTarget, program: string, changes: string[]): Promise<string> {
  const tar = await import('tar');
  // portable: no host uids, user names or times of this machine end up in the image; files belong to root.
  const stream = tar.create({ cwd: root, portable: true }, ['.']) as unknown as import('node:stream').Readable;
  const [repo, tag] = target.image.split(':') as [string, string];
  const labels = Object.entries({ ...target.labels, [PROGRAM_LABEL]: program }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  try {
    return await engine.importImage(stream, { repo, tag, changes: [...changes, `LABEL ${labels.join(' ')}`], message: 'porthole demo' });
  } catch (err) {
    // The engine gave up early: stop packing before the folder is removed under the packer.
    stream.on('error', () => undefined);
    stream.destroy();
    throw err;
  }
}

function withRoot<T>(build: (root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'porthole-demo-'));
  return build(root).finally(() => rmSync(root, { recursive: true, force: true }));
}

function requireBusybox(): void {
  if (!isExecutable(BUSYBOX)) {
    throw new Unsupported(`The demo needs a static busybox at ${BUSYBOX} and there is none.`, 'Install it (Debian: apt-get install busybox-static) and run `porthole demo up` again.');
  }
}

const DEMO_TARGET = (image: string): ImageTarget => ({ image, labels: { [DEMO_LABEL]: 'true' } });

export function buildClock(engine: EngineClient, target = DEMO_TARGET(CLOCK.image)): Promise<BuiltImage> {
  requireBusybox();
  return withRoot(async (root) => {
    addBusybox(root);
    const program = `static busybox from ${BUSYBOX}: while date; do sleep 1; done`;
    const id = await importRoot(engine, root, target, program, ['ENV PATH=/bin', 'CMD ["/bin/sh", "-c", "while date; do sleep 1; done"]']);
    return { image: target.image, id, program };
  });
}

/** nginx's version and libraries when it can be copied into an image, or why not. */
export function findNginx(): { ok: true; libs: string[] } | { ok: false; reason: string } {
  if (!isExecutable(NGINX)) return { ok: false, reason: `${NGINX} is not installed` };
  try {
    const libs = parseLdd(execFileSync('ldd', [NGINX], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    if (!libs.length) return { ok: false, reason: `ldd found no libraries for ${NGINX}` };
    return { ok: true, libs };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, reason: `ldd could not read ${NGINX}: ${(e.stderr || e.message).toString().trim()}` };
  }
}

function nginxVersion(): string {
  const r = execFileSync('sh', ['-c', `${NGINX} -v 2>&1`], { encoding: 'utf8' });
  return (/nginx\/[\d.]+/.exec(r)?.[0] ?? 'nginx').replace('/', ' ');
}

export function buildCrash(
  engine: EngineClient,
  notice: (m: string) => void,
  target = DEMO_TARGET(CRASH.image),
  nginx: ReturnType<typeof findNginx> = findNginx(),
): Promise<BuiltImage> {
  requireBusybox();
  return withRoot(async (root) => {
    addBusybox(root);
    for (const dir of ['etc/nginx', 'var/log/nginx', 'var/lib/nginx', 'var/www', 'run', 'usr/sbin']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'etc/nginx/nginx.conf'), NGINX_CONF);
    writeFileSync(join(root, 'docker-entrypoint.sh'), ENTRYPOINT, { mode: 0o755 });
    let program: string;
    if (nginx.ok) {
      copyFileSync(NGINX, join(root, 'usr/sbin/nginx'));
      chmodSync(join(root, 'usr/sbin/nginx'), 0o755);
      for (const lib of nginx.libs) {
        if (!existsSync(lib)) continue;
        mkdirSync(join(root, dirname(lib)), { recursive: true });
        copyFileSync(lib, join(root, lib)); // follows the host's symlinks: the image gets the real file
        chmodSync(join(root, lib), 0o755);
      }
      program = `${nginxVersion()} from ${NGINX} and its ${nginx.libs.length} libraries (ldd)`;
    } else {
      notice(`porthole: ${nginx.reason}; the crash demo uses a busybox script that fails the way nginx does.`);
      writeFileSync(join(root, 'usr/sbin/nginx'), NGINX_STAND_IN, { mode: 0o755 });
      program = `a busybox script standing in for nginx (${nginx.reason})`;
    }
    const id = await importRoot(engine, root, target, program, [
      'ENV PATH=/usr/sbin:/bin',
      'ENTRYPOINT ["/docker-entrypoint.sh"]',
      'EXPOSE 80',
    ]);
    return { image: target.image, id, program };
  });
}
