// The YAML that kubeconfigs are made of (what kubectl, kind, minikube and the cloud CLIs write): block mappings
// and sequences, plain and quoted scalars, small flow collections. Parsing that here takes well under a
// millisecond; loading the full `yaml` package costs about 18 ms of CPU, most of the 40 ms a pod command may add
// to start-up. Anything outside this subset (anchors, tags, block scalars, multi-line flow) makes parseKubeYaml
// return undefined, and the caller falls back to the full parser, so no kubeconfig is read wrongly.

class Outside extends Error {}

interface Line {
  indent: number;
  text: string;
}

export function parseKubeYaml(source: string): unknown {
  try {
    const lines: Line[] = [];
    for (const raw of source.replace(/^\uFEFF/, '').split(/\r?\n/)) {
      if (/^\s*(#.*)?$/.test(raw)) continue;
      if (raw.startsWith('---') || raw.startsWith('...')) {
        if (lines.length && raw.startsWith('---')) throw new Outside();
        if (raw.trim() !== '---' && raw.trim() !== '...') throw new Outside();
        continue;
      }
      if (/^\s*\t/.test(raw)) throw new Outside();
      const indent = raw.length - raw.trimStart().length;
      lines.push({ indent, text: stripComment(raw.slice(indent)) });
    }
    if (!lines.length) return null;
    // A kubeconfig may be JSON, which is YAML too.
    if (lines[0]!.text.startsWith('{')) {
      try {
        return JSON.parse(source) as unknown;
      } catch {
        throw new Outside();
      }
    }
    const state = { i: 0 };
    const value = block(lines, state, lines[0]!.indent);
    if (state.i !== lines.length) throw new Outside();
    return value;
  } catch (err) {
    if (err instanceof Outside) return undefined;
    throw err;
  }
}

/** Removes a trailing " # comment" outside quotes. */
function stripComment(text: string): string {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = '';
      } else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") {
      if (i === 0 || /[\s:[{,-]/.test(text[i - 1]!)) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      return text.slice(0, i).trimEnd();
    }
  }
  if (quote) throw new Outside();
  return text.trimEnd();
}

function block(lines: Line[], state: { i: number }, indent: number): unknown {
  const first = lines[state.i]!;
  if (first.text === '-' || first.text.startsWith('- ')) return sequence(lines, state, indent);
  return mapping(lines, state, indent);
}

function sequence(lines: Line[], state: { i: number }, indent: number): unknown[] {
  const out: unknown[] = [];
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new Outside();
    // A key at the sequence's column ends it (the sequence sat at its parent key's column).
    if (!(line.text === '-' || line.text.startsWith('- '))) break;
    const rest = line.text.slice(1).trimStart();
    if (!rest) {
      state.i++;
      out.push(state.i < lines.length && lines[state.i]!.indent > indent ? block(lines, state, lines[state.i]!.indent) : null);
      continue;
    }
    if (keyOf(rest) !== undefined) {
      // "- key: value" opens a mapping whose keys sit at the column after "- ".
      const column = indent + (line.text.length - rest.length);
      lines[state.i] = { indent: column, text: rest };
      out.push(mapping(lines, state, column));
      continue;
    }
    state.i++;
    out.push(scalarOrFlow(rest));
  }
  return out;
}

function keyOf(text: string): { key: string; rest: string } | undefined {
  let m = /^"((?:[^"\\]|\\.)*)"\s*:(?:\s+|$)(.*)$/.exec(text);
  if (m) return { key: JSON.parse(`"${m[1]}"`) as string, rest: m[2]! };
  m = /^'((?:[^']|'')*)'\s*:(?:\s+|$)(.*)$/.exec(text);
  if (m) return { key: m[1]!.replace(/''/g, "'"), rest: m[2]! };
  m = /^([^\s"'{[\]},#&*!|>%@`?-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+|$)(.*)$/.exec(text);
  if (m) return { key: m[1]!, rest: m[2]! };
  return undefined;
}

function mapping(lines: Line[], state: { i: number }, indent: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new Outside();
    const kv = keyOf(line.text);
    if (!kv || kv.key === '__proto__' || Object.hasOwn(out, kv.key)) throw new Outside();
    state.i++;
    if (kv.rest) {
      out[kv.key] = scalarOrFlow(kv.rest);
      continue;
    }
    const next = lines[state.i];
    // A sequence may sit at the same column as its key ("key:\n- a").
    if (next && (next.indent > indent || (next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
      out[kv.key] = block(lines, state, next.indent);
    } else {
      out[kv.key] = null;
    }
  }
  return out;
}

function scalarOrFlow(text: string): unknown {
  if (text.startsWith('{') || text.startsWith('[')) {
    const state = { pos: 0 };
    const value = flow(text, state);
    if (text.slice(state.pos).trim()) throw new Outside();
    return value;
  }
  return scalar(text);
}

function flow(text: string, state: { pos: number }): unknown {
  const skip = () => {
    while (state.pos < text.length && text[state.pos] === ' ') state.pos++;
  };
  skip();
  const open = text[state.pos];
  if (open === '{' || open === '[') {
    state.pos++;
    const close = open === '{' ? '}' : ']';
    const obj: Record<string, unknown> = {};
    const arr: unknown[] = [];
    skip();
    if (text[state.pos] === close) {
      state.pos++;
      return open === '{' ? obj : arr;
    }
    for (;;) {
      if (open === '{') {
        const key = flowScalarText(text, state, ':');
        if (text[state.pos] !== ':') throw new Outside();
        state.pos++;
        const k = String(scalar(key));
        if (k === '__proto__') throw new Outside();
        obj[k] = flow(text, state);
      } else {
        arr.push(flow(text, state));
      }
      skip();
      const c = text[state.pos++];
      if (c === close) return open === '{' ? obj : arr;
      if (c !== ',') throw new Outside();
      skip();
    }
  }
  return scalar(flowScalarText(text, state, ''));
}

/** The text of one scalar inside a flow collection, up to , ] } (or : for a key). */
function flowScalarText(text: string, state: { pos: number }, stopAlso: string): string {
  while (text[state.pos] === ' ') state.pos++;
  const start = state.pos;
  const q = text[start];
  if (q === '"' || q === "'") {
    state.pos++;
    while (state.pos < text.length) {
      const c = text[state.pos];
      if (c === '\\' && q === '"') state.pos += 2;
      else if (c === q && q === "'" && text[state.pos + 1] === "'") state.pos += 2;
      else if (c === q) break;
      else state.pos++;
    }
    if (state.pos >= text.length) throw new Outside();
    state.pos++;
    const quoted = text.slice(start, state.pos);
    while (text[state.pos] === ' ') state.pos++;
    return quoted;
  }
  while (state.pos < text.length && !',]}'.includes(text[state.pos]!) && !(stopAlso && text[state.pos] === stopAlso && /[\s,\]}]|$/.test(text[state.pos + 1] ?? ''))) state.pos++;
  return text.slice(start, state.pos).trim();
}

function scalar(text: string): unknown {
  if (text.startsWith('"')) {
    if (!/^"((?:[^"\\]|\\.)*)"$/.test(text)) throw new Outside();
    try {
      return JSON.parse(text.replace(/\\\//g, '/')) as string;
    } catch {
      throw new Outside();
    }
  }
  if (text.startsWith("'")) {
    if (!/^'((?:[^']|'')*)'$/.test(text)) throw new Outside();
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[&*!|>%@`{[]/.test(text)) throw new Outside();
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^[-+]?(0|[1-9]\d*)$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^0x|^0o|^[-+]?\.(inf|nan)$/i.test(text)) throw new Outside();
  if (text.includes(': ') || text.includes(' #')) throw new Outside();
  return text;
}
