// The `manual` login driver: a person completes the login in their own browser. The harness
// prints the authorization URL and listens on the redirect URI's loopback address and port for
// exactly one request to its path (RFC 8252 §7.3 loopback redirect), answers the browser with a
// short page, and closes the listener, with a time bound.

import { createServer, type Server } from 'node:http';
import { isRedirectTo, type LoginContext, LoginError } from './shared.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const DONE_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>mcp-auth-conformance</title></head>
<body><p>The conformance run received the authorization response. You can close this tab.</p></body></html>`;

export async function manualLogin(ctx: LoginContext): Promise<URL> {
  const redirect = new URL(ctx.redirectUri);
  if (redirect.protocol !== 'http:' || !LOOPBACK_HOSTS.has(redirect.hostname) || redirect.port === '') {
    throw new LoginError(
      `--login manual needs a loopback http redirect URI with an explicit port (RFC 8252 §7.3), such as http://127.0.0.1:53123/callback; got ${ctx.redirectUri}`,
    );
  }
  const host = redirect.hostname === '[::1]' ? '::1' : redirect.hostname;
  const port = Number(redirect.port);

  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<URL>((resolve, reject) => {
      server = createServer((req, res) => {
        let url: URL;
        try {
          url = new URL(req.url ?? '/', redirect.origin);
        } catch {
          res.writeHead(400).end();
          return;
        }
        if (req.method !== 'GET' || !isRedirectTo(url, ctx.redirectUri)) {
          // A favicon or a stray request: not the callback.
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not the callback\n');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(DONE_PAGE);
        const code = url.searchParams.get('code');
        if (code) ctx.onSecret?.(code, 'authorization_code');
        resolve(url);
      });
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new LoginError(`cannot listen on ${redirect.host} for the callback: ${err.code ?? err.message}`),
        ),
      );
      server.listen(port, host, () => {
        const log = ctx.log ?? ((line: string) => process.stderr.write(`${line}\n`));
        log('Open this URL in a browser and complete the login:');
        log(`  ${ctx.authorizationUrl.href}`);
        log(
          `Waiting up to ${Math.round(ctx.timeoutMs / 1000)} s for the redirect to ${redirect.origin}${redirect.pathname} ...`,
        );
      });
      timer = setTimeout(
        () =>
          reject(
            new LoginError(`no authorization response reached ${ctx.redirectUri} within ${ctx.timeoutMs} ms`),
          ),
        ctx.timeoutMs,
      );
    });
  } finally {
    clearTimeout(timer);
    const s = server as Server | undefined;
    if (s?.listening) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  }
}
