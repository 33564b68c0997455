// Which Compose project a bare name belongs to, decided as `docker compose` decides it (compose-go's loader):
// -p/--project, else COMPOSE_PROJECT_NAME (the environment, then the project folder's .env), else the compose
// file's top-level `name:`, else the compose file's folder name; the file found in the current folder or above
// (or the first of COMPOSE_FILE). Names are normalized as compose-go's NormalizeProjectName does: lower case, only
// [a-z0-9_-] kept, leading "_" and "-" dropped.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidArgument } from '../../errors.js';

export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export interface ComposeProject {
  name: string;
  /** Where the name came from, for the sentences that name it ("from -p", "from ./compose.yaml"). */
  source: string;
}

/** The compose file in `cwd` or the nearest folder above that has one. */
export function findComposeFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of COMPOSE_FILES) {
      const file = join(dir, name);
      try {
        if (statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** A top-level `name:` in a compose file (plain or quoted scalar); undefined when there is none or it uses ${...}. */
export function topLevelName(yaml: string): string | undefined {
  for (const line of yaml.split(/\r?\n/)) {
    const m = /^name:[ \t]*(.*?)[ \t]*(?:#.*)?$/.exec(line);
    if (!m) continue;
    let value = m[1]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    return value && !value.includes('$') ? value : undefined;
  }
  return undefined;
}

/** COMPOSE_PROJECT_NAME from a .env file's text (KEY=VALUE lines, optional quotes). */
export function dotEnvProjectName(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?COMPOSE_PROJECT_NAME\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const value = /^(['"]).*\1$/.test(m[1]!) ? m[1]!.slice(1, -1) : m[1]!;
    return value || undefined;
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The project in force, or undefined when nothing names one (no flag, no variable, no compose file here or above).
 * A -p value compose itself would refuse is refused with its sentence.
 */
export function currentProject(opts: { flag?: string; env: NodeJS.ProcessEnv; cwd: string }): ComposeProject | undefined {
  if (opts.flag !== undefined) {
    if (!opts.flag || normalizeProjectName(opts.flag) !== opts.flag) {
      throw new InvalidArgument(
        `"${opts.flag.replace(/[\x00-\x1f\x7f]/g, '?')}" is not a Compose project name.`,
        'Project names are lower-case letters, digits, "_" and "-", starting with a letter or digit.',
      );
    }
    return { name: opts.flag, source: '-p' };
  }
  const fromEnv = opts.env.COMPOSE_PROJECT_NAME;
  if (fromEnv) return { name: normalizeProjectName(fromEnv), source: 'COMPOSE_PROJECT_NAME' };
  const listed = opts.env.COMPOSE_FILE?.split(opts.env.COMPOSE_PATH_SEPARATOR || ':').find(Boolean);
  const file = listed ? (isAbsolute(listed) ? listed : resolve(opts.cwd, listed)) : findComposeFile(opts.cwd);
  if (!file || !existsSync(file)) return undefined;
  const folder = dirname(file);
  const dotEnv = readText(join(folder, '.env'));
  const fromDotEnv = dotEnv && dotEnvProjectName(dotEnv);
  if (fromDotEnv) return { name: normalizeProjectName(fromDotEnv), source: join(folder, '.env') };
  const declared = topLevelName(readText(file) ?? '');
  const fromFile = declared && normalizeProjectName(declared);
  if (fromFile) return { name: fromFile, source: file };
  const fromFolder = normalizeProjectName(basename(folder));
  return fromFolder ? { name: fromFolder, source: file } : undefined;
}
