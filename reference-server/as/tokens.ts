// Issuing tokens: RFC 9068 JWT access tokens, opaque refresh tokens, and the token response.

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import type { ServerContext } from '../context.ts';
import { sendJson } from '../http.ts';
import type { AuthorizationServerStore, Grant } from '../store.ts';
import { randomToken, sha256 } from './crypto.ts';

export interface AccessTokenClaims {
  subject: string;
  clientId: string;
  scope: string;
  resource: string;
}

/**
 * An RFC 9068 access token: header `typ: at+jwt` (§2.1), claims iss, exp, aud, sub, client_id,
 * iat, jti (§2.2) and scope (§2.2.3). `aud` is the resource the grant was bound to (RFC 8707 §2:
 * "audience-restrict"; MCP §Token Audience Binding).
 */
export async function mintAccessToken(
  ctx: ServerContext,
  claims: AccessTokenClaims,
): Promise<{ token: string; jti: string; expiresIn: number; expiresAt: number }> {
  // Fault: access tokens live a day instead of minutes (MCP §Token Theft: "short-lived").
  const ttl = ctx.fault('as-access-token-long-lived') ? 86_400 : (ctx.options.accessTokenTtlSeconds ?? 600);
  const iat = Math.floor(Date.now() / 1000);
  const jti = randomUUID();
  // Fault: the token's audience is the issuer, not the requested resource.
  const audience = ctx.fault('as-aud-ignores-resource') ? ctx.issuer : claims.resource;
  // Fault: the header says `typ: JWT`, so the token is not distinguishable as an access token.
  const typ = ctx.fault('as-jwt-typ-jwt') ? 'JWT' : 'at+jwt';
  const token = await new SignJWT({ client_id: claims.clientId, scope: claims.scope })
    .setProtectedHeader({ alg: 'ES256', typ, kid: ctx.signingKey.kid })
    .setIssuer(ctx.issuer)
    .setSubject(claims.subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(jti)
    .sign(ctx.signingKey.privateKey);
  return { token, jti, expiresIn: ttl, expiresAt: (iat + ttl) * 1000 };
}

/** A new opaque refresh token: 256 random bits; the store only ever sees its hash. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomToken();
  return { token, hash: sha256(token) };
}

/**
 * Answers a successful token request (OAuth 2.1 §3.2.3): the access token for `scope` (which may
 * be narrower than the grant's), and the refresh token when one is issued.
 */
export async function sendTokenResponse(
  ctx: ServerContext,
  store: AuthorizationServerStore,
  res: ServerResponse,
  grant: Grant,
  scope: string,
  refreshToken: string | undefined,
): Promise<void> {
  const at = await mintAccessToken(ctx, {
    subject: grant.subject,
    clientId: grant.clientId,
    scope,
    resource: grant.resource,
  });
  await store.recordAccessToken(grant.id, at.jti, at.expiresAt);
  const body: Record<string, unknown> = {
    access_token: at.token,
    // Fault: token_type is left out (OAuth 2.1 §3.2.3: REQUIRED).
    ...(ctx.fault('as-token-no-token-type') ? {} : { token_type: 'Bearer' }),
    expires_in: at.expiresIn,
    scope,
  };
  if (refreshToken !== undefined) body.refresh_token = refreshToken;
  // OAuth 2.1 §3.2.3: "MUST include the HTTP Cache-Control response header field with a value of no-store".
  // Fault: tokens are sent without it.
  const headers: Record<string, string> = ctx.fault('as-token-no-cache-control')
    ? {}
    : { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  sendJson(res, 200, body, headers);
}
