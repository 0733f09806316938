// A hostile target for the runner (issue #14): the reference server behind a loopback proxy that
// misbehaves on purpose. Used by test/hostile/hostile.test.ts and bench/hostile.ts.
//
// The proxy forwards to an embedded reference server (rewriting its origin to the proxy's, so
// every URL the target names points at the proxy) and, for the requests its SCOPE selects,
// answers with a BEHAVIOUR instead:
//
//   scopes      everything        every request
//               after-first-401   every request after the first 401 it forwarded (the preflight
//                                 passes, the rest of the run meets the behaviour)
//               as-only           only the authorization-server endpoints (AS metadata,
//                                 /authorize, /consent, /token, /register, /revoke, /jwks)
//
//   behaviours  hang, slowloris, hugebody, redirect-loop, garbage, reset, sse-forever, gzip-bomb,
//               huge-headers, bad-json, challenge-bomb: transport and content abuse;
//               prm-points-elsewhere, as-endpoints-elsewhere: the metadata names hosts the
//               runner must not contact (cloud metadata, link-local, private, a name that
//               resolves to a metadata address) and a loopback stand-in for a cloud
//               credentials endpoint, whose secrets must never reach a report in clear.
//
// Everything listens on 127.0.0.1, ephemeral ports. The "elsewhere" hosts are never contacted by
// anyone: the test proves the runner refuses them before any packet (spy.ts records every
// connection and DNS query of the runner's process).

import { randomBytes } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';

export const BEHAVIOURS = [
  'hang',
  'slowloris',
  'hugebody',
  'redirect-loop',
  'garbage',
  'reset',
  'sse-forever',
  'gzip-bomb',
  'huge-headers',
  'bad-json',
  'challenge-bomb',
  'prm-points-elsewhere',
  'as-endpoints-elsewhere',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export const SCOPES = ['everything', 'after-first-401', 'as-only'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * A name the runner's DNS resolves (spy.ts maps it) to the cloud metadata address: the policy
 * must check the address a name resolves to, not only the name.
 */
export const REBIND_HOST = 'rebind.hostile.test';
export const REBIND_ADDRESS = '169.254.169.254';

/** Hosts the hostile metadata names that the runner must never connect to (nor resolve, for names). */
export const FORBIDDEN_CONNECT_HOSTS = ['169.254.169.254', 'fd00:ec2::254', '10.0.0.1'];
export const FORBIDDEN_LOOKUP_HOSTS = ['metadata.google.internal'];

export interface HostileTarget {
  /** The MCP endpoint on the proxy. */
  url: string;
  behaviour: Behaviour;
  scope: Scope;
  /** The loopback stand-in for a cloud credentials endpoint, and the secrets in its answer. */
  credentials: { origin: string; secrets: string[]; requests(): number };
  /** Requests the proxy received, and how many got the behaviour. */
  counts(): { requests: number; hostile: number };
  close(): Promise<void>;
}

/** Every path of the bundled authorization server (reference-server/as/index.ts). */
function isAuthorizationServerPath(path: string): boolean {
  return (
    path.startsWith('/.well-known/oauth-authorization-server') ||
    path.startsWith('/.well-known/openid-configuration') ||
    ['/authorize', '/consent', '/token', '/register', '/revoke', '/jwks'].includes(path)
  );
}

/** The body of a cloud credentials endpoint (AWS IMDS shape), with fresh fake secrets. */
function credentialsDocument() {
  const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const token = `IQoJb3JpZ2luX2Vj${randomBytes(48).toString('base64')}`;
  return {
    secrets: [accessKeyId, secretAccessKey, token],
    body: JSON.stringify({
      Code: 'Success',
      LastUpdated: '2026-01-01T00:00:00Z',
      Type: 'AWS-HMAC',
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretAccessKey,
      Token: token,
      Expiration: '2026-01-01T06:00:00Z',
    }),
  };
}

let gzipBomb: Buffer | undefined;
/** 64 MiB of zeros, gzipped (about 64 KB, 1000:1): built once per process (prepareHostileTargets). */
function bomb(): Buffer {
  gzipBomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  return gzipBomb;
}

/**
 * Builds what the behaviours serve once, before any target runs: building the bomb blocks the
 * event loop for a moment, which would make every other target in this process miss its bounds.
 */
export function prepareHostileTargets(): void {
  bomb();
}

/** About 15 KB of WWW-Authenticate (under the runner's 16 KiB header cap) with thousands of defects. */
function challengeBomb(): string {
  const parts: string[] = ['Bearer'];
  for (let i = 0; i < 1900; i++) parts.push(`a=${i % 10}`, '"');
  return parts.join(', ').slice(0, 15_000);
}

/** Malformed JSON of every kind, in turn. */
const BAD_JSON: (() => string | Buffer)[] = [
  () => '['.repeat(200_000) + ']'.repeat(200_000),
  () => '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"issuer":"x"}',
  () => '{"issuer": "http://127.0.0.1', // truncated
  () => '"a JSON string where an object belongs"',
  () =>
    '{"resource":{"a":1},"authorization_servers":"not-an-array","issuer":12,"token_endpoint":["x"],"scopes_supported":{"0":"a"}}',
  () => `{"issuer":"${'x'.repeat(900_000)}"}`,
  () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]), // invalid UTF-8
  () => '\ufeff{"jsonrpc":"2.0","id":1,"result":{"a":NaN,"b":1e999999}}',
  () => `{${Array.from({ length: 20_000 }, (_, i) => `"k":${i}`).join(',')}}`, // one key, 20,000 times
];

export async function startHostileTarget(behaviour: Behaviour, scope: Scope): Promise<HostileTarget> {
  prepareHostileTargets(); // at once, if the caller did not (not while a runner waits for an answer)
  const upstream: RunningReferenceServer = await startReferenceServer({ autoApprove: true });
  const upstreamOrigin = upstream.issuer;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  // The loopback stand-in for a cloud credentials endpoint: answers every request with secrets.
  const creds = credentialsDocument();
  let credentialRequests = 0;
  const credentialServer = createServer((req, res) => {
    credentialRequests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(creds.body);
  });
  credentialServer.on('connection', track);
  const credentialsOrigin = await listen(credentialServer);

  let proxyOrigin = '';
  let seen401 = false;
  let requests = 0;
  let hostile = 0;
  let badJson = 0;

  const toUpstream = (s: string) => replaceOrigin(s, proxyOrigin, upstreamOrigin);
  const toClient = (s: string) => replaceOrigin(s, upstreamOrigin, proxyOrigin);

  /**
   * The hosts the "elsewhere" behaviours name: a name that resolves to the metadata address (the
   * challenge), a cloud metadata name (the first authorization server), the metadata address,
   * a private and a unique-local metadata address (endpoints), and the loopback credentials
   * stand-in (jwks_uri: the runner may fetch it, the target being loopback too, but its secrets
   * must be redacted). registration_endpoint stays real so the flow gets as far as the login.
   */
  const elsewhere = {
    challenge: `http://${REBIND_HOST}/.well-known/oauth-protected-resource/mcp`,
    authorizationServers: [
      'http://metadata.google.internal/computeMetadata/v1',
      credentialsOrigin,
      'http://10.0.0.1',
    ],
    asEndpoints: {
      authorization_endpoint: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/role',
      token_endpoint: 'http://10.0.0.1/token',
      revocation_endpoint: 'http://[fd00:ec2::254]/revoke',
      jwks_uri: `${credentialsOrigin}/latest/meta-data/iam/security-credentials/role`,
    },
  };

  const proxy = createServer((req, res) => {
    requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    const affected =
      scope === 'everything' ? true : scope === 'after-first-401' ? seen401 : isAuthorizationServerPath(path);
    const transportAbuse = affected && !behaviour.endsWith('-elsewhere');
    if (transportAbuse) {
      hostile++;
      req.resume();
      abuse(behaviour, req, res);
      return;
    }
    void forward(req, res, path, affected);
  });
  proxy.on('connection', track);
  proxyOrigin = await listen(proxy);

  /** Answers with the behaviour (for the transport and content abuses). */
  function abuse(kind: Behaviour, req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    switch (kind) {
      case 'hang':
        return; // never answers; the socket is destroyed on close
      case 'slowloris': {
        // The status line, then a header one byte at a time, forever.
        socket.write('HTTP/1.1 200 OK\r\nx-slow: ');
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else socket.write('a');
        }, 100);
        timers.add(timer);
        socket.on('close', () => clearInterval(timer));
        return;
      }
      case 'hugebody': {
        // A gigabyte announced, distinct content per chunk, written as fast as it is read.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 ** 3) });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let n = 0;
        const pump = () => {
          while (!res.destroyed && n < 16 * 1024) {
            chunk.write(`${n++}:`, 0);
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
        };
        pump();
        return;
      }
      case 'redirect-loop': {
        const url = new URL(req.url ?? '/', proxyOrigin);
        url.searchParams.set('loop', String(Number(url.searchParams.get('loop') ?? 0) + 1));
        res.writeHead(302, { location: url.href }).end();
        return;
      }
      case 'garbage':
        socket.end(randomBytes(4096));
        return;
      case 'reset':
        socket.resetAndDestroy();
        return;
      case 'sse-forever': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        let n = 0;
        const timer = setInterval(() => {
          if (res.destroyed) clearInterval(timer);
          else
            res.write(
              `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"n":${n++},"pad":"${'p'.repeat(200)}"}}\n\n`,
            );
        }, 5);
        timers.add(timer);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'gzip-bomb':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb());
        return;
      case 'huge-headers': {
        for (let i = 0; i < 100; i++) res.setHeader(`x-huge-${i}`, 'h'.repeat(1000));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      case 'bad-json': {
        const body = BAD_JSON[badJson++ % BAD_JSON.length]!();
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      }
      case 'challenge-bomb':
        res
          .writeHead(401, { 'www-authenticate': challengeBomb(), 'content-type': 'application/json' })
          .end('{"error":"invalid_token"}');
        return;
      default:
        res.writeHead(500).end();
    }
  }

  /** Forwards to the reference server, rewriting origins; the "elsewhere" behaviours edit the answer. */
  async function forward(req: IncomingMessage, res: ServerResponse, path: string, affected: boolean) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 1024 * 1024) return void res.writeHead(413).end();
      chunks.push(chunk as Buffer);
    }
    const body = toUpstream(Buffer.concat(chunks).toString('utf8'));
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'content-length') continue;
      headers[name] = Array.isArray(value) ? value.map(toUpstream) : toUpstream(value);
    }
    headers.host = new URL(upstreamOrigin).host;
    const upstreamUrl = new URL(toUpstream(req.url ?? '/'), upstreamOrigin);
    const answer = await new Promise<
      { status: number; headers: [string, string][]; body: string } | undefined
    >((resolve) => {
      const r = httpRequest(
        upstreamUrl,
        { method: req.method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const list: [string, string][] = [];
            for (let i = 0; i < up.rawHeaders.length; i += 2)
              list.push([up.rawHeaders[i]!, toClient(up.rawHeaders[i + 1]!)]);
            resolve({
              status: up.statusCode ?? 502,
              headers: list,
              body: toClient(Buffer.concat(parts).toString('utf8')),
            });
          });
          up.on('error', () => resolve(undefined));
        },
      );
      r.on('error', () => resolve(undefined));
      r.end(body);
    });
    if (!answer) return void res.writeHead(502).end();
    let { status, headers: answerHeaders, body: answerBody } = answer;
    if (affected && behaviour === 'prm-points-elsewhere') {
      hostile++;
      if (status === 401)
        answerHeaders = answerHeaders.map(([n, v]) => [
          n,
          n.toLowerCase() === 'www-authenticate'
            ? v.replace(/resource_metadata="[^"]*"/, `resource_metadata="${elsewhere.challenge}"`)
            : v,
        ]);
      if (path.startsWith('/.well-known/oauth-protected-resource'))
        answerBody = editJson(answerBody, (doc) => ({
          ...doc,
          authorization_servers: elsewhere.authorizationServers,
        }));
    }
    if (
      affected &&
      behaviour === 'as-endpoints-elsewhere' &&
      isAuthorizationServerPath(path) &&
      path.startsWith('/.well-known/')
    ) {
      hostile++;
      answerBody = editJson(answerBody, (doc) => ({ ...doc, ...elsewhere.asEndpoints }));
    }
    if (status === 401) seen401 = true;
    res.writeHead(
      status,
      answerHeaders
        .filter(
          ([n]) =>
            !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(n.toLowerCase()),
        )
        .concat([['content-length', String(Buffer.byteLength(answerBody))]])
        .flat(),
    );
    res.end(answerBody);
  }

  // Warm the reference server's code paths up (directly, not through the proxy, so no scope
  // counts them): on a loaded machine a cold first answer can miss a short time bound.
  for (const [method, path] of [
    ['POST', '/mcp'],
    ['GET', '/.well-known/oauth-protected-resource/mcp'],
    ['GET', '/.well-known/oauth-authorization-server'],
  ] as const) {
    await fetch(`${upstreamOrigin}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      ...(method === 'POST' ? { body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' } : {}),
    }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  }

  let closed: Promise<void> | undefined;
  return {
    url: `${proxyOrigin}/mcp`,
    behaviour,
    scope,
    credentials: { origin: credentialsOrigin, secrets: creds.secrets, requests: () => credentialRequests },
    counts: () => ({ requests, hostile }),
    close() {
      closed ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        for (const socket of sockets) socket.destroy();
        await Promise.all([closeServer(proxy), closeServer(credentialServer)]);
        await upstream.close();
      })();
      return closed;
    },
  };
}

function editJson(text: string, edit: (doc: Record<string, unknown>) => Record<string, unknown>): string {
  try {
    const doc: unknown = JSON.parse(text);
    return doc && typeof doc === 'object' && !Array.isArray(doc)
      ? JSON.stringify(edit(doc as Record<string, unknown>))
      : text;
  } catch {
    return text;
  }
}

/** Both spellings of an origin: as is and percent-encoded (in query strings and form bodies). */
function replaceOrigin(text: string, from: string, to: string): string {
  return text.split(from).join(to).split(encodeURIComponent(from)).join(encodeURIComponent(to));
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
