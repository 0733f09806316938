// Discovery in the MCP order: protected-resource metadata (RFC 9728), then authorization-server
// metadata (RFC 8414 / OpenID Connect Discovery), per spec revision (requirements.md §4.2-4.4).
//
// Every URL tried is recorded as an `Attempt`, so a check can report exactly what the target
// served where. Fallback policy (requirements.md §3 A6): move to the next URL on any non-2xx
// answer, a body that is not a JSON object, or a transport error; stop at the first 200 whose
// body is a JSON object. Validating that document (`resource`, `issuer`, ...) is the checks' job:
// a 200 that fails validation is a failure of the target, never a reason to try further.

import { type HttpClient, type HttpResponse, HttpTransportError } from './http.ts';
import type { Revision } from './revisions.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from './www-authenticate.ts';

export interface Attempt {
  url: string;
  status?: number;
  /** Why this URL was not used: transport error, or a 200 that is not a JSON object. */
  error?: string;
  exchangeId?: string;
}

export interface ProtectedResourceDiscovery {
  /** The MCP endpoint URL as given. */
  resource: string;
  /** The answer to the anonymous probe, when it challenged (401, or any status with WWW-Authenticate). */
  challenge?: { status: number; wwwAuthenticate: string[]; resourceMetadata?: string; exchangeId: string };
  /** Every PRM URL tried, in order. */
  attempts: Attempt[];
  source?: 'header' | 'path-inserted' | 'root';
  prmUrl?: string;
  /** The first 200 JSON object found. */
  prm?: Record<string, unknown>;
}

const PRM_SUFFIX = '/.well-known/oauth-protected-resource';

/**
 * The RFC 9728 §3.1 well-known URLs for a resource identifier: the path-inserted one (absent when
 * the resource has no path and no query) and the root one (MCP 2025-11-25 fallback step 2).
 * A terminating "/" of the path is removed first (RFC 9728 §3.1; requirements A2: the stripped
 * form is the one tried). The query, if any, stays after the path; a fragment is dropped.
 */
export function prmWellKnownUrls(resource: string): { pathInserted?: string; root: string } {
  const url = new URL(resource);
  const root = `${url.origin}${PRM_SUFFIX}`;
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  if (path === '' && url.search === '') return { root };
  return { pathInserted: `${url.origin}${PRM_SUFFIX}${path}${url.search}`, root };
}

/**
 * Finds the protected-resource metadata of an MCP endpoint in the order of the revision
 * (requirements §4.4): `resource_metadata` from the challenge of the anonymous `probe`; then, from
 * 2025-11-25 on, the path-inserted and the root well-known URLs. 2025-06-18 defines no fallback:
 * the header is mandatory there, so nothing else is tried.
 *
 * A transport error of the probe itself propagates (the endpoint cannot be judged at all).
 */
export async function discoverProtectedResource(
  http: HttpClient,
  mcpUrl: string,
  revision: Revision,
  probe: () => Promise<HttpResponse>,
): Promise<ProtectedResourceDiscovery> {
  const result: ProtectedResourceDiscovery = { resource: mcpUrl, attempts: [] };
  const answer = await probe();
  const wwwAuthenticate = answer.headers.getAll('www-authenticate');
  if (answer.status === 401 || wwwAuthenticate.length > 0) {
    const bearer = bearerChallenge(parseWwwAuthenticate(wwwAuthenticate));
    const resourceMetadata = bearer ? param(bearer, 'resource_metadata') : undefined;
    result.challenge = {
      status: answer.status,
      wwwAuthenticate,
      ...(resourceMetadata !== undefined ? { resourceMetadata } : {}),
      exchangeId: answer.exchange.id,
    };
  }

  const candidates: { source: NonNullable<ProtectedResourceDiscovery['source']>; url: string }[] = [];
  if (result.challenge?.resourceMetadata) {
    candidates.push({ source: 'header', url: result.challenge.resourceMetadata });
  }
  if (revision !== '2025-06-18') {
    const { pathInserted, root } = prmWellKnownUrls(mcpUrl);
    if (pathInserted) candidates.push({ source: 'path-inserted', url: pathInserted });
    candidates.push({ source: 'root', url: root });
  }

  for (const candidate of candidates) {
    const found = await fetchJsonObject(http, candidate.url, result.attempts, {
      label: `protected-resource metadata (${candidate.source})`,
      headers: { accept: 'application/json', 'mcp-protocol-version': revision },
    });
    if (found) {
      result.source = candidate.source;
      result.prmUrl = candidate.url;
      result.prm = found;
      break;
    }
  }
  return result;
}

export type AsMetadataVariant = 'oauth-insert' | 'oidc-insert' | 'oidc-append';

export interface AuthorizationServerDiscovery {
  issuer: string;
  attempts: Attempt[];
  variant?: AsMetadataVariant;
  metadataUrl?: string;
  metadata?: Record<string, unknown>;
  /**
   * Addition to the contract: whether `metadata.issuer` is identical to `issuer` (RFC 8414 §3.3,
   * OIDD §4.3; MCP 2026-07-28 says a client MUST NOT use metadata otherwise). Undefined when no
   * metadata was found. Discovery itself never falls back because of it (A6).
   */
  issuerMatches?: boolean;
}

/**
 * The metadata URLs of an issuer in the MCP priority order (requirements §4.3, §4.4):
 * - 2025-06-18: RFC 8414 only (`/.well-known/oauth-authorization-server` inserted).
 * - 2025-11-25 and 2026-07-28: issuer with a path: OAuth insert, OIDC insert, OIDC append;
 *   issuer without a path: OAuth, then OIDC (insert and append are the same URL).
 * A terminating "/" of the issuer's path is removed before building (RFC 8414 §3.1, OIDD §4.1).
 */
export function asWellKnownUrls(
  issuer: string,
  revision: Revision,
): { variant: AsMetadataVariant; url: string }[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const oauthInsert = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  if (revision === '2025-06-18') return [{ variant: 'oauth-insert', url: oauthInsert }];
  const urls: { variant: AsMetadataVariant; url: string }[] = [
    { variant: 'oauth-insert', url: oauthInsert },
    { variant: 'oidc-insert', url: `${url.origin}/.well-known/openid-configuration${path}` },
  ];
  if (path !== '')
    urls.push({ variant: 'oidc-append', url: `${url.origin}${path}/.well-known/openid-configuration` });
  return urls;
}

/** Fetches authorization-server metadata in the MCP order; stops at the first 200 JSON object (A6). */
export async function discoverAuthorizationServer(
  http: HttpClient,
  issuer: string,
  revision: Revision,
): Promise<AuthorizationServerDiscovery> {
  const result: AuthorizationServerDiscovery = { issuer, attempts: [] };
  let candidates: { variant: AsMetadataVariant; url: string }[];
  try {
    candidates = asWellKnownUrls(issuer, revision);
  } catch {
    // The issuer came from the target's PRM: garbage there is data to report, not a crash.
    result.attempts.push({ url: issuer, error: 'the issuer is not an absolute URL' });
    return result;
  }
  for (const candidate of candidates) {
    const found = await fetchJsonObject(http, candidate.url, result.attempts, {
      label: `authorization-server metadata (${candidate.variant})`,
      headers: { accept: 'application/json' },
    });
    if (found) {
      result.variant = candidate.variant;
      result.metadataUrl = candidate.url;
      result.metadata = found;
      result.issuerMatches = found.issuer === issuer;
      break;
    }
  }
  return result;
}

/** GETs a URL; records the attempt; returns the body when the answer is 200 with a JSON object. */
async function fetchJsonObject(
  http: HttpClient,
  url: string,
  attempts: Attempt[],
  options: { label: string; headers: Record<string, string> },
): Promise<Record<string, unknown> | undefined> {
  const attempt: Attempt = { url };
  attempts.push(attempt);
  let response: HttpResponse;
  try {
    response = await http.request(url, { method: 'GET', headers: options.headers, label: options.label });
  } catch (err) {
    if (!(err instanceof HttpTransportError)) throw err;
    attempt.error = `${err.kind}: ${err.message}`;
    if (err.exchangeId) attempt.exchangeId = err.exchangeId;
    return undefined;
  }
  attempt.status = response.status;
  attempt.exchangeId = response.exchange.id;
  if (response.status !== 200) return undefined;
  const body = response.json();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    attempt.error = 'the 200 answer is not a JSON object';
    return undefined;
  }
  return body as Record<string, unknown>;
}

/**
 * MCP 2025-11-25 §Scope Selection Strategy: the `scope` of the 401 challenge when it has one, else
 * every `scopes_supported` of the protected-resource metadata, else no scope at all.
 */
export function selectScope(prm: ProtectedResourceDiscovery): string | undefined {
  return selectScopeWithSource(prm)?.scope;
}

/** selectScope, saying where the scope came from. */
export function selectScopeWithSource(
  prm: ProtectedResourceDiscovery,
): { scope: string; source: string } | undefined {
  if (prm.challenge) {
    const challenge = bearerChallenge(parseWwwAuthenticate(prm.challenge.wwwAuthenticate));
    const scope = challenge && param(challenge, 'scope');
    if (scope) return { scope, source: "the challenge's scope" };
  }
  const supported = prm.prm?.scopes_supported;
  if (Array.isArray(supported) && supported.length > 0 && supported.every((s) => typeof s === 'string')) {
    return { scope: supported.join(' '), source: "the protected-resource metadata's scopes_supported" };
  }
  return undefined;
}
