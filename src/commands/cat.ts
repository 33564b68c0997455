// `porthole cat C PATH...`: a file's bytes exactly as stored, through the engine's archive endpoint (no cat or
// shell needed inside). Symlinks are followed inside the container's root, resolved here, never on the host.
import { composeOptions, imageOption } from '../cli/name-options.js';
import { once } from 'node:events';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { resolveContainer } from '../engine/resolve.js';
import { NotFound } from '../errors.js';
import { fromUser, normalize } from '../fs/paths.js';
import { readFile } from '../fs/source.js';
import { kubeOptions } from '../cli/kube-flags.js';
import { podToolboxOptions } from '../fs/pod-way.js';
import { parseTarget } from '../engine/target.js';

export const spec = defineCommand({
  name: 'cat',
  summary: 'Print files from a container byte for byte, running, stopped or without a shell',
  usage: 'porthole cat CONTAINER|pod/NAME[/CONTAINER] PATH...',
  description: 'Binary-safe: the bytes go to stdout unchanged. A folder or a missing path is reported on stderr (exit 3).',
  options: { ...kubeOptions, ...podToolboxOptions, ...composeOptions, ...imageOption },
  args: { min: 2, max: Infinity },
  examples: ['porthole cat web /etc/nginx/nginx.conf', 'porthole cat crashed /app/core > core', 'porthole cat -n shop pod/api/app /etc/app.conf'],
});

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const read = await fileReader(ctx, parsed);
  let failure: NotFound | undefined;
  for (const arg of parsed.args.slice(1)) {
    try {
      await read(normalize(fromUser(arg)), async (chunk) => {
        if (!ctx.stdout.write(chunk)) await once(ctx.stdout, 'drain');
      });
    } catch (err) {
      // Like cat: report a missing path or a folder, go on with the rest, and fail at the end.
      if (failure) ctx.notice(`porthole: ${failure.message}${failure.hint ? ` ${failure.hint}` : ''}`);
      if (!(err instanceof NotFound)) throw err;
      failure = err;
    }
  }
  if (failure) throw failure;
}

type Reader = (path: string, write: (chunk: Buffer) => Promise<void>) => Promise<void>;

/** The target's file reader: the engine's archive endpoint for a container, exec with the pod's own cat for a pod. */
async function fileReader(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<Reader> {
  const ref = parseTarget(parsed.args[0]!);
  if (ref.engine === 'kubernetes') {
    const pod = await (await import('../fs/pod-source.js')).openPodFiles(ctx, ref, parsed.options);
    return (path, write) => pod.cat(path, write);
  }
  const engine = await ctx.engine();
  const container = await resolveContainer(engine, parsed.args[0]!);
  return (path, write) => readFile(engine, container.id, path, write);
}
