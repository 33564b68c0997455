// `porthole ui`: a local web page per run, on the same command modules the CLI runs. Only this file is loaded
// for the command's spec; the server (src/ui/) loads when the command runs, so no other command pays for it.
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { kubeFlags, kubeOptions } from '../cli/kube-flags.js';

export const spec = defineCommand({
  name: 'ui',
  summary: 'Open the investigation in a browser tab: containers, why, logs, terminal, files, processes, stats (local, token-protected)',
  usage: 'porthole ui [--port N] [--read-only] [--kubeconfig FILE] [--kube-context NAME] [--namespace NS | -A]',
  description:
    'Starts a web server on 127.0.0.1 (and ::1) that lives as long as this command; Ctrl-C stops it.\n' +
    'The first line on stdout is the URL with a one-time token: open it, and the browser trades it for a cookie.\n' +
    'Only requests to 127.0.0.1, localhost or [::1] at this port with the token\'s cookie are answered.\n' +
    'The Terminal tab runs `porthole shell` (exec, snapshot or toolbox; removed when the tab closes); Files can\n' +
    'edit and save, with a restart, as `porthole edit --start`. --read-only offers neither.\n' +
    'With a kubeconfig in force, the namespace\'s pods join the list (why, logs, terminal by exec, files, processes);\n' +
    'with -A, the pods of every namespace, with a NAMESPACE column.',
  options: {
    port: { type: 'string', valueName: 'N', description: 'Port to listen on (default: a free one chosen at random)' },
    host: { type: 'string', valueName: 'ADDR', description: 'Address to bind (default 127.0.0.1 and ::1); others need --i-know-this-exposes-root' },
    'i-know-this-exposes-root': { type: 'boolean', description: 'Allow a --host that is not loopback (anyone with the URL gets into containers)' },
    'read-only': { type: 'boolean', description: 'Views only: no terminal, no edits, no writes' },
    'all-namespaces': { type: 'boolean', short: 'A', description: 'Kubernetes: list the pods of every namespace (as kubectl get pods -A)' },
    ...kubeOptions,
  },
  args: { min: 0, max: 0 },
  examples: ['porthole ui', 'porthole ui --port 8765 --read-only'],
});

export async function run(ctx: Context, parsed: Parsed<typeof spec.options>): Promise<void> {
  const { parseUiOptions } = await import('../ui/options.js');
  const options = parseUiOptions(parsed.options);
  const { serveUi } = await import('../ui/server.js');
  // the Kubernetes flags after `ui` count as they do for every command: the page's pods are that namespace's
  await serveUi({ ...ctx, kube: kubeFlags(ctx, parsed.options) }, options);
}
