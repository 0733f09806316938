// Issuing tokens: RFC 9068 JWT access tokens (or opaque ones, variant opaque-tokens), opaque
// refresh tokens, and the token response.

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

/** Lifetime of access tokens in seconds. Fault: a day instead of minutes (MCP §Token Theft: "short-lived"). */
function accessTokenTtl(ctx: ServerContext): number {
  return ctx.fault('as-access-token-long-lived') ? 86_400 : (ctx.options.accessTokenTtlSeconds ?? 600);
}

/** How many access tokens one key signs before the variant jwks-rotation rotates it. */
export const TOKENS_PER_KEY = 5;
/** Retired keys kept published at most (rotation pauses while this many still have live tokens). */
export const MAX_RETIRED_KEYS = 4;

/**
 * An RFC 9068 access token: header `typ: at+jwt` (§2.1), claims iss, exp, aud, sub, client_id,
 * iat, jti (§2.2) and scope (§2.2.3). `aud` is the resource the grant was bound to (RFC 8707 §2:
 * "audience-restrict"; MCP §Token Audience Binding).
 */
export async function mintAccessToken(
  ctx: ServerContext,
  claims: AccessTokenClaims,
): Promise<{ token: string; jti: string; expiresIn: number; expiresAt: number }> {
  const ttl = accessTokenTtl(ctx);
  // Variant: the key rotates every few tokens; retired keys stay published while their tokens live.
  if (
    ctx.variant('jwks-rotation') &&
    ctx.keys.signedWithCurrent >= TOKENS_PER_KEY &&
    ctx.keys.retiredCount < MAX_RETIRED_KEYS
  ) {
    await ctx.keys.rotate();
  }
  const iat = Math.floor(Date.now() / 1000);
  const key = ctx.keys.use((iat + ttl) * 1000);
  const jti = randomUUID();
  // Fault: the token's audience is the issuer, not the requested resource.
  const audience = ctx.fault('as-aud-ignores-resource') ? ctx.issuer : claims.resource;
  // Fault: the header says `typ: JWT`, so the token is not distinguishable as an access token.
  const typ = ctx.fault('as-jwt-typ-jwt') ? 'JWT' : 'at+jwt';
  const token = await new SignJWT({ client_id: claims.clientId, scope: claims.scope })
    .setProtectedHeader({ alg: 'ES256', typ, kid: key.kid })
    .setIssuer(ctx.issuer)
    .setSubject(claims.subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, jti, expiresIn: ttl, expiresAt: (iat + ttl) * 1000 };
}

/**
 * An opaque access token (variant opaque-tokens): 256 random bits that mean nothing by themselves.
 * The store keeps what it stands for under its hash (its "jti"), which introspection reads back.
 */
async function mintOpaqueAccessToken(
  ctx: ServerContext,
  store: AuthorizationServerStore,
  grantId: string,
  claims: AccessTokenClaims,
): Promise<{ token: string; expiresIn: number }> {
  const ttl = accessTokenTtl(ctx);
  const token = randomToken();
  const issuedAt = Math.floor(Date.now() / 1000);
  await store.recordAccessToken(grantId, sha256(token), (issuedAt + ttl) * 1000, { ...claims, issuedAt });
  return { token, expiresIn: ttl };
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
  const claims = { subject: grant.subject, clientId: grant.clientId, scope, resource: grant.resource };
  let at: { token: string; expiresIn: number };
  if (ctx.variant('opaque-tokens')) {
    at = await mintOpaqueAccessToken(ctx, store, grant.id, claims);
  } else {
    const jwt = await mintAccessToken(ctx, claims);
    await store.recordAccessToken(grant.id, jwt.jti, jwt.expiresAt);
    at = jwt;
  }
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
