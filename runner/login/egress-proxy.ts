// A loopback forward proxy that holds the browser login driver to the egress policy.
//
// Chromium resolves names and follows redirects itself, outside the HttpClient, so a login page
// could send it anywhere (a redirect to a cloud metadata address, a private host). The browser is
// launched with this proxy for every request, loopback included (`--proxy-bypass-list=<-loopback>`):
// each request or CONNECT tunnel is checked by the same EgressPolicy as the runner's own requests,
// and the connection goes to the address the policy checked. A refusal answers 403 and is reported
// through `onRefused`, so it becomes evidence.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type EgressPolicy, EgressRefused } from '../egress.ts';

export interface EgressProxy {
  /** `http://127.0.0.1:PORT`, for Chromium's --proxy-server. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startEgressProxy(
  policy: EgressPolicy,
  onRefused: (url: string, refusal: EgressRefused) => void,
  /** Requests never forwarded (the harness's redirect URI): the connection is dropped, as if nothing listened. */
  drop: (url: URL) => boolean = () => false,
): Promise<EgressProxy> {
  const sockets = new Set<Socket | Duplex>();
  const track = (s: Socket | Duplex) => {
    // A kept-alive socket carries many requests: its listeners are added once.
    if (sockets.has(s)) return;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const refuse = (url: string, err: unknown): string => {
    if (err instanceof EgressRefused) {
      onRefused(url, err);
      return err.message;
    }
    return `cannot reach ${url}: ${(err as Error)?.message ?? String(err)}`;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    track(req.socket);
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not an http URL');
    } catch {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('the harness proxy takes absolute http URLs only');
      return;
    }
    if (drop(target)) {
      req.socket.destroy();
      return;
    }
    const { 'proxy-connection': _pc, 'proxy-authorization': _pa, ...headers } = req.headers;
    policy.check(target.hostname).then(
      (addresses) => {
        const upstream = httpRequest(
          {
            host: addresses[0]!.address,
            port: target.port || 80,
            method: req.method,
            path: `${target.pathname}${target.search}`,
            headers,
            setHost: false,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
            answer.pipe(res);
          },
        );
        upstream.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(refuse(target.href, err));
        });
        req.pipe(upstream);
      },
      (err: unknown) => {
        res.writeHead(403, { 'content-type': 'text/plain' }).end(refuse(target.href, err));
      },
    );
  });

  // https:// through a CONNECT tunnel: the policy checks the host, the tunnel goes to the checked address.
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    const authority = req.url ?? '';
    const at = authority.lastIndexOf(':');
    const hostname = authority.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(authority.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    policy.check(hostname).then(
      (addresses) => {
        const upstream = netConnect(port, addresses[0]!.address, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        track(upstream);
        upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
      },
      (err: unknown) => {
        const message = refuse(`https://${authority}`, err);
        client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${message}`);
      },
    );
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
