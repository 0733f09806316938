// Origin validation and CORS for the MCP endpoint and its metadata.
//
// MCP Streamable HTTP §Security Warning: servers MUST validate `Origin` on every connection; from
// 2025-11-25 a present, invalid Origin MUST get 403. An absent Origin (every non-browser client)
// is fine (requirements §3 A19). Allowed: the server's own origin and `allowedOrigins`.
// CORS (Fetch standard): browser clients must be able to read `WWW-Authenticate` on a 401 to find
// the metadata, so it is exposed; the metadata itself is public and readable from anywhere.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from '../context.ts';

export type OriginVerdict =
  { kind: 'absent' } | { kind: 'allowed'; origin: string } | { kind: 'forbidden'; origin: string };

const MCP_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'MCP-Protocol-Version',
  'Mcp-Method',
  'Mcp-Name',
  'Mcp-Session-Id',
  'Last-Event-ID',
].join(', ');

export function originVerdict(ctx: ServerContext, req: IncomingMessage): OriginVerdict {
  const origin = req.headers.origin;
  if (origin === undefined) return { kind: 'absent' };
  const allowed = origin === ctx.rsOrigin || (ctx.options.allowedOrigins ?? []).includes(origin);
  if (allowed) return { kind: 'allowed', origin };
  // The fault lets any Origin through, which is what DNS-rebinding attacks need.
  if (ctx.fault('rs-origin-not-checked')) return { kind: 'allowed', origin };
  return { kind: 'forbidden', origin };
}

/** CORS headers for an actual (non-preflight) /mcp response. */
export function corsHeadersForMcp(ctx: ServerContext, verdict: OriginVerdict): Record<string, string> {
  if (verdict.kind !== 'allowed') return {};
  return {
    'Access-Control-Allow-Origin': verdict.origin,
    Vary: 'Origin',
    // Without this a browser client sees the 401 but not the challenge that names the metadata.
    'Access-Control-Expose-Headers': ctx.fault('rs-cors-no-expose')
      ? 'Mcp-Session-Id'
      : 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version',
  };
}

/** Request headers a browser client may send to /mcp; `*` would not cover Authorization (Fetch §CORS protocol). */
function preflightAllowHeaders(ctx: ServerContext): string {
  // The fault leaves Authorization out, so a browser refuses to send the token at all.
  if (ctx.fault('rs-cors-preflight-no-authorization')) {
    return MCP_ALLOW_HEADERS.split(', ')
      .filter((h) => h !== 'Authorization')
      .join(', ');
  }
  return MCP_ALLOW_HEADERS;
}

/** Answers an OPTIONS preflight on /mcp (preflights never carry credentials, so no auth here). */
export function preflightForMcp(ctx: ServerContext, verdict: OriginVerdict, res: ServerResponse): void {
  if (verdict.kind === 'forbidden') {
    res.writeHead(403, { 'Content-Length': 0 });
    res.end();
    return;
  }
  const headers: Record<string, string> = { Allow: 'POST, DELETE, OPTIONS', 'Content-Length': '0' };
  if (verdict.kind === 'allowed') {
    Object.assign(headers, corsHeadersForMcp(ctx, verdict), {
      'Access-Control-Allow-Methods': 'POST, GET, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': preflightAllowHeaders(ctx),
      'Access-Control-Max-Age': '600',
    });
  }
  res.writeHead(204, headers);
  res.end();
}

/** CORS headers of the metadata: public, any origin may read it. */
export function corsHeadersForMetadata(ctx: ServerContext): Record<string, string> {
  if (ctx.fault('rs-prm-no-cors')) return {};
  return { 'Access-Control-Allow-Origin': '*' };
}

export function preflightForMetadata(ctx: ServerContext, res: ServerResponse): void {
  res.writeHead(204, {
    ...corsHeadersForMetadata(ctx),
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Allow-Headers': 'MCP-Protocol-Version',
    'Access-Control-Max-Age': '600',
    Allow: 'GET, HEAD, OPTIONS',
    'Content-Length': '0',
  });
  res.end();
}
