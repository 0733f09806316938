// What both halves of the reference server share: options, the URLs they are reachable at,
// the signing key, and the fault switches.

import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface ReferenceServerOptions {
  /** Port of the MCP (resource-server) origin; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Address to bind; loopback by default. */
  host?: string;
  /** Skip the consent page: the authorization endpoint redirects straight back (automated runs). */
  autoApprove?: boolean;
  /**
   * A signed-in person is never asked to consent: the administrator trusts every client (Keycloak's
   * "Consent required" off, Okta's `consent_method: TRUSTED`, Auth0's first-party applications).
   * The sign-in page is still shown once per sign-in session (as/sign-in-sessions.ts). Default:
   * consent is asked once per client and remembered for the session.
   */
  skipConsent?: boolean;
  /** Named faults to switch on (see faults.ts). */
  faults?: readonly string[];
  /** Serve the authorization server on a second port (a second origin). */
  split?: boolean;
  /** Port of the authorization server when `split`; 0 (default) picks an ephemeral port. */
  asPort?: number;
  /** A missing `resource` at the authorization endpoint binds the one known resource instead of failing. */
  lenientResource?: boolean;
  /** Let Client ID Metadata Document fetches reach loopback addresses (tests host documents there). */
  allowLoopbackCimd?: boolean;
  /** JSON-RPC methods the MCP endpoint answers without a token (default: none). */
  publicMethods?: readonly string[];
  /** Trust this external authorization server (issuer URL) instead of the bundled one. */
  trustIssuer?: string;
  /** Lifetime of access tokens in seconds (default 600). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of authorization codes in seconds (default 60). */
  codeTtlSeconds?: number;
  /** Extra origins the MCP endpoint accepts in `Origin` (its own origin is always accepted). */
  allowedOrigins?: readonly string[];
  /**
   * The origin clients reach the server at (`https://mcp.example.com`), when it runs behind a
   * TLS-terminating proxy: the issuer, the endpoints, the resource and the PRM URL are named with it
   * instead of the address the server binds. An origin only (no path, query or fragment).
   */
  publicUrl?: string;
  /** With `split`: the origin clients reach the authorization server at (see publicUrl). */
  asPublicUrl?: string;
}

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: CryptoKey;
  /** The private key as a JWK (what `run --mint-key` takes); never logged. */
  privateJwk: JWK;
  /** The public key as published at `jwks_uri`. */
  publicJwk: JWK;
}

/** Everything a handler needs; built once per server start. */
export interface ServerContext {
  readonly options: Readonly<ReferenceServerOptions>;
  /** Issuer identifier of the authorization server: its origin, no trailing slash (RFC 8414 §2). */
  issuer: string;
  /** The canonical resource identifier: `<rs origin>/mcp`, no trailing slash (MCP §Canonical Server URI). */
  resource: string;
  /** Origin of the resource server (`http://127.0.0.1:PORT`). */
  rsOrigin: string;
  readonly signingKey: SigningKey;
  /** Is this fault switched on? Read each fault in exactly one place. */
  fault(name: string): boolean;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, alg: 'ES256', privateKey, privateJwk, publicJwk };
}

/**
 * Scopes the reference pair understands. `mcp:tools` lets a client list and call the read-only
 * tools (and read resources and prompts); `mcp:write` is the second scope that `write_note` needs,
 * so step-up (403 insufficient_scope) can be observed. `mcp:admin` is a broader scope that implies
 * `mcp:write` (rs/scopes.ts SCOPE_IMPLIES), so scope hierarchies can be observed (MCP 2026-07-28
 * §Step-Up: "Servers MUST account for scope hierarchies"); it comes last so that it is never a
 * default (`SUPPORTED_SCOPES[0]`). `offline_access` is deliberately absent:
 * refresh tokens are issued to every client that registers the refresh_token grant, and the
 * resource server SHOULD NOT advertise `offline_access` (MCP 2026-07-28 §Refresh Tokens).
 */
export const SUPPORTED_SCOPES = ['mcp:tools', 'mcp:write', 'mcp:admin'] as const;
/** Granted when an authorization request names no scope. */
export const DEFAULT_SCOPE = 'mcp:tools';

/** Demo users of the consent page (username = password; this is a test server). */
export const DEMO_USERS = ['alice', 'bob'] as const;
