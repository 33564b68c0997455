// `porthole export C [-o FILE]`: the container's whole filesystem as tar, as docker export; -o never leaves a
// half-written file (temp file, then rename); --list prints `tar tv` lines as the stream passes, using no disk.
import { composeOptions } from '../cli/name-options.js';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { Failure, InvalidArgument, NotFound } from '../errors.js';
import { formatTime, modeString } from '../fs/entry.js';
import { show } from '../fs/paths.js';
import { OutputBuffer } from '../fs/source.js';
import { readTar, type TarEntry } from '../fs/tar-reader.js';

export const spec = defineCommand({
  name: 'export',
  summary: 'Write a container\'s whole filesystem as a tar archive, or list it',
  usage: 'porthole export CONTAINER [-o FILE | --list]',
  description:
    'Works on running and stopped containers. Refuses to write a tar to a terminal. With -o the archive is written\n' +
    'to a temporary file next to FILE and renamed into place only when complete.',
  options: {
    ...composeOptions,
    output: { type: 'string', short: 'o', valueName: 'FILE', description: 'Write the archive to FILE instead of stdout' },
    list: { type: 'boolean', description: 'Print a `tar tv`-style listing while streaming; nothing is written to disk' },
  },
  args: { min: 1, max: 1 },
  examples: ['porthole export web -o web.tar', 'porthole export web | tar t', 'porthole export --list crashed | grep core'],
});

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const opts = parsed.options;
  if (opts.list && opts.output !== undefined) throw new InvalidArgument('--list and -o do not go together.', 'Use one or the other.');
  if (!opts.list && opts.output === undefined && ctx.stdout.isTTY) {
    throw new InvalidArgument('Refusing to write a tar archive to the terminal.', 'Use -o FILE, redirect stdout (> fs.tar), or --list to see the files.');
  }
  if (opts.output === '') throw new InvalidArgument('-o needs a file name.');
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  const stream = await engine.exportContainer(container.id);

  if (opts.list) {
    const out = new OutputBuffer(ctx.stdout);
    const lister = new TarLister();
    for await (const entry of readTar(stream)) await out.write(lister.line(entry));
    await out.flush();
    return;
  }

  if (opts.output === undefined) {
    for await (const chunk of stream) {
      if (!ctx.stdout.write(chunk)) await once(ctx.stdout, 'drain');
    }
    return;
  }

  const target = resolve(opts.output);
  const temp = join(dirname(target), `.${basename(target)}.porthole-${process.pid}-${Date.now().toString(36)}.tmp`);
  let renamed = false;
  ctx.cleanup.add(`remove the partial archive ${temp}`, async () => {
    if (!renamed) await unlink(temp).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
  });
  try {
    // 'wx': never open an existing file or follow a symlink planted at the temp name.
    await pipeline(stream, createWriteStream(temp, { flags: 'wx' }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // one sentence about FILE, never the temporary name porthole wrote first or errno's text
    if (e.code === 'ENOENT') throw new NotFound(`Cannot write ${target}: the folder ${dirname(target)} does not exist.`, 'Create it, or choose another -o FILE.');
    const why: Record<string, string> = { EACCES: 'permission denied', EROFS: 'the filesystem is read-only', ENOSPC: 'no space left on the device', EEXIST: 'a file appeared at its temporary name' };
    if (e.code && why[e.code]) throw new Failure(`Cannot write ${target}: ${why[e.code]}.`, 'Choose another -o FILE.');
    if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === 'ECONNRESET' || /aborted/.test(e.message)) {
      throw new Failure('The engine stopped sending the archive part way; nothing was written.', 'Check that the engine and the container are still there, then run it again.');
    }
    throw err;
  }
  await rename(temp, target);
  renamed = true;
}

/** `tar tv` lines the way GNU tar prints them, including its growing user/group/size column. */
export class TarLister {
  private width = 19;

  line(entry: TarEntry): string {
    const modes = entry.type === 'hardlink' ? `h${modeString('file', entry.mode).slice(1)}` : modeString(entry.type, entry.mode);
    const user = entry.uname ? show(entry.uname) : String(entry.uid);
    const group = entry.gname ? show(entry.gname) : String(entry.gid);
    const size = String(entry.type === 'file' ? entry.size : 0);
    const pad = user.length + 1 + group.length + 1 + size.length;
    if (pad > this.width) this.width = pad;
    const link = entry.type === 'symlink' ? ` -> ${show(entry.linkName)}` : entry.type === 'hardlink' ? ` link to ${show(entry.linkName)}` : '';
    return `${modes} ${user}/${group} ${size.padStart(this.width - pad + size.length)} ${formatTime(entry.mtime)} ${show(entry.name)}${link}\n`;
  }
}
