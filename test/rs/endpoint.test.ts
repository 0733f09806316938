// Protected-resource metadata, transport rules, CORS, sessions and public methods of /mcp.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, post, send, startTestServer, type TestServer } from './helpers.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ allowedOrigins: ['https://app.example'] });
});
afterAll(async () => {
  await s?.close();
});

describe('protected-resource metadata (RFC 9728)', () => {
  it('is served at the path-inserted URL, without credentials, as JSON with CORS', async () => {
    const reply = await send(s.prmUrl, { method: 'GET' });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.json).toEqual({
      resource: s.url,
      authorization_servers: [s.issuer],
      scopes_supported: ['mcp:tools', 'mcp:write', 'mcp:admin'],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-auth-conformance reference MCP server',
    });
  });

  it('nothing is served at the root well-known URL (it would describe another resource)', async () => {
    expect((await send(`${s.origin}/.well-known/oauth-protected-resource`, { method: 'GET' })).status).toBe(
      404,
    );
  });

  it('answers only GET/HEAD: POST is 405 with Allow', async () => {
    const reply = await send(s.prmUrl, { method: 'POST', body: '{}' });
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('answers a CORS preflight', async () => {
    const reply = await send(s.prmUrl, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('Origin (MCP 2025-11-25 Streamable HTTP §Security Warning)', () => {
  it('a foreign Origin is refused with 403 even with a valid token', async () => {
    const token = await s.mint();
    const reply = await post(s.url, '2026-07-28', 'tools/list', {
      token,
      headers: { Origin: 'https://evil.example' },
    });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ jsonrpc: '2.0', id: null });
  });

  it('a foreign Origin is refused before authentication (no challenge leaks)', async () => {
    const reply = await post(s.url, '2026-07-28', 'tools/list', {
      headers: { Origin: 'https://evil.example' },
    });
    expect(reply.status).toBe(403);
    expect(reply.challenge).toBeNull();
  });

  it('the own origin and allowedOrigins pass, with CORS that exposes WWW-Authenticate', async () => {
    for (const origin of [s.origin, 'https://app.example']) {
      const anonymous = await post(s.url, '2026-07-28', 'tools/list', { headers: { Origin: origin } });
      expect(anonymous.status, origin).toBe(401);
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(origin);
      expect(anonymous.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
      const token = await s.mint();
      expect(
        (await post(s.url, '2026-07-28', 'tools/list', { token, headers: { Origin: origin } })).status,
      ).toBe(200);
    }
  });

  it('preflight from an allowed origin lists the MCP headers; from a foreign one is 403', async () => {
    const ok = await send(s.url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(ok.status).toBe(204);
    const allowed = ok.headers.get('access-control-allow-headers') ?? '';
    for (const h of [
      'Authorization',
      'Content-Type',
      'MCP-Protocol-Version',
      'Mcp-Method',
      'Mcp-Name',
      'Mcp-Session-Id',
      'Last-Event-ID',
    ]) {
      expect(allowed).toContain(h);
    }
    const bad = await send(s.url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(bad.status).toBe(403);
  });
});

describe('transport rules with a valid token', () => {
  it('an unsupported MCP-Protocol-Version is 400 (2025 leg)', async () => {
    const token = await s.mint();
    const reply = await post(s.url, '2025-06-18', 'tools/list', {
      token,
      headers: { 'MCP-Protocol-Version': '1999-01-01' },
    });
    expect(reply.status).toBe(400);
  });

  it('an unsupported protocol version in the 2026-07-28 envelope is 400', async () => {
    const token = await s.mint();
    const reply = await post(s.url, '2026-07-28', 'tools/list', {
      token,
      headers: { 'MCP-Protocol-Version': '1999-01-01' },
      params: {},
    });
    expect(reply.status).toBe(400);
  });

  it('Mcp-Method disagreeing with the body is 400 / -32020 and nothing runs (2026-07-28)', async () => {
    const token = await s.mint();
    const reply = await post(s.url, '2026-07-28', 'tools/call', {
      token,
      params: { name: 'echo', arguments: { text: 'x' } },
      headers: { 'Mcp-Method': 'tools/list' },
    });
    expect(reply.status).toBe(400);
    expect((reply.json?.error as { code: number }).code).toBe(-32020);
  });

  it('Mcp-Name disagreeing with the body is 400 / -32020', async () => {
    const token = await s.mint();
    const reply = await post(s.url, '2026-07-28', 'tools/call', {
      token,
      params: { name: 'echo', arguments: { text: 'x' } },
      headers: { 'Mcp-Name': 'whoami' },
    });
    expect(reply.status).toBe(400);
    expect((reply.json?.error as { code: number }).code).toBe(-32020);
  });

  it('GET and DELETE without a session are 405; 2026-07-28 responses mint no session id', async () => {
    const token = await s.mint();
    for (const method of ['GET', 'DELETE']) {
      const reply = await send(s.url, { method, headers: { Authorization: `Bearer ${token}` } });
      expect(reply.status, method).toBe(405);
    }
    const modern = await post(s.url, '2026-07-28', 'tools/list', { token });
    expect(modern.headers.get('mcp-session-id')).toBeNull();
  });

  it('a body that is not JSON is 400 parse error; a wrong Content-Type is 415', async () => {
    const token = await s.mint();
    const bad = await send(s.url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect((bad.json?.error as { code: number }).code).toBe(-32700);
    const text = await send(s.url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain', Accept: 'application/json' },
      body: '{}',
    });
    expect(text.status).toBe(415);
  });

  it('an oversized body is 413, not a crash', async () => {
    const token = await s.mint();
    const reply = await send(s.url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: `"${'x'.repeat(70_000)}"`,
    });
    expect(reply.status).toBe(413);
  });
});

describe('2025 sessions', () => {
  it('initialize opens a session with an unguessable visible-ASCII id', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add(await openSession(s.url, '2025-11-25', await s.mint()));
    expect(ids.size).toBe(5);
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]{43,}$/);
  });

  it('a session id without a token is 401 (a session never authenticates)', async () => {
    const id = await openSession(s.url, '2025-06-18', await s.mint());
    const reply = await post(s.url, '2025-06-18', 'tools/list', { headers: { 'Mcp-Session-Id': id } });
    expect(reply.status).toBe(401);
  });

  it('the session works for its subject and is 404 for another subject', async () => {
    const id = await openSession(s.url, '2025-06-18', await s.mint({ claims: { sub: 'alice' } }));
    const own = await post(s.url, '2025-06-18', 'tools/list', {
      token: await s.mint({ claims: { sub: 'alice' } }),
      headers: { 'Mcp-Session-Id': id },
    });
    expect(own.status).toBe(200);
    const other = await post(s.url, '2025-06-18', 'tools/list', {
      token: await s.mint({ claims: { sub: 'bob' } }),
      headers: { 'Mcp-Session-Id': id },
    });
    expect(other.status).toBe(404);
  });

  it('an unknown session id is 404; DELETE ends a session', async () => {
    const token = await s.mint();
    expect(
      (await post(s.url, '2025-06-18', 'tools/list', { token, headers: { 'Mcp-Session-Id': 'nope' } }))
        .status,
    ).toBe(404);
    const id = await openSession(s.url, '2025-06-18', token);
    const del = await send(s.url, {
      method: 'DELETE',
      headers: {
        Authorization: `Bearer ${token}`,
        'Mcp-Session-Id': id,
        'MCP-Protocol-Version': '2025-06-18',
      },
    });
    expect(del.status).toBe(200);
    expect(
      (await post(s.url, '2025-06-18', 'tools/list', { token, headers: { 'Mcp-Session-Id': id } })).status,
    ).toBe(404);
  });

  it('a request without a session id is served statelessly', async () => {
    const reply = await post(s.url, '2025-11-25', 'tools/list', { token: await s.mint() });
    expect(reply.status).toBe(200);
  });
});

describe('publicMethods', () => {
  let p: TestServer;
  beforeAll(async () => {
    p = await startTestServer({ publicMethods: ['initialize', 'tools/list', 'server/discover'] });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('listed methods answer without a token; the handshake is gated as one unit', async () => {
    const init = await post(p.url, '2025-06-18', 'initialize');
    expect(init.status).toBe(200);
    const id = init.headers.get('mcp-session-id') ?? '';
    // notifications/initialized is public because initialize is (the handshake rule).
    const initialized = await post(p.url, '2025-06-18', 'notifications/initialized', {
      id: null,
      headers: { 'Mcp-Session-Id': id },
    });
    expect(initialized.status).toBe(202);
    expect(
      (await post(p.url, '2025-06-18', 'tools/list', { headers: { 'Mcp-Session-Id': id } })).status,
    ).toBe(200);
    expect((await post(p.url, '2026-07-28', 'server/discover')).status).toBe(200);
  });

  it('methods not listed still need a token, and the anonymous session accepts one afterwards', async () => {
    const init = await post(p.url, '2025-06-18', 'initialize');
    const id = init.headers.get('mcp-session-id') ?? '';
    const call = await post(p.url, '2025-06-18', 'tools/call', {
      params: { name: 'echo', arguments: { text: 'x' } },
      headers: { 'Mcp-Session-Id': id },
    });
    expect(call.status).toBe(401);
    const token = await p.mint();
    const authed = await post(p.url, '2025-06-18', 'tools/call', {
      token,
      params: { name: 'echo', arguments: { text: 'x' } },
      headers: { 'Mcp-Session-Id': id },
    });
    expect(authed.status).toBe(200);
  });

  it('a bad token on a public method is still 401', async () => {
    expect((await post(p.url, '2026-07-28', 'server/discover', { token: 'abc' })).status).toBe(401);
  });

  it('with no publicMethods, initialize needs a token (default)', async () => {
    expect((await post(s.url, '2025-06-18', 'initialize')).status).toBe(401);
  });
});
