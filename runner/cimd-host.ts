// Where the harness hosts Client ID Metadata Documents (CIMD draft-00; MCP 2025-11-25 §Client ID
// Metadata Documents): the client_id is the document's URL, and the authorization server under test
// fetches it. Two kinds of host:
//
// - `listener` (the default): a loopback HTTP listener the harness starts for each check and closes
//   when the check ends. Every GET is counted per path, so a check can tell whether (and how often)
//   the AS fetched a document. Only an AS on this machine that may fetch loopback http URLs (the
//   embedded reference server runs with allowLoopbackCimd) can reach it; a deployed AS cannot.
// - `folder` (`--cimd-url-base URL --cimd-out DIR`): the operator serves DIR at URL where the AS can
//   fetch it (a tunnel to a local web server, a shared web folder). The harness writes each document
//   into DIR and names it by its URL under the base. Fetches cannot be counted there, so the harness
//   reads each control document back through the base itself before relying on it.
//
// Also here: a raw TCP listener that only counts connections, the observable end of an SSRF probe
// (a `https://127.0.0.1:PORT/...` client_id an AS must not even connect to).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import type { HttpClient } from './http.ts';

export interface HostedResponse {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/** What a path serves: a fixed answer, or one computed per fetch (1 = first fetch). */
export type HostedContent = HostedResponse | ((fetchNumber: number) => HostedResponse);

export interface CimdHost {
  /** `listener`: the harness's own loopback listener; `folder`: files the operator publishes. */
  readonly kind: 'listener' | 'folder';
  /** Documents live at `base + path`: `http://127.0.0.1:PORT`, or the operator's --cimd-url-base. */
  readonly base: string;
  /** The origin of `base`. */
  readonly origin: string;
  /** The absolute URL of `path` (a path starting with "/"). */
  url(path: string): string;
  /**
   * Serves `content` at `path`, replacing what was there; returns the absolute URL. A function
   * (an answer computed per fetch) only on a listener; a folder serves a status other than 200 as
   * "no file" (whatever the operator's web server answers for a missing file, usually 404).
   */
  publish(path: string, content: HostedContent): string;
  /** Serves a JSON document (200, application/json) at `path`; returns the absolute URL. */
  publishJson(path: string, document: unknown, headers?: Record<string, string>): string;
  /** GETs received for `path` so far; undefined where fetches cannot be seen (a folder). */
  fetches(path: string): number | undefined;
  /** GETs received for any path so far; undefined where fetches cannot be seen (a folder). */
  totalFetches(): number | undefined;
  /**
   * Why what was published at `path` is not what its URL serves, or undefined when it is. A
   * listener serves what it was given; a folder is read back through the base by the harness.
   */
  confirm(path: string, http: HttpClient): Promise<string | undefined>;
  close(): Promise<void>;
}

/** `--cimd-url-base` and `--cimd-out`: where the operator publishes the harness's documents. */
export interface CimdPublishing {
  /** The URL DIR is served at (no trailing slash needed). */
  urlBase: string;
  /** The folder the documents are written to. */
  dir: string;
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
    kind: 'listener',
    base: origin,
    origin,
    url: (path) => `${origin}${path}`,
    publish,
    publishJson: (path, document, headers) =>
      publish(path, { body: JSON.stringify(document), ...(headers ? { headers } : {}) }),
    fetches: (path) => counts.get(path) ?? 0,
    totalFetches: () => total,
    confirm: async () => undefined,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/**
 * A host that writes documents into `publishing.dir`, named by their URL under
 * `publishing.urlBase`. Paths are the harness's own (`/cimd/<check>/<name>.json`); one that would
 * leave the folder is refused.
 */
export function folderCimdHost(publishing: CimdPublishing): CimdHost {
  const base = publishing.urlBase.replace(/\/+$/, '');
  const dir = resolvePath(publishing.dir);
  const written = new Map<string, string | undefined>();
  const fileOf = (path: string) => {
    const file = resolvePath(dir, `.${path}`);
    const rel = relative(dir, file);
    if (!path.startsWith('/') || rel === '' || rel.startsWith('..'))
      throw new Error(`not a document path inside the --cimd-out folder: ${path}`);
    return file;
  };
  const publish = (path: string, content: HostedContent): string => {
    if (typeof content === 'function')
      throw new TypeError('a folder serves fixed files: publish each version in turn instead');
    const file = fileOf(path);
    if ((content.status ?? 200) === 200) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content.body);
      written.set(path, content.body);
    } else {
      rmSync(file, { force: true });
      written.set(path, undefined);
    }
    return `${base}${path}`;
  };
  return {
    kind: 'folder',
    base,
    origin: new URL(base).origin,
    url: (path) => `${base}${path}`,
    publish,
    publishJson: (path, document) => publish(path, { body: JSON.stringify(document) }),
    fetches: () => undefined,
    totalFetches: () => undefined,
    async confirm(path, http) {
      const expected = written.get(path);
      const url = `${base}${path}`;
      let answer: { status: number; text: string };
      try {
        answer = await http.request(url, { label: 'CIMD: is the document served at --cimd-url-base?' });
      } catch (err) {
        return `the harness cannot read ${url} itself (${(err as Error).message})`;
      }
      if (expected === undefined)
        return answer.status === 200 ? `${url} still serves a document the harness removed` : undefined;
      if (answer.status !== 200) return `${url} answers HTTP ${answer.status} to the harness`;
      if (answer.text !== expected)
        return `${url} serves something else than the document written to ${join(dir, path)} (a stale copy?)`;
      return undefined;
    },
    close: async () => undefined,
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

/**
 * Runs `fn` with the host of this run: the operator's folder when `publishing` is given (the
 * documents stay there after the run, for the operator to read), else a fresh loopback listener.
 */
export async function withDocumentHost<T>(
  publishing: CimdPublishing | undefined,
  fn: (host: CimdHost) => Promise<T>,
): Promise<T> {
  return publishing ? fn(folderCimdHost(publishing)) : withCimdHost(fn);
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
