// Faults of the authorization-server half. See ../faults.ts for the rules a fault follows.
// Each is read in exactly one place under reference-server/as/ (`grep "fault('NAME')"`). The
// trailing comments name the requirement rows (../shared/requirements.md) each fault is meant to
// turn red; the authoritative link is the checks' own `faults: [...]` lists (see ../faults.ts).
import type { FaultDefinition } from '../faults.ts';

const as = (name: string, description: string): FaultDefinition => ({ name, half: 'as', description });

export const AS_FAULTS: readonly FaultDefinition[] = [
  // Metadata (RFC 8414)
  as('as-metadata-missing', 'No authorization-server metadata is served at any well-known URL.'), // AS-META-01
  as('as-metadata-wrong-content-type', 'Metadata is served as text/plain instead of application/json.'), // AS-META-02
  as(
    'as-issuer-trailing-slash',
    'Metadata `issuer` carries a trailing slash, so it differs from the issuer identifier (RFC 8414 §3.3).',
  ), // AS-META-03
  as(
    'as-metadata-no-s256',
    '`code_challenge_methods_supported` is absent from the metadata, although S256 is enforced.',
  ), // AS-META-06
  as(
    'as-metadata-implicit-advertised',
    'Metadata advertises the implicit flow (`token` response type, `implicit` grant).',
  ), // AS-META-08
  as(
    'as-metadata-no-cimd-flag',
    '`client_id_metadata_document_supported` is absent although metadata documents are fetched.',
  ), // AS-META-09
  as(
    'as-metadata-no-iss-flag',
    '`authorization_response_iss_parameter_supported` is absent although `iss` is sent.',
  ), // AS-META-11, AS-ISS-04
  as(
    'as-metadata-no-none-auth',
    '`none` is missing from `token_endpoint_auth_methods_supported` although public clients work.',
  ), // AS-META-12
  as('as-jwks-private-key', 'The JWK Set at `jwks_uri` publishes the private signing key.'),
  as('as-issuer-with-query', 'Metadata `issuer` carries a query component (RFC 8414 §2 forbids it).'), // AS-META-04
  as('as-metadata-incomplete', '`response_types_supported`, a required metadata member, is missing.'), // AS-META-05
  as('as-metadata-http-endpoint', '`jwks_uri` is a plain-http URL on a non-loopback host.'), // AS-META-07
  as(
    'as-metadata-no-registration-endpoint',
    '`registration_endpoint` is missing from the metadata although /register still registers clients.',
  ), // AS-META-10

  // Authorization endpoint (OAuth 2.1 §4.1.1)
  as('as-authorize-get-refused', 'The authorization endpoint refuses GET with 405 (POST only).'), // AS-AUTHZ-01
  as('as-authorize-cors', 'The authorization endpoint answers with `Access-Control-Allow-Origin: *`.'), // AS-AUTHZ-02
  as(
    'as-authorize-unknown-param-rejected',
    'An authorization request with an unrecognized parameter (e.g. `foo=bar`) is refused with invalid_request.',
  ), // AS-AUTHZ-07
  as(
    'as-response-type-unchecked',
    'A missing or unsupported `response_type` (e.g. `token`) still gets a code.',
  ), // AS-AUTHZ-03, AS-AUTHZ-04
  as('as-state-dropped', '`state` is not returned in authorization responses.'), // AS-AUTHZ-05
  as(
    'as-authorize-duplicates-accepted',
    'Repeated authorization request parameters are accepted (the first value wins).',
  ), // AS-AUTHZ-06
  as(
    'as-resource-unchecked',
    'Any `resource` (malformed, foreign, repeated) is accepted at the authorization endpoint.',
  ), // AS-AUTHZ-08
  as(
    'as-error-redirect-before-login',
    'Without auto-approve, an erroneous request is redirected to the client before the user signs in.',
  ), // AS-AUTHZ-10
  as(
    'as-consent-307',
    'The consent form POST is answered with 307, which re-posts the password to the client.',
  ), // AS-AUTHZ-11
  as(
    'as-consent-frameable',
    'The consent page lacks `frame-ancestors` and `X-Frame-Options`, so it can be framed.',
  ), // AS-DCR-10
  as(
    'as-consent-hides-redirect-host',
    'The consent page does not show the host the user will be redirected to.',
  ), // AS-CIMD-10

  // Redirect URIs
  as('as-redirect-uri-prefix-match', 'A redirect URI matches when it merely starts with a registered one.'), // AS-REDIR-01
  as(
    'as-loopback-port-strict',
    'Loopback IP redirect URIs must match the registered port (RFC 8252 §7.3 broken).',
  ), // AS-REDIR-02
  as(
    'as-unknown-client-redirects',
    'A request with an unknown client_id is redirected (with an error) to the redirect_uri it names.',
  ), // AS-REDIR-05
  as(
    'as-redirect-uri-default-multiple',
    'A client with several redirect URIs may omit `redirect_uri`; the first one is used.',
  ), // AS-REDIR-06
  as(
    'as-redirect-query-dropped',
    'The query component of a registered redirect URI is dropped from responses.',
  ), // AS-REDIR-07
  as(
    'as-dcr-http-redirect-accepted',
    'Plain-http redirect URIs on non-loopback hosts are accepted at registration.',
  ), // AS-REDIR-04, AS-DCR-04
  as(
    'as-dcr-dangerous-scheme-accepted',
    '`javascript:`, `data:`, `file:` and custom-scheme redirect URIs are accepted at registration.',
  ), // AS-DCR-04

  // PKCE (RFC 7636, OAuth 2.1 §4.1.1, §4.1.3)
  as('as-pkce-optional', 'An authorization request without `code_challenge` is accepted.'), // AS-PKCE-01
  as(
    'as-pkce-unknown-method-accepted',
    'Unknown `code_challenge_method` values (S512, s256) are taken to mean S256.',
  ), // AS-PKCE-02
  as('as-pkce-plain-accepted', '`code_challenge_method=plain` (and a missing method) is accepted.'), // AS-PKCE-03
  as(
    'as-pkce-challenge-syntax-unchecked',
    'A `code_challenge` outside 43-128 unreserved characters is accepted.',
  ), // AS-PKCE-04
  as('as-pkce-verifier-ignored', 'The `code_verifier` is not checked at the token endpoint at all.'), // AS-PKCE-05, AS-PKCE-06, AS-PKCE-08
  as('as-pkce-verifier-optional', 'A missing `code_verifier` is accepted (a wrong one is still refused).'), // AS-PKCE-06
  as('as-pkce-challenge-as-verifier', 'The `code_challenge` itself is accepted as the verifier.'), // AS-PKCE-08

  // Token endpoint: authorization codes (OAuth 2.1 §4.1.3)
  as('as-token-no-cache-control', 'Token responses lack `Cache-Control: no-store`.'), // AS-TOKEN-02
  as('as-token-no-token-type', 'Successful token responses leave out `token_type`.'), // AS-TOKEN-01
  as(
    'as-token-unsupported-grant-wrong-error',
    'An unsupported `grant_type` gets `invalid_request` instead of `unsupported_grant_type`.',
  ), // AS-TOKEN-08
  as(
    'as-token-error-nonstandard',
    'Token endpoint 400 errors carry a made-up `error` code (`request_failed`).',
  ), // AS-TOKEN-10
  as(
    'as-client-credentials-public',
    '`grant_type=client_credentials` issues an access token to any client, public ones included.',
  ), // AS-TOKEN-14
  as(
    'as-code-redeem-race',
    'Code redemption is check-then-act: parallel redemptions of one code all get tokens.',
  ), // AS-RACE-01
  as(
    'as-code-low-entropy',
    'Authorization codes are 8 hex digits (32 bits of entropy) instead of 256 random bits.',
  ), // AS-ENTROPY-01
  as(
    'as-refresh-only-offline-access-unlisted',
    'Refresh tokens are issued only when `offline_access` is granted, yet `scopes_supported` does not list it (MCP 2026-07-28 §Refresh Tokens).',
  ), // AS-META-15
  as('as-code-reuse-allowed', 'An authorization code can be redeemed more than once.'), // AS-TOKEN-03
  as(
    'as-code-long-lived',
    'Authorization codes stay redeemable for 3 hours (OAuth 2.1 §4.1.2: expire shortly, at most 10 minutes RECOMMENDED).',
  ), // AS-AUTHZ-12
  as('as-code-replay-no-revoke', 'A replayed code is refused, but the tokens issued from it stay valid.'), // AS-TOKEN-04
  as(
    'as-code-replay-revokes-unvalidated',
    'A replay with a wrong verifier still revokes the tokens issued from the code (DoS).',
  ), // AS-TOKEN-05
  as('as-code-client-unbound', 'A code can be redeemed by a client other than the one it was issued to.'), // AS-TOKEN-06
  as(
    'as-token-redirect-uri-ignored',
    'A `redirect_uri` at the token endpoint is not compared to the authorization request.',
  ), // AS-TOKEN-07
  as(
    'as-token-basic-no-www-authenticate',
    'A failed HTTP Basic client authentication gets 400 without `WWW-Authenticate`.',
  ), // AS-TOKEN-09
  as('as-token-get-accepted', 'The token endpoint serves GET requests with the parameters in the query.'), // AS-TOKEN-11
  as(
    'as-token-duplicates-accepted',
    'Repeated token request parameters are accepted (the first value wins).',
  ), // AS-TOKEN-11
  as(
    'as-token-resource-unchecked',
    'A `resource` at the token endpoint is not compared to the authorized one.',
  ), // AS-TOKEN-13
  as('as-client-auth-skipped', 'A confidential client that sends no credentials at all is let through.'), // AS-REFRESH-08

  // Access tokens (RFC 9068)
  as('as-aud-ignores-resource', 'Access tokens carry the issuer as `aud` instead of the requested resource.'), // AS-TOKEN-12, AS-TOKEN-17
  as('as-access-token-long-lived', 'Access tokens live 24 hours instead of minutes.'), // AS-TOKEN-16
  as('as-jwt-typ-jwt', 'Access tokens carry `typ: JWT` instead of `typ: at+jwt`.'), // AS-TOKEN-17

  // Refresh tokens (OAuth 2.1 §4.3)
  as(
    'as-authorize-error-description-unsafe',
    'Authorization error redirects carry an error_description with a quote and a non-ASCII letter.',
  ), // AS-AUTHZ-03
  as('as-refresh-no-rotation', 'A refresh returns the same refresh token instead of a new one.'), // AS-REFRESH-02
  as(
    'as-refresh-superseded-accepted',
    'A refresh token that was already rotated away still refreshes (the family is rotated on).',
  ), // AS-REFRESH-03, AS-REFRESH-04
  as(
    'as-refresh-reuse-undetected',
    'Reusing a rotated refresh token is refused, but the grant and its active token live on.',
  ), // AS-REFRESH-04
  as('as-refresh-client-unbound', 'A refresh token can be used by a client other than its own.'), // AS-REFRESH-05
  as('as-refresh-scope-widening', 'A refresh may ask for scopes beyond the original grant.'), // AS-REFRESH-06
  as('as-refresh-resource-unchecked', 'A `resource` in a refresh request is not compared to the grant.'), // AS-REFRESH-07
  as(
    'as-refresh-rotate-race',
    'Refresh rotation is check-then-act: parallel refreshes with one token all succeed.',
  ), // AS-RACE-02
  as(
    'as-refresh-failure-burns-token',
    'A refresh request that is then rejected (bad scope or resource) has already burned the token.',
  ),

  // Dynamic client registration (RFC 7591)
  as('as-dcr-200', 'Registration answers 200 instead of 201 Created.'), // AS-DCR-01
  as(
    'as-dcr-metadata-not-echoed',
    'The registration response carries only the client_id, not the registered metadata.',
  ), // AS-DCR-02
  as('as-dcr-no-secret-expiry', '`client_secret_expires_at` is missing when a secret is issued.'), // AS-DCR-03
  as(
    'as-dcr-no-cache-control',
    'The registration response (which may hold a secret) lacks `Cache-Control: no-store`.',
  ), // AS-DCR-03
  as('as-dcr-metadata-unchecked', 'Registration accepts and keeps `response_types` other than `["code"]`.'), // AS-DCR-05
  as(
    'as-dcr-initial-token-required',
    'Registration without an initial access token is refused with 401 (closed registration).',
  ), // AS-DCR-06
  as(
    'as-dcr-native-loopback-refused',
    'Registration refuses `application_type: native` with a loopback http redirect URI.',
  ), // AS-DCR-07
  as(
    'as-proxy-upstream-no-consent',
    'Like a proxy with a static upstream client, the authorization endpoint redirects straight to a third-party IdP, without consent.',
  ), // AS-DCR-09
  as(
    'as-dcr-https-client-id',
    'Generated client_ids start with `https://`, so they look like metadata-document URLs.',
  ), // AS-DCR-08

  // Client ID Metadata Documents
  as('as-cimd-disabled', 'URL client_ids are not fetched as metadata documents (they are unknown clients).'), // AS-CIMD-01
  as('as-cimd-client-id-mismatch-accepted', 'A document whose `client_id` differs from its URL is accepted.'), // AS-CIMD-02
  as(
    'as-cimd-redirect-unchecked',
    'For metadata-document clients, any https/loopback `redirect_uri` is accepted.',
  ), // AS-CIMD-03
  as(
    'as-cimd-url-unchecked',
    'client_id URLs with dot segments, fragments, userinfo or no path are fetched.',
  ), // AS-CIMD-05
  as(
    'as-cimd-secret-accepted',
    'A document declaring a shared-secret auth method or holding a secret is accepted.',
  ), // AS-CIMD-06
  as(
    'as-cimd-ssrf-unguarded',
    'client_id URLs are fetched whatever address they resolve to (no SSRF guard).',
  ), // AS-CIMD-07
  as(
    'as-cimd-caches-errors',
    'A failed metadata-document fetch is cached, so the client stays broken after the document is fixed.',
  ), // AS-CIMD-08
  as('as-cimd-no-size-cap', 'Metadata documents of any size are read.'), // AS-CIMD-09

  // Authorization response issuer (RFC 9207)
  as('as-iss-missing', 'Authorization responses carry no `iss`.'), // AS-ISS-01, AS-ISS-02
  as('as-iss-missing-on-error', 'Error authorization responses carry no `iss` (successes do).'), // AS-ISS-02
  as('as-iss-mismatch', 'The `iss` of authorization responses differs from the issuer (trailing slash).'), // AS-ISS-03

  // Revocation (RFC 7009)
  as('as-revoke-unknown-token-error', 'Revoking an unknown token answers 400 instead of 200.'), // AS-REVOKE-02
  as('as-revoke-noop', 'Revocation answers 200 but revokes nothing.'), // AS-REVOKE-03
  as('as-revoke-any-client', "A client can revoke another client's tokens."), // AS-REVOKE-04
  as('as-revoke-requires-hint', 'Revocation requests without the optional `token_type_hint` are refused.'), // AS-REVOKE-01
  as(
    'as-revoke-access-token-refused',
    'Access tokens cannot be revoked, and the refusal is `invalid_request`, not `unsupported_token_type`.',
  ), // AS-REVOKE-05
];
