// Helpers for the authorization-server tests: start a reference server, register clients, run
// the authorization step (reading the Location header, never following it), and call the token,
// registration and revocation endpoints with plain fetch so every status and header is visible.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ReferenceServerOptions,
  type RunningReferenceServer,
  startReferenceServer,
} from '../../reference-server/server.ts';

export const REDIRECT_URI = 'http://127.0.0.1/cb';

export interface Harness {
  server: RunningReferenceServer;
  /** The AS origin (issuer). */
  issuer: string;
  /** The one resource the AS protects. */
  resource: string;
  close(): Promise<void>;
}

export async function startAs(options: ReferenceServerOptions = {}): Promise<Harness> {
  const server = await startReferenceServer({ autoApprove: true, ...options });
  return { server, issuer: server.issuer, resource: server.url, close: () => server.close() };
}

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  [member: string]: unknown;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function post(
  h: Harness,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Reply> {
  return reply(await fetch(`${h.issuer}${path}`, { method: 'POST', body, headers, redirect: 'manual' }));
}

export async function get(h: Harness, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(`${h.issuer}${path}`, { headers, redirect: 'manual' }));
}

export async function registerRaw(h: Harness, metadata: unknown): Promise<Reply> {
  return post(h, '/register', JSON.stringify(metadata), { 'content-type': 'application/json' });
}

export const PUBLIC_CLIENT = {
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'AS test client',
  application_type: 'native',
};

/** Registers a client (public, loopback redirect, refresh grant unless overridden). */
export async function register(h: Harness, overrides: Record<string, unknown> = {}): Promise<TestClient> {
  const r = await registerRaw(h, { ...PUBLIC_CLIENT, ...overrides });
  if (r.status !== 201 && r.status !== 200) throw new Error(`registration failed: ${r.status} ${r.text}`);
  return r.json as TestClient;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Parameters of an authorization request; `undefined` drops one, an array repeats it. */
export type Params = Record<string, string | string[] | undefined>;

export function authorizeUrl(h: Harness, params: Params): URL {
  const url = new URL(`${h.issuer}/authorize`);
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, v);
  }
  return url;
}

export interface AuthorizeOutcome extends Reply {
  /** The redirect target, when the answer was a redirect. */
  location: URL | undefined;
  verifier: string;
  challenge: string;
}

/** A valid authorization request for `client`, changed by `overrides`; the redirect is not followed. */
export async function authorize(
  h: Harness,
  client: TestClient,
  overrides: Params = {},
): Promise<AuthorizeOutcome> {
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(h, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: h.resource,
    scope: 'mcp:tools',
    state: 'state-1',
    ...overrides,
  });
  const r = await reply(await fetch(url, { redirect: 'manual' }));
  const raw = r.headers.get('location');
  return { ...r, location: raw ? new URL(raw) : undefined, verifier, challenge };
}

export interface Code {
  code: string;
  verifier: string;
  location: URL;
}

/** Runs the authorization step with auto-approve and returns the code. */
export async function getCode(h: Harness, client: TestClient, overrides: Params = {}): Promise<Code> {
  const out = await authorize(h, client, overrides);
  const code = out.location?.searchParams.get('code');
  if (!code || !out.location) throw new Error(`no code: ${out.status} ${out.location?.href ?? out.text}`);
  return { code, verifier: out.verifier, location: out.location };
}

export function form(params: Record<string, string | string[] | undefined>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  }
  return body.toString();
}

export async function tokenRequest(
  h: Harness,
  params: Record<string, string | string[] | undefined>,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return post(h, '/token', form(params), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
}

export async function redeem(
  h: Harness,
  client: TestClient,
  code: Code,
  extra: Record<string, string | undefined> = {},
): Promise<Reply> {
  return tokenRequest(h, {
    grant_type: 'authorization_code',
    code: code.code,
    code_verifier: code.verifier,
    client_id: client.client_id,
    ...extra,
  });
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  expires_in: number;
}

/** A full authorization + code exchange; throws unless it succeeds. */
export async function getTokens(h: Harness, client: TestClient, overrides: Params = {}): Promise<Tokens> {
  const code = await getCode(h, client, overrides);
  const r = await redeem(h, client, code);
  if (r.status !== 200) throw new Error(`code exchange failed: ${r.status} ${r.text}`);
  return r.json as unknown as Tokens;
}

export async function refresh(
  h: Harness,
  client: TestClient,
  refreshToken: string,
  extra: Record<string, string | undefined> = {},
): Promise<Reply> {
  return tokenRequest(h, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: client.client_id,
    ...extra,
  });
}

export async function revoke(
  h: Harness,
  client: TestClient,
  token: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return post(h, '/revoke', form({ token, client_id: client.client_id }), {
    'content-type': 'application/x-www-form-urlencoded',
    ...headers,
  });
}

export function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/** The payload of a JWT, unverified (tests verify signatures where that is the point). */
export function jwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

// ---------------------------------------------------------------------------------------------
// A loopback host for Client ID Metadata Documents (the AS runs with allowLoopbackCimd).

export interface DocResponse {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

export interface DocHost {
  origin: string;
  /** path → what to answer; a function is called per request. */
  docs: Map<string, DocResponse | (() => DocResponse)>;
  /** Requests received, by path. */
  hits: string[];
  close(): Promise<void>;
}

export async function startDocHost(): Promise<DocHost> {
  const docs: DocHost['docs'] = new Map();
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.push(path);
    const entry = docs.get(path);
    const doc = typeof entry === 'function' ? entry() : entry;
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers });
    res.end(doc.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    docs,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Publishes a metadata document at `path` whose client_id is its own URL (unless overridden). */
export function publishDoc(
  host: DocHost,
  path: string,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): TestClient {
  const clientId = `${host.origin}${path}`;
  const doc = {
    client_id: clientId,
    client_name: 'CIMD test client',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    ...overrides,
  };
  host.docs.set(path, { body: JSON.stringify(doc), headers });
  return { client_id: clientId, redirect_uris: doc.redirect_uris as string[] };
}
