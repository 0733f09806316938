// The OAuth 2.1 authorization server half of the reference server.
//
// Endpoints on the AS origin (each handler cites the spec it follows):
//   GET  /.well-known/oauth-authorization-server   RFC 8414 metadata      (metadata.ts)
//   GET  /.well-known/openid-configuration         the same, OIDC path    (metadata.ts)
//   GET  /jwks                                     public signing key     (metadata.ts)
//   GET  /authorize                                OAuth 2.1 §4.1.1       (authorize.ts)
//   POST /consent                                  the consent form       (authorize.ts)
//   POST /token                                    OAuth 2.1 §3.2         (token.ts)
//   POST /register                                 RFC 7591               (register.ts)
//   POST /revoke                                   RFC 7009               (revoke.ts)
//   POST /introspect                               RFC 7662, variant opaque-tokens (introspect.ts)
//
// Under the variant path-issuer every endpoint lives under the issuer's path (`/tenants/acme/token`)
// and the metadata at the path-inserted well-known URLs (metadata.ts metadataLocations). Under the
// variant rate-limited, /authorize, /token and /register answer 429 past a small burst
// (rate-limit.ts).
//
// CORS: browser-based MCP clients call metadata, token, registration, revocation and JWKS from
// other origins, so those answer with `Access-Control-Allow-Origin: *` (no credentials are
// involved: tokens travel in bodies and Authorization headers, never cookies). The authorization
// endpoint and the consent form are navigations, never fetched: no CORS there (OAuth 2.1 §3.1,
// RFC 9700 §2.6).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http.ts';
import type { ServerHalf } from '../server.ts';
import { type AuthorizationServerStore, MemoryStore } from '../store.ts';
import { handleAuthorize, handleConsent } from './authorize.ts';
import { createCimdResolver } from './cimd.ts';
import type { AsDeps } from './deps.ts';
import { handleIntrospect } from './introspect.ts';
import { issuerPath, METADATA_PATHS, metadataLocations, sendJwks, sendMetadata } from './metadata.ts';
import { createRateLimiter } from './rate-limit.ts';
import { handleRegister } from './register.ts';
import { handleRevoke } from './revoke.ts';
import { SignInSessions } from './sign-in-sessions.ts';
import { handleToken } from './token.ts';

type Route = (deps: AsDeps, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

interface RouteEntry {
  run: Route;
  /** Methods a CORS preflight may ask for; undefined = no CORS. */
  cors?: string;
}

const getOnly =
  (send: (deps: AsDeps, res: ServerResponse) => void): Route =>
  async (deps, req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'invalid_request', 'this document is read with GET', {
        Allow: 'GET, HEAD, OPTIONS',
      });
    }
    send(deps, res);
  };

export async function createAuthorizationServer(
  ctx: ServerContext,
  store: AuthorizationServerStore = new MemoryStore({ limits: ctx.limits }),
): Promise<ServerHalf> {
  const cimd = createCimdResolver(ctx, store);
  const deps: AsDeps = { ctx, store, cimd, sessions: new SignInSessions(ctx) };

  const routes = new Map<string, RouteEntry>([
    ['/authorize', { run: handleAuthorize }],
    ['/consent', { run: (d, req, res) => handleConsent(d, req, res) }],
    ['/token', { run: handleToken, cors: 'POST' }],
    ['/register', { run: (d, req, res) => handleRegister(d, req, res), cors: 'POST' }],
    ['/revoke', { run: (d, req, res) => handleRevoke(d, req, res), cors: 'POST' }],
    ['/jwks', { run: getOnly((d, res) => sendJwks(d.ctx, res)), cors: 'GET' }],
  ]);
  // Variant: opaque access tokens, which the resource server introspects (RFC 7662).
  if (ctx.variant('opaque-tokens')) routes.set('/introspect', { run: handleIntrospect });
  const metadataRoutes = new Map<string, RouteEntry>();
  // Fault: no metadata at any well-known URL.
  if (!ctx.fault('as-metadata-missing')) {
    for (const suffix of METADATA_PATHS) {
      const oidc = suffix.endsWith('openid-configuration');
      metadataRoutes.set(suffix, {
        run: getOnly((d, res) => sendMetadata(d.ctx, res, oidc)),
        cors: 'GET',
      });
    }
  }
  const limiter = createRateLimiter(ctx);

  /** The route of a request path: a metadata location, or an endpoint under the issuer's path. */
  const routeOf = (pathname: string): RouteEntry | undefined => {
    const location = metadataLocations(ctx).find((l) => l.path === pathname);
    if (location) return metadataRoutes.get(location.suffix);
    const base = issuerPath(ctx);
    if (base !== '' && !pathname.startsWith(`${base}/`)) return undefined;
    return routes.get(pathname.slice(base.length));
  };

  return {
    async handle(req, res, url) {
      const route = routeOf(url.pathname);
      if (!route) return false;
      if (limiter.refuse(req, res, url.pathname.slice(issuerPath(ctx).length))) return true;
      if (route.cors) {
        res.setHeader('Access-Control-Allow-Origin', '*');
        if (req.method === 'OPTIONS') {
          // CORS preflight (Fetch standard §3.2): allow what a browser client needs to send.
          res.writeHead(204, {
            'Access-Control-Allow-Methods': `${route.cors}, OPTIONS`,
            'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version',
            'Access-Control-Max-Age': '600',
            'Content-Length': 0,
          });
          res.end();
          return true;
        }
      }
      await route.run(deps, req, res, url);
      return true;
    },
    sizes: async () => ({ ...(await store.sizes()) }),
    close: () => cimd.close(),
  };
}
