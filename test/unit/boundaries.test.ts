// Module boundaries (STYLE.md): only engine/ reaches engine/docker; heavy modules stay off the start-up path.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Static imports only (`import x from`, `export ... from`); `await import()` is lazy by design. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  return found;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
}

test('only src/engine/ imports the docker adapter', () => {
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('engine/')) continue;
    for (const spec of staticImports(file)) {
      const target = resolveLocal(file, spec);
      assert.ok(!target || !relative(SRC, target).startsWith('engine/docker/'), `${rel} imports ${spec}`);
    }
  }
});

test('renderers never reach the engine', () => {
  for (const file of sources(join(SRC, 'render'))) {
    for (const spec of staticImports(file)) {
      const target = resolveLocal(file, spec);
      assert.ok(!target || !relative(SRC, target).startsWith('engine/'), `${relative(SRC, file)} imports ${spec}`);
    }
  }
});

test('the start-up path (main.ts and what it imports statically) loads no npm package', () => {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      const target = resolveLocal(file, spec);
      if (target) walk(target);
      else assert.ok(spec.startsWith('node:'), `${relative(SRC, file)} statically imports the package ${spec}`);
    }
  };
  walk(join(SRC, 'main.ts'));
  assert.ok(seen.size > 3);
});

test('no import cycles among static imports', () => {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    graph.set(file, staticImports(file).map((s) => resolveLocal(file, s)).filter((t): t is string => !!t));
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    assert.notEqual(state.get(node), 'visiting', `import cycle: ${[...path, node].map((p) => relative(SRC, p)).join(' -> ')}`);
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
});

test('the Kubernetes adapter is reached only lazily from commands, and the YAML parser only by the kubeconfig reader', () => {
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    for (const spec of staticImports(file)) {
      const target = resolveLocal(file, spec);
      if (spec === 'yaml') assert.fail(`${rel} statically imports yaml (it is loaded only when a kubeconfig needs it)`);
      if (!target || !relative(SRC, target).startsWith('engine/kubernetes/')) continue;
      assert.ok(rel.startsWith('engine/'), `${rel} statically imports ${spec}: commands load the Kubernetes adapter with import()`);
    }
  }
});

test("the ui server is reached only lazily: no command's start-up loads src/ui/", () => {
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('ui/')) continue;
    for (const spec of staticImports(file)) {
      const target = resolveLocal(file, spec);
      assert.ok(!target || !relative(SRC, target).startsWith('ui/'), `${rel} statically imports ${spec}: src/ui/ loads with import() from commands/ui.ts`);
    }
  }
});
