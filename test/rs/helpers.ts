// Shared helpers of the resource-server tests: start a reference server, mint tokens with its
// key (the test holds the private JWK that startReferenceServer returns), and send MCP requests
// shaped exactly per revision so that a rejection can only be about the defect under test.

import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import {
  type ReferenceServerOptions,
  type RunningReferenceServer,
  startReferenceServer,
} from '../../reference-server/server.ts';

export type Revision = '2025-06-18' | '2025-11-25' | '2026-07-28';
export const REVISIONS: readonly Revision[] = ['2025-06-18', '2025-11-25', '2026-07-28'];

export interface TestServer extends RunningReferenceServer {
  /** `<origin>/.well-known/oauth-protected-resource/mcp` */
  prmUrl: string;
  origin: string;
  mint(options?: MintOptions): Promise<string>;
}

export interface MintOptions {
  /** Claims to set or (with `undefined`) remove. */
  claims?: Record<string, unknown>;
  /** Protected-header members to set or (with `undefined`) remove. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of the server's (foreign key). */
  key?: CryptoKey;
}

export async function startTestServer(options: ReferenceServerOptions = {}): Promise<TestServer> {
  const server = await startReferenceServer(options);
  const origin = new URL(server.url).origin;
  const key = await importJWK(server.signingKey, 'ES256');
  const kid = server.signingKey.kid as string;
  return Object.assign(server, {
    origin,
    prmUrl: `${origin}/.well-known/oauth-protected-resource/mcp`,
    mint: (opts: MintOptions = {}) => mintToken(server, key as CryptoKey, kid, opts),
  });
}

async function mintToken(
  server: RunningReferenceServer,
  key: CryptoKey,
  kid: string,
  opts: MintOptions,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: server.issuer,
    sub: 'alice',
    aud: server.url,
    client_id: 'test-client',
    scope: 'mcp:tools',
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
    ...opts.claims,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const header: Record<string, unknown> = { alg: 'ES256', typ: 'at+jwt', kid, ...opts.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(opts.key ?? key);
}

/** A second, unrelated ES256 key (an attacker's). */
export async function foreignKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { exportJWK } = await import('jose');
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

/** base64url of a JSON value (for hand-built JWTs). */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The body and headers of a well-formed request for `method` in `revision`. */
export function mcpRequest(
  revision: Revision,
  method: string,
  params: Record<string, unknown> = {},
  id: number | null = 1,
): { headers: Record<string, string>; body: Record<string, unknown> } {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  const body: Record<string, unknown> = { jsonrpc: '2.0', method };
  if (id !== null) body.id = id;
  if (revision === '2026-07-28') {
    headers['MCP-Protocol-Version'] = revision;
    headers['Mcp-Method'] = method;
    if (typeof params.name === 'string' && (method === 'tools/call' || method === 'prompts/get')) {
      headers['Mcp-Name'] = params.name;
    }
    if (method === 'resources/read' && typeof params.uri === 'string') headers['Mcp-Name'] = params.uri;
    body.params = {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': revision,
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'rs-tests', version: '1.0.0' },
      },
    };
  } else {
    if (method !== 'initialize') headers['MCP-Protocol-Version'] = revision;
    body.params =
      method === 'initialize'
        ? {
            protocolVersion: revision,
            capabilities: {},
            clientInfo: { name: 'rs-tests', version: '1.0.0' },
            ...params,
          }
        : params;
    if (Object.keys(body.params as object).length === 0 && method !== 'initialize') delete body.params;
  }
  return { headers, body };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC message of the reply (JSON body, or the first SSE `data:` line). */
  json: Record<string, unknown> | undefined;
  challenge: string | null;
}

/** POSTs an MCP request; `extra` headers override (a value of '' removes a header). */
export async function post(
  url: string,
  revision: Revision,
  method: string,
  options: {
    params?: Record<string, unknown>;
    token?: string;
    headers?: Record<string, string>;
    id?: number | null;
  } = {},
): Promise<Reply> {
  const { headers, body } = mcpRequest(
    revision,
    method,
    options.params,
    options.id === undefined ? 1 : options.id,
  );
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    for (const existing of Object.keys(headers))
      if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
    if (v !== '') headers[k] = v;
  }
  return send(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

export async function send(url: string, init: RequestInit): Promise<Reply> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: parseReply(text),
    challenge: response.headers.get('www-authenticate'),
  };
}

function parseReply(text: string): Record<string, unknown> | undefined {
  const candidates = [
    text,
    ...text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5)),
  ];
  for (const candidate of candidates) {
    try {
      const value = JSON.parse(candidate);
      if (value && typeof value === 'object') return value as Record<string, unknown>;
    } catch {
      // not JSON: try the next candidate
    }
  }
  return undefined;
}

/** Parses a single Bearer challenge into its params (values unquoted); enough for our own server. */
export function challengeParams(challenge: string | null): Record<string, string> | undefined {
  if (challenge === null) return undefined;
  const match = /^Bearer(?:\s+(.*))?$/i.exec(challenge);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of (match[1] ?? '').matchAll(/([A-Za-z_]+)=(?:"([^"]*)"|([^\s,]+))/g)) {
    params[m[1]!] = m[2] ?? m[3]!;
  }
  return params;
}

/** Opens a 2025 session with `token`; returns its Mcp-Session-Id. */
export async function openSession(
  url: string,
  revision: Revision,
  token: string | undefined,
): Promise<string> {
  const reply = await post(url, revision, 'initialize', token === undefined ? {} : { token });
  const id = reply.headers.get('mcp-session-id');
  if (reply.status !== 200 || id === null)
    throw new Error(`initialize failed: ${reply.status} ${reply.text}`);
  await post(url, revision, 'notifications/initialized', {
    ...(token === undefined ? {} : { token }),
    id: null,
    headers: { 'Mcp-Session-Id': id },
  });
  return id;
}

/** POSTs a 2025-06-18 initialize with several Authorization header lines (fetch would join them). */
export async function postWithAuthorizationLines(url: string, lines: readonly string[]): Promise<number> {
  const { request } = await import('node:http');
  const target = new URL(url);
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  return new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: [...lines],
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
