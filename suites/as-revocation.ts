// AS — token revocation (RFC 7009; optional, MCP does not mention it). Requirements §2.13, rows
// AS-REVOKE-01..05. Only when the metadata advertises a revocation_endpoint; every check revokes
// tokens of its own fresh grant.

import type { CheckContext } from '../runner/check.ts';
import { defineCheck } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import type { AuthorizationServer, RegisteredClient } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import { answerOf, describeAnswer, postToken, refreshForm, tokenAs } from './as-token-probes.ts';

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
  needs: ['as', 'client'],
  faults: ['as-revoke-requires-hint'],
  requirement:
    "A POST of token=<refresh token> (token_type_hint is OPTIONAL, so none is sent) with the client's authentication answers 200; so does token=<access token> with token_type_hint=access_token.",
  remediation: 'Accept revocation requests with or without token_type_hint and answer 200.',
  probe: 'Fresh grant; revoke its access token (hint access_token), then its refresh token (no hint).',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const grant = await t.freshGrant();
    const at = await revoke(
      t,
      as,
      grant.client,
      grant.tokens.accessToken,
      'revoke the access token',
      'access_token',
    );
    // RFC 7009 §2: refresh-token revocation is a MUST, access-token revocation a SHOULD; an AS that
    // does not revoke access tokens answers 400 unsupported_token_type (§2.2.1), which is conformant.
    const atAnswer = answerOf(at);
    const atUnsupported = atAnswer.status === 400 && atAnswer.error === 'unsupported_token_type';
    if (atUnsupported)
      t.note('the AS does not revoke access tokens: 400 unsupported_token_type (RFC 7009 §2.2.1 allows it)');
    else judge200(t, 'the access token (hint access_token)', at);
    if (atUnsupported && !grant.tokens.refreshToken) {
      t.notApplicable(
        'the AS does not revoke access tokens (unsupported_token_type, allowed by RFC 7009 §2.2.1) and issued no refresh token to revoke',
      );
    }
    if (grant.tokens.refreshToken) {
      const rt = await revoke(
        t,
        as,
        grant.client,
        grant.tokens.refreshToken,
        'revoke the refresh token (no hint)',
      );
      judge200(t, 'the refresh token (no hint)', rt);
    }
  },
});

function judge200(t: CheckContext, what: string, res: HttpResponse): void {
  if (res.status === 200) t.conforms(`revoking ${what} → 200`);
  else
    t.violated(`revoking ${what} was answered ${describeAnswer(answerOf(res))}, not 200`, {
      exchanges: [res.exchange],
    });
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
  needs: ['as', 'client'],
  faults: ['as-revoke-unknown-token-error'],
  requirement: 'A revocation request for a token the AS never issued answers 200.',
  remediation: 'Answer 200 for tokens that are unknown, expired or already revoked.',
  probe: 'Revoke a made-up token with the harness client.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    judge200(
      t,
      'a made-up token',
      await revoke(t, as, client, 'conformance-unknown-token', 'revoke an unknown token'),
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
  needs: ['as', 'client'],
  faults: ['as-revoke-noop'],
  requirement:
    "After a 200 revocation of a refresh token, a refresh with it is refused (invalid_grant). (The SHOULD that the grant's access tokens die too is observable only at an introspecting resource server: RS-401-21.)",
  remediation: 'Invalidate the refresh token (and its grant) when it is revoked.',
  probe: 'Fresh grant; revoke its refresh token; refresh with it.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const grant = await t.freshGrant();
    const rt = grant.tokens.refreshToken;
    if (!rt) {
      t.notApplicable('no refresh token is issued');
      return;
    }
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
      t.conforms(`the revoked refresh token is refused (${describeAnswer(after)})`);
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
  needs: ['as', 'client', 'second-client'],
  faults: ['as-revoke-any-client'],
  requirement:
    "A revocation of client A's refresh token sent by client B leaves the token working (the request is refused with an error).",
  remediation:
    'Revoke a token only when it was issued to the authenticated client; refuse the request otherwise.',
  probe: 'Fresh grant for client A; client B revokes its refresh token; A refreshes.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const grant = await t.freshGrant();
    const rt = grant.tokens.refreshToken;
    if (!rt) {
      t.notApplicable('no refresh token is issued, so survival cannot be observed at the AS');
      return;
    }
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
      t.violated(`another client revoked the token: the owner's refresh now gets ${describeAnswer(after)}`);
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
  needs: ['as', 'client'],
  faults: ['as-revoke-access-token-refused'],
  requirement:
    'Revoking an access token either succeeds (200) or, when the AS does not support revoking that type, is refused with error=unsupported_token_type, not some other error.',
  remediation: 'Answer 400 `{"error":"unsupported_token_type"}` for token types that cannot be revoked.',
  probe: 'Fresh grant; revoke its access token with token_type_hint=access_token.',
  async run(t) {
    const as = await revocationAs(t);
    if (!as) return;
    const grant = await t.freshGrant();
    const res = await revoke(
      t,
      as,
      grant.client,
      grant.tokens.accessToken,
      'revoke the access token',
      'access_token',
    );
    const a = answerOf(res);
    t.data('answer', describeAnswer(a));
    if (res.status === 200) t.conforms('access tokens can be revoked (200)');
    else if (a.error === 'unsupported_token_type')
      t.conforms('access tokens cannot be revoked, and the AS says so with unsupported_token_type');
    else
      t.violated(
        `revoking an access token was refused with ${describeAnswer(a)}, not unsupported_token_type`,
      );
  },
});

export const checks = [AS_REVOKE_01, AS_REVOKE_02, AS_REVOKE_03, AS_REVOKE_04, AS_REVOKE_05];
