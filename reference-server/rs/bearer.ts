// Where the access token comes from: the Authorization header, and nowhere else.
//
// OAuth 2.1 §5.1: "Resource servers MUST ignore access tokens in a URI query parameter" — a
// request with `?access_token=` and no header is a request with no credentials at all.
// OAuth 2.1 §5.1.1 / RFC 9110 §11.1: the auth scheme is case-insensitive.
// RFC 6750 §3.1: more than one method of presenting a token is `invalid_request` (400); two
// Authorization lines are the header-only form of that.

import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../context.ts';
import { headerLines } from '../http.ts';

export type Credentials =
  /** No Authorization header: the client does not know yet that it needs a token. */
  | { kind: 'none' }
  /** Credentials of another scheme (Basic, Token, …): RFC 6750 §3.1 treats these like none. */
  | { kind: 'other-scheme'; scheme: string }
  /** More than one Authorization header line: RFC 6750 §3.1 `invalid_request`. */
  | { kind: 'duplicate' }
  /** A Bearer credential; `token` may be empty or malformed, verification decides. */
  | { kind: 'bearer'; token: string };

/** RFC 6750 §2.1 `b64token` (= RFC 9110 token68). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function credentialsOf(ctx: ServerContext, req: IncomingMessage, url: URL): Credentials {
  // Node joins repeated Authorization headers with ", " in req.headers; the raw lines keep them apart.
  const lines = headerLines(req, 'authorization');
  if (lines.length > 1 && !ctx.fault('rs-duplicate-authorization-first-wins')) return { kind: 'duplicate' };
  const line = lines[0];
  if (line === undefined) {
    const queryToken = url.searchParams.get('access_token');
    // The fault reads the token from the query, which OAuth 2.1 §5.1 forbids.
    if (queryToken && ctx.fault('rs-query-token-accepted')) return { kind: 'bearer', token: queryToken };
    return { kind: 'none' };
  }
  const match = /^(\S+)(?:[ \t]+(.*))?$/.exec(line.trim());
  if (!match) return { kind: 'none' };
  const scheme = match[1]!;
  const isBearer = ctx.fault('rs-scheme-case-sensitive')
    ? scheme === 'Bearer'
    : scheme.toLowerCase() === 'bearer';
  if (!isBearer) return { kind: 'other-scheme', scheme };
  return { kind: 'bearer', token: (match[2] ?? '').trim() };
}

/** Is this a syntactically valid bearer token (RFC 6750 §2.1)? */
export function isToken68(token: string): boolean {
  return TOKEN68.test(token);
}
