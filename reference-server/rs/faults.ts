// Faults of the resource-server half. See ../faults.ts for the rules a fault follows.
//
// Each fault is read in exactly one place, as `ctx.fault('rs-…')`; `grep "fault('rs-"` lists them.
// The comment after each name says which requirement rows (../../shared/requirements.md) a check
// can prove with it.
import type { FaultDefinition } from '../faults.ts';

function rs(name: string, description: string, requiresVariants?: readonly string[]): FaultDefinition {
  return { name, half: 'rs', description, ...(requiresVariants ? { requiresVariants } : {}) };
}

export const RS_FAULTS: readonly FaultDefinition[] = [
  // --- Protected-resource metadata (RFC 9728): RS-PRM-01..15 ---
  rs('rs-prm-missing', 'No protected-resource metadata is served at any well-known URL (RFC 9728 §3).'),
  rs(
    'rs-prm-requires-auth',
    'The protected-resource metadata answers 401 to a request without a token (RFC 9728 §5).',
  ),
  rs(
    'rs-prm-wrong-content-type',
    'The protected-resource metadata is served as text/plain instead of application/json (RFC 9728 §3.2).',
  ),
  rs(
    'rs-prm-resource-mismatch',
    'The metadata `resource` names another server (https://other.example/mcp) (RFC 9728 §3.3).',
  ),
  rs(
    'rs-prm-resource-prefix',
    'The metadata `resource` is the origin without the /mcp path (a prefix of the endpoint URL) (RFC 9728 §3.3).',
  ),
  rs(
    'rs-prm-resource-trailing-slash',
    'The metadata `resource` carries a trailing slash (`…/mcp/`) (MCP §Canonical Server URI; RFC 9728 §3.3).',
  ),
  rs(
    'rs-prm-resource-uppercase-host',
    'The metadata `resource` spells the scheme and host in upper case (MCP §Canonical Server URI).',
  ),
  rs('rs-prm-resource-fragment', 'The metadata `resource` carries a fragment (`#main`) (RFC 9728 §1.2).'),
  rs('rs-prm-resource-missing', 'The metadata has no `resource` member (RFC 9728 §2).'),
  rs(
    'rs-prm-no-authorization-servers',
    'The metadata has no `authorization_servers` member (MCP §Authorization Server Location).',
  ),
  rs(
    'rs-prm-issuer-trailing-slash',
    'The `authorization_servers` entry carries a trailing slash, so it differs from the issuer (RFC 8414 §3.3).',
  ),
  rs(
    'rs-prm-empty-member',
    'The metadata carries an empty `resource_documentation` string instead of omitting it (RFC 9728 §3.2).',
  ),
  rs(
    'rs-prm-no-scopes-supported',
    'The metadata has no `scopes_supported` member (RFC 9728 §2; MCP §Scope Selection Strategy).',
  ),
  rs(
    'rs-prm-offline-access',
    'The metadata `scopes_supported` lists `offline_access` (MCP 2026-07-28 §Refresh Tokens).',
  ),
  rs('rs-prm-bearer-query', 'The metadata `bearer_methods_supported` advertises `query` (OAuth 2.1 §5.1).'),
  rs(
    'rs-prm-signing-alg-none',
    'The metadata `resource_signing_alg_values_supported` lists `none` (RFC 9728 §2).',
  ),
  rs(
    'rs-prm-root-names-endpoint',
    'A document is served at the root well-known URL whose `resource` is the /mcp endpoint, not the origin (RFC 9728 §3.3).',
  ),
  rs(
    'rs-403-metadata-url-broken',
    'The 403 insufficient_scope challenge points `resource_metadata` at a URL that answers 404 (RFC 9728 §5.2).',
  ),

  // --- 401 challenges and token validation: RS-401-01..22 ---
  rs('rs-auth-disabled', 'The MCP endpoint answers every request without a token (MCP §Token Handling).'),
  rs('rs-401-no-challenge', 'A 401 carries no WWW-Authenticate header (RFC 9110 §15.5.2; OAuth 2.1 §5.3.1).'),
  rs('rs-challenge-bare-bearer', 'The 401 challenge is a bare `Bearer` with no auth-params (RFC 6750 §3).'),
  rs(
    'rs-challenge-no-resource-metadata',
    'The 401 challenge has no `resource_metadata` parameter (RFC 9728 §5.1; MCP 2025-06-18).',
  ),
  rs(
    'rs-challenge-unquoted',
    'The 401 challenge sends `resource_metadata` as an unquoted value although it is not a token (RFC 9110 §11.2).',
  ),
  rs(
    'rs-challenge-duplicate-param',
    'The 401 challenge carries the `scope` parameter twice (RFC 9110 §11.2; RFC 6750 §3).',
  ),
  rs(
    'rs-anonymous-error',
    'The 401 to a request without credentials carries `error="invalid_token"` (RFC 6750 §3.1).',
  ),
  rs(
    'rs-challenge-no-scope',
    'The 401 challenge has no `scope` parameter (MCP 2025-11-25 §Scope Selection Strategy).',
  ),
  rs(
    'rs-challenge-offline-access',
    'The 401 challenge `scope` includes `offline_access` (MCP 2026-07-28 §Refresh Tokens).',
  ),
  rs(
    'rs-bad-token-500',
    'A token that is not a well-formed JWT makes the endpoint answer 500 (MCP §Token Handling: invalid tokens get 401).',
  ),
  rs(
    'rs-bad-token-403',
    'Every token-validation failure is answered 403 instead of 401 (OAuth 2.1 §5.3; RFC 6750 §3.1).',
  ),
  rs(
    'rs-expired-accepted',
    'Expired tokens are accepted (`exp` not checked) (RFC 9068 §4; RFC 7519 §4.1.4).',
  ),
  rs('rs-nbf-ignored', 'Tokens whose `nbf` lies in the future are accepted (RFC 7519 §4.1.5).'),
  rs(
    'rs-signature-not-checked',
    'The token signature is not verified: claims are decoded and checked, the signature ignored (RFC 9068 §4).',
  ),
  rs(
    'rs-alg-none-accepted',
    'Unsigned JWTs (`alg: none`, any casing) are accepted when their claims are valid (RFC 8725 §3.1).',
  ),
  rs(
    'rs-embedded-jwk-accepted',
    'A JWT carrying its own key in a `jwk` header is verified with that key, so any key is accepted (RFC 9068 §4).',
  ),
  rs(
    'rs-algorithm-confusion',
    'HS256 tokens are accepted when keyed with the authorization server public key bytes (SPKI PEM, or public JWK as JSON) (RFC 8725 §2.1).',
  ),
  rs(
    'rs-issuer-not-checked',
    'Tokens from any issuer are accepted when the signature verifies (RFC 9068 §4).',
  ),
  rs(
    'rs-typ-not-checked',
    'JWTs whose `typ` is not `at+jwt` (for example ID tokens with `typ: JWT`) are accepted (RFC 9068 §4).',
  ),
  rs(
    'rs-introspection-cached',
    'The resource server caches a positive introspection answer until the token expires, so a revoked opaque token keeps working (RFC 7009 §2; MCP §Token Handling). Needs the variant opaque-tokens.',
    ['opaque-tokens'],
  ),
  rs(
    'rs-query-token-accepted',
    'A token in the `access_token` query parameter authenticates the request (OAuth 2.1 §5.1).',
  ),
  rs(
    'rs-scheme-case-sensitive',
    'Only the exact spelling `Bearer` is recognised as the scheme (OAuth 2.1 §5.1.1; RFC 9110 §11.1).',
  ),
  rs(
    'rs-non-bearer-400',
    'Credentials of another scheme (Basic, …) are answered 400 without a Bearer challenge (RFC 6750 §3).',
  ),
  rs(
    'rs-duplicate-authorization-first-wins',
    'Two Authorization header lines are not refused: the first one is used (RFC 6750 §3.1 invalid_request).',
  ),
  rs(
    'rs-notifications-unauthenticated',
    'JSON-RPC notifications are accepted (202) without a token (MCP §Token Requirements: every request).',
  ),

  // --- Audience (RFC 8707): RS-AUD-01..05 ---
  rs(
    'rs-audience-not-checked',
    'Tokens issued for another resource (any `aud`) are accepted (RFC 8707 §2; MCP §Token Handling).',
  ),
  rs('rs-audience-missing-accepted', 'Tokens without an `aud` claim are accepted (MCP §Token Handling).'),
  rs(
    'rs-audience-array-rejected',
    'An `aud` array that contains this resource among others is rejected (RFC 9068 §4).',
  ),
  rs(
    'rs-audience-case-sensitive',
    'An `aud` spelling the scheme or host in upper case is rejected (MCP §Canonical Server URI).',
  ),

  // --- Scope (403) and step-up: RS-403-01..05 ---
  rs(
    'rs-scope-not-enforced',
    'Scopes are not enforced: write_note runs for a token without `mcp:write` (RFC 6750 §3.1).',
  ),
  rs(
    'rs-insufficient-scope-401',
    'Insufficient scope is answered 401 invalid_token instead of 403 insufficient_scope (RFC 6750 §3.1).',
  ),
  rs(
    'rs-insufficient-scope-jsonrpc',
    'Insufficient scope is answered as a JSON-RPC error in a 200, not an HTTP 403 (MCP §Error Handling).',
  ),
  rs(
    'rs-insufficient-scope-no-challenge',
    'The 403 insufficient_scope carries no WWW-Authenticate header (OAuth 2.1 §5.3.1).',
  ),
  rs(
    'rs-scope-challenge-one-at-a-time',
    'The 403 challenge names only the first missing scope instead of every scope the operation needs (MCP 2026-07-28 §Scope Challenge Handling).',
  ),
  rs(
    'rs-scope-challenge-omits-granted',
    'The 403 challenge names only the missing scopes, never those the token already holds (MCP 2025-11-25 §Scope Challenge Handling).',
  ),
  rs(
    'rs-scope-hierarchy-ignored',
    'The scope hierarchy is ignored: write_note is refused 403 to a token of `mcp:tools mcp:admin`, although `mcp:admin` implies `mcp:write` (MCP 2026-07-28 §Step-Up).',
  ),

  // --- Transport rules that touch auth: RS-TRN-01..04 ---
  rs(
    'rs-origin-not-checked',
    'A present, foreign `Origin` is not refused (MCP 2025-11-25 §Streamable HTTP Security Warning).',
  ),
  rs(
    'rs-protocol-version-not-checked',
    'An unsupported MCP-Protocol-Version is ignored instead of answered 400 (MCP §Protocol Version Header).',
  ),
  rs(
    'rs-header-mismatch-not-checked',
    'Mcp-Method / Mcp-Name headers that disagree with the body are not refused: the body runs (MCP 2026-07-28 §Server Validation).',
  ),
  rs(
    'rs-modern-only',
    'The server speaks MCP 2026-07-28 only: legacy requests (initialize, GET, DELETE) are refused. Legal on its own (a precondition of RS-TRN-04, used in combination with rs-modern-session-id).',
  ),
  rs(
    'rs-get-404',
    'GET on the MCP endpoint (2025 revisions) is answered 404 instead of an SSE stream or 405 (MCP 2025-11-25 Streamable HTTP §Listening for Messages from the Server).',
  ),
  rs(
    'rs-modern-session-id',
    '2026-07-28 responses carry an Mcp-Session-Id header although the revision has no sessions (MCP 2026-07-28 §Backward Compatibility).',
  ),

  // --- Sessions of the 2025 revisions: RS-SESS-01..03; state handles of 2026-07-28: RS-SESS-04 ---
  rs(
    'rs-session-authenticates',
    'A known Mcp-Session-Id authenticates a request that carries no token (MCP Security Best Practices §Session Hijacking).',
  ),
  rs(
    'rs-session-not-bound',
    'A session created with one subject token can be used with another subject token (MCP Security Best Practices §Session Hijacking).',
  ),
  rs(
    'rs-request-state-unverified',
    'The requestState of read_my_notes is decoded without checking its HMAC, expiry or user binding: another user, or an edited copy, reads the notes it names (MCP 2026-07-28 §State Handle Hijacking).',
  ),
  rs(
    'rs-session-id-predictable',
    'Session ids are sequential (`session-1`, `session-2`, …) (MCP 2025-06-18 §Session Management).',
  ),

  // --- Public-method matrix (issue #5, RS-PUB-*) ---
  rs(
    'rs-initialize-public-only',
    '`initialize` answers without a token while `notifications/initialized` and every later call need one.',
  ),
  rs('rs-catalogue-public', '`tools/list`, `resources/list` and `prompts/list` answer without a token.'),
  rs('rs-tools-call-public', '`tools/call` runs tools (including write_note) without a token.'),

  // --- Browser clients (issue #5, RS-CORS-*) ---
  rs(
    'rs-cors-no-expose',
    'Responses of /mcp do not list WWW-Authenticate in Access-Control-Expose-Headers (Fetch standard §CORS).',
  ),
  rs(
    'rs-cors-preflight-no-authorization',
    'The CORS preflight of /mcp does not allow the Authorization request header, so browser clients cannot send their token (Fetch standard §CORS-preflight fetch).',
  ),
  rs(
    'rs-prm-no-cors',
    'The protected-resource metadata carries no Access-Control-Allow-Origin, so browsers cannot read it.',
  ),
];
