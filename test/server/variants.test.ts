// Every variant of the reference server (reference-server/variants.ts) really changes the behaviour
// it names: each test shows the variant's behaviour on a server with it, and (where the difference
// is the point) the default behaviour on a server without it. The variant matrix
// (test/matrix/variant-matrix.test.ts) then shows that no check fails any of them.

import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { serve } from '../../cli/serve.ts';
import { RATE_LIMIT_BURST } from '../../reference-server/as/rate-limit.ts';
import { TOKENS_PER_KEY } from '../../reference-server/as/tokens.ts';
import type { ReferenceServerOptions } from '../../reference-server/server.ts';
import { TENANT_PATH } from '../../reference-server/server.ts';
import { VARIANTS } from '../../reference-server/variants.ts';
import {
  authorize,
  get,
  getCode,
  getTokens,
  type Harness,
  post as asPost,
  publishDoc,
  redeem,
  refresh,
  register,
  registerRaw,
  revoke,
  startAs,
  startDocHost,
  tokenRequest,
} from '../as/helpers.ts';
import { challengeParams, post, send, startTestServer } from '../rs/helpers.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function server(options: ReferenceServerOptions = {}): Promise<Harness> {
  const h = await startAs(options);
  open.push(h);
  return h;
}

/** tools/list (2026-07-28) with the token: its HTTP status. */
const listStatus = async (h: Harness, token: string) =>
  (await post(h.resource, '2026-07-28', 'tools/list', { token })).status;

describe('the variant catalogue', () => {
  it('names each variant in kebab-case with a description and the sentences that make it legal', () => {
    expect(VARIANTS.length).toBeGreaterThanOrEqual(11);
    for (const v of VARIANTS) {
      expect(v.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(v.description).toMatch(/^[^\n]+\.$/);
      expect(v.spec.length, v.name).toBeGreaterThan(0);
      for (const s of v.spec) expect(s.text.length, `${v.name}: ${s.source}`).toBeGreaterThan(20);
    }
  });

  it('serve --list-variants prints [{ name, description, spec }] as JSON', async () => {
    const out: string[] = [];
    const code = await serve(['--list-variants'], { out: (l) => out.push(l), err: () => undefined });
    expect(code).toBe(0);
    const listing = JSON.parse(out.join('\n')) as { name: string; description: string; spec: unknown[] }[];
    expect(listing.map((v) => v.name)).toEqual(VARIANTS.map((v) => v.name));
    for (const v of listing) expect(Object.keys(v).sort()).toEqual(['description', 'name', 'spec']);
  });

  it('refuses an unknown variant, at start and on the command line', async () => {
    await expect(startAs({ variants: ['no-such-variant'] })).rejects.toThrow(
      /unknown variant: no-such-variant/,
    );
    const err: string[] = [];
    const code = await serve(['--variant', 'no-such-variant'], {
      out: () => undefined,
      err: (l) => err.push(l),
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/unknown variant/);
  });
});

describe('revoke-earlier-grants', () => {
  it('a later authorization makes the earlier token, refresh token and unredeemed code fail', async () => {
    const h = await server({ variants: ['revoke-earlier-grants'] });
    const client = await register(h);
    const first = await getTokens(h, client);
    expect(await listStatus(h, first.access_token)).toBe(200);

    const pendingCode = await getCode(h, client); // a second authorization completes
    expect(await listStatus(h, first.access_token)).toBe(401);
    expect((await refresh(h, client, first.refresh_token)).json?.error).toBe('invalid_grant');

    const third = await getTokens(h, client); // and a third one: the second's code dies unredeemed
    expect((await redeem(h, client, pendingCode)).json?.error).toBe('invalid_grant');
    expect(await listStatus(h, third.access_token)).toBe(200);
  });

  it('leaves the grants of another client and of another user alone', async () => {
    const h = await server({ variants: ['revoke-earlier-grants'] });
    const client = await register(h);
    const other = await register(h);
    const mine = await getTokens(h, client);
    const bobs = await getTokens(h, client, { login_hint: 'bob' });
    await getTokens(h, other);
    expect(await listStatus(h, mine.access_token)).toBe(200);
    expect(await listStatus(h, bobs.access_token)).toBe(200);
  });

  it('is off by default: both grants live', async () => {
    const h = await server();
    const client = await register(h);
    const first = await getTokens(h, client);
    await getTokens(h, client);
    expect(await listStatus(h, first.access_token)).toBe(200);
  });
});

describe('opaque-tokens', () => {
  it('issues opaque access tokens that the resource server introspects, and refuses once revoked', async () => {
    const h = await server({ variants: ['opaque-tokens'] });
    const client = await register(h);
    const tokens = await getTokens(h, client);
    expect(() => decodeProtectedHeader(tokens.access_token)).toThrow();
    expect(tokens.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await listStatus(h, tokens.access_token)).toBe(200);
    expect((await revoke(h, client, tokens.access_token)).status).toBe(200);
    expect(await listStatus(h, tokens.access_token)).toBe(401);
  });

  it('advertises the introspection endpoint, which requires the resource server to authenticate', async () => {
    const h = await server({ variants: ['opaque-tokens'] });
    const metadata = (await get(h, '/.well-known/oauth-authorization-server')).json!;
    expect(metadata.introspection_endpoint).toBe(`${h.issuer}/introspect`);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const anonymous = await asPost(h, '/introspect', 'token=x', form);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = await asPost(h, '/introspect', 'token=x', {
      ...form,
      authorization: `Basic ${Buffer.from('mcp-resource-server:guess').toString('base64')}`,
    });
    expect(wrong.status).toBe(401);
  });

  it('refuses a JWT signed with its signing key: the resource server accepts no self-contained token', async () => {
    const opaque = await startTestServer({ variants: ['opaque-tokens'] });
    open.push(opaque);
    expect(opaque.tokensForgeable).toBe(false);
    expect((await post(opaque.url, '2026-07-28', 'tools/list', { token: await opaque.mint() })).status).toBe(
      401,
    );
    const plain = await startTestServer();
    open.push(plain);
    expect(plain.tokensForgeable).toBe(true);
    expect((await post(plain.url, '2026-07-28', 'tools/list', { token: await plain.mint() })).status).toBe(
      200,
    );
  });
});

describe('scope-required', () => {
  it('refuses an authorization request without scope with invalid_scope, and grants one with it', async () => {
    const h = await server({ variants: ['scope-required'] });
    const client = await register(h);
    const without = await authorize(h, client, { scope: undefined });
    expect(without.location?.searchParams.get('error')).toBe('invalid_scope');
    expect((await authorize(h, client)).location?.searchParams.get('code')).toBeTruthy();
  });

  it('names no scope in the 401 challenge nor in the protected-resource metadata; the AS still lists scopes_supported', async () => {
    const h = await server({ variants: ['scope-required'] });
    const anonymous = await post(h.resource, '2026-07-28', 'tools/list');
    expect(anonymous.status).toBe(401);
    const params = challengeParams(anonymous.challenge)!;
    expect(params.resource_metadata).toBeDefined();
    expect(params.scope).toBeUndefined();
    const prm = await send(params.resource_metadata!, { method: 'GET' });
    expect(prm.json).toBeDefined();
    expect(prm.json!.scopes_supported).toBeUndefined();
    const metadata = (await get(h, '/.well-known/oauth-authorization-server')).json!;
    expect(metadata.scopes_supported).toEqual(['mcp:tools', 'mcp:write', 'mcp:admin']);
  });

  it('is off by default: no scope means the default scope', async () => {
    const h = await server();
    const client = await register(h);
    expect(
      (await authorize(h, client, { scope: undefined })).location?.searchParams.get('code'),
    ).toBeTruthy();
  });
});

describe('no-refresh-tokens', () => {
  it('issues no refresh token, advertises only authorization_code, and refuses the refresh grant', async () => {
    const h = await server({ variants: ['no-refresh-tokens'] });
    const registered = await registerRaw(h, {
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(registered.status).toBe(201);
    expect(registered.json!.grant_types).toEqual(['authorization_code']);
    const client = registered.json as { client_id: string; redirect_uris: string[] };
    const tokens = await getTokens(h, client);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
    const metadata = (await get(h, '/.well-known/oauth-authorization-server')).json!;
    expect(metadata.grant_types_supported).toEqual(['authorization_code']);
    const refreshed = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: 'made-up',
      client_id: client.client_id,
    });
    expect(refreshed.json?.error).toBe('unsupported_grant_type');
  });
});

describe('path-issuer', () => {
  it('has an issuer with a path and serves its metadata at the path-inserted well-known URLs only', async () => {
    const h = await server({ variants: ['path-issuer'] });
    const origin = new URL(h.issuer).origin;
    expect(h.issuer).toBe(`${origin}${TENANT_PATH}`);
    for (const path of [
      `/.well-known/oauth-authorization-server${TENANT_PATH}`,
      `/.well-known/openid-configuration${TENANT_PATH}`,
      `${TENANT_PATH}/.well-known/openid-configuration`,
    ]) {
      const doc = await send(`${origin}${path}`, { method: 'GET' });
      expect(doc.status, path).toBe(200);
      expect(doc.json?.issuer, path).toBe(h.issuer);
    }
    expect((await send(`${origin}/.well-known/oauth-authorization-server`, { method: 'GET' })).status).toBe(
      404,
    );
    expect((await send(`${origin}/token`, { method: 'POST' })).status).toBe(404);
  });

  it('runs a whole flow under the path; tokens name the issuer with its path; PRM names it too', async () => {
    const h = await server({ variants: ['path-issuer'] });
    const metadata = (
      await send(`${new URL(h.issuer).origin}/.well-known/oauth-authorization-server${TENANT_PATH}`, {
        method: 'GET',
      })
    ).json!;
    expect(metadata.token_endpoint).toBe(`${h.issuer}/token`);
    const client = await register(h);
    const tokens = await getTokens(h, client);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as {
      iss: string;
    };
    expect(claims.iss).toBe(h.issuer);
    expect(await listStatus(h, tokens.access_token)).toBe(200);
    const prm = challengeParams((await post(h.resource, '2026-07-28', 'tools/list')).challenge)!;
    expect((await send(prm.resource_metadata!, { method: 'GET' })).json?.authorization_servers).toEqual([
      h.issuer,
    ]);
  });
});

describe('cimd-ssrf-guard', () => {
  it('never fetches a loopback document, even with the loopback dev flag; without the variant it does', async () => {
    const docs = await startDocHost();
    open.push(docs);
    const guarded = await server({ variants: ['cimd-ssrf-guard'], allowLoopbackCimd: true });
    const metadata = (await get(guarded, '/.well-known/oauth-authorization-server')).json!;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
    const client = publishDoc(docs, '/client.json');
    const refused = await authorize(guarded, client);
    expect(refused.status).toBe(400);
    expect(refused.location).toBeUndefined();
    expect(docs.hits).toEqual([]);

    const plain = await server({ allowLoopbackCimd: true });
    expect((await authorize(plain, client)).location?.searchParams.get('code')).toBeTruthy();
    expect(docs.hits).toEqual(['/client.json']);
  });
});

describe('consent-every-time', () => {
  it('shows the consent page on every authorization, even with auto-approve', async () => {
    const h = await server({ variants: ['consent-every-time'], autoApprove: true });
    const client = await register(h);
    for (let i = 0; i < 2; i++) {
      const page = await authorize(h, client);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toContain('name="password"');
    }
  });
});

describe('rate-limited', () => {
  it('answers 429 with Retry-After past a small burst on /token, not on the MCP endpoint', async () => {
    const h = await server({ variants: ['rate-limited'] });
    const replies = await Promise.all(
      Array.from({ length: RATE_LIMIT_BURST * 3 }, () =>
        tokenRequest(h, { grant_type: 'authorization_code', code: 'x', client_id: 'y' }),
      ),
    );
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    const mcp = await Promise.all(
      Array.from({ length: RATE_LIMIT_BURST * 3 }, () => post(h.resource, '2026-07-28', 'tools/list')),
    );
    expect(mcp.every((r) => r.status === 401)).toBe(true);
  });

  it('is off by default', async () => {
    const h = await server();
    const replies = await Promise.all(
      Array.from({ length: RATE_LIMIT_BURST * 3 }, () =>
        tokenRequest(h, { grant_type: 'authorization_code', code: 'x', client_id: 'y' }),
      ),
    );
    expect(replies.some((r) => r.status === 429)).toBe(false);
  });
});

describe('jwks-rotation', () => {
  it('rotates the signing key mid-run, publishes the new kid, and keeps the old tokens valid', async () => {
    const h = await server({ variants: ['jwks-rotation'] });
    const client = await register(h);
    const tokens = [];
    for (let i = 0; i <= TOKENS_PER_KEY; i++) tokens.push((await getTokens(h, client)).access_token);
    const kids = tokens.map((t) => decodeProtectedHeader(t).kid);
    expect(new Set(kids).size).toBe(2);
    const jwks = (await get(h, '/jwks')).json as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([...new Set(kids)].sort());
    expect(await listStatus(h, tokens[0]!)).toBe(200);
    expect(await listStatus(h, tokens[tokens.length - 1]!)).toBe(200);
  });
});

describe('public-handshake', () => {
  it('answers initialize and tools/list without a token, and nothing else', async () => {
    const h = await server({ variants: ['public-handshake'] });
    expect((await post(h.resource, '2025-11-25', 'initialize')).status).toBe(200);
    expect((await post(h.resource, '2026-07-28', 'tools/list')).status).toBe(200);
    const call = await post(h.resource, '2026-07-28', 'tools/call', {
      params: { name: 'echo', arguments: { text: 'hi' } },
    });
    expect(call.status).toBe(401);
    const plain = await server();
    expect((await post(plain.resource, '2026-07-28', 'tools/list')).status).toBe(401);
  });
});

describe('root-prm-origin-resource', () => {
  it('serves MCP at the origin, with its metadata at the root well-known URL', async () => {
    const h = await server({ variants: ['root-prm-origin-resource'] });
    const origin = new URL(h.resource).origin;
    expect(h.resource).toBe(origin);
    const anonymous = await post(`${origin}/`, '2026-07-28', 'tools/list');
    expect(anonymous.status).toBe(401);
    const metadataUrl = challengeParams(anonymous.challenge)!.resource_metadata;
    expect(metadataUrl).toBe(`${origin}/.well-known/oauth-protected-resource`);
    expect((await send(metadataUrl!, { method: 'GET' })).json?.resource).toBe(origin);
    expect((await send(`${origin}/.well-known/oauth-protected-resource/mcp`, { method: 'GET' })).status).toBe(
      404,
    );
    expect((await post(`${origin}/mcp`, '2026-07-28', 'tools/list')).status).toBe(404);
    const client = await register(h);
    const tokens = await getTokens(h, client);
    expect(await listStatus(h, tokens.access_token)).toBe(200);
  });
});

describe('run --variant', () => {
  const io = (lines: string[]) => ({
    out: (t: string) => lines.push(t),
    err: (t: string) => lines.push(t),
    isTTY: false,
    env: {},
    cwd: process.cwd(),
  });

  it('refuses an unknown variant and a variant with --target (bad usage, exit 2)', async () => {
    const { main } = await import('../../cli/main.ts');
    const unknown: string[] = [];
    expect(await main(['run', '--variant', 'no-such-variant'], io(unknown))).toBe(2);
    expect(unknown.join('')).toMatch(/unknown variant no-such-variant.*serve --list-variants/);
    const withTarget: string[] = [];
    expect(
      await main(['run', '--variant', 'opaque-tokens', '--target', 'http://127.0.0.1:1/mcp'], io(withTarget)),
    ).toBe(2);
    expect(withTarget.join('')).toMatch(/--variant .* cannot be combined with --target/);
  });
});
