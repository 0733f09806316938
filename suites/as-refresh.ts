// AS — refresh tokens (OAuth 2.1 §4.3). Requirements §2.9, rows AS-REFRESH-01..08.
// Every check works on a fresh grant of its own: rotation and reuse detection revoke what they
// touch. Issuing refresh tokens is optional (MCP 2026-07-28: clients MUST NOT assume one), so
// without one every row here is not applicable, which the message says.

import type { CheckContext } from '../runner/check.ts';
import { defineCheck } from '../runner/check.ts';
import type { Grant } from '../runner/fixtures.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  answerOf,
  audiences,
  earlierAnswer,
  grantTypeControl as grantTypeControlFor,
  type TokenControl,
  judgeTokenRefusal,
  type OAuthAnswer,
  pooledRedemption,
  codeForm,
  confidentialClient,
  decodeJwtToken,
  describeAnswer,
  FOREIGN_RESOURCE,
  freshCode,
  grantableScopes,
  grantWithRefresh,
  redemptionWithRefresh,
  sameScope,
  hasNoStore,
  isError,
  postToken,
  refreshForm,
  saysNoRefreshGrant,
  tokenAs,
} from './as-token-probes.ts';
import { successProblems } from './as-token.ts';
import { type AuthorizationServer, tokenRequest } from '../runner/oauth.ts';

const OAUTH21 = 'OAuth 2.1 (draft-ietf-oauth-v2-1-13)';

/**
 * A refresh with `rt` for the granted resource; the successful one just before a probe is the
 * probe's control (a refused refresh may legally burn the token it presented, so a control after
 * it could prove nothing: AS-XREFRESH-01 judges that).
 */
async function refresh(
  t: CheckContext,
  g: { as: AuthorizationServer; grant: Grant },
  rt: string,
  label: string,
) {
  return answerOf(await postToken(t, g.as, g.grant.client, refreshForm(rt, t.target), label));
}

/**
 * The grant-type control as a fallback for a refresh probe, when the client holds no refresh
 * token to compare with: it counts only when the AS answered the made-up code with a client
 * error (4xx). A 5xx says nothing about where the AS stopped, and this fallback changes the grant
 * type as well, so against an AS whose refresh grant fails whatever it is sent (the SDK example's
 * exchangeRefreshToken throws "Not implemented", HTTP 500) a refused made-up refresh token cannot
 * be attributed to the token: the check concludes nothing instead of passing.
 */
function clientErrorOnly(control: TokenControl): TokenControl {
  const succeeded = control.succeeded ?? ((a: OAuthAnswer) => a.accessToken !== undefined);
  return { ...control, succeeded: (a) => a.status >= 400 && a.status < 500 && succeeded(a) };
}

/** The control refresh before a probe: its new refresh token, or undefined after t.inconclusive. */
async function controlRefresh(
  t: CheckContext,
  g: { as: AuthorizationServer; grant: Grant },
  rt: string,
  before: string,
): Promise<{ answer: OAuthAnswer; rt: string } | undefined> {
  const answer = await refresh(t, g, rt, `control: a plain refresh before ${before}`);
  if (answer.accessToken === undefined) {
    t.inconclusive(
      `control failed: a plain refresh of the check's own grant, right before ${before}, was refused (${describeAnswer(answer)}); see AS-REFRESH-01`,
    );
    return undefined;
  }
  return { answer, rt: answer.refreshToken ?? rt };
}

export const AS_REFRESH_01 = defineCheck({
  id: 'AS-REFRESH-01',
  title: 'A valid refresh token yields a new access token (200, no-store)',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3`, `${OAUTH21} §3.2.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST include the HTTP Cache-Control response header field (see Section 5.2 of [RFC9111]) with a value of no-store in any response containing tokens, credentials, or other sensitive information.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"access_token": REQUIRED. The access token issued by the authorization server.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-token-no-cache-control', 'as-token-no-token-type'],
  requirement:
    'grant_type=refresh_token with a valid refresh token answers 200 with a well-formed token response (access_token, token_type Bearer) and Cache-Control: no-store.',
  remediation:
    'Serve the refresh_token grant with the same response format and headers as the code exchange.',
  probe: 'Fresh code redeemed by a raw request; one refresh request with its refresh token and resource.',
  control: 'None: the check judges a successful refresh response (a shared one), not a refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // Read only: the run's pooled redemption and its one refresh (raw requests, so a malformed
    // code exchange does not stop the refresh from being judged).
    const { redemption, refresh: res } = await pooledRedemption(t, as);
    const tokens = answerOf(redemption);
    if (!res) {
      t.notApplicable(
        tokens.accessToken === undefined
          ? `the code exchange failed (${describeAnswer(tokens)}); see AS-TOKEN-01`
          : 'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
      );
      return;
    }
    const problems = successProblems(res);
    if (!hasNoStore(res)) problems.push('lacks Cache-Control: no-store');
    if (problems.length === 0) t.conforms('the refresh answered 200 with a new access token and no-store');
    else t.violated(`the refresh response ${problems.join('; ')}`, { exchanges: [res.exchange] });
  },
});

export const AS_REFRESH_02 = defineCheck({
  id: 'AS-REFRESH-02',
  title: 'Refresh tokens of public clients are rotated',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Token Theft ("authorization servers MUST rotate refresh tokens" for public clients)',
    `${OAUTH21} §4.3.1`,
    'RFC9700 §2.2.2',
    'requirements §3 A11',
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
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-refresh-no-rotation'],
  requirement:
    'A refresh by a public client returns a new refresh token that differs from the one presented (sender-constrained refresh tokens, e.g. DPoP, are not used by this harness, so rotation is the only way to conform here).',
  remediation: 'Issue a new refresh token on every refresh of a public client and invalidate the old one.',
  probe: 'Fresh grant; refresh once and compare the refresh tokens.',
  control:
    'None: the check compares the refresh token a successful refresh returns with the one presented, not a refusal.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // Read only: the run's pooled redemption (a public client of its own) and its one refresh.
    const { code, redemption, refresh: res } = await pooledRedemption(t, as);
    const rt = answerOf(redemption).refreshToken;
    if (!res || rt === undefined) {
      t.notApplicable(
        'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
      );
      return;
    }
    if (code.client.authMethod !== 'none') {
      t.notApplicable('the harness client is confidential; rotation is required for public clients');
      return;
    }
    const a = answerOf(res);
    if (a.accessToken === undefined) {
      t.notApplicable(`the refresh itself failed (${describeAnswer(a)}); see AS-REFRESH-01`);
      return;
    }
    if (a.refreshToken === undefined)
      t.violated('the refresh returned no new refresh token (no rotation)', { exchanges: [res.exchange] });
    else if (a.refreshToken === rt)
      t.violated('the refresh returned the same refresh token (no rotation)', { exchanges: [res.exchange] });
    else t.conforms('the refresh returned a new refresh token');
  },
});

/**
 * The reuse sequence AS-REFRESH-03 and AS-REFRESH-04 both read (one authorization for two
 * checks, issue #15 §4), on a grant of a client of its own: rt1 → rt2 (`first`), rt2 → rt3
 * (`second`: the control that the active token works just before the reuse), rt1 again
 * (`reuse`), then rt3 (`active`). Undefined fields: the sequence stopped there.
 */
async function reuseSequence(t: CheckContext, as: AuthorizationServer) {
  return t.shared(
    'a refresh token rotated twice, the first one reused, then the active one',
    async (probe) => {
      const { code, tokens: grant } = await redemptionWithRefresh(probe, t, as, 'code exchange');
      const post = async (form: [string, string][], label: string) =>
        answerOf(await tokenRequest(probe.http, as, code.client, form, { label }));
      const rt1 = grant.refreshToken;
      if (rt1 === undefined) return { grant };
      const first = await post(refreshForm(rt1, code.resource), 'refresh (rt1 → rt2)');
      const rt2 = first.refreshToken;
      if (rt2 === undefined || rt2 === rt1) return { grant, rt1, first };
      const second = await post(refreshForm(rt2, code.resource), 'refresh (rt2 → rt3), before the reuse');
      const reuse = await post(refreshForm(rt1, code.resource), 'reuse of rt1');
      const rt3 = second.refreshToken ?? rt2;
      const active = await post(
        refreshForm(rt3, code.resource),
        'refresh with the active token after the reuse',
      );
      return { grant, rt1, first, second, reuse, active };
    },
  );
}

export const AS_REFRESH_03 = defineCheck({
  id: 'AS-REFRESH-03',
  title: 'A superseded refresh token is refused',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`],
  quotes: [
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
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-refresh-superseded-accepted'],
  requirement: 'After a rotation, the previous refresh token is refused with invalid_grant.',
  remediation: 'Invalidate a refresh token the moment its successor is issued.',
  probe: 'Fresh grant; refresh (rt1 → rt2); refresh again with rt1.',
  control:
    'The first refresh with the same token (rt1 → rt2), before it was superseded: its token shows the request was good, so the refusal of rt1 afterwards is about its being superseded.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const seq = await reuseSequence(t, as);
    if (seq.rt1 === undefined) {
      t.notApplicable(
        'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
      );
      return;
    }
    if (seq.first?.accessToken === undefined) {
      t.notApplicable(
        `the first refresh failed (${seq.first ? describeAnswer(seq.first) : 'not sent'}); see AS-REFRESH-01`,
      );
      return;
    }
    if (seq.reuse === undefined) {
      t.notApplicable('the refresh did not rotate the token (see AS-REFRESH-02), so nothing was superseded');
      return;
    }
    t.data('reuse', describeAnswer(seq.reuse));
    // The control is the first refresh: the same request, before rt1 was superseded.
    await judgeTokenRefusal(t, 'the superseded refresh token', seq.reuse, {
      expected: ['invalid_grant'],
      controls: [earlierAnswer('the same refresh token before it was superseded', seq.first)],
      accepted: 'the superseded refresh token still yields access tokens',
    });
  },
});

export const AS_REFRESH_04 = defineCheck({
  id: 'AS-REFRESH-04',
  title: 'Reusing a superseded refresh token revokes the active one',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`, 'RFC9700 §4.14.2'],
  quotes: [
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
      text: 'The authorization server cannot determine which party submitted the invalid refresh token, but it will revoke the active refresh token as well as the access authorization grant associated with it.',
    },
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
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-refresh-reuse-undetected', 'as-refresh-superseded-accepted'],
  requirement:
    'When a superseded refresh token comes back (the AS cannot tell the thief from the client), the active refresh token of that grant stops working too.',
  remediation:
    'On reuse of a rotated refresh token, revoke the whole grant (its active refresh token and access tokens).',
  probe: 'Fresh grant; rt1 → rt2; reuse rt1; refresh with rt2.',
  control:
    'A plain refresh with the active token right before the reuse (rt2 → rt3): a new token then shows the grant was alive, so the active token refused after the reuse is the revocation the check looks for.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const seq = await reuseSequence(t, as);
    if (seq.rt1 === undefined) {
      t.notApplicable(
        'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
      );
      return;
    }
    if (seq.second === undefined || seq.reuse === undefined || seq.active === undefined) {
      t.notApplicable(
        'the refresh did not rotate the token (see AS-REFRESH-02), so reuse detection cannot be probed',
      );
      return;
    }
    // Control: the active token worked right before the reuse (rt2 → rt3).
    if (seq.second.accessToken === undefined) {
      t.inconclusive(
        `control failed: a plain refresh right before the reuse was refused (${describeAnswer(seq.second)}); see AS-REFRESH-01`,
      );
      return;
    }
    t.data('reuseOfRt1', describeAnswer(seq.reuse));
    if (seq.reuse.accessToken !== undefined) {
      // A superseded token that still works is the reuse going undetected, whatever happens to
      // the family afterwards (issue #13 §7; AS-REFRESH-03 judges the same answer).
      t.violated(
        `the reuse of a superseded refresh token was answered ${describeAnswer(seq.reuse)}: the reuse went undetected (see AS-REFRESH-03)`,
        { exchanges: [seq.reuse.exchange] },
      );
      return;
    }
    t.data('activeAfterReuse', describeAnswer(seq.active));
    if (seq.active.accessToken === undefined)
      t.conforms(
        `after the reuse, the active refresh token is refused too (${describeAnswer(seq.active)}), although it worked just before`,
      );
    else
      t.violated(
        'after a superseded refresh token was reused, the active refresh token of the grant still works',
        { exchanges: [seq.active.exchange] },
      );
  },
});

export const AS_REFRESH_05 = defineCheck({
  id: 'AS-REFRESH-05',
  title: 'A refresh token is bound to its client',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3`, 'RFC6749 §6'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST maintain the binding between a refresh token and the client to whom it was issued.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST verify the binding between the refresh token and client identity whenever the client identity can be authenticated.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'second-client', 'own-client'],
  faults: ['as-refresh-client-unbound'],
  requirement: 'A refresh token presented by another client_id is refused with invalid_grant.',
  remediation:
    'Store the client with the grant and compare it with the (authenticated or presented) client on refresh.',
  probe: 'Fresh grant for the harness client; refresh with its token as the second client.',
  control:
    "The owner's plain refresh of its own grant right before (a refused refresh may legally burn the token it presented): a new token shows the refusal of the other client is about the binding. An invalid_client answer (the other client itself refused) concludes nothing.",
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const other = await t.fixture('second-client');
    const control = await controlRefresh(t, g, g.rt, "another client's refresh");
    if (!control) return;
    const a = answerOf(
      await postToken(t, g.as, other, refreshForm(control.rt, t.target), 'refresh as another client'),
    );
    t.data('otherClient', describeAnswer(a));
    if (a.accessToken === undefined && a.error === 'invalid_client') {
      t.inconclusive(
        `control failed: the other client was refused as a client (${describeAnswer(a)}), so its refusal says nothing about the refresh token's binding${other.invented ? ' (the AS offers no registration: the second client_id is invented, and this AS does not accept unknown client_ids)' : ''}`,
      );
      return;
    }
    await judgeTokenRefusal(t, "another client's refresh with this client's token", a, {
      expected: ['invalid_grant'],
      controls: [earlierAnswer("the owner's refresh just before", control.answer)],
      accepted: "another client refreshed with this client's refresh token",
    });
  },
});

export const AS_REFRESH_06 = defineCheck({
  id: 'AS-REFRESH-06',
  title: 'A refresh cannot widen the scope; an omitted scope keeps the original',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`, `${OAUTH21} §4.3.3`, 'RFC6749 §6'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If refresh tokens are issued, those refresh tokens MUST be bound to the scope and resource servers as consented by the resource owner.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If a new refresh token is issued, the refresh token scope MUST be identical to that of the refresh token included by the client in the request.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.3.1',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'The requested scope MUST NOT include any scope not originally granted by the resource owner, and if omitted is treated as equal to the scope originally granted by the resource owner.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'prm', 'own-client'],
  faults: ['as-refresh-scope-widening'],
  requirement:
    "A refresh asking for a scope beyond the original grant is refused with invalid_scope; a refresh without scope keeps the original scope (when the response names a scope, it equals the grant's).",
  remediation: 'Limit refresh scopes to the original grant and default an omitted scope to it.',
  probe: 'Fresh grant for one scope; refresh without scope; then ask for every supported scope.',
  control:
    'The refresh of the same grant without scope just before: a new token shows the refusal of the wider scope is about the scope. A widened grant needs no control.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const { scopes: supported, source } = await grantableScopes(t, as);
    if (supported.length < 2) {
      t.notApplicable(
        'neither metadata names two scopes (openid and offline_access aside), so a narrower grant cannot be built',
      );
      return;
    }
    t.data('scopesFrom', source);
    const narrow = supported[0]!;
    const g = await grantWithRefresh(t, { scope: narrow });
    if (!g) return;
    const same = await refresh(t, g, g.rt, 'refresh without scope');
    const keptScope = typeof same.body?.scope === 'string' ? same.body.scope : undefined;
    t.data('grantedScope', g.scope ?? null);
    t.data('scopeWithoutRequest', keptScope ?? null);
    if (same.accessToken === undefined) {
      t.notApplicable(`the refresh failed (${describeAnswer(same)}); see AS-REFRESH-01`);
      return;
    }
    // "If omitted is treated as equal to the scope originally granted" (OAuth 2.1 §4.3.1): the
    // grant's scope, which includes offline_access when the grant had to ask for it.
    if (keptScope !== undefined && !sameScope(keptScope, g.scope))
      t.violated(`a refresh without scope got "${keptScope}", not the originally granted "${g.scope}"`);
    else t.conforms('an omitted scope kept the original scope');
    const rt = same.refreshToken ?? g.rt;
    const wide = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        [...refreshForm(rt, t.target), ['scope', supported.join(' ')]],
        'refresh asking for more scope',
      ),
    );
    t.data('widerScope', describeAnswer(wide));
    // The control is the refresh without scope just before (same token family, same moment).
    await judgeTokenRefusal(t, 'a refresh asking for a wider scope', wide, {
      expected: ['invalid_scope'],
      controls: [earlierAnswer('the same refresh without scope, just before', same)],
      accepted: `a refresh widened "${g.scope ?? narrow}" to "${supported.join(' ')}"`,
    });
  },
});

export const AS_REFRESH_07 = defineCheck({
  id: 'AS-REFRESH-07',
  title: 'A refresh is bound to the granted resource',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.3 (refresh token bound to the resource servers consented)`, 'RFC8707 §2.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If refresh tokens are issued, those refresh tokens MUST be bound to the scope and resource servers as consented by the resource owner.',
    },
    {
      source: 'RFC 8707',
      section: '2',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'The authorization server SHOULD audience-restrict issued access tokens to the resource(s) indicated by the "resource" parameter.',
    },
    {
      source: 'RFC 8707',
      section: '2.2',
      binds: 'context',
      text: 'In the case of a "refresh_token" or "authorization_code" grant type request, such policy may limit the acceptable resources to those that were originally granted by the resource owner or a subset thereof.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-refresh-resource-unchecked'],
  requirement:
    'A refresh with a resource outside the original grant is refused with invalid_target; with the original resource, a JWT access token names it in aud.',
  remediation:
    "Compare `resource` on refresh with the grant's resources and audience-restrict the new token to it.",
  probe: `Fresh grant; refresh with resource=${FOREIGN_RESOURCE}; refresh with resource=<target>.`,
  control:
    'A plain refresh of the same grant for the granted resource right before: a new token shows the refusal for the foreign resource is about the resource. A refresh that is granted needs no control.',
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const control = await controlRefresh(t, g, g.rt, 'the refresh for another resource');
    if (!control) return;
    const foreign = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        refreshForm(control.rt, FOREIGN_RESOURCE),
        'refresh for another resource',
      ),
    );
    t.data('foreignResource', describeAnswer(foreign));
    if (foreign.accessToken !== undefined) {
      // A token whose audience names the foreign resource breaks the binding (OAuth 2.1 §3.2.3,
      // MUST). One that does not (opaque, or for the granted resource) shows an AS that ignores
      // `resource`: missing RFC 8707 support, judged at its SHOULD as AS-AUTHZ-08/AS-TOKEN-13 do.
      const jwt = decodeJwtToken(foreign.accessToken);
      const escaped = jwt !== undefined && audiences(jwt.claims).includes(FOREIGN_RESOURCE);
      t.violated(
        `a refresh that asked for ${FOREIGN_RESOURCE}, which was never granted, was answered with an access token (${describeAudience(foreign.accessToken)}) instead of invalid_target${escaped ? '' : ': the AS ignores resource on refresh (RFC 8707 §2: SHOULD audience-restrict to the requested resource)'}`,
        escaped ? { exchanges: [foreign.exchange] } : { exchanges: [foreign.exchange], level: 'SHOULD' },
      );
    } else
      await judgeTokenRefusal(t, `a refresh for a resource never granted (${FOREIGN_RESOURCE})`, foreign, {
        expected: ['invalid_target'],
        controls: [earlierAnswer('the same refresh for the granted resource, just before', control.answer)],
        codeIsTheRule: 'SHOULD',
      });
    const rt = foreign.refreshToken ?? control.rt;
    const own = await refresh(t, g, rt, 'refresh for the granted resource');
    if (own.accessToken === undefined)
      t.note(
        `after the refused refresh, the same refresh token no longer works for the granted resource (${describeAnswer(own)}): the refusal burned it (AS-XREFRESH-01 judges this)`,
      );
    const jwt = own.accessToken !== undefined ? decodeJwtToken(own.accessToken) : undefined;
    if (jwt) {
      const aud = audiences(jwt.claims);
      t.data('aud', aud);
      if (aud.includes(t.target)) t.conforms('the refreshed token names the resource in aud');
      else
        t.violated(`the refreshed token's aud is ${JSON.stringify(aud)}, not ${t.target}`, {
          level: aud.includes(FOREIGN_RESOURCE) ? 'MUST' : 'SHOULD',
        });
    }
  },
});

export const AS_REFRESH_08 = defineCheck({
  id: 'AS-REFRESH-08',
  title: 'A garbage refresh token gets invalid_grant; a confidential client must authenticate',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4`, `${OAUTH21} §4.3`],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST: require client authentication for confidential clients (or clients with other authentication requirements),',
    },
    {
      source: 'RFC 6749',
      section: '6',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST: require client authentication for confidential clients or for any client that was issued client credentials (or with other authentication requirements), authenticate the client if client authentication is included and ensure that the refresh token was issued to the authenticated client, and validate the refresh token.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.4',
      binds: 'context',
      text: '"invalid_grant": The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirect URI used in the authorization request, or was issued to another client.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-client-auth-skipped'],
  requirement:
    'A refresh with an unknown refresh token is refused with 400 invalid_grant, and a confidential client that refreshes without authenticating is refused with invalid_client.',
  remediation:
    'Authenticate confidential clients on every token request and answer unknown refresh tokens with invalid_grant.',
  probe:
    'Refresh with a made-up token; register a confidential client, get its tokens, refresh with client_id only.',
  control:
    'For the made-up token: the same client refreshing with a refresh token it was issued (else grant_type=authorization_code with a made-up code, refused only for the code); for the unauthenticated confidential refresh: the same refresh with the client authenticated. A token shows each refusal is about the one change.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    // One grant serves both halves: a confidential client's when the AS issues secrets (so the
    // unauthenticated refresh can be probed too), else the check's own public client's.
    const confidential = await confidentialClient(t, as);
    const client = confidential ?? (await t.fixture('own-client'));
    const code = await freshCode(t, as, { client });
    const tokens = answerOf(await postToken(t, as, client, codeForm(code), 'code exchange'));
    let rt = tokens.refreshToken;
    const realRefresh = (label: string): TokenControl => ({
      what: label,
      send: async () => {
        if (rt === undefined) return undefined;
        const a = answerOf(await postToken(t, as, client, refreshForm(rt, t.target), `control: ${label}`));
        if (a.refreshToken !== undefined) rt = a.refreshToken;
        return a;
      },
    });
    const garbage = answerOf(
      await postToken(
        t,
        as,
        client,
        refreshForm('conformance-not-a-refresh-token', t.target),
        'refresh with a made-up token',
      ),
    );
    if (isError(garbage, 'unsupported_grant_type') && saysNoRefreshGrant(as)) {
      // Issuing refresh tokens is optional (OAuth 2.1 §1.3.2); an AS without the grant answers
      // "unsupported_grant_type: The authorization grant type is not supported" (§3.2.4).
      t.notApplicable(
        `the AS has no refresh grant (grant_types_supported ${JSON.stringify(as.metadata.grant_types_supported)}; a refresh was answered unsupported_grant_type), so there is no refresh token to judge`,
      );
      return;
    }
    await judgeTokenRefusal(t, 'a made-up refresh token', garbage, {
      expected: ['invalid_grant'],
      controls: [
        realRefresh('the same client refreshing with a refresh token it was issued'),
        clientErrorOnly(grantTypeControlFor(t, as, client)),
      ],
      accepted: 'a made-up refresh token yielded an access token',
    });

    if (!confidential) {
      t.note('the AS issues no client secrets, so the unauthenticated confidential refresh was not probed');
      return;
    }
    if (rt === undefined) {
      t.note(
        `the confidential client got no refresh token (${describeAnswer(tokens)}), so its unauthenticated refresh was not probed`,
      );
      return;
    }
    const anonymous = answerOf(
      await postToken(
        t,
        as,
        confidential,
        [...refreshForm(rt, t.target), ['client_id', confidential.clientId]],
        'refresh without client authentication',
        'none',
      ),
    );
    t.data('unauthenticated', describeAnswer(anonymous));
    await judgeTokenRefusal(t, 'a confidential client refreshing without credentials', anonymous, {
      expected: ['invalid_client'],
      controls: [realRefresh('the same refresh with the client authenticated')],
      accepted: 'a confidential client refreshed without authenticating',
    });
  },
});

export const AS_XREFRESH_01 = defineCheck({
  id: 'AS-XREFRESH-01',
  title: 'A rejected refresh request does not burn the refresh token',
  level: 'SHOULD',
  refs: [`${OAUTH21} §4.3.1`, 'RFC6749 §6', 'RFC9700 §4.14.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.5.3',
      keyword: 'SHOULD NOT',
      binds: 'context',
      text: 'The authorization server SHOULD NOT revoke any issued tokens when receiving a replayed authorization code that contains invalid parameters.',
    },
  ],
  derived:
    'No sentence says a refused refresh request must leave the refresh token usable; OAuth 2.1 §7.5.3 asks the same for codes (a replay with invalid parameters SHOULD NOT revoke tokens), since otherwise whoever can send a bad request can end a legitimate grant.',
  revisions: REVISIONS,
  needs: ['as', 'client', 'prm', 'own-client'],
  faults: ['as-refresh-failure-burns-token'],
  requirement:
    'Not a catalogue row: a refresh request that the AS refuses (here: a scope beyond the grant, invalid_scope) leaves the presented refresh token valid, so the next well-formed refresh with it succeeds. The AS validates the whole request before it rotates. An AS that rotates first turns every client mistake into a lost session (a failure seen in the wild: rejected refreshes burning tokens, cloudflare/workers-oauth-provider PR #258).',
  remediation:
    'Validate the refresh request completely (client, scope, resource) before rotating the refresh token; rotate only when the new tokens are issued.',
  probe:
    'Fresh grant for one scope; refresh asking for every supported scope (refused); refresh again with the same token.',
  control:
    'A plain refresh of the same grant right before each refusable request: a new token shows the grant was alive, so the same token refused after the refusal was burned by it.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const { scopes: supported } = await grantableScopes(t, as);
    const g = await grantWithRefresh(t, supported.length >= 2 ? { scope: supported[0]! } : {});
    if (!g) return;
    // Two refusable refreshes: a resource never granted (RFC 8707 invalid_target), and, when two
    // scopes exist, a scope beyond the grant (invalid_scope). After each, the same refresh token,
    // well-formed, must still work. Control: a plain refresh works right before each.
    const probes: [string, (rt: string) => [string, string][]][] = [
      [`a resource never granted (${FOREIGN_RESOURCE})`, (rt) => refreshForm(rt, FOREIGN_RESOURCE)],
      ...(supported.length >= 2
        ? ([
            [
              'a scope beyond the grant',
              (rt: string) => [...refreshForm(rt, t.target), ['scope', supported.join(' ')]],
            ],
          ] as [string, (rt: string) => [string, string][]][])
        : []),
    ];
    let rt = g.rt;
    let refusals = 0;
    const rows: Record<string, unknown>[] = [];
    for (const [what, form] of probes) {
      const control = await controlRefresh(t, g, rt, `the refresh asking for ${what}`);
      if (!control) return;
      rt = control.rt;
      const refused = answerOf(
        await postToken(t, g.as, g.grant.client, form(rt), `refresh asking for ${what} (to be refused)`),
      );
      if (refused.accessToken !== undefined) {
        rows.push({ probe: what, refused: describeAnswer(refused) });
        if (refused.refreshToken !== undefined) rt = refused.refreshToken;
        t.note(`the AS granted the refresh asking for ${what}, so it was not refused (see AS-REFRESH-06/07)`);
        continue;
      }
      refusals++;
      const after = await refresh(
        t,
        g,
        rt,
        `the same refresh token, well-formed, after the refusal (${what})`,
      );
      rows.push({ probe: what, refused: describeAnswer(refused), after: describeAnswer(after) });
      if (after.accessToken !== undefined) {
        t.conforms(`the refresh token still worked after a refresh asking for ${what} was refused`);
        if (after.refreshToken !== undefined) rt = after.refreshToken;
      } else {
        t.violated(
          `after a refresh asking for ${what} was refused (${describeAnswer(refused)}), the same refresh token no longer works (${describeAnswer(after)}), although a plain refresh worked just before`,
        );
        break;
      }
    }
    t.data('refusedRefreshes', rows);
    if (refusals === 0) t.notApplicable('no refresh request was refused, so none could burn the token');
  },
});

export const checks = [
  AS_REFRESH_01,
  AS_REFRESH_02,
  AS_REFRESH_03,
  AS_REFRESH_04,
  AS_REFRESH_05,
  AS_REFRESH_06,
  AS_REFRESH_07,
  AS_REFRESH_08,
  AS_XREFRESH_01,
];

/** What the audience of an issued token shows: its aud when it is a JWT; opaque tokens hide it. */
function describeAudience(token: string): string {
  const jwt = decodeJwtToken(token);
  return jwt
    ? `aud ${JSON.stringify(jwt.claims.aud)}`
    : 'an opaque token, so what it is bound to is not visible';
}
