// `porthole grep C PATTERN [PATH...]`: search file contents inside a container (logs, configs) without a shell
// or grep in it, streamed from the engine's archive endpoint. Exit 0 on a match, 1 on none, as grep.
import { composeOptions, imageOption } from '../cli/name-options.js';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument, NotFound } from '../errors.js';
import { LineMatcher } from '../fs/grep.js';
import { fromUser, normalize, show } from '../fs/paths.js';
import { OutputBuffer, readFile, statIsDir, statOrNotFound, walk } from '../fs/source.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { podToolboxOptions } from '../fs/pod-way.js';
import { parseTarget } from '../engine/target.js';

export const spec = defineCommand({
  name: 'grep',
  summary: 'Search file contents in a container for a regular expression',
  usage: 'porthole grep CONTAINER|pod/NAME[/CONTAINER] PATTERN [PATH...] [-i] [-n] [-l] [-r]',
  description:
    'PATTERN is a JavaScript regular expression (close to grep -E). Binary files (a NUL byte near the start) are\n' +
    'reported as "Binary file X matches". Exit 0 when a line matched, 1 when none did. With -r and no PATH, searches /.\n' +
    'A line longer than 16 MiB is searched in 16 MiB windows and shown as excerpts: the first match of each window,\n' +
    '"[byte N]" (its offset in the file) and 80 bytes either side.',
  options: {
    ...composeOptions, ...imageOption,
    'ignore-case': { type: 'boolean', short: 'i', description: 'Match upper and lower case alike' },
    'line-number': { type: 'boolean', short: 'n', description: 'Print each line\'s number' },
    'files-with-matches': { type: 'boolean', short: 'l', description: 'Print only the names of files that match' },
    recursive: { type: 'boolean', short: 'r', description: 'Search folders, and every file below them' },
    ...kubeOptions,
    ...podToolboxOptions,
  },
  args: { min: 2, max: Infinity },
  examples: ['porthole grep web -n "error|fatal" /var/log/app.log', 'porthole grep -ril password crashed /etc'],
});

export interface GrepResult {
  matched: boolean;
}

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<GrepResult> {
  const opts = parsed.options;
  const [ref, pattern, ...given] = parsed.args as [string, string, ...string[]];
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, opts['ignore-case'] ? 'iu' : 'u');
  } catch (err) {
    throw new InvalidArgument(`"${pattern}" is not a valid regular expression: ${(err as Error).message.replace(/^.*: /, '')}.`);
  }
  if (!given.length && !opts.recursive) throw new InvalidArgument('Give a PATH to search, or -r to search the whole filesystem.', `Usage: ${spec.usage}`);
  const paths = (given.length ? given : ['/']).map((p) => normalize(fromUser(p)));
  const source = await openSource(ctx, ref, opts);
  const out = new OutputBuffer(ctx.stdout);
  const print = (text: string) => out.write(text);
  const withNames = paths.length > 1 || !!opts.recursive;
  const matcherFor = (path: string) =>
    new LineMatcher(
      { regex, lineNumbers: opts['line-number'], namesOnly: opts['files-with-matches'], prefix: withNames ? `${show(path)}:` : '', display: show(path) },
      print,
    );
  let matched = false;
  let failure: NotFound | undefined;
  const fail = (err: NotFound) => {
    if (failure) ctx.notice(`porthole: ${failure.message}`);
    failure = err;
  };

  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = await source.isDir(path);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      fail(err);
      continue;
    }
    if (isDir) {
      if (!opts.recursive) {
        fail(new NotFound(`${show(path)} is a directory.`, 'Add -r to search the files below it.'));
        continue;
      }
      for await (const file of source.filesBelow(path)) {
        const matcher = matcherFor(file.path);
        await searchIn(matcher, file.read).catch((err) => {
          // a file gone or swapped for a folder since the walk saw it (a pod is read file by file) is skipped
          if (!(err instanceof NotFound)) throw err;
        });
        await matcher.end();
        matched ||= matcher.matched;
      }
      continue;
    }
    const matcher = matcherFor(path);
    try {
      await searchIn(matcher, (onChunk) => source.read(path, onChunk));
    } catch (err) {
      if (err instanceof NotFound) fail(err);
      else throw err;
    }
    await matcher.end();
    matched ||= matcher.matched;
  }
  await out.flush();
  if (failure) throw failure;
  return { matched };
}

const STOP = Symbol('stop');

type Read = (onChunk: (chunk: Buffer) => Promise<void>) => Promise<void>;

/** Feeds a file to the matcher until it knows its answer (the rest of the bytes are not needed). */
async function searchIn(matcher: LineMatcher, read: Read): Promise<void> {
  try {
    await read(async (chunk) => {
      await matcher.push(chunk);
      if (matcher.done) throw STOP;
    });
  } catch (err) {
    if (err !== STOP) throw err;
  }
}

/** Where grep reads: the engine's archive endpoint for a container, exec with the pod's own tools for a pod. */
interface GrepSource {
  /** Whether the path is a folder (a link to one counts); NotFound when it does not exist. */
  isDir(path: string): Promise<boolean>;
  filesBelow(path: string): AsyncIterable<{ path: string; read: Read }>;
  read(path: string, onChunk: (chunk: Buffer) => Promise<void>): Promise<void>;
}

async function openSource(ctx: Context, text: string, kube: Parsed<typeof spec.options>['options']): Promise<GrepSource> {
  const target = parseTarget(text);
  if (target.engine === 'kubernetes') {
    const pod = await (await import('../fs/pod-source.js')).openPodFiles(ctx, target, kube);
    return {
      isDir: async (path) => (await pod.list(path, true)).isDir,
      async *filesBelow(path) {
        for (const entry of (await pod.walk(path)).entries) if (entry.type === 'file') yield { path: entry.path, read: (onChunk) => pod.cat(entry.path, onChunk) };
      },
      read: (path, onChunk) => pod.cat(path, onChunk),
    };
  }
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, text);
  return {
    isDir: async (path) => statIsDir(await statOrNotFound(engine, container.id, path)),
    async *filesBelow(path) {
      for await (const entry of walk(engine, container.id, path)) {
        if (entry.type !== 'file') continue;
        yield {
          path: entry.path,
          read: async (onChunk) => {
            for await (const chunk of entry.body()) await onChunk(chunk);
          },
        };
      }
    },
    read: (path, onChunk) => readFile(engine, container.id, path, onChunk),
  };
}

export function exitCode(result: GrepResult): number {
  return result.matched ? 0 : 1;
}
