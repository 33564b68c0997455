// --json output: one document, two-space indented, newline-terminated. JSON.stringify escapes control
// characters itself, so names travel exactly and safely.
export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
