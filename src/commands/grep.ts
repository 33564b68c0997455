// `porthole grep C PATTERN [PATH...]`: search file contents inside a container (logs, configs) without a shell
// or grep in it, streamed from the engine's archive endpoint. Exit 0 on a match, 1 on none, as grep.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { InvalidArgument, NotFound } from '../errors.js';
import { LineMatcher } from '../fs/grep.js';
import { fromUser, normalize, show } from '../fs/paths.js';
import { OutputBuffer, readFile, statIsDir, statOrNotFound, walk } from '../fs/source.js';

export const spec = defineCommand({
  name: 'grep',
  summary: 'Search file contents in a container for a regular expression',
  usage: 'porthole grep CONTAINER PATTERN [PATH...] [-i] [-n] [-l] [-r]',
  description:
    'PATTERN is a JavaScript regular expression (close to grep -E). Binary files (a NUL byte near the start) are\n' +
    'reported as "Binary file X matches". Exit 0 when a line matched, 1 when none did. With -r and no PATH, searches /.\n' +
    'A line longer than 16 MiB is searched in 16 MiB windows and shown as excerpts: the first match of each window,\n' +
    '"[byte N]" (its offset in the file) and 80 bytes either side.',
  options: {
    'ignore-case': { type: 'boolean', short: 'i', description: 'Match upper and lower case alike' },
    'line-number': { type: 'boolean', short: 'n', description: 'Print each line\'s number' },
    'files-with-matches': { type: 'boolean', short: 'l', description: 'Print only the names of files that match' },
    recursive: { type: 'boolean', short: 'r', description: 'Search folders, and every file below them' },
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
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, ref);
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
    let stat;
    try {
      stat = await statOrNotFound(engine, container.id, path);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      fail(err);
      continue;
    }
    if (statIsDir(stat)) {
      if (!opts.recursive) {
        fail(new NotFound(`${show(path)} is a directory.`, 'Add -r to search the files below it.'));
        continue;
      }
      for await (const entry of walk(engine, container.id, path)) {
        if (entry.type !== 'file') continue;
        const matcher = matcherFor(entry.path);
        for await (const chunk of entry.body()) {
          await matcher.push(chunk);
          if (matcher.done) break;
        }
        await matcher.end();
        matched ||= matcher.matched;
      }
      continue;
    }
    const matcher = matcherFor(path);
    try {
      await readFile(engine, container.id, path, async (chunk) => {
        await matcher.push(chunk);
        if (matcher.done) throw STOP;
      });
    } catch (err) {
      if (err === STOP) {
        // the answer for this file is known; the rest of its bytes are not needed
      } else if (err instanceof NotFound) fail(err);
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

export function exitCode(result: GrepResult): number {
  return result.matched ? 0 : 1;
}
