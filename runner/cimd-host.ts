// A loopback HTTP listener the harness starts to host Client ID Metadata Documents (CIMD draft-00;
// MCP 2025-11-25 §Client ID Metadata Documents): the client_id is the document's URL, and the
// authorization server under test fetches it from here. Every GET is counted per path, so a check
// can tell whether (and how often) the AS fetched a document.
//
// Scope: one host per check (`withCimdHost`), closed in `finally`, so no listener outlives the
// check that opened it, whatever happens to the run. The listener binds 127.0.0.1 on an ephemeral
// port; only an AS on this machine that may fetch loopback http URLs (the embedded reference
// server runs with allowLoopbackCimd) can reach it.
//
// Also here: a raw TCP listener that only counts connections, the observable end of an SSRF probe
// (a `https://127.0.0.1:PORT/...` client_id an AS must not even connect to).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';

export interface HostedResponse {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/** What a path serves: a fixed answer, or one computed per fetch (1 = first fetch). */
export type HostedContent = HostedResponse | ((fetchNumber: number) => HostedResponse);

export interface CimdHost {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Serves `content` at `path` (a path starting with "/"); returns the absolute URL. */
  publish(path: string, content: HostedContent): string;
  /** Serves a JSON document (200, application/json) at `path`; returns the absolute URL. */
  publishJson(path: string, document: unknown, headers?: Record<string, string>): string;
  /** GETs received for `path` so far. */
  fetches(path: string): number;
  /** GETs received for any path so far. */
  totalFetches(): number;
  close(): Promise<void>;
}

export async function startCimdHost(): Promise<CimdHost> {
  const contents = new Map<string, HostedContent>();
  const counts = new Map<string, number>();
  let total = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' || req.method === 'HEAD') {
      total++;
      counts.set(path, (counts.get(path) ?? 0) + 1);
    }
    const content = contents.get(path);
    if (!content) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const answer = typeof content === 'function' ? content(counts.get(path) ?? 0) : content;
    res
      .writeHead(answer.status ?? 200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...answer.headers,
      })
      .end(answer.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listenLoopback(server);
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;
  const publish = (path: string, content: HostedContent): string => {
    contents.set(path, content);
    return `${origin}${path}`;
  };
  return {
    origin,
    publish,
    publishJson: (path, document, headers) =>
      publish(path, { body: JSON.stringify(document), ...(headers ? { headers } : {}) }),
    fetches: (path) => counts.get(path) ?? 0,
    totalFetches: () => total,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/** Runs `fn` with a fresh host and always closes it. */
export async function withCimdHost<T>(fn: (host: CimdHost) => Promise<T>): Promise<T> {
  const host = await startCimdHost();
  try {
    return await fn(host);
  } finally {
    await host.close();
  }
}

/** A loopback TCP listener that accepts, counts and drops every connection. */
export interface ConnectionCounter {
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function startConnectionCounter(): Promise<ConnectionCounter> {
  let count = 0;
  const server: TcpServer = createTcpServer((socket) => {
    count++;
    socket.destroy();
  });
  await listenLoopback(server);
  return {
    port: (server.address() as { port: number }).port,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listenLoopback(server: Server | TcpServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A well-formed CIMD document for `clientId` (MCP 2025-11-25 example shape): a public client
 * (`token_endpoint_auth_method: none`) with the given redirect URIs. `extra` overrides members;
 * a member set to `undefined` in `extra` is left out.
 */
export function clientDocument(
  clientId: string,
  redirectUris: readonly string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    client_id: clientId,
    client_name: 'mcp-auth-conformance (metadata document)',
    redirect_uris: [...redirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
  for (const [name, value] of Object.entries(doc)) if (value === undefined) delete doc[name];
  return doc;
}
