// The crash report's facts for a Kubernetes pod, and how a person reads them: the same sections as a container's
// report (what happened, what it ran, what it said, where it points, its setting) from what Kubernetes records,
// plus the pod's events. Everything that came from the cluster is escaped for the terminal.
import { escapeName } from '../render/escape.js';
import type { EnvEntry } from './findings.js';
import { escapeText } from './text.js';

export interface KubeStateFacts {
  state: 'running' | 'waiting' | 'terminated';
  reason: string | null;
  message: string | null;
  exitCode: number | null;
  meaning: string | null;
  signal: string | null;
  oomKilled: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  ranFor: string | null;
  endedAgo: string | null;
}

export interface KubeSaidLine {
  text: string;
  error: boolean;
}

export interface KubeContainerReport {
  name: string;
  init: boolean;
  image: string;
  imageID: string | null;
  ready: boolean;
  restartCount: number;
  failing: boolean;
  /** This container's problems in one sentence each, most telling first. */
  problems: string[];
  state: KubeStateFacts | null;
  lastState: KubeStateFacts | null;
  ran: { command: string[] | null; args: string[] | null; workingDir: string | null; user: string | null };
  probes: { liveness: string | null; readiness: string | null; startup: string | null };
  probeFailures: { probe: string; got: string; count: number; ago: string | null }[];
  env: (EnvEntry & { from: string | null })[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** `source`: what the volume is, in words ("ConfigMap app-config", "Secret db", "emptyDir"). */
  mounts: { name: string; path: string; readOnly: boolean; source: string | null }[];
  /** Output tails: the instance before the last restart, and the current one; null when there is none. */
  said: { previous: KubeSaidLine[] | null; current: KubeSaidLine[] | null; previousUnavailable: string | null; currentUnavailable: string | null };
  /** path:line references in the output, with the lines around them read through exec when the container runs. */
  points: { reference: string; path: string; line: number; from: string; lines: { number: number; text: string }[]; note: string | null }[];
}

export interface KubeEventLine {
  type: string;
  reason: string;
  message: string;
  container: string | null;
  count: number;
  lastSeen: string | null;
  ago: string | null;
  from: string | null;
}

export interface KubeWhyReport {
  engine: 'kubernetes';
  cluster: string;
  context: string;
  namespace: string;
  pod: { name: string; uid: string; node: string | null; phase: string; qosClass: string | null; createdAgo: string | null; ready: string };
  /** The workload asked about, and why this pod of it was chosen. */
  workload: { kind: string; name: string; pods: { name: string; phase: string; restarts: number; ready: string }[]; chosen: string } | null;
  problems: string[];
  containers: KubeContainerReport[];
  events: KubeEventLine[];
  secretsShown: boolean;
}

export function renderKubeReport(r: KubeWhyReport, opts: { color: boolean }): string {
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string) => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const t = escapeText;
  const n = escapeName;
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push('', bold(title), ...lines.map((l) => (l ? `  ${l}` : '')));
  };
  const p = r.pod;
  out.push(`${bold(`pod/${n(p.name)}`)}  namespace ${n(r.namespace)}  node ${n(p.node ?? '(none)')}  context ${n(r.context)}`);
  if (r.workload) {
    const w = r.workload;
    out.push(`${n(w.kind)}/${n(w.name)}: ${w.pods.length} pod${w.pods.length === 1 ? '' : 's'}; ${t(w.chosen)}`);
    if (w.pods.length > 1) for (const o of w.pods) out.push(dim(`  ${n(o.name)}  ${n(o.phase)}  ready ${o.ready}  restarts ${o.restarts}`));
  }

  const happened: string[] = [];
  happened.push(`pod ${n(p.phase)}, ${p.ready} containers ready${p.createdAgo ? `, created ${p.createdAgo} ago` : ''}${p.qosClass ? ` (QoS ${n(p.qosClass)})` : ''}`);
  for (const line of r.problems) happened.push(red(t(line)));
  section('What happened', happened);

  const shown = r.containers.filter((c) => c.failing || !c.init || r.containers.every((x) => !x.failing));
  for (const c of shown) {
    const kind = c.init ? 'init container' : 'container';
    const lines: string[] = [];
    lines.push(`image ${n(c.image)}${c.ready ? ', ready' : c.state?.state === 'running' ? ', not ready' : ''}, restarted ${c.restartCount} time${c.restartCount === 1 ? '' : 's'}`);
    lines.push(...stateLines('now', c.state, red, t));
    if (c.lastState) lines.push(...stateLines('before', c.lastState, red, t));
    for (const f of c.probeFailures) lines.push(red(`${f.probe} probe failed${f.count > 1 ? ` ${f.count} times` : ''}${f.ago ? ` (last ${f.ago} ago)` : ''}: ${t(f.got)}`));
    const command = [...(c.ran.command ?? []), ...(c.ran.args ?? [])];
    lines.push(
      `ran ${command.length ? t(quote(command)) : dim("the image's own command")}${c.ran.command ? '' : c.ran.args ? dim(' (args only: the image supplies the command)') : ''}`,
    );
    lines.push(`as ${c.ran.user === null ? dim("the image's user") : `uid ${n(c.ran.user)}`}, in ${c.ran.workingDir ? n(c.ran.workingDir) : dim("the image's working dir")}`);
    for (const [name, probe] of Object.entries(c.probes)) if (probe) lines.push(`${name} probe: ${t(probe)}`);
    const res = (['requests', 'limits'] as const).map((k) => `${k} ${Object.entries(c.resources[k]).map(([a, b]) => `${n(a)}=${n(b)}`).join(' ') || 'none'}`);
    lines.push(res.join(', '));
    section(`${kind[0]!.toUpperCase()}${kind.slice(1)} ${n(c.name)}${c.failing ? red(' (failing)') : ''}`, lines);

    const said = (title: string, saidLines: KubeSaidLine[] | null, unavailable: string | null) => {
      if (unavailable) {
        section(title, [dim(t(unavailable))]);
        return;
      }
      if (!saidLines) return;
      section(`${title} (last ${saidLines.length} line${saidLines.length === 1 ? '' : 's'})`, saidLines.length ? saidLines.map((l) => (l.error ? red(`! ${t(l.text)}`) : `  ${t(l.text)}`)) : [dim('(it printed nothing)')]);
    };
    said(`What ${n(c.name)} said before its last restart`, c.said.previous, c.said.previousUnavailable);
    said(`What ${n(c.name)} says now`, c.said.current, c.said.currentUnavailable);
    if (c.points.length) {
      const lines: string[] = [];
      for (const pt of c.points) {
        if (lines.length) lines.push('');
        lines.push(`${n(pt.path)} line ${pt.line}  ${dim(`(${t(pt.reference)} in ${n(pt.from)})`)}`);
        const width = String(Math.max(pt.line, ...pt.lines.map((l) => l.number))).length;
        for (const l of pt.lines) {
          const row = `${l.number === pt.line ? '>' : ' '} ${String(l.number).padStart(width)} | ${t(l.text)}`;
          lines.push(l.number === pt.line ? red(row) : row);
        }
        if (pt.note) lines.push(dim(`  (${t(pt.note)})`));
      }
      section('Where it points', lines);
    }
    const setting: string[] = [];
    for (const e of c.env) {
      const value = e.from ? `${e.masked && !r.secretsShown ? '' : ''}from ${t(e.from)}` : e.value === null ? '****** (hidden)' : t(e.value);
      setting.push(`env ${n(e.name)}${e.from ? ' ' : '='}${value}`);
    }
    const hidden = c.env.filter((e) => e.masked && !e.from).length;
    if (hidden && !r.secretsShown) setting.push(dim(`${hidden} secret-looking value${hidden === 1 ? '' : 's'} hidden; --show-secrets shows them (Secrets themselves are never read)`));
    for (const m of c.mounts) setting.push(`mount ${n(m.name)}${m.source ? ` (${n(m.source)})` : ''} -> ${n(m.path)}${m.readOnly ? ' (read-only)' : ''}`);
    section(`Setting of ${n(c.name)}`, setting);
  }

  if (r.events.length) {
    section(
      'Events (newest first)',
      r.events.slice(0, 25).map((e) => {
        const row = `${(e.ago ? `${e.ago} ago` : '').padEnd(14)} ${n(e.reason)}${e.count > 1 ? ` (x${e.count})` : ''}${e.container ? ` [${n(e.container)}]` : ''}: ${t(e.message)}`;
        return e.type === 'Warning' ? red(row) : row;
      }),
    );
  }
  return out.join('\n') + '\n';
}

function stateLines(when: string, s: KubeStateFacts | null, red: (s: string) => string, t: (s: string) => string): string[] {
  if (!s) return [];
  const lines: string[] = [];
  if (s.state === 'running') lines.push(`${when}: running${s.ranFor ? ` for ${s.ranFor}` : ''}`);
  else if (s.state === 'waiting') lines.push(red(`${when}: waiting: ${escapeName(s.reason ?? '?')}${s.message ? `: ${t(s.message)}` : ''}`));
  else {
    lines.push(`${when}: terminated${s.reason ? ` (${escapeName(s.reason)})` : ''}${s.endedAgo ? ` ${s.endedAgo} ago` : ''}${s.ranFor ? `, after running ${s.ranFor}` : ''}`);
    if (s.meaning) lines.push(s.exitCode === 0 ? `  ${s.meaning}` : red(`  ${s.meaning}`));
    if (s.message) lines.push(`  the runtime said: ${t(s.message)}`);
  }
  return lines;
}

const quote = (words: string[]) => words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
