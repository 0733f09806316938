// `WWW-Authenticate` challenges of the MCP endpoint (RFC 6750 §3, RFC 9728 §5.1, OAuth 2.1 §5.3).
//
// Shapes (requirements §4.1):
//   no credentials  → 401  Bearer resource_metadata="…", scope="…"             (no `error`, RFC 6750 §3.1)
//   bad token       → 401  Bearer error="invalid_token", error_description="…", resource_metadata="…", scope="…"
//   missing scope   → 403  Bearer error="insufficient_scope", scope="<all scopes the operation needs>",
//                          resource_metadata="…", error_description="…"
// Every value is sent as a quoted-string (RFC 9110 §11.2), and no value may contain `"` or `\`
// (OAuth 2.1 §5.3.1 character sets), so no escaping is ever needed.

import { DEFAULT_SCOPE, type ServerContext } from '../context.ts';
import { metadataUrl } from './metadata.ts';

type Param = readonly [name: string, value: string];

/** OAuth 2.1 §5.3.1: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E. */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

function format(params: readonly Param[], quoteAll = true): string {
  if (params.length === 0) return 'Bearer';
  return `Bearer ${params.map(([k, v]) => (quoteAll ? `${k}="${v}"` : `${k}=${v}`)).join(', ')}`;
}

/** The scopes a 401 asks for: those of the operation, or the default scope when it names none. */
function challengeScope(ctx: ServerContext, needed: readonly string[]): string {
  const scopes = needed.length > 0 ? [...needed] : [DEFAULT_SCOPE];
  // MCP 2026-07-28 §Refresh Tokens: the challenge SHOULD NOT carry offline_access.
  if (ctx.fault('rs-challenge-offline-access')) scopes.push('offline_access');
  return scopes.join(' ');
}

/** Builds a 401 challenge from its leading params (error, error_description, if any). */
function challenge401(ctx: ServerContext, lead: readonly Param[], needed: readonly string[]): string {
  // RFC 6750 §3: a Bearer challenge carries one or more auth-params; the fault sends none.
  if (ctx.fault('rs-challenge-bare-bearer')) return 'Bearer';
  const params: Param[] = [...lead];
  // MCP 2025-06-18 §Authorization Server Location; RFC 9728 §5.1.
  if (!ctx.fault('rs-challenge-no-resource-metadata')) params.push(['resource_metadata', metadataUrl(ctx)]);
  // MCP 2025-11-25 §Scope Selection Strategy: SHOULD include `scope`. Variant scope-required: a
  // server that names no scope (the client falls back to what the AS accepts).
  if (!ctx.fault('rs-challenge-no-scope') && !ctx.variant('scope-required'))
    params.push(['scope', challengeScope(ctx, needed)]);
  // RFC 9110 §11.2: each auth-param at most once per challenge; the fault repeats `scope`.
  if (ctx.fault('rs-challenge-duplicate-param')) params.push(['scope', DEFAULT_SCOPE]);
  if (ctx.fault('rs-challenge-unquoted')) {
    // RFC 9110 §11.2: a value that is not a token (a URL has ':' and '/') must be quoted.
    return format(params, false);
  }
  return format(params);
}

/** 401 to a request that carried no (Bearer) credentials: RFC 6750 §3.1, no `error`. */
export function anonymousChallenge(ctx: ServerContext, needed: readonly string[]): string {
  const lead: Param[] = ctx.fault('rs-anonymous-error') ? [['error', 'invalid_token']] : [];
  return challenge401(ctx, lead, needed);
}

/** 401 to a request whose token failed verification: RFC 6750 §3.1 `invalid_token`. */
export function invalidTokenChallenge(
  ctx: ServerContext,
  description: string,
  needed: readonly string[],
): string {
  return challenge401(
    ctx,
    [
      ['error', 'invalid_token'],
      ['error_description', safeDescription(description)],
    ],
    needed,
  );
}

/**
 * 403 for a valid token that lacks scopes: RFC 6750 §3.1 `insufficient_scope`; MCP 2026-07-28
 * §Scope Challenge Handling: one challenge names every scope the operation needs (so a client
 * re-authorizes once), which also repeats the granted ones as MCP 2025-11-25 recommends.
 */
export function insufficientScopeChallenge(
  ctx: ServerContext,
  needed: readonly string[],
  granted: ReadonlySet<string>,
): string {
  const missing = needed.filter((s) => !granted.has(s));
  let scopes: readonly string[] = needed;
  if (ctx.fault('rs-scope-challenge-one-at-a-time')) scopes = missing.slice(0, 1);
  else if (ctx.fault('rs-scope-challenge-omits-granted')) scopes = missing;
  // RFC 9728 §5.2: a challenge may name new metadata; it must resolve. The fault names a dead URL.
  const prm = ctx.fault('rs-403-metadata-url-broken') ? `${metadataUrl(ctx)}-moved` : metadataUrl(ctx);
  return format([
    ['error', 'insufficient_scope'],
    ['scope', scopes.join(' ')],
    ['resource_metadata', prm],
    ['error_description', safeDescription(`this operation needs the scopes: ${needed.join(' ')}`)],
  ]);
}
