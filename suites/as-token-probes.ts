// What the token-endpoint suites share (as-token.ts, as-refresh.ts, as-revocation.ts,
// as-security.ts): the AS and the harness's client, an authorization code of the check's own that
// is not redeemed yet, raw token requests (negative probes change one parameter of an otherwise
// valid request), and readers for OAuth error answers and Cache-Control.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generateRandomState } from 'oauth4webapi';
import type { CheckContext } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import {
  type AuthorizationServer,
  authorizationUrl,
  newPkce,
  type Pkce,
  type RegisteredClient,
  registerClient,
  tokenRequest,
  validateCallback,
} from '../runner/oauth.ts';
import { selectScope } from '../runner/discovery.ts';

export type Form = [string, string][];

/** A resource no AS can have granted (RFC 8707 §2.2 negative probes). `.invalid` never resolves (RFC 2606). */
export const FOREIGN_RESOURCE = 'https://other.invalid/mcp';

/** The discovered AS with a token endpoint; undefined after a notApplicable when there is none. */
export async function tokenAs(t: CheckContext): Promise<AuthorizationServer | undefined> {
  const discovery = await t.fixture('as');
  if (!discovery.metadata) {
    t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
    return undefined;
  }
  if (typeof discovery.metadata.token_endpoint !== 'string') {
    t.notApplicable('the metadata names no token_endpoint (see AS-META-04)');
    return undefined;
  }
  return { issuer: discovery.issuer, metadata: discovery.metadata };
}

/** An authorization code obtained by the check itself, not redeemed yet. */
export interface FreshCode {
  client: RegisteredClient;
  code: string;
  pkce: Pkce;
  redirectUri: string;
  /** The `resource` of the authorization request (the MCP endpoint; MCP: clients MUST send it). */
  resource: string;
  scope?: string;
}

/**
 * Runs the authorization step only (PKCE S256, state, resource, the scope the fixtures would use)
 * through the run's login driver, validates the callback (state, RFC 9207 iss) and returns the
 * code unredeemed, for checks that redeem it on their own terms (bindings, replay, races).
 */
export async function freshCode(
  t: CheckContext,
  as: AuthorizationServer,
  opts: { client?: RegisteredClient; scope?: string } = {},
): Promise<FreshCode> {
  const client = opts.client ?? (await t.fixture('client'));
  const redirectUri = client.redirectUris[0]!;
  const scope = opts.scope ?? (await defaultScope(t));
  const pkce = await newPkce();
  const state = generateRandomState();
  const url = authorizationUrl(as, client, {
    redirectUri,
    resource: t.target,
    state,
    pkce,
    ...(scope !== undefined ? { scope } : {}),
  });
  const callback = await t.authorize(url);
  const code = validateCallback(as, client, callback, state);
  return { client, code, pkce, redirectUri, resource: t.target, ...(scope !== undefined ? { scope } : {}) };
}

/** MCP §Scope Selection Strategy, as the fixtures use it (runner/discovery.ts selectScope). */
export async function defaultScope(t: CheckContext): Promise<string | undefined> {
  return selectScope(await t.fixture('prm'));
}

/** The valid authorization_code request for a code (OAuth 2.1 §4.1.3, RFC 8707 §2.2). */
export function codeForm(c: FreshCode): Form {
  return [
    ['grant_type', 'authorization_code'],
    ['code', c.code],
    ['code_verifier', c.pkce.verifier],
    ['redirect_uri', c.redirectUri],
    ['resource', c.resource],
  ];
}

/** The valid refresh_token request (OAuth 2.1 §4.3.1), with `resource` as MCP asks. */
export function refreshForm(refreshToken: string, resource: string): Form {
  return [
    ['grant_type', 'refresh_token'],
    ['refresh_token', refreshToken],
    ['resource', resource],
  ];
}

/**
 * Does the AS say it has no refresh grant? Its metadata lists `grant_types_supported` without
 * `refresh_token` (issuing refresh tokens is optional, OAuth 2.1 §1.3.2). Such an AS may refuse a
 * refresh request for its grant type ("unsupported_grant_type: The authorization grant type is not
 * supported by the authorization server", OAuth 2.1 §3.2.4) before it looks at anything else.
 * An AS that omits the member is not taken at its word either way.
 */
export function saysNoRefreshGrant(as: AuthorizationServer): boolean {
  const grants = as.metadata.grant_types_supported;
  return Array.isArray(grants) && !grants.includes('refresh_token');
}

/** Replaces (or with `undefined` removes) one parameter of a form; other parameters keep their order. */
export function withParam(form: Form, name: string, value: string | undefined): Form {
  const out: Form = [];
  let done = false;
  for (const [n, v] of form) {
    if (n !== name) out.push([n, v]);
    else if (!done && value !== undefined) {
      out.push([n, value]);
      done = true;
    } else done = true;
  }
  if (!done && value !== undefined) out.push([name, value]);
  return out;
}

/** POSTs a token request with the client's own authentication (runner/oauth.ts tokenRequest). */
export function postToken(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  form: Form,
  label: string,
  auth: 'client' | 'none' = 'client',
): Promise<HttpResponse> {
  return tokenRequest(t.http, as, client, form, { auth, label });
}

/** What an OAuth answer says: status, `error`, and whether it issued an access token. */
export interface OAuthAnswer {
  status: number;
  error?: string;
  accessToken?: string;
  refreshToken?: string;
  body?: Record<string, unknown>;
  exchange: string;
}

export function answerOf(res: HttpResponse): OAuthAnswer {
  const parsed = res.json();
  const body =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  const str = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : undefined);
  const error = str('error');
  const accessToken = str('access_token');
  const refreshToken = str('refresh_token');
  return {
    status: res.status,
    ...(error !== undefined ? { error } : {}),
    ...(accessToken !== undefined ? { accessToken } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(body ? { body } : {}),
    exchange: res.exchange.id,
  };
}

/** "HTTP 400 error=invalid_grant", "HTTP 200 with an access token". */
export function describeAnswer(a: OAuthAnswer): string {
  if (a.accessToken !== undefined) return `HTTP ${a.status} with an access token`;
  return `HTTP ${a.status}${a.error !== undefined ? ` error=${a.error}` : ' (no OAuth error code)'}`;
}

/** True when the answer is the OAuth error `expected` with status 400 (OAuth 2.1 §3.2.4). */
export function isError(a: OAuthAnswer, expected: string): boolean {
  return a.status === 400 && a.error === expected && a.accessToken === undefined;
}

/** Cache-Control carries the `no-store` directive (RFC 9111 §5.2.2.5; directive names are case-insensitive). */
export function hasNoStore(res: HttpResponse): boolean {
  const value = res.headers.get('cache-control') ?? '';
  return value
    .split(',')
    .map((d) => d.trim().split('=')[0]!.toLowerCase())
    .includes('no-store');
}

/** The token's JWT header and claims, or undefined when it is not a JWS compact serialization. */
export function decodeJwtToken(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return {
      header: decodeProtectedHeader(token) as Record<string, unknown>,
      claims: decodeJwt(token) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

/** Audiences of a JWT `aud` claim (string or array, RFC 7519 §4.1.3). */
export function audiences(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/**
 * A confidential client of the check's own (client_secret_basic, via DCR), or undefined after an
 * observation when the AS cannot register one. Used for client-authentication probes.
 */
export async function confidentialClient(
  t: CheckContext,
  as: AuthorizationServer,
): Promise<RegisteredClient | undefined> {
  const methods = as.metadata.token_endpoint_auth_methods_supported;
  if (typeof as.metadata.registration_endpoint !== 'string') return undefined;
  // RFC 8414 §2: omitted means client_secret_basic is the default.
  if (Array.isArray(methods) && !methods.includes('client_secret_basic')) return undefined;
  const template = await t.fixture('client');
  const client = await registerClient(t.http, as, {
    redirectUris: template.redirectUris,
    authMethod: 'client_secret_basic',
    clientName: 'mcp-auth-conformance (confidential client)',
    applicationType: 'native',
    grantTypes: ['authorization_code', 'refresh_token'],
  });
  return client.clientSecret ? client : undefined;
}
