// msw handlers served on a real loopback HTTP server.
//
// msw intercepts global fetch, but the runner talks through undici's request(), which msw does not
// see. So the handlers are answered by a node:http server on an ephemeral port: each request is
// converted to a fetch Request, resolved with msw's getResponse(), and the Response is written back.
// A request no handler answers gets a 404 (so a test sees it, instead of a hang).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

export interface MswServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Requests received, in order (method and path), for assertions. */
  requests: { method: string; url: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

export async function startMswServer(handlers: RequestHandler[]): Promise<MswServer> {
  const requests: MswServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    void answer(req, res);
  });
  let origin = '';

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    requests.push({ method: req.method ?? 'GET', url: url.href, headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
    const request = new Request(url, {
      method: req.method ?? 'GET',
      headers,
      ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
    });
    let response: Response | undefined;
    try {
      response = await getResponse(handlers, request);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`msw handler threw: ${(err as Error).message}`);
      return;
    }
    if (!response) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no msw handler for this request');
      return;
    }
    if (res.destroyed) return;
    const out: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (name === 'set-cookie') return;
      out.push([name, value]);
    });
    for (const cookie of response.headers.getSetCookie()) out.push(['set-cookie', cookie]);
    res.writeHead(response.status, out.flat());
    if (!response.body) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || res.destroyed) break;
        if (!res.write(value)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } catch {
      res.destroy();
    } finally {
      // Stop an endless body (a "hostile target" test) once the client has gone.
      void reader.cancel().catch(() => undefined);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
