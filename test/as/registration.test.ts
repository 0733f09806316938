// Dynamic client registration (RFC 7591 §3), revocation (RFC 7009), metadata (RFC 8414), CORS,
// and malformed input at every JSON/form endpoint.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  get,
  getTokens,
  type Harness,
  post,
  PUBLIC_CLIENT,
  refresh,
  register,
  registerRaw,
  revoke,
  startAs,
  type TestClient,
} from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startAs({ autoApprove: true });
});
afterAll(() => h.close());

describe('dynamic client registration', () => {
  it('201 with every registered member echoed, client_id_issued_at, no-store; no https:// client_id', async () => {
    const r = await registerRaw(h, {
      ...PUBLIC_CLIENT,
      client_uri: 'https://app.example',
      contacts: ['a@example.com'],
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.json).toMatchObject({
      ...PUBLIC_CLIENT,
      client_uri: 'https://app.example',
      contacts: ['a@example.com'],
    });
    expect(typeof r.json?.client_id_issued_at).toBe('number');
    expect(String(r.json?.client_id)).not.toMatch(/^https:\/\//);
    expect(r.json).not.toHaveProperty('client_secret');
  });

  it('defaults: client_secret_basic (RFC 7591 §2) with a secret that never expires; web application type', async () => {
    const r = await registerRaw(h, { redirect_uris: ['https://app.example/cb'] });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'web',
      client_secret_expires_at: 0,
    });
    expect(String(r.json?.client_secret).length).toBeGreaterThanOrEqual(43);
  });

  it.each([['native'], ['web']])(
    'application_type %s with a loopback redirect registers',
    async (applicationType) => {
      expect((await registerRaw(h, { ...PUBLIC_CLIENT, application_type: applicationType })).status).toBe(
        201,
      );
    },
  );

  it.each([
    'http://evil.example/cb',
    'javascript:alert(1)',
    'data:,x',
    'file:///etc/passwd',
    'com.example.app:/cb',
    '/cb',
    'https://app.example/cb#frag',
    'not a uri',
  ])('redirect URI %s → invalid_redirect_uri', async (uri) => {
    const r = await registerRaw(h, { ...PUBLIC_CLIENT, redirect_uris: [uri] });
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe('invalid_redirect_uri');
  });

  it.each([
    ['no redirect_uris', { redirect_uris: undefined }, 'invalid_redirect_uri'],
    ['empty redirect_uris', { redirect_uris: [] }, 'invalid_redirect_uri'],
    ['redirect_uris not an array', { redirect_uris: 'http://127.0.0.1/cb' }, 'invalid_redirect_uri'],
    ['a non-string redirect URI', { redirect_uris: [42] }, 'invalid_redirect_uri'],
    ['unknown auth method', { token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ['auth method not a string', { token_endpoint_auth_method: 1 }, 'invalid_client_metadata'],
    ['response_types ["token"]', { response_types: ['token'] }, 'invalid_client_metadata'],
    ['response_types not an array', { response_types: 'code' }, 'invalid_client_metadata'],
    ['grant type implicit', { grant_types: ['authorization_code', 'implicit'] }, 'invalid_client_metadata'],
    ['grant type password', { grant_types: ['password'] }, 'invalid_client_metadata'],
    ['grant type client_credentials', { grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    ['only refresh_token', { grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    ['client_name a number', { client_name: 7 }, 'invalid_client_metadata'],
    ['scope an array', { scope: ['mcp:tools'] }, 'invalid_client_metadata'],
    ['contacts a string', { contacts: 'a@example.com' }, 'invalid_client_metadata'],
    ['application_type desktop', { application_type: 'desktop' }, 'invalid_client_metadata'],
  ])('%s → %s', async (_name, overrides, error) => {
    const r = await registerRaw(h, { ...PUBLIC_CLIENT, ...overrides });
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe(error);
    expect(r.headers.get('content-type')).toBe('application/json');
  });

  it.each([
    ['text/plain', JSON.stringify(PUBLIC_CLIENT), 400],
    ['application/json', '{broken', 400],
    ['application/json', '[]', 400],
    ['application/json', 'null', 400],
    ['application/json', JSON.stringify({ ...PUBLIC_CLIENT, client_name: 'x'.repeat(70 * 1024) }), 413],
  ])('malformed body (%s %#) → %i invalid_request', async (type, body, status) => {
    const r = await post(h, '/register', body, { 'content-type': type });
    expect(r.status).toBe(status);
    expect(r.json?.error).toBe('invalid_request');
  });

  it('GET → 405 with Allow', async () => {
    const r = await get(h, '/register');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toContain('POST');
  });
});

describe('revocation (RFC 7009)', () => {
  let client: TestClient;
  let other: TestClient;
  beforeAll(async () => {
    client = await register(h);
    other = await register(h);
  });

  it('an unknown token → 200', async () => {
    expect((await revoke(h, client, 'unknown-token')).status).toBe(200);
  });

  it('revoking a refresh token ends the grant', async () => {
    const t = await getTokens(h, client);
    const rotated = await refresh(h, client, t.refresh_token);
    expect((await revoke(h, client, String(rotated.json?.refresh_token))).status).toBe(200);
    expect((await refresh(h, client, String(rotated.json?.refresh_token))).json?.error).toBe('invalid_grant');
  });

  it('an access token can be revoked (200)', async () => {
    const t = await getTokens(h, client);
    expect((await revoke(h, client, t.access_token)).status).toBe(200);
  });

  it("another client's refresh or access token is refused (400) and not revoked", async () => {
    const t = await getTokens(h, client);
    const r = await revoke(h, other, t.refresh_token);
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe('invalid_request');
    expect((await revoke(h, other, t.access_token)).status).toBe(400);
    expect((await refresh(h, client, t.refresh_token)).status).toBe(200);
  });

  it('client authentication is required; bad requests are 4xx', async () => {
    const noClient = await post(h, '/revoke', 'token=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(noClient.status).toBe(401);
    expect(noClient.json?.error).toBe('invalid_client');
    const wrongSecret = await revoke(h, { ...client, client_id: 'x' }, 'x', {
      authorization: basic('x', 'y'),
    });
    expect(wrongSecret.status).toBe(401);
    const missing = await post(h, '/revoke', `client_id=${client.client_id}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(missing.json?.error).toBe('invalid_request');
    const json = await post(h, '/revoke', '{}', { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect((await get(h, '/revoke')).status).toBe(405);
  });
});

describe('metadata and CORS', () => {
  it('the metadata document has the required members', async () => {
    const r = await get(h, '/.well-known/oauth-authorization-server');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.json).toMatchObject({
      issuer: h.issuer,
      authorization_endpoint: `${h.issuer}/authorize`,
      token_endpoint: `${h.issuer}/token`,
      registration_endpoint: `${h.issuer}/register`,
      revocation_endpoint: `${h.issuer}/revoke`,
      jwks_uri: `${h.issuer}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['mcp:tools', 'mcp:write', 'mcp:admin'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    expect(r.json?.token_endpoint_auth_methods_supported).toContain('none');
    for (const value of Object.values(r.json!))
      if (Array.isArray(value)) expect(value.length).toBeGreaterThan(0);
  });

  it('non-GET on metadata → 405 with Allow', async () => {
    const r = await post(h, '/.well-known/oauth-authorization-server', '', {});
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toContain('GET');
  });

  it.each([
    ['/.well-known/oauth-authorization-server', 'GET'],
    ['/.well-known/openid-configuration', 'GET'],
    ['/jwks', 'GET'],
    ['/token', 'POST'],
    ['/register', 'POST'],
    ['/revoke', 'POST'],
  ])('%s answers cross-origin requests and preflights', async (path, method) => {
    const pre = await fetch(`${h.issuer}${path}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': method },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain(method);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const res = await fetch(`${h.issuer}${path}`, {
      method,
      headers: { origin: 'https://app.example', 'content-type': 'application/x-www-form-urlencoded' },
      ...(method === 'POST' ? { body: '' } : {}),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('a request header beyond the server limit is refused, not crashed on', async () => {
    const res = await fetch(`${h.issuer}/token`, {
      method: 'POST',
      headers: { 'x-big': 'a'.repeat(40 * 1024) },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await get(h, '/.well-known/oauth-authorization-server')).status).toBe(200); // still alive
  });
});
