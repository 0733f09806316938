// What the authorization-endpoint suites share (as-authorize.ts, as-pkce.ts, as-iss.ts,
// as-redirect.ts): a valid authorization request for the harness's client, a way to change one
// parameter of it, and a probe that sends it WITHOUT following any redirect and classifies the
// answer. A `Location` is read, never visited (issue #6: "read Location headers, do not follow").

import { generateRandomState } from 'oauth4webapi';
import type { CheckContext, ProbeContext } from '../runner/check.ts';
import type { Exchange } from '../runner/http.ts';
import { LoginError } from '../runner/login/index.ts';
import { type AuthorizationServer, newPkce, type Pkce, type RegisteredClient } from '../runner/oauth.ts';

export type Param = [string, string];

export interface AuthzSetup {
  as: AuthorizationServer;
  endpoint: string;
  client: RegisteredClient;
  /** The harness's redirect URI (the client's first), where the login driver waits. */
  redirectUri: string;
  /** The MCP endpoint, sent as `resource` (RFC 8707 §2.1; MCP: clients MUST send it). */
  resource: string;
  scope?: string;
}

/**
 * The metadata, the authorization endpoint and the harness's client; undefined (after a skip
 * observation) when the AS has no metadata or no authorization endpoint. With `own`, the check's
 * own client (declared `own-client` in its needs): for checks that redeem the codes they get, so
 * that no other check's authorization can revoke them (issue #12 §2).
 */
export async function authzSetup(
  t: CheckContext,
  opts: { own?: boolean } = {},
): Promise<AuthzSetup | undefined> {
  const discovery = await t.fixture('as');
  if (!discovery.metadata) {
    t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
    return undefined;
  }
  const endpoint = discovery.metadata.authorization_endpoint;
  if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
    t.notApplicable('the metadata names no usable authorization_endpoint (see AS-META-04)');
    return undefined;
  }
  const client = await t.fixture(opts.own ? 'own-client' : 'client');
  const redirectUri = client.redirectUris[0];
  if (!redirectUri) {
    t.notApplicable('the harness client has no redirect URI');
    return undefined;
  }
  const scope = await defaultScope(t);
  return {
    as: { issuer: discovery.issuer, metadata: discovery.metadata },
    endpoint,
    client,
    redirectUri,
    resource: t.target,
    ...(scope ? { scope } : {}),
  };
}

/** The run's scope (runner/fixtures.ts GrantScope: the one the AS granted the shared token). */
async function defaultScope(t: CheckContext): Promise<string | undefined> {
  return (await t.fixture('scope')).scope;
}

/** A fully valid authorization request (OAuth 2.1 §4.1.1, RFC 8707 §2.1) with fresh PKCE and state. */
export async function validRequest(
  setup: AuthzSetup,
  opts: { client?: RegisteredClient; redirectUri?: string; pkce?: Pkce } = {},
): Promise<{ params: Param[]; pkce: Pkce; state: string }> {
  const pkce = opts.pkce ?? (await newPkce());
  const state = generateRandomState();
  const params: Param[] = [
    ['response_type', 'code'],
    ['client_id', (opts.client ?? setup.client).clientId],
    ['redirect_uri', opts.redirectUri ?? setup.redirectUri],
    ...(setup.scope !== undefined ? ([['scope', setup.scope]] as Param[]) : []),
    ['state', state],
    ['code_challenge', pkce.challenge],
    ['code_challenge_method', pkce.method],
    ['resource', setup.resource],
  ];
  return { params, pkce, state };
}

/** `params` with every `name` replaced by `value` (in place of the first), or removed when undefined. */
export function withParam(params: readonly Param[], name: string, value: string | undefined): Param[] {
  const out: Param[] = [];
  let placed = false;
  for (const p of params) {
    if (p[0] !== name) out.push(p);
    else if (!placed && value !== undefined) {
      out.push([name, value]);
      placed = true;
    }
  }
  if (!placed && value !== undefined) out.push([name, value]);
  return out;
}

/** The authorization endpoint with `params` appended to whatever query it already has. */
export function buildUrl(endpoint: string, params: readonly Param[]): URL {
  const url = new URL(endpoint);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url;
}

/** Response parameters that an AS adds to the redirect URI (OAuth 2.1 §4.1.2, §4.1.2.1; RFC 9207). */
const RESPONSE_PARAMS = new Set(['code', 'state', 'iss', 'error', 'error_description', 'error_uri']);

export type OutcomeKind =
  /** A redirect to the redirect URI the request named (the response, success or error). */
  | 'redirect'
  /** A redirect somewhere else than the AS itself: an open redirect when the URI was not registered. */
  | 'redirect-elsewhere'
  /** No redirect back to the client: an error page, a 4xx, or a login page the driver could not pass. */
  | 'page';

export interface AuthzOutcome {
  kind: OutcomeKind;
  status: number;
  location?: URL;
  /** Query and fragment parameters of the Location (only for redirects). */
  params: URLSearchParams;
  error?: string;
  code?: string;
  exchange?: Exchange;
  /** Set when the answer was a page: what it looked like. */
  page?: string;
  /** The answer came back through the run's login step (the raw request showed a sign-in page). */
  viaLogin?: boolean;
}

/**
 * Is `location` the redirect URI `expected` plus response parameters only? Same origin and path,
 * every query member of `expected` kept, and nothing else added except response parameters
 * (so `.../cb?x=1&code=...` is NOT a redirect to `.../cb`).
 */
export function isResponseTo(location: URL, expected: string): boolean {
  if (!URL.canParse(expected)) return false;
  const want = new URL(expected);
  if (location.origin !== want.origin || location.pathname !== want.pathname) return false;
  for (const [name, value] of want.searchParams) {
    if (!location.searchParams.getAll(name).includes(value)) return false;
  }
  for (const name of location.searchParams.keys()) {
    if (!want.searchParams.has(name) && !RESPONSE_PARAMS.has(name)) return false;
  }
  return true;
}

function responseParams(location: URL): URLSearchParams {
  const params = new URLSearchParams(location.search);
  // A response in the fragment (implicit-style) counts too: a token there is what AS-AUTHZ-04 looks for.
  if (location.hash.length > 1) {
    for (const [n, v] of new URLSearchParams(location.hash.slice(1))) params.append(n, v);
  }
  return params;
}

/**
 * Sends one authorization request with a raw GET, no redirect followed, and classifies it.
 * `expectedRedirect` is the URI the response should go to (default: the request's redirect_uri).
 */
export async function sendRaw(
  t: ProbeContext,
  url: URL,
  label: string,
  expectedRedirect?: string,
): Promise<AuthzOutcome> {
  const res = await t.http.request(url, { method: 'GET', label });
  const target = expectedRedirect ?? url.searchParams.get('redirect_uri') ?? '';
  const raw = res.headers.get('location');
  if (res.status >= 300 && res.status < 400 && raw !== null && URL.canParse(raw, url)) {
    const location = new URL(raw, url);
    const params = responseParams(location);
    const base = {
      status: res.status,
      location,
      params,
      exchange: res.exchange,
      ...(params.get('error') ? { error: params.get('error')! } : {}),
      ...(params.get('code') ? { code: params.get('code')! } : {}),
    };
    if (isResponseTo(location, target)) return { kind: 'redirect', ...base };
    // A redirect within the AS's own origin is a login/consent step, not a response to the client.
    if (location.origin === url.origin)
      return {
        ...base,
        kind: 'page',
        page: `a ${res.status} to ${location.pathname} on the authorization server (login?)`,
      };
    return { kind: 'redirect-elsewhere', ...base };
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  return {
    kind: 'page',
    status: res.status,
    params: new URLSearchParams(),
    exchange: res.exchange,
    page: `${res.status}${type ? ` ${type}` : ''} page`,
  };
}

/**
 * Sends a request whose answer the check needs even if the AS first asks the user to sign in:
 * the raw GET first; when it does not come back to the redirect URI and the request uses the
 * harness's redirect URI (or `redirectUri`, another loopback URI of the harness registered for
 * the probe), once more through the run's login driver. A login driver that cannot reach the
 * callback (the AS shows an error page; the manual driver listens on one port only) yields the
 * raw page outcome.
 */
export async function sendWithLogin(
  t: ProbeContext,
  setup: AuthzSetup,
  url: URL,
  label: string,
  redirectUri = setup.redirectUri,
): Promise<AuthzOutcome> {
  const first = await sendRaw(t, url, label, redirectUri);
  if (first.kind !== 'page' || first.status >= 400) return first;
  if (url.searchParams.get('redirect_uri') !== redirectUri) return first;
  try {
    const callback = await t.authorize(url);
    const params = responseParams(callback);
    return {
      kind: 'redirect',
      status: 302,
      location: callback,
      viaLogin: true,
      params,
      ...(params.get('error') ? { error: params.get('error')! } : {}),
      ...(params.get('code') ? { code: params.get('code')! } : {}),
    };
  } catch (err) {
    if (err instanceof LoginError)
      return { ...first, viaLogin: true, page: `${first.page}; login: ${err.message}` };
    throw err;
  }
}

/** One line for a message: "302 to the redirect URI with error=invalid_request". */
export function describe(o: AuthzOutcome): string {
  switch (o.kind) {
    case 'redirect':
      return `${o.status} to the redirect URI with ${
        o.error
          ? `error=${o.error}`
          : o.code
            ? 'a code'
            : `no code and no error (${[...o.params.keys()].join(', ') || 'no parameters'})`
      }`;
    case 'redirect-elsewhere':
      return `${o.status} to ${o.location!.origin}${o.location!.pathname}`;
    case 'page':
      return `${o.page} (no redirect to the client)`;
  }
}

/** A table row for t.data. */
export function outcomeRow(probe: string, o: AuthzOutcome): Record<string, unknown> {
  return {
    probe,
    status: o.status,
    outcome: o.kind,
    ...(o.error ? { error: o.error } : {}),
    ...(o.code ? { code_issued: true } : {}),
    ...(o.exchange ? { exchange: o.exchange.id } : {}),
  };
}

/** Evidence list for t.violated. */
export function evidence(...outcomes: AuthzOutcome[]): { exchanges: Exchange[] } {
  return { exchanges: outcomes.flatMap((o) => (o.exchange ? [o.exchange] : [])) };
}

/**
 * Did the AS go on with the request: a code came back, or (where the login step could not get
 * past it) a login or consent page of the AS? An error redirect, an error status, or a redirect
 * elsewhere is not.
 */
export function accepted(o: AuthzOutcome): boolean {
  if (o.code !== undefined) return true;
  return o.kind === 'page' && o.status < 400 && o.error === undefined;
}

const CONTROLS = new WeakMap<CheckContext, Map<string, Promise<AuthzOutcome>>>();

/**
 * The control of an authorization-endpoint probe (issue #12 §1; DESIGN.md §Anatomy of a check):
 * the same client's valid request, without the one change, sent the same way (`raw`: one GET,
 * no redirect followed; `login`: through the run's login step), once per check and way. A
 * refusal is a verdict (a must-refuse probe conforms, a must-accept probe is violated) only when
 * the control was accepted at that moment; otherwise this records "control failed: …" (the check
 * ends skip unless it saw a violation) and returns false.
 */
export async function controlAccepted(
  t: CheckContext,
  setup: AuthzSetup,
  what: string,
  /**
   * How the control is sent: like the probe whose answer it controls (an AuthzOutcome): through
   * the login step when the probe's answer came through it, else raw (a refusal before any
   * sign-in is controlled by a request the AS lets through to its sign-in page, which costs no
   * login: issue #15 §4).
   */
  like: 'raw' | 'login' | AuthzOutcome,
): Promise<boolean> {
  const via = typeof like === 'string' ? like : like.viaLogin ? 'login' : 'raw';
  let byWay = CONTROLS.get(t);
  if (!byWay) CONTROLS.set(t, (byWay = new Map()));
  let control = byWay.get(via);
  if (!control) {
    control = (async () => {
      const { params } = await validRequest(setup);
      const url = buildUrl(setup.endpoint, params);
      const label = 'control: the same request without the change';
      return via === 'raw' ? sendRaw(t, url, label) : sendWithLogin(t, setup, url, label);
    })();
    byWay.set(via, control);
  }
  const out = await control;
  t.data('control', outcomeRow('valid request (control)', out));
  if (accepted(out)) return true;
  t.inconclusive(
    `control failed: the same request without ${what} was not accepted either (${describe(out)}), so the answer cannot be attributed to ${what}`,
  );
  return false;
}

/**
 * One success and one error authorization response of the shared client, made once per run and
 * read by every check that only inspects responses (AS-ISS-*, AS-META-11): one login instead of
 * one per check (issue #15 §4). The error response changes response_type to an unknown value.
 */
export function pooledResponses(
  t: CheckContext,
  setup: AuthzSetup,
): Promise<{ success: AuthzOutcome; error: AuthzOutcome }> {
  return t.shared('authorization responses (success and error)', async (probe) => {
    const [ok, bad] = await Promise.all([validRequest(setup), validRequest(setup)]);
    const [success, error] = await Promise.all([
      sendWithLogin(
        probe,
        setup,
        buildUrl(setup.endpoint, ok.params),
        'authorization request (success response)',
      ),
      sendWithLogin(
        probe,
        setup,
        buildUrl(setup.endpoint, withParam(bad.params, 'response_type', 'unknown_type')),
        'authorization request (error response)',
      ),
    ]);
    return { success, error };
  });
}
