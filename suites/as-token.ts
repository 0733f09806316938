// AS — the token endpoint: the authorization_code grant, its errors and `resource`.
// Requirements §2.8, rows AS-TOKEN-01..17. Every probe that redeems a code uses a code of its own
// (as-token-probes.ts freshCode) or a fresh grant, so no check consumes what another one needs.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import { REVISIONS } from '../runner/revisions.ts';
import { type AuthorizationServer, type RegisteredClient, tokenRequest } from '../runner/oauth.ts';
import {
  answerOf,
  audiences,
  grantTypeControl,
  once,
  type OAuthAnswer,
  pooledRedemption,
  earlierAnswer,
  freshRedemption,
  judgeTokenRefusal,
  properRedemption,
  type TokenControl,
  codeForm,
  confidentialClient,
  decodeJwtToken,
  describeAnswer,
  FOREIGN_RESOURCE,
  type Form,
  freshCode,
  grantableScopes,
  grantWithRefresh,
  redemptionWithRefresh,
  hasNoStore,
  isError,
  postToken,
  refreshForm,
  saysNoRefreshGrant,
  tokenAs,
  withParam,
} from './as-token-probes.ts';

const OAUTH21 = 'OAuth 2.1 (draft-ietf-oauth-v2-1-13)';

export const AS_TOKEN_01 = defineCheck({
  id: 'AS-TOKEN-01',
  title: 'A successful token response is 200 JSON with access_token and a Bearer token_type',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"access_token": REQUIRED. The access token issued by the authorization server.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"token_type": REQUIRED. The type of the access token issued as described in Section 1.4. Value is case insensitive.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-token-no-token-type'],
  requirement:
    'Redeeming a valid code answers 200 with Content-Type application/json and a JSON object holding access_token (string) and token_type (Bearer, compared case-insensitively); expires_in, when present, is a number; scope is present when the granted scope differs from the requested one. A missing expires_in (RECOMMENDED) is reported as a note.',
  remediation:
    'Answer the token request with 200, `Content-Type: application/json` and `{"access_token": ..., "token_type": "Bearer", "expires_in": <seconds>}`, adding `scope` whenever it differs from the request.',
  probe: 'Authorize, then redeem the code with a valid authorization_code request.',
  control: 'None: the check judges a successful token response (a shared redemption), not a refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // Read only: the run's pooled redemption (shared with AS-TOKEN-02, AS-REFRESH-01/02, ...).
    const { code, redemption: res } = await pooledRedemption(t, as);
    const problems = successProblems(res);
    const body = answerOf(res).body;
    if (body && code.scope !== undefined && body.scope === undefined) {
      // Only detectable when the token says which scope it carries (RFC 9068 §2.2.3 `scope`).
      const jwt = typeof body.access_token === 'string' ? decodeJwtToken(body.access_token) : undefined;
      const granted = jwt && typeof jwt.claims.scope === 'string' ? jwt.claims.scope : undefined;
      if (granted !== undefined && !sameScopes(granted, code.scope))
        problems.push(
          `the token carries scope "${granted}" but "${code.scope}" was requested, and the response has no scope`,
        );
    }
    if (body && body.expires_in === undefined)
      t.note('expires_in is absent (RECOMMENDED by OAuth 2.1 §3.2.3): clients cannot plan a refresh');
    if (problems.length > 0)
      t.violated(`the token response ${problems.join('; ')}`, { exchanges: [res.exchange] });
    else t.conforms('200 application/json with access_token and token_type Bearer');
  },
});

/** What is wrong with a successful token response (OAuth 2.1 §3.2.3), as phrases. */
export function successProblems(res: HttpResponse): string[] {
  const problems: string[] = [];
  if (res.status !== 200) problems.push(`has status ${res.status}, not 200`);
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json')
    problems.push(`has Content-Type "${res.headers.get('content-type') ?? '(none)'}", not application/json`);
  const body = answerOf(res).body;
  if (!body) return [...problems, 'is not a JSON object'];
  if (typeof body.access_token !== 'string' || body.access_token === '') problems.push('has no access_token');
  if (typeof body.token_type !== 'string') problems.push('has no token_type');
  else if (body.token_type.toLowerCase() !== 'bearer')
    problems.push(`has token_type "${body.token_type}" although no DPoP proof was sent`);
  if (body.expires_in !== undefined && typeof body.expires_in !== 'number')
    problems.push(`has expires_in ${JSON.stringify(body.expires_in)}, not a JSON number`);
  return problems;
}

function sameScopes(a: string, b: string): boolean {
  const set = (s: string) => [...new Set(s.split(' ').filter(Boolean))].sort().join(' ');
  return set(a) === set(b);
}

export const AS_TOKEN_02 = defineCheck({
  id: 'AS-TOKEN-02',
  title: 'Every response carrying tokens or credentials has Cache-Control: no-store',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.3`, 'RFC7591 §3.2.1 (registration response with a secret)'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST include the HTTP Cache-Control response header field (see Section 5.2 of [RFC9111]) with a value of no-store in any response containing tokens, credentials, or other sensitive information.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-token-no-cache-control', 'as-dcr-no-cache-control'],
  requirement:
    'The code exchange, the refresh response and a registration response that issues a client secret all carry Cache-Control with the no-store directive, so no cache keeps the credentials.',
  remediation:
    'Send `Cache-Control: no-store` on every token response and on registration responses holding a client_secret.',
  probe:
    'Redeem a code, refresh with the refresh token issued, and register a confidential client; read Cache-Control of each.',
  control:
    'None: the check judges Cache-Control on responses that carry tokens or credentials, not a refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const rows: Record<string, unknown>[] = [];
    const judge = (what: string, res: HttpResponse) => {
      const ok = hasNoStore(res);
      rows.push({
        response: what,
        status: res.status,
        cacheControl: res.headers.get('cache-control'),
        noStore: ok,
      });
      if (ok) t.conforms(`${what}: Cache-Control has no-store`);
      else
        t.violated(
          `${what} (HTTP ${res.status}) carries credentials without Cache-Control: no-store (got "${res.headers.get('cache-control') ?? '(none)'}")`,
          {
            exchanges: [res.exchange],
          },
        );
    };
    // Read only: the run's pooled redemption and refresh.
    const { redemption: redeemed, refresh: refreshed } = await pooledRedemption(t, as);
    const tokens = answerOf(redeemed);
    if (tokens.accessToken !== undefined) judge('the code exchange', redeemed);
    else t.note(`the code exchange failed (${describeAnswer(tokens)}); see AS-TOKEN-01`);
    if (refreshed) {
      if (answerOf(refreshed).accessToken !== undefined) judge('the refresh response', refreshed);
    } else t.note('no refresh token was issued, so no refresh response was examined');
    const registration = await registrationWithSecret(t, as);
    if (registration) judge('the registration response with a client_secret', registration);
    t.data('responses', rows);
    if (rows.length === 0) t.notApplicable('no token-bearing response could be obtained (see AS-TOKEN-01)');
  },
});

/** The raw DCR answer for a confidential client, when the AS issues secrets (RFC 7591 §3.2.1). */
async function registrationWithSecret(
  t: Parameters<typeof AS_TOKEN_02.run>[0],
  as: { issuer: string; metadata: Record<string, unknown> },
): Promise<HttpResponse | undefined> {
  const endpoint = as.metadata.registration_endpoint;
  if (typeof endpoint !== 'string') return undefined;
  const template = await t.fixture('client');
  const res = await t.http.request(endpoint, {
    method: 'POST',
    json: {
      redirect_uris: template.redirectUris,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'mcp-auth-conformance (no-store probe)',
      application_type: 'native',
    },
    label: 'client registration with a secret (Cache-Control probe)',
  });
  const body = answerOf(res).body;
  return typeof body?.client_secret === 'string' ? res : undefined;
}

/**
 * The replay sequence AS-TOKEN-03 and AS-TOKEN-04 both read (one authorization for two checks,
 * issue #15 §4): a code of a client of its own redeemed (`first`), the grant refreshed once
 * (`before`: the control that the grant works just before the replay), the code replayed
 * (`replay`), and the grant refreshed again (`after`).
 */
function replaySequence(t: CheckContext, as: AuthorizationServer) {
  return t.shared('a code redeemed, refreshed, replayed, refreshed again', async (probe) => {
    const { code, tokens: first } = await redemptionWithRefresh(
      probe,
      t,
      as,
      'token request (first redemption)',
    );
    const post = async (form: [string, string][], label: string) =>
      answerOf(await tokenRequest(probe.http, as, code.client, form, { label }));
    const before =
      first.refreshToken === undefined
        ? undefined
        : await post(refreshForm(first.refreshToken, code.resource), 'refresh before the replay');
    const replay = await post(codeForm(code), 'token request (the same code again)');
    const after =
      before?.refreshToken === undefined
        ? undefined
        : await post(refreshForm(before.refreshToken, code.resource), 'refresh after the replay');
    return { first, before, replay, after };
  });
}

export const AS_TOKEN_03 = defineCheck({
  id: 'AS-TOKEN-03',
  title: 'An authorization code can be redeemed only once',
  level: 'MUST',
  refs: [`${OAUTH21} §4.1.3 ("MUST return an access token only once for a given authorization code")`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST return an access token only once for a given authorization code.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If a second valid token request is made with the same authorization code as a previously successful token request, the authorization server MUST deny the request and SHOULD revoke (when possible) all access tokens and refresh tokens previously issued based on that authorization code.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-code-reuse-allowed'],
  requirement:
    'A second, otherwise identical redemption of an already redeemed code is refused with 400 invalid_grant.',
  remediation:
    'Mark a code as used atomically on its first redemption and answer invalid_grant to any later one.',
  probe: 'Redeem a fresh code twice with identical valid parameters.',
  control:
    'The first redemption of the same code, just before the replay: its token shows the code and the request were good, so the refusal of the replay is about the reuse.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const { first, replay } = await replaySequence(t, as);
    if (first.accessToken === undefined) {
      t.notApplicable(`the first redemption already failed (${describeAnswer(first)}); see AS-TOKEN-01`);
      return;
    }
    t.data('replay', describeAnswer(replay));
    // The control is the first redemption: the same request, before the code was used.
    await judgeTokenRefusal(t, 'the replayed code', replay, {
      expected: ['invalid_grant'],
      controls: [earlierAnswer('the first redemption of the same code', first)],
      accepted: 'the same code was redeemed twice: the replay got an access token',
    });
  },
});

export const AS_TOKEN_04 = defineCheck({
  id: 'AS-TOKEN-04',
  title: 'A replayed code revokes the tokens of its first redemption',
  level: 'SHOULD',
  refs: [`${OAUTH21} §4.1.3`, `${OAUTH21} §7.5.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'If a second valid token request is made with the same authorization code as a previously successful token request, the authorization server MUST deny the request and SHOULD revoke (when possible) all access tokens and refresh tokens previously issued based on that authorization code.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-code-replay-no-revoke'],
  requirement:
    'After a valid replay of a redeemed code is refused, the tokens issued by the first redemption should stop working: the refresh token issued then is refused with invalid_grant.',
  remediation: 'When a used code comes back, revoke the grant (refresh and access tokens) it produced.',
  probe: 'Redeem a fresh code, redeem it again, then refresh with the refresh token of the first redemption.',
  control:
    "A refresh with the first redemption's refresh token right before the replay: a new token then shows the grant was alive, so a refresh refused after the replay is the revocation the check looks for.",
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const { first, before, replay, after } = await replaySequence(t, as);
    if (first.refreshToken === undefined) {
      t.notApplicable(
        first.accessToken === undefined
          ? `the first redemption failed (${describeAnswer(first)}); see AS-TOKEN-01`
          : 'no refresh token is issued, so revocation of the first tokens cannot be observed at the AS',
      );
      return;
    }
    // Control: the grant's refresh worked right before the replay.
    if (before?.refreshToken === undefined || after === undefined) {
      t.inconclusive(
        `control failed: refreshing the first redemption's grant before the replay did not give a refresh token (${before ? describeAnswer(before) : 'not sent'}), so its revocation cannot be observed`,
      );
      return;
    }
    if (replay.accessToken !== undefined) {
      t.notApplicable('the replay itself succeeded (see AS-TOKEN-03)');
      return;
    }
    t.data('refreshAfterReplay', describeAnswer(after));
    if (after.accessToken === undefined)
      t.conforms(
        `after the replay the grant's refresh token is refused (${describeAnswer(after)}), although it worked just before`,
      );
    else
      t.violated('after the code was replayed, the refresh token from its first redemption still works', {
        exchanges: [after.exchange],
      });
  },
});

export const AS_TOKEN_05 = defineCheck({
  id: 'AS-TOKEN-05',
  title: 'A replay with invalid parameters does not revoke the legitimate tokens',
  level: 'SHOULD',
  refs: [`${OAUTH21} §7.5.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.5.3',
      keyword: 'SHOULD NOT',
      binds: 'authorization-server',
      text: 'The authorization server SHOULD NOT revoke any issued tokens when receiving a replayed authorization code that contains invalid parameters.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-code-replay-revokes-unvalidated'],
  requirement:
    "A replay of a redeemed code with a wrong code_verifier is refused with invalid_grant and SHOULD NOT revoke the tokens of the legitimate redemption (otherwise anyone who sees a code can end the victim's session).",
  remediation:
    'Validate the whole request (verifier, client, redirect URI) before treating it as a replay that revokes the grant.',
  probe:
    'Redeem a fresh code; replay it with a different verifier; refresh with the legitimate refresh token.',
  control:
    "The legitimate refresh right before the invalid replay: a new refresh token then shows the grant was alive, so a refresh refused after the replay is the replay's doing.",
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // The check's own code, redeemed; asked again with offline_access when the AS needs it.
    const { code, tokens: first } = await redemptionWithRefresh(
      t,
      t,
      as,
      'token request (legitimate redemption)',
    );
    if (first.refreshToken === undefined) {
      t.notApplicable(
        first.accessToken === undefined
          ? `the redemption failed (${describeAnswer(first)}); see AS-TOKEN-01`
          : 'no refresh token is issued, so the survival of the legitimate tokens cannot be observed',
      );
      return;
    }
    // Control: the legitimate refresh works right before the invalid replay (rt1 → rt2).
    const before = answerOf(
      await postToken(
        t,
        as,
        code.client,
        refreshForm(first.refreshToken, code.resource),
        'control: refresh before the invalid replay',
      ),
    );
    if (before.refreshToken === undefined) {
      t.inconclusive(
        `control failed: the legitimate refresh before the replay did not give a refresh token (${describeAnswer(before)})`,
      );
      return;
    }
    const wrongVerifier =
      `${code.pkce.verifier.slice(0, -4)}AAAA` === code.pkce.verifier
        ? 'B'.repeat(43)
        : `${code.pkce.verifier.slice(0, -4)}AAAA`;
    const replay = answerOf(
      await postToken(
        t,
        as,
        code.client,
        withParam(codeForm(code), 'code_verifier', wrongVerifier),
        'replay with a wrong verifier',
      ),
    );
    if (replay.accessToken !== undefined) {
      t.notApplicable('the replay with a wrong verifier succeeded (see AS-TOKEN-03 and AS-PKCE-08)');
      return;
    }
    const after = answerOf(
      await postToken(
        t,
        as,
        code.client,
        refreshForm(before.refreshToken, code.resource),
        'refresh with the legitimate token',
      ),
    );
    t.data('replay', describeAnswer(replay));
    t.data('legitimateRefresh', describeAnswer(after));
    if (after.accessToken !== undefined)
      t.conforms('an invalid replay left the legitimate refresh token working');
    else
      t.violated(
        `an invalid replay (wrong verifier) revoked the legitimate tokens: the refresh that worked just before now gets ${describeAnswer(after)}`,
      );
  },
});

export const AS_TOKEN_06 = defineCheck({
  id: 'AS-TOKEN-06',
  title: 'A code cannot be redeemed by another client',
  level: 'MUST',
  refs: [`${OAUTH21} §4.1.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'In addition to the processing rules in Section 3.2.2, the authorization server MUST: ensure that the authorization code was issued to the authenticated confidential client, or if the client is public, ensure that the code was issued to client_id in the request,',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'second-client', 'own-client'],
  faults: ['as-code-client-unbound'],
  requirement:
    'A code issued to one client, presented by a different client_id (with the right verifier, redirect URI and resource), is refused with invalid_grant.',
  remediation:
    'Store the client_id with the code and compare it with the authenticated (or, for public clients, the presented) client.',
  probe: 'Authorize with the harness client; redeem the code as the second registered client.',
  control:
    'The same code redeemed by its own client right after (or a new code of that client, redeemed properly, when the AS burned it): a token shows the refusal was about the other client. An invalid_client answer (the other client itself refused) concludes nothing.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const other = await t.fixture('second-client');
    const code = await freshCode(t, as);
    const stolen = answerOf(await postToken(t, as, other, codeForm(code), 'redeem as another client'));
    t.data('otherClient', describeAnswer(stolen));
    if (stolen.accessToken === undefined && stolen.error === 'invalid_client') {
      // The other client itself was refused: the code binding is not what the answer is about.
      t.inconclusive(
        `control failed: the other client was refused as a client (${describeAnswer(stolen)}), so its refusal says nothing about the code's binding${other.invented ? ' (the AS offers no registration: the second client_id is invented, and this AS does not accept unknown client_ids)' : ''}`,
      );
      return;
    }
    await judgeTokenRefusal(t, "another client's redemption of the code", stolen, {
      expected: ['invalid_grant'],
      controls: [
        properRedemption(t, as, code, 'the same code redeemed by its own client right after'),
        freshRedemption(t, as, code.client),
      ],
      accepted: 'another client redeemed the code and got an access token',
    });
  },
});

export const AS_TOKEN_07 = defineCheck({
  id: 'AS-TOKEN-07',
  title: 'A redirect_uri at the token endpoint must match; omitting it works',
  level: 'SHOULD',
  refs: [`${OAUTH21} §4.1.3`, `${OAUTH21} §10.2`, 'RFC6749 §4.1.3', 'requirements §3 A20'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '10.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'For backwards compatibility of an authorization server wishing to support both OAuth 2.0 and OAuth 2.1 clients, the authorization server MUST allow clients to send the redirect_uri parameter in the token request (Section 4.1.3), and MUST enforce the parameter as described in [RFC6749].',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST ignore unrecognized request parameters sent to the token endpoint.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '10.2',
      binds: 'context',
      text: 'In OAuth 2.1, authorization code injection is prevented by the code_challenge and code_verifier parameters, making the inclusion of the redirect_uri parameter serve no purpose in the token request. As such, it has been removed.',
    },
    {
      source: 'RFC 6749',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'client',
      text: 'redirect_uri REQUIRED, if the "redirect_uri" parameter was included in the authorization request as described in Section 4.1.1, and their values MUST be identical.',
    },
  ],
  conflict:
    'OAuth 2.1 §10.2 has an AS that also serves OAuth 2.0 clients enforce a redirect_uri sent to the token endpoint (as RFC 6749 §4.1.3 does), while OAuth 2.1 removed the parameter from the token request and §3.2 has the AS ignore unrecognized parameters there.',
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-token-redirect-uri-ignored'],
  requirement:
    "When the token request carries redirect_uri, it must be identical to the authorization request's, else invalid_grant. Omitting it must work for OAuth 2.1 clients (a refusal is reported: OAuth 2.1-only clients would break).",
  remediation:
    'Compare a redirect_uri sent to the token endpoint with the one stored with the code; accept its omission.',
  probe:
    'Redeem one fresh code with a different registered-looking redirect_uri, and another without redirect_uri.',
  control:
    'The same code redeemed without redirect_uri right after (then with the right redirect_uri, then a new code of the same client): a token shows the refusal of the different redirect_uri is about that parameter.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const code = await freshCode(t, as);
    const other = new URL(code.redirectUri);
    other.pathname = `${other.pathname.replace(/\/$/, '')}/other`;
    const mismatch = answerOf(
      await postToken(
        t,
        as,
        code.client,
        withParam(codeForm(code), 'redirect_uri', other.href),
        'redeem with another redirect_uri',
      ),
    );
    t.data('mismatch', describeAnswer(mismatch));
    // The first control redeems the same code without redirect_uri: it is also the probe of the
    // second half (an OAuth 2.1 client does not send it). If it fails, the code redeemed with the
    // right redirect_uri stands in, and then a new code.
    let omitted: OAuthAnswer | undefined;
    await judgeTokenRefusal(t, 'a different redirect_uri', mismatch, {
      expected: ['invalid_grant'],
      controls: [
        {
          what: 'the same code redeemed without redirect_uri',
          send: async () =>
            (omitted = answerOf(
              await postToken(
                t,
                as,
                code.client,
                withParam(codeForm(code), 'redirect_uri', undefined),
                'control: redeem without redirect_uri',
              ),
            )),
        },
        properRedemption(t, as, code),
        freshRedemption(t, as, code.client),
      ],
      // The sentences conflict (the check's `conflict`): warn, quoting both.
      accepted: `the code was redeemed with redirect_uri ${other.href}, which the authorization request did not use. OAuth 2.1 §10.2: an AS serving OAuth 2.0 clients too "MUST allow clients to send the redirect_uri parameter in the token request (Section 4.1.3), and MUST enforce the parameter as described in [RFC6749]"; but OAuth 2.1 removed the parameter from the token request, and §3.2 says "The authorization server MUST ignore unrecognized request parameters sent to the token endpoint"`,
    });
    if (omitted) t.data('omitted', describeAnswer(omitted));
    if (omitted && omitted.accessToken === undefined)
      t.note(
        `a redemption without redirect_uri was refused (${describeAnswer(omitted)}): OAuth 2.1 clients, which do not send it, would break (requirements §3 A20)`,
      );
  },
});

export const AS_TOKEN_08 = defineCheck({
  id: 'AS-TOKEN-08',
  title: 'Unsupported grant types, password included, get unsupported_grant_type',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4`, 'RFC9700 §2.4 (password grant MUST NOT be used)'],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.4',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'The resource owner password credentials grant [RFC6749] MUST NOT be used.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"error": REQUIRED. A single ASCII [USASCII] error code from the following:',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: '"unsupported_grant_type": The authorization grant type is not supported by the authorization server.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-token-unsupported-grant-wrong-error'],
  requirement:
    'grant_type=password (the resource-owner password grant, removed from OAuth 2.1) and an unknown grant_type are refused with 400 unsupported_grant_type; the password grant never yields a token.',
  remediation:
    'Answer 400 `{"error":"unsupported_grant_type"}` to any grant type the server does not implement, and never implement the password grant.',
  probe: 'POST grant_type=password (username, password) and grant_type=urn:example:unknown-grant.',
  control:
    'The same client with grant_type=authorization_code and a made-up code, sent once: refused only for the code (not invalid_client, unauthorized_client or unsupported_grant_type), it shows each refusal is about the grant type.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    const control = once(grantTypeControl(t, as, client));
    const probes: [string, [string, string][]][] = [
      [
        'password',
        [
          ['grant_type', 'password'],
          ['username', 'conformance-user'],
          ['password', 'not-a-real-password'],
        ],
      ],
      ['urn:example:unknown-grant', [['grant_type', 'urn:example:unknown-grant']]],
    ];
    const rows: Record<string, unknown>[] = [];
    for (const [grant, form] of probes) {
      const a = answerOf(await postToken(t, as, client, form, `token request (grant_type=${grant})`));
      rows.push({ grant_type: grant, answer: describeAnswer(a) });
      await judgeTokenRefusal(t, `grant_type=${grant}`, a, {
        expected: ['unsupported_grant_type'],
        controls: [control],
        codeIsTheRule: 'MUST',
        accepted: `grant_type=${grant} yielded an access token`,
      });
    }
    t.data('probes', rows);
  },
});

export const AS_TOKEN_09 = defineCheck({
  id: 'AS-TOKEN-09',
  title: 'Failed client authentication gets invalid_client (401 + WWW-Authenticate for Basic)',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4 (invalid_client)`, 'RFC6749 §5.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the client attempted to authenticate via the Authorization request header field, the authorization server MUST respond with an HTTP 401 (Unauthorized) status code and include the WWW-Authenticate response header field matching the authentication scheme used by the client.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: '"invalid_client": Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-token-basic-no-www-authenticate'],
  requirement:
    'A client that authenticated with the Authorization header and failed gets 401 with a WWW-Authenticate challenge for that scheme and error=invalid_client; other client-authentication failures (an unknown client_id) get 400 or 401 invalid_client.',
  remediation:
    'Answer a failed Basic authentication with 401, `WWW-Authenticate: Basic realm=...` and `{"error":"invalid_client"}`.',
  probe:
    "A real authorization code of a confidential client of the harness's, redeemed with a wrong secret via HTTP Basic (control: the same code with the right secret, or a new code when the AS burned it); and a request from an unknown client_id (control: the same request from the harness's own client passes client authentication).",
  control:
    "For the wrong secret: the same real code redeemed with the right secret right after (or a new code of that client when the AS burned it), a token showing the refusal is about the secret. For the unknown client_id: the same request from the harness's own client, which must pass client authentication (for an invalid_client answer) or be answered differently (for another answer).",
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const client = await t.fixture('own-client');
    // The unknown-client request only carries the client_id. An AS without the refresh grant may
    // refuse a refresh request for its grant type before judging the client (OAuth 2.1 §3.2.4
    // unsupported_grant_type), so it rides on the grant every MCP AS has: a code exchange with a
    // made-up code.
    const vehicle: Form = saysNoRefreshGrant(as)
      ? [
          ['grant_type', 'authorization_code'],
          ['code', 'conformance-not-a-code'],
          ['code_verifier', 'A'.repeat(43)],
        ]
      : refreshForm('not-a-refresh-token', t.target);
    let unknownUnjudged = false;
    const unknown = answerOf(
      await postToken(
        t,
        as,
        { ...client, clientId: `unknown-${client.clientId}-conformance`, authMethod: 'none' },
        vehicle,
        'token request (unknown client_id)',
      ),
    );
    if (unknown.accessToken !== undefined)
      t.violated('a request from an unknown client_id was answered with an access token', {
        exchanges: [unknown.exchange],
      });
    else if ((unknown.status === 400 || unknown.status === 401) && unknown.error === 'invalid_client')
      // Control: the same request from a client that authenticates passes client authentication
      // (any answer but invalid_client; the made-up grant is then refused).
      await judgeTokenRefusal(t, 'an unknown client_id', unknown, {
        expected: ['invalid_client'],
        controls: [
          {
            what: "the same request from the harness's own client",
            send: async () =>
              answerOf(await postToken(t, as, client, vehicle, 'control: the same request, known client')),
            succeeded: (a) => a.error !== 'invalid_client' && a.status !== 401,
          },
        ],
      });
    else if (unknown.status === 400 && unknown.error === 'invalid_grant') {
      // The request has two faults (an unknown client, a made-up grant) and OAuth 2.1 does not say
      // which error wins: refusing the grant first is no evidence about client authentication.
      t.note(
        'an unknown client_id with a made-up grant was answered 400 invalid_grant: the AS judged the grant first, which OAuth 2.1 leaves open, so this says nothing about client authentication',
      );
      unknownUnjudged = true;
    } else {
      // Control: the same request from the harness's own client. Answered alike, the answer is
      // about the request itself (its made-up grant), not about the unknown client.
      const known = answerOf(
        await postToken(t, as, client, vehicle, 'control: the same request, known client'),
      );
      t.data('unknownClientControl', {
        control: "the same request from the harness's own client",
        answer: describeAnswer(known),
        exchange: known.exchange,
      });
      if (known.status === unknown.status && known.error === unknown.error)
        t.inconclusive(
          `control failed: a request from an unknown client_id was answered ${describeAnswer(unknown)}, and the same request from the harness's own client alike (${describeAnswer(known)}), so the answer is not about the client`,
        );
      else
        t.violated(
          `a request from an unknown client_id was answered ${describeAnswer(unknown)}, not 400/401 invalid_client (the same request from the harness's own client: ${describeAnswer(known)})`,
          { exchanges: [unknown.exchange, known.exchange] },
        );
    }

    const confidential = await confidentialClient(t, as);
    if (!confidential) {
      t.note(
        'the AS issues no client secrets to registered clients, so the HTTP Basic failure was not probed',
      );
      if (unknownUnjudged)
        t.notApplicable(
          'neither probe could be judged: the AS issues no client secrets, and it refused the unknown client for its made-up grant',
        );
      return;
    }
    // A real code, so the only fault of the request is the secret: the control redeems the same
    // code with the right one (or a new code, when the refused attempt legally burned this one).
    const code = await freshCode(t, as, { client: confidential });
    const res = await postToken(
      t,
      as,
      { ...confidential, clientSecret: `${confidential.clientSecret}-wrong` },
      codeForm(code),
      'token request (real code, wrong secret via HTTP Basic)',
    );
    const a = answerOf(res);
    const outcome = await judgeTokenRefusal(t, 'a wrong secret via HTTP Basic', a, {
      expected: [],
      controls: [
        properRedemption(t, as, code, 'the same code redeemed with the right secret right after'),
        freshRedemption(t, as, confidential, 'a new code of the same client redeemed with the right secret'),
      ],
      accepted: 'a wrong secret via HTTP Basic was accepted: the answer carries an access token',
    });
    if (outcome !== 'refused') return;
    const schemes = res.headers.getAll('www-authenticate').join(', ').toLowerCase();
    const problems: string[] = [];
    if (res.status !== 401) problems.push(`status ${res.status}, not 401`);
    if (!/(^|[\s,])basic(\s|,|$)/.test(schemes)) problems.push('no WWW-Authenticate Basic challenge');
    if (a.error !== 'invalid_client') problems.push(`error=${a.error ?? '(none)'}, not invalid_client`);
    if (problems.length > 0)
      t.violated(`a wrong secret via HTTP Basic was answered with ${problems.join(', ')}`, {
        exchanges: [a.exchange],
      });
  },
});

/** OAuth 2.1 §3.2.4 error codes, plus RFC 8707 §2's invalid_target. */
const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
];
/** OAuth 2.1 §3.2.4: error_description and error_uri use %x20-21 / %x23-5B / %x5D-7E. */
const ERROR_TEXT = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

export const AS_TOKEN_10 = defineCheck({
  id: 'AS-TOKEN-10',
  title: 'Token endpoint errors are JSON with a defined error code',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4`, 'RFC8707 §2 (invalid_target)'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"error": REQUIRED. A single ASCII [USASCII] error code from the following:',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'Values for the error parameter MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: 'The parameters are included in the content of the HTTP response using the application/json media type as defined in Appendix C.3.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-token-error-nonstandard'],
  requirement:
    'Every token-endpoint error is application/json with an `error` from the defined set (invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target), error_description and error_uri within the allowed characters, status 400 (401 only for invalid_client). A missing Cache-Control: no-store is noted, not judged: the no-store MUST of OAuth 2.1 §3.2.3 covers responses that carry tokens or credentials (AS-TOKEN-02), and §3.2.4 shows it on errors only in an example (harness policy, docs/decisions.md).',
  remediation:
    'Write token errors as `{"error": "<code from OAuth 2.1 §3.2.4>"}` with status 400 and `Content-Type: application/json`.',
  probe:
    'Three erroneous token requests: an unknown code, a missing grant_type, a malformed refresh request.',
  control:
    'None: the check judges the form of the error answers (JSON, a defined error code) to requests that are wrong by construction; it does not claim which fault was refused.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    const probes: [string, [string, string][]][] = [
      [
        'unknown code',
        [
          ['grant_type', 'authorization_code'],
          ['code', 'conformance-unknown-code'],
          ['code_verifier', 'A'.repeat(43)],
        ],
      ],
      ['no grant_type', [['code', 'conformance-unknown-code']]],
      ['refresh without refresh_token', [['grant_type', 'refresh_token']]],
    ];
    const rows: Record<string, unknown>[] = [];
    for (const [label, form] of probes) {
      const res = await postToken(t, as, client, form, `token error probe (${label})`);
      const problems = errorProblems(res);
      rows.push({ probe: label, status: res.status, error: answerOf(res).error, problems });
      if (problems.length === 0) t.conforms(`${label}: a well-formed error`);
      else t.violated(`${label}: the error answer ${problems.join('; ')}`, { exchanges: [res.exchange] });
      // OAuth 2.1 §3.2.3's no-store MUST covers responses with tokens, credentials or other
      // sensitive information; an error carries none, and §3.2.4 shows no-store only in its
      // example. So its absence here is reported, not judged (AS-TOKEN-02 judges token responses).
      if (!hasNoStore(res))
        t.note(`${label}: the error answer has no Cache-Control: no-store (reported, not required)`);
    }
    t.data('errors', rows);
  },
});

/** What is wrong with a token error answer (OAuth 2.1 §3.2.4), as phrases. */
export function errorProblems(res: HttpResponse): string[] {
  const problems: string[] = [];
  const a = answerOf(res);
  if (a.accessToken !== undefined) return ['issued an access token to an erroneous request'];
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json')
    problems.push(`has Content-Type "${res.headers.get('content-type') ?? '(none)'}"`);
  if (!a.body) return [...problems, 'is not a JSON object'];
  if (a.error === undefined) problems.push('has no error member');
  else if (!TOKEN_ERRORS.includes(a.error)) problems.push(`has error "${a.error}", not a defined code`);
  for (const key of ['error_description', 'error_uri']) {
    const v = a.body[key];
    if (v !== undefined && (typeof v !== 'string' || !ERROR_TEXT.test(v)))
      problems.push(`has ${key} with characters outside %x20-21/%x23-5B/%x5D-7E`);
  }
  const expected = a.error === 'invalid_client' ? [400, 401] : [400];
  if (!expected.includes(res.status)) problems.push(`has status ${res.status}, not ${expected.join(' or ')}`);
  return problems;
}

export const AS_TOKEN_11 = defineCheck({
  id: 'AS-TOKEN-11',
  title: 'The token endpoint takes POST only, and refuses repeated parameters',
  level: 'SHOULD',
  refs: [
    `${OAUTH21} §3.2 ("The client MUST use the HTTP POST method")`,
    `${OAUTH21} §3.2 (parameters MUST NOT be included more than once)`,
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2',
      keyword: 'MUST',
      binds: 'client',
      text: 'The client MUST use the HTTP POST method when making requests to the token endpoint.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'Request and response parameters defined by this specification MUST NOT be included more than once.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: '"invalid_request": The request is missing a required parameter, includes an unsupported parameter value (other than grant type), repeats a parameter, includes multiple credentials, utilizes more than one mechanism for authenticating the client, contains a code_verifier although no code_challenge was sent in the authorization request, or is otherwise malformed.',
    },
  ],
  derived:
    'OAuth 2.1 §3.2 obliges the client to use POST and not to repeat parameters, and §3.2.4 names invalid_request for a request that "repeats a parameter"; no sentence binds the AS to refuse a GET or a repetition.',

  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-token-get-accepted', 'as-token-duplicates-accepted'],
  requirement:
    'A GET carrying a valid code in the query is not served (not 200), and a POST that repeats a parameter (code twice) is refused with invalid_request. Whether the GET consumed the code is reported.',
  remediation:
    'Serve the token endpoint on POST only (405 otherwise) and answer invalid_request when any parameter appears more than once.',
  probe:
    'GET the token endpoint with a valid authorization_code query; POST a valid redemption with code repeated.',
  control:
    'The same code redeemed properly by POST right after (or a new code of the same client when a refused probe burned it), sent once for both probes: a token shows each refusal is about the GET or the repeated parameter. A GET that is served needs no control.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const code = await freshCode(t, as);
    const url = new URL(as.metadata.token_endpoint as string);
    for (const [k, v] of [...codeForm(code), ['client_id', code.client.clientId] as [string, string]])
      url.searchParams.append(k, v);
    const get = answerOf(
      await t.http.request(url, { headers: { accept: 'application/json' }, label: 'token endpoint by GET' }),
    );
    t.data('get', describeAnswer(get));
    const served = get.status === 200 || get.accessToken !== undefined;
    if (served) t.violated(`a GET with the parameters in the query was served (${describeAnswer(get)})`);
    // The repeated-parameter probe uses the same code, unless the GET consumed it.
    const dup = served ? await freshCode(t, as) : code;
    const form = codeForm(dup);
    const repeated = answerOf(
      await postToken(
        t,
        as,
        dup.client,
        [...form.slice(0, 2), ['code', dup.code], ...form.slice(2)],
        'redemption with code repeated',
      ),
    );
    t.data('repeated', describeAnswer(repeated));
    // One control for both probes: the same code redeemed properly by POST right after (a new
    // code when a refused probe consumed it).
    const controls = [
      once(properRedemption(t, as, dup, 'the same code redeemed properly by POST right after')),
      once(freshRedemption(t, as, dup.client, 'a new code redeemed properly by POST')),
    ];
    if (!served) await judgeTokenRefusal(t, 'the token request by GET', get, { expected: [], controls });
    await judgeTokenRefusal(t, 'a repeated code parameter', repeated, {
      expected: ['invalid_request'],
      controls,
      accepted: 'a request with the code parameter repeated was served',
    });
  },
});

export const AS_TOKEN_12 = defineCheck({
  id: 'AS-TOKEN-12',
  title: 'A token requested for resource R is audience-restricted to R',
  level: 'SHOULD',
  refs: ['RFC8707 §2', 'MCP 2025-06-18 §Token Audience Binding and Validation'],
  quotes: [
    {
      source: 'RFC 8707',
      section: '2',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'The authorization server SHOULD audience-restrict issued access tokens to the resource(s) indicated by the "resource" parameter.',
    },
    {
      source: 'RFC 9728',
      section: '7.4',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'If a client expects to interact with multiple resource servers, the client SHOULD request audience-restricted access tokens using [RFC8707], and the authorization server SHOULD support audience- restricted access tokens.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'token'],
  faults: ['as-aud-ignores-resource'],
  requirement:
    'An access token obtained with resource=<MCP endpoint> names that resource in its audience (the JWT aud claim). Opaque tokens cannot be judged here (RS-AUD-01 proves the binding end to end).',
  remediation: "Put the requested `resource` into the access token's `aud` claim.",
  probe: 'Decode the shared access token (obtained with resource=<target>) and read aud.',
  control: 'None: the check judges the audience of the shared access token, not a refusal.',
  async run(t) {
    const tokens = await t.fixture('token');
    const jwt = decodeJwtToken(tokens.accessToken);
    if (!jwt) {
      t.notApplicable(
        'the access token is opaque (not a JWT): its audience is not visible to the client (see RS-AUD-01)',
      );
      return;
    }
    const aud = audiences(jwt.claims);
    t.data('aud', aud);
    if (aud.includes(t.target)) t.conforms(`aud contains the requested resource ${t.target}`);
    else
      t.violated(
        aud.length === 0
          ? 'the access token has no aud claim'
          : `aud is ${JSON.stringify(aud)}, not the requested resource ${t.target}`,
      );
  },
});

export const AS_TOKEN_13 = defineCheck({
  id: 'AS-TOKEN-13',
  title: 'A resource at the token endpoint outside the authorized one → invalid_target',
  level: 'SHOULD',
  refs: ['RFC8707 §2.2'],
  quotes: [
    {
      source: 'RFC 8707',
      section: '2.2',
      binds: 'context',
      text: 'In the case of a "refresh_token" or "authorization_code" grant type request, such policy may limit the acceptable resources to those that were originally granted by the resource owner or a subset thereof.',
    },
    {
      source: 'RFC 8707',
      section: '2',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'The authorization server SHOULD audience-restrict issued access tokens to the resource(s) indicated by the "resource" parameter.',
    },
  ],
  derived:
    'RFC 8707 §2.2 leaves the acceptable resources to the AS\'s policy ("may limit the acceptable resources to those that were originally granted"; lowercase, not BCP 14): refusing a resource outside the grant with invalid_target is the expected behaviour, and §2 asks the AS to audience-restrict tokens to the requested resource (SHOULD).',
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-token-resource-unchecked'],
  requirement:
    'Redeeming a code with a resource that the authorization request did not name is refused with invalid_target.',
  remediation:
    'Compare `resource` at the token endpoint with the resources the grant covers; answer invalid_target otherwise.',
  probe: `Authorize with resource=<target>; redeem with resource=${FOREIGN_RESOURCE}.`,
  control:
    'The same code redeemed for the authorized resource right after (or a new code of the same client when the AS burned it): a token shows the refusal was about the foreign resource.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const code = await freshCode(t, as);
    const a = answerOf(
      await postToken(
        t,
        as,
        code.client,
        withParam(codeForm(code), 'resource', FOREIGN_RESOURCE),
        'redeem for another resource',
      ),
    );
    t.data('answer', describeAnswer(a));
    await judgeTokenRefusal(t, `a resource that was not authorized (${FOREIGN_RESOURCE})`, a, {
      expected: ['invalid_target'],
      controls: [
        properRedemption(t, as, code, 'the same code redeemed for the authorized resource'),
        freshRedemption(t, as, code.client),
      ],
      accepted: `the code was redeemed for ${FOREIGN_RESOURCE}, which was never authorized`,
    });
  },
});

export const AS_TOKEN_14 = defineCheck({
  id: 'AS-TOKEN-14',
  title: 'client_credentials is refused to public clients',
  level: 'MUST',
  refs: [`${OAUTH21} §4.2 ("MUST only be used by confidential clients")`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.2',
      keyword: 'MUST',
      binds: 'client',
      text: 'The client credentials grant type MUST only be used by confidential clients.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST authenticate the client.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-client-credentials-public'],
  requirement:
    'grant_type=client_credentials from a public (unauthenticated) client is refused (unauthorized_client, invalid_client, or unsupported_grant_type where the grant is not offered at all) and yields no token.',
  remediation: 'Issue client_credentials tokens only to authenticated confidential clients.',
  probe: "POST grant_type=client_credentials with the harness's public client_id.",
  control:
    'The same client with grant_type=authorization_code and a made-up code: refused only for the code (not invalid_client, unauthorized_client or unsupported_grant_type), it shows the refusal is about client_credentials from a public client.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    if (client.authMethod !== 'none') {
      t.notApplicable('the harness client is confidential, so no public client is available for this probe');
      return;
    }
    const a = answerOf(
      await postToken(
        t,
        as,
        client,
        [
          ['grant_type', 'client_credentials'],
          ['resource', t.target],
        ],
        'client_credentials as a public client',
      ),
    );
    t.data('answer', describeAnswer(a));
    // Any refusal holds the rule; unauthorized_client, invalid_client and (where the grant is
    // not offered at all) unsupported_grant_type are the codes that name it.
    await judgeTokenRefusal(t, 'client_credentials from a public client', a, {
      expected: ['unauthorized_client', 'invalid_client', 'unsupported_grant_type'],
      controls: [grantTypeControl(t, as, client)],
      accepted: 'a public client got an access token with client_credentials',
    });
  },
});

export const AS_TOKEN_15 = defineCheck({
  id: 'AS-TOKEN-15',
  title: 'An unknown or over-broad scope at the token endpoint → invalid_scope',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4 (invalid_scope)`, `${OAUTH21} §4.3.1`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"error": REQUIRED. A single ASCII [USASCII] error code from the following:',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: '"invalid_scope": The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If refresh tokens are issued, those refresh tokens MUST be bound to the scope and resource servers as consented by the resource owner.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '1.4.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the issued access token scope is different from the one requested by the client, the authorization server MUST include the scope response parameter in the token response (Section 3.2.3) to inform the client of the actual scope granted.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-refresh-scope-widening'],
  requirement:
    'A refresh request asking for a scope that does not exist, or for one beyond the original grant, is refused with invalid_scope (or, for the unknown one, answered with a narrower granted scope named in `scope`).',
  remediation:
    'Refuse with invalid_scope any requested scope that is unknown or outside what the grant covers.',
  probe: 'Fresh grant for one scope; refresh asking for "not-a-scope", then for every supported scope.',
  control:
    'A plain refresh of the same grant just before each probe (a refused refresh may legally burn the token it presented): a new token shows the refusal of the unknown or over-broad scope is about the scope. An accepted request is judged on the scope it names.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const { scopes: supported } = await grantableScopes(t, as);
    const narrow = supported[0];
    const g = await grantWithRefresh(t, {
      ...(narrow !== undefined ? { scope: narrow } : {}),
      unobservable: 'scope requests at the token endpoint cannot be probed',
    });
    if (!g) return;
    const { grant } = g;
    // Each probe's control is the plain refresh just before it (a refused refresh may legally
    // burn the token it presented, so the control cannot come after: AS-XREFRESH-01 judges that).
    let rt = g.rt;
    const plainRefresh = async (what: string) => {
      const a = answerOf(await postToken(t, as, grant.client, refreshForm(rt, t.target), `control: ${what}`));
      if (a.refreshToken !== undefined) rt = a.refreshToken;
      return a;
    };
    const before = await plainRefresh('a plain refresh before the unknown scope');
    const unknown = answerOf(
      await postToken(
        t,
        as,
        grant.client,
        [...refreshForm(rt, t.target), ['scope', 'conformance-not-a-scope']],
        'refresh with an unknown scope',
      ),
    );
    t.data('unknownScope', describeAnswer(unknown));
    if (
      unknown.accessToken !== undefined &&
      typeof unknown.body?.scope === 'string' &&
      !unknown.body.scope.split(' ').includes('conformance-not-a-scope')
    )
      t.conforms(`an unknown scope was dropped and the granted scope named ("${unknown.body.scope}")`);
    else if (unknown.accessToken !== undefined)
      t.violated(`an unknown scope was answered ${describeAnswer(unknown)} without naming a narrower scope`);
    else
      await judgeTokenRefusal(t, 'an unknown scope', unknown, {
        expected: ['invalid_scope'],
        controls: [earlierAnswer('the same refresh without the scope, just before', before)],
        // The choice of code is judged at SHOULD (§3.2.4 only defines what invalid_scope means).
        codeIsTheRule: 'SHOULD',
      });
    if (unknown.refreshToken !== undefined) rt = unknown.refreshToken;

    const wider = supported.filter((s) => s !== narrow);
    if (narrow === undefined || wider.length === 0) {
      t.note('scopes_supported names fewer than two scopes, so an over-broad request could not be built');
      return;
    }
    const control = await plainRefresh('a plain refresh before the wider scope');
    const broad = answerOf(
      await postToken(
        t,
        as,
        grant.client,
        [...refreshForm(rt, t.target), ['scope', supported.join(' ')]],
        'refresh asking beyond the grant',
      ),
    );
    t.data('broaderScope', describeAnswer(broad));
    await judgeTokenRefusal(t, 'a scope beyond the grant', broad, {
      expected: ['invalid_scope'],
      controls: [earlierAnswer('the same refresh without the scope, just before', control)],
      codeIsTheRule: 'SHOULD',
      accepted: `a refresh for "${supported.join(' ')}" was granted, although only "${narrow}" was authorized`,
    });
  },
});

/** Default threshold for "short-lived" (requirements AS-TOKEN-16: WARN above 1 h). */
export const MAX_ACCESS_TOKEN_SECONDS = 3600;

export const AS_TOKEN_16 = defineCheck({
  id: 'AS-TOKEN-16',
  title: 'Access tokens are short-lived',
  level: 'SHOULD',
  refs: ['MCP 2025-06-18 §Token Theft ("SHOULD issue short-lived access tokens")', 'RFC9700 §4.14'],
  quotes: [
    {
      source: 'MCP 2025-06-18',
      section: 'Token Theft',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD issue short-lived access tokens to reduce the impact of leaked tokens.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Token Theft',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD issue short-lived access tokens to reduce the impact of leaked tokens.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Token Theft',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD issue short-lived access tokens to reduce the impact of leaked tokens.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.1.3.5',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Authorization servers SHOULD issue short-lived bearer tokens, particularly when issuing tokens to clients that run within a web browser or other environments where information leakage may occur.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'token'],
  faults: ['as-access-token-long-lived'],
  requirement: `The access-token lifetime (expires_in, or exp - iat of a JWT) is at most ${MAX_ACCESS_TOKEN_SECONDS} s; the measured numbers are reported.`,
  remediation:
    'Issue access tokens that live minutes (e.g. 5-60), and use refresh tokens for longer sessions.',
  probe: 'Read expires_in of the shared token response and exp/iat of the token when it is a JWT.',
  control: 'None: the check judges the lifetime of the shared access token, not a refusal.',
  async run(t) {
    const tokens = await t.fixture('token');
    const jwt = decodeJwtToken(tokens.accessToken);
    const exp = jwt?.claims.exp;
    const iat = jwt?.claims.iat;
    const jwtLifetime = typeof exp === 'number' && typeof iat === 'number' ? exp - iat : undefined;
    t.data('expiresIn', tokens.expiresIn ?? null);
    t.data('jwtLifetimeSeconds', jwtLifetime ?? null);
    const lifetime = tokens.expiresIn ?? jwtLifetime;
    if (lifetime === undefined) {
      t.observe('the lifetime of the access token is not visible (no expires_in, opaque token)');
      return;
    }
    if (lifetime <= MAX_ACCESS_TOKEN_SECONDS) t.conforms(`access tokens live ${lifetime} s`);
    else
      t.violated(
        `access tokens live ${lifetime} s (${(lifetime / 3600).toFixed(1)} h), more than ${MAX_ACCESS_TOKEN_SECONDS} s`,
      );
  },
});

const RFC9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

export const AS_TOKEN_17 = defineCheck({
  id: 'AS-TOKEN-17',
  title: 'JWT access tokens follow RFC 9068 (signed, typ at+jwt, required claims)',
  level: 'SHOULD',
  refs: ['RFC9068 §2.1', 'RFC9068 §2.2'],
  quotes: [
    {
      source: 'RFC 9068',
      section: '2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'JWT access tokens MUST be signed.',
    },
    {
      source: 'RFC 9068',
      section: '2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'JWT access tokens MUST include this media type in the "typ" header parameter to explicitly declare that the JWT represents an access token complying with this profile.',
    },
    {
      source: 'RFC 9068',
      section: '2.2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: 'aud REQUIRED - as defined in Section 4.1.3 of [RFC7519].',
    },
  ],
  derived:
    'The RFC 9068 MUSTs bind JWT access tokens of that profile; neither OAuth 2.1 nor MCP requires an AS to use the profile (MCP cites RFC 9068 only for the audience claim), so a JWT access token that does not follow it is judged at SHOULD.',
  revisions: REVISIONS,
  needs: ['as', 'token'],
  faults: ['as-jwt-typ-jwt'],
  requirement:
    'When access tokens are JWTs they are signed (alg is not none), carry typ at+jwt (or application/at+jwt), and the claims iss, exp, aud, sub, client_id, iat and jti. Opaque tokens: not applicable.',
  remediation:
    'Issue RFC 9068 access tokens: header `typ: at+jwt`, an asymmetric signature, and all §2.2 claims.',
  probe: 'Decode the header and claims of the shared access token.',
  control: 'None: the check judges the header and claims of the shared access token, not a refusal.',
  async run(t) {
    const tokens = await t.fixture('token');
    const jwt = decodeJwtToken(tokens.accessToken);
    if (!jwt) {
      t.notApplicable('the access token is opaque (not a JWT), so RFC 9068 does not apply');
      return;
    }
    const problems: string[] = [];
    const alg = jwt.header.alg;
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none')
      problems.push(`alg is ${JSON.stringify(alg)}`);
    const typ = typeof jwt.header.typ === 'string' ? jwt.header.typ.toLowerCase() : undefined;
    if (typ !== 'at+jwt' && typ !== 'application/at+jwt')
      problems.push(`typ is ${JSON.stringify(jwt.header.typ)}, not at+jwt`);
    const missing = RFC9068_CLAIMS.filter((c) => jwt.claims[c] === undefined);
    if (missing.length > 0) problems.push(`claims missing: ${missing.join(', ')}`);
    t.data('header', { alg, typ: jwt.header.typ });
    t.data('claims', Object.keys(jwt.claims));
    if (problems.length === 0) t.conforms('a signed at+jwt with every RFC 9068 §2.2 claim');
    else t.violated(`the JWT access token breaks RFC 9068: ${problems.join('; ')}`);
  },
});

export const checks = [
  AS_TOKEN_01,
  AS_TOKEN_02,
  AS_TOKEN_03,
  AS_TOKEN_04,
  AS_TOKEN_05,
  AS_TOKEN_06,
  AS_TOKEN_07,
  AS_TOKEN_08,
  AS_TOKEN_09,
  AS_TOKEN_10,
  AS_TOKEN_11,
  AS_TOKEN_12,
  AS_TOKEN_13,
  AS_TOKEN_14,
  AS_TOKEN_15,
  AS_TOKEN_16,
  AS_TOKEN_17,
];
