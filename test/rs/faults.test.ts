// Every RS fault really changes the behaviour it names.
//
// Each row is a probe that answers "does the server conform here?". It must answer true on a
// clean server and false on a server with only that fault switched on. The table must cover the
// whole RS catalogue, and each fault must be read in exactly one place of reference-server/rs.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RS_FAULTS } from '../../reference-server/rs/faults.ts';
import { getTokens, type Harness, register, revoke } from '../as/helpers.ts';
import {
  b64json,
  challengeParams,
  foreignKey,
  openSession,
  post,
  postWithAuthorizationLines,
  type Reply,
  send,
  startTestServer,
  type TestServer,
} from './helpers.ts';

type Probe = (s: TestServer) => Promise<boolean>;

/** The test server as the AS helpers see it (a real authorization flow for opaque tokens). */
const asHarness = (s: TestServer): Harness => ({
  server: s,
  issuer: s.issuer,
  resource: s.url,
  close: () => s.close(),
});

const now = () => Math.floor(Date.now() / 1000);
const prm = (s: TestServer) => send(s.prmUrl, { method: 'GET' });
const prmJson = async (s: TestServer) => (await prm(s)).json ?? {};
const anonymous = (s: TestServer) => post(s.url, '2026-07-28', 'tools/list');
const anonymousParams = async (s: TestServer) => challengeParams((await anonymous(s)).challenge) ?? {};
const listWith = (s: TestServer, token: string) => post(s.url, '2026-07-28', 'tools/list', { token });
const rejects401 = async (s: TestServer, token: Promise<string>) =>
  (await listWith(s, await token)).status === 401;
const accepts = async (s: TestServer, token: Promise<string>) =>
  (await listWith(s, await token)).status === 200;
const writeNote = async (s: TestServer, scope: string | undefined): Promise<Reply> =>
  post(s.url, '2026-07-28', 'tools/call', {
    token: await s.mint({ claims: { scope } }),
    params: { name: 'write_note', arguments: { text: 'hello' } },
  });
/** read_my_notes (2026-07-28 multi-round-trip): round 1 as alice, then the retry with `who`'s token. */
const replayNotesState = async (s: TestServer, who: string): Promise<Reply> => {
  const round = (token: string, extra: Record<string, unknown>) =>
    send(s.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'read_my_notes',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'read_my_notes',
          arguments: {},
          ...extra,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'rs-tests', version: '1.0.0' },
            'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
          },
        },
      }),
    });
  const first = await round(await s.mint({ claims: { sub: 'alice' } }), {});
  const requestState = (first.json?.result as { requestState?: string } | undefined)?.requestState;
  return round(await s.mint({ claims: { sub: who } }), {
    requestState,
    inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
  });
};
const resourceIs = async (s: TestServer) => (await prmJson(s)).resource === s.url;

const PROBES: Record<string, Probe> = {
  // Protected-resource metadata
  'rs-prm-missing': async (s) => (await prm(s)).status === 200,
  'rs-prm-requires-auth': async (s) => (await prm(s)).status === 200,
  'rs-prm-wrong-content-type': async (s) => (await prm(s)).headers.get('content-type') === 'application/json',
  'rs-prm-resource-mismatch': resourceIs,
  'rs-prm-resource-prefix': resourceIs,
  'rs-prm-resource-trailing-slash': resourceIs,
  'rs-prm-resource-uppercase-host': resourceIs,
  'rs-prm-resource-fragment': resourceIs,
  'rs-prm-resource-missing': resourceIs,
  'rs-prm-no-authorization-servers': async (s) =>
    JSON.stringify((await prmJson(s)).authorization_servers) === JSON.stringify([s.issuer]),
  'rs-prm-issuer-trailing-slash': async (s) =>
    JSON.stringify((await prmJson(s)).authorization_servers) === JSON.stringify([s.issuer]),
  'rs-prm-empty-member': async (s) =>
    Object.values(await prmJson(s)).every(
      (v) => v !== '' && v !== null && !(Array.isArray(v) && v.length === 0),
    ),
  'rs-prm-no-scopes-supported': async (s) => Array.isArray((await prmJson(s)).scopes_supported),
  'rs-prm-offline-access': async (s) =>
    !((await prmJson(s)).scopes_supported as string[]).includes('offline_access'),
  'rs-prm-bearer-query': async (s) =>
    !((await prmJson(s)).bearer_methods_supported as string[]).includes('query'),
  'rs-prm-signing-alg-none': async (s) =>
    !(((await prmJson(s)).resource_signing_alg_values_supported as string[] | undefined) ?? []).includes(
      'none',
    ),
  'rs-prm-root-names-endpoint': async (s) =>
    (await send(`${s.origin}/.well-known/oauth-protected-resource`, { method: 'GET' })).status === 404,
  'rs-403-metadata-url-broken': async (s) => {
    const url = challengeParams((await writeNote(s, 'mcp:tools')).challenge)?.resource_metadata;
    return url !== undefined && (await send(url, { method: 'GET' })).status === 200;
  },

  // 401 challenges and token validation
  'rs-auth-disabled': async (s) => (await anonymous(s)).status === 401,
  'rs-401-no-challenge': async (s) => (await anonymous(s)).challenge !== null,
  'rs-challenge-bare-bearer': async (s) => Object.keys(await anonymousParams(s)).length > 0,
  'rs-challenge-no-resource-metadata': async (s) => (await anonymousParams(s)).resource_metadata === s.prmUrl,
  'rs-challenge-unquoted': async (s) =>
    ((await anonymous(s)).challenge ?? '').includes(`resource_metadata="${s.prmUrl}"`),
  'rs-challenge-duplicate-param': async (s) =>
    ((await anonymous(s)).challenge ?? '').match(/scope=/g)?.length === 1,
  'rs-anonymous-error': async (s) => (await anonymousParams(s)).error === undefined,
  'rs-challenge-no-scope': async (s) => (await anonymousParams(s)).scope !== undefined,
  'rs-challenge-offline-access': async (s) =>
    !((await anonymousParams(s)).scope ?? '').includes('offline_access'),
  'rs-bad-token-500': async (s) => (await listWith(s, 'abc')).status === 401,
  'rs-bad-token-403': (s) => rejects401(s, s.mint({ claims: { exp: now() - 600 } })),
  'rs-expired-accepted': (s) => rejects401(s, s.mint({ claims: { exp: now() - 600, iat: now() - 1200 } })),
  'rs-nbf-ignored': (s) => rejects401(s, s.mint({ claims: { nbf: now() + 3600 } })),
  'rs-signature-not-checked': async (s) => {
    const [h, p, sig] = (await s.mint()).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    return rejects401(s, Promise.resolve(`${h}.${b64json({ ...claims, sub: 'mallory' })}.${sig}`));
  },
  'rs-alg-none-accepted': async (s) => {
    const [, p] = (await s.mint()).split('.');
    return rejects401(s, Promise.resolve(`${b64json({ alg: 'none', typ: 'at+jwt' })}.${p}.`));
  },
  'rs-embedded-jwk-accepted': async (s) => {
    const attacker = await foreignKey();
    return rejects401(
      s,
      s.mint({ key: attacker.privateKey, header: { kid: undefined, jwk: attacker.publicJwk } }),
    );
  },
  'rs-algorithm-confusion': async (s) => {
    // Both secrets an attacker tries: the SPKI PEM text, and the public JWK as JSON (as runner/mint.ts builds it).
    const { d: _d, ...publicJwk } = s.signingKey;
    const pem = await exportSPKI((await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey);
    const hs256 = (secret: string) =>
      new SignJWT({
        iss: s.issuer,
        sub: 'alice',
        aud: s.url,
        client_id: 'c',
        scope: 'mcp:tools',
        iat: now(),
        exp: now() + 600,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
    // Under the fault BOTH must be accepted (so this is false for either alone).
    const results = [await rejects401(s, hs256(pem)), await rejects401(s, hs256(JSON.stringify(publicJwk)))];
    if (results.every((r) => r)) return true;
    if (results.every((r) => !r)) return false;
    throw new Error(`only one HS256 encoding is honoured: ${JSON.stringify(results)}`);
  },
  'rs-issuer-not-checked': (s) => rejects401(s, s.mint({ claims: { iss: 'https://evil.example' } })),
  'rs-typ-not-checked': (s) => rejects401(s, s.mint({ header: { typ: 'JWT' } })),
  // Needs opaque-tokens (the fault requires it): a revoked opaque token stops working at once.
  'rs-introspection-cached': async (s) => {
    const h = asHarness(s);
    const client = await register(h);
    const tokens = await getTokens(h, client);
    if ((await listWith(s, tokens.access_token)).status !== 200) return false;
    if ((await revoke(h, client, tokens.access_token)).status !== 200) return false;
    return (await listWith(s, tokens.access_token)).status === 401;
  },
  'rs-query-token-accepted': async (s) =>
    (await post(`${s.url}?access_token=${await s.mint()}`, '2026-07-28', 'tools/list')).status === 401,
  'rs-scheme-case-sensitive': async (s) =>
    (
      await post(s.url, '2026-07-28', 'tools/list', {
        headers: { Authorization: `bearer ${await s.mint()}` },
      })
    ).status === 200,
  'rs-non-bearer-400': async (s) => {
    const reply = await post(s.url, '2026-07-28', 'tools/list', {
      headers: { Authorization: 'Basic dXNlcjpwYXNz' },
    });
    return reply.status === 401 && /^Bearer /.test(reply.challenge ?? '');
  },
  'rs-duplicate-authorization-first-wins': async (s) =>
    (await postWithAuthorizationLines(s.url, [`Bearer ${await s.mint()}`, 'Bearer abc'])) === 400,
  'rs-notifications-unauthenticated': async (s) =>
    (await post(s.url, '2025-06-18', 'notifications/initialized', { id: null })).status === 401,

  // Audience
  'rs-audience-not-checked': (s) => rejects401(s, s.mint({ claims: { aud: 'https://other.example/mcp' } })),
  'rs-audience-missing-accepted': (s) => rejects401(s, s.mint({ claims: { aud: undefined } })),
  'rs-audience-array-rejected': (s) =>
    accepts(s, s.mint({ claims: { aud: [s.url, 'https://other.example/mcp'] } })),
  'rs-audience-case-sensitive': (s) =>
    accepts(s, s.mint({ claims: { aud: s.url.replace('http://', 'HTTP://') } })),

  // Scope
  'rs-scope-not-enforced': async (s) => (await writeNote(s, 'mcp:tools')).status === 403,
  'rs-insufficient-scope-401': async (s) => (await writeNote(s, 'mcp:tools')).status === 403,
  'rs-insufficient-scope-jsonrpc': async (s) => (await writeNote(s, 'mcp:tools')).status === 403,
  'rs-insufficient-scope-no-challenge': async (s) =>
    challengeParams((await writeNote(s, 'mcp:tools')).challenge)?.error === 'insufficient_scope',
  'rs-scope-challenge-one-at-a-time': async (s) =>
    challengeParams((await writeNote(s, undefined)).challenge)?.scope === 'mcp:tools mcp:write',
  'rs-scope-challenge-omits-granted': async (s) =>
    challengeParams((await writeNote(s, 'mcp:tools')).challenge)?.scope === 'mcp:tools mcp:write',
  // mcp:admin implies mcp:write (rs/scopes.ts SCOPE_IMPLIES).
  'rs-scope-hierarchy-ignored': async (s) => (await writeNote(s, 'mcp:tools mcp:admin')).status === 200,

  // Transport
  'rs-origin-not-checked': async (s) =>
    (
      await post(s.url, '2026-07-28', 'tools/list', {
        token: await s.mint(),
        headers: { Origin: 'https://evil.example' },
      })
    ).status === 403,
  'rs-protocol-version-not-checked': async (s) => {
    const token = await s.mint();
    const legacy = await post(s.url, '2025-06-18', 'tools/list', {
      token,
      headers: { 'MCP-Protocol-Version': '1999-01-01' },
    });
    return legacy.status === 400;
  },
  'rs-header-mismatch-not-checked': async (s) =>
    (
      await post(s.url, '2026-07-28', 'tools/call', {
        token: await s.mint(),
        params: { name: 'echo', arguments: { text: 'x' } },
        headers: { 'Mcp-Method': 'tools/list' },
      })
    ).status === 400,
  // Clean: the server is dual-era (a 2025 initialize is answered); the switch makes it modern-only.
  'rs-modern-only': async (s) =>
    (await post(s.url, '2025-11-25', 'initialize', { token: await s.mint() })).status === 200,
  // Clean: GET (2025) is 405 (no standalone SSE stream); the fault answers 404.
  'rs-get-404': async (s) =>
    (
      await send(s.url, {
        method: 'GET',
        headers: {
          accept: 'text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          authorization: `Bearer ${await s.mint()}`,
        },
      })
    ).status === 405,
  'rs-modern-session-id': async (s) =>
    (await listWith(s, await s.mint())).headers.get('mcp-session-id') === null,

  // Sessions
  'rs-session-authenticates': async (s) => {
    const id = await openSession(s.url, '2025-06-18', await s.mint());
    return (
      (await post(s.url, '2025-06-18', 'tools/list', { headers: { 'Mcp-Session-Id': id } })).status === 401
    );
  },
  // Clean: bob's token with alice's state is refused (-32602); the fault serves it.
  'rs-request-state-unverified': async (s) =>
    ((await replayNotesState(s, 'bob')).json?.error as { code?: number } | undefined)?.code === -32602,
  'rs-session-not-bound': async (s) => {
    const id = await openSession(s.url, '2025-06-18', await s.mint({ claims: { sub: 'alice' } }));
    const bob = await s.mint({ claims: { sub: 'bob' } });
    return (
      (await post(s.url, '2025-06-18', 'tools/list', { token: bob, headers: { 'Mcp-Session-Id': id } }))
        .status === 404
    );
  },
  'rs-session-id-predictable': async (s) =>
    /^[A-Za-z0-9_-]{43}$/.test(await openSession(s.url, '2025-11-25', await s.mint())),

  // Public-method matrix
  'rs-initialize-public-only': async (s) => {
    const init = await post(s.url, '2025-06-18', 'initialize');
    const initialized = await post(s.url, '2025-06-18', 'notifications/initialized', { id: null });
    // Consistent gating: both answered, or both refused.
    return (init.status === 200) === (initialized.status === 202);
  },
  'rs-catalogue-public': async (s) => (await anonymous(s)).status === 401,
  'rs-tools-call-public': async (s) =>
    (await post(s.url, '2026-07-28', 'tools/call', { params: { name: 'echo', arguments: { text: 'x' } } }))
      .status === 401,

  // Browser clients
  'rs-cors-no-expose': async (s) =>
    (
      (await post(s.url, '2026-07-28', 'tools/list', { headers: { Origin: s.origin } })).headers.get(
        'access-control-expose-headers',
      ) ?? ''
    ).includes('WWW-Authenticate'),
  'rs-cors-preflight-no-authorization': async (s) =>
    (
      (
        await send(s.url, {
          method: 'OPTIONS',
          headers: {
            Origin: s.origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'authorization, content-type',
          },
        })
      ).headers.get('access-control-allow-headers') ?? ''
    )
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes('authorization'),
  'rs-prm-no-cors': async (s) => (await prm(s)).headers.get('access-control-allow-origin') === '*',
};

let clean: TestServer;
beforeAll(async () => {
  clean = await startTestServer();
});
afterAll(async () => {
  await clean?.close();
});

describe('RS fault catalogue', () => {
  it('has a probe for every RS fault and no probe for an unknown one', () => {
    expect(Object.keys(PROBES).sort()).toEqual(RS_FAULTS.map((f) => f.name).sort());
  });

  it('names every fault rs-… in kebab-case, with a one-sentence description', () => {
    for (const f of RS_FAULTS) {
      expect(f.name).toMatch(/^rs-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(f.half).toBe('rs');
      expect(f.description).toMatch(/^[^\n]+\.$/);
    }
    expect(RS_FAULTS.length).toBeGreaterThanOrEqual(35);
  });

  it("reads each fault in exactly one place, as ctx.fault('name')", () => {
    const dir = join(import.meta.dirname, '../../reference-server/rs');
    const source = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && f !== 'faults.ts')
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    for (const f of RS_FAULTS) {
      const count = source.split(`fault('${f.name}')`).length - 1;
      expect(count, f.name).toBe(1);
    }
  });
});

describe.each(RS_FAULTS.map((f) => [f.name, f.requiresVariants ?? []] as const))(
  'fault %s',
  (name, variants) => {
    // A fault that needs variants is compared with a clean server with the same variants.
    let faulty: TestServer;
    let cleanHere: TestServer | undefined;
    beforeAll(async () => {
      const options = variants.length > 0 ? { variants, autoApprove: true } : {};
      faulty = await startTestServer({ ...options, faults: [name] });
      if (variants.length > 0) cleanHere = await startTestServer(options);
    });
    afterAll(async () => {
      await faulty?.close();
      await cleanHere?.close();
    });

    it('conforms without the fault and not with it', async () => {
      const probe = PROBES[name];
      expect(probe, `no probe for ${name}`).toBeDefined();
      expect(await probe!(cleanHere ?? clean), 'clean server').toBe(true);
      expect(await probe!(faulty), 'faulty server').toBe(false);
    });
  },
);
