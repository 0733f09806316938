// Protected-resource metadata (RFC 9728) for the MCP endpoint.
//
// The endpoint's canonical URL is `<origin>/mcp`, so its metadata lives at the path-inserted URL
// `<origin>/.well-known/oauth-protected-resource/mcp` (RFC 9728 §3.1). Nothing is served at the
// root well-known URL: a document there would describe the resource `<origin>` (RFC 9728 §3.3 ¶1),
// which this server is not. Under the variant root-prm-origin-resource the endpoint IS the origin
// (server.ts sets ctx.resource), and then the root well-known URL is its metadata URL: every path
// here is derived from ctx.resource.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { SUPPORTED_SCOPES, type ServerContext } from '../context.ts';
import { sendJson, sendOAuthError } from '../http.ts';
import { credentialsOf } from './bearer.ts';
import { anonymousChallenge } from './challenge.ts';
import { corsHeadersForMetadata, preflightForMetadata } from './cors.ts';

export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

/** The path of the MCP endpoint: `/mcp`, or `/` when the resource is the origin itself. */
export function mcpPath(ctx: ServerContext): string {
  return new URL(ctx.resource).pathname;
}

/** The metadata path: the well-known prefix with the resource's path (if any) after it (RFC 9728 §3.1). */
function metadataPath(ctx: ServerContext): string {
  const path = mcpPath(ctx);
  return path === '/' ? PRM_PREFIX : `${PRM_PREFIX}${path}`;
}

/** The URL clients are sent to by `resource_metadata` (RFC 9728 §5.1). */
export function metadataUrl(ctx: ServerContext): string {
  return `${ctx.rsOrigin}${metadataPath(ctx)}`;
}

/** The RFC 9728 §2 document for the MCP endpoint. */
export function metadataDocument(ctx: ServerContext, issuer: string): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    resource: resourceIdentifier(ctx),
    // MCP §Authorization Server Location: at least one entry, the issuer identifier exactly.
    authorization_servers: [ctx.fault('rs-prm-issuer-trailing-slash') ? `${issuer}/` : issuer],
    // MCP 2026-07-28 §Refresh Tokens: never `offline_access` (the AS issues refresh tokens anyway).
    scopes_supported: ctx.fault('rs-prm-offline-access')
      ? [...SUPPORTED_SCOPES, 'offline_access']
      : [...SUPPORTED_SCOPES],
    // (Left out below under the variant scope-required: RFC 9728 §2 only RECOMMENDS it.)
    // OAuth 2.1 §5.1: the header is the only method; query tokens are ignored.
    bearer_methods_supported: ctx.fault('rs-prm-bearer-query') ? ['header', 'query'] : ['header'],
    resource_name: 'mcp-auth-conformance reference MCP server',
  };
  if (ctx.fault('rs-prm-resource-missing')) delete doc.resource;
  if (ctx.fault('rs-prm-no-authorization-servers')) delete doc.authorization_servers;
  if (ctx.fault('rs-prm-no-scopes-supported')) delete doc.scopes_supported;
  // Variant: a server that names no scope anywhere, in front of an AS that demands one.
  if (ctx.variant('scope-required')) delete doc.scopes_supported;
  // RFC 9728 §3.2: members with no value are omitted; the fault sends an empty string instead.
  if (ctx.fault('rs-prm-empty-member')) doc.resource_documentation = '';
  if (ctx.fault('rs-prm-signing-alg-none')) doc.resource_signing_alg_values_supported = ['none'];
  return doc;
}

/** The `resource` value: the canonical URL exactly (RFC 9728 §3.3), unless a fault bends it. */
function resourceIdentifier(ctx: ServerContext): string {
  if (ctx.fault('rs-prm-resource-mismatch')) return 'https://other.example/mcp';
  if (ctx.fault('rs-prm-resource-prefix')) return ctx.rsOrigin;
  if (ctx.fault('rs-prm-resource-trailing-slash')) return `${ctx.resource}/`;
  if (ctx.fault('rs-prm-resource-uppercase-host')) return upperCaseOrigin(ctx.resource);
  if (ctx.fault('rs-prm-resource-fragment')) return `${ctx.resource}#main`;
  return ctx.resource;
}

function upperCaseOrigin(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  return match ? `${match[1]!.toUpperCase()}${match[2]}` : url;
}

/** Is this one of the metadata paths this half answers? */
export function isMetadataPath(ctx: ServerContext, pathname: string): boolean {
  if (pathname === metadataPath(ctx)) return true;
  return pathname === PRM_PREFIX && ctx.fault('rs-prm-root-names-endpoint');
}

/** Answers GET (and CORS preflight) on the metadata URL: public, cacheable, readable cross-origin. */
export function handleMetadata(
  ctx: ServerContext,
  issuer: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  if (ctx.fault('rs-prm-missing')) {
    sendJson(res, 404, { error: 'not_found', error_description: `nothing is served at ${url.pathname}` });
    return;
  }
  if (req.method === 'OPTIONS') {
    preflightForMetadata(ctx, res);
    return;
  }
  const cors = corsHeadersForMetadata(ctx);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    // RFC 9110 §15.5.6: a 405 lists the methods the resource does support.
    sendOAuthError(res, 405, 'invalid_request', `${req.method} is not supported here; use GET`, {
      ...cors,
      Allow: 'GET, HEAD, OPTIONS',
    });
    return;
  }
  // RFC 9728 §5: the document is how a client learns where to get a token, so it needs none.
  if (ctx.fault('rs-prm-requires-auth') && credentialsOf(ctx, req, url).kind === 'none') {
    sendJson(
      res,
      401,
      { error: 'unauthorized' },
      { ...cors, 'WWW-Authenticate': anonymousChallenge(ctx, []) },
    );
    return;
  }
  const body = JSON.stringify(metadataDocument(ctx, issuer));
  // RFC 9728 §3.2: 200, application/json.
  const contentType = ctx.fault('rs-prm-wrong-content-type') ? 'text/plain' : 'application/json';
  res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'public, max-age=300',
    ...cors,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
