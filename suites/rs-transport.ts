// RS — transport rules that interact with authorization, and sessions. Requirements §2.5, rows
// RS-TRN-01..04 and RS-SESS-01..04.
//
// Each negative probe carries a valid token and is otherwise the request an SDK client sends for
// the revision (runner/mcp.ts), so only the one defect under test can explain a refusal; where it
// helps, the same request without the defect is sent first as a control (it must succeed, or
// there is nothing to judge).
// Requirements §3 A18: sessions (RS-SESS-01..03) exist in 2025-06-18 / 2025-11-25 only;
// RS-TRN-03/04 are 2026-07-28 rules, and so is RS-SESS-04: the state handle of 2026-07-28 is the
// multi-round-trip `requestState`, replayed against the tool the operator names (--state-tool; the
// embedded reference server's read_my_notes).

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { protectedProbe } from '../runner/fixtures.ts';
import { HttpTransportError } from '../runner/http.ts';
import { type McpProbe, type McpReply, type McpSession, mcpCall, resultOf } from '../runner/mcp.ts';
import { type Control, replyOutcome, underControl } from './token-probes.ts';
import { isStateless, REVISIONS, since } from '../runner/revisions.ts';
import {
  argumentsFor,
  describeReply,
  endSession,
  executed,
  listTools,
  openSessionOrSkip,
  withSession,
} from './rs-scope.ts';
import { inMcp, VERIFY_ALL_INBOUND } from './rs-quotes.ts';

/** A foreign Origin (MCP transports §Security Warning); only ever a header value, never contacted. */
const FOREIGN_ORIGIN = 'https://evil.example';
/** A protocol version no revision has (requirements RS-TRN-02). */
const UNSUPPORTED_VERSION = '1999-01-01';
/** 2026-07-28 §Server Validation: header/body mismatch error code (HeaderMismatch). */
const HEADER_MISMATCH = -32020;
/** 2026-07-28: UnsupportedProtocolVersionError code. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

const REVISIONS_2025 = REVISIONS.filter((r) => !isStateless(r));

function is2xx(reply: { response: { status: number } }): boolean {
  return reply.response.status >= 200 && reply.response.status < 300;
}

function errorCode(reply: McpReply): number | undefined {
  const error = reply.message?.error;
  return error !== null && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'number'
    ? (error as { code: number }).code
    : undefined;
}

/** tools/list with the token, inside the session when there is one: the ordinary authorized request. */
function toolsList(token: string, session: McpSession | undefined, label: string): McpProbe {
  return { method: 'tools/list', params: {}, token, ...(session ? { session } : {}), label };
}

const TOKEN_HOW = 'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)';

/**
 * The control of a transport probe (suites/token-probes.ts underControl): the same MCP request
 * without the defect, which must be served before and after the probe.
 */
function mcpControl(
  t: CheckContext,
  what: string,
  probe: (label: string) => McpProbe,
  onReply?: (r: McpReply) => void,
): Control {
  return {
    what,
    howToProvide: TOKEN_HOW,
    send: async (when) => {
      const reply = await mcpCall(
        t.http,
        t.target,
        t.revision,
        probe(`${what} (control, ${when} the probes)`),
      );
      onReply?.(reply);
      return replyOutcome(reply.response, describeReply(reply));
    },
  };
}

export const RS_TRN_01 = defineCheck({
  id: 'RS-TRN-01',
  title: 'A request with a foreign Origin is refused (403 from 2025-11-25)',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 Streamable HTTP §Security Warning',
    'MCP 2025-11-25 Streamable HTTP §Security Warning (403 Forbidden)',
    'requirements §3 A19',
  ],
  quotes: [
    ...inMcp(['2025-06-18', '2025-11-25'], {
      section: 'Transports: Security Warning',
      text: 'Servers MUST validate the Origin header on all incoming connections to prevent DNS rebinding attacks',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Streamable HTTP: Security & Endpoint',
      text: 'Servers MUST validate the Origin header on all incoming connections to prevent DNS rebinding attacks.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(['2025-11-25'], {
      section: 'Transports: Security Warning',
      text: 'If the Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Streamable HTTP: Security & Endpoint',
      text: 'If the Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-origin-not-checked'],
  requirement:
    'The server validates Origin: a request with a valid token and a present, foreign Origin is refused (DNS-rebinding protection). 2025-11-25 and later: with HTTP 403; 2025-06-18: any 4xx. A request without Origin (non-browser clients) keeps working; it is only the control.',
  remediation:
    'Compare Origin with the origins allowed to call the endpoint and answer 403 when it is present and not one of them.',
  probe: `The protected request with a valid token, without Origin (control) and with Origin: ${FOREIGN_ORIGIN}.`,
  control:
    'The same authorized request without Origin, right before and right after the one with the foreign Origin: served, it shows the refusal was about the Origin header.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    const probe = { ...protectedProbe(t.revision), token: accessToken };
    const opened: McpReply[] = [];
    const control = mcpControl(
      t,
      `${probe.method} with the token and no Origin`,
      (label) => ({ ...probe, label }),
      (r) => opened.push(r),
    );
    const foreign = await underControl(t, control, async () => {
      const reply = await mcpCall(t.http, t.target, t.revision, {
        ...probe,
        headers: [['origin', FOREIGN_ORIGIN]],
        label: `authorized request with Origin: ${FOREIGN_ORIGIN}`,
      });
      opened.push(reply);
      return reply;
    });
    // 2025: an answered initialize opened a session; end it so the probe leaves no state behind.
    for (const reply of opened) {
      const sessionId = reply.response.headers.get('mcp-session-id');
      if (sessionId && !isStateless(t.revision))
        await endSession(t, accessToken, { revision: t.revision, protocolVersion: t.revision, sessionId });
    }
    if (!foreign) return;
    t.data('status', foreign.response.status);
    const status = foreign.response.status;
    const needs403 = t.revision !== '2025-06-18';
    if (is2xx(foreign))
      t.violated(`a request with Origin: ${FOREIGN_ORIGIN} was served (${describeReply(foreign)})`);
    else if (status < 400 || status > 499)
      t.violated(`a request with Origin: ${FOREIGN_ORIGIN} was answered ${status}, not a 4xx refusal`);
    else if (needs403 && status !== 403)
      t.violated(
        `a request with Origin: ${FOREIGN_ORIGIN} was refused with ${status}; ${t.revision} requires 403`,
      );
    else t.conforms(`a request with Origin: ${FOREIGN_ORIGIN} was refused with ${status}`);
  },
});

export const RS_TRN_02 = defineCheck({
  id: 'RS-TRN-02',
  title: 'An unsupported MCP-Protocol-Version is answered 400',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 Streamable HTTP §Protocol Version Header',
    'MCP 2025-11-25 Streamable HTTP §Protocol Version Header',
    'MCP 2026-07-28 Streamable HTTP §Protocol Version Header',
  ],
  quotes: [
    ...inMcp(REVISIONS_2025, {
      section: 'Transports: Protocol Version Header',
      text: 'If the server receives a request with an invalid or unsupported MCP-Protocol-Version, it MUST respond with 400 Bad Request.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Streamable HTTP: Protocol Version Header',
      text: 'If the server does not implement the requested protocol version (whether the version is unknown to the server, or is a known version the server has chosen not to support), it MUST respond with 400 Bad Request and an UnsupportedProtocolVersionError listing its supported versions.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
  ],
  revisions: REVISIONS,
  needs: ['token'],
  faults: ['rs-protocol-version-not-checked'],
  requirement:
    'A request with a valid token whose MCP-Protocol-Version names a version the server does not support is answered HTTP 400 and not served. 2026-07-28 also: the body is a JSON-RPC UnsupportedProtocolVersionError whose data lists the supported versions.',
  remediation:
    'Validate MCP-Protocol-Version on every request after initialization (2026-07-28: every request) and answer 400 with the supported versions.',
  probe: `tools/list with a valid token and MCP-Protocol-Version: ${UNSUPPORTED_VERSION} (2026-07-28: also in _meta, so header and body agree), after the same request with the right version as control.`,
  control:
    'The same tools/list with the token and the negotiated MCP-Protocol-Version, right before and right after: served, it shows the 400 (or other answer) is about the version.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    await withSession(t, accessToken, async (session) => {
      const good = session ?? { revision: t.revision, protocolVersion: t.revision };
      // The whole session object carries the version: header (and the 2026 _meta envelope) agree.
      const bad: McpSession = { ...good, protocolVersion: UNSUPPORTED_VERSION };
      const control = mcpControl(t, 'tools/list with the token and the negotiated version', (label) =>
        toolsList(accessToken, good, label),
      );
      const reply = await underControl(t, control, () =>
        mcpCall(
          t.http,
          t.target,
          t.revision,
          toolsList(accessToken, bad, `tools/list with MCP-Protocol-Version: ${UNSUPPORTED_VERSION}`),
        ),
      );
      if (!reply) return;
      t.data('status', reply.response.status);
      if (reply.response.status !== 400) {
        t.violated(
          `MCP-Protocol-Version: ${UNSUPPORTED_VERSION} was answered ${describeReply(reply)}, not 400${executed(reply) ? ' (the request was served)' : ''}`,
        );
        return;
      }
      if (isStateless(t.revision)) {
        const error = reply.message?.error as { code?: unknown; data?: { supported?: unknown } } | undefined;
        const supported = error?.data?.supported;
        t.data('supported', supported ?? null);
        if (errorCode(reply) !== UNSUPPORTED_PROTOCOL_VERSION || !Array.isArray(supported)) {
          t.violated(
            `the 400 is not an UnsupportedProtocolVersionError (code ${UNSUPPORTED_PROTOCOL_VERSION}) listing the supported versions in data.supported: ${describeReply(reply)}`,
          );
          return;
        }
      }
      t.conforms(`MCP-Protocol-Version: ${UNSUPPORTED_VERSION} was answered 400`);
    });
  },
});

export const RS_TRN_03 = defineCheck({
  id: 'RS-TRN-03',
  title: 'Mcp-Method / Mcp-Name that disagree with the body are refused (400, -32020)',
  level: 'MUST',
  refs: ['MCP 2026-07-28 Streamable HTTP §Server Validation', 'SEP-2243'],
  quotes: inMcp(
    ['2026-07-28'],
    [
      {
        section: 'Streamable HTTP: Server Validation',
        text: 'Servers that process the request body MUST reject requests where the values specified in the headers do not match the corresponding values in the request body.',
        keyword: 'MUST',
        binds: 'resource-server',
      },
      {
        section: 'Streamable HTTP: Server Validation',
        text: 'When rejecting a request due to header validation failure, servers MUST return HTTP status 400 Bad Request and MUST include a JSON-RPC error response using the following error code:',
        keyword: 'MUST',
        binds: 'resource-server',
      },
    ],
  ),
  revisions: since('2026-07-28'),
  needs: ['token'],
  faults: ['rs-header-mismatch-not-checked'],
  requirement:
    'A request whose Mcp-Method or Mcp-Name header disagrees with the JSON-RPC body is answered 400 with JSON-RPC error -32020 and never executed: gateways authorize on the headers, so a mismatch would let a request through under a false name.',
  remediation:
    'Compare Mcp-Method with the body method and Mcp-Name with params.name / params.uri before dispatching, and answer 400 / -32020 on any difference.',
  probe:
    'tools/call of a read-only tool with Mcp-Method: tools/list; the same call with Mcp-Name naming another tool (the matching call first, as control).',
  control:
    'The same tools/call with the token and headers that match the body, right before and right after: served, it shows a refusal of the mismatched Mcp-Method / Mcp-Name is about the mismatch.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    const tools = await listTools(t, accessToken, undefined);
    // A read-only tool: if the server wrongly executes the probe, nothing changes.
    const tool = tools?.find((x) => x.annotations?.readOnlyHint === true) ?? tools?.[0];
    if (!tool) {
      t.notApplicable('tools/list names no tool, so there is no tools/call to disguise');
      return;
    }
    const call: McpProbe = {
      method: 'tools/call',
      params: { name: tool.name, arguments: argumentsFor(tool.inputSchema) },
      token: accessToken,
    };
    const control = mcpControl(t, `tools/call ${tool.name} with matching headers`, (label) => ({
      ...call,
      label,
    }));
    const probes: [string, McpProbe][] = [
      [
        'Mcp-Method: tools/list on a tools/call body',
        {
          ...call,
          headers: [['mcp-method', 'tools/list']],
          label: 'tools/call body, Mcp-Method: tools/list',
        },
      ],
      [
        `Mcp-Name: mcp-auth-conformance-other-tool on a call of ${tool.name}`,
        {
          ...call,
          headers: [['mcp-name', 'mcp-auth-conformance-other-tool']],
          label: `tools/call ${tool.name}, Mcp-Name: another tool`,
        },
      ],
    ];
    const replies = await underControl(t, control, () =>
      Promise.all(probes.map(([, p]) => mcpCall(t.http, t.target, t.revision, p))),
    );
    if (!replies) return;
    const table: Record<string, unknown>[] = [];
    let refused = 0;
    probes.forEach(([what], i) => {
      const reply = replies[i]!;
      table.push({ probe: what, status: reply.response.status, code: errorCode(reply) ?? null });
      if (reply.response.status === 400 && errorCode(reply) === HEADER_MISMATCH) {
        refused++;
        return;
      }
      t.violated(
        `${what} was answered ${describeReply(reply)}${executed(reply) ? ' — the request was executed' : ''}, not 400 with -32020`,
        { exchanges: [reply.response.exchange] },
      );
    });
    t.data('probes', table);
    if (refused === probes.length) t.conforms('both header/body mismatches were refused with 400 / -32020');
  },
});

export const RS_TRN_04 = defineCheck({
  id: 'RS-TRN-04',
  title: 'Stateless transport: GET/DELETE 405, no session id minted, session headers ignored',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 Streamable HTTP §Backward Compatibility', 'SEP-2567', 'SEP-2575'],
  quotes: inMcp(['2026-07-28'], {
    section: 'Streamable HTTP: Earlier Streamable HTTP Revisions',
    text: 'A server that supports only this revision and receives such traffic from an older client SHOULD respond as follows:',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
  revisions: since('2026-07-28'),
  needs: ['token'],
  faults: ['rs-modern-only+rs-modern-session-id'],
  requirement:
    'Applies to a server that supports only 2026-07-28 (the section binds "a server that supports only this revision"; a dual-era server serves GET streams, DELETE and sessions to legacy clients): precondition, server/discover lists no legacy revision and an initialize of 2025-11-25 with the token gets no result. Then there are no sessions and no GET stream: GET and DELETE on the endpoint are answered 405; responses carry no Mcp-Session-Id; an Mcp-Session-Id or Last-Event-ID a client still sends is ignored (the request is served as usual, never tied to state).',
  remediation:
    'Answer GET and DELETE with 405, never set Mcp-Session-Id, and ignore Mcp-Session-Id / Last-Event-ID on requests.',
  probe:
    'GET and DELETE with a valid token; tools/list with the token; tools/list with Mcp-Session-Id and Last-Event-ID added.',
  control:
    'tools/list with the same token and no session headers, sent alongside the probes: served, it shows the token and endpoint serve requests, so a GET or DELETE answer other than 405, or a refusal with the session headers, is about them; otherwise only what was served (a stream, a session id) is judged.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    const legacy = await legacySupport(t, accessToken);
    t.data('modernOnly', legacy === undefined);
    if (legacy?.startsWith('unknown: ')) {
      t.notApplicable(
        `${legacy.slice('unknown: '.length)} (the rows bind "a server that supports only this revision")`,
      );
      return;
    }
    if (legacy) {
      t.notApplicable(
        `the server also speaks a legacy revision (${legacy}); 2026-07-28 §Backward Compatibility asks this only of "a server that supports only this revision"`,
      );
      return;
    }
    const auth: [string, string] = ['authorization', `Bearer ${accessToken}`];
    const version: [string, string] = ['mcp-protocol-version', t.revision];
    const bounded = { timeoutMs: Math.min(t.options.requestTimeoutMs, 5000), maxBodyBytes: 64 * 1024 };
    const raw = async (method: 'GET' | 'DELETE') => {
      try {
        return await t.http.request(t.target, {
          method,
          headers: [['accept', 'text/event-stream'], version, auth],
          label: `${method} on the MCP endpoint (with token)`,
          ...bounded,
        });
      } catch (err) {
        // A stream that never ends is itself the observation: the server opened one.
        if (err instanceof HttpTransportError && (err.kind === 'timeout' || err.kind === 'too-large'))
          return {
            status: -1,
            note: `${method} was not answered with a status before ${err.kind}: a stream was opened`,
          };
        throw err;
      }
    };
    const [get, del, plain, withHeaders] = await Promise.all([
      raw('GET'),
      raw('DELETE'),
      mcpCall(t.http, t.target, t.revision, toolsList(accessToken, undefined, 'tools/list (with token)')),
      mcpCall(t.http, t.target, t.revision, {
        ...toolsList(accessToken, undefined, 'tools/list with Mcp-Session-Id and Last-Event-ID'),
        headers: [
          ['mcp-session-id', 'mcp-auth-conformance-stale-session'],
          ['last-event-id', 'mcp-auth-conformance-event-1'],
        ],
      }),
    ]);
    const problems: string[] = [];
    // Control: tools/list with the same token and no session headers, sent alongside. When it is
    // not served, a refusal of GET, DELETE or the session headers may be about the token: only
    // what was served then (a stream, an answered GET or DELETE, a session id) is judged.
    const controlServed = is2xx(plain);
    for (const [method, response] of [
      ['GET', get],
      ['DELETE', del],
    ] as const) {
      const servedAnyway = 'note' in response || (response.status >= 200 && response.status <= 299);
      if (response.status !== 405 && (controlServed || servedAnyway))
        problems.push(
          'note' in response
            ? response.note
            : `${method} was answered ${response.status}, not 405 Method Not Allowed`,
        );
    }
    const minted = [plain, withHeaders].find((r) => r.response.headers.has('mcp-session-id'));
    if (minted)
      problems.push(
        `a 2026-07-28 response carries Mcp-Session-Id (${minted.response.exchange.label ?? 'tools/list'})`,
      );
    if (controlServed && !is2xx(withHeaders))
      problems.push(
        `tools/list with Mcp-Session-Id and Last-Event-ID was answered ${describeReply(withHeaders)}, so the headers were not ignored`,
      );
    t.data('observed', {
      GET: get.status,
      DELETE: del.status,
      sessionIdMinted: minted !== undefined,
      withSessionHeaders: withHeaders.response.status,
      control: plain.response.status,
    });
    for (const problem of problems) t.violated(problem);
    if (problems.length > 0) return;
    if (!controlServed)
      t.prerequisiteMissing(
        `control failed: tools/list with the token was answered ${describeReply(plain)}, so the answers to GET, DELETE and the session headers are not shown to be about them`,
        TOKEN_HOW,
      );
    else
      t.conforms('GET and DELETE are answered 405, no session id is minted and session headers are ignored');
  },
});

/**
 * Whether the server also speaks a legacy revision (2025-*), in words, or undefined when it shows
 * none: server/discover's supportedVersions, then an initialize of 2025-11-25 with the token (a
 * dual-era server answers it with a result; the session it opens is ended).
 */
async function legacySupport(t: CheckContext, token: string): Promise<string | undefined> {
  const discover = await mcpCall(t.http, t.target, t.revision, {
    method: 'server/discover',
    params: {},
    token,
    label: 'server/discover (which revisions does the server speak?)',
  });
  const versions = resultOf(discover)?.supportedVersions;
  // A modern server MUST implement server/discover: without its answer, nothing shows the server
  // speaks 2026-07-28 only (a refusal of the legacy probe below could be a refusal of everything).
  if (!Array.isArray(versions))
    return `unknown: server/discover with the token was answered ${describeReply(discover)}, so it cannot be shown that the server speaks 2026-07-28 only`;
  const listed = REVISIONS_2025.filter((r) => versions.includes(r));
  if (listed.length > 0) return `server/discover lists ${listed.join(', ')}`;
  const init = await mcpCall(t.http, t.target, '2025-11-25', {
    method: 'initialize',
    token,
    label: 'initialize 2025-11-25 (does the server also speak a legacy revision?)',
  });
  const version = resultOf(init)?.protocolVersion;
  if (typeof version !== 'string') return undefined;
  const sessionId = init.response.headers.get('mcp-session-id');
  if (sessionId) await endSession(t, token, { revision: '2025-11-25', protocolVersion: version, sessionId });
  return `initialize 2025-11-25 was answered with protocolVersion "${version}"`;
}

export const RS_TRN_05 = defineCheck({
  id: 'RS-TRN-05',
  title: 'GET on the MCP endpoint opens an SSE stream or is answered 405',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 Streamable HTTP §Listening for Messages from the Server',
    'MCP 2025-11-25 Streamable HTTP §Listening for Messages from the Server',
  ],
  quotes: REVISIONS_2025.map((revision) => ({
    source: `MCP ${revision}`,
    section: 'Listening for Messages from the Server',
    text: 'The server MUST either return Content-Type: text/event-stream in response to this HTTP GET, or else return HTTP 405 Method Not Allowed, indicating that the server does not offer an SSE stream at this endpoint.',
    keyword: 'MUST' as const,
    binds: 'resource-server' as const,
  })),
  revisions: REVISIONS_2025,
  needs: ['token'],
  faults: ['rs-get-404'],
  requirement:
    'A GET on the MCP endpoint (Accept: text/event-stream, the token, and the session id when the server issued one) is answered with Content-Type: text/event-stream or with 405 Method Not Allowed; nothing else (a 404 from a router that only routes POST, a 400, a JSON body). Control: a POST in the same session with the same token is served, so the answer is about GET. Not in the requirements catalogue (issue #13 item 7); numbered after RS-TRN-04. 2026-07-28 has no GET stream (RS-TRN-04).',
  remediation:
    'Route GET on the MCP endpoint: open an SSE stream, or answer 405 Method Not Allowed (with Allow: POST) when the server offers none.',
  probe:
    'Open a session with the token; ping in it (control); GET with Accept: text/event-stream; ping again (control).',
  control:
    'A ping with the token in the same session, right before and right after the GET: served, it shows the answer to GET is about the method, not a dead session or token.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    await withSession(t, accessToken, async (session) => {
      const version = session?.protocolVersion ?? t.revision;
      const control = mcpControl(t, 'ping in the same session with the token', (label) => ({
        method: 'ping',
        params: {},
        token: accessToken,
        ...(session ? { session } : {}),
        label,
      }));
      const get = await underControl(t, control, () =>
        rawGet(t, accessToken, [
          ['mcp-protocol-version', version],
          ...(session?.sessionId ? ([['mcp-session-id', session.sessionId]] as [string, string][]) : []),
        ]),
      );
      if (!get) return;
      t.data('get', { status: get.status, contentType: get.contentType ?? null });
      const evidence = get.exchange ? { exchanges: [get.exchange] } : {};
      const mediaType = (get.contentType ?? '').split(';')[0]!.trim().toLowerCase();
      if (get.status === 405) t.conforms('GET was answered 405 Method Not Allowed (no SSE stream offered)');
      else if (get.status >= 200 && get.status <= 299 && mediaType === 'text/event-stream')
        t.conforms(`GET was answered ${get.status} with Content-Type: text/event-stream`);
      else
        t.violated(
          `GET with Accept: text/event-stream was answered ${get.status}${get.contentType ? ` (Content-Type: ${get.contentType})` : ''}, neither an SSE stream nor 405 Method Not Allowed (${t.revision} Streamable HTTP §Listening for Messages from the Server)`,
          evidence,
        );
    });
  },
});

/** GET on the endpoint with the token; a stream that stays open is cut by the bound (headers kept). */
async function rawGet(
  t: CheckContext,
  token: string,
  headers: [string, string][],
): Promise<{ status: number; contentType?: string; exchange?: string }> {
  try {
    const response = await t.http.request(t.target, {
      method: 'GET',
      headers: [['accept', 'text/event-stream'], ...headers, ['authorization', `Bearer ${token}`]],
      label: 'GET on the MCP endpoint (SSE stream?)',
      // An SSE stream stays open: its status and headers come at once, 1.5 s is plenty.
      timeoutMs: Math.min(t.options.requestTimeoutMs, 1_500),
      maxBodyBytes: 64 * 1024,
    });
    const contentType = response.headers.get('content-type');
    return {
      status: response.status,
      ...(contentType ? { contentType } : {}),
      exchange: response.exchange.id,
    };
  } catch (err) {
    // An SSE stream is expected to stay open: its status and headers arrived before the bound.
    if (
      err instanceof HttpTransportError &&
      err.response &&
      (err.kind === 'timeout' || err.kind === 'too-large')
    ) {
      const contentType = err.response.headers.find(([n]) => n === 'content-type')?.[1];
      return {
        status: err.response.status,
        ...(contentType ? { contentType } : {}),
        ...(err.exchangeId ? { exchange: err.exchangeId } : {}),
      };
    }
    throw err;
  }
}

// --- Sessions (2025-06-18 / 2025-11-25) -------------------------------------------------------

/** Opens a session with the token, or says there is none (the server MAY issue no session id). */
async function sessionWith(t: CheckContext, token: string): Promise<McpSession | undefined> {
  const session = await openSessionOrSkip(t, token);
  if (!session) return undefined;
  if (session.sessionId) return session;
  t.notApplicable(
    'the server issued no Mcp-Session-Id on initialize (sessions are optional), so there is no session to misuse',
  );
  return undefined;
}

export const RS_SESS_01 = defineCheck({
  id: 'RS-SESS-01',
  title: 'A session id alone does not authenticate',
  level: 'MUST',
  refs: [
    'MCP Security Best Practices (2025-06-18, 2025-11-25) §Session Hijacking',
    'MCP 2025-06-18 §Token Handling',
  ],
  quotes: [
    ...inMcp(REVISIONS_2025, {
      section: 'Security Best Practices: Session Hijacking',
      text: 'MCP Servers MUST NOT use sessions for authentication.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    }),
    ...VERIFY_ALL_INBOUND.filter((q) => q.source !== 'MCP 2026-07-28'),
  ],
  revisions: REVISIONS_2025,
  needs: ['token'],
  faults: ['rs-session-authenticates'],
  requirement:
    'MUST NOT use sessions for authentication: a request carrying a valid Mcp-Session-Id but no token is answered 401, not served. The token is required on every request, even within a session.',
  remediation: 'Verify the bearer token on every request, whether or not it names a known session.',
  probe:
    'initialize + notifications/initialized with a token, then tools/list (or, when the target serves tools/list to anyone, the method the token checks probe on) with only the Mcp-Session-Id.',
  control:
    'The same request in the same session with the token, right before and right after the one with only the session id: served, it shows the refusal was about the missing token.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    // A method the target answers without any token proves nothing about the session id: a server
    // may keep tools/list public (requirements §3 A3; declared with --expect-public, or seen by the
    // protected-request fixture), and then the follow-up is the method the token checks probe on.
    const { probe, publicDefault } = await t.fixture('protected-request');
    const listIsPublic =
      t.options.expectPublic.includes('tools/list') ||
      publicDefault?.answered.includes('tools/list') === true;
    const method = listIsPublic ? probe.method : 'tools/list';
    if (listIsPublic && (method === 'tools/list' || publicDefault?.answered.includes(method))) {
      t.notApplicable(
        'every method the harness probes with is served without a token, so a session id that authenticates cannot be told apart',
      );
      return;
    }
    const session = await sessionWith(t, accessToken);
    if (!session) return;
    try {
      const control = mcpControl(t, `${method} in the session with the token`, (label) => ({
        method,
        params: {},
        token: accessToken,
        session,
        label,
      }));
      const reply = await underControl(t, control, () =>
        mcpCall(t.http, t.target, t.revision, {
          method,
          params: {},
          session,
          label: `${method} with the session id and no token`,
        }),
      );
      if (!reply) return;
      t.data('status', reply.response.status);
      if (is2xx(reply))
        t.violated(
          `${method} with only the session id was served (${describeReply(reply)}): the session authenticated it`,
        );
      else if (reply.response.status === 401)
        t.conforms(`${method} with only the session id was answered 401`);
      else
        t.conforms(
          `${method} with only the session id was refused with ${reply.response.status} (401 expected, but not served)`,
        );
    } finally {
      await endSession(t, accessToken, session);
    }
  },
});

export const RS_SESS_02 = defineCheck({
  id: 'RS-SESS-02',
  title: "A session is bound to its user: another user's token cannot use it",
  level: 'SHOULD',
  refs: [
    'MCP Security Best Practices 2025-11-25 §Session Hijacking ("bind session IDs to user-specific information")',
  ],
  quotes: inMcp(REVISIONS_2025, {
    section: 'Security Best Practices: Session Hijacking',
    text: 'MCP servers SHOULD bind session IDs to user-specific information.',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
  revisions: REVISIONS_2025,
  needs: ['token', 'token-user-b'],
  faults: ['rs-session-not-bound'],
  requirement:
    "A session created with user A's token is refused (4xx) when used with user B's valid token, so a leaked session id does not carry A's state to B.",
  remediation:
    'Store the token subject with the session and refuse (404, as for an unknown session) a request whose token has another subject.',
  probe:
    "Session opened with user A's token; tools/list in it with A's token (control), then with user B's token.",
  control:
    "tools/list in user A's session with A's own token, right before and right after the one with user B's token: served, it shows the refusal was about whose token it is.",
  async run(t) {
    const a = (await t.fixture('token')).accessToken;
    const b = (await t.fixture('token-user-b')).accessToken;
    const session = await sessionWith(t, a);
    if (!session) return;
    try {
      const control = mcpControl(t, "tools/list in A's session with A's token", (label) =>
        toolsList(a, session, label),
      );
      const reply = await underControl(t, control, () =>
        mcpCall(
          t.http,
          t.target,
          t.revision,
          toolsList(b, session, "tools/list in A's session with B's token"),
        ),
      );
      if (!reply) return;
      t.data('status', reply.response.status);
      if (is2xx(reply)) t.violated(`user B's token was served in user A's session (${describeReply(reply)})`);
      else t.conforms(`user B's token in user A's session was refused with ${reply.response.status}`);
    } finally {
      await endSession(t, a, session);
    }
  },
});

/** How many session ids RS-SESS-03 collects (requirements: at least 20). */
const SESSION_SAMPLES = 20;

export const RS_SESS_03 = defineCheck({
  id: 'RS-SESS-03',
  title: 'Session ids are visible ASCII, unique and unpredictable',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 Streamable HTTP §Session Management',
    'MCP Security Best Practices §Session Hijacking ("secure, non-deterministic session IDs")',
  ],
  quotes: [
    ...inMcp(REVISIONS_2025, {
      section: 'Transports: Session Management',
      text: 'The session ID MUST only contain visible ASCII characters (ranging from 0x21 to 0x7E).',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(REVISIONS_2025, {
      section: 'Transports: Session Management',
      text: 'The session ID SHOULD be globally unique and cryptographically secure (e.g., a securely generated UUID, a JWT, or a cryptographic hash).',
      keyword: 'SHOULD',
      binds: 'resource-server',
    }),
    ...inMcp(REVISIONS_2025, {
      section: 'Security Best Practices: Session Hijacking',
      text: 'MCP servers MUST use secure, non-deterministic session IDs.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
  ],
  revisions: REVISIONS_2025,
  needs: ['token'],
  faults: ['rs-session-id-predictable'],
  requirement: `Over ${SESSION_SAMPLES} sessions: every Mcp-Session-Id is visible ASCII (0x21-0x7E), no two are equal, and they show no counter or clock pattern. An entropy estimate is reported (data.estimatedBits; below 128 bits is noted, not judged: it is a heuristic).`,
  remediation:
    'Generate session ids from a CSPRNG (e.g. 32 random bytes, base64url), never from a counter or a timestamp.',
  probe: `${SESSION_SAMPLES} initialize requests with a token (5 at a time); each session is ended with DELETE.`,
  control:
    'None: the check judges the session ids the server issues (charset, uniqueness, patterns), not a refusal.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    const ids: string[] = [];
    for (let batch = 0; batch < SESSION_SAMPLES / 5; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 5 }, () =>
          mcpCall(t.http, t.target, t.revision, {
            method: 'initialize',
            token: accessToken,
            label: 'initialize (session id sample)',
          }),
        ),
      );
      for (const reply of replies) {
        const id = reply.response.headers.get('mcp-session-id');
        if (id === null) continue;
        ids.push(id);
        await endSession(t, accessToken, {
          revision: t.revision,
          protocolVersion: t.revision,
          sessionId: id,
        });
      }
    }
    if (ids.length === 0) {
      t.notApplicable('the server issued no Mcp-Session-Id on initialize (sessions are optional)');
      return;
    }
    const analysis = analyseIds(ids);
    t.data('samples', ids.length);
    t.data('estimatedBits', analysis.estimatedBits);
    if (analysis.estimatedBits < 128)
      t.note(`estimated entropy ${analysis.estimatedBits} bits is below 128 (heuristic)`);
    const problems: string[] = [];
    const bad = ids.find((id) => !/^[\x21-\x7e]+$/.test(id));
    if (bad !== undefined)
      problems.push(`a session id has characters outside visible ASCII 0x21-0x7E: ${JSON.stringify(bad)}`);
    if (analysis.duplicates > 0)
      problems.push(`${analysis.duplicates} of ${ids.length} session ids repeat an earlier one`);
    if (analysis.pattern) problems.push(analysis.pattern);
    for (const problem of problems) t.violated(problem);
    if (problems.length === 0)
      t.conforms(
        `${ids.length} session ids: visible ASCII, unique, no counter or clock pattern (about ${analysis.estimatedBits} bits)`,
      );
  },
});

/**
 * Heuristics over sampled ids (requirements RS-SESS-03):
 * - pattern: all ids share one shape once digit runs are blanked (`session-#`), and some digit
 *   field varies only within a narrow range (less than 1000 per sample): a counter or a clock;
 * - estimatedBits: (positions that vary across samples) x log2(size of the observed alphabet), a
 *   rough upper bound, over the shortest id.
 */
export function analyseIds(ids: readonly string[]): {
  duplicates: number;
  pattern?: string;
  estimatedBits: number;
} {
  const duplicates = ids.length - new Set(ids).size;
  let pattern: string | undefined;
  const shapes = new Set(ids.map((id) => id.replace(/\d+/g, '#')));
  if (shapes.size === 1 && ids.length > 1) {
    const fields = ids.map((id) => (id.match(/\d+/g) ?? []).map((d) => BigInt(d)));
    const count = fields[0]!.length;
    for (let f = 0; f < count; f++) {
      const values = fields.map((v) => v[f]!);
      const min = values.reduce((a, b) => (b < a ? b : a));
      const max = values.reduce((a, b) => (b > a ? b : a));
      if (max !== min && max - min < BigInt(1000 * ids.length)) {
        pattern = `the session ids differ only in a number that stays within ${String(max - min)} over ${ids.length} samples (a counter or a clock): e.g. ${ids.slice(0, 3).join(', ')}`;
        break;
      }
    }
  }
  const length = Math.min(...ids.map((id) => id.length));
  const alphabet = new Set(ids.join(''));
  let varying = 0;
  for (let i = 0; i < length; i++) if (new Set(ids.map((id) => id[i])).size > 1) varying++;
  const estimatedBits = Math.round(varying * Math.log2(Math.max(alphabet.size, 1)));
  return { duplicates, ...(pattern ? { pattern } : {}), estimatedBits };
}

// ---------------------------------------------------------------------------------------------
// RS-SESS-04: multi-round-trip state handles (MCP 2026-07-28).

/**
 * Client capabilities the RS-SESS-04 probes declare in the `_meta` envelope: the harness answers
 * every kind of embedded input request (answersFor), so it may say so; a server refuses to ask
 * for input a client did not declare (2026-07-28 basic/patterns/mrtr).
 */
const MRTR_CLIENT_CAPABILITIES = { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} };

/**
 * The answer of a cooperative user to each embedded input request: accept a form elicitation
 * with its required fields filled (booleans true: a confirmation is given), accept a URL
 * elicitation, an empty roots list, a fixed sampling reply.
 */
export function answersFor(inputRequests: unknown): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  if (inputRequests === null || typeof inputRequests !== 'object') return answers;
  for (const [key, request] of Object.entries(inputRequests as Record<string, unknown>)) {
    const { method, params } = (request ?? {}) as { method?: unknown; params?: Record<string, unknown> };
    if (method === 'elicitation/create') {
      if (params?.mode === 'url') {
        answers[key] = { action: 'accept' };
        continue;
      }
      const schema = params?.requestedSchema as Record<string, unknown> | undefined;
      const content = argumentsFor(schema);
      const properties = (schema?.properties ?? {}) as Record<string, { type?: unknown }>;
      for (const name of Object.keys(content)) if (properties[name]?.type === 'boolean') content[name] = true;
      answers[key] = { action: 'accept', content };
    } else if (method === 'roots/list') {
      answers[key] = { roots: [] };
    } else if (method === 'sampling/createMessage') {
      answers[key] = {
        role: 'assistant',
        content: { type: 'text', text: 'mcp-auth-conformance probe' },
        model: 'mcp-auth-conformance',
      };
    }
  }
  return answers;
}

/**
 * `state` with one character changed, five from the end (inside any MAC or signature that
 * trails the payload), skipping characters that are likely separators. Never a base64 final
 * character, whose low bits may be ignored by a decoder.
 */
export function tamperState(state: string): string {
  for (let i = Math.max(0, state.length - 5); i >= 0; i--) {
    const c = state[i]!;
    if (!/[A-Za-z0-9]/.test(c)) continue;
    return state.slice(0, i) + (c === 'A' ? 'B' : 'A') + state.slice(i + 1);
  }
  return `${state}A`;
}

/** The call finished (a result that is not another input_required round). */
function completed(reply: McpReply): boolean {
  return executed(reply) && resultOf(reply)?.resultType !== 'input_required';
}

export const RS_SESS_04 = defineCheck({
  id: 'RS-SESS-04',
  title: 'A requestState handle is not authentication, and a tampered one is refused',
  level: 'MUST',
  refs: [
    'MCP 2026-07-28 Security Best Practices §State Handle Hijacking',
    'MCP 2026-07-28 basic/patterns/mrtr §Server Requirements (requestState integrity)',
  ],
  quotes: inMcp(
    ['2026-07-28'],
    [
      {
        section: 'Security Best Practices: State Handle Hijacking',
        text: 'MCP servers MUST NOT treat possession of a state handle as authentication.',
        keyword: 'MUST NOT',
        binds: 'resource-server',
      },
      {
        section: 'Multi Round-Trip Requests: Server Requirements (Basic Workflow)',
        text: 'If a client request contains a requestState field, servers MUST treat requestState as an attacker-controlled input.',
        keyword: 'MUST',
        binds: 'resource-server',
      },
      {
        section: 'Multi Round-Trip Requests: Server Requirements (Basic Workflow)',
        text: 'If requestState influences authorization, resource access, or business logic, servers MUST protect its integrity (e.g. HMAC or AEAD) and MUST reject state that fails verification.',
        keyword: 'MUST',
        binds: 'resource-server',
      },
    ],
  ),
  revisions: since('2026-07-28'),
  needs: ['token', 'token-user-b'],
  faults: ['rs-request-state-unverified'],
  requirement:
    "The requestState a server minted for user A's multi-round-trip request does not let anyone else finish that request: user B's valid token with A's state is refused (MUST NOT treat possession of the handle as authentication), the state without a token is answered 401, and a requestState with one character changed is refused (state that influences authorization MUST be integrity-protected and verified). A control retry by A with its own state must complete, so the refusals are the state's doing.",
  remediation:
    'Integrity-protect requestState (HMAC or AEAD, e.g. the SDK createRequestStateCodec) with a binding to the authenticated user, verify it on every retry before the handler runs (ServerOptions.requestState.verify), and authenticate each round with its own token.',
  probe:
    "tools/call of the --state-tool with user A's token (round 1: input_required + requestState); the retry with A's state and answers sent with user B's token, with no token, and with A's token and a state with one character changed; then A's own retry as the control.",
  control:
    "User A's own retry with its requestState and the same answers, sent after the probes: completed, it shows the refusals of user B's token and of the tampered state are about the handle. A probe that completed needs no control.",
  async run(t) {
    const tool = t.options.stateTool;
    if (!tool) {
      t.prerequisiteMissing(
        'no tool is known to answer with input_required and a requestState',
        'name one with --state-tool NAME (a tool whose first tools/call answers input_required with a requestState)',
      );
      return;
    }
    const a = (await t.fixture('token')).accessToken;
    const b = (await t.fixture('token-user-b')).accessToken;
    const known = (await listTools(t, a, undefined))?.find((x) => x.name === tool);
    const args = argumentsFor(known?.inputSchema);
    const call = (token: string | undefined, extra: Record<string, unknown>, label: string) =>
      mcpCall(t.http, t.target, t.revision, {
        method: 'tools/call',
        params: {
          name: tool,
          arguments: args,
          ...extra,
          _meta: { 'io.modelcontextprotocol/clientCapabilities': MRTR_CLIENT_CAPABILITIES },
        },
        ...(token !== undefined ? { token } : {}),
        label,
      });

    const first = await call(a, {}, `tools/call ${tool} (user A, first round)`);
    const round = resultOf(first);
    const state = round?.requestState;
    if (round?.resultType !== 'input_required' || typeof state !== 'string') {
      t.notApplicable(
        `tools/call ${tool} with user A's token was answered ${describeReply(first)}, not input_required with a requestState, so there is no state handle to replay`,
      );
      return;
    }
    const inputResponses = answersFor(round.inputRequests);
    const retry = (token: string | undefined, wire: string, who: string) =>
      call(token, { inputResponses, requestState: wire }, `tools/call ${tool} retry: ${who}`);
    const [byB, anonymous, tampered] = await Promise.all([
      retry(b, state, "user B's token, user A's requestState"),
      retry(undefined, state, "no token, user A's requestState"),
      retry(a, tamperState(state), "user A's token, requestState with one character changed"),
    ]);
    const own = await retry(a, state, "user A's token and own requestState (control)");
    t.data('replies', {
      userB: describeReply(byB),
      noToken: describeReply(anonymous),
      tampered: describeReply(tampered),
      controlUserA: describeReply(own),
    });

    const problems: string[] = [];
    if (completed(byB))
      problems.push(
        `user B's token with user A's requestState finished A's request (${describeReply(byB)}): possession of the state handle acted as authentication`,
      );
    if (anonymous.response.status !== 401)
      problems.push(
        `user A's requestState without a token was answered ${describeReply(anonymous)}, not 401`,
      );
    if (completed(tampered))
      problems.push(
        `a requestState with one character changed was accepted (${describeReply(tampered)}): the state is not integrity-protected`,
      );
    for (const problem of problems) t.violated(problem);
    if (problems.length > 0) return;
    if (!completed(own)) {
      t.data('control', { what: "user A's own retry with its requestState", status: own.response.status });
      t.prerequisiteMissing(
        `control failed: user A's own retry with its requestState was answered ${describeReply(own)}, so the refusals cannot be attributed to the state handle`,
        TOKEN_HOW,
      );
      return;
    }
    t.conforms(
      `user A's requestState completes only for A: with user B's token ${describeReply(byB)}, without a token 401, tampered ${describeReply(tampered)}`,
    );
  },
});

export const checks = [
  RS_TRN_01,
  RS_TRN_02,
  RS_TRN_03,
  RS_TRN_04,
  RS_TRN_05,
  RS_SESS_01,
  RS_SESS_02,
  RS_SESS_03,
  RS_SESS_04,
];
