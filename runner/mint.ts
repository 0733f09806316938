// Forged access tokens, for targets whose signing key the harness holds (the embedded reference
// server, or `--mint-key`). Audience, expiry, issuer and signature checks are sharpest with
// tokens the harness signs itself (DESIGN.md §Tokens the harness forges).
//
// `mint` produces an RFC 9068 JWT access token (header `typ: at+jwt`; claims iss, sub, aud,
// client_id, scope, iat, exp, jti, RFC 9068 §2.2) that is valid unless told otherwise; each other
// method breaks exactly one thing about it:
// - `unsigned`: `alg: none` and its case variants, or the trusted alg with an empty signature
//   (RFC 8725 §3.2: reject unsecured JWTs).
// - `withForeignKey`: signed with a fresh ES256 key the target does not trust, with the trusted
//   kid or another one (RFC 9068 §4: keys come from the AS's jwks_uri).
// - `hs256WithPublicKey`: HS256 keyed with the bytes of the trusted public key (algorithm
//   confusion, RFC 8725 §3.1), as JWK JSON or as SPKI PEM.

import { randomUUID } from 'node:crypto';
import {
  base64url,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  SignJWT,
} from 'jose';

export interface MintOptions {
  /** Claims added or replacing the defaults (e.g. `{ aud: 'https://other' }`, `{ exp: past }`). */
  claims?: Record<string, unknown>;
  /** Claim names removed after merging (e.g. `['aud']`). */
  omit?: string[];
  /** Header parameters added or replacing the defaults (e.g. `{ typ: 'JWT' }`). */
  header?: Record<string, unknown>;
  /** Lifetime in seconds from now (default 300). Ignored when `claims.exp` is given. */
  expiresIn?: number;
}

export type UnsignedVariant = 'none' | 'None' | 'NONE' | 'empty-signature';

export interface Minter {
  issuer: string;
  resource: string;
  /** The kid and alg of the trusted key. */
  kid?: string;
  alg: string;
  mint(opts?: MintOptions): Promise<string>;
  /** `alg: none` (default), its case variants, or `empty-signature` (trusted alg header, empty signature segment). */
  unsigned(opts?: MintOptions & { variant?: UnsignedVariant }): string;
  /** Signed by a fresh ES256 key; `kid: 'same'` (default) reuses the trusted kid, `'different'` a random one. */
  withForeignKey(opts?: MintOptions & { kid?: 'same' | 'different' }): Promise<string>;
  /** HS256 keyed with the trusted public key's JWK JSON (default) or its SPKI PEM. */
  hs256WithPublicKey(opts?: MintOptions & { secret?: 'jwk-json' | 'pem' }): Promise<string>;
}

export interface CreateMinterOptions {
  privateJwk: JWK;
  issuer: string;
  resource: string;
  clientId?: string;
  subject?: string;
  scope?: string;
}

/** JWK members that are private (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

export async function createMinter(opts: CreateMinterOptions): Promise<Minter> {
  const alg = opts.privateJwk.alg ?? defaultAlg(opts.privateJwk);
  const kid = opts.privateJwk.kid;
  const signingKey = await importJWK(opts.privateJwk, alg);
  // The public half, member order kept, as a JWKS would publish it: the HMAC variants need its bytes.
  const publicJwk = Object.fromEntries(
    Object.entries(opts.privateJwk).filter(([k]) => !PRIVATE_MEMBERS.has(k)),
  ) as JWK;
  let foreign: Promise<CryptoKey> | undefined;

  const claimsFor = (o: MintOptions = {}): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: opts.issuer,
      sub: opts.subject ?? 'conformance-user',
      aud: opts.resource,
      client_id: opts.clientId ?? 'mcp-auth-conformance',
      ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
      iat: now,
      exp: now + (o.expiresIn ?? 300),
      jti: randomUUID(),
      ...o.claims,
    };
    for (const name of o.omit ?? []) delete claims[name];
    return claims;
  };
  const headerFor = (o: MintOptions, base: JWTHeaderParameters): JWTHeaderParameters => ({
    ...base,
    ...(o.header as Partial<JWTHeaderParameters>),
  });
  const sign = (claims: Record<string, unknown>, header: JWTHeaderParameters, key: CryptoKey | Uint8Array) =>
    new SignJWT(claims).setProtectedHeader(header).sign(key);

  return {
    issuer: opts.issuer,
    resource: opts.resource,
    ...(kid !== undefined ? { kid } : {}),
    alg,
    mint: (o = {}) =>
      sign(
        claimsFor(o),
        headerFor(o, { alg, typ: 'at+jwt', ...(kid ? { kid } : {}) }),
        signingKey as CryptoKey,
      ),

    unsigned(o = {}) {
      const variant = o.variant ?? 'none';
      const header = headerFor(o, {
        alg: variant === 'empty-signature' ? alg : variant,
        typ: 'at+jwt',
        ...(kid ? { kid } : {}),
      });
      // RFC 7515 §7.1 compact form with an empty signature segment (RFC 7519 §6.1 for alg none).
      return `${encodeSegment(header)}.${encodeSegment(claimsFor(o))}.`;
    },

    async withForeignKey(o = {}) {
      foreign ??= generateKeyPair('ES256').then((pair) => pair.privateKey);
      const foreignKid = (o.kid ?? 'same') === 'same' && kid ? kid : `foreign-${randomUUID()}`;
      return sign(
        claimsFor(o),
        headerFor(o, { alg: 'ES256', typ: 'at+jwt', kid: foreignKid }),
        await foreign,
      );
    },

    async hs256WithPublicKey(o = {}) {
      // jose refuses an asymmetric JWK as an HMAC secret, so the secret bytes are built here.
      const secret =
        (o.secret ?? 'jwk-json') === 'pem'
          ? new TextEncoder().encode(await exportSPKI((await importJWK(publicJwk, alg)) as CryptoKey))
          : new TextEncoder().encode(JSON.stringify(publicJwk));
      return sign(
        claimsFor(o),
        headerFor(o, { alg: 'HS256', typ: 'at+jwt', ...(kid ? { kid } : {}) }),
        secret,
      );
    },
  };
}

/**
 * Changes one character of the payload and keeps header and signature (RS-401-10): the token
 * still parses, but its signature no longer matches. For a JWT, one character of a string claim
 * (`sub`, else `jti`, else the first string claim) changes and the payload is re-encoded, so the
 * payload stays valid JSON; for an opaque token, one character in its middle changes.
 */
export function tamperPayload(jwt: string): string {
  const parts = jwt.split('.');
  if (parts.length === 3) {
    const payload = decodeJsonSegment(parts[1]!);
    if (payload) {
      const name =
        ['sub', 'jti'].find((n) => typeof payload[n] === 'string' && payload[n] !== '') ??
        Object.keys(payload).find((n) => typeof payload[n] === 'string' && payload[n] !== '');
      if (name) {
        const value = payload[name] as string;
        payload[name] = value.slice(0, -1) + flipChar(value.at(-1)!);
        return `${parts[0]}.${encodeSegment(payload)}.${parts[2]}`;
      }
    }
  }
  const i = Math.floor(jwt.length / 2);
  return jwt.slice(0, i) + flipChar(jwt[i] ?? 'A') + jwt.slice(i + 1);
}

/** A different character from the same class, so the result stays a well-formed token. */
function flipChar(c: string): string {
  if (/[0-8]/.test(c)) return String(Number(c) + 1);
  if (c === '9') return '0';
  if (/[a-y]/i.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'z') return 'a';
  if (c === 'Z') return 'A';
  return c === 'x' ? 'y' : 'x';
}

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(segment)));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  throw new Error(`cannot tell the signing algorithm of a ${String(jwk.kty)} key: give the JWK an "alg"`);
}
