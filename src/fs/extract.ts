// Safe extraction of a tar stream that comes from a container we do not trust (`porthole cp C:PATH DEST`).
// node-tar's Parser reads the stream; every write decision is ours: names are checked segment by segment, every
// parent folder is lstat'ed (never followed), files are created under a temporary name with O_EXCL|O_NOFOLLOW and
// renamed into place, links are made as links and never written through, hardlinks only point at files this copy
// wrote, devices/FIFOs are skipped, setuid/setgid/sticky bits are dropped. A fatal error removes what this copy
// created. Memory stays flat: one entry at a time, back-pressure on the stream, limits on entries and depth.
import {
  closeSync,
  constants as fsc,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  promises as fsp,
  renameSync,
  symlinkSync,
  unlinkSync,
  writev,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { escapeName } from '../render/escape.js';
import { fsPath, RawNames, showRawBytes } from './tar-names.js';
import { SourceChanged } from './pack.js';
import { checkLimits, DEFAULT_PATH_LIMITS, entrySegments, safeMode, type PathLimits } from './safe-path.js';

export interface ExtractLimits extends PathLimits {
  /** Most entries one stream may hold. */
  maxEntries: number;
  /** Warnings shown one by one before they are only counted. */
  maxWarnings: number;
  /** Largest extended (PAX / long name) header accepted, in bytes. */
  maxMetaBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  ...DEFAULT_PATH_LIMITS,
  maxEntries: 1_000_000,
  maxWarnings: 50,
  maxMetaBytes: 1024 * 1024,
};

export interface ExtractOptions {
  /** An existing folder on the host (the destination, or its parent when the copy is renamed). */
  parentDir: string;
  /** The top name the engine gives the archived path (its base name, '.' for `PATH/.`, '/' for the root). */
  expectTop: string;
  /** What the top name becomes in parentDir; '.' extracts into parentDir itself. */
  renameTop: string;
  /** Keep the uid/gid of the stream (`cp -a`); otherwise files belong to the user running porthole. */
  keepOwnership: boolean;
  limits?: Partial<ExtractLimits>;
  /** One line for the person watching (already escaped). */
  warn(message: string): void;
  /** Called with the number of content bytes written, as they are written. */
  onBytes?(n: number): void;
}

export interface ExtractResult {
  entries: number;
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  /** Entries refused because they would have gone outside the destination or through a link. */
  refused: number;
  /** Device files, FIFOs and unknown types that were not created. */
  skipped: number;
}

export interface AbortOutcome {
  /** Paths this copy created that could not be removed. */
  leftovers: string[];
  /** Files or links that stood in DEST before and were replaced by complete new ones before the stop. */
  replaced: number;
}

/** A fatal problem with the stream or the destination: the copy stops and what it created is removed. */
export class ExtractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtractError';
  }
}

interface PendingDir {
  rel: string;
  abs: string;
  mode: number;
  mtime: Date | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

// The slice of node-tar's ReadEntry we use (typed here so the module loads lazily).
interface TarEntry {
  path: string;
  type: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size: number;
  mtime?: Date;
  linkpath?: string;
  header: { cksum?: number };
  meta: boolean;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  pause(): unknown;
}

const VERIFIED_CACHE = 4096;
const WRITE_BATCH = 1024 * 1024;

/**
 * Hands node-tar's Parser whole 512-byte blocks. The engine's chunks end anywhere; the Parser keeps a piece that ends
 * mid-block and concatenates it with the whole next piece, which copied every byte of a copy once more (a third
 * of the main thread's time for a 256 MiB file). Here only the few bytes around a block boundary are copied.
 */
export class BlockAligner {
  private carry: Buffer | undefined;

  /** Passes on the whole blocks in `piece` (with what was carried); false when `sink` asked to wait. */
  write(piece: Buffer, sink: (blocks: Buffer) => boolean): boolean {
    let ok = true;
    let pos = 0;
    if (this.carry) {
      const need = 512 - this.carry.length;
      if (piece.length < need) {
        this.carry = Buffer.concat([this.carry, piece]);
        return true;
      }
      ok = sink(Buffer.concat([this.carry, piece.subarray(0, need)]));
      this.carry = undefined;
      pos = need;
    }
    const whole = pos + Math.floor((piece.length - pos) / 512) * 512;
    if (whole > pos) ok = sink(piece.subarray(pos, whole)) && ok;
    // Each piece is its own buffer (see wire.ts), so the rest can be kept by reference.
    if (whole < piece.length) this.carry = piece.subarray(whole);
    return ok;
  }

  /** What is left at the end: nothing in a whole archive. */
  rest(): Buffer | undefined {
    const carry = this.carry;
    this.carry = undefined;
    return carry;
  }
}
const HIGH_WATER = 8 * 1024 * 1024;

export class Extraction {
  private readonly opts: ExtractOptions;
  private readonly limits: ExtractLimits;
  private readonly result: ExtractResult = { entries: 0, files: 0, dirs: 0, links: 0, bytes: 0, refused: 0, skipped: 0 };
  /** Folders (relative) known to be real folders, not links: created here or lstat'ed. */
  private verified = new Set<string>();
  /** Folders this copy created: what is created inside them needs no separate undo. */
  private readonly createdDirs = new Set<string>();
  /** What to remove if the copy fails: paths this copy created whose parent already existed. */
  private readonly undo: string[] = [];
  /** Inodes of files this copy wrote: the only ones a hardlink entry may point at. */
  private readonly writtenInodes = new Set<number>();
  private readonly pendingDirs: PendingDir[] = [];
  private currentTemp: string | undefined;
  private tempSeq = 0;
  private warnings = 0;
  private stopped = false;
  private settled: Promise<unknown> = Promise.resolve();
  private stop: ((err: Error) => void) | undefined;
  private finished = false;
  /** A file's bytes are still being written: later entries wait. */
  private busy = false;
  /** Called when the file being written is in place, to go on with the entries that waited. */
  private idle: (() => void) | undefined;

  private keepOwnership: boolean;

  constructor(opts: ExtractOptions) {
    this.opts = opts;
    this.keepOwnership = opts.keepOwnership;
    this.limits = { ...DEFAULT_EXTRACT_LIMITS, ...opts.limits };
  }

  /** Reads the whole stream and writes it out; on failure removes what it created and rethrows. */
  run(source: Readable): Promise<ExtractResult> {
    const work = this.extract(source).catch(async (err) => {
      this.stopped = true;
      source.destroy();
      await this.rollback();
      throw err;
    });
    this.settled = work.catch(() => undefined);
    return work;
  }

  /** Stops a running copy (Ctrl-C) and removes what it created; says what could not be removed or was replaced. */
  async abort(): Promise<AbortOutcome> {
    this.stopped = true;
    this.stop?.(new ExtractError('The copy was stopped.'));
    await this.settled;
    await this.rollback();
    return { leftovers: this.leftovers, replaced: this.replaced };
  }

  /**
   * Everything from a chunk of the socket to the bytes on disk happens synchronously in that chunk's 'data' event:
   * the parser emits an entry and its handler makes it. Only a file's bytes go to the thread pool (so the socket
   * is read while the disk writes); entries that arrive while a file is still being written wait in `backlog`, so
   * they are made strictly in stream order. Memory stays bounded: a waiting entry stops the parser, which stops
   * the socket.
   */
  private async extract(source: Readable): Promise<ExtractResult> {
    const { Parser } = await import('tar');
    const parser = new Parser({ strict: true, maxMetaEntrySize: this.limits.maxMetaBytes });
    return new Promise<ExtractResult>((resolve, reject) => {
      let done = false;
      let sawEof = false;
      let sourceEnded = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        this.finished = true;
        this.stop = undefined;
        if (err) {
          // The parser may still be inside this chunk: later entries and bytes are ignored (see `finished`).
          source.destroy();
          return reject(err);
        }
        try {
          while (this.pendingDirs.length) this.finishDir(this.pendingDirs.pop()!);
          resolve(this.result);
        } catch (e) {
          reject(new ExtractError(describeFsError(e as NodeJS.ErrnoException, 'a folder')));
        }
      };
      this.stop = finish;
      if (this.stopped) return finish(new ExtractError('The copy was stopped.'));

      let parserEnded = false;
      const backlog: TarEntry[] = [];
      // Resuming an entry can make the parser emit the next one at once, inside the handler of this one: `draining`
      // keeps that next entry in the backlog until this one is wholly made (a hardlink after a symlink of the same
      // name must see the link, not the file it replaced).
      let draining = false;
      const drain = () => {
        if (draining) return;
        draining = true;
        try {
          while (!done && !this.busy && backlog.length) {
            const entry = backlog.shift()!;
            try {
              this.handle(entry, finish);
            } catch (err) {
              entry.resume();
              finish(err instanceof ExtractError ? err : new ExtractError(describeFsError(err as NodeJS.ErrnoException, entry.path)));
            }
          }
        } finally {
          draining = false;
        }
        if (done || this.busy) return;
        if (parserEnded) {
          if (!sawEof) return finish(new ExtractError('The archive ended before its end marker: the engine stopped sending mid-way.'));
          return finish();
        }
        source.resume(); // idle: ask for more (the parser pauses the socket again if it has no room)
      };
      this.idle = drain;
      // The names node-tar decoded are replaced by the exact bytes (see tar-names.ts), once both readings agree
      // that this header is the entry node-tar hands over.
      const names = new RawNames(this.limits.maxMetaBytes);
      const exactNames = (entry: TarEntry): boolean => {
        const raw = names.take();
        if (!raw || (raw.size ?? 0) !== entry.size || raw.cksum !== entry.header.cksum) {
          finish(new ExtractError('The archive\'s headers can be read in two ways (a crafted stream); porthole does not guess which entry is which.'));
          return false;
        }
        entry.path = raw.path;
        entry.linkpath = raw.linkpath || undefined;
        return true;
      };
      parser.on('entry', (entry: TarEntry) => {
        if (done) return void entry.resume();
        if (!exactNames(entry)) return void entry.resume();
        backlog.push(entry);
        drain();
      });
      parser.on('ignoredEntry', (entry: TarEntry) => {
        if (done) return;
        if (entry.meta) return finish(new ExtractError(`The archive holds an extended header larger than ${this.limits.maxMetaBytes} bytes; it is not a tar porthole will read.`));
        if (!exactNames(entry)) return;
        this.result.entries++;
        this.skip(entry.path, `its type (${entry.type}) is not one porthole creates`);
      });
      parser.on('eof', () => (sawEof = true));
      parser.on('error', (err: Error) => finish(new ExtractError(`The archive is damaged: ${describeTarError(err)}.`)));
      parser.on('end', () => {
        parserEnded = true;
        drain();
      });

      const blocks = new BlockAligner();
      source.on('data', (chunk: Buffer) => {
        if (!done && !blocks.write(chunk, (b) => (names.feed(b), parser.write(b)))) source.pause();
      });
      parser.on('drain', () => {
        if (!done) source.resume();
      });
      source.on('end', () => {
        sourceEnded = true;
        if (done) return;
        const rest = blocks.rest();
        if (rest) parser.end(rest);
        else parser.end();
      });
      source.on('error', (err: NodeJS.ErrnoException) => finish(streamError(err)));
      source.on('close', () => {
        if (!sourceEnded) finish(new ExtractError('The engine closed the connection in the middle of the copy.'));
      });
      // The stream may have failed before these listeners were attached (while node-tar loaded).
      if (source.errored) finish(streamError(source.errored as NodeJS.ErrnoException));
      else if (source.destroyed && !source.readableEnded) finish(new ExtractError('The engine closed the connection in the middle of the copy.'));
    });
  }

  /** Makes one entry; its body is drained only afterwards (a file's body is its content, read in file()). */
  private handle(entry: TarEntry, finish: (err?: Error) => void): void {
    let reading = false;
    try {
      reading = this.place(entry, finish);
    } finally {
      if (!reading) entry.resume();
    }
  }

  /** Returns true when the entry is a file whose body is being written (it resumes itself). */
  private place(entry: TarEntry, finish: (err?: Error) => void): boolean {
    this.result.entries++;
    if (this.result.entries > this.limits.maxEntries) {
      throw new ExtractError(`The archive holds more than ${this.limits.maxEntries} entries; porthole stops there to keep memory bounded. Copy a smaller folder.`);
    }
    const mapped = entrySegments(entry.path, this.opts.expectTop, this.opts.renameTop);
    if (!mapped.ok) {
      this.refuse(entry.path, mapped.reason);
      return false;
    }
    const segments = mapped.segments;
    const tooFar = checkLimits(this.opts.parentDir, segments, this.limits);
    if (tooFar) throw new ExtractError(`Entry ${show(entry.path)} cannot be copied: ${tooFar}.`);
    const rel = segments.join('/');
    this.closeDirsNotAbove(rel);
    switch (entry.type) {
      case 'Directory':
      case 'GNUDumpDir':
        this.directory(entry, segments);
        return false;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        return this.file(entry, segments, finish);
      case 'SymbolicLink':
        this.symlink(entry, segments);
        return false;
      case 'Link':
        this.hardlink(entry, segments);
        return false;
      case 'CharacterDevice':
      case 'BlockDevice':
        this.skip(entry.path, 'it is a device file');
        return false;
      case 'FIFO':
        this.skip(entry.path, 'it is a FIFO');
        return false;
      default:
        this.skip(entry.path, `its type (${entry.type}) is not one porthole creates`);
        return false;
    }
  }

  private abs(segments: string[]): string {
    return segments.length ? join(this.opts.parentDir, ...segments) : this.opts.parentDir;
  }

  /**
   * Makes sure every folder above the entry is a real folder (lstat, never followed), creating missing ones.
   * Returns a reason when one of them is a link or not a folder.
   */
  private parents(segments: string[], create: boolean): string | undefined {
    for (let i = 1; i < segments.length; i++) {
      const rel = segments.slice(0, i).join('/');
      if (this.verified.has(rel)) continue;
      const abs = this.abs(segments.slice(0, i));
      const st = lstatOrNull(abs);
      if (!st) {
        if (!create) return `${show(rel)} does not exist`;
        this.checkStopped();
        mkdirSync(fsPath(abs), 0o755);
        this.created(rel, true);
      } else if (st.isSymbolicLink()) {
        return `its folder ${show(rel)} is a symbolic link, and porthole never writes through links`;
      } else if (!st.isDirectory()) {
        return `${show(rel)} is not a folder`;
      }
      if (this.verified.size >= VERIFIED_CACHE) this.verified = new Set();
      this.verified.add(rel);
    }
    return undefined;
  }

  private directory(entry: TarEntry, segments: string[]): void {
    if (!segments.length) return; // the destination folder itself: it exists and keeps its own mode
    const blocked = this.parents(segments, true);
    if (blocked) return this.refuse(entry.path, blocked);
    const rel = segments.join('/');
    const abs = this.abs(segments);
    const st = lstatOrNull(abs);
    if (st && !st.isDirectory()) {
      return this.refuse(entry.path, `a ${kindOf(st)} already stands at ${show(rel)}; porthole does not replace it with a folder`);
    }
    this.result.dirs++;
    if (!st) {
      this.checkStopped();
      mkdirSync(fsPath(abs), 0o700); // owner-only until its own mode is set when the stream leaves it
      this.created(rel, true);
    } else if (!this.createdDirs.has(rel)) {
      this.verified.add(rel);
      return; // a folder that was there before keeps its mode, owner and times
    }
    this.verified.add(rel);
    this.pendingDirs.push({ rel, abs, mode: safeMode(entry.mode, 0o755), mtime: entry.mtime, uid: entry.uid, gid: entry.gid });
  }

  private file(entry: TarEntry, segments: string[], finish: (err?: Error) => void): boolean {
    if (!segments.length) {
      this.refuse(entry.path, 'a file cannot replace the destination folder');
      return false;
    }
    const size = entry.size;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ExtractError(`Entry ${show(entry.path)} claims an impossible size; the archive is damaged.`);
    }
    const blocked = this.parents(segments, true);
    if (blocked) {
      this.refuse(entry.path, blocked);
      return false;
    }
    const rel = segments.join('/');
    const abs = this.abs(segments);
    const before = lstatOrNull(abs);
    if (before?.isDirectory()) {
      this.refuse(entry.path, `a folder already stands at ${show(rel)}; porthole does not replace a folder with a file`);
      return false;
    }
    const temp = this.tempName(abs);
    this.checkStopped();
    const fd = openSync(fsPath(temp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    this.currentTemp = temp;
    let closed = false;
    const close = () => {
      if (!closed) closeSync(fd);
      closed = true;
    };
    // Bytes are gathered into batches of about 1 MiB and written by the thread pool while the socket keeps being
    // read (one write in flight). The entry is paused when too much waits, which pauses the parser and the socket;
    // after its last byte it stays paused, so the parser moves to the next entry only once this file is in place.
    let batch: Buffer[] = [];
    let batched = 0;
    const waiting: { buffers: Buffer[]; bytes: number }[] = [];
    let waitingBytes = 0;
    let writing = false;
    let received = 0;
    let written = 0;
    let settled = false;
    this.busy = true;
    const fail = (err: unknown) => {
      close();
      finish(err instanceof ExtractError ? err : new ExtractError(describeFsError(err as NodeJS.ErrnoException, entry.path)));
    };
    const complete = () => {
      settled = true;
      if (written !== size) throw new ExtractError(`The archive ended inside ${show(entry.path)} (${written} of ${size} bytes): the engine stopped sending mid-way.`);
      fchmodSync(fd, safeMode(entry.mode, 0o644));
      this.own(() => fchownSync(fd, entry.uid ?? 0, entry.gid ?? 0));
      if (entry.mtime) futimesSync(fd, entry.mtime, entry.mtime);
      this.writtenInodes.add(fstatSync(fd).ino);
      close();
      this.checkStopped();
      // The old file goes just before the new one takes its name: replacing it by rename makes ext4 flush the new
      // file's data first (auto_da_alloc), which cost a third of a 256 MiB copy here. The name never points at a
      // half-written file either way; unlink never follows a link.
      const standing = lstatOrNull(abs);
      if (standing && !standing.isDirectory()) unlinkSync(fsPath(abs));
      renameSync(fsPath(temp), fsPath(abs));
      this.currentTemp = undefined;
      if (!before) this.created(rel, false);
      else this.replaced++;
      this.result.files++;
      this.busy = false;
    };
    const pump = () => {
      if (this.finished) return close();
      if (writing) return;
      const next = waiting.shift();
      if (!next) {
        if (received === size && !settled) {
          try {
            complete();
          } catch (err) {
            return fail(err);
          }
          this.idle?.();
        }
        return;
      }
      writing = true;
      writeAllAsync(fd, next.buffers, next.bytes, (err) => {
        writing = false;
        if (err) return fail(err);
        waitingBytes -= next.bytes;
        written += next.bytes;
        this.result.bytes += next.bytes;
        this.opts.onBytes?.(next.bytes);
        if (received < size && waitingBytes < HIGH_WATER) entry.resume();
        pump();
      });
    };
    entry.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      received += chunk.length;
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= WRITE_BATCH || received >= size) {
        waiting.push({ buffers: batch, bytes: batched });
        waitingBytes += batched;
        batch = [];
        batched = 0;
      }
      if (received < size && waitingBytes >= HIGH_WATER) entry.pause();
      pump();
    });
    entry.on('end', () => {
      if (this.finished) return close();
      if (settled) return;
      // The last bytes may still be on their way to the disk (pump() finishes the file then); an empty file is
      // finished here; a body cut short is reported (the parser reports the damage itself too).
      try {
        if (received !== size) throw new ExtractError(`The archive ended inside ${show(entry.path)} (${received} of ${size} bytes): the engine stopped sending mid-way.`);
        if (!writing && !waiting.length) {
          complete();
          this.idle?.();
        }
      } catch (err) {
        fail(err);
      }
    });
    return true;
  }

  private symlink(entry: TarEntry, segments: string[]): void {
    const target = entry.linkpath ?? '';
    if (!segments.length) return this.refuse(entry.path, 'a link cannot replace the destination folder');
    if (!target || target.includes('\0')) return this.refuse(entry.path, 'its link target is empty or holds a NUL byte');
    this.placeLink(entry, segments, (temp) => {
      symlinkSync(fsPath(target), fsPath(temp));
      this.currentTemp = temp;
      this.own(() => lchownSync(fsPath(temp), entry.uid ?? 0, entry.gid ?? 0));
      if (entry.mtime) lutimesSync(fsPath(temp), entry.mtime, entry.mtime);
    });
  }

  /** Makes a link under a temp name beside its place (`make`), then renames it into place: never through a link. */
  private placeLink(entry: TarEntry, segments: string[], make: (temp: string) => void): void {
    const blocked = this.parents(segments, true);
    if (blocked) return this.refuse(entry.path, blocked);
    const rel = segments.join('/');
    const abs = this.abs(segments);
    const before = lstatOrNull(abs);
    if (before?.isDirectory()) return this.refuse(entry.path, `a folder already stands at ${show(rel)}; porthole does not replace a folder with a link`);
    const temp = this.tempName(abs);
    this.checkStopped();
    make(temp);
    this.currentTemp = temp;
    renameSync(fsPath(temp), fsPath(abs));
    this.currentTemp = undefined;
    if (!before) this.created(rel, false);
    else this.replaced++;
    this.result.links++;
  }

  private hardlink(entry: TarEntry, segments: string[]): void {
    if (!segments.length) return this.refuse(entry.path, 'a link cannot replace the destination folder');
    const target = entrySegments(entry.linkpath ?? '', this.opts.expectTop, this.opts.renameTop);
    if (!target.ok || !target.segments.length) {
      return this.refuse(entry.path, `it is a hardlink to ${show(entry.linkpath ?? '')}, and ${target.ok ? 'that is the destination itself' : target.reason.replace(/^it(s)? /, 'that ')}`);
    }
    const targetBlocked = this.parents(target.segments, false);
    const targetAbs = this.abs(target.segments);
    const targetStat = targetBlocked ? null : lstatOrNull(targetAbs);
    if (!targetStat || !targetStat.isFile() || !this.writtenInodes.has(targetStat.ino)) {
      return this.refuse(entry.path, `it is a hardlink to ${show(entry.linkpath ?? '')}, which is not a file this copy wrote before it`);
    }
    this.placeLink(entry, segments, (temp) => linkSync(fsPath(targetAbs), fsPath(temp)));
  }

  /** Gives folders their own mode, owner and times once the stream has moved past them. */
  private closeDirsNotAbove(rel: string): void {
    while (this.pendingDirs.length) {
      const top = this.pendingDirs[this.pendingDirs.length - 1]!;
      if (rel === top.rel || rel.startsWith(`${top.rel}/`)) return;
      this.finishDir(this.pendingDirs.pop()!);
    }
  }

  private finishDir(dir: PendingDir): void {
    let fd: number;
    try {
      fd = openSync(fsPath(dir.abs), fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      fchmodSync(fd, dir.mode);
      this.own(() => fchownSync(fd, dir.uid ?? 0, dir.gid ?? 0));
      if (dir.mtime) futimesSync(fd, dir.mtime, dir.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Gives an entry the stream's owner (`cp -a`); without the right to (not root), says so once and goes on. */
  private own(chown: () => void): void {
    if (!this.keepOwnership) return;
    try {
      chown();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      this.keepOwnership = false;
      this.opts.warn('cannot keep the container\'s owners without root; the files belong to you.');
    }
  }

  private created(rel: string, isDir: boolean): void {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (!parent || !this.createdDirs.has(parent)) this.undo.push(this.abs(rel.split('/')));
    if (isDir) this.createdDirs.add(rel);
  }

  private tempName(abs: string): string {
    return join(dirname(abs), `.porthole-cp-${process.pid}-${++this.tempSeq}.tmp`);
  }

  private checkStopped(): void {
    if (this.stopped) throw new ExtractError('The copy was stopped.');
  }

  private refuse(name: string, reason: string): void {
    this.result.refused++;
    this.say(`refused ${show(name)}: ${reason}.`);
  }

  private skip(name: string, reason: string): void {
    this.result.skipped++;
    this.say(`skipped ${show(name)}: ${reason}.`);
  }

  private say(line: string): void {
    this.warnings++;
    if (this.warnings <= this.limits.maxWarnings) this.opts.warn(line);
    else if (this.warnings === this.limits.maxWarnings + 1) this.opts.warn('more entries were refused or skipped; only the count is shown from here on.');
  }

  private rolledBack = false;
  private readonly leftovers: string[] = [];
  /** Files and links that stood in DEST before and were replaced by this copy: a rollback cannot bring them back. */
  private replaced = 0;
  private async rollback(): Promise<void> {
    if (this.rolledBack) return;
    this.rolledBack = true;
    const remove = async (path: string, recursive: boolean) => {
      await fsp.rm(fsPath(path), { recursive, force: true }).catch(() => undefined);
      let gone: boolean;
      try {
        gone = !lstatOrNull(path);
      } catch {
        gone = false;
      }
      if (!gone) this.leftovers.push(path);
    };
    if (this.currentTemp) await remove(this.currentTemp, false);
    // Newest first; fs.rm never follows symbolic links, so a link this copy made cannot lead it outside.
    for (const path of this.undo.reverse()) await remove(path, true);
  }
}

/** A name from the stream (raw bytes as \\xHH), safe for the terminal. */
function show(name: string): string {
  return showRawBytes(escapeName(name));
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(fsPath(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes every byte of `buffers` in the thread pool, then calls back. */
function writeAllAsync(fd: number, buffers: Buffer[], total: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
  writev(fd, buffers, (err, done) => {
    if (err) return cb(err);
    if (done >= total) return cb(null);
    let skip = done;
    const rest: Buffer[] = [];
    for (const b of buffers) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    writeAllAsync(fd, rest, total - done, cb);
  });
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

function describeTarError(err: Error & { tarCode?: string }): string {
  const message = err.message.replace(/^TAR_[A-Z_]+: /, '');
  if (/Truncated input/.test(message)) return 'it ends in the middle of an entry';
  if (/checksum/.test(message)) return 'a header fails its checksum';
  if (/Unrecognized archive format/.test(message)) return 'it is not a tar archive';
  return message.replace(/\.$/, '');
}

function streamError(err: NodeJS.ErrnoException): Error {
  if (err instanceof ExtractError || err instanceof SourceChanged) return err;
  if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || /aborted|socket hang up/i.test(err.message)) {
    return new ExtractError('The engine closed the connection in the middle of the copy.');
  }
  return new ExtractError(`Reading the archive failed: ${err.message}.`);
}

function describeFsError(err: NodeJS.ErrnoException, name: string): string {
  const what = show(name);
  switch (err.code) {
    case 'ENOSPC':
      return `The disk is full (while writing ${what}).`;
    case 'EDQUOT':
      return `The disk quota is exhausted (while writing ${what}).`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied while writing ${what}: ${err.message}.`;
    case 'ENAMETOOLONG':
      return `The name of ${what} is too long for this file system.`;
    case 'EROFS':
      return `The destination is on a read-only file system.`;
    default:
      return `Writing ${what} failed: ${err.message}.`;
  }
}
