// Every name a request chooses is data, never a key into an object's prototype (issue #14: a
// JSON-RPC method named `constructor`, `__proto__` or `toString` made the scope lookup throw, and
// the answer was 500 before authentication). One test per class of input, each sending the four
// prototype names in that position and asking for the answer a stranger name gets there: a 4xx
// (or, where OAuth answers by redirect, the redirect with its error), never a 5xx.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  authorizeUrl,
  type Harness,
  pkce,
  post as postAs,
  REDIRECT_URI,
  register,
  registerRaw,
  startAs,
  tokenRequest,
} from '../as/helpers.ts';
import { b64json, post as postMcp, send, startTestServer, type TestServer } from '../rs/helpers.ts';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;

let rs: TestServer;
let as: Harness;
let consentAs: Harness;
beforeAll(async () => {
  [rs, as, consentAs] = await Promise.all([
    startTestServer({ autoApprove: true }),
    startAs(),
    startAs({ autoApprove: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([rs?.close(), as?.close(), consentAs?.close()]);
});

/** The status of a raw HTTP/1.1 exchange (for header names fetch would refuse or rewrite). */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer: ${JSON.stringify(data)}`)));
  });
}

describe('MCP endpoint', () => {
  it.each(PROTOTYPE_NAMES)(
    'a JSON-RPC method named %s: 401 without a token, never 5xx with one',
    async (name) => {
      for (const revision of ['2025-06-18', '2026-07-28'] as const) {
        expect((await postMcp(rs.url, revision, name)).status).toBe(401);
        const withToken = await postMcp(rs.url, revision, name, { token: await rs.mint() });
        expect(withToken.status).toBeLessThan(500);
        expect(withToken.json).toMatchObject({ error: { code: expect.any(Number) } });
      }
    },
  );

  it.each(PROTOTYPE_NAMES)(
    'a tool or prompt named %s: 401 without a token, -32602 with one',
    async (name) => {
      expect((await postMcp(rs.url, '2026-07-28', 'tools/call', { params: { name } })).status).toBe(401);
      const token = await rs.mint();
      for (const method of ['tools/call', 'prompts/get']) {
        const reply = await postMcp(rs.url, '2026-07-28', method, { params: { name, arguments: {} }, token });
        // The answer an unknown tool gets (MCP §Tools, error handling: -32602). The SDK's McpServer
        // looks the name up in a plain object and so says "Tool toString disabled" instead of "not
        // found"; same code, and outside this repository.
        expect(reply.status).toBe(200);
        expect(reply.json).toMatchObject({ error: { code: -32602 } });
      }
    },
  );

  it.each(PROTOTYPE_NAMES)('a token granting the scope %s: 403 insufficient_scope', async (name) => {
    const token = await rs.mint({ claims: { scope: `${name} mcp:admin` } });
    const reply = await postMcp(rs.url, '2026-07-28', 'tools/list', { token });
    expect(reply.status).toBe(403);
    expect(reply.challenge).toMatch(/error="insufficient_scope"/);
  });

  it.each(PROTOTYPE_NAMES)('a token header whose alg and typ are objects with own %s: 401', async (name) => {
    const trap = { [name]: 1, toString: 1, valueOf: 1 };
    for (const header of [{ alg: trap }, { alg: 'ES256', typ: trap }]) {
      const token = `${b64json(header)}.${b64json({ sub: 'alice' })}.c2ln`;
      const reply = await postMcp(rs.url, '2026-07-28', 'tools/list', { token });
      expect(reply.status).toBe(401);
      expect(reply.challenge).toMatch(/error="invalid_token"/);
    }
  });

  it.each(PROTOTYPE_NAMES)('an Mcp-Session-Id, Mcp-Method or protocol version of %s: a 4xx', async (name) => {
    const token = await rs.mint();
    const session = await postMcp(rs.url, '2025-06-18', 'tools/list', {
      token,
      headers: { 'Mcp-Session-Id': name },
    });
    expect(session.status).toBe(404);
    const method = await postMcp(rs.url, '2026-07-28', 'tools/list', {
      token,
      headers: { 'Mcp-Method': name },
    });
    expect(method.status).toBe(400);
    const version = await postMcp(rs.url, '2026-07-28', 'tools/list', {
      token,
      headers: { 'MCP-Protocol-Version': name },
    });
    expect(version.status).toBe(400);
  });

  it.each(PROTOTYPE_NAMES)('a request header named %s changes nothing: 401 without a token', async (name) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const status = await rawStatus(
      Number(new URL(rs.url).port),
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n${name}: 1\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(status).toBe(401);
  });

  it.each(PROTOTYPE_NAMES)('a path /%s or /.well-known/%s: 404', async (name) => {
    for (const path of [
      `/${name}`,
      `/.well-known/${name}`,
      `/.well-known/oauth-protected-resource/${name}`,
    ]) {
      expect((await send(`${rs.origin}${path}`, { method: 'GET' })).status).toBe(404);
    }
  });
});

describe('authorization server', () => {
  it.each(PROTOTYPE_NAMES)(
    'a client_id of %s: an error page at /authorize, 401 at /token and /revoke',
    async (name) => {
      const { challenge } = pkce();
      const page = await fetch(
        authorizeUrl(as, {
          response_type: 'code',
          client_id: name,
          redirect_uri: REDIRECT_URI,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: as.resource,
        }),
        { redirect: 'manual' },
      );
      expect(page.status).toBe(400);
      const token = await tokenRequest(as, { grant_type: 'authorization_code', code: 'x', client_id: name });
      expect(token.status).toBe(401);
      expect(token.json?.error).toBe('invalid_client');
      const revoke = await postAs(
        as,
        '/revoke',
        new URLSearchParams({ token: 'x', client_id: name }).toString(),
        {
          'content-type': 'application/x-www-form-urlencoded',
        },
      );
      expect(revoke.status).toBe(401);
    },
  );

  it.each(PROTOTYPE_NAMES)(
    'a scope or parameter named %s at /authorize: the OAuth error, by redirect',
    async (name) => {
      const client = await register(as);
      const scope = await authorize(as, client, { scope: name });
      expect(scope.status).toBe(302);
      expect(scope.location?.searchParams.get('error')).toBe('invalid_scope');
      // An unknown parameter is ignored (OAuth 2.1 §3.1), whatever its name: the request succeeds.
      const extra = await authorize(as, client, { [name]: 'x' });
      expect(extra.status).toBe(302);
      expect(extra.location?.searchParams.get('code')).toBeTruthy();
    },
  );

  it.each(PROTOTYPE_NAMES)('a grant type or form field named %s at /token: 400', async (name) => {
    const client = await register(as);
    const grant = await tokenRequest(as, { grant_type: name, client_id: client.client_id });
    expect(grant.status).toBe(400);
    expect(grant.json?.error).toBe('unsupported_grant_type');
    const field = await tokenRequest(as, {
      grant_type: 'authorization_code',
      client_id: client.client_id,
      [name]: 'x',
    });
    expect(field.status).toBe(400);
    expect(field.json?.error).toBe('invalid_request'); // code is missing, the stranger field ignored
  });

  it.each(PROTOTYPE_NAMES)(
    'registration metadata with %s as a member or a value: ignored or 400',
    async (name) => {
      const base = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' };
      // An unknown member is ignored (RFC 7591 §2), and not echoed back as registered.
      const member = await registerRaw(
        as,
        JSON.parse(
          `{"${name}": {"x": 1}, "redirect_uris": ["${REDIRECT_URI}"], "token_endpoint_auth_method": "none"}`,
        ),
      );
      expect(member.status).toBe(201);
      expect(Object.hasOwn(member.json!, name)).toBe(false);
      for (const bad of [
        { ...base, token_endpoint_auth_method: name },
        { ...base, grant_types: [name] },
        { ...base, application_type: name },
        { ...base, response_types: [name] },
      ]) {
        const reply = await registerRaw(as, bad);
        expect(reply.status).toBe(400);
        expect(reply.json?.error).toBe('invalid_client_metadata');
      }
    },
  );

  it.each(PROTOTYPE_NAMES)(
    'a consent form with request_id, action or a field named %s: 400',
    async (name) => {
      const form = (fields: Record<string, string>) =>
        postAs(consentAs, '/consent', new URLSearchParams(fields).toString(), {
          'content-type': 'application/x-www-form-urlencoded',
        });
      expect((await form({ request_id: name, csrf: name, action: 'approve' })).status).toBe(400);
      // A live request: a stranger action, and a stranger field beside a wrong CSRF token.
      const client = await register(consentAs);
      const page = await authorize(consentAs, client);
      const field = (n: string) => new RegExp(`name="${n}" value="([^"]+)"`).exec(page.text)?.[1] ?? '';
      const requestId = field('request_id');
      expect((await form({ request_id: requestId, csrf: field('csrf'), action: name })).status).toBe(400);
      expect((await form({ request_id: requestId, csrf: name, [name]: 'x', action: 'approve' })).status).toBe(
        400,
      );
    },
  );
});
