// Storage of the authorization server: registered clients, pending authorization requests (the
// consent page), authorization codes, grants with their refresh-token families, revoked access
// token ids, and the Client ID Metadata Document cache.
//
// The interface is async so a persistent implementation can replace the in-memory one. Every
// operation that decides "first one wins" (redeeming a code, rotating a refresh token, taking a
// pending request) is ONE method, so the decision happens inside the store:
//
//   Atomicity rule of the in-memory implementation: JavaScript runs one callback at a time, so a
//   check and the write that depends on it are atomic when they sit in the same synchronous
//   stretch of code, with no `await` between them. Each consuming method below is written that
//   way (the `async` only wraps the result in a promise at the end).
//
// Secrets are never stored in clear: codes, refresh tokens and client secrets are keyed by their
// SHA-256 hash (see as/crypto.ts), so a dump of the store reveals nothing that can be replayed.
//
// Every map is capped (limits.ts): a save into a full store is refused (the caller answers 503 or
// `temporarily_unavailable`), except for pure bookkeeping (access-token ids, the metadata-document
// cache), which drops its oldest entry. Clients and grants that go unused expire.

import { type ReferenceServerLimits, resolveLimits } from './limits.ts';

/** Metadata of a registered client, as RFC 7591 §2 names it (only the members this AS uses). */
export interface ClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post';
  grant_types: string[];
  response_types: string[];
  application_type: 'native' | 'web';
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  scope?: string;
  contacts?: string[];
  tos_uri?: string;
  policy_uri?: string;
  software_id?: string;
  software_version?: string;
}

export interface ClientRecord {
  client_id: string;
  /** Where the client came from: dynamic registration or a Client ID Metadata Document. */
  source: 'dcr' | 'cimd';
  metadata: ClientMetadata;
  /** SHA-256 (base64url) of the client secret; confidential DCR clients only. */
  secretHash?: string;
  client_id_issued_at?: number;
  /** 0 = never (RFC 7591 §3.2.1). */
  client_secret_expires_at?: number;
}

/** What an authorization request asked for, once validated; carried into the code and the grant. */
export interface AuthorizationRequest {
  clientId: string;
  /** The redirect URI the response goes to (the one sent, or the single registered one). */
  redirectUri: string;
  /** Was `redirect_uri` present in the request? (OAuth 2.1 §4.1.3 compares it only then.) */
  redirectUriSent: boolean;
  state?: string;
  scope: string;
  resource: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
}

/** An authorization request waiting on the consent page. */
export interface PendingRequest {
  id: string;
  /** Anti-CSRF token the consent form must echo (bound to this one request). */
  csrf: string;
  request: AuthorizationRequest;
  /**
   * An error found after the client and redirect URI were known good. It is delivered only after
   * the user signed in (OAuth 2.1 §7.12.2: no silent redirect for erroneous requests).
   */
  error?: { error: string; description: string };
  expiresAt: number;
  /**
   * The sign-in session (as/sign-in-sessions.ts, its hash) of a consent page shown to a person who
   * is signed in already: the form has no password fields, and only that session may answer it.
   */
  session?: string;
}

export interface CodeRecord {
  request: AuthorizationRequest;
  /** The signed-in user (`sub`). */
  subject: string;
  expiresAt: number;
  /** Set once redeemed: the grant it produced, so a replay can revoke it (OAuth 2.1 §4.1.3). */
  redeemedGrantId?: string;
}

export interface Grant {
  id: string;
  clientId: string;
  subject: string;
  scope: string;
  resource: string;
  revoked: boolean;
  /** Hash of the one refresh token of this family that may be used next. */
  activeRefreshHash?: string;
}

export type RedeemResult =
  { kind: 'redeemed'; code: CodeRecord } | { kind: 'replayed'; code: CodeRecord } | { kind: 'unknown' };

export type RotateResult =
  /** The token was the active one; the new hash replaced it. */
  | { kind: 'rotated'; grant: Grant }
  /** The token was superseded earlier: a reuse (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2). */
  | { kind: 'reused'; grant: Grant }
  | { kind: 'revoked'; grant: Grant }
  | { kind: 'unknown' };

/**
 * What an opaque access token stands for (variant opaque-tokens): the resource server learns it by
 * introspection (RFC 7662 §2.2), since the token itself carries nothing.
 */
export interface AccessTokenDetails {
  subject: string;
  clientId: string;
  scope: string;
  resource: string;
  /** Seconds since the epoch. */
  issuedAt: number;
}

export interface AccessTokenRecord {
  grantId: string;
  /** ms since the epoch. */
  expiresAt: number;
  details?: AccessTokenDetails;
}

export interface CimdCacheEntry {
  /** The validated client; absent when the entry remembers a failure (fault `as-cimd-caches-errors` only). */
  client?: ClientRecord;
  error?: string;
  expiresAt: number;
}

/** The stores that refuse a save when full (and can say when room is expected back). */
export type CappedStore = 'clients' | 'pending' | 'codes' | 'grants';

/** How many entries each map holds (tests and benchmarks read it to see memory being released). */
export interface StoreSizes {
  clients: number;
  pending: number;
  codes: number;
  grants: number;
  /** Refresh-token hashes remembered (active and superseded ones). */
  refreshTokens: number;
  accessTokenRecords: number;
  revokedAccessTokens: number;
  cimdDocuments: number;
}

export interface AuthorizationServerStore {
  /** Stores a new client; returns false when the client store is full. */
  saveClient(client: ClientRecord): Promise<boolean>;
  /** The client, if registered and not expired; counts as a use (unused clients expire). */
  getClient(clientId: string): Promise<ClientRecord | undefined>;

  /** Stores a pending request; returns false when too many are waiting (flood guard). */
  savePending(pending: PendingRequest): Promise<boolean>;
  getPending(id: string): Promise<PendingRequest | undefined>;
  /** Removes and returns the pending request (atomic: a consent form is answered once). */
  takePending(id: string): Promise<PendingRequest | undefined>;

  /** Stores a new code; returns false when the code store is full. */
  saveCode(codeHash: string, code: CodeRecord): Promise<boolean>;
  getCode(codeHash: string): Promise<CodeRecord | undefined>;
  /**
   * Atomically marks a code redeemed by `grantId`. The first caller gets `redeemed`; every later
   * caller gets `replayed` with the grant of the first redemption.
   */
  redeemCode(codeHash: string, grantId: string): Promise<RedeemResult>;

  /**
   * Is there room for one more grant? Asked before a code is consumed, so a full store never
   * burns the code; `saveGrant` itself never refuses (so the cap can be passed by the few
   * redemptions in flight at that moment).
   */
  hasRoomForGrant(): Promise<boolean>;
  saveGrant(grant: Grant): Promise<void>;
  getGrant(id: string): Promise<Grant | undefined>;
  /** The grant a refresh token (by hash) belongs to, whether it is the active one or superseded. */
  findGrantByRefresh(refreshHash: string): Promise<{ grant: Grant; active: boolean } | undefined>;
  /** Atomically replaces the active refresh token `oldHash` by `newHash`. */
  rotateRefresh(oldHash: string, newHash: string): Promise<RotateResult>;
  /** Ends a grant: its refresh tokens stop working (and its access tokens' jtis are revoked). */
  revokeGrant(id: string): Promise<void>;

  /**
   * Ends every grant of this user at this client, and forgets their unredeemed codes (variant
   * revoke-earlier-grants: a new authorization supersedes the earlier ones). Atomic.
   */
  revokeGrantsOf(clientId: string, subject: string): Promise<void>;

  /**
   * Remembers an issued access token's jti under its grant, until `expiresAt`; `details` for an
   * opaque token (its jti is the token's hash), which introspection reads back.
   */
  recordAccessToken(
    grantId: string,
    jti: string,
    expiresAt: number,
    details?: AccessTokenDetails,
  ): Promise<void>;
  /** The record of an issued access token that has not expired yet. */
  getAccessToken(jti: string): Promise<AccessTokenRecord | undefined>;
  revokeAccessToken(jti: string): Promise<void>;
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /** The grant an access token was issued under, if still remembered. */
  grantOfAccessToken(jti: string): Promise<string | undefined>;

  getCimd(url: string): Promise<CimdCacheEntry | undefined>;
  putCimd(url: string, entry: CimdCacheEntry): Promise<void>;

  /** Seconds until a full store is expected to have room again (its first entry expires); at least 1. */
  secondsUntilRoom(store: CappedStore): Promise<number>;
  sizes(): Promise<StoreSizes>;
}

export interface MemoryStoreOptions {
  /** Caps (see limits.ts); the defaults of DEFAULT_LIMITS otherwise. */
  limits?: Partial<ReferenceServerLimits>;
  /** How long a redeemed code is remembered after it expires, for replay detection (ms). */
  replayMemoryMs?: number;
  now?: () => number;
}

/** A registered client and when a request last named it (the map is kept in that order). */
interface ClientEntry {
  client: ClientRecord;
  lastUsed: number;
}

/** A grant, when its refresh token was last used, and every refresh hash of it still indexed. */
interface GrantEntry {
  grant: Grant;
  lastUsed: number;
  /** Oldest first; the last one is the active token (unless revoked). */
  refreshHashes: string[];
}

/** The default store: plain Maps, capped, swept of expired entries on writes. */
export class MemoryStore implements AuthorizationServerStore {
  /** Least recently used first: `getClient` moves a client to the end. */
  private readonly clients = new Map<string, ClientEntry>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly codes = new Map<string, CodeRecord>();
  /** Least recently used first: a refresh moves its grant to the end. */
  private readonly grants = new Map<string, GrantEntry>();
  /** refresh hash → grant id, for the active and the last few superseded tokens of each grant. */
  private readonly refreshIndex = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly revokedJtis = new Map<string, number>();
  private readonly cimd = new Map<string, CimdCacheEntry>();
  private readonly limits: ReferenceServerLimits;
  private readonly replayMemoryMs: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.replayMemoryMs = options.replayMemoryMs ?? 10 * 60_000;
    // Read the clock at each call (not `Date.now` captured once), so a test's fake clock applies.
    this.now = options.now ?? (() => Date.now());
  }

  async saveClient(client: ClientRecord): Promise<boolean> {
    this.sweep();
    if (this.clients.size >= this.limits.maxClients) this.purgeClients(this.now());
    if (this.clients.size >= this.limits.maxClients) return false;
    this.clients.set(client.client_id, { client, lastUsed: this.now() });
    return true;
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const entry = this.clients.get(clientId);
    if (!entry) return undefined;
    const now = this.now();
    this.clients.delete(clientId);
    if (this.clientExpired(entry, now)) return undefined;
    // A use: the client moves to the end of the least-recently-used order.
    entry.lastUsed = now;
    this.clients.set(clientId, entry);
    return entry.client;
  }

  async savePending(pending: PendingRequest): Promise<boolean> {
    this.sweep();
    if (this.pending.size >= this.limits.maxPendingRequests) this.purgePending(this.now());
    if (this.pending.size >= this.limits.maxPendingRequests) return false;
    this.pending.set(pending.id, pending);
    return true;
  }

  async getPending(id: string): Promise<PendingRequest | undefined> {
    const p = this.pending.get(id);
    return p && p.expiresAt > this.now() ? p : undefined;
  }

  async takePending(id: string): Promise<PendingRequest | undefined> {
    // Atomic: get and delete with no await between.
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p && p.expiresAt > this.now() ? p : undefined;
  }

  async saveCode(codeHash: string, code: CodeRecord): Promise<boolean> {
    this.sweep();
    if (this.codes.size >= this.limits.maxCodes) this.purgeCodes(this.now());
    if (this.codes.size >= this.limits.maxCodes) return false;
    this.codes.set(codeHash, code);
    return true;
  }

  async getCode(codeHash: string): Promise<CodeRecord | undefined> {
    return this.codes.get(codeHash);
  }

  async redeemCode(codeHash: string, grantId: string): Promise<RedeemResult> {
    // Atomic: check `redeemedGrantId` and set it with no await between.
    const code = this.codes.get(codeHash);
    if (!code) return { kind: 'unknown' };
    if (code.redeemedGrantId !== undefined) return { kind: 'replayed', code };
    code.redeemedGrantId = grantId;
    return { kind: 'redeemed', code };
  }

  async hasRoomForGrant(): Promise<boolean> {
    this.sweep();
    if (this.grants.size >= this.limits.maxGrants) this.purgeGrants(this.now());
    return this.grants.size < this.limits.maxGrants;
  }

  async saveGrant(grant: Grant): Promise<void> {
    const refreshHashes = grant.activeRefreshHash ? [grant.activeRefreshHash] : [];
    this.grants.set(grant.id, { grant, lastUsed: this.now(), refreshHashes });
    for (const hash of refreshHashes) this.refreshIndex.set(hash, grant.id);
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    return this.liveGrant(id)?.grant;
  }

  async findGrantByRefresh(refreshHash: string): Promise<{ grant: Grant; active: boolean } | undefined> {
    const grantId = this.refreshIndex.get(refreshHash);
    const grant = grantId === undefined ? undefined : this.liveGrant(grantId)?.grant;
    if (!grant) return undefined;
    return { grant, active: grant.activeRefreshHash === refreshHash };
  }

  async rotateRefresh(oldHash: string, newHash: string): Promise<RotateResult> {
    // Atomic: compare the active hash and replace it with no await between, so of N parallel
    // refreshes with the same token exactly one sees `rotated`.
    const grantId = this.refreshIndex.get(oldHash);
    const entry = grantId === undefined ? undefined : this.liveGrant(grantId);
    if (!entry) return { kind: 'unknown' };
    const { grant } = entry;
    if (grant.revoked) return { kind: 'revoked', grant };
    if (grant.activeRefreshHash !== oldHash) return { kind: 'reused', grant };
    grant.activeRefreshHash = newHash;
    this.refreshIndex.set(newHash, grant.id);
    entry.refreshHashes.push(newHash);
    // Reuse detection remembers the last few superseded tokens; an older one is simply unknown
    // (still refused with invalid_grant, only without ending the grant).
    while (entry.refreshHashes.length > this.limits.maxRefreshHistory + 1) {
      this.refreshIndex.delete(entry.refreshHashes.shift()!);
    }
    // A use: the grant moves to the end of the least-recently-used order.
    entry.lastUsed = this.now();
    this.grants.delete(grant.id);
    this.grants.set(grant.id, entry);
    return { kind: 'rotated', grant };
  }

  async revokeGrant(id: string): Promise<void> {
    const grant = this.grants.get(id)?.grant;
    if (grant) this.endGrant(grant);
  }

  private endGrant(grant: Grant): void {
    grant.revoked = true;
    grant.activeRefreshHash = undefined;
    for (const [jti, at] of this.accessTokens) {
      if (at.grantId === grant.id) this.revokedJtis.set(jti, at.expiresAt);
    }
  }

  async revokeGrantsOf(clientId: string, subject: string): Promise<void> {
    // Atomic: no await between the scans and the writes.
    for (const { grant } of this.grants.values()) {
      if (grant.clientId === clientId && grant.subject === subject && !grant.revoked) this.endGrant(grant);
    }
    for (const [hash, code] of this.codes) {
      const mine = code.request.clientId === clientId && code.subject === subject;
      if (mine && code.redeemedGrantId === undefined) this.codes.delete(hash);
    }
  }

  async recordAccessToken(
    grantId: string,
    jti: string,
    expiresAt: number,
    details?: AccessTokenDetails,
  ): Promise<void> {
    this.sweep();
    if (this.accessTokens.size >= this.limits.maxAccessTokenRecords) {
      // The oldest record goes (the bundled resource server verifies JWTs itself; under the
      // opaque-tokens variant an opaque token older than the cap then stops being introspectable).
      const oldest = this.accessTokens.keys().next().value;
      if (oldest !== undefined) this.accessTokens.delete(oldest);
    }
    this.accessTokens.set(jti, { grantId, expiresAt, ...(details ? { details } : {}) });
  }

  async getAccessToken(jti: string): Promise<AccessTokenRecord | undefined> {
    const at = this.accessTokens.get(jti);
    return at && at.expiresAt > this.now() ? at : undefined;
  }

  async revokeAccessToken(jti: string): Promise<void> {
    const at = this.accessTokens.get(jti);
    if (at) this.revokedJtis.set(jti, at.expiresAt);
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.revokedJtis.has(jti);
  }

  async grantOfAccessToken(jti: string): Promise<string | undefined> {
    return this.accessTokens.get(jti)?.grantId;
  }

  async getCimd(url: string): Promise<CimdCacheEntry | undefined> {
    const entry = this.cimd.get(url);
    if (entry && entry.expiresAt <= this.now()) {
      this.cimd.delete(url);
      return undefined;
    }
    return entry;
  }

  async putCimd(url: string, entry: CimdCacheEntry): Promise<void> {
    this.sweep();
    if (this.cimd.size >= this.limits.maxCimdDocuments) {
      // Evict the oldest insertion (Map keeps insertion order).
      const oldest = this.cimd.keys().next().value;
      if (oldest !== undefined) this.cimd.delete(oldest);
    }
    this.cimd.set(url, entry);
  }

  async secondsUntilRoom(store: CappedStore): Promise<number> {
    const now = this.now();
    let soonest: number;
    if (store === 'clients') {
      const first = this.clients.values().next().value;
      soonest = first ? first.lastUsed + this.limits.clientIdleSeconds * 1000 : now;
    } else if (store === 'grants') {
      const first = this.grants.values().next().value;
      soonest = first ? first.lastUsed + this.limits.grantIdleSeconds * 1000 : now;
    } else {
      const until =
        store === 'pending'
          ? [...this.pending.values()].map((p) => p.expiresAt)
          : [...this.codes.values()].map((c) => this.codeKeptUntil(c));
      soonest = until.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
      if (!Number.isFinite(soonest)) soonest = now;
    }
    return Math.max(1, Math.ceil((soonest - now) / 1000));
  }

  async sizes(): Promise<StoreSizes> {
    return {
      clients: this.clients.size,
      pending: this.pending.size,
      codes: this.codes.size,
      grants: this.grants.size,
      refreshTokens: this.refreshIndex.size,
      accessTokenRecords: this.accessTokens.size,
      revokedAccessTokens: this.revokedJtis.size,
      cimdDocuments: this.cimd.size,
    };
  }

  private clientExpired(entry: ClientEntry, now: number): boolean {
    return entry.lastUsed + this.limits.clientIdleSeconds * 1000 <= now;
  }

  /** The grant, unless it idled out (then it is dropped with its refresh hashes). */
  private liveGrant(id: string): GrantEntry | undefined {
    const entry = this.grants.get(id);
    if (!entry) return undefined;
    if (entry.lastUsed + this.limits.grantIdleSeconds * 1000 > this.now()) return entry;
    this.dropGrant(id, entry);
    return undefined;
  }

  private dropGrant(id: string, entry: GrantEntry): void {
    this.grants.delete(id);
    for (const hash of entry.refreshHashes) this.refreshIndex.delete(hash);
  }

  private codeKeptUntil(code: CodeRecord): number {
    return code.redeemedGrantId === undefined ? code.expiresAt : code.expiresAt + this.replayMemoryMs;
  }

  // Clients and grants are kept least recently used first, so their purge stops at the first live one.
  private purgeClients(now: number): void {
    for (const [id, entry] of this.clients) {
      if (!this.clientExpired(entry, now)) break;
      this.clients.delete(id);
    }
  }

  private purgeGrants(now: number): void {
    for (const [id, entry] of this.grants) {
      if (entry.lastUsed + this.limits.grantIdleSeconds * 1000 > now) break;
      this.dropGrant(id, entry);
    }
  }

  private purgePending(now: number): void {
    for (const [id, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(id);
  }

  private purgeCodes(now: number): void {
    for (const [hash, c] of this.codes) if (this.codeKeptUntil(c) <= now) this.codes.delete(hash);
  }

  /** Drops expired entries, at most once a second, so floods of bad requests cannot pile up. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    this.purgeClients(now);
    this.purgeGrants(now);
    this.purgePending(now);
    this.purgeCodes(now);
    for (const [jti, at] of this.accessTokens) if (at.expiresAt <= now) this.accessTokens.delete(jti);
    for (const [jti, exp] of this.revokedJtis) if (exp <= now) this.revokedJtis.delete(jti);
    for (const [url, e] of this.cimd) if (e.expiresAt <= now) this.cimd.delete(url);
  }
}
