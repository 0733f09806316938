// Small helpers the suites share: describing discovery attempts, and telling "the target does not
// serve it" (a finding) from "the harness could not reach it" (an error, never a finding).

import type { Attempt } from './discovery.ts';
import { type HttpResponse, HttpTransportError } from './http.ts';

/** `url → 404`, `url → 200 (the 200 answer is not a JSON object)`, `url → timeout: ...` */
export function describeAttempt(a: Attempt): string {
  if (a.status === undefined) return `${a.url} → ${a.error ?? 'no answer'}`;
  return `${a.url} → ${a.status}${a.error ? ` (${a.error})` : ''}`;
}

export function describeAttempts(attempts: readonly Attempt[]): string {
  return attempts.map(describeAttempt).join('; ');
}

/** The attempts as report data (one row per URL tried). */
export function attemptsTable(attempts: readonly Attempt[]): Record<string, unknown>[] {
  return attempts.map((a) => ({
    url: a.url,
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.error ? { error: a.error } : {}),
    ...(a.exchangeId ? { exchange: a.exchangeId } : {}),
  }));
}

/**
 * When nothing was found and no URL even answered, there is nothing to judge: throw, so the
 * engine reports `error` (the harness could not observe) instead of a failure of the target.
 */
export function assertSomeAnswer(attempts: readonly Attempt[], what: string): void {
  if (attempts.length > 0 && attempts.every((a) => a.status === undefined)) {
    throw new HttpTransportError(
      'network',
      `no URL answered while looking for ${what}: ${describeAttempts(attempts)}`,
    );
  }
}

/** Exchange ids of the attempts (evidence). */
export function attemptExchanges(attempts: readonly Attempt[]): string[] {
  return attempts.flatMap((a) => (a.exchangeId ? [a.exchangeId] : []));
}

/**
 * What is wrong with a metadata answer that must be `200`, `application/json` and a JSON object
 * (RFC 9728 §3.2, RFC 8414 §3.2). The media type is compared without parameters and without
 * regard to case (RFC 9110 §8.3.1). Returns the problems and the body when it is an object.
 */
export function jsonObjectAnswer(res: HttpResponse): { problems: string[]; body?: Record<string, unknown> } {
  const problems: string[] = [];
  if (res.status !== 200) problems.push(`status is ${res.status}, not 200`);
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json')
    problems.push(`Content-Type is "${res.headers.get('content-type') ?? '(none)'}", not application/json`);
  const body = res.json();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    problems.push('the body is not a JSON object');
    return { problems };
  }
  return { problems, body: body as Record<string, unknown> };
}
