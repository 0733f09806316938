// The whole client library end to end against the bundled reference server, per revision:
// discovery in the MCP order, DCR, the authorization-code flow with the auto driver, MCP calls
// with the token, forged tokens accepted or refused, refresh and revocation. This is the path the
// engine's fixtures take; if it breaks, every check that needs a token breaks with it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';
import { discoverAuthorizationServer, discoverProtectedResource } from '../../runner/discovery.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { createLoginDriver } from '../../runner/login/index.ts';
import { mcpCall, openSession, resultOf } from '../../runner/mcp.ts';
import { createMinter, tamperPayload } from '../../runner/mint.ts';
import {
  type AuthorizationServer,
  refreshTokens,
  registerClient,
  revokeToken,
  runAuthorizationCodeFlow,
} from '../../runner/oauth.ts';
import { REVISIONS } from '../../runner/revisions.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from '../../runner/www-authenticate.ts';

const REDIRECT = 'http://127.0.0.1:53124/callback';

describe.each(REVISIONS)('client library against the reference server, %s', (revision) => {
  let server: RunningReferenceServer;
  let http: HttpRecorder;
  beforeAll(async () => {
    server = await startReferenceServer({ autoApprove: true });
    http = new HttpRecorder({ allowedOrigins: [server.url] });
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  it('discovers, registers, logs in, calls, refreshes, revokes', async () => {
    // 1. Anonymous probe → 401 with a well-formed Bearer challenge naming the PRM.
    const anonymousMethod = revision === '2026-07-28' ? 'tools/list' : 'initialize';
    const prd = await discoverProtectedResource(
      http,
      server.url,
      revision,
      async () => (await mcpCall(http, server.url, revision, { method: anonymousMethod })).response,
    );
    expect(prd.challenge?.status).toBe(401);
    expect(parseWwwAuthenticate(prd.challenge!.wwwAuthenticate).problems).toEqual([]);
    expect(prd.source).toBe('header');
    expect(prd.prm?.resource).toBe(server.url);

    // 2. AS metadata in the MCP order; the issuer matches.
    const issuer = (prd.prm!.authorization_servers as string[])[0]!;
    const asd = await discoverAuthorizationServer(http, issuer, revision);
    expect(asd.variant).toBe('oauth-insert');
    expect(asd.issuerMatches).toBe(true);
    const as: AuthorizationServer = { issuer, metadata: asd.metadata! };

    // 3. DCR and the full flow (auto-approve).
    const secrets = new Set<string>();
    const onSecret = (_value: string, kind: string) => secrets.add(kind);
    const client = await registerClient(http, as, { redirectUris: [REDIRECT], onSecret });
    const { tokens } = await runAuthorizationCodeFlow(
      http,
      as,
      client,
      createLoginDriver({ driver: 'auto' }),
      {
        resource: server.url,
        scope: 'mcp:tools',
        redirectUri: REDIRECT,
        onSecret,
      },
    );
    expect(secrets).toEqual(
      new Set(['code_verifier', 'authorization_code', 'access_token', 'refresh_token']),
    );

    // 4. MCP with the token: session (or discover), then tools/list.
    const { session } = await openSession(http, server.url, revision, tokens.accessToken);
    const list = await mcpCall(http, server.url, revision, {
      method: 'tools/list',
      session,
      token: tokens.accessToken,
    });
    expect(list.response.status).toBe(200);
    expect(Array.isArray(resultOf(list)?.tools)).toBe(true);

    // 5. Refresh (rotation) and revocation.
    const refreshed = await refreshTokens(http, as, client, {
      refreshToken: tokens.refreshToken!,
      resource: server.url,
    });
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    const revoked = await revokeToken(http, as, client, {
      token: refreshed.refreshToken!,
      hint: 'refresh_token',
    });
    expect(revoked.status).toBe(200);
  });

  it('forged tokens: the minted one works, every broken variant gets 401 invalid_token', async () => {
    const minter = await createMinter({
      privateJwk: server.signingKey,
      issuer: server.issuer,
      resource: server.url,
      scope: 'mcp:tools',
    });
    const call = async (token: string) => {
      if (revision === '2026-07-28') {
        return mcpCall(http, server.url, revision, { method: 'tools/list', token });
      }
      return mcpCall(http, server.url, revision, { method: 'initialize', token });
    };
    const good = await call(await minter.mint());
    expect(good.response.status).toBe(200);

    const broken: [string, string][] = [
      ['alg none', minter.unsigned()],
      ['alg NONE', minter.unsigned({ variant: 'NONE' })],
      ['empty signature', minter.unsigned({ variant: 'empty-signature' })],
      ['foreign key, same kid', await minter.withForeignKey()],
      ['foreign key, other kid', await minter.withForeignKey({ kid: 'different' })],
      ['HS256 with the JWK', await minter.hs256WithPublicKey()],
      ['HS256 with the PEM', await minter.hs256WithPublicKey({ secret: 'pem' })],
      ['tampered', tamperPayload(await minter.mint())],
      ['expired', await minter.mint({ claims: { exp: Math.floor(Date.now() / 1000) - 120 } })],
      ['wrong audience', await minter.mint({ claims: { aud: 'http://127.0.0.1:1/mcp' } })],
      ['wrong issuer', await minter.mint({ claims: { iss: 'http://127.0.0.1:1' } })],
    ];
    for (const [what, token] of broken) {
      const reply = await call(token);
      expect(reply.response.status, what).toBe(401);
      const challenge = bearerChallenge(
        parseWwwAuthenticate(reply.response.headers.getAll('www-authenticate')),
      );
      expect(challenge && param(challenge, 'error'), what).toBe('invalid_token');
    }
  });
});

describe('mint.ts and the reference server agree on the algorithm-confusion secret bytes', () => {
  it('with rs-algorithm-confusion on, both HS256 variants are accepted (so the forged bytes are right)', async () => {
    const server = await startReferenceServer({ autoApprove: true, faults: ['rs-algorithm-confusion'] });
    const http = new HttpRecorder({ allowedOrigins: [server.url] });
    try {
      const minter = await createMinter({
        privateJwk: server.signingKey,
        issuer: server.issuer,
        resource: server.url,
        scope: 'mcp:tools',
      });
      for (const secret of ['jwk-json', 'pem'] as const) {
        const token = await minter.hs256WithPublicKey({ secret });
        const reply = await mcpCall(http, server.url, '2026-07-28', { method: 'tools/list', token });
        expect(reply.response.status, secret).toBe(200);
      }
    } finally {
      await http.close();
      await server.close();
    }
  });
});
