// `porthole ui` flags checked before anything listens: a port in range, a loopback address unless told otherwise.
import { isIP } from 'node:net';
import { InvalidArgument } from '../errors.js';
import { escapeName } from '../render/escape.js';

export interface UiOptions {
  port: number;
  /** Addresses to bind; the first is the one printed in the URL. */
  hosts: string[];
  readOnly: boolean;
  /** -A: the pods of every namespace, not only the one in force. */
  allNamespaces?: boolean;
  /** Set when a non-loopback address was allowed: that host:port is also a valid Host header. */
  exposedHost?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function parseUiOptions(o: { port?: string; host?: string; 'i-know-this-exposes-root'?: boolean; 'read-only'?: boolean; 'all-namespaces'?: boolean }): UiOptions {
  return { ...hostAndPort(o), allNamespaces: !!o['all-namespaces'] };
}

function hostAndPort(o: { port?: string; host?: string; 'i-know-this-exposes-root'?: boolean; 'read-only'?: boolean }): UiOptions {
  let port = 0;
  if (o.port !== undefined) {
    if (!/^\d{1,5}$/.test(o.port) || Number(o.port) < 1 || Number(o.port) > 65535) {
      throw new InvalidArgument(`--port "${escapeName(o.port)}" is not a port number (1-65535).`, 'Leave it out to get a free one.');
    }
    port = Number(o.port);
  }
  const readOnly = !!o['read-only'];
  if (o.host === undefined || o.host === 'localhost') return { port, hosts: ['127.0.0.1', '::1'], readOnly };
  const host = o.host.replace(/^\[(.*)\]$/, '$1');
  if (!isIP(host)) throw new InvalidArgument(`--host "${escapeName(o.host)}" is not an IP address.`, 'Give an address such as 127.0.0.1.');
  if (LOOPBACK.has(host) || host.startsWith('127.')) return { port, hosts: [host], readOnly };
  if (!o['i-know-this-exposes-root']) {
    throw new InvalidArgument(
      `--host ${host} would let other machines reach containers as root through this page.`,
      'Keep the default (127.0.0.1), or add --i-know-this-exposes-root if that is what you want (the token is still required).',
    );
  }
  return { port, hosts: [host], readOnly, exposedHost: host };
}
