// The variant rate-limited: /authorize, /token and /register each allow a small burst, then
// answer 429 Too Many Requests with Retry-After until their bucket refills (RFC 6585 §4: "The 429
// status code indicates that the user has sent too many requests in a given amount of time ("rate
// limiting"). ... MAY include a Retry-After header indicating how long to wait before making a
// new request."). One token bucket per endpoint for all callers: every test client is on loopback,
// so a per-address bucket would be the same bucket.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from '../context.ts';
import { sendHtml, sendOAuthError } from '../http.ts';

/**
 * Requests an endpoint answers at once before it starts refusing, and regains per second. A full
 * run still meets dozens of 429s; the numbers keep one Retry-After wait (1 s) enough to find the
 * bucket full again, because the embedded run's codes live 2 s (cli/config.ts): a code held
 * through two waits would expire, which says nothing about the checks.
 */
export const RATE_LIMIT_BURST = 30;
export const RATE_LIMIT_PER_SECOND = 30;

const LIMITED = ['/authorize', '/token', '/register'];

export interface RateLimiter {
  /** Answers 429 and returns true when `path` (relative to the issuer) is over its limit. */
  refuse(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export function createRateLimiter(ctx: ServerContext, now: () => number = Date.now): RateLimiter {
  if (!ctx.variant('rate-limited')) return { refuse: () => false };
  const buckets = new Map(LIMITED.map((path) => [path, { tokens: RATE_LIMIT_BURST, at: now() }]));
  return {
    refuse(req, res, path) {
      const bucket = buckets.get(path);
      // A CORS preflight is not a request of the endpoint itself.
      if (!bucket || req.method === 'OPTIONS') return false;
      const t = now();
      bucket.tokens = Math.min(
        RATE_LIMIT_BURST,
        bucket.tokens + ((t - bucket.at) / 1000) * RATE_LIMIT_PER_SECOND,
      );
      bucket.at = t;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return false;
      }
      req.resume();
      // Whole seconds (RFC 9110 §10.2.3 delta-seconds), at least one.
      const retryAfter = String(Math.max(1, Math.ceil((1 - bucket.tokens) / RATE_LIMIT_PER_SECOND)));
      // RFC 6585 §4: "Responses with the 429 status code MUST NOT be stored by a cache."
      const headers = { 'Retry-After': retryAfter };
      const description = `too many requests to ${path}; retry after ${retryAfter} s`;
      // The authorization endpoint is a page a person sees; the others are APIs with OAuth errors.
      if (path === '/authorize') {
        sendHtml(res, 429, `<!doctype html><title>Too Many Requests</title><p>${description}</p>`, headers);
      } else {
        sendOAuthError(res, 429, 'temporarily_unavailable', description, headers);
      }
      return true;
    },
  };
}
