// What the login drivers share: the context they run in, the script format, the error type and
// small helpers. Kept apart from index.ts so the drivers do not import the module that imports them.

import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import type { HttpClient, HttpResponse } from '../http.ts';

export interface LoginContext {
  http: HttpClient;
  authorizationUrl: URL;
  redirectUri: string;
  timeoutMs: number;
  log?: (line: string) => void;
  /**
   * Addition to the contract: called with every secret the driver handles (filled passwords,
   * cookies, the code in the callback), so the redactor can register it before anything is logged.
   */
  onSecret?: (value: string, kind: string) => void;
}

export type LoginDriverName = 'auto' | 'form' | 'browser' | 'manual';

/**
 * Who an authorization is for, so a driver that involves a person can say which check needs it
 * (the manual driver's browser page and terminal lines). Carried by async context: the engine runs
 * each check inside `withLoginPurpose`, and the fixtures each shared fixture, so no signature of
 * the flow changes.
 */
export interface LoginPurpose {
  /** The check that asked (its own grant, or an authorization request it built). */
  check?: { id: string; title: string };
  /** The shared fixture or probe being created (several checks wait on it). */
  shared?: string;
  /** Aborted when whoever asked stops waiting (its check ended): a login still queued is dropped. */
  signal?: AbortSignal;
}

const purposes = new AsyncLocalStorage<LoginPurpose>();

/** Runs `fn` with `purpose` as the purpose of every authorization it starts. */
export function withLoginPurpose<T>(purpose: LoginPurpose, fn: () => T): T {
  return purposes.run(purpose, fn);
}

/** The purpose of the authorization being started here, if the caller declared one. */
export function currentLoginPurpose(): LoginPurpose | undefined {
  return purposes.getStore();
}

/** One phrase for a person: `check AS-PKCE-02 (title)`, `the shared fixture "token"`. */
export function describeLoginPurpose(purpose: LoginPurpose | undefined): string {
  if (purpose?.check) return `check ${purpose.check.id} (${purpose.check.title})`;
  if (purpose?.shared) return purpose.shared;
  return 'an authorization of the run';
}

/** One step of a login script: on a page whose URL matches, fill fields and submit a form. */
export const FormStepSchema = z
  .object({
    /** A regular expression tested against the current page URL. */
    match: z.string().min(1).refine(isValidRegex, { message: 'not a valid regular expression' }),
    /** Field name → value; a value `$env:NAME` is read from the environment (keep secrets out of files). */
    fill: z.record(z.string(), z.string()).default({}),
    /**
     * Which form to submit: a number is the form's index on the page; a string is the name, value
     * or text of the submit button to press. Absent: the first form that has all the filled fields.
     */
    submit: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  })
  .strict();

export const FormScriptSchema = z
  .object({
    steps: z.array(FormStepSchema).min(1),
    /** Extra origins the login may pass through (an identity provider); the authorization URL's origin is always allowed. */
    allowedOrigins: z.array(z.url()).optional(),
  })
  .strict();

export type FormStep = z.infer<typeof FormStepSchema>;
export type FormScript = z.infer<typeof FormScriptSchema>;

/** A login failed for a reason the operator can act on; the message says what to do. */
export class LoginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginError';
  }
}

/**
 * A 429 from the authorization endpoint is the target's rate limiter, not a login problem, so the
 * message says so (with the limits the target announced, RFC 6585 §4 Retry-After and the
 * RateLimit-Policy draft header) instead of pointing at another login driver.
 */
export function rateLimitMessage(
  response: Pick<HttpResponse, 'status' | 'headers'>,
  where: string,
): string | undefined {
  if (response.status !== 429) return undefined;
  const hints = ['retry-after', 'ratelimit-policy']
    .map((name) => [name, response.headers.get(name)] as const)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => `${name}: ${value}`);
  return `${where} answered 429 Too Many Requests: the target rate-limits the harness${
    hints.length > 0 ? ` (${hints.join(', ')})` : ''
  }; run fewer checks (--only/--skip), wait for the window to pass, or raise the limit for the test client`;
}

/**
 * A hidden form value that only repeats a parameter of the harness's own authorization request
 * (prompt=consent, response_type=code, the client_id) is not server state: registering it as a
 * secret would redact that word everywhere in the report.
 */
export function echoesRequest(value: string, ctx: Pick<LoginContext, 'authorizationUrl'>): boolean {
  for (const [, sent] of ctx.authorizationUrl.searchParams) if (sent === value) return true;
  return false;
}

/**
 * Is `location` a redirect to `redirectUri`? Same origin and path exactly (not a string prefix:
 * `/cb` must not match `/cbx`), the query of the redirect URI kept (OAuth 2.1 §4.1.2).
 */
export function isRedirectTo(location: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  if (location.origin !== expected.origin || location.pathname !== expected.pathname) return false;
  for (const [name, value] of expected.searchParams) {
    if (!location.searchParams.getAll(name).includes(value)) return false;
  }
  return true;
}

/** `$env:NAME` → the variable's value; anything else as is. */
export function resolveFillValue(value: string): { value: string; fromEnv: boolean } {
  if (!value.startsWith('$env:')) return { value, fromEnv: false };
  const name = value.slice('$env:'.length);
  const env = process.env[name];
  if (env === undefined) throw new LoginError(`the login script reads $env:${name}, but ${name} is not set`);
  return { value: env, fromEnv: true };
}

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
