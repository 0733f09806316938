// What the token-endpoint suites share (as-token.ts, as-refresh.ts, as-revocation.ts,
// as-security.ts): the AS and the harness's client, an authorization code of the check's own that
// is not redeemed yet, raw token requests (negative probes change one parameter of an otherwise
// valid request), and readers for OAuth error answers and Cache-Control.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generateRandomState } from 'oauth4webapi';
import type { CheckContext, Level, ProbeContext } from '../runner/check.ts';
import type { Grant } from '../runner/fixtures.ts';
import type { HttpResponse } from '../runner/http.ts';
import {
  type AuthorizationServer,
  authorizationUrl,
  newPkce,
  type Pkce,
  type RegisteredClient,
  registerClient,
  tokenRequest,
  codeOfCallback,
} from '../runner/oauth.ts';

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
  // The check's own client (declared in its needs), so no other check's authorization can
  // revoke this code or the grant it becomes (issue #12 §2).
  const client = opts.client ?? (await t.fixture('own-client'));
  return authorizeCode(t, as, client, t.target, opts.scope ?? (await defaultScope(t)));
}

/** A code redeemed once, and its refresh token used once, for checks that only read the answers. */
export interface PooledRedemption {
  code: FreshCode;
  /** The code exchange (raw answer: status, headers, body). */
  redemption: HttpResponse;
  /** A refresh with the refresh token the exchange issued, when it issued one. */
  refresh?: HttpResponse;
}

/**
 * One code redeemed and its refresh token used once, made once per run for the checks that only
 * read those answers (AS-TOKEN-01/02, AS-REFRESH-01/02, AS-ENTROPY-01, AS-LIFETIME-01): one
 * authorization instead of six (issue #15 §4). Its client is registered for it alone (none of
 * the checks consumes anything of it, and no other check's authorization can disturb it); a run
 * with one fixed client uses that one. Raw requests: the answers are judged as they came.
 */
export async function pooledRedemption(t: CheckContext, as: AuthorizationServer): Promise<PooledRedemption> {
  return t.shared('a code redeemed and its refresh token used once (read only)', async (probe) => {
    const { code, redemption, tokens } = await redemptionWithRefresh(
      probe,
      t,
      as,
      'token request (valid code, read by several checks)',
    );
    const client = code.client;
    const rt = tokens.refreshToken;
    const refresh =
      rt === undefined
        ? undefined
        : await tokenRequest(probe.http, as, client, refreshForm(rt, code.resource), {
            label: 'token request (refresh, read by several checks)',
          });
    return { code, redemption, ...(refresh ? { refresh } : {}) };
  });
}

/**
 * A code for a shared probe (CheckContext.shared), authorized with the asking check's leased
 * client (its `own-client`): the probe finishes while that check holds the lease, so no other
 * authorization can disturb it, and what it leaves behind is only read. `t` is the asking check.
 */
export async function freshCodeFor(
  probe: ProbeContext,
  t: CheckContext,
  as: AuthorizationServer,
): Promise<FreshCode> {
  return authorizeCode(probe, as, await t.fixture('own-client'), t.target, await defaultScope(t));
}

/**
 * The scope to ask for again when a grant came without a refresh token from an AS that issues
 * them only for `offline_access` (OpenID Connect Core 1.0 §11: "the Authorization Server MUST
 * ensure that the prompt parameter contains consent"): the scope plus `offline_access`, when the
 * AS metadata lists that scope and the first request did not ask for it already; else undefined
 * (a refresh token came, the redemption failed, or asking again cannot help). Issue #13 §7; the
 * one rule for every check and shared probe that needs a refresh token.
 */
export function offlineAccessRetry(
  as: AuthorizationServer,
  scope: string | undefined,
  tokens: { accessToken?: string; refreshToken?: string },
): string | undefined {
  const supported = as.metadata.scopes_supported;
  const asked = (scope ?? '').split(' ').filter(Boolean);
  if (
    tokens.refreshToken !== undefined ||
    tokens.accessToken === undefined ||
    !Array.isArray(supported) ||
    !supported.includes('offline_access') ||
    asked.includes('offline_access')
  )
    return undefined;
  return [...asked, 'offline_access'].join(' ');
}

/** The extra authorization parameter that goes with an `offline_access` retry (OIDC Core §11). */
export const OFFLINE_ACCESS_PROMPT: [string, string][] = [['prompt', 'consent']];

/**
 * A code of the asking check's leased client, redeemed (for a shared probe, or for the check
 * itself: a CheckContext is a ProbeContext). An AS that issues refresh tokens only for
 * `offline_access` gets a second authorization asking for it (offlineAccessRetry), as a client
 * that wants refresh tokens would do. `code.scope` is the scope the returned code was asked for.
 */
export async function redemptionWithRefresh(
  probe: ProbeContext,
  t: CheckContext,
  as: AuthorizationServer,
  label: string,
): Promise<{ code: FreshCode; redemption: HttpResponse; tokens: OAuthAnswer }> {
  const client = await t.fixture('own-client');
  const scope = await defaultScope(t);
  const redeem = async (extra: [string, string][], scopeAsked: string | undefined, what: string) => {
    const code = await authorizeCode(probe, as, client, t.target, scopeAsked, extra);
    const redemption = await tokenRequest(probe.http, as, client, codeForm(code), { label: what });
    return { code, redemption, tokens: answerOf(redemption) };
  };
  const first = await redeem([], scope, label);
  const retry = offlineAccessRetry(as, scope, first.tokens);
  if (retry === undefined) return first;
  return redeem(
    OFFLINE_ACCESS_PROMPT,
    retry,
    `${label}, asking offline_access (no refresh token without it)`,
  );
}

/** A fresh grant of the check's own with a refresh token (grantWithRefresh). */
export interface RefreshGrant {
  as: AuthorizationServer;
  grant: Grant;
  rt: string;
  /**
   * The scope the grant holds: the token response's `scope`, else the scope the authorization
   * request asked for (OAuth 2.1 §3.2.3: `scope` may be omitted when identical to the request),
   * offline_access included when it was asked again with it.
   */
  scope: string | undefined;
}

/**
 * A fresh grant of the check's own client with a refresh token, or undefined after a
 * notApplicable that says why not (`unobservable`: what the check then cannot see). Asks again
 * with offline_access when the AS needs it (offlineAccessRetry).
 */
export async function grantWithRefresh(
  t: CheckContext,
  opts: { scope?: string; unobservable?: string } = {},
): Promise<RefreshGrant | undefined> {
  const as = await tokenAs(t);
  if (!as) return undefined;
  let asked = opts.scope ?? (await defaultScope(t));
  let grant = await t.freshGrant(opts.scope !== undefined ? { scope: opts.scope } : {});
  const retry = offlineAccessRetry(as, asked, grant.tokens);
  if (retry !== undefined) {
    t.note('no refresh token without offline_access: asked again with offline_access and prompt=consent');
    grant = await t.freshGrant({ scope: retry, extraParams: OFFLINE_ACCESS_PROMPT });
    asked = retry;
  }
  if (!grant.tokens.refreshToken) {
    t.notApplicable(
      `the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)${opts.unobservable ? `, so ${opts.unobservable}` : ''}`,
    );
    return undefined;
  }
  return { as, grant, rt: grant.tokens.refreshToken, scope: grant.tokens.scope ?? asked };
}

/** A space-separated scope as a set, for comparing two scope strings whatever their order. */
export function sameScope(a: string | undefined, b: string | undefined): boolean {
  const set = (s: string | undefined) => [...new Set((s ?? '').split(' ').filter(Boolean))].sort().join(' ');
  return set(a) === set(b);
}

/** The authorization step for `client` through `probe` (a check or a shared probe): a code, unredeemed. */
async function authorizeCode(
  probe: ProbeContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  resource: string,
  scope: string | undefined,
  extra: [string, string][] = [],
): Promise<FreshCode> {
  const redirectUri = client.redirectUris[0]!;
  const pkce = await newPkce();
  const state = generateRandomState();
  const url = authorizationUrl(as, client, {
    redirectUri,
    resource,
    state,
    pkce,
    ...(scope !== undefined ? { scope } : {}),
    ...(extra.length > 0 ? { extra } : {}),
  });
  const callback = await probe.authorize(url);
  // Lenient: an iss defect is AS-ISS-*'s to judge, not a reason for this check to stop.
  const { code } = codeOfCallback(as, client, callback, state);
  return { client, code, pkce, redirectUri, resource, ...(scope !== undefined ? { scope } : {}) };
}

/**
 * Scopes a check can build a narrower grant from: the protected resource's `scopes_supported`
 * (RFC 9728 §2), or, when it names fewer than two, the AS's (RFC 8414 §2), without `openid` and
 * `offline_access` (they ask for an ID token and a refresh token, not for access). `source` says
 * which list, for the report.
 */
export async function grantableScopes(
  t: CheckContext,
  as: AuthorizationServer,
): Promise<{ scopes: string[]; source: string }> {
  const usable = (list: unknown) =>
    (Array.isArray(list) ? list : []).filter(
      (s): s is string => typeof s === 'string' && s !== '' && s !== 'openid' && s !== 'offline_access',
    );
  const prm = usable((await t.fixture('prm')).prm?.scopes_supported);
  if (prm.length >= 2) return { scopes: prm, source: 'the protected-resource metadata' };
  const fromAs = usable(as.metadata.scopes_supported);
  if (fromAs.length >= 2) return { scopes: fromAs, source: 'the authorization-server metadata' };
  return { scopes: prm, source: 'the protected-resource metadata' };
}

/** The run's scope (runner/fixtures.ts GrantScope: the one the AS granted the shared token). */
export async function defaultScope(t: CheckContext): Promise<string | undefined> {
  return (await t.fixture('scope')).scope;
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

/**
 * A control of a negative token-endpoint probe: the same request without the one change (issue
 * #12 §1). `send` resolves with the answer, or undefined when it could not be sent (no code could
 * be obtained); `what` says what it was, for the report.
 */
export interface TokenControl {
  what: string;
  send: () => Promise<OAuthAnswer | undefined>;
  /** What success of the control means; default: it got an access token. */
  succeeded?: (answer: OAuthAnswer) => boolean;
}

/** The shape the rule names for a refusal: status 400 and one of these error codes. */
const SHAPE_OWNER = 'AS-TOKEN-10';

/**
 * Judges a token request that must be refused (DESIGN.md §Anatomy of a check):
 * - an access token in the answer is a violation by itself;
 * - a refusal proves the rule only when a control got a token: the same request without the one
 *   change, sent right after (or, where the probe may legally have invalidated the grant, the
 *   successful request just before it). `controls` are tried in order until one gets a token
 *   (typically: the same code redeemed properly, then a fresh code of the same client, since an
 *   AS may invalidate a code after a refused attempt). When none does, nothing is concluded:
 *   t.inconclusive("control failed: …"), never pass or fail;
 * - one defect, one failure (issue #13 §5): the property is that no token is issued; a refusal of
 *   another shape than 400 with one of `expected` (a 500, another code) is a note naming the check
 *   that owns the shape of token-endpoint errors, not a second failure.
 * Every control's answer is recorded (t.data "controls").
 */
export async function judgeTokenRefusal(
  t: CheckContext,
  label: string,
  probe: OAuthAnswer,
  opts: {
    expected: readonly string[];
    controls: readonly TokenControl[];
    accepted?: string;
    /**
     * Where the error code IS the rule the check enforces (AS-TOKEN-08: "get
     * unsupported_grant_type"), a refusal of another shape is a violation at this level instead
     * of a note; the control still has to succeed first.
     */
    codeIsTheRule?: Level;
  },
): Promise<'accepted' | 'refused' | 'inconclusive'> {
  if (probe.accessToken !== undefined) {
    t.violated(opts.accepted ?? `${label} was accepted: the answer carries an access token`, {
      exchanges: [probe.exchange],
    });
    return 'accepted';
  }
  const rows = controlRows(t);
  let last: { control: TokenControl; answer?: OAuthAnswer } | undefined;
  for (const control of opts.controls) {
    const answer = await control.send();
    rows.push({
      for: label,
      control: control.what,
      answer: answer ? describeAnswer(answer) : 'not sent',
      ...(answer ? { exchange: answer.exchange } : {}),
    });
    t.data('controls', rows);
    last = { control, ...(answer ? { answer } : {}) };
    if (answer && (control.succeeded ?? gotToken)(answer)) {
      t.conforms(
        `${label}: refused (${describeAnswer(probe)}), while ${control.what} ${control.succeeded ? `was answered ${describeAnswer(answer)}` : 'got a token'}`,
      );
      // OAuth 2.1 §3.2.4: 400, or 401 for invalid_client; an empty `expected` names no shape.
      const status = probe.error === 'invalid_client' ? [400, 401] : [400];
      const shaped =
        status.includes(probe.status) && probe.error !== undefined && opts.expected.includes(probe.error);
      if (opts.codeIsTheRule && !shaped)
        t.violated(`${label} was answered ${describeAnswer(probe)}, not 400 ${opts.expected.join(' or ')}`, {
          exchanges: [probe.exchange],
          level: opts.codeIsTheRule,
        });
      else if (opts.expected.length > 0 && !shaped)
        t.note(
          `${label}: the refusal is ${describeAnswer(probe)}, not 400 ${opts.expected.join(' or ')}; the shape of token errors is ${SHAPE_OWNER}'s to judge`,
        );
      return 'refused';
    }
  }
  t.inconclusive(
    last
      ? `control failed: ${label} was refused (${describeAnswer(probe)}), but so was ${last.control.what} (${last.answer ? describeAnswer(last.answer) : 'it could not be sent'}), so the refusal cannot be attributed to ${label}`
      : `control failed: ${label} was refused (${describeAnswer(probe)}) and no control could be sent`,
  );
  return 'inconclusive';
}

const gotToken = (a: OAuthAnswer) => a.accessToken !== undefined;

const CONTROL_ROWS = new WeakMap<CheckContext, Record<string, unknown>[]>();
function controlRows(t: CheckContext): Record<string, unknown>[] {
  let rows = CONTROL_ROWS.get(t);
  if (!rows) CONTROL_ROWS.set(t, (rows = []));
  return rows;
}

/** Control: `code` redeemed with every parameter right (by its own client). */
export function properRedemption(
  t: CheckContext,
  as: AuthorizationServer,
  code: FreshCode,
  what = 'the same code redeemed properly right after',
): TokenControl {
  return {
    what,
    send: async () => answerOf(await postToken(t, as, code.client, codeForm(code), `control: ${what}`)),
  };
}

/**
 * Control: a new code of the same client, redeemed properly (one more authorization). For when
 * the AS legally invalidated the probed code after the refused attempt.
 */
export function freshRedemption(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  what = 'a new code of the same client redeemed properly',
): TokenControl {
  return {
    what,
    send: async () => {
      const code = await freshCode(t, as, { client });
      return answerOf(await postToken(t, as, client, codeForm(code), `control: ${what}`));
    },
  };
}

const CLIENT_CONTROLS = new WeakMap<CheckContext, Map<string, Promise<OAuthAnswer>>>();

/**
 * Control for probes that are not about a particular grant (grant types, client authentication,
 * client_credentials): this client's own valid redemption succeeds at that moment. One per check
 * and client: a new code, redeemed properly.
 */
export function clientControl(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
): TokenControl {
  const what = "the same client's valid code redemption";
  return {
    what,
    send: () => {
      let byClient = CLIENT_CONTROLS.get(t);
      if (!byClient) CLIENT_CONTROLS.set(t, (byClient = new Map()));
      let answer = byClient.get(client.clientId);
      if (!answer) {
        answer = freshRedemption(t, as, client, what).send() as Promise<OAuthAnswer>;
        byClient.set(client.clientId, answer);
      }
      return answer;
    },
  };
}

/**
 * Control for probes about the grant type itself (an unsupported grant type, client_credentials
 * from a public client): the same client with grant_type=authorization_code and a made-up code.
 * It succeeds when the AS got past the client and the grant type and refused only the code
 * (invalid_grant), which shows that the probe's refusal is about its grant type. No
 * authorization is spent on it.
 */
export function grantTypeControl(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
): TokenControl {
  return {
    what: 'the same client with grant_type=authorization_code and a made-up code',
    send: async () =>
      answerOf(
        await postToken(
          t,
          as,
          client,
          [
            ['grant_type', 'authorization_code'],
            ['code', 'conformance-made-up-code'],
            ['code_verifier', 'C'.repeat(43)],
            ['redirect_uri', client.redirectUris[0] ?? ''],
          ],
          'control: grant_type=authorization_code with a made-up code',
        ),
      ),
    succeeded: (a) =>
      a.accessToken === undefined &&
      a.status !== 401 &&
      !['invalid_client', 'unsupported_grant_type', 'unauthorized_client'].includes(a.error ?? ''),
  };
}

/** `control`, sent at most once: later probes of the same check reuse its answer. */
export function once(control: TokenControl): TokenControl {
  let answer: Promise<OAuthAnswer | undefined> | undefined;
  return { ...control, send: () => (answer ??= control.send()) };
}

/** Control: an answer obtained already (the successful request just before a state-changing probe). */
export function earlierAnswer(what: string, answer: OAuthAnswer): TokenControl {
  return { what, send: async () => answer };
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
