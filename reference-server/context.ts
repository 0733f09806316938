// What both halves of the reference server share: options, the URLs they are reachable at,
// the signing keys, the fault switches and the variant switches.

import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { ReferenceServerLimits } from './limits.ts';

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
  /** Named variants to switch on (see variants.ts): conformant behaviours unlike the defaults. */
  variants?: readonly string[];
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
  /** Caps on what requests can make the server store (limits.ts has the defaults). */
  limits?: Partial<ReferenceServerLimits>;
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
  /** The key that signs new access tokens (the current one of `keys`). */
  readonly signingKey: SigningKey;
  /** The caps in force: the defaults with `options.limits` applied. */
  readonly limits: Readonly<ReferenceServerLimits>;
  /** Every key published at `jwks_uri`: the current one, and retired ones still in use (jwks-rotation). */
  readonly keys: SigningKeys;
  /**
   * How the resource server authenticates at the introspection endpoint (variant opaque-tokens;
   * RFC 7662 §2.1 requires it): HTTP Basic with this id and a secret made at start.
   */
  readonly introspectionCredentials: { clientId: string; secret: string };
  /** Is this fault switched on? Read each fault in exactly one place. */
  fault(name: string): boolean;
  /** Is this variant switched on? Read each variant in as few places as possible. */
  variant(name: string): boolean;
}

/**
 * The signing keys of the authorization server. One key by default. With the variant
 * `jwks-rotation` (as/tokens.ts decides when), `rotate()` retires the current key, which stays
 * published until the last token it signed has expired, so old tokens stay valid (RFC 7517 §4.5:
 * `kid` chooses "among a set of keys within a JWK Set during key rollover").
 */
export class SigningKeys {
  private currentKey: { key: SigningKey; until: number; signed: number };
  /** Retired keys and until when (ms) each must stay published. */
  private retired: { key: SigningKey; until: number }[] = [];
  private rotating: Promise<void> | undefined;

  constructor(first: SigningKey) {
    this.currentKey = { key: first, until: 0, signed: 0 };
  }

  get current(): SigningKey {
    return this.currentKey.key;
  }

  /** Tokens signed with the current key so far. */
  get signedWithCurrent(): number {
    return this.currentKey.signed;
  }

  /** Keys to publish and to verify with: the current one first, then retired ones still in use. */
  published(): SigningKey[] {
    const now = Date.now();
    this.retired = this.retired.filter((r) => r.until > now);
    return [this.currentKey.key, ...this.retired.map((r) => r.key)];
  }

  /** Retired keys still published. */
  get retiredCount(): number {
    return this.published().length - 1;
  }

  /**
   * The key to sign a token valid until `expiresAt` (ms) with: the current one, which from now on
   * stays published at least that long. Synchronous, so no rotation can slip in between.
   */
  use(expiresAt: number): SigningKey {
    this.currentKey.signed++;
    this.currentKey.until = Math.max(this.currentKey.until, expiresAt);
    return this.currentKey.key;
  }

  /** A new current key; the old one stays published until its last token expires. One at a time. */
  rotate(): Promise<void> {
    this.rotating ??= generateSigningKey().then((next) => {
      this.retired.push({ key: this.currentKey.key, until: this.currentKey.until });
      this.currentKey = { key: next, until: 0, signed: 0 };
      this.rotating = undefined;
    });
    return this.rotating;
  }
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
