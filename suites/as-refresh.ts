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
  codeForm,
  confidentialClient,
  decodeJwtToken,
  describeAnswer,
  FOREIGN_RESOURCE,
  freshCode,
  hasNoStore,
  isError,
  postToken,
  refreshForm,
  saysNoRefreshGrant,
  tokenAs,
} from './as-token-probes.ts';
import { successProblems } from './as-token.ts';
import type { AuthorizationServer } from '../runner/oauth.ts';

const OAUTH21 = 'OAuth 2.1 (draft-ietf-oauth-v2-1-13)';

/** A fresh grant with a refresh token, or undefined after a notApplicable that says why not. */
async function grantWithRefresh(
  t: CheckContext,
  opts: { scope?: string } = {},
): Promise<{ as: AuthorizationServer; grant: Grant; rt: string } | undefined> {
  const as = await tokenAs(t);
  if (!as) return undefined;
  const grant = await t.freshGrant(opts);
  if (!grant.tokens.refreshToken) {
    t.notApplicable(
      'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
    );
    return undefined;
  }
  return { as, grant, rt: grant.tokens.refreshToken };
}

export const AS_REFRESH_01 = defineCheck({
  id: 'AS-REFRESH-01',
  title: 'A valid refresh token yields a new access token (200, no-store)',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3`, `${OAUTH21} §3.2.3`],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-token-no-cache-control', 'as-token-no-token-type'],
  requirement:
    'grant_type=refresh_token with a valid refresh token answers 200 with a well-formed token response (access_token, token_type Bearer) and Cache-Control: no-store.',
  remediation:
    'Serve the refresh_token grant with the same response format and headers as the code exchange.',
  probe: 'Fresh code redeemed by a raw request; one refresh request with its refresh token and resource.',
  async run(t) {
    // Raw requests throughout (not t.freshGrant): oauth4webapi would refuse a malformed code
    // exchange before the refresh could be judged.
    const as = await tokenAs(t);
    if (!as) return;
    const code = await freshCode(t, as);
    const tokens = answerOf(await postToken(t, as, code.client, codeForm(code), 'code exchange'));
    if (tokens.refreshToken === undefined) {
      t.notApplicable(
        tokens.accessToken === undefined
          ? `the code exchange failed (${describeAnswer(tokens)}); see AS-TOKEN-01`
          : 'the AS issued no refresh token (optional: MCP 2026-07-28 §Refresh Tokens says clients MUST NOT assume one)',
      );
      return;
    }
    const res = await postToken(t, as, code.client, refreshForm(tokens.refreshToken, t.target), 'refresh');
    const problems = successProblems(res);
    if (!hasNoStore(res)) problems.push('lacks Cache-Control: no-store');
    if (problems.length === 0) t.conforms('the refresh answered 200 with a new access token and no-store');
    else t.violated(`the refresh response ${problems.join('; ')}`);
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
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-refresh-no-rotation'],
  requirement:
    'A refresh by a public client returns a new refresh token that differs from the one presented (sender-constrained refresh tokens, e.g. DPoP, are not used by this harness, so rotation is the only way to conform here).',
  remediation: 'Issue a new refresh token on every refresh of a public client and invalidate the old one.',
  probe: 'Fresh grant; refresh once and compare the refresh tokens.',
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    if (g.grant.client.authMethod !== 'none') {
      t.notApplicable('the harness client is confidential; rotation is required for public clients');
      return;
    }
    const a = answerOf(await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'refresh'));
    if (a.accessToken === undefined) {
      t.notApplicable(`the refresh itself failed (${describeAnswer(a)}); see AS-REFRESH-01`);
      return;
    }
    if (a.refreshToken === undefined) t.violated('the refresh returned no new refresh token (no rotation)');
    else if (a.refreshToken === g.rt) t.violated('the refresh returned the same refresh token (no rotation)');
    else t.conforms('the refresh returned a new refresh token');
  },
});

export const AS_REFRESH_03 = defineCheck({
  id: 'AS-REFRESH-03',
  title: 'A superseded refresh token is refused',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-refresh-no-rotation'],
  requirement: 'After a rotation, the previous refresh token is refused with invalid_grant.',
  remediation: 'Invalidate a refresh token the moment its successor is issued.',
  probe: 'Fresh grant; refresh (rt1 → rt2); refresh again with rt1.',
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const first = answerOf(
      await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'refresh (rt1)'),
    );
    if (first.accessToken === undefined) {
      t.notApplicable(`the first refresh failed (${describeAnswer(first)}); see AS-REFRESH-01`);
      return;
    }
    const reuse = answerOf(
      await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'refresh with rt1 again'),
    );
    t.data('reuse', describeAnswer(reuse));
    if (isError(reuse, 'invalid_grant')) t.conforms('the superseded refresh token → invalid_grant');
    else if (reuse.accessToken !== undefined)
      t.violated('the superseded refresh token still yields access tokens');
    else
      t.violated(
        `the superseded refresh token was refused with ${describeAnswer(reuse)}, not 400 invalid_grant`,
      );
  },
});

export const AS_REFRESH_04 = defineCheck({
  id: 'AS-REFRESH-04',
  title: 'Reusing a superseded refresh token revokes the active one',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`, 'RFC9700 §4.14.2'],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-refresh-reuse-undetected'],
  requirement:
    'When a superseded refresh token comes back (the AS cannot tell the thief from the client), the active refresh token of that grant stops working too.',
  remediation:
    'On reuse of a rotated refresh token, revoke the whole grant (its active refresh token and access tokens).',
  probe: 'Fresh grant; rt1 → rt2; reuse rt1; refresh with rt2.',
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const first = answerOf(
      await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'refresh (rt1 → rt2)'),
    );
    if (first.refreshToken === undefined || first.refreshToken === g.rt) {
      t.notApplicable(
        'the refresh did not rotate the token (see AS-REFRESH-02), so reuse detection cannot be probed',
      );
      return;
    }
    await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'reuse of rt1');
    const active = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        refreshForm(first.refreshToken, t.target),
        'refresh with rt2 after the reuse',
      ),
    );
    t.data('rt2AfterReuse', describeAnswer(active));
    if (active.accessToken === undefined)
      t.conforms(`after the reuse, the active refresh token is refused too (${describeAnswer(active)})`);
    else
      t.violated(
        'after a superseded refresh token was reused, the active refresh token of the grant still works',
      );
  },
});

export const AS_REFRESH_05 = defineCheck({
  id: 'AS-REFRESH-05',
  title: 'A refresh token is bound to its client',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3`, 'RFC6749 §6'],
  revisions: REVISIONS,
  needs: ['as', 'client', 'second-client'],
  faults: ['as-refresh-client-unbound'],
  requirement: 'A refresh token presented by another client_id is refused with invalid_grant.',
  remediation:
    'Store the client with the grant and compare it with the (authenticated or presented) client on refresh.',
  probe: 'Fresh grant for the harness client; refresh with its token as the second client.',
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const other = await t.fixture('second-client');
    const a = answerOf(
      await postToken(t, g.as, other, refreshForm(g.rt, t.target), 'refresh as another client'),
    );
    t.data('otherClient', describeAnswer(a));
    if (isError(a, 'invalid_grant')) t.conforms('another client was refused with invalid_grant');
    else if (a.accessToken !== undefined)
      t.violated("another client refreshed with this client's refresh token");
    else t.violated(`another client was refused with ${describeAnswer(a)}, not 400 invalid_grant`);
  },
});

export const AS_REFRESH_06 = defineCheck({
  id: 'AS-REFRESH-06',
  title: 'A refresh cannot widen the scope; an omitted scope keeps the original',
  level: 'MUST',
  refs: [`${OAUTH21} §4.3.1`, `${OAUTH21} §4.3.3`, 'RFC6749 §6'],
  revisions: REVISIONS,
  needs: ['as', 'client', 'prm'],
  faults: ['as-refresh-scope-widening'],
  requirement:
    "A refresh asking for a scope beyond the original grant is refused with invalid_scope; a refresh without scope keeps the original scope (when the response names a scope, it equals the grant's).",
  remediation: 'Limit refresh scopes to the original grant and default an omitted scope to it.',
  probe: 'Fresh grant for one scope; refresh without scope; then ask for every supported scope.',
  async run(t) {
    const prm = await t.fixture('prm');
    const supported = (Array.isArray(prm.prm?.scopes_supported) ? prm.prm.scopes_supported : []).filter(
      (s): s is string => typeof s === 'string',
    );
    if (supported.length < 2) {
      t.notApplicable('scopes_supported names fewer than two scopes, so a narrower grant cannot be built');
      return;
    }
    const narrow = supported[0]!;
    const g = await grantWithRefresh(t, { scope: narrow });
    if (!g) return;
    const same = answerOf(
      await postToken(t, g.as, g.grant.client, refreshForm(g.rt, t.target), 'refresh without scope'),
    );
    const sameScope = typeof same.body?.scope === 'string' ? same.body.scope : undefined;
    t.data('scopeWithoutRequest', sameScope ?? null);
    if (same.accessToken === undefined) {
      t.notApplicable(`the refresh failed (${describeAnswer(same)}); see AS-REFRESH-01`);
      return;
    }
    if (sameScope !== undefined && sameScope.split(' ').sort().join(' ') !== narrow)
      t.violated(`a refresh without scope got "${sameScope}", not the original "${narrow}"`);
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
    if (isError(wide, 'invalid_scope')) t.conforms('a wider scope → invalid_scope');
    else if (wide.accessToken !== undefined)
      t.violated(`a refresh widened "${narrow}" to "${supported.join(' ')}"`);
    else t.violated(`a wider scope was refused with ${describeAnswer(wide)}, not invalid_scope`);
  },
});

export const AS_REFRESH_07 = defineCheck({
  id: 'AS-REFRESH-07',
  title: 'A refresh is bound to the granted resource',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.3 (refresh token bound to the resource servers consented)`, 'RFC8707 §2.2'],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-refresh-resource-unchecked'],
  requirement:
    'A refresh with a resource outside the original grant is refused with invalid_target; with the original resource, a JWT access token names it in aud.',
  remediation:
    "Compare `resource` on refresh with the grant's resources and audience-restrict the new token to it.",
  probe: `Fresh grant; refresh with resource=${FOREIGN_RESOURCE}; refresh with resource=<target>.`,
  async run(t) {
    const g = await grantWithRefresh(t);
    if (!g) return;
    const foreign = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        refreshForm(g.rt, FOREIGN_RESOURCE),
        'refresh for another resource',
      ),
    );
    t.data('foreignResource', describeAnswer(foreign));
    if (isError(foreign, 'invalid_target')) t.conforms('another resource → invalid_target');
    else if (foreign.accessToken !== undefined)
      t.violated(
        `a refresh that asked for ${FOREIGN_RESOURCE}, which was never granted, was answered with an access token (${describeAudience(foreign.accessToken)}) instead of invalid_target`,
      );
    else t.violated(`another resource was refused with ${describeAnswer(foreign)}, not invalid_target`);
    const rt = foreign.refreshToken ?? g.rt;
    const own = answerOf(
      await postToken(t, g.as, g.grant.client, refreshForm(rt, t.target), 'refresh for the granted resource'),
    );
    const jwt = own.accessToken !== undefined ? decodeJwtToken(own.accessToken) : undefined;
    if (jwt) {
      const aud = audiences(jwt.claims);
      t.data('aud', aud);
      if (aud.includes(t.target)) t.conforms('the refreshed token names the resource in aud');
      else t.violated(`the refreshed token's aud is ${JSON.stringify(aud)}, not ${t.target}`);
    }
  },
});

export const AS_REFRESH_08 = defineCheck({
  id: 'AS-REFRESH-08',
  title: 'A garbage refresh token gets invalid_grant; a confidential client must authenticate',
  level: 'MUST',
  refs: [`${OAUTH21} §3.2.4`, `${OAUTH21} §4.3`],
  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-client-auth-skipped'],
  requirement:
    'A refresh with an unknown refresh token is refused with 400 invalid_grant, and a confidential client that refreshes without authenticating is refused with invalid_client.',
  remediation:
    'Authenticate confidential clients on every token request and answer unknown refresh tokens with invalid_grant.',
  probe:
    'Refresh with a made-up token; register a confidential client, get its tokens, refresh with client_id only.',
  async run(t) {
    const as = await tokenAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    const garbage = answerOf(
      await postToken(
        t,
        as,
        client,
        refreshForm('conformance-not-a-refresh-token', t.target),
        'refresh with a made-up token',
      ),
    );
    if (isError(garbage, 'invalid_grant')) t.conforms('a made-up refresh token → invalid_grant');
    else if (isError(garbage, 'unsupported_grant_type') && saysNoRefreshGrant(as)) {
      // Issuing refresh tokens is optional (OAuth 2.1 §1.3.2); an AS without the grant answers
      // "unsupported_grant_type: The authorization grant type is not supported" (§3.2.4).
      t.notApplicable(
        `the AS has no refresh grant (grant_types_supported ${JSON.stringify(as.metadata.grant_types_supported)}; a refresh was answered unsupported_grant_type), so there is no refresh token to judge`,
      );
      return;
    } else
      t.violated(`a made-up refresh token was answered ${describeAnswer(garbage)}, not 400 invalid_grant`);

    const confidential = await confidentialClient(t, as);
    if (!confidential) {
      t.note('the AS issues no client secrets, so the unauthenticated confidential refresh was not probed');
      return;
    }
    const code = await freshCode(t, as, { client: confidential });
    const tokens = answerOf(
      await postToken(t, as, confidential, codeForm(code), 'code exchange (confidential client)'),
    );
    if (tokens.refreshToken === undefined) {
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
        [...refreshForm(tokens.refreshToken, t.target), ['client_id', confidential.clientId]],
        'refresh without client authentication',
        'none',
      ),
    );
    t.data('unauthenticated', describeAnswer(anonymous));
    if ((anonymous.status === 400 || anonymous.status === 401) && anonymous.error === 'invalid_client')
      t.conforms('a confidential client refreshing without credentials → invalid_client');
    else if (anonymous.accessToken !== undefined)
      t.violated('a confidential client refreshed without authenticating');
    else
      t.violated(
        `an unauthenticated confidential refresh was answered ${describeAnswer(anonymous)}, not invalid_client`,
      );
  },
});

export const AS_XREFRESH_01 = defineCheck({
  id: 'AS-XREFRESH-01',
  title: 'A rejected refresh request does not burn the refresh token',
  level: 'SHOULD',
  refs: [`${OAUTH21} §4.3.1`, 'RFC6749 §6', 'RFC9700 §4.14.2'],
  revisions: REVISIONS,
  needs: ['as', 'client', 'prm'],
  faults: ['as-refresh-failure-burns-token'],
  requirement:
    'Not a catalogue row: a refresh request that the AS refuses (here: a scope beyond the grant, invalid_scope) leaves the presented refresh token valid, so the next well-formed refresh with it succeeds. The AS validates the whole request before it rotates. An AS that rotates first turns every client mistake into a lost session (a failure seen in the wild: rejected refreshes burning tokens, cloudflare/workers-oauth-provider PR #258).',
  remediation:
    'Validate the refresh request completely (client, scope, resource) before rotating the refresh token; rotate only when the new tokens are issued.',
  probe:
    'Fresh grant for one scope; refresh asking for every supported scope (refused); refresh again with the same token.',
  async run(t) {
    const prm = await t.fixture('prm');
    const supported = (Array.isArray(prm.prm?.scopes_supported) ? prm.prm.scopes_supported : []).filter(
      (s): s is string => typeof s === 'string',
    );
    if (supported.length < 2) {
      t.notApplicable(
        'scopes_supported names fewer than two scopes, so no refresh can be refused for its scope',
      );
      return;
    }
    const g = await grantWithRefresh(t, { scope: supported[0]! });
    if (!g) return;
    const refused = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        [...refreshForm(g.rt, t.target), ['scope', supported.join(' ')]],
        'refresh asking for more scope (to be refused)',
      ),
    );
    t.data('refused', describeAnswer(refused));
    if (refused.accessToken !== undefined) {
      t.notApplicable('the AS granted the wider scope, so no refresh was refused (see AS-REFRESH-06)');
      return;
    }
    const after = answerOf(
      await postToken(
        t,
        g.as,
        g.grant.client,
        refreshForm(g.rt, t.target),
        'the same refresh token, well-formed',
      ),
    );
    t.data('after', describeAnswer(after));
    if (after.accessToken !== undefined) t.conforms('the refresh token still worked after a refused refresh');
    else
      t.violated(
        `after a refused refresh (${describeAnswer(refused)}) the same refresh token no longer works: ${describeAnswer(after)}`,
      );
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
