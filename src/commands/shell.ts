// `porthole shell CONTAINER [-- CMD [ARG...]]`: get inside, whatever state the container is in. Picks the way:
// exec for a running container with a shell, a snapshot for one that is not running, the toolbox sidecar for
// one without a shell (or with --toolbox). The command's exit code is porthole's.
import { composeOptions, imageOption } from '../cli/name-options.js';
import { defineCommand, refuseFlagAsCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { parseDetachKeys } from '../tty/detach-keys.js';
import type { EnterRequest } from '../enter/types.js';
import { openEnterTarget } from '../enter/targets.js';
import { kubeOptions } from '../cli/kube-flags.js';

export const spec = defineCommand({
  name: 'shell',
  summary: 'Open a shell or run a command inside a container: running, stopped, or without a shell',
  usage: 'porthole shell [OPTIONS] CONTAINER [-- CMD [ARG...]]',
  description:
    'A running container with a shell gets a new process (like docker exec). A stopped or crashed one is\n' +
    'snapshotted and you work in a copy that is removed afterwards; the original is never changed. With no\n' +
    "command: the user's login shell from the container's /etc/passwd, else bash, else sh. With stdin and\n" +
    'stdout on a terminal you get a TTY; otherwise plain streams. porthole exits with the command\'s code.',
  options: {
    ...composeOptions, ...imageOption,
    entrypoint: { type: 'boolean', description: "Images: run the image's entrypoint (with the command after --, else its CMD) instead of a shell" },
    user: { type: 'string', short: 'u', valueName: 'USER[:GROUP]', description: 'Run as this user (name or uid)' },
    workdir: { type: 'string', short: 'w', valueName: 'DIR', description: 'Working directory inside the container' },
    env: { type: 'string', short: 'e', multiple: true, valueName: 'KEY=VAL', description: 'Set an environment variable (KEY alone takes it from here)' },
    'detach-keys': { type: 'string', valueName: 'KEYS', description: 'Key sequence to detach from a TTY session (default ctrl-p,ctrl-q)' },
    toolbox: { type: 'string', valueName: 'IMAGE', description: 'Use a toolbox sidecar from this image, even if the container has a shell' },
    'cap-add': { type: 'string', multiple: true, valueName: 'CAP', description: 'Extra capability for the toolbox sidecar (e.g. SYS_PTRACE)' },
    network: { type: 'string', valueName: 'NET', description: "Stopped containers: the copy's network (default the original's; none to cut it off)" },
    'rw-mounts': { type: 'boolean', description: "Stopped containers: mount the original's volumes writable (default read-only)" },
    keep: { type: 'boolean', description: 'Stopped containers: keep the snapshot image (pods: the copy) and print its name' },
    'no-limits': { type: 'boolean', description: "Stopped containers: run the copy without the original's memory, CPU and PID limits (kept by default)" },
    profile: { type: 'string', valueName: 'NAME', description: "Pods: the toolbox container's security profile: general (default), baseline, restricted, sysadmin" },
    yes: { type: 'boolean', short: 'y', description: 'Pods: agree to adding an ephemeral toolbox container, which Kubernetes cannot remove' },
    ...kubeOptions,
  },
  args: { min: 1, max: 1 },
  restAfter: 1,
  examples: [
    'porthole shell web',
    'porthole shell web -- cat /etc/nginx/nginx.conf',
    'echo hi | porthole shell web -- cat',
    'porthole shell crashed -- /usr/sbin/nginx -t',
    'porthole shell -u app -w /srv -e DEBUG=1 web',
    'porthole shell pod/api -- cat /etc/app.conf',
    'porthole shell -n shop deploy/web          # crash-looping: a copy of the pod, removed afterwards',
    'porthole shell --toolbox busybox:1.36 --yes pod/distroless',
  ],
});

type Options = Parsed<typeof spec.options>;

export interface ShellResult {
  exitCode: number;
}

/** -e entries as docker takes them: KEY=VAL as is, KEY alone from porthole's own environment (skipped if unset). */
export function parseEnvFlags(entries: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (!key || /[\s\x00]/.test(key)) throw new InvalidArgument(`"${escapeName(entry)}" is not a KEY=VAL environment entry.`);
    if (eq >= 0) out.push(entry);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  }
  return out;
}

export function buildRequest(parsed: Options, ctx: Context): EnterRequest {
  const o = parsed.options;
  if (o['detach-keys'] !== undefined) parseDetachKeys(o['detach-keys']);
  if (parsed.hasRest && !parsed.rest.length) {
    throw new InvalidArgument('Nothing after "--": name the command to run.', `Usage: ${spec.usage}`);
  }
  refuseFlagAsCommand(spec, parsed.rest);
  return {
    cmd: parsed.hasRest ? parsed.rest : undefined,
    user: o.user,
    workdir: o.workdir,
    env: parseEnvFlags(o.env, ctx.env),
    tty: !!(ctx.stdinIsTTY && ctx.stdout.isTTY),
    toolboxImage: o.toolbox,
    capAdd: o['cap-add'],
    network: o.network,
    rwMounts: o['rw-mounts'],
    keep: o.keep,
    noLimits: o['no-limits'],
    detachKeys: o['detach-keys'],
    yes: o.yes,
    profile: o.profile,
    ...(o.entrypoint ? { entrypoint: true } : {}),
  };
}

export async function run(ctx: Context, parsed: Options): Promise<ShellResult> {
  const request = buildRequest(parsed, ctx);
  const target = openEnterTarget(ctx, parsed.args[0]!, parsed.options);
  return { exitCode: await target.enter(request) };
}

export function exitCode(result: ShellResult): number {
  return result.exitCode;
}
