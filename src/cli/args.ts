// Typed option definitions: each command declares its flags once; the parsed options' type is derived from them.
import { parseArgs } from 'node:util';
import { InvalidArgument } from '../errors.js';
import { widest } from '../render/table.js';

export interface OptionDef {
  type: 'boolean' | 'string';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help after the flag, e.g. "N" for --tail N. */
  valueName?: string;
  /** A boolean given a value (`--watch=5`): what to type instead; {} is the value given. */
  valueGivenHint?: string;
}

export interface CommandSpec<O extends Record<string, OptionDef> = Record<string, OptionDef>> {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options: O;
  /** Positional arguments: the fewest and most accepted. */
  args: { min: number; max: number };
  /**
   * After this many positionals, everything else is passed through untouched (`shell C ls -l`), as are all
   * words after `--`.
   */
  restAfter?: number;
  examples?: string[];
}

export type OptionValues<O extends Record<string, OptionDef>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : string | undefined;
};

export interface Parsed<O extends Record<string, OptionDef>> {
  options: OptionValues<O>;
  args: string[];
  /** Words after `--`, or after `restAfter` positionals. */
  rest: string[];
  /** Whether `--` (or a word after restAfter positionals) was present, so `shell C --` differs from `shell C`. */
  hasRest: boolean;
}

export function defineCommand<O extends Record<string, OptionDef>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

export const helpOption: OptionDef = { type: 'boolean', short: 'h', description: 'Show this help' };

/** Whether a word names one of the command's own flags (`--cap-add`, `--cap-add=X`, `-u`, `-uroot`). */
export function isOwnOption(word: string, byLong: Map<string, OptionDef>, byShort: Map<string, OptionDef>): boolean {
  if (word.startsWith('--')) return word.length > 2 && byLong.has(word.slice(2).split('=')[0]!);
  return word.length > 1 && word.startsWith('-') && byShort.has(word[1]!);
}

/** The command's flags by long and short name, --help included. */
export function optionMaps(spec: CommandSpec): { byLong: Map<string, OptionDef>; byShort: Map<string, OptionDef> } {
  const byLong = new Map<string, OptionDef>();
  const byShort = new Map<string, OptionDef>();
  for (const [name, def] of Object.entries({ ...spec.options, help: helpOption })) {
    byLong.set(name, def);
    if (def.short) byShort.set(def.short, def);
  }
  return { byLong, byShort };
}

/**
 * With restAfter: the command to run must not start with one of porthole's own flags (`shell C -u root` with no
 * later `--`), which would otherwise run a program named `-u`. Throws the sentence that says where flags go.
 */
export function refuseFlagAsCommand(spec: CommandSpec, rest: string[]): void {
  const first = rest[0];
  const { byLong, byShort } = optionMaps(spec);
  if (first === undefined || !isOwnOption(first, byLong, byShort)) return;
  const shown = first.replace(/[^\x20-\x7e]/g, '?');
  throw new InvalidArgument(
    `"${shown}" after the container name would be the program to run, not an option of porthole ${spec.name}.`,
    `Put options before CONTAINER, or end them with --: porthole ${spec.name} CONTAINER ${shown} ... -- PROGRAM.`,
  );
}

/** Splits argv into the part to parse and the passthrough rest. */
function splitRest(spec: CommandSpec, argv: string[]): { head: string[]; rest: string[]; hasRest: boolean } {
  const { byLong, byShort } = optionMaps(spec);
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return { head: argv.slice(0, i), rest: argv.slice(i + 1), hasRest: true };
    if (word.startsWith('--') && word.length > 2) {
      const def = byLong.get(word.slice(2).split('=')[0]!);
      if (def?.type === 'string' && !word.includes('=')) i++;
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      // -abc: a cluster of short booleans, possibly ending with one that takes a value (-uroot or -u root).
      for (let j = 1; j < word.length; j++) {
        const def = byShort.get(word[j]!);
        if (def?.type === 'string') {
          if (j === word.length - 1) i++;
          break;
        }
      }
      continue;
    }
    positionals++;
    if (spec.restAfter !== undefined && positionals === spec.restAfter && i + 1 < argv.length) {
      const next = argv[i + 1]!;
      // `shell C --cap-add X -- cmd`: the command's own options after the container, closed by a later `--`, are
      // still options (the `--` says where the command starts), rather than a command named `--cap-add`.
      if (isOwnOption(next, byLong, byShort) && argv.indexOf('--', i + 2) > 0) continue;
      // `shell C -- cmd` keeps working: the `--` right after the container is just the separator.
      const restStart = next === '--' ? i + 2 : i + 1;
      return { head: argv.slice(0, i + 1), rest: argv.slice(restStart), hasRest: true };
    }
  }
  return { head: argv, rest: [], hasRest: false };
}

/**
 * parseArgs refuses `--size -4k` (a value that looks like a flag); a string option always takes the next word,
 * as docker's flags do, so join such pairs into `--size=-4k` before parsing.
 */
function joinDashValues(spec: CommandSpec, head: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.length; i++) {
    const word = head[i]!;
    const next = head[i + 1];
    if (next !== undefined && next.startsWith('-') && next !== '--') {
      const long = word.startsWith('--') && !word.includes('=') ? spec.options[word.slice(2)] : undefined;
      const short = /^-[^-]$/.test(word) ? Object.entries(spec.options).find(([, d]) => d.short === word[1]) : undefined;
      const name = long ? word.slice(2) : short?.[0];
      if (name && spec.options[name]?.type === 'string') {
        out.push(`--${name}=${next}`);
        i++;
        continue;
      }
    }
    out.push(word);
  }
  return out;
}

export function parseCommand<O extends Record<string, OptionDef>>(spec: CommandSpec<O>, argv: string[]): Parsed<O> & { help: boolean } {
  const split = splitRest(spec, argv);
  const { rest, hasRest } = split;
  const head = joinDashValues(spec, split.head);
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const [name, def] of Object.entries({ ...spec.options, help: helpOption })) {
    options[name] = { type: def.type, ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
  } catch (err) {
    refuseValueOnSwitch(spec, head);
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
    throw new InvalidArgument(`${message}.`, `See \`porthole ${spec.name} --help\`.`);
  }
  const values = parsed.values as Record<string, unknown>;
  const help = !!values.help;
  const normalized: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec.options)) {
    const v = values[name];
    if (def.type === 'boolean') normalized[name] = Array.isArray(v) ? v.some(Boolean) : !!v;
    else if (def.multiple) normalized[name] = (v as string[] | undefined) ?? [];
    else normalized[name] = v as string | undefined;
  }
  const args = parsed.positionals;
  if (!help) {
    if (args.length < spec.args.min) {
      throw new InvalidArgument(`"porthole ${spec.name}" needs ${describeCount(spec.args.min)}.`, `Usage: ${spec.usage}`);
    }
    if (args.length > spec.args.max) {
      throw new InvalidArgument(`"porthole ${spec.name}" takes ${describeMax(spec.args.max)}, got ${args.length}.`, `Usage: ${spec.usage}`);
    }
  }
  return { options: normalized as OptionValues<O>, args, rest, hasRest, help };
}

/** `--watch=5` on a switch: say the flag takes no value, and what the command offers instead. */
function refuseValueOnSwitch(spec: CommandSpec, head: string[]): void {
  for (const word of head) {
    const m = /^--([\w-]+)=(.*)$/s.exec(word);
    const def = m ? spec.options[m[1]!] : undefined;
    if (!m || def?.type !== 'boolean') continue;
    const shown = m[2]!.replace(/[^\x20-\x7e]/g, '?');
    throw new InvalidArgument(
      `--${m[1]} is a switch and takes no value ("--${m[1]}=${shown}").`,
      def.valueGivenHint ? def.valueGivenHint.replaceAll('{}', shown) : `Leave out "=${shown}"; see \`porthole ${spec.name} --help\`.`,
    );
  }
}

function describeCount(n: number): string {
  return n === 1 ? 'an argument' : `at least ${n} arguments`;
}

function describeMax(n: number): string {
  return n === 0 ? 'no arguments' : n === 1 ? 'at most one argument' : `at most ${n} arguments`;
}

/** Parses a whole number flag value, with a sentence when it is not one. */
export function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidArgument(`${flag} takes a whole number, not "${value}".`);
  return Number(value);
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  const entries = Object.entries({ ...spec.options, help: helpOption });
  const flags = entries.map(([name, def]) => {
    const short = def.short ? `-${def.short}, ` : '    ';
    const value = def.type === 'string' ? ` ${def.valueName ?? 'VALUE'}` : '';
    return [`  ${short}--${name}${value}`, def.description + (def.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = widest(flags, ([f]) => f) + 2;
  lines.push('', 'Options:');
  for (const [f, d] of flags) lines.push(f.padEnd(width) + d);
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
