// Client-side OAuth operations: registration (RFC 7591), PKCE (RFC 7636), the authorization
// request with `resource` (RFC 8707) and `state`, callback validation with `iss` (RFC 9207), code
// exchange, refresh and revocation (RFC 7009).
//
// The well-formed path uses oauth4webapi, so the harness's own client side is a known-good
// implementation; its `[customFetch]` goes through the HttpClient (`fetchVia`), so every exchange
// is recorded, bounded and origin-checked. `[allowInsecureRequests]` is set only for loopback
// http endpoints (the embedded reference server); anything else must be https (OAuth 2.1 §1.5).
// `tokenRequest` is the raw form POST for negative probes, where oauth4webapi would refuse to
// send what the check needs.
//
// Secrets: every function that sees one (client secret, code, verifier, tokens) returns it in a
// structured result and also passes it to the optional `onSecret(value, kind)` hook, so the
// redactor can register it before anything is written.

import * as oauth from 'oauth4webapi';
import type { HttpClient, HttpResponse } from './http.ts';
import type { LoginDriver } from './login/index.ts';

export interface AuthorizationServer {
  /** The issuer used to build the metadata URL (the one recorded before redirecting, RFC 9207). */
  issuer: string;
  metadata: Record<string, unknown>;
}

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  authMethod: ClientAuthMethod;
  redirectUris: string[];
  /** The registration response as received (RFC 7591 §3.2.1). */
  registration?: Record<string, unknown>;
  /**
   * A client_id the harness made up, never registered: for an AS without registration, the
   * "other client" of the binding checks (AS-TOKEN-06, AS-REFRESH-05) where the AS accepts any
   * client_id; one that refuses it as a client makes those checks conclude nothing.
   */
  invented?: boolean;
}

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
  scope?: string;
  tokenType: string;
  raw: Record<string, unknown>;
  /**
   * What a strict client (oauth4webapi) refused in the answer the harness still used: a token
   * response without token_type, an `iss` that does not match. The run carries on with what it
   * received; the check that owns the defect (AS-TOKEN-01, AS-ISS-*) judges it (issue #12 §5).
   */
  problems?: string[];
}

/** Optional hook on every function that sees secrets. */
export interface SecretHook {
  onSecret?: (value: string, kind: string) => void;
}

/** An OAuth step failed: the AS answered with an error, or its answer broke the protocol. */
export class OAuthStepError extends Error {
  constructor(
    readonly step: 'registration' | 'authorization' | 'token' | 'refresh' | 'revocation',
    message: string,
    /** The OAuth `error` code, when the AS sent one. */
    readonly error?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OAuthStepError';
  }
}

// --- fetch adapter ------------------------------------------------------------------------

export interface FetchVia {
  (
    url: string,
    options: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal },
  ): Promise<Response>;
  /** The last HttpResponse received through this adapter (with its recorded exchange). */
  last?: HttpResponse;
}

/** A fetch-shaped function (oauth4webapi's `[customFetch]`) that sends through the HttpClient. */
export function fetchVia(http: HttpClient, label?: string): FetchVia {
  const fn: FetchVia = async (url, options) => {
    const body =
      options.body === undefined || options.body === null
        ? undefined
        : options.body instanceof URLSearchParams
          ? options.body.toString()
          : typeof options.body === 'string'
            ? options.body
            : String(options.body);
    const response = await http.request(url, {
      method: options.method,
      headers: Object.entries(options.headers ?? {}),
      ...(body !== undefined ? { body } : {}),
      ...(label ? { label } : {}),
    });
    fn.last = response;
    return toWebResponse(response);
  };
  return fn;
}

/** A web Response carrying the recorded status, headers and body. */
function toWebResponse(response: HttpResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers.entries()) {
    try {
      headers.append(name, value);
    } catch {
      // A header value the Fetch spec refuses: the recorded exchange still has it.
    }
  }
  // Fetch forbids a body on 101/204/205/304; status outside 200-599 cannot be represented.
  const nullBody = [101, 204, 205, 304].includes(response.status);
  const status = response.status >= 200 && response.status <= 599 ? response.status : 502;
  return new Response(nullBody ? null : response.text, { status, headers });
}

/** oauth4webapi options for one endpoint: our fetch, and http allowed only on loopback. */
function requestOptions(endpoint: unknown, via: FetchVia) {
  return {
    [oauth.customFetch]: via as unknown as typeof fetch,
    ...(isLoopbackHttp(endpoint) ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

export function isLoopbackHttp(endpoint: unknown): boolean {
  if (typeof endpoint !== 'string') return false;
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  } catch {
    return false;
  }
}

function asO4w(as: AuthorizationServer): oauth.AuthorizationServer {
  // The issuer is the one we used, not whatever the document says (RFC 8414 §3.3 is checked by checks).
  return { ...(as.metadata as Partial<oauth.AuthorizationServer>), issuer: as.issuer };
}

function clientO4w(client: RegisteredClient): oauth.Client {
  return { client_id: client.clientId, token_endpoint_auth_method: client.authMethod };
}

function clientAuth(client: RegisteredClient): oauth.ClientAuth {
  switch (client.authMethod) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(requireSecret(client));
    case 'client_secret_post':
      return oauth.ClientSecretPost(requireSecret(client));
    default:
      return oauth.None();
  }
}

function requireSecret(client: RegisteredClient): string {
  if (!client.clientSecret)
    throw new Error(`client ${client.clientId} uses ${client.authMethod} but has no secret`);
  return client.clientSecret;
}

// --- registration -------------------------------------------------------------------------

export interface RegisterOptions extends SecretHook {
  redirectUris: string[];
  authMethod?: ClientAuthMethod;
  clientName?: string;
  /** Default: `native` when every redirect URI is loopback, else `web` (MCP 2026-07-28 §Client Registration, SEP-837). */
  applicationType?: 'native' | 'web';
  scope?: string;
  grantTypes?: string[];
}

/** Dynamic Client Registration (RFC 7591 §3.1): POST JSON metadata, expect 201 with client_id. */
export async function registerClient(
  http: HttpClient,
  as: AuthorizationServer,
  opts: RegisterOptions,
): Promise<RegisteredClient> {
  const endpoint = as.metadata.registration_endpoint;
  if (typeof endpoint !== 'string') {
    throw new OAuthStepError(
      'registration',
      'the authorization server advertises no registration_endpoint (RFC 8414 §2)',
    );
  }
  const authMethod = opts.authMethod ?? 'none';
  const applicationType =
    opts.applicationType ?? (opts.redirectUris.every(isLoopbackHttp) ? 'native' : 'web');
  const metadata: Record<string, unknown> = {
    redirect_uris: opts.redirectUris,
    token_endpoint_auth_method: authMethod,
    grant_types: opts.grantTypes ?? ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: opts.clientName ?? 'mcp-auth-conformance',
    application_type: applicationType,
    ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
  };
  const via = fetchVia(http, 'client registration (RFC 7591)');
  let registered: Record<string, unknown>;
  try {
    const response = await oauth.dynamicClientRegistrationRequest(
      asO4w(as),
      metadata as Partial<oauth.OmitSymbolProperties<oauth.Client>>,
      requestOptions(endpoint, via),
    );
    registered = (await oauth.processDynamicClientRegistrationResponse(response)) as Record<string, unknown>;
  } catch (err) {
    // A 2xx other than 201, or a response a strict client refuses, that still names a client_id:
    // used as received (AS-DCR-01 judges the status; issue #12 §5).
    const body = via.last && via.last.status >= 200 && via.last.status < 300 ? via.last.json() : undefined;
    if (
      err instanceof oauth.OperationProcessingError &&
      body !== null &&
      typeof body === 'object' &&
      typeof (body as Record<string, unknown>).client_id === 'string'
    )
      registered = body as Record<string, unknown>;
    else throw stepError('registration', err, via);
  }
  const clientId = String(registered.client_id);
  const secret = typeof registered.client_secret === 'string' ? registered.client_secret : undefined;
  if (secret) opts.onSecret?.(secret, 'client_secret');
  const granted = registered.token_endpoint_auth_method;
  return {
    clientId,
    ...(secret ? { clientSecret: secret } : {}),
    authMethod: isAuthMethod(granted) ? granted : authMethod,
    redirectUris: Array.isArray(registered.redirect_uris)
      ? registered.redirect_uris.map(String)
      : opts.redirectUris,
    registration: registered,
  };
}

function isAuthMethod(value: unknown): value is ClientAuthMethod {
  return value === 'none' || value === 'client_secret_basic' || value === 'client_secret_post';
}

// --- PKCE and the authorization request ---------------------------------------------------

/** A fresh S256 pair (RFC 7636 §4.1-4.2): 43-char verifier from 32 random bytes. */
export async function newPkce(): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier), method: 'S256' };
}

export interface AuthorizationUrlParams {
  redirectUri: string;
  scope?: string;
  resource?: string;
  state: string;
  pkce?: Pkce;
  /** Appended as is, after the rest: may repeat a parameter on purpose (negative probes). */
  extra?: [string, string][];
}

/** The authorization request URL (OAuth 2.1 §4.1.1, RFC 8707 §2.1 `resource`). */
export function authorizationUrl(
  as: AuthorizationServer,
  client: RegisteredClient,
  params: AuthorizationUrlParams,
): URL {
  const endpoint = as.metadata.authorization_endpoint;
  if (typeof endpoint !== 'string') {
    throw new OAuthStepError(
      'authorization',
      'the authorization server advertises no authorization_endpoint (RFC 8414 §2)',
    );
  }
  const url = new URL(endpoint);
  const q = url.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', client.clientId);
  q.set('redirect_uri', params.redirectUri);
  if (params.scope !== undefined) q.set('scope', params.scope);
  q.set('state', params.state);
  if (params.pkce) {
    q.set('code_challenge', params.pkce.challenge);
    q.set('code_challenge_method', params.pkce.method);
  }
  if (params.resource !== undefined) q.set('resource', params.resource);
  for (const [name, value] of params.extra ?? []) q.append(name, value);
  return url;
}

export interface FlowOptions extends SecretHook {
  resource: string;
  scope?: string;
  redirectUri: string;
  loginHint?: string;
  /** More authorization request parameters (e.g. prompt=consent with offline_access, OIDC Core §11). */
  extraParams?: [string, string][];
  /** Bound on the login step (default 60 s). */
  loginTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * The whole well-formed flow: PKCE S256, random state, `resource` on the authorization and the
 * token request (RFC 8707 §2.1-2.2, MCP: MUST send it on both), the callback validated by
 * oauth4webapi's validateAuthResponse (state; `iss` per RFC 9207 §2.4: required when the AS
 * advertises `authorization_response_iss_parameter_supported`, compared by simple string
 * comparison), then the code exchange.
 */
export async function runAuthorizationCodeFlow(
  http: HttpClient,
  as: AuthorizationServer,
  client: RegisteredClient,
  login: LoginDriver,
  opts: FlowOptions,
): Promise<{ tokens: TokenSet; callback: URL; pkce: Pkce; state: string }> {
  const pkce = await newPkce();
  opts.onSecret?.(pkce.verifier, 'code_verifier');
  const state = oauth.generateRandomState();
  const url = authorizationUrl(as, client, {
    redirectUri: opts.redirectUri,
    ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    resource: opts.resource,
    state,
    pkce,
    extra: [
      ...(opts.loginHint ? ([['login_hint', opts.loginHint]] as [string, string][]) : []),
      ...(opts.extraParams ?? []),
    ],
  });
  const callback = await login.login({
    http,
    authorizationUrl: url,
    redirectUri: opts.redirectUri,
    timeoutMs: opts.loginTimeoutMs ?? 60_000,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onSecret ? { onSecret: opts.onSecret } : {}),
  });
  const { code, problems } = codeOfCallback(as, client, callback, state);
  opts.onSecret?.(code, 'authorization_code');
  const tokens = await exchangeCode(
    http,
    as,
    client,
    { code, verifier: pkce.verifier, redirectUri: opts.redirectUri, resource: opts.resource },
    opts,
  );
  if (problems.length > 0) tokens.problems = [...problems, ...(tokens.problems ?? [])];
  return { tokens, callback, pkce, state };
}

/**
 * The code of a callback, leniently (issue #12 §5): an error response, a missing code or a state
 * that is not ours stop the flow (OAuthStepError); what only a strict client refuses (an `iss`
 * missing although advertised, or not the issuer: AS-ISS-* judge those) is returned as problems
 * and the flow carries on.
 */
export function codeOfCallback(
  as: AuthorizationServer,
  client: RegisteredClient,
  callback: URL,
  state: string,
): { code: string; problems: string[] } {
  try {
    return { code: validateCallback(as, client, callback, state), problems: [] };
  } catch (err) {
    if (!(err instanceof OAuthStepError)) throw err;
    const params = callback.searchParams;
    const code = params.get('code');
    if (params.get('error') !== null || code === null || params.get('state') !== state) throw err;
    return { code, problems: [err.message] };
  }
}

/** Validates a callback (state, RFC 9207 iss, error) with oauth4webapi; returns the code. */
export function validateCallback(
  as: AuthorizationServer,
  client: RegisteredClient,
  callback: URL,
  state: string,
): string {
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(asO4w(as), clientO4w(client), callback, state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      throw new OAuthStepError(
        'authorization',
        `the authorization server answered error=${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
        err.error,
      );
    }
    throw new OAuthStepError(
      'authorization',
      `the authorization response is invalid: ${(err as Error).message}`,
    );
  }
  const code = params.get('code');
  if (!code)
    throw new OAuthStepError('authorization', 'the authorization response has no code (OAuth 2.1 §4.1.2)');
  return code;
}

// --- token endpoint -----------------------------------------------------------------------

/** Authorization code grant (OAuth 2.1 §4.1.3) with the PKCE verifier and `resource` (RFC 8707 §2.2). */
export async function exchangeCode(
  http: HttpClient,
  as: AuthorizationServer,
  client: RegisteredClient,
  p: { code: string; verifier: string; redirectUri: string; resource?: string },
  hook: SecretHook = {},
): Promise<TokenSet> {
  const o4wAs = asO4w(as);
  // oauth4webapi takes the code only from validated callback parameters; the callback itself was
  // validated already (validateCallback) or the caller hands a code on purpose, so validate a
  // parameter set made of the code alone, without the iss requirement.
  const params = oauth.validateAuthResponse(
    { ...o4wAs, authorization_response_iss_parameter_supported: false },
    clientO4w(client),
    new URLSearchParams({ code: p.code }),
    oauth.skipStateCheck,
  );
  const via = fetchVia(http, 'token request (authorization_code)');
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      o4wAs,
      clientO4w(client),
      clientAuth(client),
      params,
      p.redirectUri,
      p.verifier,
      {
        ...requestOptions(o4wAs.token_endpoint, via),
        ...(p.resource !== undefined ? { additionalParameters: { resource: p.resource } } : {}),
      },
    );
    return toTokenSet(await oauth.processAuthorizationCodeResponse(o4wAs, clientO4w(client), response), hook);
  } catch (err) {
    const lenient = lenientTokenSet(err, via, hook);
    if (lenient) return lenient;
    throw stepError('token', err, via);
  }
}

/** Refresh token grant (OAuth 2.1 §4.3), with `resource` (RFC 8707 §2.2) and an optional narrower scope. */
export async function refreshTokens(
  http: HttpClient,
  as: AuthorizationServer,
  client: RegisteredClient,
  p: { refreshToken: string; scope?: string; resource?: string },
  hook: SecretHook = {},
): Promise<TokenSet> {
  const o4wAs = asO4w(as);
  const extra: Record<string, string> = {};
  if (p.scope !== undefined) extra.scope = p.scope;
  if (p.resource !== undefined) extra.resource = p.resource;
  const via = fetchVia(http, 'token request (refresh_token)');
  try {
    const response = await oauth.refreshTokenGrantRequest(
      o4wAs,
      clientO4w(client),
      clientAuth(client),
      p.refreshToken,
      {
        ...requestOptions(o4wAs.token_endpoint, via),
        additionalParameters: extra,
      },
    );
    return toTokenSet(await oauth.processRefreshTokenResponse(o4wAs, clientO4w(client), response), hook);
  } catch (err) {
    const lenient = lenientTokenSet(err, via, hook);
    if (lenient) return lenient;
    throw stepError('refresh', err, via);
  }
}

/**
 * A 200 token response that a strict client refused (no token_type, token_type of another case,
 * expires_in as a string, ...) but that carries an access token: the harness uses it and records
 * what was wrong (TokenSet.problems), so one defect of the happy path fails the one check that
 * owns it (AS-TOKEN-01) instead of ending every check that needs a token as an error (issue #12 §5).
 */
function lenientTokenSet(err: unknown, via: FetchVia, hook: SecretHook): TokenSet | undefined {
  const refused =
    err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError;
  if (!refused || via.last?.status !== 200) return undefined;
  const body = via.last.json();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const raw = body as Record<string, unknown>;
  if (typeof raw.access_token !== 'string' || raw.access_token === '') return undefined;
  hook.onSecret?.(raw.access_token, 'access_token');
  if (typeof raw.refresh_token === 'string') hook.onSecret?.(raw.refresh_token, 'refresh_token');
  if (typeof raw.id_token === 'string') hook.onSecret?.(raw.id_token, 'id_token');
  const expiresIn = Number(raw.expires_in);
  return {
    accessToken: raw.access_token,
    ...(typeof raw.refresh_token === 'string' && raw.refresh_token !== ''
      ? { refreshToken: raw.refresh_token }
      : {}),
    ...(raw.expires_in !== undefined && Number.isFinite(expiresIn) ? { expiresIn } : {}),
    ...(typeof raw.scope === 'string' ? { scope: raw.scope } : {}),
    tokenType: typeof raw.token_type === 'string' ? raw.token_type.toLowerCase() : 'bearer',
    raw,
    problems: [
      `the token response breaks the protocol (${err.message}; exchange ${via.last.exchange.id}): used as received`,
    ],
  };
}

/** Token revocation (RFC 7009 §2.1); returns the raw answer for the checks to judge (§2.2: 200). */
export async function revokeToken(
  http: HttpClient,
  as: AuthorizationServer,
  client: RegisteredClient,
  p: { token: string; hint?: 'refresh_token' | 'access_token' },
): Promise<HttpResponse> {
  const o4wAs = asO4w(as);
  if (typeof o4wAs.revocation_endpoint !== 'string') {
    throw new OAuthStepError(
      'revocation',
      'the authorization server advertises no revocation_endpoint (RFC 8414 §2)',
    );
  }
  const via = fetchVia(http, 'token revocation (RFC 7009)');
  await oauth.revocationRequest(o4wAs, clientO4w(client), clientAuth(client), p.token, {
    ...requestOptions(o4wAs.revocation_endpoint, via),
    ...(p.hint ? { additionalParameters: { token_type_hint: p.hint } } : {}),
  });
  return via.last!;
}

/**
 * A raw token request for negative probes: the form exactly as given (names may repeat), plus
 * client authentication per the client's method when `auth` is 'client' (default):
 * `none` adds client_id to the form if absent; `client_secret_post` adds client_id and
 * client_secret; `client_secret_basic` sends `Authorization: Basic` with both form-urlencoded
 * first (RFC 6749 §2.3.1). `auth: 'none'` adds nothing at all.
 */
export async function tokenRequest(
  http: HttpClient,
  as: AuthorizationServer,
  client: RegisteredClient,
  form: [string, string][],
  opts: { auth?: 'client' | 'none'; label?: string } = {},
): Promise<HttpResponse> {
  const endpoint = as.metadata.token_endpoint;
  if (typeof endpoint !== 'string') {
    throw new OAuthStepError('token', 'the authorization server advertises no token_endpoint (RFC 8414 §2)');
  }
  const body = [...form];
  const headers: [string, string][] = [['accept', 'application/json']];
  const has = (name: string) => body.some(([n]) => n === name);
  if ((opts.auth ?? 'client') === 'client') {
    if (client.authMethod === 'client_secret_basic') {
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      const credentials = Buffer.from(`${enc(client.clientId)}:${enc(requireSecret(client))}`).toString(
        'base64',
      );
      headers.push(['authorization', `Basic ${credentials}`]);
    } else {
      if (!has('client_id')) body.push(['client_id', client.clientId]);
      if (client.authMethod === 'client_secret_post' && !has('client_secret')) {
        body.push(['client_secret', requireSecret(client)]);
      }
    }
  }
  return http.request(endpoint, {
    method: 'POST',
    headers,
    form: body,
    label: opts.label ?? 'token request (raw probe)',
  });
}

// --- helpers ------------------------------------------------------------------------------

function toTokenSet(response: oauth.TokenEndpointResponse, hook: SecretHook): TokenSet {
  hook.onSecret?.(response.access_token, 'access_token');
  if (response.refresh_token) hook.onSecret?.(response.refresh_token, 'refresh_token');
  if (typeof response.id_token === 'string') hook.onSecret?.(response.id_token, 'id_token');
  return {
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    ...(typeof response.expires_in === 'number' ? { expiresIn: response.expires_in } : {}),
    ...(typeof response.scope === 'string' ? { scope: response.scope } : {}),
    tokenType: response.token_type,
    raw: { ...response } as Record<string, unknown>,
  };
}

/** Turns an oauth4webapi or transport error into an OAuthStepError that says what happened. */
function stepError(step: OAuthStepError['step'], err: unknown, via: FetchVia): Error {
  if (err instanceof OAuthStepError) return err;
  const status = via.last?.status;
  const where = via.last ? ` (HTTP ${via.last.status}, exchange ${via.last.exchange.id})` : '';
  if (err instanceof oauth.ResponseBodyError) {
    return new OAuthStepError(
      step,
      `the ${step} request was refused: error=${err.error}${err.error_description ? ` (${err.error_description})` : ''}${where}`,
      err.error,
      err.status,
    );
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    return new OAuthStepError(
      step,
      `the ${step} request was refused with a WWW-Authenticate challenge${where}`,
      undefined,
      err.status,
    );
  }
  if (err instanceof oauth.OperationProcessingError) {
    return new OAuthStepError(
      step,
      `the ${step} response breaks the protocol: ${err.message}${where}`,
      undefined,
      status,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
