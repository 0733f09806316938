// Waiting out a rate limiter: a 429 Too Many Requests is the target asking the harness to slow
// down, not a verdict on the request. RFC 6585 §4: "The 429 status code indicates that the user
// has sent too many requests in a given amount of time ("rate limiting"). ... MAY include a
// Retry-After header indicating how long to wait before making a new request."
//
// The HTTP client (http.ts) sends every request through `retryOnRateLimit`: on a 429 it waits as
// long as Retry-After says (delta-seconds or an HTTP-date, RFC 9110 §10.2.3; one second when
// absent) and sends the same request again, a few times at most. Every attempt is its own recorded
// exchange, so the evidence shows the 429s. The waits never outlast the request's own time bound,
// which a check's client has already cut to what remains of the check's time: when the wait the
// target asks for does not fit, the request ends with a `rate-limited` transport error (the check
// concludes nothing: skip, saying so), never with the 429 handed to a check that might judge it.

import { type HttpResponse, HttpTransportError } from './http.ts';

/** Attempts after the first one. */
export const MAX_RATE_LIMIT_RETRIES = 5;
/** The wait when a 429 names none. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

/** What the target said, with the limits it announced (Retry-After, the RateLimit-Policy draft header). */
function rateLimited(response: HttpResponse): string {
  const url = new URL(response.url);
  const hints = ['retry-after', 'ratelimit-policy']
    .map((name) => [name, response.headers.get(name)] as const)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => `${name}: ${value}`);
  return `${url.origin}${url.pathname} answered 429 Too Many Requests: the target rate-limits the harness${
    hints.length > 0 ? ` (${hints.join(', ')})` : ''
  }`;
}

/** Milliseconds to wait from a Retry-After value, or undefined when it is absent or malformed. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryOptions {
  /** The whole request's time bound (ms): every attempt and every wait fit in it. */
  budgetMs: number;
  /** Waits (tests pass a fake clock). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Sends with `send(timeoutMs, attempt)` (attempt 0 first) until the answer is not a 429, waiting
 * as the target asks in between. Resolves with that answer; rejects with HttpTransportError
 * ('rate-limited') when the target still answers 429 and the next wait does not fit in the budget or
 * the attempts are spent.
 */
export async function retryOnRateLimit(
  send: (timeoutMs: number, attempt: number) => Promise<HttpResponse>,
  options: RetryOptions,
): Promise<HttpResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.budgetMs;
  for (let attempt = 0; ; attempt++) {
    const response = await send(Math.max(1, deadline - now()), attempt);
    if (response.status !== 429) return response;
    const header = response.headers.get('retry-after');
    const wait = retryAfterMs(header, now()) ?? DEFAULT_RETRY_AFTER_MS;
    const left = deadline - now();
    const refused = (why: string) =>
      new HttpTransportError('rate-limited', `${rateLimited(response)}; ${why}`, response.exchange.id);
    if (attempt >= MAX_RATE_LIMIT_RETRIES) throw refused(`still so after ${attempt + 1} attempts`);
    // The wait and at least a short attempt after it must fit in what is left.
    if (wait + 100 > left) {
      throw refused(
        `waiting ${wait} ms does not fit in the ${Math.max(0, left)} ms left of this request's time bound`,
      );
    }
    await sleep(wait);
  }
}
