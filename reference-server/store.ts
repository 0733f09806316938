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

export interface CimdCacheEntry {
  /** The validated client; absent when the entry remembers a failure (fault `as-cimd-caches-errors` only). */
  client?: ClientRecord;
  error?: string;
  expiresAt: number;
}

export interface AuthorizationServerStore {
  saveClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;

  /** Stores a pending request; returns false when too many are waiting (flood guard). */
  savePending(pending: PendingRequest): Promise<boolean>;
  getPending(id: string): Promise<PendingRequest | undefined>;
  /** Removes and returns the pending request (atomic: a consent form is answered once). */
  takePending(id: string): Promise<PendingRequest | undefined>;

  saveCode(codeHash: string, code: CodeRecord): Promise<void>;
  getCode(codeHash: string): Promise<CodeRecord | undefined>;
  /**
   * Atomically marks a code redeemed by `grantId`. The first caller gets `redeemed`; every later
   * caller gets `replayed` with the grant of the first redemption.
   */
  redeemCode(codeHash: string, grantId: string): Promise<RedeemResult>;

  saveGrant(grant: Grant): Promise<void>;
  getGrant(id: string): Promise<Grant | undefined>;
  /** The grant a refresh token (by hash) belongs to, whether it is the active one or superseded. */
  findGrantByRefresh(refreshHash: string): Promise<{ grant: Grant; active: boolean } | undefined>;
  /** Atomically replaces the active refresh token `oldHash` by `newHash`. */
  rotateRefresh(oldHash: string, newHash: string): Promise<RotateResult>;
  /** Ends a grant: its refresh tokens stop working (and its access tokens' jtis are revoked). */
  revokeGrant(id: string): Promise<void>;

  /** Remembers an issued access token's jti under its grant, until `expiresAt`. */
  recordAccessToken(grantId: string, jti: string, expiresAt: number): Promise<void>;
  revokeAccessToken(jti: string): Promise<void>;
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /** The grant an access token was issued under, if still remembered. */
  grantOfAccessToken(jti: string): Promise<string | undefined>;

  getCimd(url: string): Promise<CimdCacheEntry | undefined>;
  putCimd(url: string, entry: CimdCacheEntry): Promise<void>;
}

export interface MemoryStoreOptions {
  /** At most this many consent pages may be pending at once (default 1000). */
  maxPending?: number;
  /** At most this many cached metadata documents (default 500). */
  maxCimd?: number;
  /** How long a redeemed code is remembered after it expires, for replay detection (ms). */
  replayMemoryMs?: number;
  now?: () => number;
}

/** The default store: plain Maps, swept of expired entries on writes. */
export class MemoryStore implements AuthorizationServerStore {
  private readonly clients = new Map<string, ClientRecord>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly grants = new Map<string, Grant>();
  /** refresh hash → grant id, for every refresh token ever issued in a live grant. */
  private readonly refreshIndex = new Map<string, string>();
  private readonly accessTokens = new Map<string, { grantId: string; expiresAt: number }>();
  private readonly revokedJtis = new Map<string, number>();
  private readonly cimd = new Map<string, CimdCacheEntry>();
  private readonly maxPending: number;
  private readonly maxCimd: number;
  private readonly replayMemoryMs: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxPending = options.maxPending ?? 1000;
    this.maxCimd = options.maxCimd ?? 500;
    this.replayMemoryMs = options.replayMemoryMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async saveClient(client: ClientRecord): Promise<void> {
    this.clients.set(client.client_id, client);
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.clients.get(clientId);
  }

  async savePending(pending: PendingRequest): Promise<boolean> {
    this.sweep();
    if (this.pending.size >= this.maxPending) return false;
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

  async saveCode(codeHash: string, code: CodeRecord): Promise<void> {
    this.sweep();
    this.codes.set(codeHash, code);
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

  async saveGrant(grant: Grant): Promise<void> {
    this.grants.set(grant.id, grant);
    if (grant.activeRefreshHash) this.refreshIndex.set(grant.activeRefreshHash, grant.id);
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    return this.grants.get(id);
  }

  async findGrantByRefresh(refreshHash: string): Promise<{ grant: Grant; active: boolean } | undefined> {
    const grantId = this.refreshIndex.get(refreshHash);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (!grant) return undefined;
    return { grant, active: grant.activeRefreshHash === refreshHash };
  }

  async rotateRefresh(oldHash: string, newHash: string): Promise<RotateResult> {
    // Atomic: compare the active hash and replace it with no await between, so of N parallel
    // refreshes with the same token exactly one sees `rotated`.
    const grantId = this.refreshIndex.get(oldHash);
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    if (!grant) return { kind: 'unknown' };
    if (grant.revoked) return { kind: 'revoked', grant };
    if (grant.activeRefreshHash !== oldHash) return { kind: 'reused', grant };
    grant.activeRefreshHash = newHash;
    this.refreshIndex.set(newHash, grant.id);
    return { kind: 'rotated', grant };
  }

  async revokeGrant(id: string): Promise<void> {
    const grant = this.grants.get(id);
    if (!grant) return;
    grant.revoked = true;
    grant.activeRefreshHash = undefined;
    for (const [jti, at] of this.accessTokens) {
      if (at.grantId === id) this.revokedJtis.set(jti, at.expiresAt);
    }
  }

  async recordAccessToken(grantId: string, jti: string, expiresAt: number): Promise<void> {
    this.sweep();
    this.accessTokens.set(jti, { grantId, expiresAt });
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
    if (this.cimd.size >= this.maxCimd) {
      // Evict the oldest insertion (Map keeps insertion order).
      const oldest = this.cimd.keys().next().value;
      if (oldest !== undefined) this.cimd.delete(oldest);
    }
    this.cimd.set(url, entry);
  }

  /** Drops expired entries, at most once a second, so floods of bad requests cannot pile up. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [id, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(id);
    for (const [hash, c] of this.codes) {
      const keepUntil = c.redeemedGrantId === undefined ? c.expiresAt : c.expiresAt + this.replayMemoryMs;
      if (keepUntil <= now) this.codes.delete(hash);
    }
    for (const [jti, at] of this.accessTokens) if (at.expiresAt <= now) this.accessTokens.delete(jti);
    for (const [jti, exp] of this.revokedJtis) if (exp <= now) this.revokedJtis.delete(jti);
    for (const [url, e] of this.cimd) if (e.expiresAt <= now) this.cimd.delete(url);
  }
}
