// The SDK wiring behind /mcp, reached only after Origin, authentication and scope checks passed.
//
// - 2026-07-28 (requests carrying the `_meta` envelope): `createMcpHandler(factory, { legacy:
//   'reject' })`, stateless, one server instance per request; the SDK validates MCP-Protocol-Version,
//   the envelope and Mcp-Method / Mcp-Name against the body (MCP 2026-07-28 §Server Validation).
// - 2025-06-18 / 2025-11-25 (everything `isLegacyRequest` routes to the legacy leg):
//   * `initialize` opens a session: a WebStandardStreamableHTTPServerTransport with its own
//     server instance, an unguessable Mcp-Session-Id, and the token subject it is bound to
//     (MCP Security Best Practices §Session Hijacking: "bind session IDs to user-specific
//     information"; the id never authenticates: the token is checked on every request before this);
//   * a request carrying Mcp-Session-Id goes to its session: unknown id → 404 (2025-06-18
//     §Session Management), id bound to another subject → 404 as well (no hint that it exists);
//   * a request with no session id is served statelessly (sessions are optional in 2025: a
//     server MAY assign one), which keeps simple probes working;
//   * GET → 405 (no standalone SSE stream; 2025-06-18 §Listening for Messages allows 405);
//     DELETE with a session id ends the session.
// See docs/decisions.md (2026-11-23, sessions for the 2025 revisions).

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  legacyStatelessFallback,
  type McpHandlerRequestOptions,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { ServerContext } from '../context.ts';
import { MAX_BODY_BYTES } from '../http.ts';

interface LegacySession {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  /** The token subject the session is bound to; undefined while only public methods were used. */
  subject: string | undefined;
  /** The verified token that opened or last used the session (only the session-authenticates fault reads it). */
  authInfo: AuthInfo | undefined;
  lastSeen: number;
}

export interface McpTransport {
  /** The web-standard handler behind `serve` (what bench/mcp-profile.ts drives in-process). */
  fetch(request: Request, options?: McpHandlerRequestOptions): Promise<Response>;
  /** Serves one request; `parsedBody` is the JSON body the HTTP layer already read (POST). */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    parsedBody: unknown,
    authInfo: AuthInfo | undefined,
  ): Promise<void>;
  /** The authInfo of a live session (for the `rs-session-authenticates` fault only). */
  sessionAuth(sessionId: string): AuthInfo | undefined;
  readonly sessionCount: number;
  close(): Promise<void>;
}

export function createMcpTransport(ctx: ServerContext, factory: () => McpServer): McpTransport {
  const onerror = (error: Error) => {
    // Reporting only: the SDK already answered the client. Kept quiet for ordinary client errors.
    if (process.env.MCP_REFERENCE_DEBUG) console.error('reference-server (mcp):', error.message);
  };
  const modern = createMcpHandler(() => factory(), {
    legacy: 'reject',
    onerror,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  const stateless = legacyStatelessFallback(() => factory(), onerror, { maxRequestBodySize: MAX_BODY_BYTES });
  const sessions = new Map<string, LegacySession>();
  let sequence = 0;

  const newSessionId = (): string => {
    // 256 random bits, base64url: visible ASCII (2025-06-18 §Session Management), unguessable.
    if (ctx.fault('rs-session-id-predictable')) return `session-${++sequence}`;
    return randomBytes(32).toString('base64url');
  };

  const evictIfFull = () => {
    // limits.ts: at most maxSessions; the least recently used one is closed to make room.
    if (sessions.size < ctx.limits.maxSessions) return;
    let oldest: [string, LegacySession] | undefined;
    for (const entry of sessions) if (!oldest || entry[1].lastSeen < oldest[1].lastSeen) oldest = entry;
    if (oldest) closeSession(oldest[0]);
  };

  const closeSession = (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    void session.transport.close().catch(() => undefined);
    void session.server.close().catch(() => undefined);
  };

  const sweep = setInterval(() => {
    const cutoff = Date.now() - ctx.limits.sessionIdleSeconds * 1000;
    for (const [id, session] of sessions) if (session.lastSeen < cutoff) closeSession(id);
  }, 60_000);
  sweep.unref();

  async function serveLegacy(request: Request, options: McpHandlerRequestOptions = {}): Promise<Response> {
    const authInfo = options.authInfo;
    const subject = subjectOf(authInfo);
    if (request.method === 'GET') {
      // 2025-06-18 / 2025-11-25 §Listening for Messages from the Server: text/event-stream or 405;
      // the fault answers 404, as a router that only routes POST does.
      if (ctx.fault('rs-get-404')) return jsonRpcError(404, -32000, 'Not found');
      return jsonRpcError(405, -32000, 'Method not allowed: this server opens no standalone SSE stream.', {
        Allow: 'POST, DELETE',
      });
    }
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcError(404, -32001, 'Session not found');
      if (session.subject !== undefined && subject !== undefined && session.subject !== subject) {
        // Bound to another subject: answered like an unknown session, unless the fault lets it through.
        if (!ctx.fault('rs-session-not-bound')) return jsonRpcError(404, -32001, 'Session not found');
      }
      session.subject ??= subject;
      if (authInfo) session.authInfo = authInfo;
      session.lastSeen = Date.now();
      const response = await session.transport.handleRequest(request, {
        parsedBody: options.parsedBody,
        authInfo,
      });
      if (request.method === 'DELETE' && response.ok) closeSession(sessionId);
      return response;
    }
    if (request.method === 'DELETE') {
      return jsonRpcError(405, -32000, 'Method not allowed: DELETE needs an Mcp-Session-Id.', {
        Allow: 'POST',
      });
    }
    if (isInitialize(options.parsedBody)) {
      const server = factory();
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: newSessionId,
        enableJsonResponse: true,
        maxRequestBodySize: MAX_BODY_BYTES,
        onsessioninitialized: (id) => {
          evictIfFull(); // here, not earlier: parallel initializes each make their own room
          sessions.set(id, { transport, server, subject, authInfo, lastSeen: Date.now() });
        },
      });
      await server.connect(transport);
      return transport.handleRequest(request, { parsedBody: options.parsedBody, authInfo });
    }
    return stateless(request, options);
  }

  const fetch = async (request: Request, options?: McpHandlerRequestOptions): Promise<Response> => {
    if (await isLegacyRequest(request, options?.parsedBody, { maxRequestBodySize: MAX_BODY_BYTES })) {
      if (ctx.fault('rs-modern-only')) return refuseLegacy(request);
      return serveLegacy(request, options);
    }
    const response = await modern.fetch(request, options);
    if (!ctx.fault('rs-modern-session-id')) return response;
    // The fault mints a session id in a revision that has none (MCP 2026-07-28 §Backward Compatibility).
    const headers = new Headers(response.headers);
    headers.set('Mcp-Session-Id', newSessionId());
    return new Response(response.body, { status: response.status, headers });
  };
  const node = toNodeHandler({ fetch }, { maxRequestBodySize: MAX_BODY_BYTES, onerror });

  return {
    fetch,
    async serve(req, res, parsedBody, authInfo) {
      // A duck-typed request: same method and headers, the verified identity as `auth`, and the
      // body the HTTP layer already read (the stream itself is consumed). The SDK's adapter builds
      // its URL as `http://${Host}${url}`, so the URL is given in origin form (RFC 9112 §3.2.2: a
      // server MUST accept the absolute form too) and Host is our own authority: a request target
      // `http://…` or a Host of `[` or `a b` made that URL invalid, and the answer 500 (issue #14).
      const target = new URL(req.url ?? '/', ctx.rsOrigin);
      const nodeLike = {
        method: req.method,
        url: `${target.pathname}${target.search}`,
        headers: { ...req.headers, host: new URL(ctx.rsOrigin).host },
        auth: authInfo,
        [Symbol.asyncIterator]: () => req[Symbol.asyncIterator](),
      };
      // RFC 9112 §9.6: after answering a request that asked to close (`Connection: close`, or
      // HTTP/1.0 without keep-alive) the server MUST close; the SDK's event-stream answers set
      // `Connection: keep-alive` themselves, which would hold the connection until the idle timeout.
      if (res.shouldKeepAlive === false) res.once('finish', () => req.socket.end());
      await node(nodeLike, res, parsedBody);
    },
    sessionAuth(sessionId) {
      return sessions.get(sessionId)?.authInfo;
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      clearInterval(sweep);
      for (const id of [...sessions.keys()]) closeSession(id);
      await modern.close();
    },
  };
}

/**
 * A server that speaks 2026-07-28 only (the `rs-modern-only` switch; legal on its own, it sets up
 * the precondition of RS-TRN-04): legacy traffic is refused the way 2026-07-28 asks of such a
 * server: GET and DELETE 405 (Streamable HTTP §Backward Compatibility, SHOULD), and a legacy POST
 * 400 naming the supported versions (Versioning §Backward Compatibility, SHOULD).
 */
function refuseLegacy(request: Request): Response {
  if (request.method === 'GET' || request.method === 'DELETE')
    return jsonRpcError(405, -32000, 'Method not allowed: this server speaks MCP 2026-07-28 only.', {
      Allow: 'POST',
    });
  return Response.json(
    {
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32022,
        message: 'Unsupported protocol version: this server speaks MCP 2026-07-28 only',
        data: { supported: ['2026-07-28'] },
      },
    },
    { status: 400 },
  );
}

function subjectOf(authInfo: AuthInfo | undefined): string | undefined {
  const sub = authInfo?.extra?.sub;
  return typeof sub === 'string' ? sub : undefined;
}

function isInitialize(body: unknown): boolean {
  return (
    body !== null && typeof body === 'object' && (body as Record<string, unknown>).method === 'initialize'
  );
}

function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}
