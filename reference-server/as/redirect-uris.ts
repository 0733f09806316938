// Redirect URI rules: which URIs a client may register, how a requested URI is matched against
// the registered ones, and how the authorization response is appended to it.

import type { ServerContext } from '../context.ts';

/** Loopback IP literals as WHATWG URL spells the hostname (RFC 8252 §7.3). */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
/** Hosts allowed with plain http: the loopback IPs and `localhost` (MCP §Communication Security). */
const LOOPBACK_HOSTS = new Set([...LOOPBACK_IPS, 'localhost']);

/**
 * Why `uri` cannot be registered, or undefined when it can.
 * - absolute, no fragment: OAuth 2.1 §2.3.1 / RFC 6749 §3.1.2 ("MUST be an absolute URI", "MUST NOT include a fragment");
 * - https, or http on a loopback host: MCP 2025-06-18+ §Communication Security ("All redirect URIs
 *   MUST be either localhost or use HTTPS"), RFC 9700 §2.6, RFC 8252 §7.3;
 * - so `javascript:`, `data:`, `file:` and custom schemes are refused too.
 */
export function redirectUriProblem(ctx: ServerContext, uri: string): string | undefined {
  if (uri.includes('#')) return 'a redirect URI must not contain a fragment';
  if (!URL.canParse(uri)) return 'a redirect URI must be an absolute URI';
  const url = new URL(uri);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    // Fault: plain http accepted on any host (MCP §Communication Security broken).
    if (LOOPBACK_HOSTS.has(url.hostname) || ctx.fault('as-dcr-http-redirect-accepted')) return undefined;
    return 'an http redirect URI must use a loopback host (127.0.0.1, [::1] or localhost)';
  }
  // Fault: any other scheme (javascript:, data:, file:, custom) accepted.
  if (ctx.fault('as-dcr-dangerous-scheme-accepted')) return undefined;
  return `the ${url.protocol} scheme is not allowed for redirect URIs (https, or http on loopback)`;
}

/**
 * Does the requested redirect URI match one of the registered ones?
 * OAuth 2.1 §4.1.1 / §2.3.1: simple string comparison (RFC 3986 §6.2.1), with one exception:
 * loopback IP redirect URIs match with any port (RFC 8252 §7.3, OAuth 2.1 §8.4.2), while scheme,
 * host, path and query stay exact. `localhost` gets no port exception (RFC 8252 §8.3).
 */
export function redirectUriMatches(
  ctx: ServerContext,
  requested: string,
  registered: readonly string[],
): boolean {
  for (const candidate of registered) {
    if (requested === candidate) return true;
    // Fault: prefix matching, so `https://app/cb/evil` or `https://app/cb.evil.com` pass.
    if (ctx.fault('as-redirect-uri-prefix-match') && requested.startsWith(candidate)) return true;
    if (loopbackIpMatch(requested, candidate) && !ctx.fault('as-loopback-port-strict')) return true;
  }
  return false;
}

function loopbackIpMatch(requested: string, registered: string): boolean {
  if (requested.includes('#') || !URL.canParse(requested) || !URL.canParse(registered)) return false;
  const a = new URL(requested);
  const b = new URL(registered);
  if (a.protocol !== 'http:' || b.protocol !== 'http:') return false;
  if (!LOOPBACK_IPS.has(a.hostname) || a.hostname !== b.hostname) return false;
  if (a.username || a.password || b.username || b.password) return false;
  // Everything but the port compared as written (the raw strings minus the authority).
  return withoutPort(requested, a) === withoutPort(registered, b);
}

function withoutPort(raw: string, url: URL): string {
  const authorityEnd = raw.indexOf('/', url.protocol.length + 2);
  const rest = authorityEnd === -1 ? '' : raw.slice(authorityEnd);
  return `${url.protocol}//${url.hostname}${rest}`;
}

/**
 * The redirect URI with the response parameters added to its query. An existing query component
 * of the registered URI is kept (OAuth 2.1 §2.3.1: "MUST retain that query component").
 */
export function appendToRedirectUri(
  ctx: ServerContext,
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  // Fault: the registered query component is dropped.
  if (ctx.fault('as-redirect-query-dropped')) url.search = '';
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(name, value);
  }
  return url.href;
}
