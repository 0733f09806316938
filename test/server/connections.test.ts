// What a connection can do to the reference server besides sending a good request: ask to switch
// protocols and go on sending (issue #14: after an `Upgrade:` request, Node's parser stopped
// reading the keep-alive connection, so a later request got no answer until the idle timeout),
// ask for a tunnel (CONNECT), or hang up mid-request (issue #14: logged as "unexpected error" with
// a stack trace, as if it were a bug of ours).

import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../rs/helpers.ts';

let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer({ autoApprove: true });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());
afterEach(() => {
  vi.restoreAllMocks();
});

interface RawReply {
  /** Status codes of the responses, in order. */
  statuses: number[];
  text: string;
  ms: number;
}

/** Writes `payload` on a fresh connection and reads until the server closes it (or 4 s pass). */
function raw(payload: string): Promise<RawReply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () =>
      resolve({
        statuses: [...text.matchAll(/(?:^|\r\n\r\n|\})HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])),
        text,
        ms: performance.now() - started,
      }),
    );
    socket.on('error', reject);
    socket.setTimeout(4000, () => socket.destroy());
  });
}

const UPGRADE = 'GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

describe('a request asking to switch protocols (RFC 9110 §7.8: the server may ignore Upgrade)', () => {
  it('is answered as plain HTTP/1.1, and a malformed request after it gets a 400 at once', async () => {
    const reply = await raw(`${UPGRADE}GARBAGE \x01\r\n\r\n`);
    expect(reply.statuses).toEqual([200, 400]);
    expect(reply.ms).toBeLessThan(2000); // the keep-alive timeout is 5 s
  });

  it('keeps the connection usable: the next request on it is answered', async () => {
    const reply = await raw(`${UPGRADE}GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(reply.statuses).toEqual([200, 200]);
    expect(reply.ms).toBeLessThan(2000);
  });

  it('reads its body as its own, sent in one piece or after a pause', async () => {
    const body = JSON.stringify({
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'none',
    });
    const register =
      'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const next = 'GET /jwks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    expect((await raw(`${register}${body}${next}`)).statuses).toEqual([201, 200]);

    const reply = await new Promise<RawReply>((resolve, reject) => {
      const started = performance.now();
      let text = '';
      const socket: Socket = connect(port, '127.0.0.1', () => {
        socket.write(register);
        setTimeout(() => socket.write(`${body}${next}`), 100);
      });
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      socket.on('close', () =>
        resolve({
          statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])),
          text,
          ms: performance.now() - started,
        }),
      );
      socket.on('error', reject);
      socket.setTimeout(4000, () => socket.destroy());
    });
    expect(reply.statuses).toEqual([201, 200]);
  });
});

describe('what the MCP endpoint hands the SDK', () => {
  /** A 2025-06-18 ping with a valid token, with `target` on the request line and `host` as Host. */
  async function ping(method: string, target: string, host: string, connection = 'close'): Promise<RawReply> {
    const token = await server.mint();
    const body = method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) : '';
    return raw(
      `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n' +
        `MCP-Protocol-Version: 2025-06-18\r\nConnection: ${connection}\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
  }

  it('a request target in absolute form is served like its origin form (RFC 9112 §3.2.2)', async () => {
    const absolute = `http://127.0.0.1:${port}/mcp`;
    expect((await ping('POST', absolute, `127.0.0.1:${port}`)).statuses).toEqual([200]);
    expect((await ping('DELETE', absolute, `127.0.0.1:${port}`)).statuses).toEqual([405]);
    expect((await ping('GET', absolute, `127.0.0.1:${port}`)).statuses).toEqual([405]);
  });

  it.each(['[', 'a b', 'x:y:z', '%'])('a Host of %j does not make the answer a 500', async (host) => {
    expect((await ping('POST', '/mcp', host)).statuses).toEqual([200]);
  });

  it('Connection: close is honoured on an event-stream answer (RFC 9112 §9.6)', async () => {
    const reply = await ping('POST', '/mcp', `127.0.0.1:${port}`);
    expect(reply.text).toMatch(/content-type: text\/event-stream/i);
    expect(reply.ms).toBeLessThan(2000); // not the 5 s idle timeout
  });
});

describe('CONNECT', () => {
  it('is refused with 405, not dropped without a word', async () => {
    const reply = await raw('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n');
    expect(reply.statuses).toEqual([405]);
    expect(reply.text).toMatch(/"error":"invalid_request"/);
  });
});

describe('a client that hangs up mid-request', () => {
  /** Sends half of a registration body, then hangs up (a reset, or a plain close). */
  async function hangUp(how: 'reset' | 'close'): Promise<void> {
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            'Content-Length: 100\r\n\r\n{"redirect_uris":',
        );
        setTimeout(() => (how === 'reset' ? socket.resetAndDestroy() : socket.end()), 50);
      });
      socket.resume(); // read the server's answer, so its close reaches us
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
  }

  it.each(['reset', 'close'] as const)('(%s) is not logged as an unexpected error', async (how) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await hangUp(how);
    // The handler has seen the abort once a later request on another connection is answered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${server.issuer}/jwks`)).status).toBe(200);
    const logged = errors.mock.calls.map((args) => args.map(String).join(' '));
    expect(logged.filter((line) => /unexpected error/.test(line))).toEqual([]);
  });
});
