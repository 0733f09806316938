// The authorization endpoint (OAuth 2.1 §4.1.1-§4.1.2) and the consent form behind it.
//
// Validation happens in two phases, and the order matters (OAuth 2.1 §4.1.2.1):
//   1. client_id and redirect_uri. Until both are known good, nothing is redirected: an error is
//      an HTML page (a redirect to an unverified URI would make this server an open redirector).
//   2. Everything else. Errors go back to the client by redirect, with `error`, `state` and `iss`.
// Every redirect carries `iss` (RFC 9207 §2), on success and on error.
//
// A person who signed in keeps a sign-in session (as/sign-in-sessions.ts), as at every real
// identity provider: later requests from the same browser skip the password, and a client the
// person already approved gets its code without a page.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_SCOPE, DEMO_USERS, type ServerContext, SUPPORTED_SCOPES } from '../context.ts';
import { type FormParams, parseParams, readForm } from '../http.ts';
import type { AuthorizationRequest, ClientRecord, PendingRequest } from '../store.ts';
import { findClient } from './clients.ts';
import { sendConsentPage, sendErrorPage } from './consent-page.ts';
import { randomBytes } from 'node:crypto';
import { PKCE_VALUE, randomToken, safeEqual, sha256 } from './crypto.ts';
import type { AsDeps } from './deps.ts';
import type { SignInSession } from './sign-in-sessions.ts';
import { appendToRedirectUri, redirectUriMatches } from './redirect-uris.ts';

/** The authorization request parameters this server reads (for the unknown-parameter fault only). */
const KNOWN_AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'login_hint',
];

/** How long a consent page stays answerable. */
const PENDING_TTL_MS = 10 * 60_000;

type Phase1 = { client: ClientRecord; redirectUri: string; redirectUriSent: boolean };

/** An error of phase 2: delivered to the client's redirect URI. */
interface RequestError {
  error: string;
  description: string;
}

/** GET /authorize. OAuth 2.1 §3.1: the endpoint MUST support GET. */
export async function handleAuthorize(deps: AsDeps, req: IncomingMessage, res: ServerResponse, url: URL) {
  const { ctx } = deps;
  // Fault: the authorization endpoint answers cross-origin reads (OAuth 2.1 §3.1 / RFC 9700 §2.6 say no CORS).
  if (ctx.fault('as-authorize-cors')) res.setHeader('Access-Control-Allow-Origin', '*');
  // Fault: GET is refused as if the endpoint were POST-only.
  if (req.method !== 'GET' || ctx.fault('as-authorize-get-refused')) {
    sendErrorPage(ctx, res, 'invalid_request', 'the authorization endpoint answers GET', 405, {
      Allow: 'GET',
    });
    return;
  }
  const raw = parseParams(url.searchParams);
  // OAuth 2.1 §3.1: parameters MUST NOT be included more than once (checked in both phases below).
  // Fault: repeated parameters are accepted (the first value wins).
  const params: FormParams = ctx.fault('as-authorize-duplicates-accepted') ? { ...raw, duplicates: [] } : raw;

  const phase1 = await checkClientAndRedirect(deps, params);
  if ('page' in phase1) {
    // Fault: a request from an unknown client is redirected to whatever redirect_uri it names.
    const target = params.get('redirect_uri');
    if (phase1.unknownClient && target && URL.canParse(target) && ctx.fault('as-unknown-client-redirects')) {
      redirect(
        deps,
        res,
        302,
        target,
        { error: 'invalid_request', error_description: phase1.page },
        params.get('state'),
        true,
      );
      return;
    }
    sendErrorPage(ctx, res, 'invalid_request', phase1.page);
    return;
  }

  // Fault: `state` is not returned (OAuth 2.1 §4.1.2: REQUIRED if it was in the request).
  const state = ctx.fault('as-state-dropped') ? undefined : params.get('state');
  const where = {
    clientId: phase1.client.client_id,
    redirectUri: phase1.redirectUri,
    redirectUriSent: phase1.redirectUriSent,
    state,
  };
  const checked = checkRequest(deps, params);
  // OIDC Core §3.1.2.1: prompt=login asks for a new sign-in, so the session is not used then.
  const prompts = params.get('prompt')?.split(' ') ?? [];
  const session = prompts.includes('login') ? undefined : deps.sessions.of(req);

  // What the client chose freely is kept until the code is redeemed, so it is bounded (limits.ts).
  // Too large to keep, the request cannot wait for a sign-in: with auto-approve it is refused by
  // redirect like any other erroneous request, otherwise on an error page.
  const keptBytes = freelyChosenBytes(state, 'request' in checked ? checked.request : undefined);
  if (keptBytes > ctx.limits.maxAuthorizationRequestBytes) {
    const description = `state and code_challenge take ${keptBytes} bytes; this server keeps at most ${ctx.limits.maxAuthorizationRequestBytes}`;
    if (autoApproves(ctx)) {
      redirect(
        deps,
        res,
        302,
        where.redirectUri,
        { error: 'invalid_request', error_description: description },
        state,
        true,
      );
    } else {
      sendErrorPage(ctx, res, 'invalid_request', description);
    }
    return;
  }

  if ('error' in checked) {
    // OAuth 2.1 §7.12.2: do not redirect an erroneous request to the client before the user has
    // authenticated (an attacker's registered client would get a silent redirector). With
    // auto-approve, or a sign-in session, the user is authenticated already.
    // Fault: the error is redirected straight away.
    if (autoApproves(ctx) || session || ctx.fault('as-error-redirect-before-login')) {
      const error = { error: checked.error, error_description: checked.description };
      redirect(deps, res, 302, where.redirectUri, error, state, true);
      return;
    }
    // The pending request only carries the error to deliver after sign-in; it can never yield a code.
    await showConsent(deps, res, phase1.client, { ...where, scope: '', resource: '' }, checked);
    return;
  }

  const request: AuthorizationRequest = { ...where, ...checked.request };
  // Fault: behave like a proxy AS with one static client at an upstream IdP that sends every
  // request straight upstream, with no consent of its own (MCP §Confused Deputy forbids this).
  if (ctx.fault('as-proxy-upstream-no-consent')) {
    const upstream = new URL('https://upstream-idp.example.test/authorize');
    upstream.searchParams.set('client_id', 'static-upstream-client');
    upstream.searchParams.set('response_type', 'code');
    res.writeHead(302, { Location: upstream.href, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  // `prompt=consent` (OIDC Core §3.1.2.1: the AS SHOULD prompt for consent) shows the consent page
  // even with auto-approve, so a harness can inspect that page on an automated test server.
  if (autoApproves(ctx) && !prompts.includes('consent')) {
    // Automated runs: the demo user alice approves at once; `login_hint=bob` picks the other user,
    // so a test can hold tokens of two users.
    const subject = params.get('login_hint') === 'bob' ? 'bob' : 'alice';
    await issueCode(deps, res, 302, request, subject);
    return;
  }
  // Signed in already: no page when the person approved this client before (for these scopes),
  // or when the administrator trusts every client (skipConsent). `login_hint` is only a hint
  // (OIDC Core §3.1.2.1): the session's user stays signed in, as at Keycloak.
  if (
    session &&
    !prompts.includes('consent') &&
    (ctx.options.skipConsent || deps.sessions.hasConsent(session, request.clientId, request.scope))
  ) {
    await issueCode(deps, res, 302, request, session.subject);
    return;
  }
  await showConsent(deps, res, phase1.client, request, undefined, session);
}

/** Bytes of the authorization-request values a client chooses freely (limits.ts). */
function freelyChosenBytes(
  state: string | undefined,
  request: CheckedRequest['request'] | undefined,
): number {
  return Buffer.byteLength(state ?? '') + Buffer.byteLength(request?.codeChallenge ?? '');
}

/**
 * Does the demo user approve without a consent page? With `autoApprove` (automated runs), unless
 * the variant consent-every-time shows the page on every authorization anyway (OAuth 2.1 §4.1.1:
 * the AS "obtains an authorization decision (by asking the resource owner or by establishing
 * approval via other means)": asking every time is one of the two).
 */
/** Does the AS approve at once (auto-approve, and no variant that shows the consent page every time)? */
export function autoApproves(ctx: ServerContext): boolean {
  return Boolean(ctx.options.autoApprove) && !ctx.variant('consent-every-time');
}

/** Phase 1: who is the client, and where may the response go? Errors here are pages, not redirects. */
async function checkClientAndRedirect(
  deps: AsDeps,
  params: FormParams,
): Promise<Phase1 | { page: string; unknownClient?: boolean }> {
  const { ctx } = deps;
  for (const name of ['client_id', 'redirect_uri']) {
    if (params.duplicates.includes(name)) {
      return { page: `the ${name} parameter is repeated` };
    }
  }
  const clientId = params.get('client_id');
  if (clientId === undefined) return { page: 'the client_id parameter is missing' };
  const found = await findClient(ctx, deps.store, deps.cimd, clientId);
  if (!('client' in found)) return { page: `client_id is not usable: ${found.problem}`, unknownClient: true };
  const { client } = found;

  const registered = client.metadata.redirect_uris;
  const sent = params.get('redirect_uri');
  if (sent !== undefined) {
    // CIMD: the document's redirect_uris are the registered set (MCP 2025-11-25 §CIMD, draft-00 §4.5).
    // Fault: for metadata-document clients any acceptable https/loopback URI is taken.
    const cimdUnchecked =
      client.source === 'cimd' && ctx.fault('as-cimd-redirect-unchecked') && URL.canParse(sent);
    if (!redirectUriMatches(ctx, sent, registered) && !cimdUnchecked) {
      return { page: 'redirect_uri does not match any redirect URI registered for this client' };
    }
    return { client, redirectUri: sent, redirectUriSent: true };
  }
  // OAuth 2.1 §4.1.1: redirect_uri is REQUIRED when several are registered.
  // Fault: the first registered URI is used instead.
  if (registered.length === 1 || ctx.fault('as-redirect-uri-default-multiple')) {
    return { client, redirectUri: registered[0]!, redirectUriSent: false };
  }
  return { page: 'redirect_uri is required: this client registered more than one' };
}

type CheckedRequest = {
  request: Omit<AuthorizationRequest, 'clientId' | 'redirectUri' | 'redirectUriSent' | 'state'>;
};

/** Phase 2: the rest of the request. */
function checkRequest(deps: AsDeps, params: FormParams): CheckedRequest | RequestError {
  const { ctx } = deps;
  const invalid = (description: string): RequestError => ({ error: 'invalid_request', description });

  // RFC 8707 §2: several `resource` parameters are allowed in general, but this server protects
  // exactly one resource, so asking for more than one is an invalid target.
  const duplicates = params.duplicates.filter((n) => n !== 'resource');
  if (duplicates.length > 0) {
    return invalid(`repeated parameter: ${duplicates.join(', ')}`);
  }

  // OAuth 2.1 §3.1: "The authorization server MUST ignore unrecognized request parameters."
  // Fault: a parameter this server does not know is an invalid_request.
  if (ctx.fault('as-authorize-unknown-param-rejected')) {
    const unknown = params.names.filter((n) => !KNOWN_AUTHORIZE_PARAMS.includes(n));
    if (unknown.length > 0) return invalid(`unknown parameter: ${unknown.join(', ')}`);
  }

  // OAuth 2.1 §4.1.1: response_type REQUIRED, "code"; §4.1.2.1: unsupported_response_type.
  // Fault: response_type is not looked at (a missing or "token" value gets a code).
  if (!ctx.fault('as-response-type-unchecked')) {
    const responseType = params.get('response_type');
    if (responseType === undefined) return invalid('response_type is missing');
    if (responseType !== 'code') {
      return { error: 'unsupported_response_type', description: 'only response_type=code is supported' };
    }
  }

  // PKCE, OAuth 2.1 §4.1.1 / RFC 7636 §4.3-§4.4.1: code_challenge REQUIRED; method S256 (a
  // missing method means "plain", RFC 7636 §4.3, which this server does not accept).
  const codeChallenge = params.get('code_challenge');
  let codeChallengeMethod = params.get('code_challenge_method') ?? 'plain';
  if (codeChallenge === undefined) {
    // Fault: a request without PKCE is accepted.
    if (!ctx.fault('as-pkce-optional')) return invalid('code_challenge is required (PKCE)');
  } else {
    // Fault: "plain" (or no method) is accepted.
    const plainOk = codeChallengeMethod === 'plain' && ctx.fault('as-pkce-plain-accepted');
    if (codeChallengeMethod !== 'S256' && !plainOk) {
      // Fault: any other method name (S512, s256, ...) is taken to mean S256.
      if (codeChallengeMethod !== 'plain' && ctx.fault('as-pkce-unknown-method-accepted'))
        codeChallengeMethod = 'S256';
      else return invalid(`code_challenge_method must be S256, got ${codeChallengeMethod}`);
    }
    // Fault: the challenge's syntax (43-128 unreserved characters) is not checked.
    if (!PKCE_VALUE.test(codeChallenge) && !ctx.fault('as-pkce-challenge-syntax-unchecked')) {
      return invalid('code_challenge must be 43-128 characters from [A-Za-z0-9-._~]');
    }
  }

  const resource = checkResource(deps, params);
  if (typeof resource !== 'string') return resource;

  const allowedScopes = refreshOnlyWithOfflineAccess(ctx)
    ? [...SUPPORTED_SCOPES, 'offline_access']
    : SUPPORTED_SCOPES;
  // OAuth 2.1 §1.4.1: without `scope` the AS "MUST either process the request using a pre-defined
  // default value or fail the request indicating an invalid scope". Default: the former; the
  // variant scope-required does the latter.
  const requested = params.get('scope');
  if (requested === undefined && ctx.variant('scope-required')) {
    return {
      error: 'invalid_scope',
      description: `a scope is required, drawn from: ${allowedScopes.join(' ')}`,
    };
  }
  const scope = parseScope(requested ?? DEFAULT_SCOPE, allowedScopes);
  if (scope === undefined) {
    return { error: 'invalid_scope', description: `scope must be drawn from: ${allowedScopes.join(' ')}` };
  }

  return {
    request: {
      scope,
      resource,
      ...(codeChallenge !== undefined ? { codeChallenge, codeChallengeMethod } : {}),
    },
  };
}

/** RFC 8707 §2: `resource` is an absolute URI without fragment, and must be one this AS serves. */
function checkResource(deps: AsDeps, params: FormParams): string | RequestError {
  const { ctx } = deps;
  const target = (description: string): RequestError => ({ error: 'invalid_target', description });
  // Fault: any `resource` (malformed, foreign, repeated) is accepted and bound to the one resource.
  if (ctx.fault('as-resource-unchecked')) return ctx.resource;
  if (params.duplicates.includes('resource'))
    return target('this server grants access to one resource at a time');
  const resource = params.get('resource');
  if (resource === undefined) {
    // RFC 8707 §2 lets the AS pick a default; MCP clients MUST send it, so by default it is required.
    if (ctx.options.lenientResource) return ctx.resource;
    return target('the resource parameter is required (RFC 8707)');
  }
  if (!URL.canParse(resource) || resource.includes('#')) {
    return target('resource must be an absolute URI without a fragment');
  }
  if (resource !== ctx.resource) return target(`this server protects only ${ctx.resource}`);
  return resource;
}

/**
 * Fault: the AS understands `offline_access` and issues refresh tokens only when it was granted,
 * yet its metadata does not list it in `scopes_supported` (MCP 2026-07-28 §Refresh Tokens: an AS
 * that needs it SHOULD list it). Read here only; the token endpoint asks this function too.
 */
export function refreshOnlyWithOfflineAccess(ctx: ServerContext): boolean {
  return ctx.fault('as-refresh-only-offline-access-unlisted');
}

/**
 * A space-separated scope string drawn from `allowed`, normalised (duplicates dropped, order kept),
 * or undefined when any token is not allowed or the syntax is broken (OAuth 2.1 §1.4.1).
 */
export function parseScope(scope: string, allowed: readonly string[]): string | undefined {
  const tokens = scope.split(' ');
  if (tokens.some((t) => t === '' || !allowed.includes(t))) return undefined;
  return [...new Set(tokens)].join(' ');
}

async function showConsent(
  deps: AsDeps,
  res: ServerResponse,
  client: ClientRecord,
  request: AuthorizationRequest,
  error?: RequestError,
  session?: SignInSession,
): Promise<void> {
  const pending: PendingRequest = {
    id: randomToken(),
    csrf: randomToken(),
    request,
    expiresAt: Date.now() + PENDING_TTL_MS,
    ...(error ? { error } : {}),
    ...(session ? { session: session.hash } : {}),
  };
  if (!(await deps.store.savePending(pending))) {
    // RFC 9110 §15.6.4: 503 with Retry-After, the time until the oldest waiting request expires.
    const retryAfter = await deps.store.secondsUntilRoom('pending');
    sendErrorPage(
      deps.ctx,
      res,
      'temporarily_unavailable',
      'too many authorization requests are waiting; try again later',
      503,
      { 'Retry-After': String(retryAfter) },
    );
    return;
  }
  sendConsentPage(deps.ctx, res, pending, client, undefined, 200, session?.subject);
}

/** POST /consent: the sign-in + consent form. Answered with 303 (never 307: OAuth 2.1 §7.5.4, RFC 9700 §4.12). */
export async function handleConsent(deps: AsDeps, req: IncomingMessage, res: ServerResponse) {
  const { ctx, store } = deps;
  if (req.method !== 'POST') {
    sendErrorPage(ctx, res, 'invalid_request', 'the consent form is submitted with POST', 405, {
      Allow: 'POST',
    });
    return;
  }
  const form = await readForm(req);
  const id = form.get('request_id');
  const pending = id === undefined ? undefined : await store.getPending(id);
  if (form.duplicates.length > 0) {
    sendErrorPage(ctx, res, 'invalid_request', `repeated form field: ${form.duplicates.join(', ')}`);
    return;
  }
  if (!pending) {
    const message = 'this authorization request is unknown, expired or already answered';
    sendErrorPage(ctx, res, 'invalid_request', message);
    return;
  }
  // The form must echo the CSRF token issued with this very request.
  if (!safeEqual(form.get('csrf') ?? '', pending.csrf)) {
    sendErrorPage(
      ctx,
      res,
      'invalid_request',
      'the form is not the one this server sent (CSRF token mismatch)',
    );
    return;
  }
  // Fault: the answer is a 307, which would re-POST the user's password to the client.
  const status = ctx.fault('as-consent-307') ? 307 : 303;
  const action = form.get('action');

  if (action === 'deny') {
    const taken = await store.takePending(pending.id);
    if (!taken)
      return sendErrorPage(ctx, res, 'invalid_request', 'this authorization request was already answered');
    redirect(
      deps,
      res,
      status,
      taken.request.redirectUri,
      { error: 'access_denied', error_description: 'the user denied the request' },
      taken.request.state,
      true,
    );
    return;
  }
  if (action !== 'approve') {
    sendErrorPage(ctx, res, 'invalid_request', 'action must be approve or deny');
    return;
  }
  // Who approves: the signed-in person of the session the page was shown to, or whoever signs in
  // with a correct password here (which starts a session).
  let session: SignInSession;
  const headers: Record<string, string> = {};
  if (pending.session !== undefined) {
    const current = deps.sessions.of(req);
    if (current?.hash !== pending.session) {
      sendErrorPage(
        ctx,
        res,
        'invalid_request',
        'the sign-in session this consent page was shown to has ended; start the authorization again',
      );
      return;
    }
    session = current;
  } else {
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const user = DEMO_USERS.find((u) => u === username);
    if (!user || !safeEqual(password, user)) {
      const found = await findClient(ctx, store, deps.cimd, pending.request.clientId);
      if (!('client' in found)) return sendErrorPage(ctx, res, 'invalid_request', found.problem);
      sendConsentPage(ctx, res, pending, found.client, 'Wrong username or password.', 401);
      return;
    }
    const started = deps.sessions.start(user);
    session = started.session;
    headers['Set-Cookie'] = started.setCookie;
  }
  // Atomic take: a form answered twice (double click, replay) issues one code at most.
  const taken = await store.takePending(pending.id);
  if (!taken)
    return sendErrorPage(ctx, res, 'invalid_request', 'this authorization request was already answered');
  if (taken.error) {
    redirect(
      deps,
      res,
      status,
      taken.request.redirectUri,
      { error: taken.error.error, error_description: taken.error.description },
      taken.request.state,
      true,
      headers,
    );
    return;
  }
  deps.sessions.remember(session, taken.request.clientId, taken.request.scope);
  await issueCode(deps, res, status, taken.request, session.subject, headers);
}

/** Issues an authorization code (256 random bits, stored hashed, OAuth 2.1 §4.1.2) and redirects with it. */
async function issueCode(
  deps: AsDeps,
  res: ServerResponse,
  status: number,
  request: AuthorizationRequest,
  subject: string,
  headers: Record<string, string> = {},
): Promise<void> {
  // Fault: codes are 8 hex digits (32 bits), guessable (RFC 6749 §10.10 asks for at most 2^-128).
  const code = deps.ctx.fault('as-code-low-entropy') ? randomBytes(4).toString('hex') : randomToken();
  // OAuth 2.1 §4.1.2: a maximum lifetime of 10 minutes is RECOMMENDED; this server uses 60 s.
  // Fault: codes live 3 hours, whatever the configured lifetime.
  const ttlSeconds = deps.ctx.fault('as-code-long-lived')
    ? 3 * 3600
    : (deps.ctx.options.codeTtlSeconds ?? 60);
  const ttlMs = ttlSeconds * 1000;
  // Variant: a new authorization supersedes every earlier grant of this user at this client
  // (their codes, refresh tokens and access tokens end); the AS decides token lifetimes (OAuth 2.1
  // §1.4, §1.3.2).
  if (deps.ctx.variant('revoke-earlier-grants')) await deps.store.revokeGrantsOf(request.clientId, subject);
  if (!(await deps.store.saveCode(sha256(code), { request, subject, expiresAt: Date.now() + ttlMs }))) {
    // OAuth 2.1 §4.1.2.1 temporarily_unavailable: the redirect's way of saying 503.
    const error = {
      error: 'temporarily_unavailable',
      error_description: 'this server holds as many authorization codes as it can; try again later',
    };
    redirect(deps, res, status, request.redirectUri, error, request.state, true);
    return;
  }
  redirect(deps, res, status, request.redirectUri, { code }, request.state, false, headers);
}

/** Sends the user agent back to the client with the response parameters, `state` and `iss`. */
function redirect(
  deps: AsDeps,
  res: ServerResponse,
  status: number,
  redirectUri: string,
  params: Record<string, string>,
  state: string | undefined,
  isError: boolean,
  headers: Record<string, string> = {},
): void {
  const { ctx } = deps;
  // RFC 9207 §2: `iss` on every authorization response, success and error.
  // Faults: no `iss` at all / no `iss` on errors / an `iss` that differs from the issuer.
  let iss: string | undefined = ctx.issuer;
  if (ctx.fault('as-iss-missing')) iss = undefined;
  if (isError && ctx.fault('as-iss-missing-on-error')) iss = undefined;
  if (iss !== undefined && ctx.fault('as-iss-mismatch')) iss = `${iss}/`;
  // Fault: an error description with characters OAuth 2.1 §4.1.2.1 does not allow (a quote, a
  // non-ASCII letter).
  const unsafe =
    isError && params.error_description !== undefined && ctx.fault('as-authorize-error-description-unsafe')
      ? { error_description: `${params.error_description} — "détails"` }
      : {};
  const location = appendToRedirectUri(ctx, redirectUri, { ...params, ...unsafe, state, iss });
  res.writeHead(status, {
    Location: location,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    ...headers,
  });
  res.end();
}
