// Authorization server metadata (RFC 8414) and the JWK Set (RFC 7517 §5).

import type { ServerResponse } from 'node:http';
import { SUPPORTED_SCOPES, type ServerContext } from '../context.ts';
import { sendJson } from '../http.ts';

/** The well-known URL suffixes (RFC 8414 §3, OpenID Connect Discovery §4) this server answers. */
export const METADATA_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
];

/** The path of the issuer identifier, without a trailing slash: '' unless the variant path-issuer is on. */
export function issuerPath(ctx: ServerContext): string {
  return new URL(ctx.issuer).pathname.replace(/\/$/, '');
}

/**
 * The URL paths the metadata is served at, each with the suffix it stands for. Without an issuer
 * path: the suffixes themselves. With one (`/tenants/acme`): the RFC 8414 §3.1 path-inserted URLs
 * (`/.well-known/oauth-authorization-server/tenants/acme`, and the same for openid-configuration)
 * and the OpenID Connect Discovery §4 appended URL (`/tenants/acme/.well-known/openid-configuration`),
 * the three MCP 2025-11-25 §Authorization Server Metadata Discovery tries, in its order.
 */
export function metadataLocations(ctx: ServerContext): { path: string; suffix: string }[] {
  const base = issuerPath(ctx);
  const inserted = METADATA_PATHS.map((suffix) => ({ path: `${suffix}${base}`, suffix }));
  if (base === '') return inserted;
  return [...inserted, { path: `${base}/.well-known/openid-configuration`, suffix: METADATA_PATHS[1]! }];
}

/**
 * The metadata document. Endpoints are URLs under the issuer identifier; the same document is
 * served at the OpenID Connect Discovery location (MCP 2025-11-25+ §Authorization Server Metadata
 * Discovery tries both).
 */
export function metadataDocument(ctx: ServerContext, oidc: boolean): Record<string, unknown> {
  const base = ctx.issuer;
  const authMethods = ['none', 'client_secret_basic', 'client_secret_post'];
  const doc: Record<string, unknown> = {
    // RFC 8414 §2/§3.3: identical to the issuer identifier. Fault: a trailing slash is added.
    issuer: ctx.fault('as-issuer-trailing-slash') ? `${base}/` : base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    revocation_endpoint: `${base}/revoke`,
    jwks_uri: `${base}/jwks`,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // Explicit, because the RFC 8414 default includes "implicit" (requirements AS-META-08).
    // Variant: no refresh tokens at all (OAuth 2.1 §1.3.2: issuing one is optional).
    grant_types_supported: ctx.variant('no-refresh-tokens')
      ? ['authorization_code']
      : ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3: this server sends `iss` in every authorization response.
    authorization_response_iss_parameter_supported: true,
    // CIMD draft-00 §5: https client_ids are fetched as metadata documents.
    client_id_metadata_document_supported: true,
  };
  // Variant: opaque access tokens, checked by RFC 7662 introspection (RFC 8414 §2 registers both
  // members); the endpoint takes HTTP Basic credentials of the resource server (RFC 7662 §2.1).
  if (ctx.variant('opaque-tokens')) {
    doc.introspection_endpoint = `${base}/introspect`;
    doc.introspection_endpoint_auth_methods_supported = ['client_secret_basic'];
  }
  // RFC 8414 §2: the issuer has no query or fragment component. Fault: a query is added.
  if (ctx.fault('as-issuer-with-query')) doc.issuer = `${base}?realm=mcp`;
  // RFC 8414 §2: response_types_supported is REQUIRED. Fault: it is left out.
  if (ctx.fault('as-metadata-incomplete')) delete doc.response_types_supported;
  // OAuth 2.1 §1.5 / MCP §Communication Security: every endpoint is https (loopback http only in
  // development). Fault: jwks_uri names a plain-http, non-loopback host.
  if (ctx.fault('as-metadata-http-endpoint')) doc.jwks_uri = 'http://jwks.example.test/jwks';
  // RFC 8414 §2: registration_endpoint present iff registration is supported. Fault: left out,
  // although POST /register still works.
  if (ctx.fault('as-metadata-no-registration-endpoint')) delete doc.registration_endpoint;
  // Fault: S256 is not advertised (the member is absent, which RFC 8414 §2 reads as "no PKCE").
  if (ctx.fault('as-metadata-no-s256')) delete doc.code_challenge_methods_supported;
  // Fault: `iss` is sent in responses but the flag that announces it is missing (RFC 9207 §3).
  if (ctx.fault('as-metadata-no-iss-flag')) delete doc.authorization_response_iss_parameter_supported;
  // Fault: metadata documents are fetched but the flag that announces it is missing.
  if (ctx.fault('as-metadata-no-cimd-flag')) delete doc.client_id_metadata_document_supported;
  // Fault: public clients are accepted but `none` is not listed as an auth method.
  if (ctx.fault('as-metadata-no-none-auth')) doc.token_endpoint_auth_methods_supported = authMethods.slice(1);
  // Fault: the implicit flow is advertised (RFC 9700 §2.1.2: SHOULD NOT be used).
  if (ctx.fault('as-metadata-implicit-advertised')) {
    doc.response_types_supported = ['code', 'token'];
    doc.grant_types_supported = ['authorization_code', 'refresh_token', 'implicit'];
  }
  if (oidc) {
    // OIDC Discovery §3 REQUIRES these two in an openid-configuration document. This server issues
    // no ID tokens; the values describe what it would use.
    doc.subject_types_supported = ['public'];
    doc.id_token_signing_alg_values_supported = ['ES256'];
  }
  return doc;
}

export function sendMetadata(ctx: ServerContext, res: ServerResponse, oidc: boolean): void {
  const headers: Record<string, string> = { 'Cache-Control': 'max-age=300' };
  // RFC 8414 §3.2: "using the application/json content type". Fault: text/plain.
  if (ctx.fault('as-metadata-wrong-content-type')) headers['Content-Type'] = 'text/plain';
  sendJson(res, 200, metadataDocument(ctx, oidc), headers);
}

/**
 * The public signing keys at `jwks_uri` (RFC 8414 §2): the current one, and retired ones whose
 * tokens are still valid (jwks-rotation). Fault: the private key is published.
 */
export function sendJwks(ctx: ServerContext, res: ServerResponse): void {
  const keys = ctx.keys
    .published()
    .map((key) => (ctx.fault('as-jwks-private-key') ? key.privateJwk : key.publicJwk));
  sendJson(res, 200, { keys }, { 'Cache-Control': 'max-age=300' });
}
