// --trust-issuer: the reference resource server paired with an external authorization server,
// found through its metadata (RFC 8414, then OpenID discovery) and trusted through its JWKS.
// The "external" server is a few lines of node:http on loopback.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceServer } from '../../reference-server/server.ts';
import { post, send, startTestServer, type TestServer } from './helpers.ts';

interface FakeAs {
  issuer: string;
  sign(claims: Record<string, unknown>): Promise<string>;
  hits: string[];
  close(): Promise<void>;
}

/** An external AS with issuer `<origin>/tenant`, publishing metadata at `wellKnown` and a JWKS. */
async function startFakeAs(wellKnown: 'oauth' | 'oidc' | 'wrong-issuer'): Promise<FakeAs> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'ext-1', alg: 'ES256', use: 'sig' };
  const hits: string[] = [];
  let issuer = '';
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const metadataPath =
      wellKnown === 'oidc'
        ? '/.well-known/openid-configuration/tenant'
        : '/.well-known/oauth-authorization-server/tenant';
    if (req.url === metadataPath) {
      const body = {
        issuer: wellKnown === 'wrong-issuer' ? `${issuer}/` : issuer,
        jwks_uri: `${issuer}/jwks`,
      };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    } else if (req.url === '/tenant/jwks') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tenant`;
  return {
    issuer,
    hits,
    sign: (claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'ext-1' }).sign(privateKey),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const now = () => Math.floor(Date.now() / 1000);

describe('trusting an external authorization server', () => {
  let as: FakeAs;
  let s: TestServer;
  beforeAll(async () => {
    as = await startFakeAs('oauth');
    s = await startTestServer({ trustIssuer: as.issuer });
  });
  afterAll(async () => {
    await s?.close();
    await as?.close();
  });

  const claims = () => ({
    iss: as.issuer,
    sub: 'carol',
    aud: s.url,
    client_id: 'ext-client',
    scope: 'mcp:tools',
    iat: now(),
    exp: now() + 600,
  });

  it('names the external issuer in the metadata', async () => {
    const prm = await send(s.prmUrl, { method: 'GET' });
    expect(prm.json?.authorization_servers).toEqual([as.issuer]);
  });

  it('accepts tokens signed with the external JWKS, fetched once and cached', async () => {
    const token = await as.sign(claims());
    expect((await post(s.url, '2026-07-28', 'tools/list', { token })).status).toBe(200);
    expect((await post(s.url, '2026-07-28', 'tools/list', { token })).status).toBe(200);
    expect(as.hits.filter((h) => h === '/tenant/jwks')).toHaveLength(1);
  });

  it('rejects tokens of the bundled authorization server and tokens with the wrong issuer', async () => {
    expect((await post(s.url, '2026-07-28', 'tools/list', { token: await s.mint() })).status).toBe(401);
    const wrongIss = await as.sign({ ...claims(), iss: s.issuer });
    expect((await post(s.url, '2026-07-28', 'tools/list', { token: wrongIss })).status).toBe(401);
  });
});

describe('discovery of the external issuer', () => {
  it('falls back to OpenID discovery (path-inserted) when RFC 8414 metadata is absent', async () => {
    const as = await startFakeAs('oidc');
    const s = await startReferenceServer({ trustIssuer: as.issuer });
    try {
      expect(as.hits).toEqual([
        '/.well-known/oauth-authorization-server/tenant',
        '/.well-known/openid-configuration/tenant',
      ]);
    } finally {
      await s.close();
      await as.close();
    }
  });

  it('refuses to start when the metadata names another issuer (RFC 8414 §3.3)', async () => {
    const as = await startFakeAs('wrong-issuer');
    try {
      await expect(startReferenceServer({ trustIssuer: as.issuer })).rejects.toThrow(
        /cannot discover the keys/,
      );
    } finally {
      await as.close();
    }
  });
});

describe('when the external JWKS cannot be fetched', () => {
  it('answers 503 temporarily_unavailable (our outage), not 401 or 500', async () => {
    const as = await startFakeAs('oauth');
    const s = await startTestServer({ trustIssuer: as.issuer });
    try {
      const token = await as.sign({
        iss: as.issuer,
        sub: 'carol',
        aud: s.url,
        client_id: 'c',
        iat: now(),
        exp: now() + 600,
      });
      await as.close(); // discovery happened at start; the JWKS was never fetched
      const reply = await post(s.url, '2026-07-28', 'tools/list', { token });
      expect(reply.status).toBe(503);
      expect(reply.json?.error).toBe('temporarily_unavailable');
    } finally {
      await s.close();
    }
  });
});

describe('--split', () => {
  it('names the authorization server on its own origin and still verifies its tokens in process', async () => {
    const s = await startTestServer({ split: true });
    try {
      expect(new URL(s.issuer).origin).not.toBe(s.origin);
      expect((await send(s.prmUrl, { method: 'GET' })).json?.authorization_servers).toEqual([s.issuer]);
      expect((await post(s.url, '2026-07-28', 'tools/list', { token: await s.mint() })).status).toBe(200);
      // The AS paths are not served on the resource origin in split mode.
      expect(
        (await send(`${s.origin}/.well-known/oauth-authorization-server`, { method: 'GET' })).status,
      ).toBe(404);
    } finally {
      await s.close();
    }
  });
});
