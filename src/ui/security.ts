// The rules every request to `porthole ui` passes before it reaches a page: the Host it was sent to (DNS
// rebinding), the Origin of anything that is not a plain read, and the token (as a cookie, or once in the URL).
// Pure functions, so each rule is tested alone.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PARAM = 't';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookie is named per port: browsers send cookies to every port of a host, so two runs must not collide. */
export function cookieName(port: number): string {
  return `porthole_ui_${port}`;
}

/** host:port forms a browser may send as Host for this server. */
export function allowedHosts(port: number, exposedHost?: string): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (exposedHost) hosts.add(exposedHost.includes(':') ? `[${exposedHost}]:${port}` : `${exposedHost}:${port}`);
  return hosts;
}

export function hostAllowed(host: string | undefined, allowed: Set<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** Origin must be exactly one of ours; a missing Origin on a write is refused too (browsers always send one). */
export function originAllowed(origin: string | undefined, allowed: Set<string>): boolean {
  if (origin === undefined || !origin.startsWith('http://')) return false;
  return allowed.has(origin.slice('http://'.length).toLowerCase());
}

/** Constant-time comparison of a presented token with the real one (length leaks nothing: tokens are fixed-size). */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const CSP = (styleSrc: string) =>
  `default-src 'self'; script-src 'self'; style-src ${styleSrc}; img-src 'self' data:; connect-src 'self'; ` +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers on every answer: what the page may load (only itself), no framing, no sniffing, no caching, no referrer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP("'self'"),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/**
 * The page's own policy: the same, plus a nonce for <style> elements. xterm.js 6 (the Terminal tab) still creates
 * <style> elements at run time for its colours and cell size, which `style-src 'self'` blocks; the page's script
 * gives those elements this nonce. Scripts stay 'self' only: no inline script, no nonce for scripts.
 */
export function pageHeaders(styleNonce: string): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Security-Policy': CSP(`'self' 'nonce-${styleNonce}'`) };
}

/** A fresh nonce per page answer (16 random bytes, base64). */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}
