// Shared probes of the token-validation suites (rs-token.ts, rs-audience.ts): present a token to
// the MCP endpoint, make sure the harness's own token (real or forged) is accepted before any
// variant of it is judged, and turn an answer into an observation.
//
// Why a control first: a negative probe must differ from an accepted request in exactly one
// thing (DESIGN.md §Anatomy of a check). If the unaltered token is refused, a refusal of the
// altered one proves nothing, so the check says why it cannot judge instead of passing.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { CheckContext } from '../runner/check.ts';
import { fallbackProbeMethods } from '../runner/fixtures.ts';
import type { HttpResponse } from '../runner/http.ts';
import { type McpProbe, mcpCall } from '../runner/mcp.ts';
import type { Minter, MintOptions } from '../runner/mint.ts';
import { selectScope } from '../runner/discovery.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from '../runner/www-authenticate.ts';

/** What became of one presented token. */
export interface TokenOutcome {
  /** What was sent, in words ("expired 600 s ago"). */
  probe: string;
  status: number;
  /** The request was served (2xx): the token (or its absence) was accepted. */
  accepted: boolean;
  /** The answer carries a Bearer challenge. */
  hasBearer: boolean;
  /** `error` of the Bearer challenge, when there is one. */
  challengeError?: string;
  /** `error` member of a JSON error body (RFC 6750 / OAuth error objects), when there is one. */
  bodyError?: string;
  exchange: string;
}

export interface PresentOptions {
  /** Replaces the Authorization header entirely (lines as given); `token` is then ignored. */
  authorization?: string[];
  /** Sent to this URL instead of the MCP endpoint (e.g. with a query). */
  url?: string;
}

const fallbackNoted = new WeakSet<CheckContext>();

/**
 * The request that needs authorization on this target (runner/fixtures.ts ProtectedRequest: the
 * revision's protected request, initialize in 2025-* and tools/list in 2026-07-28, or, when the
 * target answers that one without a token, the first method it does refuse), labelled. A check
 * that probes on a fallback method says so once in a note.
 */
export async function protectedRequest(t: CheckContext, label: string): Promise<McpProbe> {
  const { probe, publicDefault } = await t.fixture('protected-request');
  if (publicDefault?.fallback && !fallbackNoted.has(t)) {
    fallbackNoted.add(t);
    t.note(
      `${publicDefault.method} is answered without a token here (HTTP ${publicDefault.status}), so the probes use ${publicDefault.fallback}, which the target refuses without one`,
    );
  }
  return { ...probe, label };
}

/**
 * Sends the request that needs authorization on this target (protectedRequest) with
 * `Authorization: Bearer <token>`.
 */
export async function presentToken(
  t: CheckContext,
  token: string | undefined,
  probe: string,
  opts: PresentOptions = {},
): Promise<TokenOutcome> {
  const base = await protectedRequest(t, `MCP request: ${probe}`);
  const reply = await mcpCall(t.http, opts.url ?? t.target, t.revision, {
    ...base,
    ...(opts.authorization
      ? { headers: opts.authorization.map((line): [string, string] => ['authorization', line]) }
      : token !== undefined
        ? { token }
        : {}),
  });
  return outcomeOf(probe, reply.response);
}

export function outcomeOf(probe: string, response: HttpResponse): TokenOutcome {
  const challenge = bearerChallenge(parseWwwAuthenticate(response.headers.getAll('www-authenticate')));
  const challengeError = challenge ? param(challenge, 'error') : undefined;
  const bodyError = jsonErrorCode(response.text);
  return {
    probe,
    status: response.status,
    accepted: response.status >= 200 && response.status <= 299,
    hasBearer: challenge !== undefined,
    ...(challengeError !== undefined ? { challengeError } : {}),
    ...(bodyError !== undefined ? { bodyError } : {}),
    exchange: response.exchange.id,
  };
}

function jsonErrorCode(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (body !== null && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string')
      return (body as { error: string }).error;
  } catch {
    // not JSON: no error member
  }
  return undefined;
}

/** A row of the table a check puts in its result data. */
export function outcomeRow(o: TokenOutcome): Record<string, unknown> {
  return {
    probe: o.probe,
    status: o.status,
    ...(o.challengeError !== undefined ? { error: o.challengeError } : {}),
    exchange: o.exchange,
  };
}

/**
 * The verdict for a token that must be refused with 401 (MCP §Token Handling "Invalid or expired
 * tokens MUST receive a HTTP 401"; OAuth 2.1 §5.3; requirements §3 A8: 403 is for scope only).
 * `allow400` admits 400 invalid_request (RFC 6750 §3.1) for a syntactically malformed request.
 */
export function judgeRefusal(t: CheckContext, o: TokenOutcome, allow400 = false): boolean {
  const evidence = { exchanges: [o.exchange] };
  if (o.accepted) {
    t.violated(`${o.probe}: accepted (HTTP ${o.status}); it must be refused with 401`, evidence);
    return false;
  }
  if (o.status === 401) return true;
  const invalidRequest = o.challengeError === 'invalid_request' || o.bodyError === 'invalid_request';
  if (allow400 && o.status === 400 && invalidRequest) return true;
  if (o.status >= 500) {
    t.violated(`${o.probe}: answered ${o.status}, a server error instead of 401 invalid_token`, evidence);
  } else {
    t.violated(`${o.probe}: refused with ${o.status}, not 401 (invalid tokens get 401)`, evidence);
  }
  return false;
}

/** Notes a 401 without error="invalid_token" (RFC 6750 §3.1 SHOULD; not a verdict of these rows). */
export function noteMissingInvalidToken(t: CheckContext, outcomes: readonly TokenOutcome[]): void {
  const bare = outcomes.filter((o) => o.status === 401 && o.challengeError !== 'invalid_token');
  if (bare.length > 0)
    t.note(
      `401 without error="invalid_token" in the challenge for: ${bare.map((o) => o.probe).join('; ')} (RFC 6750 §3.1 SHOULD)`,
    );
}

/** Judges every outcome as "must be refused with 401"; conforms when all were. */
export function judgeAllRefused(t: CheckContext, outcomes: readonly TokenOutcome[], what: string): void {
  t.data('probes', outcomes.map(outcomeRow));
  let refused = 0;
  for (const o of outcomes) if (judgeRefusal(t, o)) refused++;
  noteMissingInvalidToken(t, outcomes);
  if (refused === outcomes.length) t.conforms(`${what}: all ${refused} refused with 401`);
}

/** The scopes a forged token carries (MCP §Scope Selection Strategy, runner/discovery.ts). */
export async function scopeForForgedTokens(t: CheckContext): Promise<string | undefined> {
  const prm = await t.optionalFixture('prm');
  return prm ? selectScope(prm) : undefined;
}

/**
 * The other control: the probe request must need a token at all. On a server that answers it
 * without one (a method declared public, as some routers do for initialize and tools/list), any
 * token, valid or not, is "accepted", so token validation cannot be observed on that request: the
 * check says so (not applicable) instead of blaming the token handling. The public surface itself
 * is judged by RS-401-01 and RS-PUB-*. Returns false when the check was ended here.
 */
export async function probeNeedsToken(t: CheckContext): Promise<boolean> {
  const anonymous = await presentToken(t, undefined, 'no token (control: does this request need one?)');
  if (!anonymous.accepted) return true;
  t.data('anonymousControl', outcomeRow(anonymous));
  const { probe, publicDefault } = await t.fixture('protected-request');
  t.notApplicable(
    `the ${probe.method} request is answered without any token (HTTP ${anonymous.status})${
      publicDefault && !publicDefault.fallback
        ? `, and so is each of ${fallbackProbeMethods(t.revision).join(', ')} or none is refused with 401`
        : ''
    }, so token validation cannot be observed on it; see RS-401-01 and RS-PUB-*`,
  );
  return false;
}

/** Mints tokens that are valid except for what each call changes. */
export interface Forger {
  minter: Minter;
  /** `minter.mint` with the scope the endpoint asks for, plus `opts`. */
  mint(opts?: MintOptions): Promise<string>;
  /** The claims every forged token starts from (scope included). */
  baseClaims: Record<string, unknown>;
}

/**
 * The minter, after proving that the target accepts a correctly minted token (else the check
 * ends as a skip that says how to provide a key the target trusts). Undefined = already reported.
 */
export async function trustedForger(t: CheckContext): Promise<Forger | undefined> {
  const minter = await t.fixture('minter');
  if (!(await probeNeedsToken(t))) return undefined;
  const scope = await scopeForForgedTokens(t);
  const baseClaims: Record<string, unknown> = scope ? { scope } : {};
  const mint = (opts: MintOptions = {}) =>
    minter.mint({ ...opts, claims: { ...baseClaims, ...opts.claims } });
  const control = await presentToken(t, await mint(), 'a correctly forged token (control)');
  t.data('control', outcomeRow(control));
  if (!control.accepted) {
    t.prerequisiteMissing(
      `the target refuses a token the harness signed with the key it was given (HTTP ${control.status}${control.challengeError ? `, error="${control.challengeError}"` : ''}), so a refusal of an altered token would prove nothing`,
      'pass --mint-key FILE with a private JWK the target trusts and --mint-issuer URL with the issuer its tokens carry',
    );
    return undefined;
  }
  return { minter, mint, baseClaims };
}

/** The harness's real access token, after proving the target accepts it. Undefined = already reported. */
export async function acceptedRealToken(t: CheckContext): Promise<string | undefined> {
  const tokens = await t.fixture('token');
  if (!(await probeNeedsToken(t))) return undefined;
  const control = await presentToken(
    t,
    tokens.accessToken,
    'the access token the harness obtained (control)',
  );
  t.data('control', outcomeRow(control));
  if (!control.accepted) {
    t.prerequisiteMissing(
      `the endpoint refuses the access token the harness obtained (HTTP ${control.status}), so a refusal of an altered copy would prove nothing`,
      'make sure the authorization flow yields a token this endpoint accepts, or pass one with --token-env NAME',
    );
    return undefined;
  }
  return tokens.accessToken;
}

/** Header and claims of a JWT, or undefined for an opaque token. */
export function decodeJwtParts(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  try {
    return {
      header: decodeProtectedHeader(token) as Record<string, unknown>,
      claims: decodeJwt(token) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
