// Token revocation (RFC 7009). Refresh tokens end their whole grant; access tokens are recorded
// as revoked by jti (a JWT's claim, an opaque token's hash). The bundled resource server verifies
// JWTs locally, so a revoked JWT stays usable there until it expires; an opaque token (variant
// opaque-tokens) is refused at once, because the resource server introspects it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { HttpError, readForm } from '../http.ts';
import type { ClientRecord } from '../store.ts';
import { authenticateClient } from './client-auth.ts';
import { sha256 } from './crypto.ts';
import type { AsDeps } from './deps.ts';

/** POST /revoke. RFC 7009 §2.1: POST, form-encoded, client authenticated as at the token endpoint. */
export async function handleRevoke(deps: AsDeps, req: IncomingMessage, res: ServerResponse) {
  const { ctx } = deps;
  if (req.method !== 'POST') {
    throw new HttpError(405, 'invalid_request', 'the revocation endpoint accepts POST only', {
      Allow: 'POST, OPTIONS',
    });
  }
  const params = await readForm(req);
  if (params.duplicates.length > 0) {
    throw new HttpError(400, 'invalid_request', `repeated parameter: ${params.duplicates.join(', ')}`);
  }
  const client = await authenticateClient(ctx, deps.store, deps.cimd, req, params);
  const token = params.get('token');
  if (token === undefined) throw new HttpError(400, 'invalid_request', 'token is missing');
  // token_type_hint is only a hint (RFC 7009 §2.1): both kinds are looked up whatever it says.
  // Fault: the OPTIONAL hint is demanded.
  if (params.get('token_type_hint') === undefined && ctx.fault('as-revoke-requires-hint')) {
    throw new HttpError(400, 'invalid_request', 'token_type_hint is missing');
  }

  const revocation =
    (await findRefreshToken(deps, client, token)) ??
    (await findOpaqueAccessToken(deps, client, token)) ??
    (await findAccessToken(deps, client, token));
  // RFC 7009 §2.2: "invalid tokens do not cause an error". Fault: an unknown token is an error.
  if (!revocation && ctx.fault('as-revoke-unknown-token-error')) {
    throw new HttpError(400, 'invalid_request', 'unknown token');
  }
  // Fault: nothing is revoked (the 200 is a lie).
  if (revocation && !ctx.fault('as-revoke-noop')) await revocation();
  res.writeHead(200, { 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/**
 * RFC 7009 §2.1: the AS "verifies whether the token was issued to the client making the revocation
 * request. If this validation fails, the request is refused and the client is informed of the
 * error". §2.2.1 names no specific code for it, so invalid_request (400) is used.
 */
function refuseOtherClient(deps: AsDeps, owner: string, client: ClientRecord): boolean {
  if (owner === client.client_id) return false;
  // Fault: a client may revoke another client's tokens.
  if (deps.ctx.fault('as-revoke-any-client')) return false;
  throw new HttpError(400, 'invalid_request', 'the token was not issued to this client');
}

type Revocation = () => Promise<void>;

/** A refresh token of this client: revoking it ends the whole grant (RFC 7009 §2.1 SHOULD for its access tokens). */
async function findRefreshToken(
  deps: AsDeps,
  client: ClientRecord,
  token: string,
): Promise<Revocation | undefined> {
  const found = await deps.store.findGrantByRefresh(sha256(token));
  if (!found) return undefined;
  refuseOtherClient(deps, found.grant.clientId, client);
  return () => deps.store.revokeGrant(found.grant.id);
}

/** An opaque access token of this server (variant opaque-tokens) issued to this client. */
async function findOpaqueAccessToken(
  deps: AsDeps,
  client: ClientRecord,
  token: string,
): Promise<Revocation | undefined> {
  const jti = sha256(token);
  const record = await deps.store.getAccessToken(jti);
  if (!record?.details) return undefined;
  refuseOtherClient(deps, record.details.clientId, client);
  refuseAccessTokens(deps);
  return () => deps.store.revokeAccessToken(jti);
}

/** An access token of this server (a JWT it signed) issued to this client: its jti is revoked. */
async function findAccessToken(
  deps: AsDeps,
  client: ClientRecord,
  token: string,
): Promise<Revocation | undefined> {
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return undefined;
  try {
    const keys = createLocalJWKSet({ keys: deps.ctx.keys.published().map((k) => k.publicJwk) });
    await jwtVerify(token, keys, { issuer: deps.ctx.issuer });
  } catch {
    return undefined;
  }
  const { jti, client_id: owner } = decodeJwt(token);
  if (typeof jti !== 'string' || typeof owner !== 'string') return undefined;
  refuseOtherClient(deps, owner, client);
  refuseAccessTokens(deps);
  return () => deps.store.revokeAccessToken(jti);
}

/**
 * Fault: access tokens cannot be revoked, and the refusal uses invalid_request instead of
 * RFC 7009 §2.2.1's unsupported_token_type.
 */
function refuseAccessTokens(deps: AsDeps): void {
  if (deps.ctx.fault('as-revoke-access-token-refused')) {
    throw new HttpError(400, 'invalid_request', 'access tokens cannot be revoked here');
  }
}
