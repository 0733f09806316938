// The whole flow, driven by oauth4webapi as an independent OAuth 2.1 client: discovery,
// registration, PKCE authorization (auto-approve), iss/state validation, code exchange, JWT
// verification against the JWKS, refresh with rotation, revocation. Then the consent page path.

import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  getTokens,
  type Harness,
  jwtPart,
  pkce,
  post,
  REDIRECT_URI,
  register,
  startAs,
} from './helpers.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const; // loopback http test server only

describe('happy path with oauth4webapi (auto-approve)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startAs({ autoApprove: true });
  });
  afterAll(() => h.close());

  it('discovers, registers, authorizes, exchanges, verifies, refreshes and revokes', async () => {
    const issuer = new URL(h.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);

    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [REDIRECT_URI],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          client_name: 'oauth4webapi',
        },
        insecure,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };

    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const url = authorizeUrl(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: 'http://127.0.0.1:53123/cb', // RFC 8252 §7.3: any port on a loopback IP
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: h.resource,
      scope: 'mcp:tools mcp:write',
      state,
    });
    const authz = await fetch(url, { redirect: 'manual' });
    expect(authz.status).toBe(302);
    const callback = new URL(authz.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe('http://127.0.0.1:53123/cb');
    const params = oauth.validateAuthResponse(as, client, callback, state); // checks iss and state

    const tokenResponse = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      'http://127.0.0.1:53123/cb',
      verifier,
      { ...insecure, additionalParameters: { resource: h.resource } },
    );
    expect(tokenResponse.headers.get('cache-control')).toBe('no-store');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse);
    expect(tokens.token_type).toBe('bearer'); // oauth4webapi lower-cases it
    expect(tokens.scope).toBe('mcp:tools mcp:write');

    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: h.issuer,
      audience: h.resource,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({
      sub: 'alice',
      client_id: client.client_id,
      scope: 'mcp:tools mcp:write',
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token); // rotated

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure),
    );
    const afterRevocation = await oauth.refreshTokenGrantRequest(
      as,
      client,
      oauth.None(),
      refreshed.refresh_token!,
      insecure,
    );
    expect(afterRevocation.status).toBe(400);
    expect(((await afterRevocation.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('serves the metadata at the OIDC path too, and the JWKS holds the public key only', async () => {
    const oidc = (await (await fetch(`${h.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(oidc.issuer).toBe(h.issuer);
    const jwks = (await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('consent page (no auto-approve)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startAs({ autoApprove: false });
  });
  afterAll(() => h.close());

  async function openConsent() {
    const client = await register(h);
    const { verifier, challenge } = pkce();
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: h.resource,
        state: 's',
      }),
      { redirect: 'manual' },
    );
    const html = await res.text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
    return { client, verifier, res, html, requestId: field('request_id')!, csrf: field('csrf')! };
  }

  const consent = (h: Harness, fields: Record<string, string>) =>
    post(h, '/consent', new URLSearchParams(fields).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });

  it('shows a sign-in page with the client name, the redirect host and protective headers', async () => {
    const { res, html, requestId, csrf } = await openConsent();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('AS test client');
    expect(html).toContain('127.0.0.1');
    expect(requestId).toBeTruthy();
    expect(csrf).toBeTruthy();
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('approve → 303 to the client with code, state and iss; the code works', async () => {
    const { client, verifier, requestId, csrf } = await openConsent();
    const r = await consent(h, {
      request_id: requestId,
      csrf,
      username: 'bob',
      password: 'bob',
      action: 'approve',
    });
    expect(r.status).toBe(303);
    const location = new URL(r.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe('s');
    expect(location.searchParams.get('iss')).toBe(h.issuer);
    const token = await post(
      h,
      '/token',
      new URLSearchParams({
        grant_type: 'authorization_code',
        code: location.searchParams.get('code')!,
        code_verifier: verifier,
        client_id: client.client_id,
      }).toString(),
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(token.status).toBe(200);
    const payload = JSON.parse(
      Buffer.from(String(token.json?.access_token).split('.')[1]!, 'base64url').toString(),
    );
    expect(payload.sub).toBe('bob');
  });

  it('deny → 303 with access_denied and iss', async () => {
    const { requestId, csrf } = await openConsent();
    const r = await consent(h, { request_id: requestId, csrf, action: 'deny' });
    expect(r.status).toBe(303);
    const location = new URL(r.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('iss')).toBe(h.issuer);
  });

  it('a wrong password re-shows the form; a wrong CSRF token or a second answer is refused', async () => {
    const { requestId, csrf } = await openConsent();
    const wrong = await consent(h, {
      request_id: requestId,
      csrf,
      username: 'alice',
      password: 'bob',
      action: 'approve',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('location')).toBeNull();
    const forged = await consent(h, {
      request_id: requestId,
      csrf: 'x'.repeat(43),
      username: 'alice',
      password: 'alice',
      action: 'approve',
    });
    expect(forged.status).toBe(400);
    const ok = await consent(h, {
      request_id: requestId,
      csrf,
      username: 'alice',
      password: 'alice',
      action: 'approve',
    });
    expect(ok.status).toBe(303);
    const again = await consent(h, {
      request_id: requestId,
      csrf,
      username: 'alice',
      password: 'alice',
      action: 'approve',
    });
    expect(again.status).toBe(400);
  });

  it('an erroneous request is not redirected before the user signs in (OAuth 2.1 §7.12.2)', async () => {
    const client = await register(h);
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        resource: h.resource,
        state: 's',
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(200); // the sign-in page, not a 302
    const html = await res.text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)![1]!;
    const r = await consent(h, {
      request_id: field('request_id'),
      csrf: field('csrf'),
      username: 'alice',
      password: 'alice',
      action: 'approve',
    });
    expect(r.status).toBe(303);
    const location = new URL(r.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
    expect(location.searchParams.get('iss')).toBe(h.issuer);
  });
});

describe('split mode (the AS on its own origin)', () => {
  it('issues tokens for the resource on the other origin', async () => {
    const h = await startAs({ autoApprove: true, split: true });
    try {
      expect(new URL(h.issuer).origin).not.toBe(new URL(h.resource).origin);
      const md = (await (await fetch(`${h.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      expect(md.issuer).toBe(h.issuer);
      const client = await register(h);
      const tokens = await getTokens(h, client);
      expect(jwtPart(tokens.access_token, 1)).toMatchObject({ iss: h.issuer, aud: h.resource });
      // The RS origin does not serve the AS endpoints.
      expect((await fetch(`${new URL(h.resource).origin}/token`, { method: 'POST' })).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});
