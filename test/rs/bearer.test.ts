// Bearer verification and 401/403 challenges of /mcp, probed on a clean reference server.
// Each negative case changes one thing in an otherwise valid request.

import { exportSPKI, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  b64json,
  challengeParams,
  foreignKey,
  post,
  postWithAuthorizationLines,
  REVISIONS,
  send,
  startTestServer,
  type TestServer,
} from './helpers.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

const now = () => Math.floor(Date.now() / 1000);

describe('valid tokens', () => {
  it.each(REVISIONS)('authenticate tools/list and whoami in %s', async (revision) => {
    const token = await s.mint();
    const list = await post(s.url, revision, 'tools/list', { token });
    expect(list.status).toBe(200);
    const names = ((list.json?.result as { tools: { name: string }[] }).tools ?? []).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'whoami', 'write_note']));
    const who = await post(s.url, revision, 'tools/call', {
      token,
      params: { name: 'whoami', arguments: {} },
    });
    expect(who.status).toBe(200);
    const result = who.json?.result as { structuredContent: Record<string, unknown> };
    expect(result.structuredContent).toEqual({
      sub: 'alice',
      client_id: 'test-client',
      scopes: ['mcp:tools'],
    });
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])(
    'scheme %s is accepted (case-insensitive, OAuth 2.1 §5.1.1)',
    async (scheme) => {
      const token = await s.mint();
      const reply = await post(s.url, '2026-07-28', 'tools/list', {
        headers: { Authorization: `${scheme} ${token}` },
      });
      expect(reply.status).toBe(200);
    },
  );

  it('an aud array that contains this resource is accepted (RFC 9068 §4)', async () => {
    const token = await s.mint({ claims: { aud: ['https://other.example/mcp', s.url] } });
    expect((await post(s.url, '2026-07-28', 'tools/list', { token })).status).toBe(200);
  });

  it('an aud with upper-case scheme and host is accepted (MCP §Canonical Server URI)', async () => {
    const u = new URL(s.url);
    const token = await s.mint({ claims: { aud: `HTTP://${u.host.toUpperCase()}${u.pathname}` } });
    expect((await post(s.url, '2026-07-28', 'tools/list', { token })).status).toBe(200);
  });

  it('typ application/at+jwt is accepted (RFC 9068 §2.1)', async () => {
    const token = await s.mint({ header: { typ: 'application/at+jwt' } });
    expect((await post(s.url, '2026-07-28', 'tools/list', { token })).status).toBe(200);
  });
});

describe('no credentials', () => {
  it.each(REVISIONS)(
    '401 with resource_metadata and scope, and no error (RFC 6750 §3.1), in %s',
    async (revision) => {
      const method = revision === '2026-07-28' ? 'tools/list' : 'initialize';
      const reply = await post(s.url, revision, method);
      expect(reply.status).toBe(401);
      expect(reply.challenge).toBe(`Bearer resource_metadata="${s.prmUrl}", scope="mcp:tools"`);
    },
  );

  it('the anonymous challenge for write_note asks for every scope it needs', async () => {
    const reply = await post(s.url, '2026-07-28', 'tools/call', {
      params: { name: 'write_note', arguments: { text: 'x' } },
    });
    expect(reply.status).toBe(401);
    expect(challengeParams(reply.challenge)?.scope).toBe('mcp:tools mcp:write');
  });

  it('a token in the query string is ignored: 401 without error (OAuth 2.1 §5.1)', async () => {
    const token = await s.mint();
    const reply = await post(`${s.url}?access_token=${token}`, '2026-07-28', 'tools/list');
    expect(reply.status).toBe(401);
    expect(challengeParams(reply.challenge)?.error).toBeUndefined();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Token abc'])(
    'non-Bearer credentials %s get a 401 Bearer challenge',
    async (value) => {
      const reply = await post(s.url, '2026-07-28', 'tools/list', { headers: { Authorization: value } });
      expect(reply.status).toBe(401);
      expect(reply.challenge).toMatch(/^Bearer resource_metadata="/);
    },
  );

  it.each(['notifications/initialized', 'ping'])(
    '%s without a token is 401 too (MCP §Token Requirements)',
    async (method) => {
      const reply = await post(s.url, '2025-06-18', method, { id: method === 'ping' ? 7 : null });
      expect(reply.status).toBe(401);
    },
  );

  it('GET and DELETE without a token are 401', async () => {
    for (const method of ['GET', 'DELETE']) {
      const reply = await send(s.url, { method, headers: { 'MCP-Protocol-Version': '2025-06-18' } });
      expect(reply.status, method).toBe(401);
    }
  });
});

describe('bad tokens: always 401 invalid_token with a challenge, never 400/403/500', () => {
  const cases: [string, () => Promise<string>][] = [
    ['garbage', async () => 'abc'],
    ['three dots', async () => 'a.b.c'],
    ['truncated JWT', async () => (await s.mint()).slice(0, 60)],
    ['10 KB string', async () => 'A'.repeat(10_240)],
    ['non-token68 characters', async () => 'abc"def'],
    ['expired', () => s.mint({ claims: { exp: now() - 600, iat: now() - 1200 } })],
    ['nbf in the future', () => s.mint({ claims: { nbf: now() + 3600 } })],
    ['wrong audience', () => s.mint({ claims: { aud: 'https://other.example/mcp' } })],
    ['audience with a trailing slash', () => s.mint({ claims: { aud: `${s.url}/` } })],
    ['no audience', () => s.mint({ claims: { aud: undefined } })],
    ['wrong issuer', () => s.mint({ claims: { iss: 'https://evil.example' } })],
    ['issuer with a trailing slash', () => s.mint({ claims: { iss: `${s.issuer}/` } })],
    ['no exp', () => s.mint({ claims: { exp: undefined } })],
    ['no iat', () => s.mint({ claims: { iat: undefined } })],
    ['no sub', () => s.mint({ claims: { sub: undefined } })],
    ['no client_id', () => s.mint({ claims: { client_id: undefined } })],
    ['typ JWT (an ID token)', () => s.mint({ header: { typ: 'JWT' } })],
    ['no typ', () => s.mint({ header: { typ: undefined } })],
    [
      'tampered payload (scope raised, old signature)',
      async () => {
        const [h, , sig] = (await s.mint()).split('.');
        const payload = b64json({
          iss: s.issuer,
          sub: 'alice',
          aud: s.url,
          client_id: 'test-client',
          scope: 'mcp:tools mcp:write',
          iat: now(),
          exp: now() + 600,
        });
        return `${h}.${payload}.${sig}`;
      },
    ],
    ...(['none', 'None', 'NONE'].map((alg) => [
      `alg ${alg}`,
      async () => {
        const [, payload] = (await s.mint()).split('.');
        return `${b64json({ alg, typ: 'at+jwt' })}.${payload}.`;
      },
    ]) as [string, () => Promise<string>][]),
    ['foreign key, same kid', async () => s.mint({ key: (await foreignKey()).privateKey })],
    [
      'foreign key carried in an embedded jwk header',
      async () => {
        const attacker = await foreignKey();
        return s.mint({ key: attacker.privateKey, header: { kid: undefined, jwk: attacker.publicJwk } });
      },
    ],
    [
      'HS256 keyed with the public key PEM (algorithm confusion)',
      async () => {
        const { d: _d, ...publicJwk } = s.signingKey;
        const pem = await exportSPKI(
          (await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey,
        );
        return new SignJWT({
          iss: s.issuer,
          sub: 'alice',
          aud: s.url,
          client_id: 'c',
          scope: 'mcp:tools',
          iat: now(),
          exp: now() + 600,
        })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .sign(new TextEncoder().encode(pem));
      },
    ],
  ];

  it.each(cases)('%s', async (_label, makeToken) => {
    const token = await makeToken();
    const reply = await post(s.url, '2026-07-28', 'tools/list', { token });
    expect(reply.status).toBe(401);
    const params = challengeParams(reply.challenge);
    expect(params?.error).toBe('invalid_token');
    expect(params?.resource_metadata).toBe(s.prmUrl);
    expect(params?.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  });

  it('an empty Bearer credential is 401 invalid_token', async () => {
    const reply = await post(s.url, '2026-07-28', 'tools/list', { headers: { Authorization: 'Bearer' } });
    expect(reply.status).toBe(401);
    expect(challengeParams(reply.challenge)?.error).toBe('invalid_token');
  });

  it('a bad token on a 2025 session request is 401 as well', async () => {
    const reply = await post(s.url, '2025-11-25', 'initialize', { token: 'abc' });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('mcp-session-id')).toBeNull();
  });
});

describe('two Authorization header lines', () => {
  it.each([
    ['valid first', true],
    ['valid second', false],
  ])('400 invalid_request (%s; RFC 6750 §3.1)', async (_label, validFirst) => {
    const token = await s.mint();
    const lines = validFirst ? [`Bearer ${token}`, 'Bearer abc'] : ['Bearer abc', `Bearer ${token}`];
    expect(await postWithAuthorizationLines(s.url, lines)).toBe(400);
  });
});

describe('scope (403 insufficient_scope)', () => {
  it.each(REVISIONS)(
    'write_note without mcp:write is an HTTP 403 naming every scope it needs, in %s',
    async (revision) => {
      const token = await s.mint();
      const reply = await post(s.url, revision, 'tools/call', {
        token,
        params: { name: 'write_note', arguments: { text: 'hi' } },
      });
      expect(reply.status).toBe(403);
      expect(reply.challenge).toBe(
        `Bearer error="insufficient_scope", scope="mcp:tools mcp:write", resource_metadata="${s.prmUrl}", error_description="this operation needs the scopes: mcp:tools mcp:write"`,
      );
    },
  );

  it('write_note with both scopes runs', async () => {
    const token = await s.mint({ claims: { scope: 'mcp:tools mcp:write' } });
    const reply = await post(s.url, '2026-07-28', 'tools/call', {
      token,
      params: { name: 'write_note', arguments: { text: 'hi' } },
    });
    expect(reply.status).toBe(200);
    expect(JSON.stringify(reply.json?.result)).toMatch(/stored note #\d+/);
  });

  it('a token without mcp:tools gets 403 on tools/list, resources/read and prompts/get', async () => {
    const token = await s.mint({ claims: { scope: 'mcp:write' } });
    for (const [method, params] of [
      ['tools/list', {}],
      ['resources/read', { uri: 'notes://all' }],
      ['prompts/get', { name: 'greet', arguments: { name: 'x' } }],
    ] as const) {
      const reply = await post(s.url, '2026-07-28', method, { token, params });
      expect(reply.status, method).toBe(403);
      expect(challengeParams(reply.challenge)?.scope, method).toBe('mcp:tools');
    }
  });

  it('a token with no scope claim can still call server/discover (needs no scope)', async () => {
    const token = await s.mint({ claims: { scope: undefined } });
    expect((await post(s.url, '2026-07-28', 'server/discover', { token })).status).toBe(200);
  });
});
