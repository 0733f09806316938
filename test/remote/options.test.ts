// The options a real deployment needs (issue #15 §2), on loopback: `serve --public-url`, and
// `run --header`, `--ca`, `--cimd-url-base`/`--cimd-out` as the CLI parses and applies them. The
// remote host tests (reference-server.test.ts, third-party.test.ts) use them end to end.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serve } from '../../cli/serve.ts';
import { PublicUrlError, startReferenceServer } from '../../reference-server/server.ts';
import { main } from '../../cli/main.ts';
import { HttpRecorder } from '../../runner/http.ts';

const scratch = mkdtempSync(join(tmpdir(), 'remote-options-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('serve --public-url: the reference server names itself by the origin clients use', () => {
  it('issuer, endpoints, resource, PRM URL and challenge all use the public origin', async () => {
    const server = await startReferenceServer({ publicUrl: 'https://mcp.example.test/' });
    try {
      expect(server.url).toBe('https://mcp.example.test/mcp');
      expect(server.issuer).toBe('https://mcp.example.test');
      const bound = server.bound[0]!;
      expect(bound).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const prm = (await (await fetch(`${bound}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
        string,
        unknown
      >;
      expect(prm).toMatchObject({
        resource: 'https://mcp.example.test/mcp',
        authorization_servers: ['https://mcp.example.test'],
      });
      const as = (await (await fetch(`${bound}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      expect(as.issuer).toBe('https://mcp.example.test');
      for (const key of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'jwks_uri'])
        expect(String(as[key]), key).toMatch(/^https:\/\/mcp\.example\.test\//);
      const challenge = await fetch(`${bound}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(challenge.status).toBe(401);
      expect(challenge.headers.get('www-authenticate')).toContain(
        'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"',
      );
    } finally {
      await server.close();
    }
  });

  it('with --split, both halves are named by their own public origin', async () => {
    const server = await startReferenceServer({
      split: true,
      publicUrl: 'https://mcp.example.test',
      asPublicUrl: 'https://login.example.test',
    });
    try {
      expect(server.url).toBe('https://mcp.example.test/mcp');
      expect(server.issuer).toBe('https://login.example.test');
    } finally {
      await server.close();
    }
  });

  it.each([
    [{ publicUrl: 'https://mcp.example.test/base' }, /origin only/],
    [{ publicUrl: 'ftp://mcp.example.test' }, /absolute http\(s\) URL/],
    [{ publicUrl: 'https://mcp.example.test', split: true }, /both --public-url and --as-public-url/],
    [{ asPublicUrl: 'https://login.example.test' }, /add --split/],
  ])('refuses %o before binding anything', async (options, message) => {
    await expect(startReferenceServer(options)).rejects.toThrow(PublicUrlError);
    await expect(startReferenceServer(options)).rejects.toThrow(message);
  });

  it('serve exits 2 on a bad --public-url, saying what to pass', async () => {
    const errors: string[] = [];
    const code = await serve(['--public-url', 'https://mcp.example.test/path'], {
      out: () => undefined,
      err: (line) => errors.push(line),
    });
    expect(code).toBe(2);
    expect(errors.join('')).toMatch(/--public-url must be an origin only/);
  });
});

/** A loopback server that answers 404 and keeps the headers of every request. */
async function recordingServer(): Promise<{
  url: string;
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('--header: for a gateway in front of the target', () => {
  it('goes to the target origin only, and a request that sets the name itself keeps its own value', async () => {
    const target = await recordingServer();
    const other = await recordingServer();
    const http = new HttpRecorder({
      allowedOrigins: [target.url, other.url],
      extraHeaders: { origins: [`${target.url}/mcp`], headers: [['X-Api-Key', 'gateway-key-123']] },
    });
    try {
      await http.request(`${target.url}/mcp`);
      await http.request(`${target.url}/.well-known/oauth-protected-resource`, {
        headers: { 'x-api-key': 'the-probe-s-own' },
      });
      await http.request(`${other.url}/token`);
      expect(target.seen.map((h) => h['x-api-key'])).toEqual(['gateway-key-123', 'the-probe-s-own']);
      expect(other.seen.map((h) => h['x-api-key'])).toEqual([undefined]);
    } finally {
      await http.close();
      await target.close();
      await other.close();
    }
  });

  it('reads $env:NAME, sends it on every request to the target, and never writes it in clear', async () => {
    const target = await recordingServer();
    const out = join(scratch, 'header-run');
    const lines: string[] = [];
    const secret = 'gw-0123456789-abcdef';
    try {
      const code = await main(
        [
          'run',
          '--target',
          `${target.url}/mcp`,
          '--only',
          'RS-PRM-01',
          '--header',
          'X-Api-Key: $env:GATEWAY_KEY',
          '--header',
          'X-Tenant: acme-corp',
          '--out',
          out,
        ],
        {
          out: (t) => lines.push(t),
          err: (t) => lines.push(t),
          isTTY: false,
          env: { GATEWAY_KEY: secret },
          cwd: scratch,
        },
      );
      expect(code).not.toBe(2);
      expect(target.seen.length).toBeGreaterThan(0);
      for (const h of target.seen) {
        expect(h['x-api-key']).toBe(secret);
        expect(h['x-tenant']).toBe('acme-corp');
      }
      const written = readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8'));
      for (const text of [...written, lines.join('')]) expect(text).not.toContain(secret);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
        exchanges: { request: { headers: [string, string][] } }[];
      };
      const sent = report.exchanges[0]!.request.headers.find(([n]) => n === 'X-Api-Key');
      expect(sent?.[1]).toMatch(/^\[redacted /);
    } finally {
      await target.close();
    }
  });

  it.each([
    ['Authorization: Bearer x', {}, /--token-env/],
    ['Cookie: a=b', {}, /sets \(or leaves out on purpose\) this header itself/],
    ['Mcp-Protocol-Version: 2025-06-18', {}, /sets \(or leaves out on purpose\)/],
    ['X-Api-Key: $env:MISSING', {}, /MISSING is not set or empty/],
    ['X-Api-Key: $env:SHORT', { SHORT: 'abc' }, /too short to be redacted/],
    ['no colon here', {}, /is not "Name: value"/],
  ])('refuses --header %j (exit 2)', async (line, env, message) => {
    const errors: string[] = [];
    const code = await main(['run', '--target', 'http://127.0.0.1:9/mcp', '--header', line], {
      out: () => undefined,
      err: (t) => errors.push(t),
      isTTY: false,
      env,
      cwd: scratch,
    });
    expect(code).toBe(2);
    expect(errors.join('')).toMatch(message);
  });
});

describe('--ca and --cimd-url-base usage', () => {
  const usage = async (args: string[]) => {
    const errors: string[] = [];
    const code = await main(['run', ...args], {
      out: () => undefined,
      err: (t) => errors.push(t),
      isTTY: false,
      env: {},
      cwd: scratch,
    });
    return { code, text: errors.join('') };
  };

  it('--ca must name a PEM file with a certificate', async () => {
    const notPem = join(scratch, 'not-a-ca.txt');
    writeFileSync(notPem, 'hello');
    expect(await usage(['--target', 'http://127.0.0.1:9/mcp', '--ca', notPem])).toMatchObject({
      code: 2,
      text: expect.stringMatching(/no PEM certificate/),
    });
    expect(
      await usage(['--target', 'http://127.0.0.1:9/mcp', '--ca', join(scratch, 'absent.pem')]),
    ).toMatchObject({
      code: 2,
      text: expect.stringMatching(/cannot be read \(ENOENT\)/),
    });
  });

  it('--cimd-url-base and --cimd-out go together, and only with --target', async () => {
    expect(
      await usage(['--target', 'http://127.0.0.1:9/mcp', '--cimd-url-base', 'https://docs.example.test/c']),
    ).toMatchObject({
      code: 2,
      text: expect.stringMatching(/go together/),
    });
    expect(
      await usage(['--cimd-url-base', 'https://docs.example.test/c', '--cimd-out', scratch]),
    ).toMatchObject({
      code: 2,
      text: expect.stringMatching(/for a --target/),
    });
  });
});
