// Token introspection (RFC 7662), served under the variant opaque-tokens: the resource server
// posts the opaque access token it was given and learns whether it is active and what it stands for.
//
// RFC 7662 §2.1: "To prevent token scanning attacks, the endpoint MUST also require some form of
// authorization to access this endpoint": only the bundled resource server may call it, with HTTP
// Basic credentials made at start (ctx.introspectionCredentials). RFC 7662 §2.2: an unknown,
// expired or revoked token is `{"active": false}` with no other member, never an error.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readForm, sendJson } from '../http.ts';
import { safeEqual, sha256 } from './crypto.ts';
import type { AsDeps } from './deps.ts';

/** POST /introspect. */
export async function handleIntrospect(deps: AsDeps, req: IncomingMessage, res: ServerResponse) {
  const { ctx, store } = deps;
  if (req.method !== 'POST') {
    throw new HttpError(405, 'invalid_request', 'the introspection endpoint accepts POST only', {
      Allow: 'POST',
    });
  }
  if (!isResourceServer(req, ctx.introspectionCredentials)) {
    req.resume();
    throw new HttpError(401, 'invalid_client', 'only the resource server may introspect tokens', {
      'WWW-Authenticate': 'Basic realm="introspection"',
    });
  }
  const params = await readForm(req);
  if (params.duplicates.length > 0) {
    throw new HttpError(400, 'invalid_request', `repeated parameter: ${params.duplicates.join(', ')}`);
  }
  const token = params.get('token');
  if (token === undefined) throw new HttpError(400, 'invalid_request', 'token is missing');

  const jti = sha256(token);
  const record = await store.getAccessToken(jti);
  const headers = { 'Cache-Control': 'no-store' };
  if (!record?.details || (await store.isAccessTokenRevoked(jti))) {
    sendJson(res, 200, { active: false }, headers);
    return;
  }
  const { details } = record;
  sendJson(
    res,
    200,
    {
      active: true,
      scope: details.scope,
      client_id: details.clientId,
      token_type: 'Bearer',
      exp: Math.floor(record.expiresAt / 1000),
      iat: details.issuedAt,
      sub: details.subject,
      aud: details.resource,
      iss: ctx.issuer,
    },
    headers,
  );
}

/** HTTP Basic (RFC 7617) with exactly the resource server's credentials. */
function isResourceServer(req: IncomingMessage, expected: { clientId: string; secret: string }): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  return safeEqual(decoded, `${expected.clientId}:${expected.secret}`);
}
