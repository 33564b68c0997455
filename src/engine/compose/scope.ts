// What a bare name on the command line is read against, beside the engine's own container names: the Compose
// project (-p, COMPOSE_PROJECT_NAME, the compose file here or above), a replica number (--index), and whether the
// command also takes an image (ls, cat, find, grep, du, shell) or was told to (--image). Set once by main.ts from
// the parsed flags, so resolveContainer (engine/resolve.ts) serves every command the same way.
import { InvalidArgument } from '../../errors.js';

export interface NameScope {
  /** -p/--project as given. */
  project?: string;
  /** --index N: the service's replica number. */
  index?: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where a sentence for the person watching goes (stderr). */
  notice(message: string): void;
  /** The command reads images too: a name that is no container (and no service) may be an image. */
  images: boolean;
  /** --image: the name is an image, even where a container has that name. */
  forceImage: boolean;
  /** Where what an image target creates (a reader container, where its layers cannot answer) is undone. */
  cleanup?: { add(description: string, run: () => Promise<void> | void): () => void };
}

let current: NameScope = {
  env: process.env,
  cwd: process.cwd(),
  notice: (message) => process.stderr.write(`${message}\n`),
  images: false,
  forceImage: false,
};

export function nameScope(): NameScope {
  return current;
}

export function setNameScope(scope: Partial<NameScope>): void {
  current = { ...current, ...scope };
}

/** The commands whose file reading works on an image (from its layers) and `shell` (a throwaway container). */
export const IMAGE_COMMANDS = new Set(['ls', 'cat', 'find', 'grep', 'du', 'shell']);

/** From a command's parsed options (see cli/name-options.ts), as main.ts hands them over. */
export function scopeFromOptions(command: string, options: Record<string, unknown>): Partial<NameScope> {
  const index = options.index;
  if (index !== undefined && (typeof index !== 'string' || !/^[1-9]\d{0,5}$/.test(index))) {
    throw new InvalidArgument(`--index takes a replica number (1, 2, ...), not "${String(index).replace(/[\x00-\x1f\x7f]/g, '?')}".`);
  }
  return {
    project: typeof options.project === 'string' ? options.project : undefined,
    index: typeof index === 'string' ? Number(index) : undefined,
    images: IMAGE_COMMANDS.has(command),
    forceImage: options.image === true,
  };
}
