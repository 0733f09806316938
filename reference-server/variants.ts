// The catalogue of named variants of the reference server: the dual of the fault catalogue.
//
// A fault breaks one rule, so that a check is proven able to fail. A variant changes one behaviour
// to another that is just as conformant, taken from how deployed servers behave (they revoke
// earlier grants, issue opaque tokens, demand a scope, rotate keys, rate-limit, ...), so that a
// check is proven NOT to fail a server for a behaviour the specs allow: under every variant the
// whole suite ends with no `fail` and no `error` (test/matrix/variant-matrix.test.ts). A check
// that fails a variant has the wrong rule.
//
// Variants are switched on with `--variant NAME` (repeatable) or
// `startReferenceServer({ variants: [...] })`, never on by default, and each is read through
// `ctx.variant('name')` in as few places as possible, so `grep "variant('name')"` finds it.
// `spec` quotes the sentences that make the behaviour legal (copied from the texts, never from
// memory); `runFlags` are the `mcp-auth-conformance run` options a harness needs to judge such a
// server as its operator would (e.g. declaring the methods it serves without a token).

export interface SpecSentence {
  /** 'OAuth 2.1 draft-13', 'RFC 8414', 'MCP 2025-11-25', ... */
  source: string;
  section: string;
  /** The sentence as written (whitespace collapsed). */
  text: string;
}

export interface VariantDefinition {
  /** kebab-case, stable: it appears in CLI flags, tests and docs. */
  readonly name: string;
  /** One or two sentences: what the server does differently when the variant is on. */
  readonly description: string;
  /** The sentences that make the behaviour conformant. */
  readonly spec: readonly SpecSentence[];
  /** Options of `mcp-auth-conformance run` an operator gives against such a server (beyond `--variant`). */
  readonly runFlags?: readonly string[];
}

export const VARIANTS: readonly VariantDefinition[] = [
  {
    name: 'revoke-earlier-grants',
    description:
      'A completed authorization (a code issued) revokes every earlier grant of the same user and client: their unredeemed codes, refresh tokens and access tokens stop working (the resource server consults the shared grant store), as authorization servers that keep one grant per user and client do.',
    spec: [
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.4',
        text: 'The expiration of the Access Token is set by the authorization server.',
      },
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.3.2',
        text: 'The lifetime of the refresh token is also at the discretion of the authorization server.',
      },
      {
        source: 'OAuth 2.1 draft-13',
        section: '4.3.3',
        text: 'Authorization servers MAY revoke refresh tokens automatically in case of a security event',
      },
    ],
  },
  {
    name: 'opaque-tokens',
    description:
      'Access tokens are opaque random strings, not JWTs. The resource server checks each one by RFC 7662 introspection at the authorization server (POST /introspect, which requires the resource server to authenticate with HTTP Basic).',
    spec: [
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.4',
        text: 'The string is considered opaque to the client, even if it has a structure.',
      },
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.4',
        text: 'One example of a token retrieval mechanism is Token Introspection [RFC7662], in which the RS calls an endpoint on the AS to validate the token presented by the client.',
      },
      {
        source: 'RFC 7662',
        section: '2.1',
        text: 'To prevent token scanning attacks, the endpoint MUST also require some form of authorization to access this endpoint, such as client authentication as described in OAuth 2.0 [RFC6749] or a separate OAuth 2.0 access token such as the bearer token described in OAuth 2.0 Bearer Token Usage [RFC6750].',
      },
    ],
  },
  {
    name: 'scope-required',
    description:
      'An authorization request without `scope` is refused with invalid_scope (no default scope), and neither the 401 challenge nor the protected-resource metadata names a scope; the authorization server still lists `scopes_supported`.',
    spec: [
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.4.1',
        text: 'If the client omits the scope parameter when requesting authorization, the authorization server MUST either process the request using a pre-defined default value or fail the request indicating an invalid scope.',
      },
      {
        source: 'RFC 9728',
        section: '2',
        text: 'scopes_supported: RECOMMENDED. JSON array containing a list of scope values, as defined in OAuth 2.0 [RFC6749], that are used in authorization requests to request access to this protected resource.',
      },
      {
        source: 'MCP 2025-11-25',
        section: 'Protected Resource Metadata Discovery Requirements',
        text: 'If the `scope` parameter is absent, clients SHOULD apply the fallback behavior defined in the Scope Selection Strategy section.',
      },
    ],
  },
  {
    name: 'no-refresh-tokens',
    description:
      'No refresh token is ever issued: `grant_types_supported` is ["authorization_code"], a registration asking for the refresh_token grant gets it removed from its metadata, and grant_type=refresh_token is unsupported_grant_type.',
    spec: [
      {
        source: 'OAuth 2.1 draft-13',
        section: '1.3.2',
        text: 'Issuing a refresh token is optional at the discretion of the authorization server, and may be issued based on properties of the client, properties of the request, policies within the authorization server, or any other criteria.',
      },
      {
        source: 'RFC 7591',
        section: '3.2.1',
        text: "The authorization server MAY reject or replace any of the client's requested metadata values submitted during the registration and substitute them with suitable values.",
      },
    ],
  },
  {
    name: 'path-issuer',
    description:
      'The issuer identifier has a path, the origin followed by `/tenants/acme` (a multi-tenant authorization server); its endpoints live under that path and its metadata at the RFC 8414 path-inserted URL `/.well-known/oauth-authorization-server/tenants/acme` (and the OpenID Connect locations), not at the root well-known URL.',
    spec: [
      {
        source: 'RFC 8414',
        section: '3.1',
        text: 'If the issuer identifier value contains a path component, any terminating "/" MUST be removed before inserting "/.well-known/" and the well-known URI suffix between the host component and the path component.',
      },
      {
        source: 'MCP 2025-11-25',
        section: 'Authorization Server Metadata Discovery',
        text: 'For issuer URLs with path components (e.g., `https://auth.example.com/tenant1`), clients MUST try endpoints in the following priority order',
      },
    ],
  },
  {
    name: 'cimd-ssrf-guard',
    description:
      'Client ID Metadata Documents are supported, but the authorization server never fetches a document from a loopback, private or link-local address (the dev flag that lets the embedded server fetch from loopback is ignored), as every deployed server does.',
    spec: [
      {
        source: 'CIMD draft-01',
        section: 'Server Side Request Forgery (SSRF) Attacks',
        text: 'Authorization servers MUST validate that the Client ID Metadata Document URL does not resolve to special-use IP addresses as defined in [RFC6890], except when the authorization server itself is also running on a loopback address and the resolved address matches the same loopback interface.',
      },
      {
        source: 'MCP 2026-07-28',
        section: 'Authorization Server Abuse Protection',
        text: 'Authorization servers fetching metadata documents SHOULD consider Server-Side Request Forgery (SSRF) risks',
      },
    ],
  },
  {
    name: 'consent-every-time',
    description:
      'Every authorization request shows the sign-in and consent page, even on a server started with auto-approve: nothing is remembered between authorizations. The harness signs in with the form script fixtures/login/reference-server.json.',
    spec: [
      {
        source: 'OAuth 2.1 draft-13',
        section: '4.1.1',
        text: 'If the request is valid, the authorization server authenticates the resource owner and obtains an authorization decision (by asking the resource owner or by establishing approval via other means).',
      },
    ],
    runFlags: ['--login', 'form', '--login-script', 'fixtures/login/reference-server.json'],
  },
  {
    name: 'rate-limited',
    description:
      '/authorize, /token and /register each allow a small burst, then answer 429 Too Many Requests with `Retry-After` (seconds) until the bucket refills.',
    spec: [
      {
        source: 'RFC 6585',
        section: '4',
        text: 'The 429 status code indicates that the user has sent too many requests in a given amount of time ("rate limiting"). The response representations SHOULD include details explaining the condition, and MAY include a Retry-After header indicating how long to wait before making a new request.',
      },
    ],
  },
  {
    name: 'jwks-rotation',
    description:
      'The signing key rotates during the run: after every few access tokens a new key (new `kid`) signs, and is published at `jwks_uri` beside the retired ones, which stay published (so their tokens stay valid) until the last token they signed has expired.',
    spec: [
      {
        source: 'RFC 7517',
        section: '4.5',
        text: 'The "kid" (key ID) parameter is used to match a specific key. This is used, for instance, to choose among a set of keys within a JWK Set during key rollover.',
      },
    ],
  },
  {
    name: 'public-handshake',
    description:
      '`initialize` (with `notifications/initialized`) and `tools/list` answer without a token; every other method needs one. The operator declares it with `--expect-public initialize,tools/list`.',
    spec: [
      {
        source: 'MCP 2025-11-25',
        section: 'Protocol Requirements',
        text: 'Authorization is OPTIONAL for MCP implementations.',
      },
    ],
    runFlags: ['--expect-public', 'initialize,tools/list'],
  },
  {
    name: 'root-prm-origin-resource',
    description:
      'The MCP endpoint is the origin itself (path `/`; its resource identifier is the origin without a trailing slash), so its protected-resource metadata is at the root well-known URL `/.well-known/oauth-protected-resource`.',
    spec: [
      {
        source: 'MCP 2025-11-25',
        section: 'Canonical Server URI',
        text: 'Examples of valid canonical URIs: https://mcp.example.com/mcp, https://mcp.example.com, https://mcp.example.com:8443, https://mcp.example.com/server/mcp',
      },
      {
        source: 'MCP 2025-11-25',
        section: 'Protected Resource Metadata Discovery Requirements',
        text: 'At the root: `https://example.com/.well-known/oauth-protected-resource`',
      },
    ],
  },
];

const VARIANT_NAMES = new Set(VARIANTS.map((v) => v.name));

export function isVariantName(name: string): boolean {
  return VARIANT_NAMES.has(name);
}

/** Throws a usage error naming the unknown variants, so a typo never silently runs the default server. */
export function assertVariantNames(names: readonly string[]): void {
  const unknown = names.filter((n) => !VARIANT_NAMES.has(n));
  if (unknown.length > 0) throw new UnknownVariantError(unknown);
}

export class UnknownVariantError extends Error {
  constructor(readonly unknown: readonly string[]) {
    super(
      `unknown variant${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (list them with --list-variants)`,
    );
    this.name = 'UnknownVariantError';
  }
}

export interface VariantListing {
  name: string;
  description: string;
  spec: SpecSentence[];
}

/** The catalogue as `--list-variants` prints it: `[{ name, description, spec }]`. */
export function describeVariants(): VariantListing[] {
  return VARIANTS.map((v) => ({ name: v.name, description: v.description, spec: [...v.spec] }));
}
