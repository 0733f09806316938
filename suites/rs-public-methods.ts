// RS — the public-method matrix (issue #5, family RS-PUB; requirements §3 A3).
//
// No revision names public methods: clients MUST send the token on every request and servers that
// implement authorization MUST verify every inbound request (MCP Security Best Practices), yet many
// deployments leave some methods anonymous. Every RS-PUB check sends each JSON-RPC method a client
// can send, without a token, plus GET and DELETE on the endpoint, and publishes the anonymous
// surface as a table (data.anonymousSurface). Each check then judges one of issue #5's rules:
//   RS-PUB-01 SHOULD  the handshake is gated as one unit (initialize answered while
//                     notifications/initialized needs a token breaks every client) — 2025 only;
//   RS-PUB-02 MUST    tools/call never runs without a token on a server that advertises OAuth;
//   RS-PUB-03 SHOULD  tools/list, resources/list, prompts/list are not answered anonymously unless
//                     the operator declared them public (--expect-public);
//   RS-PUB-04 SHOULD  no "lazy auth": an anonymous handshake on a server that protects everything
//                     else (2025), or nothing protected at all while OAuth is advertised.
// Interpretation (issue #5 lists "initialize 200 while tools/list gets 401" both as a break and as
// lazy auth): a split handshake is RS-PUB-01; a complete anonymous handshake followed by 401s is
// the lazy auth of RS-PUB-04, because a client can finish connecting and could still start OAuth on
// the 401. Both are derived rules (no sentence states them), so both warn.
//
// Probes never execute anything: tools/call, resources/read and prompts/get name a tool, resource
// and prompt that do not exist, so an anonymous answer shows the method is reachable without
// running a real operation.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { prmWellKnownUrls } from '../runner/discovery.ts';
import { type HttpResponse, HttpTransportError } from '../runner/http.ts';
import {
  type McpProbe,
  type McpReply,
  type McpSession,
  mcpCall,
  PUBLIC_METHOD_CANDIDATES,
  resultOf,
} from '../runner/mcp.ts';
import { isStateless, REVISIONS } from '../runner/revisions.ts';

import {
  AUTHENTICATE_ALL_CONNECTIONS,
  conflictSides,
  inMcp,
  STATUS_CODES,
  VERIFY_ALL_INBOUND,
} from './rs-quotes.ts';
import { endSession } from './rs-scope.ts';

/** What an anonymous probe got. `answered*` and `accepted` are the public outcomes (2xx). */
export type Outcome =
  | 'answered' // 2xx with a JSON-RPC result
  | 'answered-error' // 2xx with a JSON-RPC error: the method is reachable anonymously
  | 'accepted' // 2xx without a JSON-RPC message (a notification's 202)
  | 'requires-auth' // 401
  | 'not-offered' // 404 / 405
  | 'refused' // another 4xx
  | 'server-error' // 5xx
  | 'no-answer'; // a GET stream that never ended, within the bound

export interface SurfaceRow {
  /** A JSON-RPC method, or `GET` / `DELETE` on the endpoint. */
  method: string;
  status: number | null;
  outcome: Outcome;
  /** The operator declared the method public with --expect-public. */
  declaredPublic: boolean;
  exchange?: string;
}

const PUBLIC_OUTCOMES: readonly Outcome[] = ['answered', 'answered-error', 'accepted'];
export const isPublic = (row: SurfaceRow | undefined): boolean =>
  row !== undefined && PUBLIC_OUTCOMES.includes(row.outcome);

/** Methods whose anonymous answer leaks the server's catalogue (RS-PUB-03). */
const CATALOGUE_METHODS = ['tools/list', 'resources/list', 'prompts/list'];
const NO_SUCH = 'mcp-auth-conformance-no-such-item';

/** Candidate methods of the revision: the handshake in 2025, server/discover in 2026-07-28. */
function methodsOf(t: CheckContext): string[] {
  const handshake = ['initialize', 'notifications/initialized'];
  return PUBLIC_METHOD_CANDIDATES.filter((m) =>
    isStateless(t.revision) ? !handshake.includes(m) : m !== 'server/discover',
  );
}

/** Params that make each probe a well-formed request naming nothing that exists. */
function paramsOf(method: string): Record<string, unknown> | undefined {
  switch (method) {
    case 'initialize':
      return undefined; // mcp.ts builds the handshake params of the revision
    case 'tools/call':
      return { name: NO_SUCH, arguments: {} };
    case 'resources/read':
      return { uri: `mcp-auth-conformance://${NO_SUCH}` };
    case 'prompts/get':
      return { name: NO_SUCH, arguments: {} };
    default:
      return {};
  }
}

function classify(status: number, message: Record<string, unknown> | undefined): Outcome {
  if (status >= 200 && status < 300) {
    if (message && 'result' in message) return 'answered';
    if (message && 'error' in message) return 'answered-error';
    return 'accepted';
  }
  if (status === 401) return 'requires-auth';
  if (status === 404 || status === 405) return 'not-offered';
  if (status >= 500) return 'server-error';
  return 'refused';
}

/**
 * Sends the whole matrix without a token. 2025: initialize first; when it is answered and opens
 * a session, the other probes carry its id (otherwise-valid requests), then notifications/initialized,
 * then the rest in parallel; DELETE comes last (it also ends an anonymous session).
 */
export async function probeAnonymousSurface(t: CheckContext): Promise<SurfaceRow[]> {
  const declared = new Set(t.options.expectPublic);
  const rows: SurfaceRow[] = [];
  const row = (method: string, status: number | null, outcome: Outcome, exchange?: string): SurfaceRow => ({
    method,
    status,
    outcome,
    declaredPublic: declared.has(method),
    ...(exchange ? { exchange } : {}),
  });
  const fromReply = (method: string, reply: McpReply) =>
    row(
      method,
      reply.response.status,
      classify(reply.response.status, reply.message),
      reply.response.exchange.id,
    );
  const send = (method: string, session: McpSession | undefined) => {
    const params = paramsOf(method);
    const probe: McpProbe = {
      method,
      ...(params !== undefined ? { params } : {}),
      ...(method.startsWith('notifications/') ? { id: null } : {}),
      ...(session ? { session } : {}),
      label: `anonymous ${method}`,
    };
    return mcpCall(t.http, t.target, t.revision, probe);
  };

  const methods = methodsOf(t);
  let session: McpSession | undefined;
  if (!isStateless(t.revision)) {
    const init = await send('initialize', undefined);
    rows.push(fromReply('initialize', init));
    const result = resultOf(init);
    const sessionId = init.response.headers.get('mcp-session-id');
    session = {
      revision: t.revision,
      protocolVersion: typeof result?.protocolVersion === 'string' ? result.protocolVersion : t.revision,
      ...(result && sessionId ? { sessionId } : {}),
    };
    rows.push(fromReply('notifications/initialized', await send('notifications/initialized', session)));
  }
  const rest = methods.filter((m) => m !== 'initialize' && m !== 'notifications/initialized');
  const replies = await Promise.all(rest.map((m) => send(m, session)));
  rest.forEach((m, i) => rows.push(fromReply(m, replies[i]!)));
  for (const method of ['GET', 'DELETE'] as const) rows.push(await rawProbe(t, method, session));
  return rows;
}

async function rawProbe(t: CheckContext, method: 'GET' | 'DELETE', session: McpSession | undefined) {
  const headers: [string, string][] = [
    ['accept', method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream'],
    ['mcp-protocol-version', session?.protocolVersion ?? t.revision],
    ...(session?.sessionId ? ([['mcp-session-id', session.sessionId]] as [string, string][]) : []),
  ];
  let response: HttpResponse;
  try {
    response = await t.http.request(t.target, {
      method,
      headers,
      label: `anonymous ${method} on the MCP endpoint`,
      // A GET may open an SSE stream that never ends: bound it, and record that as an answer.
      timeoutMs: Math.min(t.options.requestTimeoutMs, 5000),
      maxBodyBytes: 64 * 1024,
    });
  } catch (err) {
    if (err instanceof HttpTransportError && (err.kind === 'timeout' || err.kind === 'too-large')) {
      return {
        method,
        status: null,
        outcome: 'no-answer' as const,
        declaredPublic: false,
        ...(err.exchangeId ? { exchange: err.exchangeId } : {}),
      };
    }
    throw err;
  }
  return {
    method,
    status: response.status,
    outcome: classify(response.status, undefined),
    declaredPublic: false,
    exchange: response.exchange.id,
  };
}

/** Runs the matrix, publishes the table, and returns the rows by method. */
async function surface(t: CheckContext): Promise<Map<string, SurfaceRow>> {
  const rows = await probeAnonymousSurface(t);
  t.data(
    'anonymousSurface',
    rows.map(({ method, status, outcome, declaredPublic }) => ({ method, status, outcome, declaredPublic })),
  );
  const open = rows.filter(isPublic).map((r) => r.method);
  t.note(`answered without a token: ${open.length > 0 ? open.join(', ') : 'nothing'}`);
  return new Map(rows.map((r) => [r.method, r]));
}

/**
 * Whether the server tells clients to use OAuth: protected-resource metadata naming an AS (found
 * by the client's discovery, or, when that found none, e.g. 2025-06-18 without a 401 challenge, at
 * the well-known URLs), or a 401 anywhere in the matrix.
 */
async function advertisedOAuth(t: CheckContext, rows: Map<string, SurfaceRow>): Promise<string | undefined> {
  const prm = await t.optionalFixture('prm');
  const named = (doc: unknown) => {
    const servers = isObject(doc) ? doc.authorization_servers : undefined;
    return Array.isArray(servers) && servers.length > 0 ? String(servers[0]) : undefined;
  };
  const fromDiscovery = named(prm?.prm);
  if (fromDiscovery) return `its protected-resource metadata names ${fromDiscovery}`;
  const { pathInserted, root } = prmWellKnownUrls(t.target);
  for (const url of [pathInserted, root]) {
    if (!url) continue;
    const response = await t.http.request(url, { label: 'protected-resource metadata (well-known)' });
    const issuer = response.status === 200 ? named(response.json()) : undefined;
    if (issuer) return `its protected-resource metadata at ${url} names ${issuer}`;
  }
  const challenged = [...rows.values()].find((r) => r.outcome === 'requires-auth');
  return challenged ? `${challenged.method} is answered 401` : undefined;
}

function describeStatus(reply: McpReply): string {
  const error = reply.message?.error;
  return `HTTP ${reply.response.status}${isObject(error) ? ` with JSON-RPC error ${String(error.code)}` : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The control of the anonymous refusals (suites/token-probes.ts): the same methods sent with the
 * harness's token (2025: inside a session that token opened), each answer by method. A refusal
 * without a token counts as "needs a token" only where the same request with the token is served.
 */
async function withTokenSurface(t: CheckContext, methods: readonly string[]): Promise<Map<string, McpReply>> {
  const { accessToken } = await t.fixture('token');
  const out = new Map<string, McpReply>();
  const send = async (method: string, session: McpSession | undefined) => {
    const params = paramsOf(method);
    return mcpCall(t.http, t.target, t.revision, {
      method,
      ...(params !== undefined ? { params } : {}),
      ...(method.startsWith('notifications/') ? { id: null } : {}),
      ...(session ? { session } : {}),
      token: accessToken,
      label: `${method} with the token (control)`,
    });
  };
  let session: McpSession | undefined;
  if (!isStateless(t.revision)) {
    const init = await send('initialize', undefined);
    out.set('initialize', init);
    const result = resultOf(init);
    const sessionId = init.response.headers.get('mcp-session-id');
    session = {
      revision: t.revision,
      protocolVersion: typeof result?.protocolVersion === 'string' ? result.protocolVersion : t.revision,
      ...(result && sessionId ? { sessionId } : {}),
    };
    out.set('notifications/initialized', await send('notifications/initialized', session));
  }
  const rest = methods.filter((m) => m !== 'initialize' && m !== 'notifications/initialized');
  const replies = await Promise.all(rest.map((m) => send(m, session)));
  rest.forEach((m, i) => out.set(m, replies[i]!));
  if (session?.sessionId) await endSession(t, accessToken, session);
  t.data(
    'controlWithToken',
    [...out].map(([method, reply]) => ({ method, status: reply.response.status })),
  );
  return out;
}

const served = (reply: McpReply | undefined): boolean =>
  reply !== undefined && reply.response.status >= 200 && reply.response.status <= 299;

const describe = (row: SurfaceRow | undefined) =>
  row ? `${row.method} → ${row.status ?? 'no status'} (${row.outcome})` : 'not probed';

export const RS_PUB_01 = defineCheck({
  id: 'RS-PUB-01',
  title: 'The handshake is gated as one unit: initialize and notifications/initialized alike',
  level: 'SHOULD',
  refs: [
    'MCP 2025-06-18 Lifecycle §Initialization (the client MUST send notifications/initialized)',
    'MCP 2025-06-18 §Token Requirements (token on every request)',
    'requirements §3 A3',
    'issue #5 (public-method matrix)',
  ],
  derived:
    'No sentence says how a server gates the handshake; the client MUST send notifications/initialized right after initialize, so a server that answers the one anonymously and refuses the other breaks every anonymous connection.',
  quotes: inMcp(['2025-06-18', '2025-11-25'], {
    section: 'Lifecycle: Initialization',
    text: 'After successful initialization, the client MUST send an initialized notification to indicate it is ready to begin normal operations:',
    keyword: 'MUST',
    binds: 'client',
  }),
  revisions: REVISIONS.filter((r) => !isStateless(r)),
  needs: [],
  faults: ['rs-initialize-public-only'],
  requirement:
    'If initialize is answered without a token, notifications/initialized must be too: otherwise a client connects anonymously and is refused on the very next message, the "connected, no tools, no sign-in" failure no client recovers from. (Both protected is the recommended setup.) The full anonymous surface is in data.anonymousSurface.',
  remediation:
    'Gate initialize and notifications/initialized the same way: best, both need a token (the 401 on initialize starts OAuth in every SDK client).',
  probe:
    'Every JSON-RPC method a client sends, without a token (initialize first), plus GET and DELETE; compare initialize with notifications/initialized.',
  control:
    "When initialize is answered anonymously and notifications/initialized is refused: notifications/initialized sent with the harness's token after initialize with it; served, it shows the anonymous refusal is about the token, so the handshake is split.",
  async run(t) {
    const rows = await surface(t);
    const init = rows.get('initialize');
    const initialized = rows.get('notifications/initialized');
    if (isPublic(init) && !isPublic(initialized)) {
      // The refusal of notifications/initialized is about the token only if it is accepted with one.
      const control = (await withTokenSurface(t, ['initialize', 'notifications/initialized'])).get(
        'notifications/initialized',
      );
      if (!served(control)) {
        t.prerequisiteMissing(
          `control failed: notifications/initialized with the token was answered ${control ? describeStatus(control) : 'nothing'} too, so its anonymous refusal is not about the token`,
          'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
        );
        return;
      }
      t.violated(
        `the handshake is split: ${describe(init)} but ${describe(initialized)} (with the token: ${describeStatus(control!)}), so an anonymous client connects and is then refused`,
      );
    } else t.conforms(`the handshake is gated as one unit: ${describe(init)}; ${describe(initialized)}`);
  },
});

export const RS_PUB_02 = defineCheck({
  id: 'RS-PUB-02',
  title: 'tools/call is never answered without a token on a server that advertises OAuth',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Token Requirements',
    'MCP Security Best Practices (MUST verify all inbound requests)',
    'requirements §3 A3',
    'issue #5 (public-method matrix)',
  ],
  quotes: VERIFY_ALL_INBOUND,
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-tools-call-public', 'rs-auth-disabled'],
  requirement:
    'On a server that advertises OAuth (protected-resource metadata, or a 401 anywhere), tools/call, the method with side effects, is refused without a token. The probe names a tool that does not exist, so any anonymous 2xx (a result or a JSON-RPC error) shows that the dispatcher is reachable anonymously. It cannot be declared public.',
  remediation: 'Require a valid token for tools/call (and every method that acts) before dispatching it.',
  probe: `tools/call of a non-existent tool (${NO_SUCH}) without a token, within the full anonymous matrix.`,
  control:
    "tools/call of the same non-existent tool with the harness's token (in a session it opened, 2025-*): served, it shows the anonymous refusal is about the token. An anonymous call that is answered needs no control.",
  async run(t) {
    const rows = await surface(t);
    const call = rows.get('tools/call');
    const advertised = await advertisedOAuth(t, rows);
    if (!advertised) {
      t.notApplicable(
        'the server advertises no OAuth (no protected-resource metadata, no 401), so nothing says it is protected',
      );
      return;
    }
    if (isPublic(call)) {
      t.violated(`${describe(call)} without a token, although ${advertised}`);
      return;
    }
    const control = (
      await withTokenSurface(
        t,
        methodsOf(t).filter((m) => m === 'tools/call'),
      )
    ).get('tools/call');
    if (!served(control)) {
      t.prerequisiteMissing(
        `control failed: tools/call with the token was answered ${control ? describeStatus(control) : 'nothing'}, so its anonymous refusal is not shown to be about the token`,
        'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      );
      return;
    }
    t.conforms(`${describe(call)}; with the token: ${describeStatus(control!)}`);
  },
});

export const RS_PUB_03 = defineCheck({
  id: 'RS-PUB-03',
  title: 'The tool, resource and prompt catalogues are not served anonymously (unless declared public)',
  level: 'SHOULD',
  refs: [
    'MCP Security Best Practices (MUST verify all inbound requests)',
    'requirements §3 A3',
    'issue #5 (public-method matrix)',
  ],
  // The same two sentences as RS-401-01's: the message quotes both.
  quotes: [...VERIFY_ALL_INBOUND, ...AUTHENTICATE_ALL_CONNECTIONS],
  conflict:
    'The Security Best Practices make servers that implement authorization verify all inbound requests (MUST); the transport asks for authentication of all connections only as a SHOULD, and no revision names which methods may be public.',
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-catalogue-public'],
  requirement:
    'tools/list, resources/list and prompts/list are not answered without a token: the catalogue tells anyone what the server can do. A method the operator declared public with --expect-public is reported, not judged.',
  remediation:
    'Require a token for the list methods, or, when the catalogue is public on purpose, declare it with --expect-public so the report records the decision.',
  probe: 'tools/list, resources/list and prompts/list without a token, within the full anonymous matrix.',
  control:
    "Each catalogue method refused anonymously is sent again with the harness's token: it counts as refused for want of a token only when that is served. A catalogue served anonymously needs no control.",
  async run(t) {
    const rows = await surface(t);
    let leaks = 0;
    const refused = CATALOGUE_METHODS.filter((m) => rows.get(m) && !isPublic(rows.get(m)));
    const controls = refused.length > 0 ? await withTokenSurface(t, refused) : new Map<string, McpReply>();
    let judged = 0;
    for (const method of CATALOGUE_METHODS) {
      const row = rows.get(method);
      if (!isPublic(row)) {
        if (row?.declaredPublic) t.note(`${method} was declared public but ${describe(row)}`);
        const control = controls.get(method);
        if (row && served(control)) judged++;
        else if (row)
          t.note(
            `${method}: refused without a token, and with the token too (${control ? describeStatus(control) : 'nothing'}): not judged (control failed)`,
          );
        continue;
      }
      judged++;
      if (row?.declaredPublic) {
        t.note(`${describe(row)} without a token, declared public by the operator`);
        continue;
      }
      leaks++;
      t.violated(
        `${describe(row)} without a token: the catalogue is readable by anyone (declare it with --expect-public if intended); ${conflictSides(t.revision, VERIFY_ALL_INBOUND, AUTHENTICATE_ALL_CONNECTIONS).text}`,
      );
    }
    if (leaks > 0) return;
    if (judged === 0)
      t.prerequisiteMissing(
        'control failed: no catalogue method is served with the token either, so their anonymous refusals are not shown to be about the token',
        'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      );
    else t.conforms('no catalogue method is answered without a token, except those declared public');
  },
});

export const RS_PUB_04 = defineCheck({
  id: 'RS-PUB-04',
  title: 'No lazy auth: anonymous access does not hide the sign-in step',
  level: 'SHOULD',
  refs: [
    'MCP 2025-03-26 §Authorization Flow Steps (401 when authorization is required)',
    'requirements §3 A3',
    'issue #5 (public-method matrix)',
  ],
  derived:
    'No sentence requires a 401 on any particular method; clients start authorization on the first 401 (the Authorization Flow Steps), so a server that advertises OAuth yet answers everything, or the whole handshake, anonymously hides that step.',
  quotes: STATUS_CODES,
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-initialize-public-only', 'rs-auth-disabled'],
  // Lazy auth is about initialize, which 2026-07-28 no longer has.
  faultRevisions: { 'rs-initialize-public-only': '2025-11-25' },
  requirement:
    'Clients start OAuth on a 401. So (2025 revisions) an anonymous initialize should not be answered on a server that needs a token for everything else ("lazy auth": many clients connect and never sign in), and (every revision) a server that advertises OAuth should need a token for something. Methods declared public with --expect-public do not count.',
  remediation:
    'Answer 401 to initialize (2025) or to the first method that needs authorization, so clients start the OAuth flow at connection time.',
  probe: 'The full anonymous matrix; compare the handshake with every other method.',
  control:
    "For lazy auth: the other methods, refused anonymously with 401, are sent again with the harness's token (in a session it opened, 2025-*); served, they show the 401s were about the token. Methods answered without a token while none needs one need no control.",
  async run(t) {
    const rows = await surface(t);
    const jsonRpc = [...rows.values()].filter((r) => r.method !== 'GET' && r.method !== 'DELETE');
    const open = jsonRpc.filter(isPublic);
    const advertised = await advertisedOAuth(t, rows);
    // Nothing answered 401 (methods the server does not offer, 404/405, do not count).
    const protectedOnes = jsonRpc.filter((r) => r.outcome === 'requires-auth');
    if (advertised && protectedOnes.length === 0 && open.some((r) => !r.declaredPublic)) {
      t.violated(
        `no JSON-RPC method needs a token (answered: ${open.map((r) => r.method).join(', ')}) although ${advertised}: clients waiting for a 401 never sign in`,
      );
      return;
    }
    const init = rows.get('initialize');
    if (isPublic(init) && !init!.declaredPublic) {
      const others = jsonRpc.filter(
        (r) => !['initialize', 'notifications/initialized', 'ping'].includes(r.method) && !r.declaredPublic,
      );
      if (others.length > 0 && others.every((r) => r.outcome === 'requires-auth')) {
        // The 401s say "needs a token" only if the same methods are served with one.
        const controls = await withTokenSurface(
          t,
          others.map((r) => r.method),
        );
        const refused = others.filter((r) => !served(controls.get(r.method)));
        if (refused.length > 0) {
          t.prerequisiteMissing(
            `control failed: ${refused.map((r) => `${r.method} with the token was answered ${controls.get(r.method) ? describeStatus(controls.get(r.method)!) : 'nothing'}`).join('; ')}, so their anonymous 401s are not shown to be about the token`,
            'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
          );
          return;
        }
        t.violated(
          `lazy auth: ${describe(init)} without a token while ${others.map((r) => r.method).join(', ')} need one; clients connect, then find no tools and no sign-in prompt`,
        );
        return;
      }
    }
    t.conforms(
      open.length === 0
        ? 'every JSON-RPC method needs a token'
        : `anonymous methods (${open.map((r) => r.method).join(', ')}) do not hide the sign-in step`,
    );
  },
});

export const checks = [RS_PUB_01, RS_PUB_02, RS_PUB_03, RS_PUB_04];
