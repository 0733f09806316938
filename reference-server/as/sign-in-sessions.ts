// The sign-in session of the authorization server: what every real identity provider keeps after
// a person signs in (a session cookie), so the next authorization request from the same browser
// does not ask for the password again, and the consents the person gave, remembered per client.
//
// - The cookie is HttpOnly, SameSite=Lax (sent on the top-level GET navigation to /authorize that
//   a client starts, never on cross-site subrequests or POSTs), Secure and `__Host-` prefixed
//   when the issuer is https (RFC 6265bis §4.1.3.2). Its value is 256 random bits; the store keeps
//   only its SHA-256, like every other secret of this server (store.ts).
// - Consent is remembered per (user, client_id): a later request of the same client for the same
//   or fewer scopes is approved without a page, as Keycloak, Okta, Auth0 and Google do. A client the
//   person has not approved yet gets a consent page (without the password fields), unless the
//   server runs with `skipConsent` (an administrator who trusts the clients: see context.ts).
// - Bounded: at most MAX_SESSIONS sessions (the oldest is dropped), each remembering at most
//   MAX_CONSENTS clients, each living SESSION_TTL_MS. Only a correct password creates a session.

import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../context.ts';
import { randomToken, sha256 } from './crypto.ts';

const MAX_SESSIONS = 1000;
const MAX_CONSENTS = 500;
const SESSION_TTL_MS = 60 * 60_000;

export interface SignInSession {
  /** SHA-256 of the cookie value (the key; the value itself is never stored). */
  hash: string;
  subject: string;
  expiresAt: number;
  /** client_id → the scopes the person approved for it. */
  consents: Map<string, Set<string>>;
}

export class SignInSessions {
  private readonly sessions = new Map<string, SignInSession>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cookie's name: `__Host-` prefixed where the cookie can be Secure (an https issuer). */
  get cookieName(): string {
    return this.secure ? '__Host-as_session' : 'as_session';
  }

  private get secure(): boolean {
    return this.ctx.issuer.startsWith('https:');
  }

  /** The live session the request's cookie names, if any. */
  of(req: IncomingMessage): SignInSession | undefined {
    const value = cookieValue(req.headers.cookie, this.cookieName);
    if (value === undefined) return undefined;
    const hash = sha256(value);
    const session = this.sessions.get(hash);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(hash);
      return undefined;
    }
    return session;
  }

  /** A new session for `subject`; returns it and the Set-Cookie header value that hands it out. */
  start(subject: string): { session: SignInSession; setCookie: string } {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const value = randomToken();
    const session: SignInSession = {
      hash: sha256(value),
      subject,
      expiresAt: this.now() + SESSION_TTL_MS,
      consents: new Map(),
    };
    this.sessions.set(session.hash, session);
    const attributes = [
      `${this.cookieName}=${value}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Lax',
      `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
      ...(this.secure ? ['Secure'] : []),
    ];
    return { session, setCookie: attributes.join('; ') };
  }

  /** Has the person approved `scope` (space-separated) for this client in this session? */
  hasConsent(session: SignInSession, clientId: string, scope: string): boolean {
    const approved = session.consents.get(clientId);
    if (!approved) return false;
    return scope.split(' ').every((s) => s === '' || approved.has(s));
  }

  /** Remembers that the person approved `scope` for this client. */
  remember(session: SignInSession, clientId: string, scope: string): void {
    let approved = session.consents.get(clientId);
    if (!approved) {
      if (session.consents.size >= MAX_CONSENTS) {
        const oldest = session.consents.keys().next().value;
        if (oldest !== undefined) session.consents.delete(oldest);
      }
      approved = new Set();
      session.consents.set(clientId, approved);
    }
    for (const s of scope.split(' ')) if (s !== '') approved.add(s);
  }

  private sweep(): void {
    const now = this.now();
    for (const [hash, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(hash);
  }
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4 syntax: `a=1; b=2`), if present once or more (the first wins). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
