// A small third-party-like target for suite tests: an MCP endpoint and its OAuth authorization
// server on one loopback origin (msw handlers, test/helpers/msw-server.ts), each behaviour a switch.
// Opaque tokens, looked up by the resource server and introspectable (RFC 7662) at the AS, so the
// harness can read a token's audience without a key (RS-AUD-01/03).

import { randomBytes } from 'node:crypto';
import { HttpResponse, http } from 'msw';
import { type MswServer, startMswServer } from './msw-server.ts';

export interface FakeTargetOptions {
  /**
   * modern: 2026-07-28 (server/discover lists supportedVersions; MCP-Protocol-Version 2026-07-28);
   * legacy: 2025-11-25 only, like SDK 1.32.2 (a 2026-07-28 request is a 400 with a non-modern body;
   * initialize answers protocolVersion 2025-11-25).
   */
  era?: 'modern' | 'legacy';
  /** The resource server refuses a token whose resource is not its own URL (default true). */
  checksAudience?: boolean;
  /** The AS issues tokens for any `resource` (else invalid_target for another one; default true). */
  asAcceptsOtherResources?: boolean;
  /** The AS ignores `resource`: every token is bound to the MCP endpoint (default false). */
  asIgnoresResource?: boolean;
  /** The resource server refuses every request with 401, valid tokens included (a broken target). */
  refuseEverything?: boolean;
  /** A valid token is refused once it has been accepted this many times (revoked meanwhile). */
  revokeAfterUses?: number;
  /** Anonymous requests are served (tokens, when sent, are still validated). */
  publicRequests?: boolean;
  /** The 401 to an invalid token carries error="invalid_token" (default true). */
  invalidTokenError?: boolean;
  /**
   * JSON-RPC methods served without a token, whose Authorization header is not even read (as
   * routers with public methods do: a garbage token is then served too).
   */
  publicMethodsIgnoringTokens?: string[];
  /** A valid token is refused with 403 insufficient_scope everywhere (a scope the AS never grants). */
  forbidValidTokens?: boolean;
  /**
   * 'offline-access': the AS lists `mcp`, `mcp:read` and `offline_access` in scopes_supported and
   * issues a refresh token only when the grant's scope includes offline_access and the request
   * carried prompt=consent (OpenID Connect Core §11, as oidc-provider does); refresh tokens
   * rotate, a reused one revokes its family, an omitted scope keeps the grant's, a wider one is
   * invalid_scope, another resource is invalid_target; /revoke revokes a client's own refresh
   * token (RFC 7009). Default: no refresh tokens.
   */
  refreshTokens?: 'offline-access';
  /**
   * With refreshTokens: a superseded refresh token presented again is answered with the same
   * response its first use got (no reuse detection), as better-auth's MCP plugin does for 30 s
   * ("refresh-response replay", refreshTokenReuseInterval).
   */
  refreshReplay?: boolean;
  /**
   * The token endpoint answers 500 server_error to an unknown code and to every refresh, as the
   * SDK example's demo provider does (it throws for both, and refresh is "Not implemented").
   */
  tokenErrors500?: boolean;
  /**
   * Credentials that are not a Bearer token (Basic, Token, a bare `Bearer`) get 401 with only a
   * DPoP challenge (RFC 9449 §7.1), as better-auth's MCP endpoint answers them.
   */
  dpopChallengeForNonBearer?: boolean;
}

export interface FakeTarget {
  server: MswServer;
  /** `<origin>/mcp` */
  url: string;
  origin: string;
  /** Issues a token for `resource` directly (for --token-env / --foreign-token-env in tests). */
  issue(resource: string): string;
  close(): Promise<void>;
}

interface TokenRecord {
  resource?: string;
  clientId: string;
  uses: number;
}

export async function startFakeTarget(options: FakeTargetOptions = {}): Promise<FakeTarget> {
  const o = {
    era: 'modern' as const,
    checksAudience: true,
    asAcceptsOtherResources: true,
    asIgnoresResource: false,
    refuseEverything: false,
    publicRequests: false,
    invalidTokenError: true,
    ...options,
  };
  const tokens = new Map<string, TokenRecord>();
  const codes = new Map<
    string,
    { resource?: string; clientId: string; redirectUri: string; scope: string; consent: boolean }
  >();
  /** Refresh tokens (o.refreshTokens): the grant's family, whether superseded, its scope. */
  const refreshTokens = new Map<
    string,
    {
      family: string;
      clientId: string;
      scope: string;
      resource?: string;
      superseded: boolean;
      /** The answer of its rotation (o.refreshReplay). */
      answer?: Record<string, unknown>;
    }
  >();
  const revokedFamilies = new Set<string>();
  const offlineAccess = o.refreshTokens === 'offline-access';
  let origin = '';
  const mcpUrl = () => `${origin}/mcp`;
  const bind = (resource: string | undefined) => (o.asIgnoresResource ? mcpUrl() : resource);
  const issue = (resource: string | undefined, clientId = 'test-client') => {
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { ...(resource !== undefined ? { resource } : {}), clientId, uses: 0 });
    return token;
  };
  const oauthError = (status: number, error: string, description: string) =>
    HttpResponse.json({ error, error_description: description }, { status });
  const challenge = (error?: string) =>
    `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="mcp"${error ? `, error="${error}"` : ''}`;

  const handlers = [
    http.get('*/.well-known/oauth-protected-resource/mcp', () =>
      HttpResponse.json({ resource: mcpUrl(), authorization_servers: [origin], scopes_supported: ['mcp'] }),
    ),
    http.get('*/.well-known/oauth-authorization-server', () =>
      HttpResponse.json({
        issuer: origin,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        registration_endpoint: `${origin}/register`,
        introspection_endpoint: `${origin}/introspect`,
        response_types_supported: ['code'],
        grant_types_supported: offlineAccess
          ? ['authorization_code', 'refresh_token']
          : ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        scopes_supported: offlineAccess ? ['mcp', 'mcp:read', 'offline_access'] : ['mcp'],
        ...(offlineAccess ? { revocation_endpoint: `${origin}/revoke` } : {}),
      }),
    ),
    http.post('*/register', async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      return HttpResponse.json(
        {
          ...body,
          client_id: `client-${randomBytes(6).toString('hex')}`,
          token_endpoint_auth_method: 'none',
        },
        { status: 201 },
      );
    }),
    http.get('*/authorize', ({ request }) => {
      const q = new URL(request.url).searchParams;
      const redirect = new URL(q.get('redirect_uri') ?? '');
      redirect.searchParams.set('state', q.get('state') ?? '');
      redirect.searchParams.set('iss', origin);
      const resource = q.get('resource') ?? undefined;
      if (resource !== undefined && resource !== mcpUrl() && !o.asAcceptsOtherResources) {
        redirect.searchParams.set('error', 'invalid_target');
        redirect.searchParams.set('error_description', `this server protects only ${mcpUrl()}`);
      } else {
        const code = randomBytes(16).toString('base64url');
        codes.set(code, {
          ...(resource !== undefined ? { resource } : {}),
          clientId: q.get('client_id') ?? '',
          redirectUri: q.get('redirect_uri') ?? '',
          scope: q.get('scope') ?? 'mcp',
          consent: q.get('prompt') === 'consent',
        });
        redirect.searchParams.set('code', code);
      }
      return new HttpResponse(null, { status: 302, headers: { location: redirect.href } });
    }),
    http.post('*/token', async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const noStore = { headers: { 'cache-control': 'no-store' } };
      if (form.get('grant_type') === 'refresh_token') {
        if (o.tokenErrors500) return oauthError(500, 'server_error', 'Internal Server Error');
        if (!offlineAccess) return oauthError(400, 'unsupported_grant_type', 'no refresh grant');
        const presented = form.get('refresh_token') ?? '';
        const rt = refreshTokens.get(presented);
        if (!rt || rt.clientId !== form.get('client_id') || revokedFamilies.has(rt.family))
          return oauthError(400, 'invalid_grant', 'unknown refresh token');
        const resource = form.get('resource') ?? rt.resource;
        if (resource !== rt.resource) return oauthError(400, 'invalid_target', 'not the granted resource');
        const asked = form.get('scope') ?? rt.scope;
        if (!asked.split(' ').every((s) => rt.scope.split(' ').includes(s)))
          return oauthError(400, 'invalid_scope', 'beyond the grant');
        if (rt.superseded) {
          if (o.refreshReplay && rt.answer) return HttpResponse.json(rt.answer, noStore);
          revokedFamilies.add(rt.family);
          return oauthError(400, 'invalid_grant', 'refresh token reused');
        }
        rt.superseded = true;
        const next = randomBytes(24).toString('base64url');
        const { answer: _previous, ...grant } = rt;
        refreshTokens.set(next, { ...grant, superseded: false });
        const token = issue(bind(resource), rt.clientId);
        rt.answer = {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: asked,
          refresh_token: next,
        };
        return HttpResponse.json(rt.answer, noStore);
      }
      const code = codes.get(form.get('code') ?? '');
      if (!code)
        return o.tokenErrors500
          ? oauthError(500, 'server_error', 'Internal Server Error')
          : oauthError(400, 'invalid_grant', 'unknown code');
      codes.delete(form.get('code')!);
      const token = issue(bind(code.resource), code.clientId);
      const refresh =
        offlineAccess && code.consent && code.scope.split(' ').includes('offline_access')
          ? randomBytes(24).toString('base64url')
          : undefined;
      if (refresh !== undefined)
        refreshTokens.set(refresh, {
          family: refresh,
          clientId: code.clientId,
          scope: code.scope,
          ...(code.resource !== undefined ? { resource: code.resource } : {}),
          superseded: false,
        });
      return HttpResponse.json(
        {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: offlineAccess ? code.scope : 'mcp',
          ...(refresh !== undefined ? { refresh_token: refresh } : {}),
        },
        noStore,
      );
    }),
    http.post('*/revoke', async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const rt = refreshTokens.get(form.get('token') ?? '');
      if (rt && rt.clientId !== form.get('client_id'))
        return oauthError(400, 'unauthorized_client', 'not this client’s token');
      if (rt) revokedFamilies.add(rt.family);
      return new HttpResponse(null, { status: 200 });
    }),
    http.post('*/introspect', async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      const record = tokens.get(form.get('token') ?? '');
      if (!record) return HttpResponse.json({ active: false });
      return HttpResponse.json({
        active: true,
        client_id: record.clientId,
        ...(record.resource !== undefined ? { aud: record.resource } : {}),
      });
    }),
    http.get('*/mcp', () => new HttpResponse(null, { status: 405, headers: { allow: 'POST' } })),
    http.delete('*/mcp', () => new HttpResponse(null, { status: 405, headers: { allow: 'POST' } })),
    http.post('*/mcp', async ({ request }) => {
      const peeked = (await request
        .clone()
        .json()
        .catch(() => undefined)) as { method?: string } | undefined;
      const ignoresToken =
        peeked?.method !== undefined && (o.publicMethodsIgnoringTokens ?? []).includes(peeked.method);
      const auth = ignoresToken ? null : request.headers.get('authorization');
      const bearer = auth && /^bearer /i.test(auth) ? auth.slice(7) : undefined;
      const record = bearer !== undefined ? tokens.get(bearer) : undefined;
      if (o.refuseEverything)
        return new HttpResponse(null, {
          status: 401,
          headers: { 'www-authenticate': challenge('invalid_token') },
        });
      if (auth !== null) {
        const valid =
          record !== undefined &&
          (!o.checksAudience || record.resource === mcpUrl()) &&
          (o.revokeAfterUses === undefined || record.uses < o.revokeAfterUses);
        if (!valid && bearer === undefined && o.dpopChallengeForNonBearer)
          return new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': 'DPoP algs="ES256 PS256"' },
          });
        if (!valid)
          return new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': challenge(o.invalidTokenError ? 'invalid_token' : undefined) },
          });
        record.uses++;
        if (o.forbidValidTokens)
          return new HttpResponse('Forbidden', {
            status: 403,
            headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="admin"' },
          });
      } else if (!o.publicRequests && !ignoresToken) {
        return new HttpResponse(null, { status: 401, headers: { 'www-authenticate': challenge() } });
      }
      const body = (await request.json().catch(() => undefined)) as
        { id?: number | string; method?: string; params?: Record<string, unknown> } | undefined;
      if (!body?.method)
        return HttpResponse.json(
          { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
          { status: 400 },
        );
      if (body.id === undefined) return new HttpResponse(null, { status: 202 });
      const version = request.headers.get('mcp-protocol-version');
      const result = (value: Record<string, unknown>) =>
        HttpResponse.json({ jsonrpc: '2.0', id: body.id, result: value });
      if (o.era === 'legacy') {
        // SDK 1.32.2: a version it does not know is a 400 with a plain JSON-RPC error (not a modern one).
        if (version !== null && version !== '2025-11-25' && version !== '2025-06-18')
          return HttpResponse.json(
            {
              jsonrpc: '2.0',
              id: null,
              error: { code: -32000, message: `Bad Request: Unsupported protocol version: ${version}` },
            },
            { status: 400 },
          );
        if (body.method === 'initialize')
          return result({
            protocolVersion: '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 'fake', version: '1' },
          });
      } else {
        if (body.method === 'initialize')
          return HttpResponse.json(
            {
              jsonrpc: '2.0',
              id: body.id,
              error: {
                code: -32022,
                message: 'Unsupported protocol version',
                data: { supported: ['2026-07-28'] },
              },
            },
            { status: 400 },
          );
        if (body.method === 'server/discover')
          return result({
            supportedVersions: ['2026-07-28'],
            capabilities: { tools: {} },
            resultType: 'complete',
          });
      }
      if (body.method === 'tools/list') return result({ tools: [] });
      if (body.method === 'ping') return result({});
      return HttpResponse.json({
        jsonrpc: '2.0',
        id: body.id,
        error: { code: -32601, message: 'Method not found' },
      });
    }),
  ];
  const server = await startMswServer(handlers);
  origin = server.origin;
  return {
    server,
    url: mcpUrl(),
    origin,
    issue: (resource) => issue(resource),
    close: () => server.close(),
  };
}
