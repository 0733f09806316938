// The MCP resource-server half of the reference server: /mcp and its protected-resource metadata.
//
// Order of the checks on /mcp (each step answers and stops, or passes on):
//   1. OPTIONS preflight → CORS answer (preflights carry no credentials).
//   2. Origin present and not allowed → 403 (MCP 2025-11-25 Streamable HTTP §Security Warning),
//      before anything else: a request from a foreign page learns nothing, not even a challenge.
//   3. Two Authorization header lines → 400 invalid_request (RFC 6750 §3.1).
//   4. Body read (bounded) and peeked: JSON-RPC method(s) and tool name.
//   5. Authentication: a method listed in publicMethods passes without a token; otherwise no
//      token → 401 with a challenge and no `error` (RFC 6750 §3.1), a bad token → 401
//      invalid_token (MCP §Token Handling). A token that is present is verified even on public
//      methods: a bad token is never ignored.
//   6. Scope: a valid token without every scope the operation needs → 403 insufficient_scope.
//   7. Transport rules (Content-Type, MCP-Protocol-Version, Mcp-Method/Mcp-Name, sessions) and
//      the MCP exchange itself: the SDK (transport.ts).
// Requirements §3 A7 leaves the order of 401 and transport errors open; authentication first means
// an anonymous client always learns where to get a token, whatever else is wrong with its request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { ServerContext } from '../context.ts';
import { HttpError, mediaType, readBody, sendJson, sendOAuthError } from '../http.ts';
import type { ServerHalf } from '../server.ts';
import type { AuthorizationServerStore } from '../store.ts';
import { credentialsOf } from './bearer.ts';
import { anonymousChallenge, insufficientScopeChallenge, invalidTokenChallenge } from './challenge.ts';
import { corsHeadersForMcp, originVerdict, preflightForMcp } from './cors.ts';
import { buildMcpServer, createNotesStateGuard, NoteBook } from './mcp-server.ts';
import { handleMetadata, isMetadataPath, mcpPath } from './metadata.ts';
import {
  effectiveScopes,
  isPublicRequest,
  type PeekedMessage,
  peekMessages,
  requiredScopes,
} from './scopes.ts';
import { createMcpTransport } from './transport.ts';
import { createTokenVerifier, KeySourceUnavailable, type TokenVerifier } from './verify.ts';

/**
 * `grants`: the authorization server's store, which the verifier consults for revoked tokens under
 * the variant revoke-earlier-grants (a resource server sharing the grant store with its AS).
 */
export async function createResourceServer(
  ctx: ServerContext,
  grants?: Pick<AuthorizationServerStore, 'isAccessTokenRevoked'>,
): Promise<ServerHalf> {
  const verifier = await createTokenVerifier(ctx, grants);
  const notes = new NoteBook();
  const notesState = createNotesStateGuard(ctx);
  const transport = createMcpTransport(ctx, () => buildMcpServer(notes, notesState));

  return {
    async handle(req, res, url) {
      if (isMetadataPath(ctx, url.pathname)) {
        handleMetadata(ctx, verifier.issuer(), req, res, url);
        return true;
      }
      if (url.pathname !== mcpPath(ctx)) return false;
      await handleMcp(ctx, verifier, transport, req, res, url);
      return true;
    },
    sizes: async () => ({ sessions: transport.sessionCount }),
    close: () => transport.close(),
  };
}

type Transport = ReturnType<typeof createMcpTransport>;

async function handleMcp(
  ctx: ServerContext,
  verifier: TokenVerifier,
  transport: Transport,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  // 1-2. CORS preflight and Origin.
  const origin = originVerdict(ctx, req);
  if (req.method === 'OPTIONS') {
    req.resume();
    preflightForMcp(ctx, origin, res);
    return;
  }
  if (origin.kind === 'forbidden') {
    req.resume();
    // MCP 2025-11-25: "the server MUST respond with HTTP 403 Forbidden"; the body MAY be a JSON-RPC
    // error without an id.
    sendJson(res, 403, {
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Forbidden: Origin not allowed' },
      id: null,
    });
    return;
  }
  const cors = corsHeadersForMcp(ctx, origin);

  // 3. Where the token comes from.
  const credentials = credentialsOf(ctx, req, url);
  if (credentials.kind === 'duplicate') {
    req.resume();
    sendOAuthError(
      res,
      400,
      'invalid_request',
      'the request carries more than one Authorization header',
      cors,
    );
    return;
  }
  if (credentials.kind === 'other-scheme' && ctx.fault('rs-non-bearer-400')) {
    req.resume();
    sendOAuthError(res, 400, 'invalid_request', 'unsupported authorization scheme', cors);
    return;
  }

  // 4. Peek at the body (POST only; GET and DELETE have none).
  let parsedBody: unknown;
  let bodyIsJson = true;
  if (req.method === 'POST') {
    const raw = await readBody(req).catch((err: unknown) => {
      if (err instanceof HttpError) throw new HttpError(err.status, err.error, err.description, cors);
      throw err;
    });
    try {
      parsedBody = JSON.parse(raw.toString('utf8'));
    } catch {
      bodyIsJson = false;
    }
  } else {
    req.resume();
  }
  const messages: PeekedMessage[] = bodyIsJson && parsedBody !== undefined ? peekMessages(parsedBody) : [];
  const needed = requiredScopes(messages);
  const isPublic = req.method === 'POST' && isPublicRequest(ctx, messages);

  // 5. Authentication.
  // The fault switches authentication off entirely (every request is served anonymously).
  const authEnabled = !ctx.fault('rs-auth-disabled');
  let authInfo: AuthInfo | undefined;
  if (credentials.kind === 'bearer' && authEnabled) {
    const outcome = await verifyOrAnswer(ctx, verifier, credentials.token, needed, res, cors);
    if (outcome === 'answered') return;
    authInfo = outcome;
  } else if (!isPublic && authEnabled) {
    // MCP Security Best Practices: a session id is never authentication; the fault makes it one.
    const sessionId = req.headers['mcp-session-id'];
    const fromSession =
      typeof sessionId === 'string' && ctx.fault('rs-session-authenticates')
        ? transport.sessionAuth(sessionId)
        : undefined;
    if (!fromSession) {
      sendUnauthorized(ctx, res, anonymousChallenge(ctx, needed), 'authorization required', cors, false);
      return;
    }
    authInfo = fromSession;
  }

  // 6. Scope (public requests need none).
  if (authInfo && !isPublic && !ctx.fault('rs-scope-not-enforced')) {
    const granted = effectiveScopes(ctx, authInfo.scopes);
    if (!needed.every((s) => granted.has(s))) {
      sendInsufficientScope(ctx, res, needed, granted, messages, parsedBody, cors);
      return;
    }
  }

  // 7. Transport rules and the MCP exchange.
  for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
  if (req.method === 'POST') {
    if (mediaType(req) !== 'application/json') {
      sendJson(
        res,
        415,
        jsonRpcError(-32000, 'Unsupported Media Type: Content-Type must be application/json'),
      );
      return;
    }
    if (!bodyIsJson) {
      sendJson(res, 400, jsonRpcError(-32700, 'Parse error: the body is not valid JSON'));
      return;
    }
  }
  rewriteForTransportFaults(ctx, req, parsedBody);
  await transport.serve(req, res, parsedBody, authInfo);
}

/** Verifies a bearer token; answers 401 (or 503 when our key source is down) and returns 'answered' on failure. */
async function verifyOrAnswer(
  ctx: ServerContext,
  verifier: TokenVerifier,
  token: string,
  needed: readonly string[],
  res: ServerResponse,
  cors: Record<string, string>,
): Promise<AuthInfo | 'answered'> {
  let verification: Awaited<ReturnType<TokenVerifier['verify']>>;
  try {
    verification = await verifier.verify(token);
  } catch (err) {
    if (err instanceof KeySourceUnavailable) {
      sendOAuthError(res, 503, 'temporarily_unavailable', err.message, { ...cors, 'Retry-After': '30' });
      return 'answered';
    }
    throw err;
  }
  if (!verification.ok) {
    sendUnauthorized(
      ctx,
      res,
      invalidTokenChallenge(ctx, verification.description, needed),
      verification.description,
      cors,
      true,
    );
    return 'answered';
  }
  const { sub, clientId, scopes, exp } = verification.token;
  return { token, clientId, scopes, expiresAt: exp, resource: new URL(ctx.resource), extra: { sub } };
}

/** 401 with its challenge (OAuth 2.1 §5.3: every token failure is a 401). */
function sendUnauthorized(
  ctx: ServerContext,
  res: ServerResponse,
  challenge: string,
  description: string,
  cors: Record<string, string>,
  tokenFailure: boolean,
): void {
  // OAuth 2.1 §5.3.1 / RFC 9110 §15.5.2: a 401 MUST carry WWW-Authenticate; the fault drops it.
  const headers: Record<string, string> = ctx.fault('rs-401-no-challenge')
    ? { ...cors }
    : { ...cors, 'WWW-Authenticate': challenge };
  // OAuth 2.1 §5.3 / RFC 6750 §3.1: token failures are 401 invalid_token; the fault answers 403.
  const status = tokenFailure && ctx.fault('rs-bad-token-403') ? 403 : 401;
  sendOAuthError(res, status, tokenFailure ? 'invalid_token' : 'unauthorized', description, headers);
}

/** 403 insufficient_scope with the challenge naming what the operation needs (RFC 6750 §3.1). */
function sendInsufficientScope(
  ctx: ServerContext,
  res: ServerResponse,
  needed: readonly string[],
  granted: ReadonlySet<string>,
  messages: readonly PeekedMessage[],
  parsedBody: unknown,
  cors: Record<string, string>,
): void {
  const description = `this operation needs the scopes: ${needed.join(' ')}`;
  if (ctx.fault('rs-insufficient-scope-jsonrpc')) {
    // MCP §Error Handling wants an HTTP 403; the fault hides the refusal in a JSON-RPC error.
    const id =
      messages.length === 1 && parsedBody !== null && typeof parsedBody === 'object'
        ? (parsedBody as { id?: unknown }).id
        : null;
    sendJson(
      res,
      200,
      { jsonrpc: '2.0', id: id ?? null, error: { code: -32003, message: description } },
      cors,
    );
    return;
  }
  if (ctx.fault('rs-insufficient-scope-401')) {
    sendOAuthError(res, 401, 'invalid_token', description, {
      ...cors,
      'WWW-Authenticate': invalidTokenChallenge(ctx, description, needed),
    });
    return;
  }
  const challenge = insufficientScopeChallenge(ctx, needed, granted);
  const headers = ctx.fault('rs-insufficient-scope-no-challenge')
    ? { ...cors }
    : { ...cors, 'WWW-Authenticate': challenge };
  sendOAuthError(res, 403, 'insufficient_scope', description, headers);
}

/**
 * Two transport faults work by hiding a defect from the SDK's own validation: the request is
 * rewritten so the SDK never sees it. Each fault is read here and nowhere else.
 */
function rewriteForTransportFaults(ctx: ServerContext, req: IncomingMessage, body: unknown): void {
  const message =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  const params =
    message?.params !== null && typeof message?.params === 'object'
      ? (message.params as Record<string, unknown>)
      : undefined;
  const version = req.headers['mcp-protocol-version'];
  if (
    typeof version === 'string' &&
    !SERVED_VERSIONS.includes(version) &&
    ctx.fault('rs-protocol-version-not-checked')
  ) {
    // Drop the unsupported version (header and envelope): the request is then served as 2025-era traffic.
    delete req.headers['mcp-protocol-version'];
    const meta = params?._meta;
    if (meta !== null && typeof meta === 'object')
      delete (meta as Record<string, unknown>)['io.modelcontextprotocol/protocolVersion'];
  }
  if (req.headers['mcp-method'] !== undefined && ctx.fault('rs-header-mismatch-not-checked')) {
    // Copy the body's method and name over the headers, so a mismatch is never noticed.
    if (typeof message?.method === 'string') req.headers['mcp-method'] = message.method;
    if (typeof params?.name === 'string') req.headers['mcp-name'] = params.name;
  }
}

/** MCP revisions this endpoint serves (2025-03-26 too: the SDK's legacy leg accepts it). */
const SERVED_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'];

function jsonRpcError(code: number, message: string): Record<string, unknown> {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
