// The client library against a hostile target: a URL that never answers, a reset connection,
// garbage bodies. Each ends inside the HttpClient's bound as data (an attempt with an error, an
// undefined message) or as an HttpTransportError, never as a hang or a crash.

import { afterEach, describe, expect, it } from 'vitest';
import { discoverAuthorizationServer, discoverProtectedResource } from '../../runner/discovery.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { mcpCall, openSession, McpSessionError } from '../../runner/mcp.ts';
import { json, type StubServer, startStub } from './helpers/stub-server.ts';

let stub: StubServer | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  await http?.close();
  await stub?.close();
  stub = undefined;
  http = undefined;
});

async function hostile() {
  stub = await startStub((req, res) => {
    switch (req.path) {
      case '/mcp':
        res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="{{{", ,,, "' });
        res.end();
        return;
      case '/.well-known/oauth-protected-resource/mcp':
        return; // never answers
      case '/.well-known/oauth-protected-resource':
        res.socket?.destroy(); // resets the connection
        return;
      case '/.well-known/oauth-authorization-server':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"issuer": '); // truncated JSON
        return;
      case '/.well-known/openid-configuration':
        return json(res, 200, 'a string, not an object');
      case '/sse':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {not json\n\ndata: [1,2]\n\n: only a comment');
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  http = new HttpRecorder({ allowedOrigins: [stub.origin], timeoutMs: 300 });
  return stub.origin;
}

describe('hostile target', () => {
  it('PRM discovery: a hanging URL and a reset end as attempts with errors, within the bound', async () => {
    const origin = await hostile();
    const started = Date.now();
    const result = await discoverProtectedResource(
      http!,
      `${origin}/mcp`,
      '2026-07-28',
      async () => (await mcpCall(http!, `${origin}/mcp`, '2026-07-28', { method: 'tools/list' })).response,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.prm).toBeUndefined();
    // The garbage challenge's resource_metadata is "{{{": tried, refused as a URL, then the fallback.
    expect(result.attempts.map((a) => a.error?.split(':')[0])).toEqual(['invalid-url', 'timeout', 'network']);
  });

  it('AS discovery: truncated JSON and a JSON string are misses, not crashes', async () => {
    const origin = await hostile();
    const result = await discoverAuthorizationServer(http!, origin, '2026-07-28');
    expect(result.metadata).toBeUndefined();
    expect(result.attempts.map((a) => [a.status, a.error])).toEqual([
      [200, 'the 200 answer is not a JSON object'],
      [200, 'the 200 answer is not a JSON object'],
    ]);
  });

  it('MCP: garbage SSE yields no message; a hanging endpoint is a timeout error', async () => {
    const origin = await hostile();
    const reply = await mcpCall(http!, `${origin}/sse`, '2025-11-25', { method: 'tools/list' });
    expect(reply.response.status).toBe(200);
    expect(reply.message).toBeUndefined();
    await expect(openSession(http!, `${origin}/sse`, '2025-11-25')).rejects.toThrow(McpSessionError);
    await expect(
      mcpCall(http!, `${origin}/.well-known/oauth-protected-resource/mcp`, '2026-07-28', {
        method: 'tools/list',
      }),
    ).rejects.toMatchObject({ name: 'HttpTransportError', kind: 'timeout' });
  });
});
