// `porthole demo up|down`: the seed's two containers on the user's own engine, built offline from programs on
// this machine: a clock that prints the date every second, and an nginx that crashes at start on a bad config
// with its error only in /var/log/nginx/error.log. They are the user's until `demo down` (not session-owned).
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { ContainerDetails, EngineClient } from '../engine/types.js';
import { EngineUnavailable, Failure, NotFound, PortholeError } from '../errors.js';
import { renderJson } from '../render/json.js';
import { escapeName } from '../render/escape.js';
import { portholeWithFlags } from '../cli/invocation.js';

export const spec = defineCommand({
  name: 'demo',
  summary: 'Create (up) or remove (down) two demo containers: a clock and a crashed nginx',
  usage: 'porthole demo up|down [--json]',
  description:
    'up builds two images from programs on this machine (no registry needed) and starts porthole-demo-clock\n' +
    '(busybox printing the date every second) and porthole-demo-crash (nginx failing at start on line 1 of its\n' +
    'config, with the error only in /var/log/nginx/error.log). Running it again changes nothing. down removes them.',
  options: { json: { type: 'boolean', description: 'Print the result as JSON' } },
  args: { min: 1, max: 1 },
  examples: ['porthole demo up', 'porthole why porthole-demo-crash', 'porthole demo down'],
});

type Options = Parsed<typeof spec.options>;

export interface DemoItem {
  container: string;
  image: string;
  program: string;
  /** created | started (an earlier start had failed) | already there | removed | not there */
  action: string;
  state: string;
  exitCode: number | null;
}

export interface DemoResult {
  action: 'up' | 'down';
  containers: DemoItem[];
  imagesRemoved: string[];
  next: string[];
}

async function inspectOrNull(engine: EngineClient, name: string): Promise<ContainerDetails | null> {
  try {
    return await engine.inspectContainer(name);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

async function imageOrNull(engine: EngineClient, ref: string) {
  try {
    return await engine.inspectImage(ref);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

function notOurs(kind: string, name: string): Failure {
  return new Failure(`A ${kind} named ${name} exists and is not porthole's demo.`, `Remove or rename it, then run \`porthole demo up\` again.`);
}

/** Starts a demo container; a start the engine refuses is a broken demo, with the way to reset it. */
async function startOrExplain(engine: EngineClient, id: string, name: string): Promise<void> {
  try {
    await engine.startContainer(id);
  } catch (err) {
    if (!(err instanceof PortholeError) || err instanceof EngineUnavailable) throw err;
    throw new Failure(
      `The demo is broken: the engine would not start ${name} (${err.message.replace(/\.$/, '')}), and it stays created, never run.`,
      `Reset the demo with \`porthole demo down\`, then run \`porthole demo up\` again.`,
    );
  }
}

/** The container's state once started; the crash container dies at once, so wait for it (the next command sees it exited). */
async function settled(engine: EngineClient, id: string, name: string, crashes: boolean, action: string, program: string): Promise<DemoItem> {
  let details = await engine.inspectContainer(id);
  for (let i = 0; crashes && details.state.running && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    details = await engine.inspectContainer(id);
  }
  return { container: name, image: details.image, program, action, state: details.state.status, exitCode: details.state.running ? null : details.state.exitCode };
}

async function up(ctx: Context, engine: EngineClient): Promise<DemoResult> {
  const porthole = portholeWithFlags();
  const images = await import('../demo/images.js');
  const items: DemoItem[] = [];
  for (const which of [images.CLOCK, images.CRASH]) {
    const existing = await inspectOrNull(engine, which.container);
    if (existing) {
      if (existing.config.labels[images.DEMO_LABEL] !== 'true') throw notOurs('container', which.container);
      // Created but never started: an earlier `demo up` whose start failed. Start it now, or say the demo is broken.
      if (existing.state.status === 'created') {
        await startOrExplain(engine, existing.id, which.container);
        items.push(await settled(engine, existing.id, which.container, which === images.CRASH, 'started', existing.config.labels[images.PROGRAM_LABEL] ?? ''));
        continue;
      }
      items.push({
        container: which.container,
        image: existing.image,
        program: existing.config.labels[images.PROGRAM_LABEL] ?? '',
        action: 'already there',
        state: existing.state.status,
        exitCode: existing.state.running ? null : existing.state.exitCode,
      });
      continue;
    }
    let image = await imageOrNull(engine, which.image);
    if (image && image.config.labels[images.DEMO_LABEL] !== 'true') throw notOurs('image', which.image);
    let program = image?.config.labels[images.PROGRAM_LABEL] ?? '';
    if (!image) {
      ctx.notice(`porthole: building ${which.image} from programs on this machine...`);
      const built = which === images.CLOCK ? await images.buildClock(engine) : await images.buildCrash(engine, ctx.notice);
      program = built.program;
    }
    const id = await engine.createContainer({ name: which.container, image: which.image, labels: { [images.DEMO_LABEL]: 'true' } });
    await startOrExplain(engine, id, which.container);
    items.push(await settled(engine, id, which.container, which === images.CRASH, 'created', program));
  }
  return {
    action: 'up',
    containers: items,
    imagesRemoved: [],
    next: [
      `${porthole} logs -f ${images.CLOCK.container}`,
      `${porthole} why ${images.CRASH.container}`,
      `${porthole} edit ${images.CRASH.container} /etc/nginx/nginx.conf --start`,
      `${porthole} demo down`,
    ],
  };
}

async function down(engine: EngineClient): Promise<DemoResult> {
  const images = await import('../demo/images.js');
  const items: DemoItem[] = [];
  for (const which of [images.CLOCK, images.CRASH]) {
    const existing = await inspectOrNull(engine, which.container);
    if (existing && existing.config.labels[images.DEMO_LABEL] !== 'true') throw notOurs('container', which.container);
    if (existing) await engine.removeContainer(existing.id, { force: true, volumes: true });
    items.push({
      container: which.container,
      image: existing?.image ?? which.image,
      program: existing?.config.labels[images.PROGRAM_LABEL] ?? '',
      action: existing ? 'removed' : 'not there',
      state: existing ? 'removed' : 'absent',
      exitCode: null,
    });
  }
  const removed: string[] = [];
  for (const image of await engine.listImages({ filters: { label: [`${images.DEMO_LABEL}=true`] } })) {
    await engine.removeImage(image.id, { force: false });
    removed.push(image.repoTags[0] ?? image.id);
  }
  return { action: 'down', containers: items, imagesRemoved: removed, next: [] };
}

export async function run(ctx: Context, parsed: Options): Promise<DemoResult> {
  const action = parsed.args[0];
  if (action !== 'up' && action !== 'down') {
    const { InvalidArgument } = await import('../errors.js');
    throw new InvalidArgument(`"porthole demo" takes "up" or "down", not "${escapeName(action ?? '')}".`);
  }
  const engine = await ctx.engine();
  return action === 'up' ? up(ctx, engine) : down(engine);
}

export function render(r: DemoResult, parsed: Options): string {
  if (parsed.options.json) return renderJson(r);
  const lines: string[] = [];
  for (const c of r.containers) {
    const state = c.exitCode !== null && r.action === 'up' ? `${c.state} (exit code ${c.exitCode})` : c.state;
    lines.push(`${c.action.padEnd(13)} ${escapeName(c.container).padEnd(20)} ${r.action === 'up' ? state : ''}`.trimEnd());
    if (r.action === 'up' && c.program) lines.push(`${''.padEnd(14)}image ${escapeName(c.image)}: ${escapeName(c.program)}`);
  }
  if (r.action === 'down') lines.push(r.imagesRemoved.length ? `removed images ${r.imagesRemoved.map(escapeName).join(', ')}` : 'no demo images to remove');
  if (r.next.length) lines.push('', 'Try next:', ...r.next.map((n) => `  ${n}`));
  return lines.join('\n') + '\n';
}
