// Client ID Metadata Documents: fetching, validation, SSRF guard, size cap, caching. The documents
// are served from a loopback host; the AS runs with allowLoopbackCimd (tests cannot serve https).

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  type DocHost,
  getCode,
  type Harness,
  publishDoc,
  REDIRECT_URI,
  redeem,
  startAs,
  startDocHost,
} from './helpers.ts';

let h: Harness;
let host: DocHost;
beforeAll(async () => {
  h = await startAs({ autoApprove: true, allowLoopbackCimd: true });
  host = await startDocHost();
});
afterAll(async () => {
  await h.close();
  await host.close();
});

let n = 0;
const unique = (name: string) => `/clients/${name}-${++n}.json`;

function expectErrorPage(out: { status: number; location: URL | undefined }) {
  expect(out.status).toBe(400);
  expect(out.location).toBeUndefined();
}

describe('a valid document', () => {
  it('is fetched, and the client completes the flow', async () => {
    const client = publishDoc(host, unique('ok'));
    const code = await getCode(h, client);
    expect(code.location.searchParams.get('iss')).toBe(h.issuer);
    const r = await redeem(h, client, code);
    expect(r.status).toBe(200);
    expect(typeof r.json?.refresh_token).toBe('string');
  });

  it('is cached (max-age honoured): a second request does not fetch again', async () => {
    const path = unique('cached');
    const client = publishDoc(host, path, {}, { 'cache-control': 'max-age=60' });
    await getCode(h, client);
    await getCode(h, client);
    expect(host.hits.filter((p) => p === path)).toHaveLength(1);
  });

  it('no-store is honoured: every request fetches', async () => {
    const path = unique('nostore');
    const client = publishDoc(host, path, {}, { 'cache-control': 'no-store' });
    await getCode(h, client);
    await getCode(h, client);
    expect(host.hits.filter((p) => p === path)).toHaveLength(2);
  });
});

describe('documents that are refused (error page, no redirect)', () => {
  it.each([
    ['client_id differs by a trailing slash', (url: string) => ({ client_id: `${url}/` })],
    ['client_id of another URL', () => ({ client_id: 'https://other.example/client.json' })],
    ['no redirect_uris', () => ({ redirect_uris: undefined })],
    ['empty redirect_uris', () => ({ redirect_uris: [] })],
    ['a non-loopback http redirect URI', () => ({ redirect_uris: ['http://evil.example/cb'] })],
    ['client_secret_basic', () => ({ token_endpoint_auth_method: 'client_secret_basic' })],
    ['client_secret_post', () => ({ token_endpoint_auth_method: 'client_secret_post' })],
    ['a client_secret member', () => ({ client_secret: 'shh' })],
    ['a client_secret_expires_at member', () => ({ client_secret_expires_at: 0 })],
    ['response_types ["token"]', () => ({ response_types: ['token'] })],
  ])('%s', async (_name, change) => {
    const path = unique('bad');
    const url = `${host.origin}${path}`;
    const client = publishDoc(host, path, change(url));
    expectErrorPage(await authorize(h, { ...client, redirect_uris: [REDIRECT_URI] }));
  });

  it.each([
    ['invalid JSON', { body: '{not json' }],
    ['a JSON array', { body: '[]' }],
    ['HTTP 500', { status: 500, body: '{}' }],
    ['HTTP 404', { status: 404, body: '' }],
    ['a redirect (not followed)', { status: 302, body: '', headers: { location: '/elsewhere.json' } }],
    ['1 MB', { body: JSON.stringify({ padding: 'x'.repeat(1024 * 1024) }) }],
  ])('a response with %s', async (_name, response) => {
    const path = unique('broken');
    host.docs.set(path, response);
    host.docs.set('/elsewhere.json', { body: '{}' });
    expectErrorPage(
      await authorize(h, { client_id: `${host.origin}${path}`, redirect_uris: [REDIRECT_URI] }),
    );
    expect(host.hits).not.toContain('/elsewhere.json');
  });

  it('a redirect_uri that the document does not list', async () => {
    const client = publishDoc(host, unique('redir'));
    expectErrorPage(await authorize(h, client, { redirect_uri: 'http://127.0.0.1/other' }));
  });

  it('failures are not cached: a fixed document works on the next attempt', async () => {
    const path = unique('flaky');
    let broken = true;
    const good = publishDoc(host, path);
    const goodBody = host.docs.get(path);
    host.docs.set(path, () => (broken ? { status: 500, body: '' } : (goodBody as { body: string })));
    expectErrorPage(await authorize(h, good));
    broken = false;
    expect((await authorize(h, good)).status).toBe(302);
  });
});

describe('client_id URLs refused without fetching', () => {
  it.each([
    ['dot segment', '/a/../c.json'],
    ['single-dot segment', '/a/./c.json'],
    ['encoded dot segment', '/a/%2e%2e/c.json'],
    ['fragment', '/c.json#x'],
    ['no path', ''],
    ['root path', '/'],
    ['query but no path', '?x=/c.json'],
  ])('%s', async (_name, suffix) => {
    const before = host.hits.length;
    expectErrorPage(
      await authorize(h, { client_id: `${host.origin}${suffix}`, redirect_uris: [REDIRECT_URI] }),
    );
    expect(host.hits.length).toBe(before);
  });

  it('userinfo', async () => {
    const before = host.hits.length;
    const withUser = host.origin.replace('http://', 'http://user:pw@');
    expectErrorPage(await authorize(h, { client_id: `${withUser}/c.json`, redirect_uris: [REDIRECT_URI] }));
    expect(host.hits.length).toBe(before);
  });
});

describe('SSRF guard (without allowLoopbackCimd)', () => {
  let strict: Harness;
  let listener: Server;
  let connections = 0;
  let port = 0;
  beforeAll(async () => {
    strict = await startAs({ autoApprove: true });
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(async () => {
    await strict.close();
    await new Promise((resolve) => listener.close(resolve));
  });

  it.each([
    ['loopback IPv4', () => `https://127.0.0.1:${port}/c.json`],
    ['loopback IPv6', () => 'https://[::1]/c.json'],
    ['link-local (cloud metadata)', () => 'https://169.254.169.254/latest/meta-data'],
    ['private 10/8', () => 'https://10.0.0.1/c.json'],
    ['private 192.168/16', () => 'https://192.168.1.1/c.json'],
    ['IPv4-mapped IPv6', () => 'https://[::ffff:127.0.0.1]/c.json'],
    ['unspecified', () => 'https://0.0.0.0/c.json'],
    ['localhost (resolves to loopback)', () => `https://localhost:${port}/c.json`],
  ])('%s is never connected to', async (_name, clientId) => {
    const out = await authorize(strict, { client_id: clientId(), redirect_uris: [REDIRECT_URI] });
    expectErrorPage(out);
    expect(out.text).toMatch(/forbidden address/);
    expect(connections).toBe(0);
  });

  it('http client_ids are refused without the dev flag', async () => {
    const out = await authorize(strict, {
      client_id: `${host.origin}/c.json`,
      redirect_uris: [REDIRECT_URI],
    });
    expect(out.status).toBe(400);
    expect(out.text).toMatch(/unknown client_id/);
  });
});
