// Bearer token verification: RFC 9068 JWT access tokens, checked with jose.
//
// Two steps, each a small function, so that every rule (and the fault that breaks it) has one place:
//   1. signature  (jose compactVerify): algorithm allow-list ES256, RS256 (RFC 8725 §3.1; RS256 is
//      required by RFC 9068 §2.1), key from the
//      issuer's JWKS only (RFC 9068 §4 "MUST use the keys provided by the authorization server");
//   2. claims     (below): `typ` at+jwt, `iss` exactly the trusted issuer, `aud` names this
//      resource (RFC 8707 §2; MCP §Token Handling), `exp` and `iat` required, `nbf` honoured,
//      `sub` and `client_id` required (RFC 9068 §2.2), a small clock tolerance.
// jose's jwtVerify would do step 2 too, but its options cannot switch off one rule at a time
// (exp and nbf share a tolerance), and the fault switches need exactly that.
//
// Keys: in process, the bundled authorization server's published keys (createLocalJWKSet; more
// than one while a retired key still has live tokens, variant jwks-rotation); with `trustIssuer`,
// the external issuer's `jwks_uri`, found by RFC 8414 then OpenID discovery and fetched and cached
// by createRemoteJWKSet.
//
// Variants: opaque-tokens replaces all of this by RFC 7662 introspection (introspection.ts);
// revoke-earlier-grants adds a look-up of the token's jti in the grant store the bundled
// authorization server shares with this resource server, so a superseded grant's token stops
// working at once.

import { createPublicKey } from 'node:crypto';
import {
  compactVerify,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  EmbeddedJWK,
  errors,
  type JWSHeaderParameters,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import type { ServerContext, SigningKey } from '../context.ts';
import type { AuthorizationServerStore } from '../store.ts';
import { isToken68 } from './bearer.ts';
import { createIntrospectionVerifier } from './introspection.ts';

/** Seconds of clock skew tolerated on exp / nbf. */
export const CLOCK_TOLERANCE_SECONDS = 10;

export interface VerifiedToken {
  sub: string;
  clientId: string;
  scopes: string[];
  exp: number;
  /** The `jti` claim, when the token has one. */
  jti?: string;
}

export type Verification = { ok: true; token: VerifiedToken } | { ok: false; description: string };

/** A failure of our own infrastructure (keys unreachable), not of the token: answered 503. */
export class KeySourceUnavailable extends Error {
  override name = 'KeySourceUnavailable';
}

type KeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey | Uint8Array>;

export interface TokenVerifier {
  /** The issuer tokens must come from (read at request time: URLs are known after listen()). */
  issuer(): string;
  verify(token: string): Promise<Verification>;
}

export async function createTokenVerifier(
  ctx: ServerContext,
  grants?: Pick<AuthorizationServerStore, 'isAccessTokenRevoked'>,
): Promise<TokenVerifier> {
  if (ctx.variant('opaque-tokens')) return createIntrospectionVerifier(ctx);
  const trusted = ctx.options.trustIssuer;
  let keys: KeyResolver;
  let issuer: () => string;
  if (trusted) {
    const jwksUri = await discoverJwksUri(trusted);
    const remote = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    keys = (header) => remote(header);
    issuer = () => trusted;
  } else {
    keys = localKeys(ctx);
    issuer = () => ctx.issuer;
  }
  // Variant: a shared grant store tells which tokens a newer authorization superseded.
  const revocations = !trusted && ctx.variant('revoke-earlier-grants') ? grants : undefined;
  return {
    issuer,
    async verify(token) {
      const verified = await verifyToken(ctx, token, keys, issuer());
      const jti = verified.ok ? verified.token.jti : undefined;
      if (revocations && jti !== undefined && (await revocations.isAccessTokenRevoked(jti))) {
        return fail('the access token was revoked');
      }
      return verified;
    },
  };
}

/** The keys the bundled authorization server publishes, re-read when they change (jwks-rotation). */
function localKeys(ctx: ServerContext): KeyResolver {
  let cached: { kids: string; resolve: KeyResolver } | undefined;
  return (header) => {
    const published: SigningKey[] = ctx.keys.published();
    const kids = published.map((k) => k.kid).join(' ');
    if (cached?.kids !== kids) {
      const set = createLocalJWKSet({ keys: published.map((k) => k.publicJwk) });
      cached = { kids, resolve: (h) => set(h) };
    }
    return cached.resolve(header);
  };
}

async function verifyToken(
  ctx: ServerContext,
  token: string,
  keys: KeyResolver,
  issuer: string,
): Promise<Verification> {
  if (token === '') return fail('the Authorization header carries no token');
  let header: ProtectedHeaderParameters;
  try {
    if (!isToken68(token)) throw new Error('not token68');
    header = decodeProtectedHeader(token);
  } catch {
    // The fault turns a garbage token into an internal error, which MCP §Token Handling forbids.
    if (ctx.fault('rs-bad-token-500'))
      throw new Error('reference-server fault rs-bad-token-500: unparseable token');
    return fail('the access token is not a well-formed JWT');
  }
  const signed = await verifySignature(ctx, token, header, keys);
  if (!signed.ok) return signed;
  return checkClaims(ctx, header, signed.payload, issuer);
}

type Signed = { ok: true; payload: JWTPayload } | { ok: false; description: string };

/** Step 1: the signature, with the key the issuer published, ES256 or RS256 only. */
async function verifySignature(
  ctx: ServerContext,
  token: string,
  header: ProtectedHeaderParameters,
  keys: KeyResolver,
): Promise<Signed> {
  // Header members are attacker data: `String()` of an object such as {"toString":1} would throw.
  const alg = typeof header.alg === 'string' ? header.alg : '';
  // Each fault below opens one hole that the normal path (the last statement) keeps shut.
  if (ctx.fault('rs-signature-not-checked')) return decodeUnverified(token);
  if (alg.toLowerCase() === 'none' && ctx.fault('rs-alg-none-accepted')) return decodeUnverified(token);
  if (header.jwk !== undefined && ctx.fault('rs-embedded-jwk-accepted')) {
    return withJose(() => compactVerify(token, EmbeddedJWK));
  }
  if (alg === 'HS256' && ctx.fault('rs-algorithm-confusion')) {
    // Any of the byte strings an attacker would use as the HMAC secret (see confusionSecrets).
    let signed: Signed = fail('the access token signature does not verify');
    for (const secret of confusionSecrets(ctx)) {
      signed = await withJose(() =>
        compactVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] }),
      );
      if (signed.ok) return signed;
    }
    return signed;
  }
  // RFC 9068 §2.1: resource servers "MUST include RS256 among their supported signature algorithms"
  // (an external issuer such as oidc-provider signs with it); both are asymmetric and the key comes
  // from the issuer's JWKS only, so the allow-list still shuts out HS256 confusion and `none`.
  return withJose(() => compactVerify(token, keys, { algorithms: ['ES256', 'RS256'] }));
}

async function withJose(run: () => Promise<{ payload: Uint8Array }>): Promise<Signed> {
  try {
    const { payload } = await run();
    return parsePayload(payload);
  } catch (err) {
    return { ok: false, description: describeJoseError(err) };
  }
}

function decodeUnverified(token: string): Signed {
  const parts = token.split('.');
  if (parts.length !== 3) return fail('the access token is not a well-formed JWT');
  try {
    return parsePayload(Buffer.from(parts[1]!, 'base64url'));
  } catch {
    return fail('the access token is not a well-formed JWT');
  }
}

function parsePayload(bytes: Uint8Array): Signed {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return fail('the access token payload is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return fail('the access token payload is not a JSON object');
  }
  return { ok: true, payload: payload as JWTPayload };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the access token algorithm is not allowed';
  if (err instanceof errors.JWKSNoMatchingKey)
    return 'the access token was not signed with a key of the authorization server';
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return 'the access token signature does not verify';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    throw new KeySourceUnavailable('the keys of the authorization server could not be fetched');
  }
  if (err instanceof errors.JOSEError) return 'the access token is not a valid JWS';
  if (err instanceof TypeError && /fetch/i.test(err.message)) {
    throw new KeySourceUnavailable('the keys of the authorization server could not be fetched');
  }
  return 'the access token could not be verified';
}

/** Step 2: the claims (RFC 9068 §4, RFC 7519 §4.1). */
function checkClaims(
  ctx: ServerContext,
  header: ProtectedHeaderParameters,
  claims: JWTPayload,
  issuer: string,
): Verification {
  // RFC 9068 §4: typ must be at+jwt (media type, so case-insensitive, optional "application/").
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
  if (typ !== 'at+jwt' && typ !== 'application/at+jwt' && !ctx.fault('rs-typ-not-checked')) {
    return fail('the token is not an RFC 9068 access token (typ must be at+jwt)');
  }
  if (claims.iss !== issuer && !ctx.fault('rs-issuer-not-checked')) {
    return fail('the access token was not issued by the trusted authorization server');
  }
  const audience = checkAudience(ctx, claims.aud, ctx.resource);
  if (audience !== undefined) return fail(audience);

  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
    return fail('the access token lacks a numeric exp or iat claim');
  }
  if (now > claims.exp + CLOCK_TOLERANCE_SECONDS && !ctx.fault('rs-expired-accepted')) {
    return fail('the access token expired');
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number') return fail('the access token nbf claim is not a number');
    if (now + CLOCK_TOLERANCE_SECONDS < claims.nbf && !ctx.fault('rs-nbf-ignored')) {
      return fail('the access token is not valid yet (nbf)');
    }
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') return fail('the access token lacks a sub claim');
  const clientId = claims.client_id;
  if (typeof clientId !== 'string' || clientId === '')
    return fail('the access token lacks a client_id claim');
  const scope = claims.scope;
  if (scope !== undefined && typeof scope !== 'string')
    return fail('the access token scope claim is not a string');
  return {
    ok: true,
    token: {
      sub: claims.sub,
      clientId,
      scopes: (scope ?? '').split(' ').filter((s) => s !== ''),
      exp: claims.exp,
      ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
    },
  };
}

/**
 * RFC 8707 §2 / MCP §Token Handling: `aud` must name this resource. Returns why it does not, or
 * undefined when it does. The scheme and host compare case-insensitively (MCP §Canonical Server
 * URI "SHOULD accept uppercase scheme and host"); the path compares exactly, so `/mcp/` is another
 * resource (requirements §3 A2).
 */
export function checkAudience(ctx: ServerContext, aud: unknown, resource: string): string | undefined {
  if (ctx.fault('rs-audience-not-checked')) return undefined;
  if (aud === undefined) {
    return ctx.fault('rs-audience-missing-accepted') ? undefined : 'the access token has no audience (aud)';
  }
  const entries = Array.isArray(aud) ? aud : [aud];
  if (!entries.every((e): e is string => typeof e === 'string') || entries.length === 0) {
    return 'the access token audience is not a string or array of strings';
  }
  if (Array.isArray(aud) && aud.length > 1 && ctx.fault('rs-audience-array-rejected')) {
    return 'the access token names more than one audience';
  }
  const caseSensitive = ctx.fault('rs-audience-case-sensitive');
  const matches = entries.some((e) => (caseSensitive ? e === resource : sameResource(e, resource)));
  return matches ? undefined : 'the access token is not intended for this resource (aud)';
}

/** Equal, or equal after lower-casing scheme and authority only. */
function sameResource(candidate: string, resource: string): boolean {
  if (candidate === resource) return true;
  const split = (url: string) => /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  const a = split(candidate);
  const b = split(resource);
  return a !== null && b !== null && a[1]!.toLowerCase() === b[1]!.toLowerCase() && a[2] === b[2];
}

export function fail(description: string): { ok: false; description: string } {
  return { ok: false, description };
}

/**
 * The public-key encodings algorithm-confusion attacks use as an HMAC secret (only the
 * `rs-algorithm-confusion` fault reads them): the SPKI PEM text with and without its final
 * newline, and the public JWK as JSON, both as published and as the private JWK minus its
 * private members (the form runner/mint.ts builds from `--mint-key`).
 */
function confusionSecrets(ctx: ServerContext): string[] {
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = ctx.signingKey.publicJwk;
  const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const privateMembers = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);
  const fromPrivate = Object.fromEntries(
    Object.entries(ctx.signingKey.privateJwk).filter(([k]) => !privateMembers.has(k)),
  );
  return [pem, pem.trimEnd(), JSON.stringify(ctx.signingKey.publicJwk), JSON.stringify(fromPrivate)];
}

/**
 * RFC 8414 §3 then OpenID Connect Discovery §4 (the order of MCP 2025-11-25 §Authorization Server
 * Metadata Discovery): the first 200 JSON document whose `issuer` is identical to the trusted
 * issuer (RFC 8414 §3.3) gives the `jwks_uri`.
 */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const candidates = [`${url.origin}/.well-known/oauth-authorization-server${path}`];
  if (path !== '') {
    candidates.push(`${url.origin}/.well-known/openid-configuration${path}`);
    candidates.push(`${url.origin}${path}/.well-known/openid-configuration`);
  } else {
    candidates.push(`${url.origin}/.well-known/openid-configuration`);
  }
  const problems: string[] = [];
  for (const candidate of candidates) {
    try {
      const response = await fetch(candidate, {
        headers: { Accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        problems.push(`${candidate}: HTTP ${response.status}`);
        continue;
      }
      const doc = (await response.json()) as Record<string, unknown>;
      if (doc.issuer !== issuer) {
        // RFC 8414 §3.3: such a document MUST NOT be used; no fallback after it (requirements §3 A6).
        problems.push(`${candidate}: issuer ${JSON.stringify(doc.issuer)} is not ${issuer}`);
        break;
      }
      if (typeof doc.jwks_uri !== 'string') {
        problems.push(`${candidate}: no jwks_uri`);
        continue;
      }
      return doc.jwks_uri;
    } catch (err) {
      problems.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot discover the keys of the trusted issuer ${issuer}: ${problems.join('; ')}`);
}
