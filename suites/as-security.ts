// AS — security probes beyond the catalogue (issue #6, ../shared/security-checks.md §2.5-2.6):
// races on the code and refresh grants (TK-07, RT-05), entropy of the secrets the AS issues
// (TK-17, REG-08), and the lifetimes it gives them (TK-10, TK-18). IDs: AS-RACE-*, AS-ENTROPY-*,
// AS-LIFETIME-*; each requirement text names the document it comes from.

import type { CheckContext } from '../runner/check.ts';
import { defineCheck } from '../runner/check.ts';
import { isLoopbackHttp } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  answerOf,
  codeForm,
  confidentialClient,
  decodeJwtToken,
  describeAnswer,
  freshCode,
  grantWithRefresh,
  pooledRedemption,
  postToken,
  refreshForm,
  tokenAs,
} from './as-token-probes.ts';

/** Parallel requests per race: enough to overlap on any server, bounded so no target is flooded. */
export const RACE_REQUESTS = 20;

/**
 * Races send a burst of parallel requests, so they run only where that cannot hurt anyone: a
 * loopback target and a loopback token endpoint (the embedded reference server, a local dev
 * server), or where the operator allows it (--allow-races). Undefined when allowed; else the reason.
 */
export function raceRefusal(t: CheckContext, tokenEndpoint: unknown): string | undefined {
  const local = (url: unknown) => {
    if (typeof url !== 'string' || !URL.canParse(url)) return false;
    return ['127.0.0.1', '[::1]', 'localhost'].includes(new URL(url).hostname);
  };
  if (t.options.allowRaces) return undefined;
  if (local(t.target) && (local(tokenEndpoint) || isLoopbackHttp(tokenEndpoint))) return undefined;
  return `race probes send ${RACE_REQUESTS} parallel requests and run only against loopback targets unless allowed (target ${t.target})`;
}

export const AS_RACE_01 = defineCheck({
  id: 'AS-RACE-01',
  title: 'Parallel redemptions of one code: at most one succeeds',
  level: 'MUST',
  refs: [
    'OAuth 2.1 (draft-ietf-oauth-v2-1-13) §4.1.3 ("MUST return an access token only once for a given authorization code")',
    'security-checks.md TK-07 (OAuch MultiFastACExchangeTest)',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST return an access token only once for a given authorization code.',
    },
  ],

  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-code-redeem-race'],
  requirement: `From security-checks.md TK-07: ${RACE_REQUESTS} parallel, identical, valid redemptions of one fresh code yield at most one access token (the single-use rule must hold under concurrency: check and mark atomically). Runs against loopback targets, or any target with --allow-races.`,
  remediation:
    'Mark the code as redeemed atomically (compare-and-set in one storage operation) before issuing tokens.',
  probe: `Authorize once; send ${RACE_REQUESTS} redemptions of the code at the same time.`,
  control:
    "The race's own winner: at least one of the parallel redemptions must get a token (the code was good at that moment); a race nobody won concludes nothing.",
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const refusal = raceRefusal(t, as.metadata.token_endpoint);
    if (refusal) {
      t.prerequisiteMissing(
        refusal,
        'pass --allow-races (allowRaces in the config file) if this target may take the burst',
      );
      return;
    }
    const code = await freshCode(t, as);
    const answers = await Promise.all(
      Array.from({ length: RACE_REQUESTS }, (_, i) =>
        postToken(t, as, code.client, codeForm(code), `parallel redemption ${i + 1}/${RACE_REQUESTS}`).then(
          answerOf,
        ),
      ),
    );
    judgeRace(t, 'redemptions of one code', answers);
  },
});

export const AS_RACE_02 = defineCheck({
  id: 'AS-RACE-02',
  title: 'Parallel refreshes with one refresh token: at most one succeeds',
  level: 'MUST',
  refs: [
    'OAuth 2.1 (draft-ietf-oauth-v2-1-13) §4.3.1 (rotation: the previous refresh token is invalidated)',
    'MCP 2025-06-18 §Token Theft (public clients: MUST rotate)',
    'security-checks.md RT-05 (OAuch MultiFastRefreshTest)',
  ],
  quotes: [
    {
      source: 'MCP 2025-06-18',
      section: 'Token Theft',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'For public clients, authorization servers MUST rotate refresh tokens as described in OAuth 2.1 Section 4.3.1 "Token Endpoint Extension".',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Token Theft',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'For public clients, authorization servers MUST rotate refresh tokens as described in OAuth 2.1 Section 4.3.1 "Token Endpoint Extension".',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Token Theft',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'For public clients, authorization servers MUST rotate refresh tokens as described in OAuth 2.1 Section 4.3.1 "Token Endpoint Extension".',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST utilize one of these methods to detect refresh token replay by malicious actors for public clients:',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3.1',
      binds: 'context',
      text: 'Refresh token rotation: the authorization server issues a new refresh token with every access token refresh response. The previous refresh token is invalidated but information about the relationship is retained by the authorization server.',
    },
  ],

  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-refresh-rotate-race'],
  requirement: `From security-checks.md RT-05: ${RACE_REQUESTS} parallel refreshes with one rotating refresh token yield at most one new token pair (rotation must be atomic, or a stolen token survives its rotation). No spec addresses grace windows; the number of successes is reported. Runs against loopback targets, or any target with --allow-races; not applicable when refresh tokens are not rotated (AS-REFRESH-02).`,
  remediation: 'Rotate refresh tokens with an atomic compare-and-set on the active token.',
  probe: `Fresh grant; send ${RACE_REQUESTS} refreshes with its refresh token at the same time.`,
  control:
    "The race's own winner: at least one of the parallel refreshes must get a token (the refresh token was good at that moment); a race nobody won concludes nothing.",
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const refusal = raceRefusal(t, as.metadata.token_endpoint);
    if (refusal) {
      t.prerequisiteMissing(
        refusal,
        'pass --allow-races (allowRaces in the config file) if this target may take the burst',
      );
      return;
    }
    const g = await grantWithRefresh(t, { unobservable: 'there is no refresh token to race' });
    if (!g) return;
    const { grant, rt } = g;
    const answers = await Promise.all(
      Array.from({ length: RACE_REQUESTS }, (_, i) =>
        postToken(
          t,
          as,
          grant.client,
          refreshForm(rt, t.target),
          `parallel refresh ${i + 1}/${RACE_REQUESTS}`,
        ).then(answerOf),
      ),
    );
    const rotated = answers.some((a) => a.refreshToken !== undefined && a.refreshToken !== rt);
    if (!rotated && answers.some((a) => a.accessToken !== undefined)) {
      t.data('successes', answers.filter((a) => a.accessToken !== undefined).length);
      t.notApplicable(
        'refresh tokens are not rotated (see AS-REFRESH-02), so parallel refreshes may all succeed',
      );
      return;
    }
    // A refresh token redeemed once and its answer replayed to the others (better-auth's MCP
    // plugin replays a rotation's response for 30 s, "refresh-response replay") issues one token
    // set: no race was lost, and the reuse itself is AS-REFRESH-03's to judge (one defect, one
    // failure). So the refresh race counts distinct access tokens, not answers with one.
    judgeRace(t, 'refreshes with one refresh token', answers, { replaysAreOneIssuance: true });
  },
});

function judgeRace(
  t: CheckContext,
  what: string,
  answers: ReturnType<typeof answerOf>[],
  opts: { replaysAreOneIssuance?: boolean } = {},
): void {
  const winners = answers.filter((a) => a.accessToken !== undefined);
  const tally = new Map<string, number>();
  for (const a of answers) tally.set(describeAnswer(a), (tally.get(describeAnswer(a)) ?? 0) + 1);
  t.data('outcomes', Object.fromEntries(tally));
  t.data('successes', winners.length);
  const issued = opts.replaysAreOneIssuance
    ? new Set(winners.map((w) => w.accessToken)).size
    : winners.length;
  if (issued !== winners.length) t.data('distinctAccessTokens', issued);
  // A race nobody won proves nothing (issue #12 §1): the grant may have been unusable already.
  if (winners.length === 0)
    t.inconclusive(
      `control failed: none of the ${answers.length} parallel ${what} succeeded, so the race shows nothing about concurrent use`,
    );
  else if (winners.length === 1) t.conforms(`1 of ${answers.length} parallel ${what} succeeded`);
  else if (issued === 1)
    t.conforms(
      `${winners.length} of ${answers.length} parallel ${what} were answered with tokens, all with the same access token: one issuance, replayed to the others (whether a superseded refresh token may yield tokens is AS-REFRESH-03's to judge)`,
    );
  else
    t.violated(
      `${issued} of ${answers.length} parallel ${what} got ${opts.replaysAreOneIssuance ? 'different ' : ''}tokens (at most 1 may)`,
      { exchanges: winners.map((w) => w.exchange) },
    );
}

/**
 * Entropy estimate of one value, in bits: length × log2(alphabet), where the alphabet is inferred
 * from the character classes the value uses (digits only 10; hex digits 16 when only 0-9a-f or
 * 0-9A-F; base64url 64 when only A-Za-z0-9-_ with both cases; else digits 10, lowercase 26,
 * uppercase 26, plus each other character seen). It is an UPPER bound: it
 * assumes every character is uniformly random, so structure (a UUID's fixed version nibble, a
 * prefix, a timestamp) is not seen. A value below the bound is certainly too weak; one above it is
 * only not shown to be weak.
 */
export function estimateEntropyBits(value: string): { bits: number; alphabet: number; length: number } {
  const length = [...value].length;
  let alphabet: number;
  if (/^[0-9a-f]+$/.test(value) || /^[0-9A-F]+$/.test(value)) alphabet = /^[0-9]+$/.test(value) ? 10 : 16;
  else if (/^[A-Za-z0-9_-]+$/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value)) alphabet = 64;
  else {
    alphabet = 0;
    if (/[0-9]/.test(value)) alphabet += 10;
    if (/[a-z]/.test(value)) alphabet += 26;
    if (/[A-Z]/.test(value)) alphabet += 26;
    alphabet += new Set([...value].filter((c) => !/[0-9a-zA-Z]/.test(c))).size;
  }
  return { bits: Math.floor(length * Math.log2(Math.max(alphabet, 1))), alphabet, length };
}

/** RFC 6749 §10.10: guessing probability MUST be ≤ 2^-128 and SHOULD be ≤ 2^-160. */
const MIN_BITS = 128;
const SUGGESTED_BITS = 160;

export const AS_ENTROPY_01 = defineCheck({
  id: 'AS-ENTROPY-01',
  title: 'Codes, opaque tokens and client secrets carry at least 128 bits of entropy',
  level: 'MUST',
  refs: ['RFC6749 §10.10', 'RFC9700 §4.1', 'security-checks.md TK-17, REG-08 (OAuch entropy tests)'],
  quotes: [
    {
      source: 'RFC 6749',
      section: '10.10',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST prevent attackers from guessing access tokens, authorization codes, refresh tokens, resource owner passwords, and client credentials.',
    },
    {
      source: 'RFC 6749',
      section: '10.10',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The probability of an attacker guessing generated tokens (and other credentials not intended for handling by end-users) MUST be less than or equal to 2^(-128) and SHOULD be less than or equal to 2^(-160).',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-code-low-entropy'],
  requirement: `From security-checks.md TK-17/REG-08: the authorization code, the refresh token, an opaque access token and a DCR client secret each have an estimated entropy of at least ${MIN_BITS} bits (RFC 6749 §10.10 MUST; ${SUGGESTED_BITS} SHOULD, reported as a note). Estimator: length × log2(alphabet of the character classes used), an upper bound per value. JWT access tokens are structured and signed, so they are not estimated.`,
  remediation:
    'Generate codes, tokens and secrets from a CSPRNG with at least 128 (better 256) random bits, e.g. 32 random bytes base64url-encoded.',
  probe: 'One fresh code and its redemption; one confidential client registration; estimate each secret.',
  control: 'None: the check estimates the entropy of the values the AS issues, not a refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const samples: [string, string][] = [];
    // Read only: the run's pooled redemption supplies the code and the tokens it became.
    const { code, redemption } = await pooledRedemption(t, as);
    samples.push(['authorization code', code.code]);
    const tokens = answerOf(redemption);
    if (tokens.refreshToken !== undefined) samples.push(['refresh token', tokens.refreshToken]);
    if (tokens.accessToken !== undefined && !decodeJwtToken(tokens.accessToken))
      samples.push(['opaque access token', tokens.accessToken]);
    const confidential = await confidentialClient(t, as).catch(() => undefined);
    if (confidential?.clientSecret) samples.push(['client secret', confidential.clientSecret]);
    const rows = samples.map(([kind, value]) => ({ kind, ...estimateEntropyBits(value) }));
    t.data('estimates', rows);
    for (const row of rows) {
      const text = `${row.kind}: ${row.length} characters over an alphabet of ${row.alphabet} ≈ ${row.bits} bits at most`;
      if (row.bits < MIN_BITS) t.violated(`${text}, below ${MIN_BITS}`);
      else {
        t.conforms(text);
        if (row.bits < SUGGESTED_BITS)
          t.note(`${row.kind} is below the ${SUGGESTED_BITS} bits RFC 6749 §10.10 recommends`);
      }
    }
  },
});

export const AS_LIFETIME_01 = defineCheck({
  id: 'AS-LIFETIME-01',
  title: 'Lifetimes of access and refresh tokens (reported)',
  level: 'MAY',
  refs: [
    'security-checks.md TK-10, TK-18',
    'MCP 2025-06-18 §Token Theft',
    'OAuth 2.1 (draft-ietf-oauth-v2-1-13) §4.1.2',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'RECOMMENDED',
      binds: 'context',
      text: '"expires_in": RECOMMENDED. A JSON number that represents the lifetime in seconds of the access token.',
    },
  ],
  derived:
    'An observation, not a rule: the lifetimes are reported for the reader; the SHOULD on short-lived access tokens is judged by AS-TOKEN-16.',

  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: [],
  untestable:
    'A report, not a verdict: the numbers are informational (AS-TOKEN-16 judges the access-token lifetime). The code lifetime is not measured: that needs a wait of up to 10 minutes (AS-AUTHZ-12).',
  requirement:
    'From security-checks.md TK-10/TK-18: report the access-token lifetime (expires_in and exp - iat), the refresh-token lifetime when the AS states one (refresh_token_expires_in), and say that the code lifetime needs a wait to measure.',
  remediation: 'Keep access tokens short (minutes) and codes shorter (≤ 10 minutes, OAuth 2.1 §4.1.2).',
  probe: 'One fresh grant; read expires_in, exp/iat and refresh_token_expires_in.',
  control: 'None: the check reports lifetimes (info), it judges no refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // Read only: the run's pooled redemption.
    const raw = answerOf((await pooledRedemption(t, as)).redemption).body ?? {};
    const accessToken = typeof raw.access_token === 'string' ? raw.access_token : undefined;
    const jwt = accessToken !== undefined ? decodeJwtToken(accessToken) : undefined;
    const exp = jwt?.claims.exp;
    const iat = jwt?.claims.iat;
    const lifetimes = {
      accessTokenExpiresIn: typeof raw.expires_in === 'number' ? raw.expires_in : null,
      accessTokenExpMinusIat: typeof exp === 'number' && typeof iat === 'number' ? exp - iat : null,
      refreshTokenExpiresIn:
        typeof raw.refresh_token_expires_in === 'number' ? raw.refresh_token_expires_in : null,
      authorizationCode: 'not measured (needs a wait; see AS-AUTHZ-12)',
    };
    t.data('lifetimes', lifetimes);
    t.observe(
      `access token: expires_in ${lifetimes.accessTokenExpiresIn ?? 'absent'}, exp - iat ${lifetimes.accessTokenExpMinusIat ?? 'n/a'} s; refresh token: ${lifetimes.refreshTokenExpiresIn ?? 'no stated lifetime'}; code lifetime not measured`,
    );
  },
});

export const checks = [AS_RACE_01, AS_RACE_02, AS_ENTROPY_01, AS_LIFETIME_01];
