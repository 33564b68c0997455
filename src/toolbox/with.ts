// `porthole toolbox build --with strace,lsof,gdb,...`: host programs carried into the toolbox with every library
// they load, so that dynamic binaries run in the sidecar, whose root is the target's (a distroless or scratch
// image with no libc of its own).
//
// Layout added to the image (all under /.porthole, which the sidecar reaches as /proc/self/fd/9/.porthole from
// inside the target's root, see enter/toolbox.ts):
//   with/NAME      the program itself (a static one goes to bin/NAME directly)
//   lib/SONAME     each library ldd names, symlinks resolved to the file's bytes, and the loader (PT_INTERP)
//   bin/NAME       a busybox script that runs with/NAME through lib/'s loader with --library-path lib/ and
//                  --inhibit-cache: the target's own /etc/ld.so.cache and /lib are never consulted
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findOnPath } from '../host/nsenter.js';
import type { TarEntry } from './tar.js';
import { TOOLBOX_DIR } from './image.js';

/** Where the sidecar sees the toolbox from inside the target's root (fd 9 is the sidecar's own root). */
const SIDECAR_TOOLBOX = `/proc/self/fd/9${TOOLBOX_DIR}`;

/** Libraries a program opens at run time (dlopen), which ldd cannot see. */
const RUNTIME_LIBRARIES: Record<string, string[]> = {
  gdb: ['libthread_db.so.1'],
};

/** Folders a program reads at run time beside its libraries, relative to its prefix (/usr on the host, /.porthole in
 * the toolbox; gdb and Python find them relative to where they run from). Big folders nobody needs are left out. */
function runtimeTrees(name: string, libraries: LddLibrary[]): { host: string; image: string }[] {
  const trees: { host: string; image: string }[] = [];
  const python = libraries.map((l) => /^libpython(\d+\.\d+)/.exec(l.name)?.[1]).find(Boolean);
  if (python) trees.push({ host: `/usr/lib/python${python}`, image: `lib/python${python}` });
  if (name === 'gdb') trees.push({ host: '/usr/share/gdb', image: 'share/gdb' });
  return trees;
}

const SKIPPED_FOLDERS = new Set(['test', 'tests', 'site-packages', 'dist-packages', '__pycache__', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'lib2to3', 'pydoc_data']);

/** A host folder's regular files (links followed) as tar entries under `image`. */
function treeEntries(host: string, image: string, seen: Set<string>): TarEntry[] {
  const entries: TarEntry[] = [];
  const walk = (from: string, to: string, depth: number) => {
    if (depth > 12) return;
    let names: string[];
    try {
      names = readdirSync(from).sort();
    } catch {
      return;
    }
    if (!seen.has(to)) {
      seen.add(to);
      entries.push({ path: to, type: 'dir', mode: 0o755 });
    }
    for (const name of names) {
      if (SKIPPED_FOLDERS.has(name) || name.startsWith('config-')) continue;
      const source = join(from, name);
      let stat;
      try {
        stat = statSync(source);
      } catch {
        continue;
      }
      if (stat.isDirectory()) walk(source, `${to}/${name}`, depth + 1);
      else if (stat.isFile() && !seen.has(`${to}/${name}`)) {
        seen.add(`${to}/${name}`);
        try {
          entries.push({ path: `${to}/${name}`, type: 'file', mode: stat.mode & 0o755, data: readFileSync(source) });
        } catch {
          // unreadable: left out
        }
      }
    }
  };
  walk(host, image, 0);
  return entries;
}

/**
 * Arguments put before the user's, for programs that need telling where they are. gdb, by default, reaches a
 * process's files through its mount namespace (setns, which the sidecar may not do); there `/` already is the
 * target's root.
 */
const LEADING_ARGS: Record<string, string[]> = {
  gdb: ['-iex', 'set sysroot /'],
};

export interface LddLibrary {
  name: string;
  /** Where the loader found it; null when ldd says "not found". */
  path: string | null;
}

/** ldd's lines: `name => /path (0x..)`, `name => not found`, `/lib64/ld-linux-x86-64.so.2 (0x..)`; vdso skipped. */
export function parseLdd(text: string): { libraries: LddLibrary[]; loader: string | undefined } {
  const libraries: LddLibrary[] = [];
  let loader: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const arrow = /^(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      const where = arrow[2]!.trim();
      if (where === 'not found') libraries.push({ name: arrow[1]!, path: null });
      else if (where.startsWith('/')) libraries.push({ name: arrow[1]!, path: where });
      continue;
    }
    const bare = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) loader = bare[1];
  }
  return { libraries, loader };
}

export interface WithProgram {
  name: string;
  /** Where it was found on this host. */
  path: string;
  static: boolean;
  /** The libraries carried for it (the loader included), by the name the program asks for. */
  libraries: string[];
}

export interface WithMissing {
  name: string;
  reason: string;
}

export interface WithPlan {
  programs: WithProgram[];
  missing: WithMissing[];
  entries: TarEntry[];
}

/** `--with a,b c` as a list of names or paths, in order, once each. */
export function splitWith(values: string[]): string[] {
  return [...new Set(values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}

/** A program's name in the toolbox: the file name of what was asked for (a path's last part). */
function toolName(asked: string): string {
  return basename(asked);
}

/** The PT_INTERP path of an ELF file, undefined for a static one (or not an ELF). */
export function elfInterpreter(bytes: Buffer): string | undefined {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const u16 = (o: number) => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + (is64 ? 56 : 32) > bytes.length) return undefined;
    if (u32(at) !== 3) continue;
    const offset = is64 ? u64(at + 8) : u32(at + 4);
    const size = is64 ? u64(at + 32) : u32(at + 16);
    if (offset + size > bytes.length || size > 4096) return undefined;
    return bytes.subarray(offset, offset + size).toString('latin1').replace(/\0.*$/s, '');
  }
  return undefined;
}

function ldd(path: string, loader: string): string {
  const options = { encoding: 'utf8' as const, timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 22 };
  try {
    return execFileSync('ldd', [path], options);
  } catch {
    // No ldd (musl hosts call it `ld-musl-ARCH.so.1 --list`): the loader lists the same.
    return execFileSync(loader, ['--list', path], options);
  }
}

/** The busybox script that runs a dynamic program through the carried loader and libraries. */
export function wrapperScript(name: string, loader: string, argv0: boolean): string {
  const lib = `${SIDECAR_TOOLBOX}/lib`;
  const flags = ['--inhibit-cache', '--library-path', lib, ...(argv0 ? ['--argv0', name] : [])].join(' ');
  const leading = (LEADING_ARGS[name] ?? []).map((a) => `'${a}'`).join(' ');
  return `#!${SIDECAR_TOOLBOX}/bin/sh\nexec ${lib}/${basename(loader)} ${flags} ${SIDECAR_TOOLBOX}/with/${name}${leading ? ` ${leading}` : ''} "$@"\n`;
}

/** Whether the loader takes --argv0 (glibc 2.33 and later); asked once of the loader itself. */
function loaderTakesArgv0(loader: string): boolean {
  try {
    return execFileSync(loader, ['--help'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).includes('--argv0');
  } catch {
    return false;
  }
}

const SAFE_NAME = /^[A-Za-z0-9_.+-]+$/;

/**
 * Finds each program on this host (a name on PATH, or a path), and the libraries it loads (ldd), and makes the
 * image entries that carry them. What cannot be carried is in `missing`, with why; the rest is built.
 */
export function planWith(asked: string[], path: string | undefined, arch: string, archOf: (bytes: Buffer) => string | undefined): WithPlan {
  const programs: WithProgram[] = [];
  const missing: WithMissing[] = [];
  const dir = TOOLBOX_DIR.slice(1);
  const entries: TarEntry[] = [];
  const libraries = new Map<string, Buffer>();
  const argv0Known = new Map<string, boolean>();
  const names = new Set<string>();
  const trees: TarEntry[] = [];
  const treeSeen = new Set<string>();
  for (const want of asked) {
    const name = toolName(want);
    if (!SAFE_NAME.test(name) || name === 'sh' || name === 'busybox' || name === 'chroot') {
      missing.push({ name: want, reason: name === 'sh' || name === 'busybox' || name === 'chroot' ? 'the toolbox keeps its own' : 'not a program name' });
      continue;
    }
    if (names.has(name)) continue;
    const found = findOnPath(want, path);
    if (!found) {
      missing.push({ name: want, reason: want.includes('/') ? 'no such executable' : 'not on PATH' });
      continue;
    }
    let bytes: Buffer;
    try {
      if (statSync(found).size > 512 * 1024 * 1024) throw new Error('too big');
      bytes = readFileSync(found);
    } catch {
      missing.push({ name: want, reason: `${found} could not be read` });
      continue;
    }
    const programArch = archOf(bytes);
    if (!programArch) {
      missing.push({ name: want, reason: `${found} is not a compiled program (a script?)` });
      continue;
    }
    if (programArch !== arch) {
      missing.push({ name: want, reason: `${found} is built for ${programArch}, the engine runs ${arch}` });
      continue;
    }
    const interp = elfInterpreter(bytes);
    if (!interp) {
      entries.push({ path: `${dir}/bin/${name}`, type: 'file', mode: 0o755, data: bytes });
      programs.push({ name, path: found, static: true, libraries: [] });
      names.add(name);
      continue;
    }
    let listed;
    try {
      listed = parseLdd(ldd(found, interp));
    } catch {
      missing.push({ name: want, reason: `ldd could not list the libraries of ${found}` });
      continue;
    }
    const notFound = listed.libraries.filter((l) => l.path === null).map((l) => l.name);
    if (notFound.length) {
      missing.push({ name: want, reason: `needs ${notFound.join(', ')}, which ldd could not find` });
      continue;
    }
    const carried: string[] = [];
    const wanted = [...listed.libraries.map((l) => ({ name: l.name, path: l.path! })), { name: basename(interp), path: listed.loader ?? interp }];
    const libc = listed.libraries.find((l) => /^libc\.so/.test(l.name))?.path;
    for (const extra of RUNTIME_LIBRARIES[name] ?? []) {
      if (libc) wanted.push({ name: extra, path: join(dirname(realpathSync(libc)), extra) });
    }
    let failed: string | undefined;
    for (const lib of wanted) {
      if (!SAFE_NAME.test(lib.name)) continue;
      if (!libraries.has(lib.name)) {
        try {
          libraries.set(lib.name, readFileSync(realpathSync(lib.path)));
        } catch {
          if ((RUNTIME_LIBRARIES[name] ?? []).includes(lib.name)) continue; // optional
          failed = lib.path;
          break;
        }
      }
      carried.push(lib.name);
    }
    if (failed) {
      missing.push({ name: want, reason: `its library ${failed} could not be read` });
      continue;
    }
    if (!argv0Known.has(interp)) argv0Known.set(interp, loaderTakesArgv0(listed.loader ?? interp));
    for (const tree of runtimeTrees(name, listed.libraries)) {
      // Parent folders first (lib/ is made below, share/ here).
      const top = tree.image.split('/')[0]!;
      if (top !== 'lib' && !treeSeen.has(`${dir}/${top}`)) {
        treeSeen.add(`${dir}/${top}`);
        trees.push({ path: `${dir}/${top}`, type: 'dir', mode: 0o755 });
      }
      trees.push(...treeEntries(tree.host, `${dir}/${tree.image}`, treeSeen));
    }
    entries.push({ path: `${dir}/with/${name}`, type: 'file', mode: 0o755, data: bytes });
    entries.push({ path: `${dir}/bin/${name}`, type: 'file', mode: 0o755, data: Buffer.from(wrapperScript(name, interp, argv0Known.get(interp)!)) });
    programs.push({ name, path: found, static: false, libraries: carried });
    names.add(name);
  }
  if (libraries.size) {
    entries.unshift({ path: `${dir}/lib`, type: 'dir', mode: 0o755 });
    for (const [name, data] of [...libraries].sort(([a], [b]) => a.localeCompare(b))) entries.push({ path: `${dir}/lib/${name}`, type: 'file', mode: 0o755, data });
  }
  entries.push(...trees);
  if (programs.some((p) => !p.static)) entries.unshift({ path: `${dir}/with`, type: 'dir', mode: 0o755 });
  return { programs, missing, entries };
}
