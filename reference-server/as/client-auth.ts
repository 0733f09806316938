// Client authentication at the token and revocation endpoints (OAuth 2.1 §2.4, RFC 6749 §2.3).
// Three methods: client_secret_basic, client_secret_post, and none (public clients, which only
// name themselves with client_id). A client must use the method it registered.

import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../context.ts';
import { type FormParams, HttpError } from '../http.ts';
import type { AuthorizationServerStore, ClientRecord } from '../store.ts';
import type { CimdResolver } from './cimd.ts';
import { findClient } from './clients.ts';
import { safeEqual, sha256 } from './crypto.ts';

const REALM = 'mcp-auth-conformance';

interface BasicCredentials {
  clientId: string;
  secret: string;
}

/** Authenticates the client of a token or revocation request, or throws `invalid_client`. */
export async function authenticateClient(
  ctx: ServerContext,
  store: AuthorizationServerStore,
  cimd: CimdResolver,
  req: IncomingMessage,
  params: FormParams,
): Promise<ClientRecord> {
  const authorization = req.headers.authorization;
  const viaHeader = authorization !== undefined;
  const fail = (description: string): never => {
    throw invalidClient(ctx, viaHeader, description);
  };

  let basic: BasicCredentials | undefined;
  if (authorization !== undefined) {
    basic = parseBasic(authorization);
    if (!basic) fail('the Authorization header must be HTTP Basic with form-encoded client_id:client_secret');
  }
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
  if (basic && bodySecret !== undefined) {
    throw new HttpError(
      400,
      'invalid_request',
      'use either HTTP Basic or client_secret in the body, not both',
    );
  }
  if (basic && bodyId !== undefined && bodyId !== basic.clientId) {
    fail('client_id in the body differs from the one in the Authorization header');
  }
  const clientId = basic?.clientId ?? bodyId;
  if (clientId === undefined) fail('no client_id and no client authentication');

  const found = await findClient(ctx, store, cimd, clientId!);
  if (!('client' in found)) return fail(`client authentication failed: ${found.problem}`);
  const client = found.client;

  const method = client.metadata.token_endpoint_auth_method;
  if (method === 'none') {
    if (basic || bodySecret !== undefined)
      fail('this client is registered for token_endpoint_auth_method "none"');
    return client;
  }
  // Fault: a confidential client that presents no credentials at all is let through.
  if (!basic && bodySecret === undefined && ctx.fault('as-client-auth-skipped')) return client;
  const presented = method === 'client_secret_basic' ? basic?.secret : bodySecret;
  if (presented === undefined) fail(`this client must authenticate with ${method}`);
  if (!client.secretHash || !safeEqual(sha256(presented!), client.secretHash))
    fail('client authentication failed');
  return client;
}

/**
 * OAuth 2.1 §3.2.4 (invalid_client): "If the client attempted to authenticate via the Authorization
 * request header field, the authorization server MUST respond with an HTTP 401 (Unauthorized)
 * status code and include the WWW-Authenticate response header field matching the authentication
 * scheme used by the client." Other failures: 401 too (RFC 6749 §5.2 allows 401).
 */
function invalidClient(ctx: ServerContext, viaHeader: boolean, description: string): HttpError {
  if (!viaHeader) return new HttpError(401, 'invalid_client', description);
  // Fault: a failed Basic authentication is answered 400 without a WWW-Authenticate challenge.
  if (ctx.fault('as-token-basic-no-www-authenticate'))
    return new HttpError(400, 'invalid_client', description);
  return new HttpError(401, 'invalid_client', description, { 'WWW-Authenticate': `Basic realm="${REALM}"` });
}

/** RFC 6749 §2.3.1 / RFC 7617: base64(urlencode(id) ":" urlencode(secret)). */
function parseBasic(header: string): BasicCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    return clientId ? { clientId, secret } : undefined;
  } catch {
    return undefined; // malformed percent-encoding
  }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}
