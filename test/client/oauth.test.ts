// oauth.ts against a strict fake authorization server: registration, the full flow with PKCE,
// resource and iss, code exchange errors, refresh with rotation, revocation, raw token probes.

import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRecorder } from '../../runner/http.ts';
import { createLoginDriver } from '../../runner/login/index.ts';
import {
  type AuthorizationServer,
  authorizationUrl,
  exchangeCode,
  fetchVia,
  newPkce,
  OAuthStepError,
  refreshTokens,
  registerClient,
  revokeToken,
  runAuthorizationCodeFlow,
  tokenRequest,
} from '../../runner/oauth.ts';
import { type FakeAs, startFakeAs } from './helpers/fake-as.ts';

const REDIRECT = 'http://127.0.0.1:53123/callback';
const RESOURCE = 'http://127.0.0.1:9/mcp';

let fake: FakeAs | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  await http?.close();
  await fake?.close();
  fake = undefined;
  http = undefined;
});

async function setup(options: Parameters<typeof startFakeAs>[0] = { mode: 'auto' }) {
  fake = await startFakeAs(options);
  http = new HttpRecorder({ allowedOrigins: [fake.issuer] });
  const metadata = (
    await http.request(`${fake.issuer}/.well-known/oauth-authorization-server`)
  ).json() as Record<string, unknown>;
  const as: AuthorizationServer = { issuer: fake.issuer, metadata };
  return { as, http, fake };
}

describe('PKCE (RFC 7636)', () => {
  it('the App. B vector', async () => {
    expect(await oauth.calculatePKCECodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
  it('newPkce: 43-128 unreserved characters, S256 of the verifier', async () => {
    const pkce = await newPkce();
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(pkce.challenge).toBe(await oauth.calculatePKCECodeChallenge(pkce.verifier));
    expect(pkce.method).toBe('S256');
    expect((await newPkce()).verifier).not.toBe(pkce.verifier);
  });
});

describe('oauth.ts against a fake authorization server', () => {
  it('registers a public native client (RFC 7591, application_type per SEP-837)', async () => {
    const { as, http, fake } = await setup();
    const secrets: string[] = [];
    const client = await registerClient(http, as, {
      redirectUris: [REDIRECT],
      onSecret: (_v, k) => secrets.push(k),
    });
    expect(client).toMatchObject({ clientId: 'client-1', authMethod: 'none', redirectUris: [REDIRECT] });
    expect(client.clientSecret).toBeUndefined();
    expect(fake.registrations[0]).toMatchObject({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(secrets).toEqual([]);
    expect(http.exchanges.map((e) => e.label)).toContain('client registration (RFC 7591)');
  });

  it('a confidential client gets its secret reported to onSecret', async () => {
    const { as, http } = await setup();
    const kinds: string[] = [];
    const client = await registerClient(http, as, {
      redirectUris: ['https://app.example/cb'],
      authMethod: 'client_secret_basic',
      onSecret: (v, k) => kinds.push(`${k}:${v.length}`),
    });
    expect(client.clientSecret).toMatch(/^[0-9a-f]{32}$/);
    expect(kinds).toEqual(['client_secret:32']);
  });

  it('the full flow: PKCE S256, state, resource on both requests, iss validated, tokens', async () => {
    const { as, http, fake } = await setup();
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    const seen: string[] = [];
    const { tokens, callback, pkce, state } = await runAuthorizationCodeFlow(
      http,
      as,
      client,
      createLoginDriver({ driver: 'auto' }),
      {
        resource: RESOURCE,
        scope: 'mcp:tools',
        redirectUri: REDIRECT,
        onSecret: (_v, kind) => seen.push(kind),
      },
    );
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 600, scope: 'mcp:tools' });
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(fake.issuer);
    const authRequest = new URL(http.exchanges.find((e) => e.label?.includes('auto login'))!.request.url);
    expect(Object.fromEntries(authRequest.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: REDIRECT,
      scope: 'mcp:tools',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
    });
    const form = fake.tokenRequests[0]!.form;
    expect(form.get('resource')).toBe(RESOURCE);
    expect(form.get('code_verifier')).toBe(pkce.verifier);
    expect(form.get('client_id')).toBe(client.clientId);
    expect(seen).toEqual(
      expect.arrayContaining(['code_verifier', 'authorization_code', 'access_token', 'refresh_token']),
    );
  });

  it('an iss that differs from the recorded issuer is recorded as a problem; the flow carries on (AS-ISS-03 judges it)', async () => {
    const { as, http, fake } = await setup({ mode: 'auto', issOverride: 'http://127.0.0.1:1' });
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    const { tokens } = await runAuthorizationCodeFlow(
      http,
      as,
      client,
      createLoginDriver({ driver: 'auto' }),
      {
        resource: RESOURCE,
        redirectUri: REDIRECT,
      },
    );
    expect(tokens.problems?.join(' ')).toMatch(/iss/);
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('a token response without token_type is used as received, with the problem recorded (issue #12 §5)', async () => {
    const { as, http } = await setup({ mode: 'auto', noTokenType: true });
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    const { tokens } = await runAuthorizationCodeFlow(
      http,
      as,
      client,
      createLoginDriver({ driver: 'auto' }),
      {
        resource: RESOURCE,
        redirectUri: REDIRECT,
      },
    );
    expect(tokens.accessToken).toMatch(/^at-/);
    expect(tokens.refreshToken).toBeDefined();
    expect(tokens.problems?.join(' ')).toMatch(/token_type/);
  });

  it('a registration answered 200 (not 201) with a client_id is used as received', async () => {
    const { as, http } = await setup({ mode: 'auto', registrationStatus: 200 });
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    expect(client.clientId).toMatch(/^client-/);
  });

  it('an error callback still stops the flow', async () => {
    const { as, http } = await setup({ mode: 'auto' });
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    const flow = runAuthorizationCodeFlow(http, as, client, createLoginDriver({ driver: 'auto' }), {
      resource: RESOURCE,
      redirectUri: 'http://127.0.0.1:9/other',
    });
    await expect(flow).rejects.toThrow();
  });

  it('a code used twice is refused with invalid_grant, as an OAuthStepError', async () => {
    const { as, http } = await setup();
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    const driver = createLoginDriver({ driver: 'auto' });
    const { callback, pkce } = await runAuthorizationCodeFlow(http, as, client, driver, {
      resource: RESOURCE,
      redirectUri: REDIRECT,
    });
    const replay = exchangeCode(http, as, client, {
      code: callback.searchParams.get('code')!,
      verifier: pkce.verifier,
      redirectUri: REDIRECT,
      resource: RESOURCE,
    });
    await expect(replay).rejects.toMatchObject({
      name: 'OAuthStepError',
      step: 'token',
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('refresh with client_secret_basic rotates the refresh token; revocation sends the hint', async () => {
    const { as, http, fake } = await setup();
    const client = await registerClient(http, as, {
      redirectUris: [REDIRECT],
      authMethod: 'client_secret_basic',
    });
    const { tokens } = await runAuthorizationCodeFlow(
      http,
      as,
      client,
      createLoginDriver({ driver: 'auto' }),
      {
        resource: RESOURCE,
        redirectUri: REDIRECT,
      },
    );
    expect(fake.tokenRequests[0]!.authorization).toMatch(/^Basic /);
    const refreshed = await refreshTokens(http, as, client, {
      refreshToken: tokens.refreshToken!,
      resource: RESOURCE,
      scope: 'mcp:tools',
    });
    expect(refreshed.refreshToken).toBeDefined();
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(fake.tokenRequests[1]!.form.get('resource')).toBe(RESOURCE);
    expect(fake.tokenRequests[1]!.form.get('scope')).toBe('mcp:tools');
    // The old refresh token was rotated away.
    await expect(
      refreshTokens(http, as, client, { refreshToken: tokens.refreshToken! }),
    ).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    const revoked = await revokeToken(http, as, client, {
      token: refreshed.refreshToken!,
      hint: 'refresh_token',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.exchange.label).toBe('token revocation (RFC 7009)');
    expect(fake.revocations[0]!.get('token_type_hint')).toBe('refresh_token');
    expect(fake.revocations[0]!.get('token')).toBe(refreshed.refreshToken);
  });

  it('tokenRequest: the raw form with client auth per method, or none at all', async () => {
    const { as, http, fake } = await setup();
    const post = await registerClient(http, as, {
      redirectUris: [REDIRECT],
      authMethod: 'client_secret_post',
    });
    const r1 = await tokenRequest(http, as, post, [
      ['grant_type', 'authorization_code'],
      ['code', 'nope'],
      ['code', 'twice'],
    ]);
    expect(r1.status).toBe(400);
    expect(r1.json()).toEqual({ error: 'invalid_grant' });
    expect(fake.tokenRequests[0]!.form.getAll('code')).toEqual(['nope', 'twice']);
    expect(fake.tokenRequests[0]!.form.get('client_secret')).toBe(post.clientSecret);

    const r2 = await tokenRequest(http, as, post, [['grant_type', 'authorization_code']], { auth: 'none' });
    expect(r2.status).toBe(401);
    expect(fake.tokenRequests[1]!.form.has('client_id')).toBe(false);

    const basic = await registerClient(http, as, {
      redirectUris: [REDIRECT],
      authMethod: 'client_secret_basic',
    });
    const r3 = await tokenRequest(http, as, basic, [
      ['grant_type', 'refresh_token'],
      ['refresh_token', 'x'],
    ]);
    expect(r3.status).toBe(400);
    expect(fake.tokenRequests[2]!.authorization).toMatch(/^Basic /);
  });

  it('an error redirect from the authorization endpoint becomes an OAuthStepError with its code', async () => {
    const { as, http } = await setup();
    const client = await registerClient(http, as, { redirectUris: [REDIRECT] });
    // No PKCE: the fake AS answers error=invalid_request on the redirect.
    const url = authorizationUrl(as, client, { redirectUri: REDIRECT, state: 's1' });
    const callback = await createLoginDriver({ driver: 'auto' }).login({
      http,
      authorizationUrl: url,
      redirectUri: REDIRECT,
      timeoutMs: 5000,
    });
    const { validateCallback } = await import('../../runner/oauth.ts');
    expect(() => validateCallback(as, client, callback, 's1')).toThrow(/error=invalid_request/);
    expect(() => validateCallback(as, client, callback, 'other-state')).toThrow(/state/);
  });

  it('authorizationUrl: extra parameters are appended, so one can repeat on purpose', async () => {
    const as: AuthorizationServer = {
      issuer: 'https://as.example',
      metadata: { authorization_endpoint: 'https://as.example/authorize?x=1' },
    };
    const url = authorizationUrl(
      as,
      { clientId: 'c', authMethod: 'none', redirectUris: [] },
      {
        redirectUri: REDIRECT,
        state: 's',
        resource: RESOURCE,
        extra: [['resource', 'https://other']],
      },
    );
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.getAll('resource')).toEqual([RESOURCE, 'https://other']);
  });

  it('plain http is refused for a non-loopback token endpoint, before anything is sent', async () => {
    const as: AuthorizationServer = {
      issuer: 'http://as.example',
      metadata: { token_endpoint: 'http://as.example/token' },
    };
    const recorder = new HttpRecorder({ allowAnyOrigin: true });
    http = recorder;
    await expect(
      exchangeCode(
        recorder,
        as,
        { clientId: 'c', authMethod: 'none', redirectUris: [] },
        { code: 'x', verifier: 'v', redirectUri: REDIRECT },
      ),
    ).rejects.toThrow(/HTTPS/);
    expect(recorder.exchanges).toHaveLength(0);
  });

  it('fetchVia: a web Response from the recorded exchange, the exchange kept', async () => {
    const { http, fake } = await setup();
    const via = fetchVia(http, 'probe');
    const response = await via(`${fake.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 't' }),
    });
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(via.last?.exchange.label).toBe('probe');
    expect(via.last?.exchange.request.body).toBe('token=t');
  });
});
