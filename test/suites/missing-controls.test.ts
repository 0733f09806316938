// The checks that judged a refusal without a control (found while writing each check's `control`
// text, test/matrix/controls.test.ts) now send one, and conclude nothing when it fails: each is run
// through the engine against msw handlers on a loopback server that refuses the probe AND its
// control, with the fixtures stubbed, and must end `skip` with "control failed: …", never pass or
// fail. Where the control is cheap to satisfy, the same check with the control served still
// reaches its verdict.

import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import { type Check, FixtureUnavailable } from '../../runner/check.ts';
import { type CheckResult, runChecks } from '../../runner/engine.ts';
import type { FixtureSource } from '../../runner/fixtures.ts';
import { HttpRecorder } from '../../runner/http.ts';
import type { Revision } from '../../runner/revisions.ts';
import { CHECKS } from '../../suites/index.ts';
import { type MswServer, startMswServer } from '../helpers/msw-server.ts';

const byId = (id: string): Check => {
  const check = CHECKS.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
};

let server: MswServer | undefined;
let recorder: HttpRecorder | undefined;
afterEach(async () => {
  await recorder?.close();
  await server?.close();
  server = undefined;
  recorder = undefined;
});

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const CLIENT = { clientId: 'test-client', authMethod: 'none' as const, redirectUris: [REDIRECT_URI] };

interface Setup {
  /** Fixture values by name; the origin of the msw server is passed in. */
  fixtures: (origin: string) => Record<string, unknown>;
  /** A fresh authorization for `scope`: the tokens it yields. */
  grant?: (scope: string | undefined) => { accessToken: string; scope?: string; refreshToken?: string };
  revision: Revision;
  scopeImplies?: Record<string, string[]>;
}

/** Runs one check against `handlers`, with the fixtures `setup` gives; returns its result. */
async function runOne(id: string, handlers: Parameters<typeof startMswServer>[0], setup: Setup) {
  server = await startMswServer(handlers);
  recorder = new HttpRecorder({ allowedOrigins: [server.origin], timeoutMs: 2_000 });
  const values = setup.fixtures(server.origin);
  const fixtures: FixtureSource = {
    get: ((name: string) =>
      name in values
        ? Promise.resolve(values[name])
        : Promise.reject(
            new FixtureUnavailable('skip', `no ${name} fixture in this test`),
          )) as FixtureSource['get'],
    exchangesOf: () => [],
    leaseClient: async () => ({ client: CLIENT, release: () => undefined }),
    freshGrant: async (_http, opts) => {
      const tokens = setup.grant?.(opts?.scope);
      if (!tokens) throw new Error('no authorization in this test');
      return { client: CLIENT, tokens: { tokenType: 'Bearer', raw: {}, ...tokens } } as unknown as Awaited<
        ReturnType<FixtureSource['freshGrant']>
      >;
    },
    // The AS "signs the user in" at once and sends back a code (which the token endpoint refuses).
    loginAt: async (_http, url) =>
      new URL(`${REDIRECT_URI}?code=a-code&state=${url.searchParams.get('state') ?? ''}`),
    authorizationFlows: 0,
  };
  const [result] = await runChecks([byId(id)], {
    target: `${server.origin}/mcp`,
    revision: setup.revision,
    strict: false,
    embedded: false,
    http: recorder,
    fixtures,
    requestTimeoutMs: 2_000,
    checkTimeoutMs: 8_000,
    fixtureTimeoutMs: 5_000,
    runTimeoutMs: 20_000,
    concurrency: 1,
    privilegedTool: 'write_note',
    ...(setup.scopeImplies ? { scopeImplies: setup.scopeImplies } : {}),
  });
  return result!;
}

const line = (r: CheckResult) => `${r.id} ${r.status}: ${r.message}`;
const skippedForControl = (r: CheckResult) =>
  expect(line(r)).toMatch(new RegExp(`^${r.id} skip: control failed: `));

/** A JSON-RPC answer (result) to `body`, or 202 for a notification. */
async function jsonRpc(request: Request, result: (method: string) => unknown) {
  const body = (await request.json()) as { id?: number | null; method: string };
  if (body.id === undefined || body.id === null) return new HttpResponse(null, { status: 202 });
  return HttpResponse.json({ jsonrpc: '2.0', id: body.id, result: result(body.method) });
}
const INIT = {
  protocolVersion: '2025-11-25',
  capabilities: { tools: {} },
  serverInfo: { name: 's', version: '1' },
};
const bearer = (request: Request) => request.headers.get('authorization')?.replace(/^Bearer /, '');
const unauthorized = () => new HttpResponse(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } });
const forbidden = (scope: string) =>
  new HttpResponse(null, {
    status: 403,
    headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
  });

describe('RS checks: a refusal is judged only when the same request without the one change is served', () => {
  const prmAt = (origin: string) => `${origin}/.well-known/oauth-protected-resource/mcp`;
  const prmFixture = (origin: string) => ({
    resource: `${origin}/mcp`,
    attempts: [{ url: prmAt(origin), status: 401, exchangeId: 'x0' }],
  });

  it('RS-PRM-03: metadata refused without credentials AND with a token → skip; served with the token → warn', async () => {
    const refusing = [http.get('*/.well-known/oauth-protected-resource/mcp', () => unauthorized())];
    const setup: Setup = {
      revision: '2026-07-28',
      fixtures: (origin) => ({ prm: prmFixture(origin), token: { accessToken: 'good', raw: {} } }),
    };
    skippedForControl(await runOne('RS-PRM-03', refusing, setup));

    const behindAuth = [
      http.get('*/.well-known/oauth-protected-resource/mcp', ({ request }) =>
        bearer(request) === 'good'
          ? HttpResponse.json({ resource: 'x', authorization_servers: ['y'] })
          : unauthorized(),
      ),
    ];
    const r = await runOne('RS-PRM-03', behindAuth, setup);
    expect(line(r)).toMatch(
      /^RS-PRM-03 warn: the metadata refused a request without credentials, and served it with/,
    );
  });

  it('RS-PUB-04 (2025-11-25): lazy auth is not concluded when the other methods are refused with the token too', async () => {
    const handlers = [
      http.post('*/mcp', async ({ request }) => {
        const body = (await request.clone().json()) as { method: string };
        // initialize is answered to anyone; everything else is refused, with the token too.
        if (body.method === 'initialize') return jsonRpc(request, () => INIT);
        return unauthorized();
      }),
      http.get('*/mcp', () => unauthorized()),
      http.delete('*/mcp', () => unauthorized()),
    ];
    const r = await runOne('RS-PUB-04', handlers, {
      revision: '2025-11-25',
      fixtures: (origin) => ({
        token: { accessToken: 'good', raw: {} },
        prm: { resource: `${origin}/mcp`, attempts: [], prm: { authorization_servers: [origin] } },
      }),
    });
    skippedForControl(r);
  });

  it('RS-TRN-04: GET and DELETE refused with 401 while tools/list with the same token is refused too → skip', async () => {
    const handlers = [
      http.post('*/mcp', async ({ request }) => {
        const body = (await request.clone().json()) as { method: string };
        // The token opens server/discover (2026-07-28 only) and nothing else; no legacy revision.
        if (body.method === 'server/discover')
          return jsonRpc(request, () => ({ supportedVersions: ['2026-07-28'] }));
        if (body.method === 'initialize') return HttpResponse.json({ error: 'unsupported' }, { status: 400 });
        return unauthorized();
      }),
      http.get('*/mcp', () => unauthorized()),
      http.delete('*/mcp', () => unauthorized()),
    ];
    const r = await runOne('RS-TRN-04', handlers, {
      revision: '2026-07-28',
      fixtures: () => ({ token: { accessToken: 'good', raw: {} } }),
    });
    skippedForControl(r);
  });

  /** tools/call of write_note: 403 asking for `needs` unless the token is in `allowed`. */
  const scopedServer = (opts: { needs: string; allowed: string[]; listFor: string[] }) => [
    http.post('*/mcp', async ({ request }) => {
      const token = bearer(request);
      const body = (await request.clone().json()) as { method: string };
      if (token === undefined) return unauthorized();
      if (body.method === 'initialize' || body.method.startsWith('notifications/'))
        return jsonRpc(request, () => INIT);
      if (body.method === 'tools/list')
        return opts.listFor.includes(token) ? jsonRpc(request, () => ({ tools: [] })) : unauthorized();
      if (body.method === 'tools/call')
        return opts.allowed.includes(token)
          ? jsonRpc(request, () => ({ content: [] }))
          : forbidden(opts.needs);
      return jsonRpc(request, () => ({}));
    }),
    http.delete('*/mcp', () => new HttpResponse(null, { status: 204 })),
  ];

  it('RS-403-03: the retry with the re-authorized token is refused, and so is tools/list with that token → skip', async () => {
    const r = await runOne(
      'RS-403-03',
      // The re-authorized token opens nothing at all: its refusal is not about scope.
      scopedServer({ needs: 'mcp admin', allowed: [], listFor: ['default'] }),
      {
        revision: '2026-07-28',
        fixtures: () => ({ token: { accessToken: 'default', scope: 'mcp', raw: {} } }),
        grant: (scope) => ({ accessToken: 'reauthorized', ...(scope ? { scope } : {}) }),
      },
    );
    skippedForControl(r);
  });

  it('RS-403-04 (2025-11-25): tools/list lost with the challenged scopes, but also with the granted ones → skip', async () => {
    const r = await runOne(
      'RS-403-04',
      // The challenge omits the granted "mcp"; tools/list is refused to every token.
      scopedServer({ needs: 'admin', allowed: [], listFor: [] }),
      {
        revision: '2025-11-25',
        fixtures: () => ({ token: { accessToken: 'default', scope: 'mcp', raw: {} } }),
        grant: (scope) => ({ accessToken: 'narrow', ...(scope ? { scope } : {}) }),
      },
    );
    skippedForControl(r);
  });

  it('RS-403-05: the broad-scope token is refused, and so is a token of the needed scopes → skip', async () => {
    const r = await runOne(
      'RS-403-05',
      scopedServer({ needs: 'mcp write', allowed: [], listFor: ['default'] }),
      {
        revision: '2026-07-28',
        scopeImplies: { admin: ['write'] },
        fixtures: () => ({ token: { accessToken: 'default', scope: 'mcp', raw: {} } }),
        grant: (scope) => ({ accessToken: `token of ${scope}`, ...(scope ? { scope } : {}) }),
      },
    );
    skippedForControl(r);
    expect(r.message).toMatch(/with a token of "mcp write" was answered 403/);
  });
});

describe('AS checks: a refusal is judged only when the same request without the one change is accepted', () => {
  const asFixture = (origin: string, extra: Record<string, unknown> = {}) => ({
    issuer: origin,
    attempts: [],
    metadataUrl: `${origin}/.well-known/oauth-authorization-server`,
    metadata: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      ...extra,
    },
  });
  const common = (origin: string, extra: Record<string, unknown> = {}) => ({
    as: asFixture(origin, extra),
    prm: { resource: `${origin}/mcp`, attempts: [] },
    client: CLIENT,
    scope: { scope: 'mcp' },
  });

  it('AS-AUTHZ-04: response_type=token refused, and response_type=code refused too → skip', async () => {
    const handlers = [
      http.get('*/authorize', ({ request }) => {
        const state = new URL(request.url).searchParams.get('state');
        return new HttpResponse(null, {
          status: 302,
          headers: { location: `${REDIRECT_URI}?error=access_denied&state=${state}` },
        });
      }),
    ];
    const r = await runOne('AS-AUTHZ-04', handlers, { revision: '2026-07-28', fixtures: (o) => common(o) });
    skippedForControl(r);
  });

  for (const id of ['AS-DCR-04', 'AS-DCR-05']) {
    it(`${id}: every registration refused, the valid one too → skip`, async () => {
      const handlers = [
        http.post('*/register', () => HttpResponse.json({ error: 'invalid_token' }, { status: 401 })),
      ];
      const r = await runOne(id, handlers, {
        revision: '2026-07-28',
        fixtures: (o) => common(o, { registration_endpoint: `${o}/register` }),
      });
      skippedForControl(r);
    });
  }

  it('AS-DCR-04: invalid redirect URIs refused while the valid registration is accepted → pass', async () => {
    const handlers = [
      http.post('*/register', async ({ request }) => {
        const body = (await request.json()) as { redirect_uris: string[] };
        return body.redirect_uris[0] === 'http://127.0.0.1/cb'
          ? HttpResponse.json({ client_id: 'new', ...body }, { status: 201 })
          : HttpResponse.json({ error: 'invalid_redirect_uri' }, { status: 400 });
      }),
    ];
    const r = await runOne('AS-DCR-04', handlers, {
      revision: '2026-07-28',
      fixtures: (o) => common(o, { registration_endpoint: `${o}/register` }),
    });
    expect(line(r)).toBe('AS-DCR-04 pass: all 5 invalid redirect URIs were refused');
  });

  it('AS-TOKEN-09: an unknown client answered invalid_request, and the known client alike → skip', async () => {
    const handlers = [
      http.post('*/token', () => HttpResponse.json({ error: 'invalid_request' }, { status: 400 })),
    ];
    const r = await runOne('AS-TOKEN-09', handlers, { revision: '2026-07-28', fixtures: (o) => common(o) });
    skippedForControl(r);
    expect(r.message).toMatch(/the same request from the harness's own client alike/);
  });

  it('AS-META-15: the flow without offline_access got no token → skip, not "refresh tokens only with offline_access"', async () => {
    const handlers = [
      http.post('*/token', () => HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })),
    ];
    const r = await runOne('AS-META-15', handlers, {
      revision: '2026-07-28',
      fixtures: (o) => common(o, { scopes_supported: ['mcp'] }),
      grant: (scope) => ({ accessToken: 'a', refreshToken: 'r', ...(scope ? { scope } : {}) }),
    });
    skippedForControl(r);
  });
});
