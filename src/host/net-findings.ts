// What is wrong between a container's published or exposed ports and what its processes listen on: pure logic over
// the engine's port list and the sockets read from /proc/PID/net.
import { isLoopback } from './netproc.js';

export interface ListeningSocket {
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
  /** The owning process: PID inside and command, when porthole could read the container's fd tables. */
  process: { pid: number | null; hostPid: number | null; command: string } | null;
}

export interface PublishedPort {
  /** e.g. "80/tcp" */
  containerPort: string;
  hostIp: string;
  hostPort: string;
}

export interface NetFinding {
  kind: 'loopback-only' | 'nothing-listens' | 'exposed-not-listening';
  port: string;
  message: string;
}

function parsePortSpec(spec: string): { port: number; proto: 'tcp' | 'udp' } | undefined {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(spec);
  if (!m || m[2] === 'sctp') return undefined;
  return { port: Number(m[1]), proto: (m[2] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

function who(s: ListeningSocket): string {
  return s.process ? s.process.command.split(' ')[0]!.replace(/^.*\//, '') : 'a process';
}

/** Where a published port listens on the host, `[::]:8080` for IPv6. */
export function hostSide(p: PublishedPort): string {
  const ip = p.hostIp || '0.0.0.0';
  return ip.includes(':') ? `[${ip}]:${p.hostPort}` : `${ip}:${p.hostPort}`;
}

/** The mismatches, each in one sentence: published ports no socket can answer, exposed ports nothing listens on. */
export function portFindings(published: PublishedPort[], exposed: string[], listening: ListeningSocket[]): NetFinding[] {
  const findings: NetFinding[] = [];
  const seen = new Set<string>();
  for (const p of published) {
    const spec = parsePortSpec(p.containerPort);
    if (!spec || seen.has(p.containerPort)) continue;
    seen.add(p.containerPort);
    const on = listening.filter((s) => s.proto === spec.proto && s.port === spec.port);
    const hosts = published.filter((q) => q.containerPort === p.containerPort).map(hostSide).join(', ');
    if (!on.length) {
      const elsewhere = [...new Set(listening.filter((s) => s.proto === spec.proto).map((s) => s.port))].sort((a, b) => a - b);
      findings.push({
        kind: 'nothing-listens',
        port: p.containerPort,
        message: `Port ${p.containerPort} is published (${hosts}) but nothing in the container listens on ${spec.port}${elsewhere.length ? ` (${spec.proto} listeners: ${elsewhere.join(', ')})` : ''}.`,
      });
    } else if (on.every((s) => isLoopback(s.address))) {
      const s = on[0]!;
      findings.push({
        kind: 'loopback-only',
        port: p.containerPort,
        message: `${who(s)} listens on ${s.address}:${s.port} only: the published port ${hosts} -> ${spec.port} cannot reach it (listen on 0.0.0.0 instead).`,
      });
    }
  }
  for (const e of exposed) {
    const spec = parsePortSpec(e);
    if (!spec || seen.has(e) || seen.has(`${spec.port}/${spec.proto}`)) continue;
    if (!listening.some((s) => s.proto === spec.proto && s.port === spec.port)) {
      findings.push({ kind: 'exposed-not-listening', port: e, message: `The image exposes ${e}, but nothing in the container listens on ${spec.port}.` });
    }
  }
  return findings;
}
