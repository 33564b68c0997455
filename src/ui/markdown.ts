// The Why tab's "Copy as Markdown": the same report the tab shows (the rendered text, secrets masked, and the
// report's own headline and path:line points), laid out for an issue or a chat. No second why: only layout.

export interface WhyMarkdownInput {
  /** The name the page was opened with (a container name, pod/NAME, service/NAME). */
  ref: string;
  /** The report's headline, as the tab shows it (what happened, in words); may be empty. */
  headline: string;
  /** The rendered report, as `porthole why` prints it. */
  text: string;
  /** The equivalent command line. */
  command: string;
  points: { path: string; line: number; from?: string }[];
}

/** The longest run of backticks in the text. */
function longestBackticks(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/** A fence longer than any run of backticks in the text, so nothing inside can close it. */
export function fenceFor(text: string): string {
  return '`'.repeat(Math.max(3, longestBackticks(text) + 1));
}

/** Inline code that holds any text: delimiters longer than its backtick runs, padded when it starts or ends with one. */
export function inlineCode(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  const ticks = '`'.repeat(longestBackticks(flat) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** Text shown as itself in Markdown prose (a heading, a list item): one line, its markup characters escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>#|~]/g, '\\$&');
}

export function whyMarkdown(input: WhyMarkdownInput): string {
  const heading = input.headline ? `${input.ref}: ${input.headline}` : input.ref;
  const fence = fenceFor(input.text);
  const out = [`## ${escapeMarkdown(heading)}`, '', `${fence}text`, input.text.replace(/\n+$/, ''), fence, '', `Command: ${inlineCode(input.command)}`];
  if (input.points.length) {
    out.push('', 'Where it points:', '');
    for (const p of input.points) out.push(`- ${inlineCode(`${p.path}:${p.line}`)}${p.from ? ` (seen in ${escapeMarkdown(p.from)})` : ''}`);
  }
  return out.join('\n') + '\n';
}
