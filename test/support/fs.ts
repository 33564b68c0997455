// Fixture containers for the filesystem commands: the same files in a running, a stopped and a shell-less
// (never started) container, and a hostile one whose names attack the terminal and the listing.
import { BUSYBOX_IMAGE, TEST_LABEL, createContainer, docker, ensureBusyboxImage, ensureStaticImage, leftoversFor as leftoversForId, removeContainers, uniqueName } from './docker.js';

export { containerFingerprint as stableFingerprint } from './docker.js';

export const STATIC_IMAGE = 'porthole-fixture/fs-static:1';

/** The files every busybox fixture writes; BINARY is bytes 0..255 then 0..255 again. */
export const SETUP_SCRIPT = [
  'mkdir -p /app/logs /app/sub/deeper',
  'printf "hello\\nworld\\nERROR: disk full\\n" > /app/config.txt',
  'i=0; while [ $i -lt 256 ]; do printf "\\\\$(printf %o $i)"; i=$((i+1)); done > /app/binary.bin',
  'cat /app/binary.bin /app/binary.bin > /app/binary2.bin && mv /app/binary2.bin /app/binary.bin',
  'printf "line one\\nan error here\\n" > /app/logs/app.log',
  'head -c 300000 /dev/zero > /app/logs/big.log',
  'printf "x" > /app/sub/deeper/leaf',
  'printf ".hidden" > /app/.hidden',
  'ln -s config.txt /app/link-to-config',
  'ln -s ../../etc/passwd /app/sub/up-link',
  'ln -s /app/sub /app/dirlink',
  'chown 1000:1000 /app/config.txt',
  'rm -rf /home/app',
  'echo "extra:x:2000:2000::/:/bin/false" >> /etc/passwd',
].join(' && ');

export const BINARY_CONTENT = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);

export interface FsFixtures {
  running: string;
  stopped: string;
  shellless: string;
  all: string[];
}

/** A running and a stopped busybox container holding SETUP_SCRIPT's files, and a never-started static one. */
export function makeFixtures(prefix: string): FsFixtures {
  ensureBusyboxImage();
  ensureStaticImage(STATIC_IMAGE, 'int main(void) { return 0; }\n');
  const running = uniqueName(`${prefix}-run`);
  const stopped = uniqueName(`${prefix}-stop`);
  const shellless = uniqueName(`${prefix}-static`);
  docker(['run', '-d', '--name', running, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', `${SETUP_SCRIPT} && touch /ready && exec sleep 3600`]);
  docker(['run', '--name', stopped, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-c', SETUP_SCRIPT]);
  createContainer(shellless, [], STATIC_IMAGE);
  // The running one is ready when its last file exists.
  for (let i = 0; i < 100; i++) {
    if (docker(['exec', running, 'sh', '-c', 'test -e /ready && echo yes || echo no']) === 'yes') break;
  }
  return { running, stopped, shellless, all: [running, stopped, shellless] };
}

/**
 * A stopped container whose names attack: ESC sequences, a newline that would forge a row, CR, bytes that are
 * not UTF-8, a link out of the root, and a folder 600 levels deep.
 */
export function makeHostile(prefix: string): string {
  ensureBusyboxImage();
  const name = uniqueName(`${prefix}-hostile`);
  const script = [
    'mkdir -p /h',
    'printf evil > "/h/$(printf "esc\\033]0;pwned\\007\\033[2Jname")"',
    'printf forged > "/h/$(printf "nl\\nA forged-row")"',
    'printf cr > "/h/$(printf "cr\\rback")"',
    'printf bad > "/h/$(printf "bad\\377\\376bytes")"',
    'ln -s ../../../../etc/shadow-out /h/up',
    'ln -s "$(printf "\\033[31mred")" /h/esclink',
    'cd /h',
    'i=0',
    'while [ $i -lt 600 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done',
    'printf deep > bottom',
  ].join(' && ');
  docker(['run', '--name', name, '--label', TEST_LABEL, BUSYBOX_IMAGE, 'sh', '-ec', script]);
  return name;
}

export function removeFixtures(...names: string[]): void {
  removeContainers(...names);
}


/**
 * What porthole left behind for these targets (io.porthole.owned things whose io.porthole.target names one of
 * them). The global portholeLeftovers() also sees other sessions working on the same engine at the same time.
 */
export function leftoversFor(...names: string[]): string[] {
  return names.flatMap((name) => leftoversForId(docker(['inspect', '--format', '{{.Id}}', name])));
}
