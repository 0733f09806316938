// Shared probes of the resource-server suites (rs-token.ts, rs-audience.ts, rs-scope.ts,
// rs-transport.ts, rs-public-methods.ts): present a token to the MCP endpoint, bracket every
// negative probe with its control, and turn an answer into an observation.
//
// The control (DESIGN.md §Anatomy of a check): a negative probe differs from an accepted request in
// exactly one thing. A refusal of the probe proves something only if the same request without that
// one change is served at that moment; so `underControl` sends the control right before and right
// after the probes, records both as evidence, and lets the check conclude only when both were
// served. Otherwise the check ends `skip` ("control failed: …"), never `pass` and never `fail`: a
// target that refuses everything, a shared token that another authorization revoked meanwhile, a
// session that died. A transport failure of the control is the harness's (`error`, by the engine).
// The "after" control is also the re-validation of a shared token before a check blames the target
// for refusing it.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type CheckContext, FixtureUnavailable } from '../runner/check.ts';
import { selectScope } from '../runner/discovery.ts';
import { fallbackProbeMethods, protectedProbe } from '../runner/fixtures.ts';
import type { HttpResponse } from '../runner/http.ts';
import { type McpProbe, mcpCall } from '../runner/mcp.ts';
import type { Minter, MintOptions } from '../runner/mint.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from '../runner/www-authenticate.ts';

// ---------------------------------------------------------------------------------------------
// The control mechanism (one for every RS negative probe).

/** What the control request got. */
export interface ControlOutcome {
  /** The control was served (the request without the one change succeeds). */
  ok: boolean;
  /** The HTTP status, or null when none was seen (a stream the bound cut). */
  status: number | null;
  exchange?: string;
  /** `HTTP 401 error="invalid_token"`, `400 with JSON-RPC error -32000 (…)`: for the messages. */
  describe: string;
}

/** The request without the one change a probe makes. */
export interface Control {
  /** In words: "the same request with the harness's valid token". */
  what: string;
  /** Sends it once; `when` labels the exchange. */
  send(when: 'before' | 'after'): Promise<ControlOutcome>;
  /** How the operator can make the control succeed (the skip's howToProvide). */
  howToProvide: string;
}

/** Checks whose probes ran under a control that held (judgeRefusal refuses to judge the others). */
const controlled = new WeakSet<CheckContext>();

/**
 * Marks the check as controlled when its control is not an `underControl` bracket (RS-401-21: the
 * same token, accepted before its revocation). Use only where such a control was sent and served.
 */
export function controlHeld(t: CheckContext): void {
  controlled.add(t);
}

/**
 * Runs `probe` bracketed by `control`: the control is sent right before and right after it, both
 * are recorded (data.control and the check's exchanges), and the probe's result is returned only
 * when both were served. Otherwise the check is ended as a skip whose message starts with
 * "control failed:" and undefined is returned: the caller must then judge nothing. A probe that is
 * not run (the "before" control failed) sends nothing.
 */
export async function underControl<T>(
  t: CheckContext,
  control: Control,
  probe: () => Promise<T>,
  opts: {
    /** Key of data.control (a check with several groups of probes records each). */
    key?: string;
    /**
     * Set when this group is one of several: a failed control only drops this group (a note
     * says why) instead of ending the check.
     */
    group?: string;
  } = {},
): Promise<T | undefined> {
  const key = opts.key ?? 'control';
  const before = await control.send('before');
  const record = (after?: ControlOutcome) =>
    t.data(key, { what: control.what, before: row(before), ...(after ? { after: row(after) } : {}) });
  const failed = (why: string) => {
    if (opts.group) t.note(`${opts.group} not judged: control failed: ${why}`);
    else t.prerequisiteMissing(`control failed: ${why}`, control.howToProvide);
    return undefined;
  };
  if (!before.ok) {
    record();
    return failed(
      `${control.what} was answered ${before.describe} before the probes, so a refusal of the probe would prove nothing`,
    );
  }
  const result = await probe();
  const after = await control.send('after');
  record(after);
  if (!after.ok) {
    return failed(
      `${control.what} was served before the probes but answered ${after.describe} after them (the token or the server changed meanwhile), so nothing is concluded`,
    );
  }
  controlled.add(t);
  return result;
}

function row(o: ControlOutcome): Record<string, unknown> {
  return { status: o.status, ...(o.exchange ? { exchange: o.exchange } : {}) };
}

/** A control built from an MCP reply: served = 2xx. */
export function replyOutcome(response: HttpResponse, describe?: string): ControlOutcome {
  return {
    ok: response.status >= 200 && response.status <= 299,
    status: response.status,
    exchange: response.exchange.id,
    describe: describe ?? `HTTP ${response.status}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Presenting tokens.

/** What became of one presented token. */
export interface TokenOutcome {
  /** What was sent, in words ("expired 600 s ago"). */
  probe: string;
  status: number;
  /** The request was served (2xx): the token (or its absence) was accepted. */
  accepted: boolean;
  /** The answer carries a Bearer challenge. */
  hasBearer: boolean;
  /** Every challenge's auth-scheme, lower-cased (RFC 9110 §11.1: case-insensitive). */
  schemes: string[];
  /** `error` of the Bearer challenge, when there is one. */
  challengeError?: string;
  /** `error` member of a JSON error body (RFC 6750 / OAuth error objects), when there is one. */
  bodyError?: string;
  /** Mcp-Session-Id the answer issued (an accepted 2025 initialize opens a session). */
  sessionId?: string;
  exchange: string;
}

export interface PresentOptions {
  /** Replaces the Authorization header entirely (lines as given); `token` is then ignored. */
  authorization?: string[];
  /** Sent to this URL instead of the MCP endpoint (e.g. with a query). */
  url?: string;
  /** Sent as this request instead of the protected request (publicPrimaryRequest). */
  request?: McpProbe;
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
  const base = opts.request
    ? { ...opts.request, label: `MCP ${opts.request.method}: ${probe}` }
    : await protectedRequest(t, `MCP request: ${probe}`);
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
  const parsed = parseWwwAuthenticate(response.headers.getAll('www-authenticate'));
  const challenge = bearerChallenge(parsed);
  const challengeError = challenge ? param(challenge, 'error') : undefined;
  const bodyError = jsonErrorCode(response.text);
  const sessionId = response.headers.get('mcp-session-id') ?? undefined;
  return {
    probe,
    ...(sessionId !== undefined ? { sessionId } : {}),
    status: response.status,
    accepted: response.status >= 200 && response.status <= 299,
    hasBearer: challenge !== undefined,
    schemes: parsed.challenges.map((c) => c.scheme.toLowerCase()),
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

/** `HTTP 401 error="invalid_token"` */
export function describeOutcome(o: TokenOutcome): string {
  return `HTTP ${o.status}${o.challengeError ? ` error="${o.challengeError}"` : ''}`;
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
 * The control of the token checks: the same request with a token the target accepts (and, with
 * `opts`, the same Authorization lines or URL shape the probe changes).
 */
export function tokenControl(
  t: CheckContext,
  token: string,
  what: string,
  howToProvide: string,
  opts: PresentOptions = {},
): Control {
  return {
    what,
    howToProvide,
    send: async (when) => {
      const o = await presentToken(t, token, `${what} (control, ${when} the probes)`, opts);
      // 2025-*: the control initialize opened a session; end it (2025-06-18 §Session Management).
      if (o.accepted && o.sessionId) await endSessionQuietly(t, token, o.sessionId);
      return { ok: o.accepted, status: o.status, exchange: o.exchange, describe: describeOutcome(o) };
    },
  };
}

async function endSessionQuietly(t: CheckContext, token: string, sessionId: string): Promise<void> {
  await t.http
    .request(t.target, {
      method: 'DELETE',
      headers: [
        ['mcp-session-id', sessionId],
        ['mcp-protocol-version', t.revision],
        ['authorization', `Bearer ${token}`],
      ],
      label: 'end the session the control opened',
    })
    .catch(() => undefined);
}

const REAL_TOKEN_HOW =
  'make sure the authorization flow yields a token this endpoint accepts, or pass one with --token-env NAME';
const FORGED_TOKEN_HOW =
  'pass --mint-key FILE with a private JWK the target trusts and --mint-issuer URL with the issuer its tokens carry';

/** The harness's real access token and its control (the same request with it). */
export async function realTokenControl(
  t: CheckContext,
): Promise<{ token: string; control: Control; what: string }> {
  const token = (await t.fixture('token')).accessToken;
  return {
    token,
    what: "the harness's access token",
    control: tokenControl(t, token, "the same request with the harness's access token", REAL_TOKEN_HOW),
  };
}

/**
 * A token the target should accept, for checks whose probes need no particular token (malformed
 * credentials, other schemes): the real one, else a correctly forged one. When neither can be had,
 * the real token's reason ends the check (skip, or error when the harness failed).
 */
export async function validTokenControl(
  t: CheckContext,
): Promise<{ token: string; control: Control; what: string }> {
  try {
    return await realTokenControl(t);
  } catch (err) {
    if (!(err instanceof FixtureUnavailable)) throw err;
    const minter = await t.optionalFixture('minter');
    if (!minter) throw err;
    const scope = await scopeForForgedTokens(t);
    const token = await minter.mint(scope ? { claims: { scope } } : {});
    t.note(`no real access token (${err.reason}): the control uses a token the harness forged`);
    return {
      token,
      what: 'a correctly forged token',
      control: tokenControl(t, token, 'the same request with a correctly forged token', FORGED_TOKEN_HOW),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Judging refusals.

/**
 * The check that owns the status of a refused invalid token (requirements RS-401-22: "All
 * token-validity failures ... use 401, not 403/400/500"). The other token checks judge whether the
 * token was refused at all and point here for a wrong status (one defect, one failure).
 */
export const STATUS_OWNER = 'RS-401-22';

export interface RefusalJudgement {
  /** `allow400`: 400 invalid_request is also right (RFC 6750 §3.1, a syntactically malformed request). */
  allow400?: boolean;
  /**
   * The check judges the status itself (RS-401-08 for malformed tokens, RS-401-22). Otherwise a
   * refusal with another status than 401 is a refusal, with a note naming STATUS_OWNER.
   */
  ownsStatus?: boolean;
}

/**
 * The verdict for a token that must be refused with 401 (MCP §Token Handling "Invalid or expired
 * tokens MUST receive a HTTP 401"; OAuth 2.1 §5.3; requirements §3 A8: 403 is for scope only).
 * Returns true when the token was refused as the check requires.
 */
export function judgeRefusal(t: CheckContext, o: TokenOutcome, how: RefusalJudgement = {}): boolean {
  // One mechanism for every check: a refusal is judged only under a control that held.
  if (!o.accepted && !controlled.has(t))
    throw new Error(
      `${o.probe}: a refusal judged without a control (run the probes under underControl, suites/token-probes.ts)`,
    );
  const evidence = { exchanges: [o.exchange] };
  if (o.accepted) {
    t.violated(`${o.probe}: accepted (HTTP ${o.status}); it must be refused with 401`, evidence);
    return false;
  }
  if (o.status === 401) return true;
  const invalidRequest = o.challengeError === 'invalid_request' || o.bodyError === 'invalid_request';
  if (how.allow400 && o.status === 400 && invalidRequest) return true;
  if (!how.ownsStatus) {
    t.note(
      `${o.probe}: refused, but with ${o.status}${o.status >= 500 ? ' (a server error)' : ''} instead of 401; ${STATUS_OWNER} judges the status`,
    );
    return true;
  }
  if (o.status >= 500) {
    t.violated(`${o.probe}: answered ${o.status}, a server error instead of 401 invalid_token`, evidence);
  } else {
    t.violated(`${o.probe}: refused with ${o.status}, not 401 (invalid tokens get 401)`, evidence);
  }
  return false;
}

/** 401 answers to a presented (invalid) token that lack error="invalid_token" (RFC 6750 §3.1). */
export function missingInvalidToken(outcomes: readonly TokenOutcome[]): TokenOutcome[] {
  return outcomes.filter((o) => o.status === 401 && o.challengeError !== 'invalid_token');
}

/** Notes a 401 without error="invalid_token" (RFC 6750 §3.1 SHOULD; RS-401-08 judges it). */
export function noteMissingInvalidToken(t: CheckContext, outcomes: readonly TokenOutcome[]): void {
  const bare = missingInvalidToken(outcomes);
  if (bare.length > 0)
    t.note(
      `401 without error="invalid_token" in the challenge for: ${bare.map((o) => o.probe).join('; ')} (RFC 6750 §3.1 SHOULD; judged by RS-401-08)`,
    );
}

/** Judges every outcome as "must be refused"; conforms when all were. */
export function judgeAllRefused(
  t: CheckContext,
  outcomes: readonly TokenOutcome[],
  what: string,
  how: RefusalJudgement = {},
): void {
  t.data('probes', outcomes.map(outcomeRow));
  let refused = 0;
  for (const o of outcomes) if (judgeRefusal(t, o, how)) refused++;
  noteMissingInvalidToken(t, outcomes);
  if (refused === outcomes.length)
    t.conforms(
      `${what}: all ${refused} refused${outcomes.every((o) => o.status === 401) ? ' with 401' : ''}`,
    );
}

/** The scopes a forged token carries (MCP §Scope Selection Strategy, runner/discovery.ts). */
export async function scopeForForgedTokens(t: CheckContext): Promise<string | undefined> {
  const prm = await t.optionalFixture('prm');
  return prm ? selectScope(prm) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Whether the probe request can show token handling at all.

/**
 * For checks that judge what a request WITHOUT a valid token does (a token in the query, another
 * scheme, no token after authentication): the probe request must need a token. On a server that
 * answers it without one (a method declared public, as some routers do for initialize and
 * tools/list) the check says so (not applicable). Checks of INVALID tokens do not ask this: "Invalid
 * or expired tokens MUST receive a HTTP 401 response" holds whatever the server does without a
 * token (issue #13 item 4). Returns false when the check was ended here.
 */
export async function probeNeedsToken(t: CheckContext): Promise<boolean> {
  const anonymous = await presentToken(t, undefined, 'no token (does this request need one?)');
  if (!anonymous.accepted) return true;
  t.data('anonymousControl', outcomeRow(anonymous));
  const { probe, publicDefault } = await t.fixture('protected-request');
  t.notApplicable(
    `the ${probe.method} request is answered without any token (HTTP ${anonymous.status})${
      publicDefault && !publicDefault.fallback
        ? `, and so is each of ${fallbackProbeMethods(t.revision).join(', ')} or none is refused with 401`
        : ''
    }, so what it does without a valid token cannot be observed; see RS-401-01 and RS-PUB-*`,
  );
  return false;
}

/**
 * The revision's own protected request (initialize in 2025-*, tools/list in 2026-07-28) when the
 * target answers it without a token and the token checks therefore probe on a fallback method;
 * else undefined. "Invalid or expired tokens MUST receive a HTTP 401 response" (MCP §Token
 * Handling) holds on a public method too (issue #13 item 4): RS-401-08/10 also present their
 * invalid tokens there, where a server that serves anonymous requests may wave them through.
 */
export async function publicPrimaryRequest(t: CheckContext): Promise<McpProbe | undefined> {
  const { publicDefault } = await t.fixture('protected-request');
  if (!publicDefault?.fallback) return undefined;
  return protectedProbe(t.revision, `${publicDefault.method} (answered without a token here)`);
}

/**
 * Sends `send()` on the protected request and, when the revision's own request is public
 * (publicPrimaryRequest), `send(primary)` there as well; each group between its own controls (a
 * token the target accepts, on that request). Returns the outcomes of every group whose control
 * held; undefined, with the check ended "control failed", when none did.
 */
export async function onProtectedAndPublicRequests<T>(
  t: CheckContext,
  token: string,
  what: string,
  howToProvide: string,
  send: (request?: McpProbe) => Promise<T[]>,
): Promise<T[] | undefined> {
  const primary = await publicPrimaryRequest(t);
  const onProtected = await underControl(
    t,
    tokenControl(t, token, `the same request with ${what}`, howToProvide),
    () => send(),
    primary ? { group: 'the probes on the request that needs a token' } : {},
  );
  if (!primary) return onProtected;
  const onPrimary = await underControl(
    t,
    tokenControl(t, token, `${primary.method} with ${what}`, howToProvide, { request: primary }),
    () => send(primary),
    { key: 'controlPublicRequest', group: `the probes on ${primary.method}` },
  );
  if (!onProtected && !onPrimary) {
    t.prerequisiteMissing(
      `control failed: ${what} is served neither on the request that needs a token nor on ${primary.method}, so a refusal of the probes would prove nothing`,
      howToProvide,
    );
    return undefined;
  }
  return [...(onProtected ?? []), ...(onPrimary ?? [])];
}

/**
 * For checks that expect a token to be ACCEPTED (scheme case, audience arrays): acceptance shows
 * the token was validated only where the server validates presented tokens. True when the request
 * needs a token, or when an invalid token is refused on it (a public method whose server still
 * checks the tokens it is given); otherwise the check is ended (not applicable) and false returned.
 */
export async function probeValidatesTokens(t: CheckContext): Promise<boolean> {
  const anonymous = await presentToken(t, undefined, 'no token (does this request need one?)');
  if (!anonymous.accepted) return true;
  const invalid = await presentToken(
    t,
    'mcp-auth-conformance-not-a-token',
    'an invalid token (does this public request check tokens?)',
  );
  t.data('anonymousControl', outcomeRow(anonymous));
  if (!invalid.accepted) {
    t.note(
      `the probe request is answered without a token (HTTP ${anonymous.status}) but an invalid token is refused (HTTP ${invalid.status}), so presented tokens are validated on it`,
    );
    return true;
  }
  t.notApplicable(
    `the probe request is answered without a token (HTTP ${anonymous.status}) and with an invalid one (HTTP ${invalid.status}), so acceptance of a token shows nothing about its validation; see RS-401-01, RS-401-08 and RS-PUB-*`,
  );
  return false;
}

// ---------------------------------------------------------------------------------------------
// Forged tokens.

/** Mints tokens that are valid except for what each call changes. */
export interface Forger {
  minter: Minter;
  /** `minter.mint` with the scope the endpoint asks for, plus `opts`. */
  mint(opts?: MintOptions): Promise<string>;
  /** The claims every forged token starts from (scope included). */
  baseClaims: Record<string, unknown>;
  /** The control: the same request with a correctly forged token. */
  control: Control;
}

/**
 * The minter (the check ends as a skip that says how to provide a key when there is none), and
 * the control every forged probe is bracketed with: a correctly minted token on the same request.
 */
export async function forger(t: CheckContext): Promise<Forger> {
  const minter = await t.fixture('minter');
  const scope = await scopeForForgedTokens(t);
  const baseClaims: Record<string, unknown> = scope ? { scope } : {};
  const mint = (opts: MintOptions = {}) =>
    minter.mint({ ...opts, claims: { ...baseClaims, ...opts.claims } });
  const control = tokenControl(
    t,
    await mint(),
    'the same request with a correctly forged token (the key the harness was given)',
    FORGED_TOKEN_HOW,
  );
  return { minter, mint, baseClaims, control };
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
