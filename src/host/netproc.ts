// Parsers for the network files of a process's /proc (/proc/PID/net/*), which show the process's own network
// namespace: sockets (tcp, tcp6, udp, udp6, unix), IPv4 routes, local addresses (fib_trie, if_inet6), interfaces
// (dev). Pure functions over the files' text; the kernel's formats are in net/ipv4/tcp_ipv4.c, fib_trie.c, etc.

export type InetProto = 'tcp' | 'tcp6' | 'udp' | 'udp6';

export interface InetSocket {
  proto: InetProto;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  inode: number;
  uid: number;
}

export interface UnixSocket {
  path: string;
  type: 'stream' | 'dgram' | 'seqpacket' | 'unknown';
  listening: boolean;
  inode: number;
}

export interface Route {
  iface: string;
  destination: string;
  prefixLength: number;
  gateway: string | null;
  metric: number;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING', '0C': 'NEW_SYN_RECV',
};

/** An IPv4 address as /proc/net prints it: the 32-bit word in host byte order (little-endian here). */
export function hexToIpv4(hex: string): string {
  const n = parseInt(hex, 16) >>> 0;
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/** An IPv6 address as /proc/net/tcp6 prints it: four 32-bit words, each in host byte order. */
export function hexToIpv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  return formatIpv6(bytes);
}

/** if_inet6 prints addresses in network order, 32 hex digits. */
export function plainHexToIpv6(hex: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return formatIpv6(bytes);
}

function formatIpv6(bytes: number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of zero groups (two or more) becomes ::, as RFC 5952 says.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** /proc/PID/net/{tcp,tcp6,udp,udp6}. UDP sockets carry no LISTEN: a bound unconnected one is state 07 (CLOSE). */
export function parseInetSockets(text: string, proto: InetProto): InetSocket[] {
  const v6 = proto.endsWith('6');
  const out: InetSocket[] = [];
  // Thousands of connections share a few addresses: decode each once.
  const decoded = new Map<string, string>();
  const decode = (hex: string) => {
    let address = decoded.get(hex);
    if (address === undefined) decoded.set(hex, (address = v6 ? hexToIpv6(hex) : hexToIpv4(hex)));
    return address;
  };
  // One pass over the text, only the fields used (sl, addresses, state, uid, inode): a container with thousands
  // of connections makes this file thousands of lines long, and splitting each line made 17 strings of it.
  const row = /^\s*\d+: ([0-9A-Fa-f]+):([0-9A-Fa-f]+) ([0-9A-Fa-f]+):([0-9A-Fa-f]+) ([0-9A-Fa-f]+) \S+ \S+ \S+\s+(\d+)\s+\d+\s+(\d+)/gm;
  const tcp = proto.startsWith('tcp');
  for (const m of text.matchAll(row)) {
    const state = m[5]!;
    out.push({
      proto,
      localAddress: decode(m[1]!),
      localPort: parseInt(m[2]!, 16),
      remoteAddress: decode(m[3]!),
      remotePort: parseInt(m[4]!, 16),
      state: tcp ? (TCP_STATES[state] ?? state) : state === '07' ? 'UNCONN' : state === '01' ? 'ESTABLISHED' : state,
      uid: Number(m[6]),
      inode: Number(m[7]),
    });
  }
  return out;
}

/** /proc/PID/net/unix: a listening socket has __SO_ACCEPTCON (0x10000) in Flags. */
export function parseUnixSockets(text: string): UnixSocket[] {
  const types: Record<string, UnixSocket['type']> = { '0001': 'stream', '0002': 'dgram', '0005': 'seqpacket' };
  const out: UnixSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    out.push({
      path: f.slice(7).join(' '),
      type: types[f[4]!] ?? 'unknown',
      listening: (parseInt(f[3]!, 16) & 0x10000) !== 0,
      inode: Number(f[6]),
    });
  }
  return out;
}

function prefixLength(maskHex: string): number {
  let n = parseInt(maskHex, 16) >>> 0;
  let bits = 0;
  while (n) {
    bits += n & 1;
    n >>>= 1;
  }
  return bits;
}

/** /proc/PID/net/route: the IPv4 routing table (main table), gateway null for directly connected networks. */
export function parseRoutes(text: string): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = parseInt(f[3]!, 16);
    if (!(flags & 1)) continue; // RTF_UP
    out.push({
      iface: f[0]!,
      destination: hexToIpv4(f[1]!),
      prefixLength: prefixLength(f[7]!),
      gateway: flags & 2 ? hexToIpv4(f[2]!) : null,
      metric: Number(f[6]),
    });
  }
  return out;
}

/** The local IPv4 addresses from /proc/PID/net/fib_trie (the `/32 host LOCAL` leaves), each once. */
export function parseFibTrieLocal(text: string): string[] {
  const found = new Set<string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (leaf) last = leaf[1];
    else if (last && /\/32 host LOCAL/.test(line)) found.add(last);
  }
  return [...found];
}

/** /proc/PID/net/if_inet6: address, ifindex, prefix length, scope, flags, interface name. */
export function parseIfInet6(text: string): { iface: string; address: string; prefixLength: number }[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && /^[0-9a-f]{32}$/.test(f[0]!))
    .map((f) => ({ iface: f[5]!, address: plainHexToIpv6(f[0]!), prefixLength: parseInt(f[2]!, 16) }));
}

/** Interface names from /proc/PID/net/dev, in the kernel's order. */
export function parseNetDevNames(text: string): string[] {
  return text
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/** Whether an IPv4 address lies in destination/prefix. */
export function inSubnet(address: string, destination: string, prefix: number): boolean {
  if (prefix === 0) return true;
  const mask = prefix === 32 ? 0xffffffff : (~((1 << (32 - prefix)) - 1)) >>> 0;
  return ((ipv4ToNumber(address) & mask) >>> 0) === ((ipv4ToNumber(destination) & mask) >>> 0);
}

/** Whether a listening address takes connections only from inside the namespace (loopback). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Whether a listening address takes connections on every address (0.0.0.0, ::). */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
