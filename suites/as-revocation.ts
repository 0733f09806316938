// AS — token revocation (RFC 7009; optional, MCP does not mention it). Requirements §2.13, rows
// AS-REVOKE-01..05. Only when the metadata advertises a revocation_endpoint; every check revokes
// tokens of its own fresh grant.

import type { CheckContext } from '../runner/check.ts';
import { defineCheck } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import { type AuthorizationServer, type RegisteredClient, tokenRequest } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  answerOf,
  codeForm,
  describeAnswer,
  grantWithRefresh,
  redemptionWithRefresh,
  postToken,
  refreshForm,
  tokenAs,
} from './as-token-probes.ts';

/** The AS when it advertises a revocation endpoint; undefined after a notApplicable otherwise. */
async function revocationAs(t: CheckContext): Promise<AuthorizationServer | undefined> {
  const as = await tokenAs(t);
  if (!as) return undefined;
  if (typeof as.metadata.revocation_endpoint !== 'string') {
    t.notApplicable('the metadata advertises no revocation_endpoint (RFC 7009 is optional)');
    return undefined;
  }
  return as;
}

/**
 * A revocation request (RFC 7009 §2.1): form `token` (+ optional `token_type_hint`) with the
 * client's authentication as at the token endpoint (client_id for a public client).
 */
function revoke(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  token: string,
  label: string,
  hint?: 'refresh_token' | 'access_token',
): Promise<HttpResponse> {
  const form: [string, string][] = [['token', token]];
  if (hint) form.push(['token_type_hint', hint]);
  const endpoint = as.metadata.revocation_endpoint as string;
  // runner/oauth.ts tokenRequest adds the client's authentication; point it at the revocation endpoint.
  return postToken(t, { ...as, metadata: { ...as.metadata, token_endpoint: endpoint } }, client, form, label);
}

/**
 * What AS-REVOKE-01 and AS-REVOKE-05 both read (one authorization for two checks, issue #15 §4):
 * a grant of a client of its own, its access token revoked (token_type_hint=access_token), then
 * its refresh token (no hint).
 */
function revocations(t: CheckContext, as: AuthorizationServer) {
  return t.shared('a grant whose access token, then refresh token, are revoked', async (probe) => {
    const { code, tokens } = await redemptionWithRefresh(probe, t, as, 'code exchange');
    const endpoint = { ...as, metadata: { ...as.metadata, token_endpoint: as.metadata.revocation_endpoint } };
    const revokeVia = (token: string, label: string, hint?: string) =>
      tokenRequest(
        probe.http,
        endpoint,
        code.client,
        [['token', token], ...(hint ? ([['token_type_hint', hint]] as [string, string][]) : [])],
        { label },
      );
    const at =
      tokens.accessToken === undefined
        ? undefined
        : await revokeVia(tokens.accessToken, 'revoke the access token', 'access_token');
    const rt =
      tokens.refreshToken === undefined
        ? undefined
        : await revokeVia(tokens.refreshToken, 'revoke the refresh token (no hint)');
    return { client: code.client, tokens, at, rt };
  });
}

export const AS_REVOKE_01 = defineCheck({
  id: 'AS-REVOKE-01',
  title: 'Revoking a valid token answers 200',
  level: 'MUST',
  refs: ['RFC7009 §2.1', 'RFC7009 §2.2'],
  quotes: [
    {
      source: 'RFC 7009',
      section: '2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Implementations MUST support the revocation of refresh tokens and SHOULD support the revocation of access tokens (see Implementation Note).',
    },
    {
      source: 'RFC 7009',
      section: '2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the server is unable to locate the token using the given hint, it MUST extend its search across all of its supported token types.',
    },
    {
      source: 'RFC 7009',
      section: '2.2',
      binds: 'context',
      text: 'The authorization server responds with HTTP status code 200 if the token has been revoked successfully or if the client submitted an invalid token.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-revoke-requires-hint'],
  requirement:
    "A POST of token=<refresh token> (token_type_hint is OPTIONAL, so none is sent) with the client's authentication answers 200; so does token=<access token> with token_type_hint=access_token.",
  remediation: 'Accept revocation requests with or without token_type_hint and answer 200.',
  probe: 'Fresh grant; revoke its access token (hint access_token), then its refresh token (no hint).',
  control:
    'When a revocation is refused: the same client revoking a made-up token right after; a 200 shows the client can use the revocation endpoint, so the refusal is about the token. A 200 needs no control.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const { client, tokens, at, rt } = await revocations(t, as);
    if (!at) {
      t.notApplicable(`the code exchange failed (${describeAnswer(tokens)}); see AS-TOKEN-01`);
      return;
    }
    // RFC 7009 §2: refresh-token revocation is a MUST, access-token revocation a SHOULD; an AS that
    // does not revoke access tokens answers 400 unsupported_token_type (§2.2.1), which is conformant.
    const atAnswer = answerOf(at);
    const atUnsupported = atAnswer.status === 400 && atAnswer.error === 'unsupported_token_type';
    if (atUnsupported)
      t.note('the AS does not revoke access tokens: 400 unsupported_token_type (RFC 7009 §2.2.1 allows it)');
    else await judge200(t, as, client, 'the access token (hint access_token)', at);
    if (atUnsupported && !rt) {
      t.notApplicable(
        'the AS does not revoke access tokens (unsupported_token_type, allowed by RFC 7009 §2.2.1) and issued no refresh token to revoke',
      );
    }
    if (rt) await judge200(t, as, client, 'the refresh token (no hint)', rt);
  },
});

/**
 * A revocation must answer 200. A refusal is a violation only when the control shows the client
 * can revoke at that moment (issue #12 §1): the same client revoking a made-up token (RFC 7009
 * §2.2: invalid tokens get 200) with a hint, else the answer cannot be attributed to `what`.
 */
async function judge200(
  t: CheckContext,
  as: AuthorizationServer,
  client: RegisteredClient,
  what: string,
  res: HttpResponse,
): Promise<void> {
  if (res.status === 200) {
    t.conforms(`revoking ${what} → 200`);
    return;
  }
  const control = await revoke(
    t,
    as,
    client,
    'conformance-unknown-token',
    'control: the same client revoking a made-up token',
    'refresh_token',
  );
  if (control.status === 200)
    t.violated(
      `revoking ${what} was answered ${describeAnswer(answerOf(res))}, not 200 (the same client revoking a made-up token got 200)`,
      {
        exchanges: [res.exchange, control.exchange],
      },
    );
  else
    t.inconclusive(
      `control failed: revoking ${what} was answered ${describeAnswer(answerOf(res))}, but the same client revoking a made-up token was refused too (${describeAnswer(answerOf(control))}): the client cannot use the revocation endpoint, see AS-REVOKE-02`,
    );
}

export const AS_REVOKE_02 = defineCheck({
  id: 'AS-REVOKE-02',
  title: 'Revoking an unknown token still answers 200',
  level: 'SHOULD',
  refs: ['RFC7009 §2.2 ("invalid tokens do not cause an error")'],
  quotes: [
    {
      source: 'RFC 7009',
      section: '2.2',
      binds: 'context',
      text: 'The authorization server responds with HTTP status code 200 if the token has been revoked successfully or if the client submitted an invalid token.',
    },
    {
      source: 'RFC 7009',
      section: '2.2',
      binds: 'context',
      text: 'Note: invalid tokens do not cause an error response since the client cannot handle such an error in a reasonable way.',
    },
  ],
  derived:
    'RFC 7009 §2.2 states without a BCP 14 keyword that the AS answers 200 for an invalid token, since the client cannot act on such an error.',
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-revoke-unknown-token-error'],
  requirement: 'A revocation request for a token the AS never issued answers 200.',
  remediation: 'Answer 200 for tokens that are unknown, expired or already revoked.',
  probe: 'Revoke a made-up token with the harness client.',
  control:
    'When the made-up token is refused: the same client revoking a token it was issued (a fresh grant); a 200 (or unsupported_token_type for an access token) shows the refusal is about the made-up token.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const client = await t.fixture('own-client');
    const res = await revoke(t, as, client, 'conformance-unknown-token', 'revoke an unknown token');
    if (res.status === 200) {
      t.conforms('revoking a made-up token → 200');
      return;
    }
    // Control: the same client revoking a token it holds (the request without the one change).
    const grant = await t.freshGrant();
    const control = await revoke(
      t,
      as,
      client,
      grant.tokens.refreshToken ?? grant.tokens.accessToken,
      'control: the same client revoking a token it was issued',
      grant.tokens.refreshToken ? 'refresh_token' : 'access_token',
    );
    const controlAnswer = answerOf(control);
    if (control.status === 200 || controlAnswer.error === 'unsupported_token_type')
      t.violated(
        `revoking a made-up token was answered ${describeAnswer(answerOf(res))}, not 200, while the same client revoking its own token got ${describeAnswer(controlAnswer)}`,
        {
          exchanges: [res.exchange, control.exchange],
        },
      );
    else
      t.inconclusive(
        `control failed: revoking a made-up token was answered ${describeAnswer(answerOf(res))}, and the same client revoking its own token too (${describeAnswer(controlAnswer)})`,
      );
  },
});

export const AS_REVOKE_03 = defineCheck({
  id: 'AS-REVOKE-03',
  title: 'A revoked refresh token can no longer refresh',
  level: 'MUST',
  refs: ['RFC7009 §2.1', 'RFC7009 §2.2'],
  quotes: [
    {
      source: 'RFC 7009',
      section: '2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Implementations MUST support the revocation of refresh tokens and SHOULD support the revocation of access tokens (see Implementation Note).',
    },
    {
      source: 'RFC 7009',
      section: '2.1',
      binds: 'context',
      text: 'The invalidation takes place immediately, and the token cannot be used again after the revocation.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'client', 'own-client'],
  faults: ['as-revoke-noop'],
  requirement:
    "After a 200 revocation of a refresh token, a refresh with it is refused (invalid_grant). (The SHOULD that the grant's access tokens die too is observable only at an introspecting resource server: RS-401-21.)",
  remediation: 'Invalidate the refresh token (and its grant) when it is revoked.',
  probe: 'Fresh grant; revoke its refresh token; refresh with it.',
  control:
    "A refresh with the same grant's refresh token right before the revocation: a new token then shows the grant was alive, so the refusal after the revocation is about the revocation.",
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const g = await grantWithRefresh(t, { unobservable: 'there is no refresh token to revoke' });
    if (!g) return;
    const { grant, rt: rt0 } = g;
    // Control: the refresh token works right before the revocation (rt0 → rt).
    const before = answerOf(
      await postToken(
        t,
        as,
        grant.client,
        refreshForm(rt0, t.target),
        'control: refresh before the revocation',
      ),
    );
    if (before.accessToken === undefined) {
      t.inconclusive(
        `control failed: a refresh right before the revocation was refused (${describeAnswer(before)}); see AS-REFRESH-01`,
      );
      return;
    }
    const rt = before.refreshToken ?? rt0;
    const res = await revoke(t, as, grant.client, rt, 'revoke the refresh token', 'refresh_token');
    if (res.status !== 200) {
      t.notApplicable(`the revocation itself was refused (HTTP ${res.status}); see AS-REVOKE-01`);
      return;
    }
    const after = answerOf(
      await postToken(t, as, grant.client, refreshForm(rt, t.target), 'refresh with the revoked token'),
    );
    t.data('refreshAfterRevocation', describeAnswer(after));
    if (after.accessToken === undefined)
      t.conforms(
        `the revoked refresh token is refused (${describeAnswer(after)}), although the grant refreshed just before`,
      );
    else t.violated('the revocation answered 200 but the refresh token still works');
  },
});

export const AS_REVOKE_04 = defineCheck({
  id: 'AS-REVOKE-04',
  title: "A client cannot revoke another client's token",
  level: 'SHOULD',
  refs: [
    'RFC7009 §2.1 ("verifies whether the token was issued to the client making the revocation request")',
  ],
  quotes: [
    {
      source: 'RFC 7009',
      section: '2.1',
      binds: 'context',
      text: 'The authorization server first validates the client credentials (in case of a confidential client) and then verifies whether the token was issued to the client making the revocation request. If this validation fails, the request is refused and the client is informed of the error by the authorization server as described below.',
    },
  ],
  derived:
    'RFC 7009 §2.1 describes, without a BCP 14 keyword, that the AS verifies whether the token was issued to the client making the revocation request and refuses the request otherwise.',

  revisions: REVISIONS,
  needs: ['as', 'client', 'second-client', 'own-client'],
  faults: ['as-revoke-any-client'],
  requirement:
    "A revocation of client A's refresh token sent by client B leaves the token working (the request is refused with an error).",
  remediation:
    'Revoke a token only when it was issued to the authenticated client; refuse the request otherwise.',
  probe: 'Fresh grant for client A; client B revokes its refresh token; A refreshes.',
  control:
    "The owner's refresh right before the other client's revocation request: a new token then shows the grant was alive, so a refusal of the owner's refresh afterwards is the other client's doing.",
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const g = await grantWithRefresh(t, { unobservable: 'survival cannot be observed at the AS' });
    if (!g) return;
    const { grant, rt: rt0 } = g;
    // Control: the owner's refresh works right before the foreign revocation (rt0 → rt).
    const before = answerOf(
      await postToken(
        t,
        as,
        grant.client,
        refreshForm(rt0, t.target),
        'control: refresh by the owner before',
      ),
    );
    if (before.accessToken === undefined) {
      t.inconclusive(
        `control failed: the owner's refresh right before was refused (${describeAnswer(before)}); see AS-REFRESH-01`,
      );
      return;
    }
    const rt = before.refreshToken ?? rt0;
    const other = await t.fixture('second-client');
    const res = await revoke(t, as, other, rt, "revoke another client's refresh token", 'refresh_token');
    t.data('revocationByOtherClient', describeAnswer(answerOf(res)));
    const after = answerOf(
      await postToken(t, as, grant.client, refreshForm(rt, t.target), 'refresh by the owner'),
    );
    if (after.accessToken !== undefined) {
      t.conforms("the token survived another client's revocation request");
      if (res.status === 200)
        t.note(
          'the foreign revocation was answered 200 although nothing was revoked (RFC 7009 §2.1 asks for an error)',
        );
    } else
      t.violated(
        `another client revoked the token: the owner's refresh, which worked just before, now gets ${describeAnswer(after)}`,
      );
  },
});

export const AS_REVOKE_05 = defineCheck({
  id: 'AS-REVOKE-05',
  title: 'A token type the AS cannot revoke gets unsupported_token_type',
  level: 'SHOULD',
  refs: ['RFC7009 §2.2.1'],
  quotes: [
    {
      source: 'RFC 7009',
      section: '2',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'Implementations MUST support the revocation of refresh tokens and SHOULD support the revocation of access tokens (see Implementation Note).',
    },
    {
      source: 'RFC 7009',
      section: '2.2.1',
      binds: 'context',
      text: 'unsupported_token_type: The authorization server does not support the revocation of the presented token type. That is, the client tried to revoke an access token on a server not supporting this feature.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-revoke-access-token-refused'],
  requirement:
    'Revoking an access token either succeeds (200) or, when the AS does not support revoking that type, is refused with error=unsupported_token_type, not some other error.',
  remediation: 'Answer 400 `{"error":"unsupported_token_type"}` for token types that cannot be revoked.',
  probe: 'Fresh grant; revoke its access token with token_type_hint=access_token.',
  control:
    'When the access-token revocation is refused with another code: the same client revoking a made-up token; a 200 shows the client can use the endpoint, so the refusal is about the access token.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    // Read only: the access-token revocation AS-REVOKE-01 also reads.
    const { client, tokens, at: res } = await revocations(t, as);
    if (!res) {
      t.notApplicable(`the code exchange failed (${describeAnswer(tokens)}); see AS-TOKEN-01`);
      return;
    }
    const a = answerOf(res);
    t.data('answer', describeAnswer(a));
    if (res.status === 200) t.conforms('access tokens can be revoked (200)');
    else if (a.error === 'unsupported_token_type')
      t.conforms('access tokens cannot be revoked, and the AS says so with unsupported_token_type');
    else {
      // Control: the same client's revocation of a made-up token gets 200 (so the refusal is
      // about the access token, not the client).
      const control = await revoke(
        t,
        as,
        client,
        'conformance-unknown-token',
        'control: the same client revoking a made-up token',
        'refresh_token',
      );
      if (control.status === 200)
        t.violated(
          `revoking an access token was refused with ${describeAnswer(a)}, not unsupported_token_type (the same client revoking a made-up token got 200)`,
          { exchanges: [res.exchange] },
        );
      else
        t.inconclusive(
          `control failed: revoking an access token was refused with ${describeAnswer(a)}, and the same client revoking a made-up token too (${describeAnswer(answerOf(control))})`,
        );
    }
  },
});

export const checks = [AS_REVOKE_01, AS_REVOKE_02, AS_REVOKE_03, AS_REVOKE_04, AS_REVOKE_05];
