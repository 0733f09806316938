// Caps on everything a stranger can make the reference server keep in memory.
//
// Every store that grows with requests has a count cap, and entries whose size the client chooses
// have a byte cap, so no sequence of requests can run the process out of memory (issue #14:
// 5,000 open registrations used to add 308 MiB that was never freed). When a store is full the
// answer says so clearly: 503 `temporarily_unavailable` with `Retry-After` on the JSON endpoints,
// the OAuth `temporarily_unavailable` error where the answer is a redirect (OAuth 2.1 §4.1.2.1:
// "needed because a 503 Service Unavailable HTTP status code cannot be returned to the client via
// an HTTP redirect"). Entries that only serve bookkeeping (access-token ids, the metadata-document
// cache, MCP sessions) make room by dropping their oldest entry instead. See docs/decisions.md,
// "Caps on what anyone can make the reference server store".

import { HttpError } from './http.ts';

export interface ReferenceServerLimits {
  /** Registered clients kept at once; a registration beyond is 503 (RFC 7591 §3.2.2 lets the AS refuse). */
  maxClients: number;
  /** Bytes one registered client may keep (the JSON of its metadata); more is 400 invalid_client_metadata. */
  maxClientMetadataBytes: number;
  /** A registered client that no request named for this long is forgotten. */
  clientIdleSeconds: number;
  /** Authorization requests waiting on the consent page. */
  maxPendingRequests: number;
  /**
   * Bytes of `state` and `code_challenge` together: the values of an authorization request a client
   * chooses freely, kept until the code is redeemed (the other members are registered or validated).
   */
  maxAuthorizationRequestBytes: number;
  /** Authorization codes held (unexpired ones, and redeemed ones kept for replay detection). */
  maxCodes: number;
  /** Grants (one per redeemed code: the refresh-token family and its bookkeeping). */
  maxGrants: number;
  /** A grant whose refresh token was not used for this long ends (its refresh token stops working). */
  grantIdleSeconds: number;
  /** Superseded refresh tokens remembered per grant, for reuse detection (OAuth 2.1 §4.3.1). */
  maxRefreshHistory: number;
  /** Issued access-token ids remembered for revocation; the oldest is dropped to make room. */
  maxAccessTokenRecords: number;
  /** Client ID Metadata Documents cached; the oldest is dropped to make room. */
  maxCimdDocuments: number;
  /** MCP sessions (2025 revisions); the least recently used one is closed to make room. */
  maxSessions: number;
  /** An MCP session unused for this long is closed. */
  sessionIdleSeconds: number;
}

export const DEFAULT_LIMITS: Readonly<ReferenceServerLimits> = Object.freeze({
  maxClients: 1000,
  // The size CIMD draft-00 §6 suggests for a metadata document: a registered client may keep as much.
  maxClientMetadataBytes: 5 * 1024,
  clientIdleSeconds: 24 * 3600,
  maxPendingRequests: 1000,
  maxAuthorizationRequestBytes: 4 * 1024,
  maxCodes: 1000,
  maxGrants: 5000,
  grantIdleSeconds: 24 * 3600,
  maxRefreshHistory: 20,
  maxAccessTokenRecords: 10_000,
  maxCimdDocuments: 500,
  maxSessions: 1000,
  sessionIdleSeconds: 30 * 60,
});

/** The defaults with `given` applied; every limit must be a positive integer. */
export function resolveLimits(given: Partial<ReferenceServerLimits> = {}): ReferenceServerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) throw new Error(`unknown reference-server limit: ${name}`);
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`reference-server limit ${name} must be a positive integer, got ${String(value)}`);
    }
    limits[name as keyof ReferenceServerLimits] = value;
  }
  return limits;
}

/** The answer of a JSON endpoint whose store is full: 503, and when room is expected back. */
export function storeFull(description: string, retryAfterSeconds: number): HttpError {
  return new HttpError(503, 'temporarily_unavailable', description, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
}
