// The token endpoint (OAuth 2.1 §3.2): the authorization_code grant (§4.1.3) and the
// refresh_token grant (§4.3). Errors are RFC 6749 §5.2 / OAuth 2.1 §3.2.4 JSON (thrown as
// HttpError; server.ts writes them with Cache-Control: no-store).
//
// The rule that shapes this file: validate everything first, and only then consume. A code is
// marked redeemed, or a refresh token rotated, after every binding has been checked, so a request
// that fails validation can neither burn a token nor trigger replay revocation (OAuth 2.1 §7.5.3:
// an attacker who does not hold the verifier must not be able to revoke the victim's tokens).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SUPPORTED_SCOPES } from '../context.ts';
import { type FormParams, HttpError, parseParams, readForm } from '../http.ts';
import { storeFull } from '../limits.ts';
import type { ClientRecord, CodeRecord, Grant } from '../store.ts';
import { parseScope, refreshOnlyWithOfflineAccess } from './authorize.ts';
import { authenticateClient } from './client-auth.ts';
import { PKCE_VALUE, s256, safeEqual, sha256 } from './crypto.ts';
import type { AsDeps } from './deps.ts';
import { newRefreshToken, sendTokenResponse } from './tokens.ts';

const invalidGrant = (description: string) => new HttpError(400, 'invalid_grant', description);
const invalidRequest = (description: string) => new HttpError(400, 'invalid_request', description);

/** POST /token. OAuth 2.1 §3.2: "The client MUST use the HTTP POST method". */
export async function handleToken(deps: AsDeps, req: IncomingMessage, res: ServerResponse, url: URL) {
  try {
    await serveToken(deps, req, res, url);
  } catch (err) {
    // Fault: 400 errors carry a made-up error code outside OAuth 2.1 §3.2.4's set.
    if (err instanceof HttpError && err.status === 400 && deps.ctx.fault('as-token-error-nonstandard')) {
      throw new HttpError(400, 'request_failed', err.description, err.headers);
    }
    throw err;
  }
}

async function serveToken(deps: AsDeps, req: IncomingMessage, res: ServerResponse, url: URL) {
  const { ctx } = deps;
  let params: FormParams;
  if (req.method === 'POST') {
    params = await readForm(req);
  } else if (req.method === 'GET' && ctx.fault('as-token-get-accepted')) {
    // Fault: a GET with the parameters in the query is served like a POST.
    params = parseParams(url.searchParams);
  } else {
    throw new HttpError(405, 'invalid_request', 'the token endpoint accepts POST only', {
      Allow: 'POST, OPTIONS',
    });
  }
  // OAuth 2.1 §3.2: parameters MUST NOT be included more than once. Fault: repeats are accepted.
  if (params.duplicates.length > 0 && !ctx.fault('as-token-duplicates-accepted')) {
    throw invalidRequest(`repeated parameter: ${params.duplicates.join(', ')}`);
  }

  const grantType = params.get('grant_type');
  if (grantType === undefined) throw invalidRequest('grant_type is missing');
  // Fault: client_credentials is honoured for any client, public ones included (OAuth 2.1 §4.2:
  // confidential clients only).
  if (grantType === 'client_credentials' && ctx.fault('as-client-credentials-public')) {
    const client = await authenticateClient(ctx, deps.store, deps.cimd, req, params);
    await assertRoomForGrant(deps);
    const grant: Grant = {
      id: randomUUID(),
      clientId: client.client_id,
      subject: client.client_id,
      scope: SUPPORTED_SCOPES[0],
      resource: ctx.resource,
      revoked: false,
    };
    await deps.store.saveGrant(grant);
    await sendTokenResponse(ctx, deps.store, res, grant, grant.scope, undefined);
    return;
  }
  // Variant no-refresh-tokens: the refresh grant is not supported at all (OAuth 2.1 §1.3.2).
  const supported = ctx.variant('no-refresh-tokens')
    ? ['authorization_code']
    : ['authorization_code', 'refresh_token'];
  if (!supported.includes(grantType)) {
    // OAuth 2.1 §3.2.4 unsupported_grant_type: "not supported by the authorization server". That
    // covers password (RFC 9700 §2.4: MUST NOT be used) and client_credentials, which this server
    // does not implement at all (so the more specific unauthorized_client does not apply).
    // Fault: the error is invalid_request instead of unsupported_grant_type.
    const error = ctx.fault('as-token-unsupported-grant-wrong-error')
      ? 'invalid_request'
      : 'unsupported_grant_type';
    throw new HttpError(400, error, `grant_type ${grantType} is not supported`);
  }

  const client = await authenticateClient(ctx, deps.store, deps.cimd, req, params);
  // RFC 6749 §5.2 unauthorized_client: the client did not register this grant type.
  if (!client.metadata.grant_types.includes(grantType)) {
    throw new HttpError(400, 'unauthorized_client', `this client did not register the ${grantType} grant`);
  }
  if (grantType === 'authorization_code') await authorizationCodeGrant(deps, res, client, params);
  else await refreshTokenGrant(deps, res, client, params);
}

/** OAuth 2.1 §4.1.3. */
async function authorizationCodeGrant(
  deps: AsDeps,
  res: ServerResponse,
  client: ClientRecord,
  params: FormParams,
) {
  const { ctx, store } = deps;
  const code = params.get('code');
  if (code === undefined) throw invalidRequest('code is missing');
  const codeHash = sha256(code);
  const record = await store.getCode(codeHash);
  if (!record) throw invalidGrant('the authorization code is unknown, expired or revoked');
  // Fault: a replay revokes the grant before (and even if) the request is validated.
  if (record.redeemedGrantId !== undefined && ctx.fault('as-code-replay-revokes-unvalidated')) {
    await store.revokeGrant(record.redeemedGrantId);
  }
  if (record.redeemedGrantId === undefined && record.expiresAt <= Date.now()) {
    throw invalidGrant('the authorization code has expired');
  }
  validateCodeBindings(deps, client, record, params);
  // A grant store that is full refuses before the code is consumed, so the client can retry with it
  // (a replay creates no grant, so it goes on to be refused as one).
  if (record.redeemedGrantId === undefined) await assertRoomForGrant(deps);

  // Everything checked: now redeem, atomically (one winner among parallel redemptions).
  const grant: Grant = {
    id: randomUUID(),
    clientId: client.client_id,
    subject: record.subject,
    scope: record.request.scope,
    resource: record.request.resource,
    revoked: false,
  };
  // Fault: check-then-act. The code's state read above is trusted after a storage round trip
  // (1.5 s: wide enough that a loaded machine still overlaps the burst), so parallel redemptions of
  // one code all win (a sequential replay is still refused).
  const racy = ctx.fault('as-code-redeem-race');
  const seenRedeemed = record.redeemedGrantId !== undefined;
  if (racy) await new Promise((resolve) => setTimeout(resolve, 1500));
  const result = await store.redeemCode(codeHash, grant.id);
  if (result.kind === 'unknown') throw invalidGrant('the authorization code is unknown, expired or revoked');
  const replayed = racy ? seenRedeemed : result.kind === 'replayed';
  // Fault: a redeemed code is honoured again (each redemption gets its own grant).
  if (replayed && result.kind === 'replayed' && !ctx.fault('as-code-reuse-allowed')) {
    // OAuth 2.1 §4.1.3: "MUST deny the request and SHOULD revoke (when possible) all tokens
    // previously issued based on that authorization code". Fault: nothing is revoked.
    if (!ctx.fault('as-code-replay-no-revoke') && result.code.redeemedGrantId !== undefined) {
      await store.revokeGrant(result.code.redeemedGrantId);
    }
    throw invalidGrant('the authorization code was already used; tokens issued from it are revoked');
  }

  let refreshToken: string | undefined;
  const offlineGate = refreshOnlyWithOfflineAccess(ctx) && !grant.scope.split(' ').includes('offline_access');
  if (client.metadata.grant_types.includes('refresh_token') && !offlineGate) {
    const rt = newRefreshToken();
    grant.activeRefreshHash = rt.hash;
    refreshToken = rt.token;
  }
  await store.saveGrant(grant);
  await sendTokenResponse(ctx, store, res, grant, grant.scope, refreshToken);
}

async function assertRoomForGrant(deps: AsDeps): Promise<void> {
  if (await deps.store.hasRoomForGrant()) return;
  throw storeFull(
    'this server holds as many grants as it can; try again later',
    await deps.store.secondsUntilRoom('grants'),
  );
}

/** The code must be presented by its client, with its verifier, redirect URI and resource. */
function validateCodeBindings(
  deps: AsDeps,
  client: ClientRecord,
  code: CodeRecord,
  params: FormParams,
): void {
  const { ctx } = deps;
  const request = code.request;
  // OAuth 2.1 §4.1.3: "ensure that the authorization code was issued to the authenticated
  // confidential client, or if the client is public, ensure that the code was issued to client_id".
  // Fault: any client may redeem the code.
  if (request.clientId !== client.client_id && !ctx.fault('as-code-client-unbound')) {
    throw invalidGrant('the authorization code was issued to another client');
  }

  // OAuth 2.1 §4.1.3: verify code_verifier is present iff a code_challenge was, and matches it
  // (RFC 7636 §4.6). Fault: the verifier is not looked at.
  const verifier = params.get('code_verifier');
  if (!ctx.fault('as-pkce-verifier-ignored')) {
    if (request.codeChallenge === undefined) {
      if (verifier !== undefined)
        throw invalidRequest('code_verifier sent, but the authorization request had no code_challenge');
    } else if (verifier === undefined) {
      // Fault: a missing verifier is accepted (a wrong one still fails).
      if (!ctx.fault('as-pkce-verifier-optional')) throw invalidGrant('code_verifier is required');
    } else {
      const expected = request.codeChallengeMethod === 'plain' ? verifier : s256(verifier);
      // Fault: the challenge itself is accepted as the verifier (the transform is not enforced).
      const challengeAsVerifier =
        verifier === request.codeChallenge && ctx.fault('as-pkce-challenge-as-verifier');
      if (
        !challengeAsVerifier &&
        (!PKCE_VALUE.test(verifier) || !safeEqual(expected, request.codeChallenge))
      ) {
        throw invalidGrant('code_verifier does not match the code_challenge');
      }
    }
  }

  // OAuth 2.1 §4.1.3 / RFC 6749 §4.1.3: a redirect_uri sent here must be identical to the one of
  // the authorization request; omitting it is fine for OAuth 2.1 clients (PKCE binds the code).
  // Fault: the value is not compared.
  const redirectUri = params.get('redirect_uri');
  if (
    redirectUri !== undefined &&
    redirectUri !== request.redirectUri &&
    !ctx.fault('as-token-redirect-uri-ignored')
  ) {
    throw invalidGrant('redirect_uri differs from the one of the authorization request');
  }

  // RFC 8707 §2.2: a `resource` here must be one the grant covers. Fault: it is not compared.
  const resource = params.get('resource');
  if (resource !== undefined && resource !== request.resource && !ctx.fault('as-token-resource-unchecked')) {
    throw new HttpError(400, 'invalid_target', `this grant covers only ${request.resource}`);
  }
}

/** OAuth 2.1 §4.3 (refresh) and §4.3.1 (rotation for public clients, reuse detection). */
async function refreshTokenGrant(
  deps: AsDeps,
  res: ServerResponse,
  client: ClientRecord,
  params: FormParams,
) {
  const { ctx, store } = deps;
  const presented = params.get('refresh_token');
  if (presented === undefined) throw invalidRequest('refresh_token is missing');
  const oldHash = sha256(presented);
  const found = await store.findGrantByRefresh(oldHash);
  if (!found || found.grant.revoked) throw invalidGrant('the refresh token is unknown or revoked');
  const { grant } = found;
  // OAuth 2.1 §4.3: the refresh token must have been issued to this client. Fault: any client may use it.
  if (grant.clientId !== client.client_id && !ctx.fault('as-refresh-client-unbound')) {
    throw invalidGrant('the refresh token was issued to another client');
  }
  // Fault: a superseded refresh token is honoured like the active one (the family is rotated on).
  const supersededAccepted = !found.active && ctx.fault('as-refresh-superseded-accepted');
  if (!found.active && !supersededAccepted) return refreshReuse(deps, grant);
  const activeHash = supersededAccepted ? grant.activeRefreshHash! : oldHash;

  let scope: string;
  // Fault: the resource is not compared, and the new access token is issued for the one asked
  // for (a grant widened to a resource the user never consented to).
  const resource = params.get('resource');
  const unchecked = ctx.fault('as-refresh-resource-unchecked');
  try {
    // OAuth 2.1 §4.3.1 / RFC 6749 §6: a requested scope MUST NOT include any scope not originally
    // granted; omitted = the original scope. Fault: any supported scope may be added.
    scope = grant.scope;
    const requested = params.get('scope');
    if (requested !== undefined) {
      const allowed = ctx.fault('as-refresh-scope-widening') ? SUPPORTED_SCOPES : grant.scope.split(' ');
      const narrowed = parseScope(requested, allowed);
      if (narrowed === undefined)
        throw new HttpError(400, 'invalid_scope', `scope must be within the grant: ${grant.scope}`);
      scope = narrowed;
    }
    // RFC 8707 §2.2 / OAuth 2.1 §3.2.3: the refresh token is bound to the resource consented to.
    if (resource !== undefined && resource !== grant.resource && !unchecked) {
      throw new HttpError(400, 'invalid_target', `this grant covers only ${grant.resource}`);
    }
  } catch (err) {
    // Fault: the token was rotated (burned) before the request was validated, so a refused
    // request loses it; a valid request rotates it once, as always.
    if (ctx.fault('as-refresh-failure-burns-token'))
      await store.rotateRefresh(oldHash, newRefreshToken().hash);
    throw err;
  }
  const issuedFor = (g: Grant): Grant => (unchecked && resource !== undefined ? { ...g, resource } : g);

  // Fault: the refresh token is not rotated; the same one comes back.
  if (ctx.fault('as-refresh-no-rotation')) {
    await sendTokenResponse(ctx, store, res, issuedFor(grant), scope, presented);
    return;
  }
  const next = newRefreshToken();
  // Fault: check-then-act. The "active" state read above is trusted after a storage round trip
  // (1.5 s: wide enough that a loaded machine still overlaps the burst), so parallel refreshes with
  // one token all succeed (a sequential reuse is still caught).
  if (ctx.fault('as-refresh-rotate-race')) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const raced = await store.rotateRefresh(oldHash, next.hash);
    if (raced.kind === 'unknown' || raced.kind === 'revoked')
      throw invalidGrant('the refresh token is unknown or revoked');
    // 'reused' is ignored: the stale read said the token was still active.
    await sendTokenResponse(ctx, store, res, issuedFor(raced.grant), scope, next.token);
    return;
  }
  const rotated = await store.rotateRefresh(activeHash, next.hash);
  if (rotated.kind === 'reused') return refreshReuse(deps, rotated.grant);
  if (rotated.kind !== 'rotated') throw invalidGrant('the refresh token is unknown or revoked');
  await sendTokenResponse(ctx, store, res, issuedFor(rotated.grant), scope, next.token);
}

/**
 * A superseded refresh token came back: either the legitimate client or an attacker holds a stolen
 * copy, and the AS cannot tell which, so the whole grant ends (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
 */
async function refreshReuse(deps: AsDeps, grant: Grant): Promise<never> {
  // Fault: the reuse is refused, but the grant (and its active refresh token) lives on.
  if (!deps.ctx.fault('as-refresh-reuse-undetected')) await deps.store.revokeGrant(grant.id);
  throw invalidGrant('the refresh token was already used; the grant is revoked');
}
