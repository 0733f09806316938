// JSON-RPC probes on the MCP endpoint, shaped per spec revision.
//
// A negative probe must be an otherwise-valid request for the revision (DESIGN.md §Anatomy of a
// check), so the wire shape here copies what the official SDKs send (read from the v2 client in
// @modelcontextprotocol/client and checked against createMcpHandler in the tests):
//
// 2025-06-18 / 2025-11-25 (Streamable HTTP, transports.mdx of those revisions):
//   POST, `Content-Type: application/json`, `Accept: application/json, text/event-stream`;
//   `initialize` first (no MCP-Protocol-Version header on it), then `notifications/initialized`;
//   every later request carries `MCP-Protocol-Version: <negotiated>` and `Mcp-Session-Id` when the
//   server issued one.
// 2026-07-28 (stateless; SEP-2567/2575/2243): no initialize, no session; every POST carries
//   `MCP-Protocol-Version`, `Mcp-Method: <method>` and, for methods that name a target,
//   `Mcp-Name` (tools/call and prompts/get: params.name; resources/read: params.uri; tasks/*:
//   params.taskId); the body carries the per-request `_meta` envelope
//   (`io.modelcontextprotocol/protocolVersion`, `.../clientInfo`, `.../clientCapabilities`);
//   `server/discover` replaces the handshake.
// Replies are JSON or SSE (`text/event-stream`: the JSON-RPC response is taken from data lines).

import type { HttpClient, HttpResponse } from './http.ts';
import { isRevision, isStateless, REVISIONS, type Revision } from './revisions.ts';

export interface McpProbe {
  method: string;
  params?: Record<string, unknown>;
  /** Request id; `null` sends a notification (no id); undefined picks the next number. */
  id?: number | string | null;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Extra headers; a name given here replaces the built header of that name (all pairs are sent, so a name may repeat on purpose). */
  headers?: [string, string][];
  /** Label of the recorded exchange. */
  label?: string;
  session?: McpSession;
  /** Built headers to leave out (case-insensitive names), for single-defect probes. */
  omitHeaders?: string[];
}

export interface McpSession {
  revision: Revision;
  /** `Mcp-Session-Id` the server issued (2025-* only, when it issued one). */
  sessionId?: string;
  /** The version to send in `MCP-Protocol-Version`: negotiated (2025-*) or the revision (2026-07-28). */
  protocolVersion: string;
}

export interface McpReply {
  response: HttpResponse;
  /** The JSON-RPC message, from a JSON body or from the SSE data lines; undefined when none parses. */
  message?: Record<string, unknown>;
}

/** JSON-RPC methods a client can send, probed anonymously by the RS-PUB family (issue #5). */
export const PUBLIC_METHOD_CANDIDATES: readonly string[] = [
  'initialize',
  'notifications/initialized',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'server/discover',
];

export const CLIENT_INFO = { name: 'mcp-auth-conformance', version: '0.1.0' } as const;

// `_meta` envelope keys of 2026-07-28 (PROTOCOL_VERSION_META_KEY etc. in @modelcontextprotocol/core).
const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

/** Which `params` field `Mcp-Name` mirrors, per method (MCP_NAME_HEADER_SOURCE in the SDK). */
const MCP_NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

let nextId = 1;

/** The headers and body of one probe, without sending it (checks may inspect or alter them). */
export function buildMcpRequest(
  url: string,
  revision: Revision,
  probe: McpProbe,
): { headers: [string, string][]; body: string } {
  void url; // the shape does not depend on the URL today; kept for the contract's symmetry
  const headers: [string, string][] = [
    ['content-type', 'application/json'],
    ['accept', 'application/json, text/event-stream'],
  ];
  let params = probe.params;
  const version = probe.session?.protocolVersion ?? revision;
  if (isStateless(revision)) {
    headers.push(['mcp-protocol-version', version], ['mcp-method', probe.method]);
    const nameField = MCP_NAME_SOURCE[probe.method];
    const nameValue = nameField ? params?.[nameField] : undefined;
    if (typeof nameValue === 'string') headers.push(['mcp-name', encodeHeaderValue(nameValue)]);
    params = withEnvelope(params, version);
  } else {
    // The handshake request itself carries no MCP-Protocol-Version (it is what negotiates it).
    if (probe.method !== 'initialize') headers.push(['mcp-protocol-version', version]);
    if (probe.session?.sessionId) headers.push(['mcp-session-id', probe.session.sessionId]);
    if (probe.method === 'initialize' && params === undefined) {
      params = { protocolVersion: revision, capabilities: {}, clientInfo: CLIENT_INFO };
    }
  }
  if (probe.token !== undefined) headers.push(['authorization', `Bearer ${probe.token}`]);

  const omit = new Set((probe.omitHeaders ?? []).map((h) => h.toLowerCase()));
  const overridden = new Set((probe.headers ?? []).map(([n]) => n.toLowerCase()));
  const finalHeaders = headers
    .filter(([n]) => !omit.has(n) && !overridden.has(n))
    .concat((probe.headers ?? []).map(([n, v]) => [n, v] as [string, string]));

  const message: Record<string, unknown> = { jsonrpc: '2.0' };
  if (probe.id !== null) message.id = probe.id ?? nextId++;
  message.method = probe.method;
  if (params !== undefined) message.params = params;
  return { headers: finalHeaders, body: JSON.stringify(message) };
}

/** Sends one probe and parses the reply (JSON or SSE). Transport errors propagate (HttpTransportError). */
export async function mcpCall(
  http: HttpClient,
  url: string,
  revision: Revision,
  probe: McpProbe,
): Promise<McpReply> {
  const { headers, body } = buildMcpRequest(url, revision, probe);
  const id = (JSON.parse(body) as { id?: unknown }).id;
  const response = await http.request(url, {
    method: 'POST',
    headers,
    body,
    label: probe.label ?? `MCP ${probe.method}${probe.token !== undefined ? ' (with token)' : ''}`,
  });
  const message = parseJsonRpcReply(response, id);
  return message ? { response, message } : { response };
}

/** Thrown by `openSession` when the handshake (or `server/discover`) is not answered with a result. */
export class McpSessionError extends Error {
  constructor(
    message: string,
    readonly replies: McpReply[],
  ) {
    super(message);
    this.name = 'McpSessionError';
  }
}

/**
 * Opens what the revision needs before ordinary requests:
 * - 2025-*: `initialize` (keeps `Mcp-Session-Id` if the server sent one, and the negotiated
 *   `protocolVersion`), then `notifications/initialized` (transports.mdx: the client MUST send it).
 * - 2026-07-28: `server/discover`; no session exists, the revision must be among `supportedVersions`.
 * Throws McpSessionError (with every reply) when the server does not answer with a result.
 */
export async function openSession(
  http: HttpClient,
  url: string,
  revision: Revision,
  token?: string,
): Promise<{ session: McpSession; replies: McpReply[] }> {
  const withToken = token !== undefined ? { token } : {};
  if (isStateless(revision)) {
    const reply = await mcpCall(http, url, revision, { method: 'server/discover', params: {}, ...withToken });
    const result = resultOf(reply);
    if (!result) throw new McpSessionError(describeFailure('server/discover', reply), [reply]);
    const versions = result.supportedVersions;
    if (!Array.isArray(versions) || !versions.includes(revision)) {
      throw new McpSessionError(
        `server/discover does not list ${revision} in supportedVersions (${JSON.stringify(versions)})`,
        [reply],
      );
    }
    return { session: { revision, protocolVersion: revision }, replies: [reply] };
  }

  const init = await mcpCall(http, url, revision, { method: 'initialize', ...withToken });
  const result = resultOf(init);
  if (!result) throw new McpSessionError(describeFailure('initialize', init), [init]);
  const sessionId = init.response.headers.get('mcp-session-id') ?? undefined;
  const protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : revision;
  const session: McpSession = { revision, protocolVersion, ...(sessionId ? { sessionId } : {}) };
  const initialized = await mcpCall(http, url, revision, {
    method: 'notifications/initialized',
    id: null,
    session,
    ...withToken,
  });
  if (initialized.response.status < 200 || initialized.response.status > 299) {
    throw new McpSessionError(
      `notifications/initialized was answered ${initialized.response.status}, not 202 Accepted`,
      [init, initialized],
    );
  }
  return { session, replies: [init, initialized] };
}

/** The JSON-RPC `result` object of a reply, when there is one. */
export function resultOf(reply: McpReply): Record<string, unknown> | undefined {
  const result = reply.message?.result;
  return result !== null && typeof result === 'object' && !Array.isArray(result)
    ? (result as Record<string, unknown>)
    : undefined;
}

/**
 * Finds the JSON-RPC response in a reply body: the JSON body itself, or among SSE events the
 * message whose id matches (else the first message with `result` or `error`).
 */
export function parseJsonRpcReply(response: HttpResponse, id: unknown): Record<string, unknown> | undefined {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const candidates: Record<string, unknown>[] = [];
  if (type === 'text/event-stream') {
    for (const data of sseData(response.text)) {
      const parsed = tryJson(data);
      if (isObject(parsed)) candidates.push(parsed);
    }
  } else {
    const parsed = tryJson(response.text);
    if (isObject(parsed)) candidates.push(parsed);
  }
  const responses = candidates.filter((m) => 'result' in m || 'error' in m);
  return responses.find((m) => id !== undefined && m.id === id) ?? responses[0] ?? candidates[0];
}

/** The data of each event of an SSE stream (WHATWG HTML §9.2.6: `data:` lines joined by "\n"). */
export function sseData(text: string): string[] {
  const events: string[] = [];
  let data: string[] = [];
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    if (rawLine === '') {
      if (data.length > 0) events.push(data.join('\n'));
      data = [];
      continue;
    }
    if (rawLine.startsWith(':')) continue;
    const colon = rawLine.indexOf(':');
    const field = colon === -1 ? rawLine : rawLine.slice(0, colon);
    let value = colon === -1 ? '' : rawLine.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
  }
  if (data.length > 0) events.push(data.join('\n'));
  return events;
}

function withEnvelope(params: Record<string, unknown> | undefined, version: string): Record<string, unknown> {
  const meta = isObject(params?._meta) ? params._meta : {};
  return {
    ...(params ?? {}),
    _meta: {
      [META_PROTOCOL_VERSION]: version,
      [META_CLIENT_INFO]: CLIENT_INFO,
      [META_CLIENT_CAPABILITIES]: {},
      ...meta, // caller-supplied keys win, so a probe can send a mismatching envelope on purpose
    },
  };
}

/**
 * Header value encoding of SEP-2243 (as `encodeMcpParamValue` in the SDK): plain when the value is
 * visible ASCII without surrounding whitespace, otherwise `=?base64?<base64 of UTF-8>?=`.
 */
export function encodeHeaderValue(value: string): string {
  const plain =
    value.length > 0 &&
    value === value.trim() &&
    !(value.startsWith('=?base64?') && value.endsWith('?=')) &&
    /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function describeFailure(method: string, reply: McpReply): string {
  const error = reply.message?.error;
  const detail = isObject(error) ? `: JSON-RPC error ${String(error.code)} ${String(error.message)}` : '';
  return `${method} was answered HTTP ${reply.response.status} without a JSON-RPC result${detail}`;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Which revision does the server speak? (`--spec auto`, issue #13 item 2)
//
// MCP 2026-07-28 §Versioning "Backward Compatibility" and Streamable HTTP §Backward Compatibility:
// a client detects the era by attempting a modern request first; a recognized modern answer
// (a DiscoverResult, or an UnsupportedProtocolVersionError listing `supported`) identifies a
// modern server, anything else a legacy one, which is then asked with `initialize` (the newest
// 2025 revision; 2025-11-25 Lifecycle §Version Negotiation: the server answers the version it
// supports, "which SHOULD be the latest"). The harness checks the newest revision the server
// claims, never a later one.

/** How the revision of a run was chosen (report.json `revisionDetection`). */
export interface RevisionDetection {
  revision: Revision;
  /**
   * forced: --spec REV; embedded: the embedded server, newest; negotiated: asked the server;
   * undetected: the server's answers showed no revision (the newest is checked, and the report says so).
   */
  how: 'forced' | 'embedded' | 'negotiated' | 'undetected';
  /** One sentence: what was sent and what the server answered. */
  detail: string;
  /** Versions the server named (supportedVersions, data.supported, or the protocolVersion it answered). */
  advertised?: string[];
  /** The negotiation was made with the harness's access token (anonymous requests were refused with 401). */
  withToken?: boolean;
  /** Ids of the negotiation exchanges (evidence). */
  exchanges: string[];
}

/** One negotiation attempt: a revision, or why none could be read (needsToken: refused with 401). */
export type NegotiationOutcome =
  | { detection: RevisionDetection }
  | { needsToken: true; detail: string; exchanges: string[] }
  | { inconclusive: string; exchanges: string[] };

/** The newest revision the harness knows among `versions`, if any. */
export function newestKnown(versions: readonly unknown[]): Revision | undefined {
  const known = REVISIONS.filter((r) => versions.includes(r));
  return known[known.length - 1];
}

const NEWEST_LEGACY: Revision = '2025-11-25';
/** 2026-07-28 schema: UnsupportedProtocolVersionError. */
const UNSUPPORTED_VERSION_CODE = -32022;

/**
 * Asks the server which revision it speaks: `server/discover` (2026-07-28), then `initialize`
 * with the newest 2025 revision. With `token` the requests carry it (for servers that refuse
 * anonymous requests: a 401 comes before any negotiation). A session `initialize` opened is ended.
 */
export async function negotiateRevision(
  http: HttpClient,
  url: string,
  token?: string,
): Promise<NegotiationOutcome> {
  const withToken = token !== undefined ? { token } : {};
  const exchanges: string[] = [];
  const how = token !== undefined ? " (with the harness's token)" : '';
  const discover = await mcpCall(http, url, '2026-07-28', {
    method: 'server/discover',
    params: {},
    ...withToken,
    label: `revision negotiation: server/discover${how}`,
  });
  exchanges.push(discover.response.exchange.id);
  const result = resultOf(discover);
  const error = discover.message?.error as { code?: unknown; data?: { supported?: unknown } } | undefined;
  const discovered = Array.isArray(result?.supportedVersions)
    ? { versions: result.supportedVersions as unknown[], via: 'server/discover lists supportedVersions' }
    : error?.code === UNSUPPORTED_VERSION_CODE && Array.isArray(error.data?.supported)
      ? {
          versions: error.data.supported as unknown[],
          via: 'server/discover was answered UnsupportedProtocolVersionError with supported',
        }
      : undefined;
  if (discovered) {
    const revision = newestKnown(discovered.versions);
    const advertised = discovered.versions.map(String);
    if (revision)
      return {
        detection: {
          revision,
          how: 'negotiated',
          detail: `${discovered.via} ${JSON.stringify(advertised)}${how}: the newest the harness checks is ${revision}`,
          advertised,
          ...(token !== undefined ? { withToken: true } : {}),
          exchanges,
        },
      };
  }
  const init = await mcpCall(http, url, NEWEST_LEGACY, {
    method: 'initialize',
    ...withToken,
    label: `revision negotiation: initialize ${NEWEST_LEGACY}${how}`,
  });
  exchanges.push(init.response.exchange.id);
  const version = resultOf(init)?.protocolVersion;
  const sessionId = init.response.headers.get('mcp-session-id');
  if (sessionId && typeof version === 'string') {
    // Leave no state behind (2025-06-18 §Session Management: DELETE ends a session).
    await http
      .request(url, {
        method: 'DELETE',
        headers: [
          ['mcp-session-id', sessionId],
          ['mcp-protocol-version', version],
          ...(token !== undefined ? ([['authorization', `Bearer ${token}`]] as [string, string][]) : []),
        ],
        label: 'revision negotiation: end the session',
      })
      .then((r) => exchanges.push(r.exchange.id))
      .catch(() => undefined);
  }
  const before = discovered
    ? `${discovered.via} ${JSON.stringify(discovered.versions)}, none of which the harness checks; `
    : `server/discover was answered ${describeStatus(discover)}; `;
  if (typeof version === 'string') {
    if (isRevision(version))
      return {
        detection: {
          revision: version,
          how: 'negotiated',
          detail: `${before}initialize ${NEWEST_LEGACY} was answered protocolVersion "${version}"${how}`,
          advertised: [version],
          ...(token !== undefined ? { withToken: true } : {}),
          exchanges,
        },
      };
    return {
      inconclusive: `${before}initialize ${NEWEST_LEGACY} was answered protocolVersion "${version}", a revision the harness does not check`,
      exchanges,
    };
  }
  if (discover.response.status === 401 || init.response.status === 401)
    return {
      needsToken: true,
      detail: `${before}initialize was answered ${describeStatus(init)}`,
      exchanges,
    };
  return { inconclusive: `${before}initialize was answered ${describeStatus(init)}${how}`, exchanges };
}

/** `HTTP 400 with JSON-RPC error -32000 (Bad Request: …)` */
function describeStatus(reply: McpReply): string {
  const error = reply.message?.error;
  return `HTTP ${reply.response.status}${isObject(error) ? ` with JSON-RPC error ${String(error.code)} (${String(error.message)})` : ''}`;
}

/**
 * The revision of a run against a target under `--spec auto`: anonymous negotiation first; when
 * the server refuses it with 401 (the ordinary case for a protected server: authentication comes
 * before anything else), again with the token `getToken` obtains (the run's token fixture, whose
 * discovery and authorization follow the 401 challenge, which needs no revision). Throws
 * RevisionUnknown, with the reason, when no revision the harness checks can be read.
 */
export async function detectRevision(
  http: HttpClient,
  url: string,
  getToken: () => Promise<string>,
): Promise<RevisionDetection> {
  const anonymous = await negotiateRevision(http, url);
  if ('detection' in anonymous) return anonymous.detection;
  if ('inconclusive' in anonymous) throw new RevisionUnknown(anonymous.inconclusive);
  let token: string;
  try {
    token = await getToken();
  } catch (err) {
    throw new RevisionUnknown(
      `anonymous negotiation was refused (${anonymous.detail}) and no token could be obtained to ask again: ${(err as Error).message}`,
    );
  }
  const authenticated = await negotiateRevision(http, url, token);
  if ('detection' in authenticated)
    return {
      ...authenticated.detection,
      detail: `anonymous negotiation was refused with 401; ${authenticated.detection.detail}`,
      exchanges: [...anonymous.exchanges, ...authenticated.detection.exchanges],
    };
  throw new RevisionUnknown(
    'needsToken' in authenticated
      ? `the negotiation requests are refused with 401 even with the harness's token (${authenticated.detail})`
      : authenticated.inconclusive,
  );
}

/** No revision the harness checks could be read from the server (the run cannot choose its rules). */
export class RevisionUnknown extends Error {
  override name = 'RevisionUnknown';
}
