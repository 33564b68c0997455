// `porthole net CONTAINER [--json]`: the container's network as its processes see it, read on the host from
// /proc/<main pid>/net/* (the files show the process's own network namespace) and the fd tables of its processes
// (which socket is whose), so it works on containers without a shell or any tool. Adds what the engine knows
// (networks, gateway, published and exposed ports) and names the mismatches: a published port nothing listens
// on, a server listening on 127.0.0.1 only behind a published port.
import { composeOptions } from '../cli/name-options.js';
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { defineCommand, type Parsed } from '../cli/args.js';
import type { Context } from '../context.js';
import type { ContainerDetails, EngineClient } from '../engine/types.js';
import { resolveContainer } from '../engine/resolve.js';
import { hostSide, portFindings, type ListeningSocket, type NetFinding, type PublishedPort } from '../host/net-findings.js';
import {
  inSubnet,
  parseFibTrieLocal,
  parseIfInet6,
  parseInetSockets,
  parseNetDevNames,
  parseRoutes,
  parseUnixSockets,
  type InetProto,
  type InetSocket,
  type Route,
} from '../host/netproc.js';
import { containerProcesses, type ContainerProcessList } from '../host/target-process.js';
import { ProcessesNotVisible } from '../errors.js';
import { escapeName } from '../render/escape.js';
import { renderJson } from '../render/json.js';
import { renderTable } from '../render/table.js';

export const spec = defineCommand({
  name: 'net',
  summary: "Show a container's network from the host: addresses, routes, DNS, listening sockets, port mismatches",
  usage: 'porthole net CONTAINER [--json]',
  description:
    "Reads the container's network from this host's /proc (its main process's network namespace, and the fd\n" +
    'tables of its processes for who owns each socket), so it needs no tool in the container. Adds the networks,\n' +
    'gateway and ports the engine knows, and names the mismatches: a published port nothing listens on, a server\n' +
    "listening on 127.0.0.1 only behind a published port. Needs porthole on the engine's host, as root.",
  options: { json: { type: 'boolean', description: 'Print the whole view as JSON' }, ...composeOptions },
  args: { min: 1, max: 1 },
  examples: ['porthole net web', 'porthole net web --json'],
});

type Options = Parsed<typeof spec.options>;

export interface NetInterface {
  name: string;
  addresses: string[];
  /** The engine's network this interface is attached to, matched by address. */
  network: { name: string; gateway: string; macAddress: string } | null;
}

export interface SocketOwner {
  pid: number | null;
  /** null when read through a sidecar (a remote engine): only the PID inside is known there. */
  hostPid: number | null;
  command: string;
}

export interface NetSocket {
  proto: InetProto | 'unix';
  state: string;
  local: string;
  remote: string | null;
  owner: SocketOwner | null;
}

export interface NetResult {
  container: string;
  containerId: string;
  /** The main process's host PID; null when read through a sidecar (a remote engine). */
  hostPid: number | null;
  /** Where the view was read: this host's /proc, or a toolbox sidecar in the container's namespaces. */
  via: 'host' | 'sidecar';
  interfaces: NetInterface[];
  routes: Route[];
  dns: { nameservers: string[]; search: string[]; options: string[] } | null;
  listening: NetSocket[];
  connections: NetSocket[];
  published: PublishedPort[];
  exposed: string[];
  findings: NetFinding[];
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * socket inode -> the first process (main first) holding it open, for the inodes asked about; stops reading fd
 * tables once every one is found.
 */
function socketOwners(processes: ContainerProcessList, wanted: Set<number>): Map<number, SocketOwner> {
  const owners = new Map<number, SocketOwner>();
  const described = new Map<number, SocketOwner | undefined>();
  for (const hostPid of processes.hostPids) {
    if (owners.size >= wanted.size) break;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${hostPid}/fd`);
    } catch {
      continue; // ended, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${hostPid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!wanted.has(inode) || owners.has(inode)) continue;
      if (!described.has(hostPid)) {
        const d = processes.describe(hostPid);
        described.set(hostPid, d && { pid: d.containerPid, hostPid, command: d.command });
      }
      const owner = described.get(hostPid);
      if (owner) owners.set(inode, owner);
    }
  }
  return owners;
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function interfaces(source: NetSource, routes: Route[], target: ContainerDetails): NetInterface[] {
  const names = parseNetDevNames(source.read('dev'));
  const byName = new Map<string, string[]>(names.map((n) => [n, []]));
  const connected = routes.filter((r) => r.gateway === null).sort((a, b) => b.prefixLength - a.prefixLength);
  for (const address of parseFibTrieLocal(source.read('fib_trie'))) {
    const route = address.startsWith('127.') ? { iface: 'lo', prefixLength: 8 } : connected.find((r) => inSubnet(address, r.destination, r.prefixLength));
    if (!route) continue;
    byName.get(route.iface)?.push(`${address}/${route.prefixLength}`) ?? byName.set(route.iface, [`${address}/${route.prefixLength}`]);
  }
  for (const a of parseIfInet6(source.read('if_inet6'))) byName.get(a.iface)?.push(`${a.address}/${a.prefixLength}`);
  const raw = target.raw as { NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; Gateway?: string; MacAddress?: string; GlobalIPv6Address?: string }> } };
  const networks = Object.entries(raw?.NetworkSettings?.Networks ?? {});
  return [...byName].map(([name, addresses]) => {
    const net = networks.find(([, n]) => addresses.some((a) => a.split('/')[0] === n.IPAddress || (n.GlobalIPv6Address && a.split('/')[0] === n.GlobalIPv6Address)));
    return { name, addresses, network: net ? { name: net[0], gateway: net[1].Gateway ?? '', macAddress: net[1].MacAddress ?? '' } : null };
  });
}

function parseResolvConf(text: string): NetResult['dns'] {
  const dns = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [key, ...values] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && values[0]) dns.nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') dns.search.push(...values);
    else if (key === 'options') dns.options.push(...values);
  }
  return dns;
}

/**
 * The container's resolv.conf: the engine's own copy on this host (ResolvConfPath, the file bind-mounted over
 * /etc/resolv.conf), opened without following a link; else through the engine's archive API. Never through
 * /proc/PID/root: a link inside the container would lead to the host's files.
 */
async function readResolvConf(engine: EngineClient, target: ContainerDetails, onThisHost: boolean): Promise<string | undefined> {
  const raw = target.raw as { ResolvConfPath?: string; Mounts?: { Destination?: string }[] };
  const own = raw?.ResolvConfPath;
  const replaced = (raw?.Mounts ?? []).some((m) => m.Destination === '/etc/resolv.conf');
  // A remote engine's path names a file of its own host, never one of this machine.
  if (onThisHost && own && own.startsWith('/') && !replaced) {
    let fd: number | undefined;
    try {
      fd = openSync(own, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      if (fstatSync(fd).isFile()) {
        const buffer = Buffer.alloc(64 * 1024);
        const length = readSync(fd, buffer, 0, buffer.length, 0);
        return buffer.subarray(0, length).toString('utf8');
      }
    } catch {
      // not on this host, or not ours to read: ask the engine
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  const { readContainerFile } = await import('../enter/choose-shell.js');
  return readContainerFile(engine, target.id, '/etc/resolv.conf', 64 * 1024).catch(() => undefined);
}

/** Where the /proc/net files and the socket owners come from: this host's /proc, or a toolbox sidecar. */
interface NetSource {
  via: 'host' | 'sidecar';
  read(file: string): string;
  owners(wanted: Set<number>): Map<number, SocketOwner>;
}

function hostSource(processes: ContainerProcessList, pid: number): NetSource {
  return { via: 'host', read: (file) => readProc(`/proc/${pid}/net/${file}`), owners: (wanted) => socketOwners(processes, wanted) };
}

async function sidecarSource(ctx: Context, engine: EngineClient, target: ContainerDetails): Promise<NetSource> {
  const { readNetThroughSidecar } = await import('../enter/net-sidecar.js');
  const view = await readNetThroughSidecar(ctx, engine, target);
  return {
    via: 'sidecar',
    read: (file) => view.files[file] ?? '',
    owners: (wanted) => {
      const owners = new Map<number, SocketOwner>();
      for (const inode of wanted) {
        const pid = view.socketPids.get(inode);
        if (pid !== undefined) owners.set(inode, { pid, hostPid: null, command: view.commands.get(pid) ?? '' });
      }
      return owners;
    },
  };
}

export async function run(ctx: Context, parsed: Options): Promise<NetResult> {
  const engine = await ctx.engine();
  const target = await resolveContainer(engine, parsed.args[0]!);
  let source: NetSource;
  let resolvConf: Promise<string | undefined>;
  try {
    source = hostSource(containerProcesses(target, 'whose network porthole could read'), target.state.pid);
    resolvConf = readResolvConf(engine, target, true);
  } catch (err) {
    if (!(err instanceof ProcessesNotVisible)) throw err;
    // Not on the engine's host (or not in its PID namespace): the same files, read by a sidecar in the container's namespaces.
    ctx.notice(`porthole: the processes of ${escapeName(target.name)} are not visible here (a remote engine): reading its network through a toolbox sidecar that shares its namespaces.`);
    resolvConf = readResolvConf(engine, target, false);
    resolvConf.catch(() => undefined);
    source = await sidecarSource(ctx, engine, target);
  }
  const pid = target.state.pid;
  const routes = parseRoutes(source.read('route'));
  const inet: InetSocket[] = (['tcp', 'tcp6', 'udp', 'udp6'] as const).flatMap((proto) => parseInetSockets(source.read(proto), proto));
  const listeningUnix = parseUnixSockets(source.read('unix')).filter((u) => u.listening);
  // Sockets in TIME_WAIT belong to no process (inode 0).
  const wanted = new Set([...inet.map((s) => s.inode), ...listeningUnix.map((u) => u.inode)].filter((inode) => inode > 0));
  const owners = source.owners(wanted);
  const toSocket = (s: InetSocket): NetSocket => ({
    proto: s.proto,
    state: s.state,
    local: endpoint(s.localAddress, s.localPort),
    remote: s.state === 'LISTEN' || s.state === 'UNCONN' ? null : endpoint(s.remoteAddress, s.remotePort),
    owner: owners.get(s.inode) ?? null,
  });
  const isListening = (s: InetSocket) => s.state === 'LISTEN' || (s.state === 'UNCONN' && s.localPort > 0);
  const unix = listeningUnix.filter((u) => owners.has(u.inode));
  const listening = [
    ...inet.filter(isListening).map(toSocket),
    ...unix.map((u): NetSocket => ({ proto: 'unix', state: 'LISTEN', local: u.path || '(unnamed)', remote: null, owner: owners.get(u.inode) ?? null })),
  ];
  const connections = inet.filter((s) => !isListening(s) && s.state !== 'UNCONN').map(toSocket);
  const listeners: ListeningSocket[] = inet.filter(isListening).map((s) => ({
    proto: s.proto.startsWith('tcp') ? 'tcp' : 'udp',
    address: s.localAddress,
    port: s.localPort,
    process: owners.get(s.inode) ?? null,
  }));
  // The engine's port map comes in no fixed order: by container port, then host address.
  const portNumber = (spec: string) => parseInt(spec, 10) || 0;
  const published = target.ports.filter((p) => p.hostPort).sort((a, b) => portNumber(a.containerPort) - portNumber(b.containerPort) || (a.hostIp.includes(':') ? 1 : 0) - (b.hostIp.includes(':') ? 1 : 0));
  const exposed = [...target.config.exposedPorts].sort((a, b) => portNumber(a) - portNumber(b));
  const text = await resolvConf;
  return {
    container: target.name,
    containerId: target.id,
    hostPid: source.via === 'host' ? pid : null,
    via: source.via,
    interfaces: interfaces(source, routes, target),
    routes,
    dns: text === undefined ? null : parseResolvConf(text),
    listening,
    connections,
    published,
    exposed,
    findings: portFindings(published, exposed, listeners),
  };
}

function owner(s: NetSocket): string {
  return s.owner ? `${s.owner.pid ?? '?'}` : '-';
}

export function render(r: NetResult, parsed: Options): string {
  if (parsed.options.json) return renderJson(r);
  const head = r.hostPid === null ? 'read through a toolbox sidecar' : `main process host PID ${r.hostPid}`;
  const out: string[] = [`${escapeName(r.container)} (${r.containerId.slice(0, 12)}), ${head}`, ''];
  out.push(
    renderTable(r.interfaces, [
      { header: 'INTERFACE', value: (i) => i.name },
      { header: 'ADDRESSES', value: (i) => i.addresses.join(' ') || '-' },
      { header: 'NETWORK', value: (i) => (i.network ? `${i.network.name}${i.network.gateway ? ` (gateway ${i.network.gateway})` : ''}` : '-') },
    ]).trimEnd(),
  );
  out.push('', 'Routes:');
  for (const route of r.routes) {
    const dest = route.prefixLength === 0 && route.destination === '0.0.0.0' ? 'default' : `${route.destination}/${route.prefixLength}`;
    out.push(`  ${dest}${route.gateway ? ` via ${route.gateway}` : ''} dev ${escapeName(route.iface)}`);
  }
  if (!r.routes.length) out.push('  (none)');
  if (r.dns) {
    out.push('', `DNS: ${r.dns.nameservers.map(escapeName).join(', ') || '(no nameserver)'}${r.dns.search.length ? `; search ${r.dns.search.map(escapeName).join(' ')}` : ''}`);
  }
  out.push('', 'Listening:');
  if (r.listening.length) {
    out.push(
      renderTable(r.listening, [
        { header: 'PROTO', value: (s) => s.proto, trusted: true },
        { header: 'LOCAL', value: (s) => s.local },
        { header: 'PID', value: owner, align: 'right', trusted: true },
        { header: 'COMMAND', value: (s) => s.owner?.command ?? '' },
      ])
        .trimEnd()
        .replace(/^/gm, '  '),
    );
  } else out.push('  (nothing)');
  if (r.connections.length) {
    out.push('', 'Connections:');
    out.push(
      renderTable(r.connections, [
        // Addresses and ports porthole decoded from the kernel's hex: nothing there to escape (thousands of rows).
        { header: 'PROTO', value: (s) => s.proto, trusted: true },
        { header: 'LOCAL', value: (s) => s.local, trusted: true },
        { header: 'PEER', value: (s) => s.remote ?? '', trusted: true },
        { header: 'STATE', value: (s) => s.state },
        { header: 'PID', value: owner, align: 'right', trusted: true },
        { header: 'COMMAND', value: (s) => s.owner?.command ?? '' },
      ])
        .trimEnd()
        .replace(/^/gm, '  '),
    );
  }
  out.push('', `Published: ${r.published.map((p) => `${hostSide(p)} -> ${p.containerPort}`).join(', ') || '(none)'}`);
  out.push(`Exposed:   ${r.exposed.join(', ') || '(none)'}`);
  if (r.findings.length) {
    out.push('', 'Problems:');
    for (const f of r.findings) out.push(`  - ${escapeName(f.message)}`);
  }
  return out.join('\n') + '\n';
}
