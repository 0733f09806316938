// Discovery: the URL tables of requirements §4.2 and §4.3 as vectors, and the MCP order with the
// A6 fallback policy against a scripted loopback server.

import { afterEach, describe, expect, it } from 'vitest';
import {
  asWellKnownUrls,
  discoverAuthorizationServer,
  discoverProtectedResource,
  prmWellKnownUrls,
} from '../../runner/discovery.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { json, type StubServer, startStub } from './helpers/stub-server.ts';

describe('prmWellKnownUrls: requirements §4.2 table', () => {
  const PRM = '/.well-known/oauth-protected-resource';
  it.each([
    ['https://mcp.example.com', undefined, `https://mcp.example.com${PRM}`],
    ['https://mcp.example.com/', undefined, `https://mcp.example.com${PRM}`],
    ['https://mcp.example.com/mcp', `https://mcp.example.com${PRM}/mcp`, `https://mcp.example.com${PRM}`],
    ['https://example.com/public/mcp', `https://example.com${PRM}/public/mcp`, `https://example.com${PRM}`],
    [
      'https://mcp.example.com:8443/t1/mcp',
      `https://mcp.example.com:8443${PRM}/t1/mcp`,
      `https://mcp.example.com:8443${PRM}`,
    ],
    ['https://mcp.example.com/mcp/', `https://mcp.example.com${PRM}/mcp`, `https://mcp.example.com${PRM}`],
    [
      'https://mcp.example.com/mcp?tenant=a',
      `https://mcp.example.com${PRM}/mcp?tenant=a`,
      `https://mcp.example.com${PRM}`,
    ],
    [
      'https://mcp.example.com/mcp#frag',
      `https://mcp.example.com${PRM}/mcp`,
      `https://mcp.example.com${PRM}`,
    ],
  ])('%s', (resource, pathInserted, root) => {
    expect(prmWellKnownUrls(resource)).toEqual(pathInserted ? { pathInserted, root } : { root });
  });
});

describe('asWellKnownUrls: requirements §4.3 table and §4.4 order', () => {
  const OAS = '/.well-known/oauth-authorization-server';
  const OIDC = '/.well-known/openid-configuration';
  it.each([
    ['https://auth.example.com', [`https://auth.example.com${OAS}`, `https://auth.example.com${OIDC}`]],
    [
      'https://auth.example.com/tenant1',
      [
        `https://auth.example.com${OAS}/tenant1`,
        `https://auth.example.com${OIDC}/tenant1`,
        `https://auth.example.com/tenant1${OIDC}`,
      ],
    ],
    [
      'https://auth.example.com/tenant1/',
      [
        `https://auth.example.com${OAS}/tenant1`,
        `https://auth.example.com${OIDC}/tenant1`,
        `https://auth.example.com/tenant1${OIDC}`,
      ],
    ],
    [
      'https://login.example.com/realms/mcp',
      [
        `https://login.example.com${OAS}/realms/mcp`,
        `https://login.example.com${OIDC}/realms/mcp`,
        `https://login.example.com/realms/mcp${OIDC}`,
      ],
    ],
  ])('%s (2025-11-25 and 2026-07-28)', (issuer, urls) => {
    for (const rev of ['2025-11-25', '2026-07-28'] as const) {
      expect(asWellKnownUrls(issuer, rev).map((u) => u.url)).toEqual(urls);
    }
  });

  it('variants are named in order', () => {
    expect(asWellKnownUrls('https://a.example/t', '2026-07-28').map((u) => u.variant)).toEqual([
      'oauth-insert',
      'oidc-insert',
      'oidc-append',
    ]);
  });

  it('2025-06-18 tries RFC 8414 only', () => {
    expect(asWellKnownUrls('https://auth.example.com/tenant1', '2025-06-18')).toEqual([
      { variant: 'oauth-insert', url: `https://auth.example.com${OAS}/tenant1` },
    ]);
  });
});

describe('discoverProtectedResource against a loopback server', () => {
  let stub: StubServer | undefined;
  let http: HttpRecorder | undefined;
  afterEach(async () => {
    await stub?.close();
    await http?.close();
    stub = undefined;
    http = undefined;
  });

  /** A server whose MCP endpoint answers 401 with `challenge` ({origin} filled in), and PRM at the given paths. */
  async function setup(opts: { challenge?: string; prmAt: Record<string, number | 'html' | 'array'> }) {
    stub = await startStub((req, res) => {
      if (req.method === 'POST' && req.path === '/mcp') {
        const challenge = opts.challenge?.replace('{origin}', stub!.origin);
        res.writeHead(401, challenge ? { 'www-authenticate': challenge } : {});
        res.end();
        return;
      }
      const how = opts.prmAt[req.path];
      if (how === undefined) return json(res, 404, { error: 'not_found' });
      if (how === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>login</html>');
        return;
      }
      if (how === 'array') return json(res, 200, []);
      json(res, how, { resource: `${stub!.origin}/mcp`, authorization_servers: [stub!.origin] });
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
    const probe = () => http!.request(`${stub!.origin}/mcp`, { method: 'POST', json: {} });
    return { mcpUrl: `${stub.origin}/mcp`, probe };
  }

  it('uses resource_metadata from the challenge first', async () => {
    const { mcpUrl, probe } = await setup({
      challenge: 'Bearer resource_metadata="{origin}/custom/prm"',
      prmAt: { '/custom/prm': 200 },
    });
    const result = await discoverProtectedResource(http!, mcpUrl, '2026-07-28', probe);
    expect(result.challenge?.resourceMetadata).toBe(`${stub!.origin}/custom/prm`);
    expect(result.challenge?.status).toBe(401);
    expect(result.source).toBe('header');
    expect(result.prm?.resource).toBe(mcpUrl);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ status: 200 });
    expect(stub!.requests.at(-1)?.headers['mcp-protocol-version']).toBe('2026-07-28');
  });

  it('falls back on 404, then on a non-JSON 200, and stops at the first JSON object (A6)', async () => {
    const { mcpUrl, probe } = await setup({
      challenge: 'Bearer scope="x"',
      prmAt: {
        '/.well-known/oauth-protected-resource/mcp': 'html',
        '/.well-known/oauth-protected-resource': 200,
      },
    });
    const result = await discoverProtectedResource(http!, mcpUrl, '2025-11-25', probe);
    expect(result.challenge?.resourceMetadata).toBeUndefined();
    expect(result.source).toBe('root');
    expect(result.attempts.map((a) => [new URL(a.url).pathname, a.status])).toEqual([
      ['/.well-known/oauth-protected-resource/mcp', 200],
      ['/.well-known/oauth-protected-resource', 200],
    ]);
    expect(result.attempts[0]!.error).toMatch(/not a JSON object/);
  });

  it('a header URL that fails falls back to the well-known URLs (2025-11-25+)', async () => {
    const { mcpUrl, probe } = await setup({
      challenge: 'Bearer resource_metadata="{origin}/gone"',
      prmAt: { '/.well-known/oauth-protected-resource/mcp': 200 },
    });
    const result = await discoverProtectedResource(http!, mcpUrl, '2026-07-28', probe);
    expect(result.attempts.map((a) => a.status)).toEqual([404, 200]);
    expect(result.source).toBe('path-inserted');
  });

  it('2025-06-18 defines no fallback: without the header nothing else is tried', async () => {
    const { mcpUrl, probe } = await setup({ prmAt: { '/.well-known/oauth-protected-resource/mcp': 200 } });
    const result = await discoverProtectedResource(http!, mcpUrl, '2025-06-18', probe);
    expect(result.attempts).toEqual([]);
    expect(result.prm).toBeUndefined();
    expect(result.challenge?.wwwAuthenticate).toEqual([]);
  });

  it('records every miss when nothing is found, including a JSON array and a 500', async () => {
    const { mcpUrl, probe } = await setup({
      prmAt: {
        '/.well-known/oauth-protected-resource/mcp': 'array',
        '/.well-known/oauth-protected-resource': 500,
      },
    });
    const result = await discoverProtectedResource(http!, mcpUrl, '2026-07-28', probe);
    expect(result.prm).toBeUndefined();
    expect(result.source).toBeUndefined();
    expect(result.attempts.map((a) => a.status)).toEqual([200, 500]);
    expect(result.attempts.every((a) => a.exchangeId?.startsWith('x'))).toBe(true);
  });

  it('a forbidden origin named by the header is an attempt with an error, then the fallback', async () => {
    const { mcpUrl, probe } = await setup({
      challenge: 'Bearer resource_metadata="http://127.0.0.2:9/prm"',
      prmAt: { '/.well-known/oauth-protected-resource/mcp': 200 },
    });
    const result = await discoverProtectedResource(http!, mcpUrl, '2026-07-28', probe);
    expect(result.attempts[0]!.error).toMatch(/forbidden-origin/);
    expect(result.source).toBe('path-inserted');
  });
});

describe('discoverAuthorizationServer against a loopback server', () => {
  let stub: StubServer | undefined;
  let http: HttpRecorder | undefined;
  afterEach(async () => {
    await stub?.close();
    await http?.close();
    stub = undefined;
  });

  async function serveAt(path: string, issuerOverride?: string) {
    stub = await startStub((req, res) => {
      if (req.path === path) return json(res, 200, { issuer: issuerOverride ?? `${stub!.origin}/tenant1` });
      json(res, 404, {});
    });
    http = new HttpRecorder({ allowedOrigins: [stub.origin] });
  }

  it('walks OAuth insert, OIDC insert, OIDC append in order', async () => {
    await serveAt('/tenant1/.well-known/openid-configuration');
    const issuer = `${stub!.origin}/tenant1`;
    const result = await discoverAuthorizationServer(http!, issuer, '2026-07-28');
    expect(stub!.requests.map((r) => r.path)).toEqual([
      '/.well-known/oauth-authorization-server/tenant1',
      '/.well-known/openid-configuration/tenant1',
      '/tenant1/.well-known/openid-configuration',
    ]);
    expect(result.variant).toBe('oidc-append');
    expect(result.issuerMatches).toBe(true);
    expect(result.attempts.map((a) => a.status)).toEqual([404, 404, 200]);
  });

  it('stops at the first 200 JSON even when its issuer does not match (A6), and says so', async () => {
    await serveAt('/.well-known/oauth-authorization-server/tenant1', 'https://elsewhere.example');
    const result = await discoverAuthorizationServer(http!, `${stub!.origin}/tenant1`, '2025-11-25');
    expect(result.variant).toBe('oauth-insert');
    expect(result.issuerMatches).toBe(false);
    expect(stub!.requests).toHaveLength(1);
  });

  it('an issuer that is not a URL is reported, not thrown', async () => {
    await serveAt('/x');
    const result = await discoverAuthorizationServer(http!, 'not a url', '2026-07-28');
    expect(result.metadata).toBeUndefined();
    expect(result.attempts[0]!.error).toMatch(/not an absolute URL/);
  });
});
