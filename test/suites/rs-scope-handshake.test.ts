// A server that requires a scope for EVERY request (ttoss with requiredScopes: ['admin'], a scope
// its authorization server never grants) refuses the MCP handshake itself with 403. That 403 is
// what a client meets first, so RS-403-01/-02 judge it, under their control: the same handshake
// with a token that holds the scope goes through (when the authorization server grants one; when
// it never does, the refusal cannot be shown to be about scope and the checks skip). Checks that
// need a session skip with the reason instead of ending as a harness error. Targets: msw handlers
// on a loopback server, the token preset (as with --token-env), revision 2025-11-25.

import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import { type Check, FixtureUnavailable } from '../../runner/check.ts';
import { type CheckResult, runChecks } from '../../runner/engine.ts';
import { type FixtureSource, findProtectedRequest } from '../../runner/fixtures.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { checks as scopeChecks } from '../../suites/rs-scope.ts';
import { checks as tokenChecks } from '../../suites/rs-token.ts';
import { checks as transportChecks } from '../../suites/rs-transport.ts';
import { type MswServer, startMswServer } from '../helpers/msw-server.ts';

const CHECKS: readonly Check[] = [...scopeChecks, ...transportChecks, ...tokenChecks];
const byId = (id: string): Check => {
  const check = CHECKS.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
};
const TOKEN = 'preset-token-without-the-admin-scope';
/** A token that holds `admin`: the control's (an authorization for "admin", when the AS grants it). */
const ADMIN_TOKEN = 'token-with-the-admin-scope';

/**
 * An MCP endpoint: without a token 401 (initialize too, unless `publicInitialize`, as ttoss's
 * default publicMethods); with the token every request is 403, with or without a challenge.
 */
function handlers(challenge: boolean, publicInitialize = true) {
  return [
    http.get('*/.well-known/oauth-protected-resource/mcp', ({ request }) =>
      HttpResponse.json({
        resource: new URL('/mcp', request.url).href,
        authorization_servers: [new URL('/', request.url).origin],
        scopes_supported: ['admin'],
      }),
    ),
    http.post('*/mcp', async ({ request }) => {
      const body = (await request.json()) as { id?: number; method: string };
      if (body.method === 'initialize' && publicInitialize)
        return HttpResponse.json({
          jsonrpc: '2.0',
          id: body.id,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 's', version: '1' },
          },
        });
      const metadata = new URL('/.well-known/oauth-protected-resource/mcp', request.url).href;
      if (request.headers.get('authorization') === `Bearer ${ADMIN_TOKEN}`) {
        if (body.id === undefined) return new HttpResponse(null, { status: 202 });
        return HttpResponse.json({
          jsonrpc: '2.0',
          id: body.id,
          result:
            body.method === 'initialize'
              ? {
                  protocolVersion: '2025-11-25',
                  capabilities: { tools: {} },
                  serverInfo: { name: 's', version: '1' },
                }
              : {},
        });
      }
      if (request.headers.get('authorization') !== `Bearer ${TOKEN}`)
        return new HttpResponse(null, {
          status: 401,
          headers: { 'www-authenticate': `Bearer resource_metadata="${metadata}"` },
        });
      return new HttpResponse('Forbidden', {
        status: 403,
        headers: {
          'content-type': 'text/plain',
          ...(challenge
            ? {
                'www-authenticate': `Bearer error="insufficient_scope", scope="admin", resource_metadata="${metadata}"`,
              }
            : {}),
        },
      });
    }),
  ];
}

/** Whether the (imaginary) authorization server grants `admin` to a fresh authorization. */
let grantsAdmin = true;
/** The run's token (a new object per run, as a run's fixture is: the RS-403 controls cache per token). */
let defaultToken = { accessToken: TOKEN, tokenType: 'Bearer', raw: {} };
const fixtures: FixtureSource = {
  get: ((name: string) =>
    name === 'token'
      ? Promise.resolve(defaultToken)
      : name === 'protected-request'
        ? findProtectedRequest(recorder!, `${server!.origin}/mcp`, '2025-11-25')
        : name === 'prm'
          ? Promise.resolve({
              resource: `${server!.origin}/mcp`,
              attempts: [],
              prm: { resource: `${server!.origin}/mcp`, scopes_supported: ['admin'] },
            })
          : Promise.reject(
              new FixtureUnavailable('skip', `no ${name} fixture in this test`),
            )) as FixtureSource['get'],
  exchangesOf: () => [],
  // The RS-403 checks authorize with a client of their own (own-client).
  leaseClient: async () => ({
    client: { clientId: 'test-client', authMethod: 'none', redirectUris: [] },
    release: () => undefined,
  }),
  freshGrant: (_http, opts) =>
    grantsAdmin
      ? Promise.resolve({
          tokens: { accessToken: ADMIN_TOKEN, tokenType: 'bearer', scope: opts?.scope ?? 'admin', raw: {} },
        } as unknown as Awaited<ReturnType<FixtureSource['freshGrant']>>)
      : Promise.resolve({
          tokens: { accessToken: 'token-without-admin', tokenType: 'bearer', scope: '', raw: {} },
        } as unknown as Awaited<ReturnType<FixtureSource['freshGrant']>>),
  authorizationFlows: 0,
};

let server: MswServer | undefined;
let recorder: HttpRecorder | undefined;
afterEach(async () => {
  grantsAdmin = true;
  await recorder?.close();
  await server?.close();
  server = undefined;
  recorder = undefined;
});

async function run(
  ids: string[],
  challenge: boolean,
  publicInitialize = true,
): Promise<Map<string, CheckResult>> {
  defaultToken = { accessToken: TOKEN, tokenType: 'Bearer', raw: {} };
  server = await startMswServer(handlers(challenge, publicInitialize));
  recorder = new HttpRecorder({ allowedOrigins: [server.origin], timeoutMs: 2_000 });
  const results = await runChecks(ids.map(byId), {
    target: `${server.origin}/mcp`,
    revision: '2025-11-25',
    strict: false,
    embedded: false,
    http: recorder,
    fixtures,
    requestTimeoutMs: 2_000,
    checkTimeoutMs: 5_000,
    fixtureTimeoutMs: 5_000,
    runTimeoutMs: 20_000,
    concurrency: 4,
    privilegedTool: 'write_note',
  });
  return new Map(results.map((r) => [r.id, r]));
}

describe('a handshake refused with 403 is an observation, not a harness error', () => {
  it('with an insufficient_scope challenge: RS-403-01/-02-A/-02-B judge that 403 and pass', async () => {
    const r = await run(['RS-403-01', 'RS-403-02-A', 'RS-403-02-B'], true);
    for (const id of ['RS-403-01', 'RS-403-02-A', 'RS-403-02-B'])
      expect(r.get(id)!.status, `${id}: ${r.get(id)!.message}`).toBe('pass');
    expect(r.get('RS-403-01')!.message).toMatch(/the MCP handshake with the default token was answered 403/);
    expect(r.get('RS-403-01')!.notes.join(' ')).toMatch(/notifications\/initialized was answered 403/);
  });

  it('a bare 403 (ttoss: text/plain "Forbidden"): RS-403-01 passes, RS-403-02-A fails, RS-403-02-B skips', async () => {
    const r = await run(['RS-403-01', 'RS-403-02-A', 'RS-403-02-B'], false);
    expect(r.get('RS-403-01')!.status).toBe('pass');
    expect(r.get('RS-403-02-A')!.status).toBe('fail');
    expect(r.get('RS-403-02-A')!.message).toMatch(/no WWW-Authenticate header/);
    expect(r.get('RS-403-02-B')!.status).toBe('skip');
  });

  it('checks that need a session skip, naming the refused handshake and --token-env', async () => {
    const r = await run(['RS-SESS-01', 'RS-TRN-02'], false);
    for (const id of ['RS-SESS-01', 'RS-TRN-02']) {
      const result = r.get(id)!;
      expect(result.status, `${id}: ${result.message}`).toBe('skip');
      expect(result.message).toMatch(
        /handshake .* was refused \(notifications\/initialized was answered 403/,
      );
      expect(result.howToProvide).toMatch(/--token-env NAME/);
    }
  });

  it('when no token with the scope can be had (the AS never grants admin), the 403 is not conclusive: the RS-403 checks skip', async () => {
    grantsAdmin = false;
    const r = await run(['RS-403-01', 'RS-403-02-A', 'RS-403-02-B'], false);
    for (const id of ['RS-403-01', 'RS-403-02-A', 'RS-403-02-B']) {
      expect(r.get(id)!.status, `${id}: ${r.get(id)!.message}`).toBe('skip');
      expect(r.get(id)!.message).toMatch(
        /^control failed: no token with the scopes .* granted "" for a request of "admin"/,
      );
    }
  });

  it('the same when initialize itself needs the token and is refused 403 (RS-401-20)', async () => {
    const r = await run(['RS-401-20', 'RS-403-01'], false, false);
    const result = r.get('RS-401-20')!;
    expect(result.status, result.message).toBe('skip');
    expect(result.message).toMatch(/handshake .* was refused \(initialize/);
    expect(r.get('RS-403-01')!.status).toBe('pass');
  });
});
