// Token verification by RFC 7662 introspection (variant opaque-tokens): the access token is an
// opaque string, so the resource server asks the authorization server about it on every request.
//
// RFC 7662 §2.1: POST `token` (form-encoded) with the resource server's own credentials (HTTP
// Basic, ctx.introspectionCredentials). §2.2: `active` decides; when true, `aud` must name this
// resource (the same rule as a JWT's aud, verify.ts checkAudience), `exp` must lie ahead, and
// `sub`, `client_id`, `scope` say who may do what. An answer that is not a 200 JSON object with a
// boolean `active` is our infrastructure failing, not the token: 503 (KeySourceUnavailable).
// Asking on every request (no cache) is what makes revocation take effect at once (RFC 7009 §2 ->
// RS-401-21); the fault rs-introspection-cached caches positive answers, so a revoked token keeps
// working until it expires.

import { createHash } from 'node:crypto';
import type { ServerContext } from '../context.ts';
import {
  CLOCK_TOLERANCE_SECONDS,
  checkAudience,
  fail,
  KeySourceUnavailable,
  type TokenVerifier,
  type Verification,
} from './verify.ts';

export const INTROSPECTION_TIMEOUT_MS = 5_000;
/** Entries the fault's cache may hold (bounded, like every store of this server). */
const CACHE_MAX = 1000;

export function createIntrospectionVerifier(ctx: ServerContext): TokenVerifier {
  const cache = new Map<string, { verification: Verification; until: number }>();
  const cached = ctx.fault('rs-introspection-cached');
  return {
    issuer: () => ctx.issuer,
    async verify(token) {
      if (token === '') return fail('the Authorization header carries no token');
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = cached ? cache.get(key) : undefined;
      if (hit && hit.until > Date.now()) return hit.verification;
      const verification = judge(ctx, await introspect(ctx, token));
      if (cached && verification.ok) {
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(key, { verification, until: verification.token.exp * 1000 });
      }
      return verification;
    },
  };
}

/** POST /introspect at the bundled authorization server; the parsed answer. */
async function introspect(ctx: ServerContext, token: string): Promise<Record<string, unknown>> {
  const { clientId, secret } = ctx.introspectionCredentials;
  let response: Response;
  try {
    response = await fetch(`${ctx.issuer}/introspect`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(INTROSPECTION_TIMEOUT_MS),
    });
  } catch (err) {
    throw new KeySourceUnavailable(
      `the introspection endpoint could not be reached: ${(err as Error).message}`,
    );
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status !== 200 || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new KeySourceUnavailable(`the introspection endpoint answered HTTP ${response.status}`);
  }
  const answer = body as Record<string, unknown>;
  if (typeof answer.active !== 'boolean') {
    throw new KeySourceUnavailable('the introspection answer has no boolean "active"');
  }
  return answer;
}

/** RFC 7662 §2.2 / §4: what the answer allows. */
function judge(ctx: ServerContext, answer: Record<string, unknown>): Verification {
  if (answer.active !== true) return fail('the access token is not active (introspection)');
  const audience = checkAudience(ctx, answer.aud, ctx.resource);
  if (audience !== undefined) return fail(audience);
  const exp = answer.exp;
  if (typeof exp !== 'number') return fail('the introspection answer has no numeric exp');
  if (Math.floor(Date.now() / 1000) > exp + CLOCK_TOLERANCE_SECONDS) return fail('the access token expired');
  const { sub, client_id: clientId, scope } = answer;
  if (typeof sub !== 'string' || sub === '') return fail('the introspection answer has no sub');
  if (typeof clientId !== 'string' || clientId === '')
    return fail('the introspection answer has no client_id');
  if (scope !== undefined && typeof scope !== 'string')
    return fail('the introspection scope is not a string');
  return {
    ok: true,
    token: { sub, clientId, scopes: (scope ?? '').split(' ').filter((s) => s !== ''), exp },
  };
}
