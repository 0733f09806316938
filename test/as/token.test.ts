// Negative tests of the token endpoint: OAuth 2.1 §3.2 (requests, errors), §4.1.3 (codes),
// §4.3 (refresh), §2.4 / RFC 6749 §2.3 (client authentication).

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  getCode,
  getTokens,
  type Harness,
  jwtPart,
  post,
  REDIRECT_URI,
  redeem,
  refresh,
  register,
  startAs,
  type TestClient,
  tokenRequest,
} from './helpers.ts';

let h: Harness;
let client: TestClient;
let other: TestClient;
beforeAll(async () => {
  h = await startAs({ autoApprove: true });
  client = await register(h);
  other = await register(h);
});
afterAll(() => h.close());

/** RFC 6749 §5.2 / OAuth 2.1 §3.2.4: JSON error, never cached. */
function expectError(
  r: { status: number; headers: Headers; json: Record<string, unknown> | undefined },
  status: number,
  error: string,
) {
  expect(r.status).toBe(status);
  expect(r.json?.error).toBe(error);
  expect(typeof r.json?.error_description).toBe('string');
  expect(r.headers.get('content-type')).toBe('application/json');
  expect(r.headers.get('cache-control')).toBe('no-store');
}

describe('requests', () => {
  it('a successful response: Bearer, expires_in, scope, refresh token, no-store', async () => {
    const code = await getCode(h, client);
    const r = await redeem(h, client, code);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mcp:tools' });
    expect(typeof r.json?.refresh_token).toBe('string');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('pragma')).toBe('no-cache');
    const header = jwtPart(String(r.json?.access_token), 0);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const claims = jwtPart(String(r.json?.access_token), 1);
    expect(claims).toMatchObject({
      iss: h.issuer,
      aud: h.resource,
      sub: 'alice',
      client_id: client.client_id,
      scope: 'mcp:tools',
    });
    expect(typeof claims.jti).toBe('string');
  });

  it('GET is not served and does not consume the code', async () => {
    const code = await getCode(h, client);
    const q = new URLSearchParams({
      grant_type: 'authorization_code',
      code: code.code,
      code_verifier: code.verifier,
      client_id: client.client_id,
    });
    const res = await fetch(`${h.issuer}/token?${q}`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('POST');
    expect((await redeem(h, client, code)).status).toBe(200);
  });

  it.each([
    ['application/json', '{"grant_type":"authorization_code"}', 400],
    ['text/plain', 'grant_type=authorization_code', 400],
    ['application/x-www-form-urlencoded', `grant_type=${'a'.repeat(70 * 1024)}`, 413],
  ])('content type %s → %i', async (type, body, status) => {
    const r = await post(h, '/token', body, { 'content-type': type });
    expectError(r, status, 'invalid_request');
  });

  it.each([
    ['missing grant_type', { grant_type: undefined }, 'invalid_request'],
    [
      'grant_type=password',
      { grant_type: 'password', username: 'alice', password: 'alice' },
      'unsupported_grant_type',
    ],
    ['grant_type=client_credentials', { grant_type: 'client_credentials' }, 'unsupported_grant_type'],
    ['grant_type=foo', { grant_type: 'foo' }, 'unsupported_grant_type'],
    ['missing code', { code: undefined }, 'invalid_request'],
    ['garbage code', { code: 'not-a-code' }, 'invalid_grant'],
    ['repeated code', { code: ['a', 'b'] }, 'invalid_request'],
  ])('%s → %s', async (_name, overrides, error) => {
    const r = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: 'a'.repeat(43),
      client_id: client.client_id,
      ...overrides,
    });
    expectError(r, 400, error);
  });
});

describe('authorization code bindings', () => {
  it.each([
    ['wrong code_verifier', () => ({ code_verifier: 'b'.repeat(43) }), 'invalid_grant'],
    ['missing code_verifier', () => ({ code_verifier: undefined }), 'invalid_grant'],
    ['the challenge as verifier', (challenge: string) => ({ code_verifier: challenge }), 'invalid_grant'],
    ['another client', () => ({ client_id: 'OTHER' }), 'invalid_grant'],
    ['mismatched redirect_uri', () => ({ redirect_uri: 'http://127.0.0.1/other' }), 'invalid_grant'],
    ['foreign resource', () => ({ resource: 'https://other.example/mcp' }), 'invalid_target'],
  ])('%s → %s, and the code still works afterwards', async (_name, change, error) => {
    const code = await getCode(h, client);
    const challenge = createHash('sha256').update(code.verifier).digest('base64url');
    const extra = change(challenge) as Record<string, string | undefined>;
    if (extra.client_id === 'OTHER') extra.client_id = other.client_id;
    expectError(await redeem(h, client, code, extra), 400, error);
    // Validation happens before consumption: the legitimate redemption still succeeds.
    expect((await redeem(h, client, code)).status).toBe(200);
  });

  it('a matching redirect_uri and resource are accepted', async () => {
    const code = await getCode(h, client);
    expect((await redeem(h, client, code, { redirect_uri: REDIRECT_URI, resource: h.resource })).status).toBe(
      200,
    );
  });

  it('an expired code → invalid_grant', async () => {
    const short = await startAs({ codeTtlSeconds: 0 });
    try {
      const c = await register(short);
      const code = await getCode(short, c);
      expectError(await redeem(short, c, code), 400, 'invalid_grant');
    } finally {
      await short.close();
    }
  });

  it('a replayed code → invalid_grant, and the tokens issued from it are revoked', async () => {
    const code = await getCode(h, client);
    const first = await redeem(h, client, code);
    expect(first.status).toBe(200);
    expectError(await redeem(h, client, code), 400, 'invalid_grant');
    expectError(await refresh(h, client, String(first.json?.refresh_token)), 400, 'invalid_grant');
  });

  it('a replay with a wrong verifier does not revoke anything (OAuth 2.1 §7.5.3)', async () => {
    const code = await getCode(h, client);
    const first = await redeem(h, client, code);
    expectError(await redeem(h, client, code, { code_verifier: 'b'.repeat(43) }), 400, 'invalid_grant');
    expect((await refresh(h, client, String(first.json?.refresh_token))).status).toBe(200);
  });

  it('a client without the refresh_token grant gets no refresh token', async () => {
    const noRefresh = await register(h, { grant_types: ['authorization_code'] });
    const code = await getCode(h, noRefresh);
    const r = await redeem(h, noRefresh, code);
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('refresh_token');
    expectError(await refresh(h, noRefresh, 'x'), 400, 'unauthorized_client');
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; reuse of a rotated token revokes the whole family', async () => {
    const t = await getTokens(h, client);
    const r1 = await refresh(h, client, t.refresh_token);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('cache-control')).toBe('no-store');
    const rt2 = String(r1.json?.refresh_token);
    expect(rt2).not.toBe(t.refresh_token);
    expectError(await refresh(h, client, t.refresh_token), 400, 'invalid_grant');
    expectError(await refresh(h, client, rt2), 400, 'invalid_grant');
  });

  it.each([
    ['another client', () => ({ client_id: 'OTHER' }), 'invalid_grant'],
    ['a wider scope', () => ({ scope: 'mcp:tools mcp:write' }), 'invalid_scope'],
    ['an unknown scope', () => ({ scope: 'admin' }), 'invalid_scope'],
    ['a foreign resource', () => ({ resource: 'https://other.example/mcp' }), 'invalid_target'],
  ])('refused for %s, without burning the token', async (_name, change, error) => {
    const t = await getTokens(h, client);
    const extra = change() as Record<string, string>;
    if (extra.client_id === 'OTHER') extra.client_id = other.client_id;
    expectError(await refresh(h, client, t.refresh_token, extra), 400, error);
    expect((await refresh(h, client, t.refresh_token)).status).toBe(200);
  });

  it('scope can narrow for the access token; the grant keeps its scope', async () => {
    const t = await getTokens(h, client, { scope: 'mcp:tools mcp:write' });
    const narrow = await refresh(h, client, t.refresh_token, { scope: 'mcp:tools' });
    expect(narrow.json?.scope).toBe('mcp:tools');
    const again = await refresh(h, client, String(narrow.json?.refresh_token));
    expect(again.json?.scope).toBe('mcp:tools mcp:write');
    const withResource = await refresh(h, client, String(again.json?.refresh_token), {
      resource: h.resource,
    });
    expect(jwtPart(String(withResource.json?.access_token), 1).aud).toBe(h.resource);
  });

  it('garbage refresh token → invalid_grant', async () => {
    expectError(await refresh(h, client, 'garbage'), 400, 'invalid_grant');
  });
});

describe('client authentication', () => {
  let basicClient: TestClient;
  let postClient: TestClient;
  beforeAll(async () => {
    basicClient = await register(h, { token_endpoint_auth_method: 'client_secret_basic' });
    postClient = await register(h, { token_endpoint_auth_method: 'client_secret_post' });
  });

  const exchange = async (
    c: TestClient,
    extra: Record<string, string | undefined>,
    headers: Record<string, string> = {},
  ) => {
    const code = await getCode(h, c);
    return tokenRequest(
      h,
      { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, ...extra },
      headers,
    );
  };

  it('client_secret_basic and client_secret_post work with the right secret', async () => {
    expect(
      (
        await exchange(
          basicClient,
          {},
          { authorization: basic(basicClient.client_id, basicClient.client_secret!) },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await exchange(postClient, {
          client_id: postClient.client_id,
          client_secret: postClient.client_secret,
        })
      ).status,
    ).toBe(200);
  });

  it('a wrong secret over Basic → 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const r = await exchange(basicClient, {}, { authorization: basic(basicClient.client_id, 'wrong') });
    expectError(r, 401, 'invalid_client');
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
  });

  it.each([
    ['an unknown client', () => ({ client_id: 'dcr-unknown' }), {}],
    ['no client at all', () => ({}), {}],
    ['a confidential client without credentials', () => ({ client_id: basicClient.client_id }), {}],
    [
      'a basic client using client_secret_post',
      () => ({ client_id: basicClient.client_id, client_secret: basicClient.client_secret }),
      {},
    ],
    [
      'a post client with a wrong secret',
      () => ({ client_id: postClient.client_id, client_secret: 'wrong' }),
      {},
    ],
  ])('%s → 401 invalid_client', async (_name, extra) => {
    const r = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: 'x', ...extra() });
    expectError(r, 401, 'invalid_client');
  });

  it('a public client sending a Basic header → 401 invalid_client', async () => {
    const r = await tokenRequest(
      h,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic(client.client_id, 'x') },
    );
    expectError(r, 401, 'invalid_client');
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('Basic and client_secret together → invalid_request; malformed Basic → 401', async () => {
    const both = await tokenRequest(
      h,
      { grant_type: 'refresh_token', refresh_token: 'x', client_secret: 'y' },
      { authorization: basic(basicClient.client_id, basicClient.client_secret!) },
    );
    expectError(both, 400, 'invalid_request');
    const malformed = await tokenRequest(
      h,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: 'Basic %%%' },
    );
    expectError(malformed, 401, 'invalid_client');
    const bearer = await tokenRequest(
      h,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: 'Bearer abc' },
    );
    expectError(bearer, 401, 'invalid_client');
  });

  it('a confidential client refreshing without authentication → 401 invalid_client', async () => {
    const code = await getCode(h, basicClient);
    const t = await tokenRequest(
      h,
      { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier },
      { authorization: basic(basicClient.client_id, basicClient.client_secret!) },
    );
    expect(t.status).toBe(200);
    const r = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: String(t.json?.refresh_token),
      client_id: basicClient.client_id,
    });
    expectError(r, 401, 'invalid_client');
  });
});
