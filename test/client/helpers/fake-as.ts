// A small fake OAuth authorization server on an ephemeral loopback port, for the tests of
// oauth.ts and the login drivers. It is deliberately strict where the client is under test
// (PKCE S256, resource on both requests, exact redirect URI, CSRF on forms, cookies) and
// deliberately simple everywhere else. It is not the reference server.
//
// Login mode: /authorize without a session → 302 /login (form with a hidden CSRF field bound to
// a cookie) → POST /login sets a session cookie → 303 back to /authorize → consent page (form
// with Approve/Deny buttons and a CSRF field) → POST /consent → 302 to the redirect URI.
// Auto mode: /authorize → 302 to the redirect URI straight away.

import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, type StubRequest, type StubServer, startStub } from './stub-server.ts';

export interface FakeAsOptions {
  mode: 'auto' | 'login';
  /** Send this `iss` in authorization responses instead of the issuer (RFC 9207 tests). */
  issOverride?: string;
  /** A redirect during login to this URL (origin-restriction tests). */
  loginRedirectTo?: string;
  /** Render the consent form through JavaScript (browser-only pages). */
  scriptedConsent?: boolean;
  /** Answer every /authorize with 429 and rate-limit headers (rate-limited targets). */
  rateLimited?: boolean;
  /** Leave token_type out of token responses (a MUST of RFC 6749 §5.1 broken: lenient-parsing tests). */
  noTokenType?: boolean;
  /** Answer registrations with this status instead of 201 (RFC 7591 §3.2.1 broken). */
  registrationStatus?: number;
}

interface Client {
  id: string;
  secret?: string;
  authMethod: string;
  redirectUris: string[];
}

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string;
  resource?: string;
  scope: string;
}

export interface FakeAs {
  issuer: string;
  server: StubServer;
  /** Token requests received, parsed (for assertions on resource, code_verifier, auth). */
  tokenRequests: { form: URLSearchParams; authorization?: string }[];
  registrations: Record<string, unknown>[];
  revocations: URLSearchParams[];
  close(): Promise<void>;
}

export const DEMO_PASSWORD = 'correct horse';

export async function startFakeAs(options: FakeAsOptions): Promise<FakeAs> {
  const clients = new Map<string, Client>();
  const pending = new Map<string, URLSearchParams>(); // login request id → authorize query
  const codes = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const sessions = new Set<string>();
  const tokenRequests: FakeAs['tokenRequests'] = [];
  const registrations: Record<string, unknown>[] = [];
  const revocations: URLSearchParams[] = [];
  let issuer = '';

  const server = await startStub((req, res) => {
    const url = new URL(req.path, issuer);
    const cookies = parseCookies(req.headers.cookie);
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/oauth-authorization-server':
        return json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          registration_endpoint: `${issuer}/register`,
          revocation_endpoint: `${issuer}/revoke`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
          authorization_response_iss_parameter_supported: true,
        });
      case 'POST /register': {
        const body = JSON.parse(req.body) as Record<string, unknown>;
        registrations.push(body);
        const client: Client = {
          id: `client-${clients.size + 1}`,
          authMethod: String(body.token_endpoint_auth_method ?? 'client_secret_basic'),
          redirectUris: (body.redirect_uris as string[]) ?? [],
        };
        if (client.authMethod !== 'none') client.secret = randomBytes(16).toString('hex');
        clients.set(client.id, client);
        return json(res, options.registrationStatus ?? 201, {
          ...body,
          client_id: client.id,
          ...(client.secret ? { client_secret: client.secret, client_secret_expires_at: 0 } : {}),
        });
      }
      case 'GET /authorize':
        return authorize(url.searchParams, cookies, res);
      case 'GET /login': {
        const csrf = randomBytes(8).toString('hex');
        res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `csrf=${csrf}; Path=/; HttpOnly` });
        res.end(`<!doctype html><html><head><title>Sign in</title></head><body>
<!-- <form action="/trap"><input name="username"></form> -->
<form method="post" action="/login">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="req" value="${url.searchParams.get('req') ?? ''}">
  <label>User <input type="text" name="username" autocomplete=username></label>
  <label>Password <input type='password' name='password'></label>
  <input type="checkbox" name="remember" value="yes">
  <button type="submit" name="action" value="login">Sign in</button>
</form></body></html>`);
        return;
      }
      case 'POST /login': {
        const form = new URLSearchParams(req.body);
        if (form.get('csrf') !== cookies.get('csrf')) return html(res, 403, 'CSRF check failed');
        if (form.get('username') !== 'alice' || form.get('password') !== DEMO_PASSWORD) {
          return html(res, 401, 'wrong credentials');
        }
        const query = pending.get(form.get('req') ?? '');
        if (!query) return html(res, 400, 'unknown login request');
        const session = randomBytes(8).toString('hex');
        sessions.add(session);
        if (options.loginRedirectTo) {
          res.writeHead(302, { location: options.loginRedirectTo });
          res.end();
          return;
        }
        res.writeHead(303, {
          location: `/authorize?${query}`,
          'set-cookie': `session=${session}; Path=/; HttpOnly`,
        });
        res.end();
        return;
      }
      case 'POST /consent': {
        const form = new URLSearchParams(req.body);
        if (!sessions.has(cookies.get('session') ?? '')) return html(res, 403, 'no session');
        if (form.get('csrf') !== cookies.get('csrf')) return html(res, 403, 'CSRF check failed');
        const query = pending.get(form.get('req') ?? '');
        if (!query) return html(res, 400, 'unknown request');
        if (form.get('decision') !== 'approve') return redirectBack(res, query, { error: 'access_denied' });
        return redirectBack(res, query, { code: issueCode(query) });
      }
      case 'POST /token':
        return token(req, res);
      case 'POST /revoke':
        revocations.push(new URLSearchParams(req.body));
        res.writeHead(200);
        res.end();
        return;
      default:
        return json(res, 404, { error: 'not_found' });
    }
  });
  issuer = server.origin;

  function authorize(q: URLSearchParams, cookies: Map<string, string>, res: ServerResponse) {
    if (options.rateLimited) {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '900',
        'ratelimit-policy': '100;w=900',
      });
      res.end(JSON.stringify({ error: 'too_many_requests' }));
      return;
    }
    const client = clients.get(q.get('client_id') ?? '');
    if (!client || !client.redirectUris.includes(q.get('redirect_uri') ?? '')) {
      return html(res, 400, 'unknown client or redirect_uri'); // never redirected (OAuth 2.1 §4.1.2.1)
    }
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      return redirectBack(res, q, { error: 'invalid_request' });
    }
    if (options.mode === 'auto') return redirectBack(res, q, { code: issueCode(q) });
    const id = randomBytes(6).toString('hex');
    pending.set(id, q);
    if (!sessions.has(cookies.get('session') ?? '')) {
      res.writeHead(302, { location: `/login?req=${id}` });
      res.end();
      return;
    }
    const form = `<form method="post" action="/consent" id="consent">
  <input type="hidden" name="csrf" value="${cookies.get('csrf') ?? ''}">
  <input type="hidden" name="req" value="${id}">
  <input type="hidden" name="response_type" value="code">
  <select name="lang"><option value="en" selected>English</option><option value="fr">Fran&ccedil;ais</option></select>
  <textarea name="note">hello &amp; welcome</textarea>
  <button type="submit" name="decision" value="deny">Deny</button>
  <button type="submit" name="decision" value="approve">Approve</button>
</form>`;
    const body = options.scriptedConsent
      ? `<div id="slot"></div><script>document.getElementById('slot').innerHTML = ${JSON.stringify(form)};</script>`
      : form;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><html><head><title>Consent</title></head><body><p>Allow ${client.id}?</p>${body}</body></html>`,
    );
  }

  function issueCode(q: URLSearchParams): string {
    const code = randomBytes(12).toString('hex');
    codes.set(code, {
      clientId: q.get('client_id')!,
      redirectUri: q.get('redirect_uri')!,
      challenge: q.get('code_challenge')!,
      ...(q.get('resource') ? { resource: q.get('resource')! } : {}),
      scope: q.get('scope') ?? 'mcp:tools',
    });
    return code;
  }

  function redirectBack(res: ServerResponse, q: URLSearchParams, params: Record<string, string>) {
    const target = new URL(q.get('redirect_uri')!);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    if (q.get('state')) target.searchParams.set('state', q.get('state')!);
    target.searchParams.set('iss', options.issOverride ?? issuer);
    res.writeHead(302, { location: target.href });
    res.end();
  }

  function token(req: StubRequest, res: ServerResponse) {
    const form = new URLSearchParams(req.body);
    const authorization = req.headers.authorization;
    tokenRequests.push({ form, ...(authorization ? { authorization } : {}) });
    const client = authenticate(form, authorization);
    if (!client) return json(res, 401, { error: 'invalid_client' }, { 'cache-control': 'no-store' });
    const fail = (error: string) => json(res, 400, { error }, { 'cache-control': 'no-store' });
    let grant: Grant | undefined;
    if (form.get('grant_type') === 'authorization_code') {
      grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!grant || grant.clientId !== client.id || grant.redirectUri !== form.get('redirect_uri'))
        return fail('invalid_grant');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
        return fail('invalid_grant');
      if (grant.resource !== form.get('resource')) return fail('invalid_target');
    } else if (form.get('grant_type') === 'refresh_token') {
      grant = refreshTokens.get(form.get('refresh_token') ?? '');
      refreshTokens.delete(form.get('refresh_token') ?? ''); // rotation (OAuth 2.1 §4.3.1)
      if (!grant || grant.clientId !== client.id) return fail('invalid_grant');
    } else {
      return fail('unsupported_grant_type');
    }
    const refresh = randomBytes(12).toString('hex');
    refreshTokens.set(refresh, grant);
    json(
      res,
      200,
      {
        access_token: `at-${randomBytes(12).toString('hex')}`,
        ...(options.noTokenType ? {} : { token_type: 'Bearer' }),
        expires_in: 600,
        refresh_token: refresh,
        scope: form.get('scope') ?? grant.scope,
      },
      { 'cache-control': 'no-store' },
    );
  }

  function authenticate(form: URLSearchParams, authorization: string | undefined): Client | undefined {
    if (authorization?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(authorization.slice(6), 'base64')
        .toString()
        .split(':')
        .map(decodeURIComponent);
      const client = clients.get(id ?? '');
      return client?.authMethod === 'client_secret_basic' && client.secret === secret ? client : undefined;
    }
    const client = clients.get(form.get('client_id') ?? '');
    if (!client) return undefined;
    if (client.authMethod === 'none') return client;
    return client.authMethod === 'client_secret_post' && form.get('client_secret') === client.secret
      ? client
      : undefined;
  }

  return {
    issuer,
    server,
    tokenRequests,
    registrations,
    revocations,
    close: () => server.close(),
  };
}

function html(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html' });
  res.end(`<!doctype html><p>${text}</p>`);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) map.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return map;
}
