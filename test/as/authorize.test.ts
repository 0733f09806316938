// Negative (and boundary) tests of the authorization endpoint, OAuth 2.1 §4.1.1-§4.1.2.1.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  getTokens,
  type Harness,
  jwtPart,
  REDIRECT_URI,
  register,
  startAs,
  type TestClient,
} from './helpers.ts';

let h: Harness;
let client: TestClient;
beforeAll(async () => {
  h = await startAs({ autoApprove: true });
  client = await register(h);
});
afterAll(() => h.close());

/** An error shown as a page: 400 HTML, and never a redirect. */
function expectErrorPage(out: { status: number; headers: Headers; location: URL | undefined }) {
  expect(out.status).toBe(400);
  expect(out.location).toBeUndefined();
  expect(out.headers.get('content-type')).toMatch(/^text\/html/);
}

/** An error delivered to the client: 302 to the redirect URI with error, state and iss. */
function expectErrorRedirect(
  out: { status: number; location: URL | undefined },
  error: string,
  redirectUri = REDIRECT_URI,
) {
  expect(out.status).toBe(302);
  expect(`${out.location!.origin}${out.location!.pathname}`).toBe(redirectUri);
  expect(out.location!.searchParams.get('error')).toBe(error);
  expect(out.location!.searchParams.get('state')).toBe('state-1');
  expect(out.location!.searchParams.get('iss')).toBe(h.issuer);
  expect(out.location!.searchParams.get('code')).toBeNull();
}

describe('phase 1: client and redirect URI errors are pages, never redirects', () => {
  it.each([
    ['missing client_id', { client_id: undefined }],
    ['unknown client_id', { client_id: 'dcr-00000000-0000-0000-0000-000000000000' }],
    ['repeated client_id', { client_id: ['CLIENT', 'CLIENT'] }],
    ['repeated redirect_uri', { redirect_uri: [REDIRECT_URI, REDIRECT_URI] }],
  ])('%s', async (_name, overrides) => {
    const o = Object.fromEntries(
      Object.entries(overrides).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.map((x) => (x === 'CLIENT' ? client.client_id : x)) : v,
      ]),
    );
    expectErrorPage(await authorize(h, client, o));
  });

  it.each([
    'http://127.0.0.1/cb/x',
    'http://127.0.0.1/cb?x=1',
    'http://127.0.0.1/cb/',
    'http://127.0.0.1/CB',
    'http://127.0.0.2/cb',
    'http://localhost/cb',
    'https://127.0.0.1/cb',
    'http://127.0.0.1/cb#f',
    'http://127.0.0.1:8080/other',
    'http://127.0.0.1/c',
    'https://evil.example/cb',
  ])('unregistered redirect_uri %s', async (redirectUri) => {
    expectErrorPage(await authorize(h, client, { redirect_uri: redirectUri }));
  });

  it.each([
    'https://app.example.evil.com/cb',
    'https://app.example@evil.com/cb',
    'https://app.example/cb%2F..',
    'http://app.example/cb',
    'https://app.example/cb/',
    'https://app.example/cbx',
  ])('https registration: variant %s is refused', async (variant) => {
    const web = await register(h, { redirect_uris: ['https://app.example/cb'], application_type: 'web' });
    expectErrorPage(await authorize(h, web, { redirect_uri: variant }));
  });

  it('loopback IP redirect URIs match with any port (RFC 8252 §7.3), IPv4 and IPv6', async () => {
    const out = await authorize(h, client, { redirect_uri: 'http://127.0.0.1:53123/cb' });
    expect(out.status).toBe(302);
    expect(out.location!.host).toBe('127.0.0.1:53123');
    const v6 = await register(h, { redirect_uris: ['http://[::1]/cb'] });
    const out6 = await authorize(h, v6, { redirect_uri: 'http://[::1]:40000/cb' });
    expect(out6.status).toBe(302);
    expect(out6.location!.searchParams.get('code')).toBeTruthy();
  });

  it('localhost gets no port exception (exact match only)', async () => {
    const local = await register(h, { redirect_uris: ['http://localhost/cb'] });
    expectErrorPage(await authorize(h, local, { redirect_uri: 'http://localhost:8080/cb' }));
    expect((await authorize(h, local, { redirect_uri: 'http://localhost/cb' })).status).toBe(302);
  });

  it('redirect_uri may be omitted with one registered URI, not with several', async () => {
    const one = await authorize(h, client, { redirect_uri: undefined });
    expect(one.status).toBe(302);
    expect(`${one.location!.origin}${one.location!.pathname}`).toBe(REDIRECT_URI);
    const two = await register(h, { redirect_uris: [REDIRECT_URI, 'http://127.0.0.1/other'] });
    expectErrorPage(await authorize(h, two, { redirect_uri: undefined }));
  });

  it('keeps the query component of a registered redirect URI', async () => {
    const q = await register(h, { redirect_uris: ['https://app.example/cb?tenant=1'] });
    const out = await authorize(h, q, { redirect_uri: 'https://app.example/cb?tenant=1' });
    expect(out.status).toBe(302);
    expect(out.location!.searchParams.get('tenant')).toBe('1');
    expect(out.location!.searchParams.get('code')).toBeTruthy();
  });
});

describe('phase 2: request errors are redirected with error, state and iss', () => {
  it.each([
    ['missing response_type', { response_type: undefined }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['response_type=code id_token', { response_type: 'code id_token' }, 'unsupported_response_type'],
    ['missing code_challenge', { code_challenge: undefined }, 'invalid_request'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    [
      'missing code_challenge_method (defaults to plain)',
      { code_challenge_method: undefined },
      'invalid_request',
    ],
    ['code_challenge_method=S512', { code_challenge_method: 'S512' }, 'invalid_request'],
    ['code_challenge_method=s256', { code_challenge_method: 's256' }, 'invalid_request'],
    ['42-character code_challenge', { code_challenge: 'a'.repeat(42) }, 'invalid_request'],
    ['129-character code_challenge', { code_challenge: 'a'.repeat(129) }, 'invalid_request'],
    ['code_challenge with + and =', { code_challenge: `${'a'.repeat(42)}+=` }, 'invalid_request'],
    ['missing resource', { resource: undefined }, 'invalid_target'],
    ['relative resource', { resource: '/mcp' }, 'invalid_target'],
    ['resource with a fragment', { resource: 'RESOURCE#x' }, 'invalid_target'],
    ['foreign resource', { resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['two resources', { resource: ['RESOURCE', 'https://other.example/mcp'] }, 'invalid_target'],
    ['unknown scope', { scope: 'mcp:tools admin' }, 'invalid_scope'],
    ['malformed scope (double space)', { scope: 'mcp:tools  mcp:write' }, 'invalid_scope'],
    ['repeated code_challenge', { code_challenge: ['C', 'C'] }, 'invalid_request'],
    ['repeated response_type', { response_type: ['code', 'code'] }, 'invalid_request'],
    ['repeated state', { state: ['state-1', 'state-2'] }, 'invalid_request'],
  ])('%s → %s', async (_name, overrides, error) => {
    const fix = (v: string) => v.replace('RESOURCE', h.resource).replace(/^C$/, 'a'.repeat(43));
    const o = Object.fromEntries(
      Object.entries(overrides).map(([k, v]) => [
        k,
        v === undefined ? undefined : Array.isArray(v) ? v.map(fix) : fix(v),
      ]),
    );
    const out = await authorize(h, client, o);
    expectErrorRedirect(out, error);
    expect(out.location!.hash).toBe(''); // nothing in a fragment (no implicit response)
    expect(out.location!.searchParams.get('access_token')).toBeNull();
  });
});

describe('successful responses', () => {
  it('ignores unknown parameters', async () => {
    const out = await authorize(h, client, { foo: 'bar' });
    expect(out.location!.searchParams.get('code')).toBeTruthy();
  });

  it.each([
    ['reserved characters', 'a+b/c=d%20~ &?#'],
    ['512 characters', 'x'.repeat(512)],
  ])('returns state exactly (%s)', async (_name, state) => {
    const out = await authorize(h, client, { state });
    expect(out.location!.searchParams.get('state')).toBe(state);
    expect(out.location!.searchParams.get('iss')).toBe(h.issuer);
  });

  it('no state sent → no state returned', async () => {
    const out = await authorize(h, client, { state: undefined });
    expect(out.location!.searchParams.has('state')).toBe(false);
    expect(out.location!.searchParams.get('code')).toBeTruthy();
  });

  it('an absent scope grants the default scope; login_hint=bob signs in bob', async () => {
    const tokens = await getTokens(h, client, { scope: undefined, login_hint: 'bob' });
    expect(tokens.scope).toBe('mcp:tools');
    expect(jwtPart(tokens.access_token, 1)).toMatchObject({
      sub: 'bob',
      scope: 'mcp:tools',
      aud: h.resource,
    });
  });

  it('no CORS on the authorization endpoint, and only GET', async () => {
    const res = await fetch(`${h.issuer}/authorize`, {
      headers: { origin: 'https://evil.example' },
      redirect: 'manual',
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${h.issuer}/authorize`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const postRes = await fetch(`${h.issuer}/authorize`, { method: 'POST' });
    expect(postRes.status).toBe(405);
    expect(postRes.headers.get('allow')).toBe('GET');
  });
});

describe('lenient resource', () => {
  it('binds a missing resource to the one known resource', async () => {
    const lenient = await startAs({ lenientResource: true });
    try {
      const c = await register(lenient);
      const tokens = await getTokens(lenient, c, { resource: undefined });
      expect(jwtPart(tokens.access_token, 1).aud).toBe(lenient.resource);
      const foreign = await authorize(lenient, c, { resource: 'https://other.example/mcp' });
      expect(foreign.location!.searchParams.get('error')).toBe('invalid_target');
    } finally {
      await lenient.close();
    }
  });
});
