// The crash report as a person reads it, top to bottom; a section appears only when it has something to say.
// Everything that came from the container is escaped for the terminal.
import { escapeName } from '../render/escape.js';
import type { WhyReport } from './collect.js';
import { formatBytes, largest } from '../render/table.js';
import { redactRendered } from './findings.js';
import { escapeText } from './text.js';
import { portholeWithFlags } from '../cli/invocation.js';

export interface RenderOptions {
  /** Colour for a terminal: headings bold, error lines red. */
  color: boolean;
}

const q = (words: string[]) => words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');

export function renderReport(r: WhyReport, opts: RenderOptions): string {
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string) => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push('', bold(title), ...lines.map((l) => (l ? `  ${l}` : '')));
  };
  const t = escapeText;
  const h = r.happened;

  out.push(`${bold(escapeName(r.container.name))}  ${r.container.id.slice(0, 12)}  image ${escapeName(r.container.image)}`);

  const happened: string[] = [];
  if (h.running) {
    happened.push(`${h.paused ? 'paused' : 'running'}${h.ranFor ? ` for ${h.ranFor}` : ''}${h.startedAt ? ` (since ${h.startedAt})` : ''}`);
  } else if (h.restarting) {
    happened.push('restarting');
  } else if (!h.startedAt) {
    happened.push(`${h.state}: it never started`);
  } else {
    happened.push(`${h.state}${h.endedAgo ? ` ${h.endedAgo} ago` : ''}${h.ranFor ? `, after running ${h.ranFor}` : ''}`);
  }
  if (h.meaning) happened.push(h.exitCode === 0 ? h.meaning : red(h.meaning));
  if (h.oomKilled && h.memoryLimit) happened.push(red(`its memory limit was ${formatBytes(h.memoryLimit)}`));
  // The engine learns of OOM kills from an event that can arrive too late (cgroup v1): a limit makes it likely.
  if (!h.oomKilled && h.exitCode === 137 && h.memoryLimit) {
    happened.push(red(`it had a memory limit of ${formatBytes(h.memoryLimit)}: the engine sometimes misses an OOM kill; check \`dmesg\` for "Memory cgroup out of memory"`));
  }
  if (h.error && !(h.meaning ?? '').includes(h.error)) happened.push(red(`the engine said: ${t(h.error)}`));
  if (h.saidNothing) happened.push('it printed nothing on stdout or stderr');
  if (r.said.unavailable) happened.push(`its output cannot be read back: ${t(r.said.unavailable)}`);
  if (h.restartCount || h.restartPolicy !== 'no') happened.push(`restart policy ${escapeName(h.restartPolicy)}, restarted ${h.restartCount} time${h.restartCount === 1 ? '' : 's'}`);
  if (h.health) {
    const hc = h.health;
    const streak = hc.failingStreak ? ` (${hc.failingStreak} failing check${hc.failingStreak === 1 ? '' : 's'} in a row)` : '';
    happened.push(`${hc.status === 'unhealthy' ? red(`health: ${escapeName(hc.status)}`) : `health: ${escapeName(hc.status)}`}${streak}`);
    if (hc.test) happened.push(`  check: ${t(hc.test[0] === 'CMD-SHELL' ? hc.test.slice(1).join(' ') : q(hc.test.slice(hc.test[0] === 'CMD' ? 1 : 0)))}`);
    if (hc.lastExitCode !== null) {
      happened.push(`  last check exited ${hc.lastExitCode}${hc.lastOutput ? ':' : ''}`);
      for (const line of (hc.lastOutput ?? '').split('\n').slice(-5)) if (line) happened.push(`    ${t(line)}`);
    }
  }
  section('What happened', happened);

  const ran: string[] = [];
  if (r.ran.command.length) ran.push(t(q(r.ran.command)));
  ran.push(`as ${r.ran.user ? escapeName(r.ran.user) : 'root (the default)'}, in ${escapeName(r.ran.workingDir || '/')}`);
  const x = r.ran.executable;
  if (x) {
    if (x.checked === 'it started') {
      ran.push(dim(`it started, so ${escapeName(x.path ?? x.name)} exists and is executable`));
    } else if (!x.exists) {
      ran.push(red(`${escapeName(x.name)} was not found: looked at ${x.searched.map(escapeName).join(', ')}`));
    } else {
      const kind =
        x.kind === 'script'
          ? `a script for ${escapeName(x.interpreter ?? '?')}${x.interpreterFound === false ? ' (missing!)' : ''} (${t(x.interpreterLine ?? '')})`
          : x.kind === 'elf'
            ? `a compiled program${x.interpreter ? ` loaded by ${escapeName(x.interpreter)}${x.interpreterFound === false ? ' (missing!)' : ''}` : ' (static)'}`
            : x.isDirectory
              ? 'a directory'
              : 'a file';
      ran.push(`${escapeName(x.path ?? x.name)}: ${kind}, ${x.executable ? 'executable' : 'NOT executable'} (${x.permissions})`);
      for (const link of x.links) ran.push(dim(`  via ${escapeName(link)}`));
    }
    if (x.problem) ran.push(red(`likely cause: ${t(x.problem)}`));
  }
  section('What it ran', ran);

  if (r.said.lines.length) {
    const marked = r.said.tty ? '(one terminal stream)' : 'stderr marked with !';
    section(
      `What it said (last ${r.said.lines.length} line${r.said.lines.length === 1 ? '' : 's'}, ${marked})`,
      r.said.lines.map((l) => {
        const text = t(l.text);
        return l.stream === 'stderr' ? red(`! ${text}`) : l.error ? red(`  ${text}`) : `  ${text}`;
      }),
    );
  }

  if (r.wrote.total) {
    const lines = r.wrote.changes.map((c) => `${c.kind} ${escapeName(c.path)}`);
    if (r.wrote.total > r.wrote.changes.length) lines.push(dim(`... and ${r.wrote.total - r.wrote.changes.length} more (${portholeWithFlags()} diff shows them all)`));
    for (const log of r.wrote.logs) {
      lines.push('', `${escapeName(log.path)}${log.note ? ` (${t(log.note)})` : `, last ${log.lines.length} line${log.lines.length === 1 ? '' : 's'}:`}`);
      for (const l of log.lines) lines.push(l.error ? red(`! ${t(l.text)}`) : `  ${t(l.text)}`);
    }
    section(`What it wrote (${r.wrote.total} change${r.wrote.total === 1 ? '' : 's'} to its filesystem)`, lines);
  }

  if (r.points.length) {
    const lines: string[] = [];
    for (const p of r.points) {
      if (lines.length) lines.push('');
      lines.push(`${escapeName(p.path)} line ${p.line}  ${dim(`(${t(p.reference)} in ${escapeName(p.from)})`)}`);
      const width = String(largest(p.lines.map((l) => l.number), p.line)).length;
      for (const l of p.lines) {
        const mark = l.number === p.line ? '>' : ' ';
        const row = `${mark} ${String(l.number).padStart(width)} | ${t(l.text)}`;
        lines.push(l.number === p.line ? red(row) : row);
      }
      if (p.note) lines.push(dim(`  (${t(p.note)})`));
    }
    section('Where it points', lines);
  }

  const setting: string[] = [];
  const hidden = r.setting.env.filter((e) => e.masked).length;
  for (const e of r.setting.env) setting.push(`env ${escapeName(e.name)}=${e.value === null ? '****** (hidden)' : t(e.value)}`);
  if (hidden && !r.setting.secretsShown) setting.push(dim(`${hidden} secret-looking value${hidden === 1 ? '' : 's'} hidden; --show-secrets shows them`));
  for (const m of r.setting.mounts) setting.push(`mount ${escapeName(m.source || m.type)} -> ${escapeName(m.destination)} (${m.type}, ${m.rw ? 'read-write' : 'read-only'})`);
  for (const p of r.setting.ports) setting.push(`port ${escapeName(p.hostIp || '0.0.0.0')}:${escapeName(p.hostPort)} -> ${escapeName(p.containerPort)}`);
  const published = new Set(r.setting.ports.map((p) => p.containerPort));
  const unpublished = r.setting.exposed.filter((p) => !published.has(p));
  if (unpublished.length) setting.push(`exposed, not published: ${unpublished.map(escapeName).join(', ')}`);
  section('Its setting', setting);

  return redactRendered(r, out.join('\n') + '\n');
}
