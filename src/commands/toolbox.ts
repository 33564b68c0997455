// `porthole toolbox build|rm`: the image of static tools that `shell` brings into containers without a shell.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';
import { DEFAULT_TOOLBOX_IMAGE, TOOLBOX_IMAGE_ENV, toolboxImage, toolboxVolume } from '../toolbox/image.js';

export const spec = defineCommand({
  name: 'toolbox',
  summary: 'Build (build) or remove (rm) the toolbox that brings tools into containers without a shell',
  usage: 'porthole toolbox build [--from PATH] [--with PROGRAM,...] [--json] | porthole toolbox rm [--json]',
  description:
    `The toolbox is the image ${DEFAULT_TOOLBOX_IMAGE} (or the one ${TOOLBOX_IMAGE_ENV} names): a static busybox (sh, ls, ps, cat, vi, wget, nc, ...) that ` +
    '`porthole shell` starts next to a container that has no shell of its own. `build` makes it offline from a ' +
    'static busybox on this machine (Debian: apt-get install busybox-static). `--with strace,lsof,gdb` adds programs ' +
    "of this host (names on PATH, or paths) with every library they load and their loader, so they run in the sidecar " +
    'next to any container, also one without a libc. It is a tool you keep: `porthole gc` ' +
    `leaves it; \`rm\` removes the image and its volume ${toolboxVolume(DEFAULT_TOOLBOX_IMAGE)}.`,
  options: {
    from: { type: 'string', valueName: 'PATH', description: 'The static busybox to build from (default /bin/busybox)' },
    with: { type: 'string', multiple: true, valueName: 'PROGRAM,...', description: "Host programs to carry into the toolbox, with their libraries (names on PATH, or paths)" },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  args: { min: 1, max: 1 },
  examples: ['porthole toolbox build', 'porthole toolbox build --with strace,lsof,gdb,tcpdump,ss,curl', 'porthole toolbox build --from ./busybox-x86_64', 'porthole toolbox rm'],
});

type Options = Parsed<typeof spec.options>;

export type ToolboxResult =
  | ({ action: 'build' } & import('../toolbox/build.js').BuildResult)
  | ({ action: 'rm' } & import('../toolbox/build.js').RemoveResult);

export async function run(ctx: Context, parsed: Options): Promise<ToolboxResult> {
  const action = parsed.args[0];
  const { buildToolbox, removeToolbox } = await import('../toolbox/build.js');
  if (action === 'build') {
    const { splitWith } = await import('../toolbox/with.js');
    const built = await buildToolbox(ctx, { from: parsed.options.from, with: splitWith(parsed.options.with) });
    if (built.upToDate) ctx.notice(`porthole: ${escapeName(built.image)} is already made from this busybox${built.with.length ? ' and these programs' : ''}; nothing to rebuild.`);
    for (const m of built.missing) ctx.notice(`porthole: could not carry ${escapeName(m.name)}: ${escapeName(m.reason)}.`);
    return { action: 'build', ...built };
  }
  if (parsed.options.from !== undefined) throw new InvalidArgument('--from goes with `porthole toolbox build` only.');
  if (parsed.options.with.length) throw new InvalidArgument('--with goes with `porthole toolbox build` only.');
  if (action === 'rm') {
    const result = await removeToolbox(await ctx.engine(), toolboxImage(ctx.env));
    if (!result.removedImage && !result.removedVolume) ctx.notice(`porthole: there is no toolbox on this engine; nothing to remove.`);
    return { action: 'rm', ...result };
  }
  throw new InvalidArgument(`Unknown toolbox action "${escapeName(action ?? '')}".`, `Usage: ${spec.usage}`);
}

export function render(result: ToolboxResult, parsed: Options): string {
  if (parsed.options.json) return renderJson(result);
  if (result.action === 'build') {
    const lines = [`${escapeName(result.image)} ${result.id.replace(/^sha256:/, '').slice(0, 12)} (${result.tools} tools from ${escapeName(result.source)}, ${result.arch})`];
    for (const p of result.with) {
      lines.push(`  with ${escapeName(p.name)}  ${escapeName(p.path)}${p.static ? ' (static)' : `, ${p.libraries.length} libraries`}`);
    }
    for (const m of result.missing) lines.push(`  without ${escapeName(m.name)}  ${escapeName(m.reason)}`);
    return lines.join('\n') + '\n';
  }
  const removed = [result.removedImage ? escapeName(result.image) : '', result.removedVolume ? `volume ${result.volume}` : ''].filter(Boolean);
  return removed.length ? `Removed ${removed.join(' and ')}\n` : '';
}
