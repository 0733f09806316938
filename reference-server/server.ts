// Starts the reference server: the MCP resource server (rs/) and the OAuth 2.1 authorization
// server (as/), on one origin by default or on two with `split`.
//
// This is the in-process API the runner and the tests use:
//   const server = await startReferenceServer({ autoApprove: true });
//   server.url       // http://127.0.0.1:PORT/mcp  (the protected resource)
//   server.issuer    // http://127.0.0.1:PORT      (the authorization server)
//   await server.close();

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { JWK } from 'jose';
import { createAuthorizationServer } from './as/index.ts';
import { autoApproves } from './as/authorize.ts';
import { loopbackDocumentsAllowed } from './as/cimd.ts';
import {
  generateSigningKey,
  type ReferenceServerOptions,
  type ServerContext,
  SigningKeys,
} from './context.ts';
import { assertFaultNames } from './faults.ts';
import { clientWentAway, type Handler, HttpError, sendJson, sendOAuthError } from './http.ts';
import { resolveLimits } from './limits.ts';
import { createResourceServer } from './rs/index.ts';
import { MemoryStore } from './store.ts';
import { assertVariantNames } from './variants.ts';

export type { ReferenceServerOptions } from './context.ts';
export { DEFAULT_LIMITS, type ReferenceServerLimits } from './limits.ts';

export interface RunningReferenceServer {
  /** The MCP endpoint: the protected resource's canonical URL. */
  url: string;
  /** Issuer identifier of the bundled authorization server. */
  issuer: string;
  /**
   * The private signing key (JWK) of the authorization server: lets the runner forge tokens. With
   * jwks-rotation it is the first key, which stays published while tokens it signed are valid.
   */
  signingKey: JWK;
  /**
   * Whether the resource server accepts JWT access tokens signed with `signingKey`, so a harness
   * holding it may forge tokens; false with the variant opaque-tokens (only tokens the
   * authorization server reports active are accepted).
   */
  tokensForgeable: boolean;
  /**
   * Whether the authorization server fetches client metadata documents from loopback URLs (the
   * dev flag allowLoopbackCimd, ignored under the variant cimd-ssrf-guard): a harness that knows
   * it does may read "never fetched my loopback document" as the AS's own refusal.
   */
  fetchesLoopbackDocuments: boolean;
  /**
   * Whether authorizations are approved at once, with no sign-in or consent page (autoApprove,
   * unless the variant consent-every-time shows the page anyway).
   */
  autoApproves: boolean;
  /** Faults switched on. */
  faults: readonly string[];

  /** The origins the listeners are bound to (differ from url/issuer with publicUrl). */
  bound: readonly string[];
  /** How many entries each store holds (clients, codes, sessions, ...): what requests made it keep. */
  sizes(): Promise<Record<string, number>>;
  /** Variants switched on. */
  variants: readonly string[];
  close(): Promise<void>;
}

/** A half of the server: answers the requests it owns and releases what it holds on close. */
export interface ServerHalf {
  handle: Handler;
  sizes?(): Promise<Record<string, number>>;
  close?(): Promise<void>;
}

export async function startReferenceServer(
  options: ReferenceServerOptions = {},
): Promise<RunningReferenceServer> {
  const faults = [...(options.faults ?? [])];
  assertFaultNames(faults);
  const faultSet = new Set(faults);
  const variants = [...(options.variants ?? [])];
  assertVariantNames(variants);
  const variantSet = new Set(variants);
  if (variantSet.has('opaque-tokens') && options.trustIssuer) {
    throw new Error(
      'the variant opaque-tokens introspects at the bundled authorization server: not with trustIssuer',
    );
  }
  const host = options.host ?? '127.0.0.1';
  const publicOrigins = publicOriginsOf(options);

  const keys = new SigningKeys(await generateSigningKey());
  const ctx: ServerContext = {
    options: { ...options, faults, variants },
    issuer: '',
    resource: '',
    rsOrigin: '',
    limits: resolveLimits(options.limits),
    get signingKey() {
      return keys.current;
    },
    keys,
    introspectionCredentials: {
      clientId: 'mcp-resource-server',
      secret: randomBytes(32).toString('base64url'),
    },
    fault: (name) => faultSet.has(name),
    variant: (name) => variantSet.has(name),
  };
  const firstKey = keys.current;

  // Whatever was started before a failure (a half, a listening socket) is released before the
  // error propagates, so a bad option (an unreachable --trust-issuer, a port in use) leaks nothing.
  const halves: ServerHalf[] = [];
  const servers: Server[] = [];
  const bound: string[] = [];
  const release = async () => {
    await Promise.all(servers.map(closeServer));
    await Promise.all(halves.map((h) => h.close?.()));
  };
  try {
    // One store: the resource server reads revocations from it (variant revoke-earlier-grants).
    const store = new MemoryStore({ limits: ctx.limits });
    const as = await createAuthorizationServer(ctx, store);
    halves.push(as);
    const rs = await createResourceServer(ctx, store);
    halves.push(rs);

    let rsServer: Server;
    let asServer: Server;
    if (options.split) {
      asServer = await listen(dispatch([as.handle]), host, options.asPort ?? 0);
      servers.push(asServer);
      rsServer = await listen(dispatch([rs.handle]), host, options.port ?? 0);
      servers.push(rsServer);
    } else {
      rsServer = await listen(dispatch([as.handle, rs.handle]), host, options.port ?? 0);
      asServer = rsServer;
      servers.push(rsServer);
    }
    // Behind a TLS-terminating proxy the server names itself by the origin clients use, never by
    // the address it binds (RFC 8414 §2: the issuer is the URL clients know; RFC 9728 §3.3: the
    // resource is the identifier clients use).
    ctx.rsOrigin = publicOrigins.rs ?? originOf(rsServer, host);
    // A multi-tenant authorization server: the issuer has a path (RFC 8414 §2 allows it; its
    // metadata then lives at the path-inserted well-known URL, as/metadata.ts).
    ctx.issuer = `${publicOrigins.as ?? originOf(asServer, host)}${ctx.variant('path-issuer') ? TENANT_PATH : ''}`;
    // The MCP endpoint is `<origin>/mcp`, or the origin itself (resource identifier without the
    // trailing slash, MCP §Canonical Server URI); rs/metadata.ts derives its paths from this.
    ctx.resource = ctx.variant('root-prm-origin-resource') ? ctx.rsOrigin : `${ctx.rsOrigin}/mcp`;
    bound.push(...new Set([originOf(rsServer, host), originOf(asServer, host)]));
  } catch (err) {
    await release();
    throw err;
  }

  let closed: Promise<void> | undefined;
  return {
    url: ctx.resource,
    issuer: ctx.issuer,
    signingKey: firstKey.privateJwk,
    tokensForgeable: !ctx.variant('opaque-tokens'),
    fetchesLoopbackDocuments: loopbackDocumentsAllowed(ctx),
    autoApproves: autoApproves(ctx),
    faults,

    bound,
    async sizes() {
      const each = await Promise.all(halves.map((h) => h.sizes?.() ?? {}));
      return Object.assign({}, ...each) as Record<string, number>;
    },
    variants,
    close() {
      closed ??= release();
      return closed;
    },
  };
}

/** Error of a `publicUrl` / `asPublicUrl` option: a sentence saying what to pass instead. */
export class PublicUrlError extends Error {
  override name = 'PublicUrlError';
}

/**
 * The public origins of the two halves, from `publicUrl` / `asPublicUrl`: an absolute http(s)
 * origin each (a trailing "/" is accepted), nothing else. One origin serves both halves unless
 * `split`, which then needs both (a public resource server naming a loopback issuer would be
 * unreachable for every client).
 */
export function publicOriginsOf(options: ReferenceServerOptions): { rs?: string; as?: string } {
  const origin = (value: string, flag: string): string => {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw new PublicUrlError(`${flag} must be an absolute http(s) URL, got "${value}"`);
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password)
      throw new PublicUrlError(
        `${flag} must be an origin only (like https://mcp.example.com), without path, query, fragment or user, got "${value}"`,
      );
    return url.origin;
  };
  if (options.asPublicUrl !== undefined && !options.split)
    throw new PublicUrlError('--as-public-url names the authorization server of --split: add --split');
  if (options.split && (options.publicUrl === undefined) !== (options.asPublicUrl === undefined))
    throw new PublicUrlError('with --split, give both --public-url and --as-public-url (or neither)');
  const rs = options.publicUrl === undefined ? undefined : origin(options.publicUrl, '--public-url');
  const as = options.split
    ? options.asPublicUrl === undefined
      ? undefined
      : origin(options.asPublicUrl, '--as-public-url')
    : rs;
  return { ...(rs ? { rs } : {}), ...(as ? { as } : {}) };
}

/** The path of the issuer identifier under the variant path-issuer. */
export const TENANT_PATH = '/tenants/acme';

/** Tries each half in turn; answers 404 when none owns the path, and never lets an error escape as a crash. */
function dispatch(handlers: readonly Handler[]) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://reference.invalid');
    } catch {
      sendOAuthError(res, 400, 'invalid_request', 'the request target is not a valid URL');
      return;
    }
    try {
      for (const handle of handlers) {
        if (await handle(req, res, url)) return;
      }
      sendJson(res, 404, { error: 'not_found', error_description: `nothing is served at ${url.pathname}` });
    } catch (err) {
      // The client reset the connection or closed it mid-body: nobody is left to answer, and it
      // is not a bug of ours, so it is not logged as one.
      if (clientWentAway(req, err)) {
        res.destroy();
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendOAuthError(res, err.status, err.error, err.description, err.headers);
        return;
      }
      // A bug of ours, not bad input: still a well-formed answer, and a line on stderr to fix it.
      console.error('reference-server: unexpected error', err);
      sendOAuthError(res, 500, 'server_error', 'unexpected error in the reference server');
    }
  };
}

function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer(
    {
      // Bounds against slow or hostile clients: no request may hold a socket forever.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 32 * 1024,
    },
    (req, res) => {
      void handler(req, res);
    },
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    reparseWithoutUpgrade(server, req, socket, head);
  });
  // CONNECT asks this server to be a tunnel, which it is not. Without a listener Node would drop
  // the connection without a word.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ error: 'invalid_request', error_description: 'CONNECT is not supported' });
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, DELETE, OPTIONS\r\n' +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * A request asking to switch protocols (`Connection: upgrade` + `Upgrade:`), which this server
 * never does: RFC 9110 §7.8 "A server MAY ignore a received Upgrade header field if it wishes to
 * continue using the current protocol on that connection". Node hands such a request to the
 * 'upgrade' event with the raw socket, and without a listener its parser stops reading the
 * connection after it: a later request on the same keep-alive connection got no answer at all
 * until the idle timeout (issue #14). So the request goes back to the HTTP parser as the plain
 * HTTP/1.1 request it also is: its head is written out again without `Upgrade` and without the
 * `upgrade` token of `Connection`, put in front of the bytes that followed it (its body, the next
 * requests), and the socket re-enters the server as a connection (the documented way to inject one).
 */
function reparseWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    let value = req.rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade') continue;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // Node decodes header bytes as latin1, so latin1 writes the same bytes back.
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  server.emit('connection', socket);
}

function originOf(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
