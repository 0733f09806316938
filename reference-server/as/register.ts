// Dynamic client registration (RFC 7591 §3). Open registration: MCP clients cannot obtain an
// initial access token, so none is required (RFC 7591 §3: "MAY be ... open").

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HttpError, readJsonObject, sendJson } from '../http.ts';
import { storeFull } from '../limits.ts';
import type { ClientRecord } from '../store.ts';
import { ClientMetadataError, parseClientMetadata } from './client-metadata.ts';
import { randomToken, sha256 } from './crypto.ts';
import type { AsDeps } from './deps.ts';

/** POST /register. */
export async function handleRegister(deps: AsDeps, req: IncomingMessage, res: ServerResponse) {
  const { ctx, store } = deps;
  if (req.method !== 'POST') {
    throw new HttpError(405, 'invalid_request', 'the registration endpoint accepts POST only', {
      Allow: 'POST, OPTIONS',
    });
  }
  // RFC 7591 §3: registration MAY be open; MCP clients cannot obtain an initial access token, so
  // it is. Fault: closed registration, an initial access token (RFC 7591 §3.1) is demanded.
  if (ctx.fault('as-dcr-initial-token-required') && !req.headers.authorization) {
    throw new HttpError(401, 'invalid_token', 'an initial access token is required to register', {
      'WWW-Authenticate': 'Bearer',
    });
  }
  const input = await readJsonObject(req);
  let metadata: ReturnType<typeof parseClientMetadata>;
  try {
    metadata = parseClientMetadata(ctx, input, 'dcr');
  } catch (err) {
    // RFC 7591 §3.2.2: 400 with invalid_redirect_uri or invalid_client_metadata.
    if (err instanceof ClientMetadataError) throw new HttpError(400, err.error, err.description);
    throw err;
  }
  // What a client may make this server keep is bounded (limits.ts); RFC 7591 §3.2.2 lets the AS
  // refuse metadata values with invalid_client_metadata. Measured on what would be stored
  // (unknown members are ignored, not kept, so they never count).
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > ctx.limits.maxClientMetadataBytes) {
    throw new HttpError(
      400,
      'invalid_client_metadata',
      `the client metadata takes ${bytes} bytes; this server keeps at most ${ctx.limits.maxClientMetadataBytes} per client`,
    );
  }

  // The `dcr-` prefix keeps generated ids apart from metadata-document URLs (CIMD §Security:
  // client_ids issued otherwise must not look like https URLs). Fault: they start with https://.
  const id = `dcr-${randomUUID()}`;
  const clientId = ctx.fault('as-dcr-https-client-id') ? `https://clients.invalid/${id}` : id;
  const issuedAt = Math.floor(Date.now() / 1000);
  const client: ClientRecord = {
    client_id: clientId,
    source: 'dcr',
    metadata,
    client_id_issued_at: issuedAt,
  };
  let secret: string | undefined;
  if (metadata.token_endpoint_auth_method !== 'none') {
    secret = randomToken();
    client.secretHash = sha256(secret); // only the hash is kept
    client.client_secret_expires_at = 0; // RFC 7591 §3.2.1: 0 = does not expire
  }
  if (!(await store.saveClient(client))) {
    throw storeFull(
      'this server holds as many registered clients as it can; try again later',
      await store.secondsUntilRoom('clients'),
    );
  }

  // RFC 7591 §3.2.1: "all registered metadata about the client", plus client_id and the secret.
  // Fault: only the identifiers come back, not the registered metadata.
  const body: Record<string, unknown> = ctx.fault('as-dcr-metadata-not-echoed')
    ? { client_id: clientId }
    : { client_id: clientId, client_id_issued_at: issuedAt, ...metadata };
  if (secret !== undefined) {
    body.client_secret = secret;
    // RFC 7591 §3.2.1: client_secret_expires_at is REQUIRED when a secret is issued. Fault: omitted.
    if (!ctx.fault('as-dcr-no-secret-expiry'))
      body.client_secret_expires_at = client.client_secret_expires_at;
  }
  // The response can carry a secret: never cached (OAuth 2.1 §3.2.3 by analogy, RFC 7591 §3.2.1
  // examples). Fault: no Cache-Control.
  const headers: Record<string, string> = ctx.fault('as-dcr-no-cache-control')
    ? {}
    : { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  // RFC 7591 §3.2.1: 201 Created. Fault: 200.
  sendJson(res, ctx.fault('as-dcr-200') ? 200 : 201, body, headers);
}
