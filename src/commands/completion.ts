// `porthole completion bash|zsh|fish`: the shell completion script, generated from the command definitions.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';

export const spec = defineCommand({
  name: 'completion',
  summary: 'Print the shell completion script for bash, zsh or fish',
  usage: 'porthole completion bash|zsh|fish',
  description:
    'Commands, their flags, the actions of demo and toolbox, files for file flags, and container names (from\n' +
    '`docker ps -a`, when docker is installed) complete. Load it in the current shell, or save it where the\n' +
    'shell looks for completions.',
  options: {},
  args: { min: 1, max: 1 },
  examples: ['source <(porthole completion bash)', 'source <(porthole completion zsh)', 'porthole completion fish | source', 'porthole completion bash > ~/.local/share/bash-completion/completions/porthole'],
});

export async function run(_ctx: Context, parsed: Parsed<typeof spec.options>): Promise<string> {
  const { SHELLS, completionScript, fromSpec } = await import('../cli/completion.js');
  const shell = parsed.args[0]!;
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new InvalidArgument(`porthole completes in bash, zsh and fish, not "${escapeName(shell)}".`, 'Run `porthole completion bash`, `porthole completion zsh` or `porthole completion fish`.');
  }
  const { commands } = await import('./registry.js');
  const loaded = await Promise.all(commands.map(async (c) => fromSpec(c.name, c.summary, (await c.load()).spec)));
  return completionScript(shell as (typeof SHELLS)[number], loaded);
}

export function render(script: string): string {
  return script;
}
