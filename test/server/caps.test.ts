// Caps on what anyone can make the reference server store (reference-server/limits.ts): each store
// is filled to a small cap set through `startReferenceServer({ limits })`, the next request gets
// the clear refusal, and the room comes back when entries expire (a fake clock moves time on:
// only `Date` is faked, so sockets and timers run as usual).

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  authorize,
  getCode,
  getTokens,
  type Harness,
  redeem,
  refresh,
  register,
  registerRaw,
  PUBLIC_CLIENT,
  startAs,
  tokenRequest,
} from '../as/helpers.ts';
import { openSession, post as postMcp, startTestServer } from '../rs/helpers.ts';

let harness: Harness | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await harness?.close();
  harness = undefined;
});

async function start(options: Parameters<typeof startAs>[0]): Promise<Harness> {
  harness = await startAs(options);
  return harness;
}

/** Freezes `Date` at the real now; `advance` moves it on. */
function fakeClock(): { advance(ms: number): void } {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  return { advance: (ms) => vi.setSystemTime(Date.now() + ms) };
}

function expect503(
  reply: { status: number; headers: Headers; json?: Record<string, unknown> },
  retryAfter: number,
) {
  expect(reply.status).toBe(503);
  expect(reply.json?.error).toBe('temporarily_unavailable');
  expect(Number(reply.headers.get('retry-after'))).toBe(retryAfter);
}

describe('registered clients', () => {
  it('are capped: the registration past the cap is 503 with Retry-After, and unused clients expire', async () => {
    const clock = fakeClock();
    const h = await start({ limits: { maxClients: 3, clientIdleSeconds: 100 } });
    const [used] = [await register(h), await register(h), await register(h)];
    expect((await h.server.sizes()).clients).toBe(3);
    expect503(await registerRaw(h, PUBLIC_CLIENT), 100);

    // 60 s on, one client is used; 50 s later the two others have idled out, the used one has not.
    clock.advance(60_000);
    expect((await authorize(h, used!)).location?.searchParams.get('code')).toBeTruthy();
    clock.advance(50_000);
    expect((await registerRaw(h, PUBLIC_CLIENT)).status).toBe(201);
    expect((await h.server.sizes()).clients).toBe(2);
    expect((await authorize(h, used!)).location?.searchParams.get('code')).toBeTruthy();
  });

  it('keep a bounded number of bytes each: larger metadata is 400 invalid_client_metadata', async () => {
    const h = await start({ limits: { maxClientMetadataBytes: 1024 } });
    const small = await registerRaw(h, { ...PUBLIC_CLIENT, client_name: 'x'.repeat(500) });
    expect(small.status).toBe(201);
    const large = await registerRaw(h, { ...PUBLIC_CLIENT, client_name: 'x'.repeat(1024) });
    expect(large.status).toBe(400);
    expect(large.json?.error).toBe('invalid_client_metadata');
    expect(String(large.json?.error_description)).toMatch(/at most 1024/);
    // Unknown members are ignored, not kept, so they do not count (RFC 7591 §2).
    expect((await registerRaw(h, { ...PUBLIC_CLIENT, padding: 'x'.repeat(30_000) })).status).toBe(201);
    expect((await h.server.sizes()).clients).toBe(2);
  });

  it('the default keeps 5 KiB per client (the issue registered 60 KB clients)', async () => {
    const h = await start({});
    const large = await registerRaw(h, { ...PUBLIC_CLIENT, contacts: Array(600).fill('x'.repeat(98)) });
    expect(large.status).toBe(400);
    expect((await h.server.sizes()).clients).toBe(0);
  });
});

describe('authorization requests', () => {
  it('waiting on the consent page are capped: 503 with Retry-After, room again once they expire', async () => {
    const clock = fakeClock();
    const h = await start({ autoApprove: false, limits: { maxPendingRequests: 2 } });
    const client = await register(h);
    expect((await authorize(h, client)).status).toBe(200);
    expect((await authorize(h, client)).status).toBe(200);
    const full = await authorize(h, client);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('600'); // the consent page lives 10 minutes
    expect(full.text).toMatch(/temporarily_unavailable/);
    expect((await h.server.sizes()).pending).toBe(2);
    clock.advance(600_001);
    expect((await authorize(h, client)).status).toBe(200);
    expect((await h.server.sizes()).pending).toBe(1);
  });

  it('keep a bounded state: a larger one is refused (by redirect with auto-approve, else on a page)', async () => {
    const limits = { maxAuthorizationRequestBytes: 1000 };
    const h = await start({ limits });
    const client = await register(h);
    const fits = await authorize(h, client, { state: 's'.repeat(900) });
    expect(fits.location?.searchParams.get('code')).toBeTruthy();
    const large = 's'.repeat(1001);
    const refused = await authorize(h, client, { state: large });
    expect(refused.status).toBe(302);
    expect(refused.location?.searchParams.get('error')).toBe('invalid_request');
    expect(refused.location?.searchParams.get('state')).toBe(large);

    const consent = await startAs({ autoApprove: false, limits });
    try {
      const other = await register(consent);
      const page = await authorize(consent, other, { state: large });
      expect(page.status).toBe(400);
      expect(page.text).toMatch(/at most 1000/);
      expect((await consent.server.sizes()).pending).toBe(0);
    } finally {
      await consent.close();
    }
  });
});

describe('authorization codes', () => {
  it('are capped: the code past the cap is the redirect error temporarily_unavailable', async () => {
    const clock = fakeClock();
    const h = await start({ limits: { maxCodes: 2 } });
    const client = await register(h);
    await getCode(h, client);
    await getCode(h, client);
    const full = await authorize(h, client);
    expect(full.status).toBe(302);
    expect(full.location?.searchParams.get('error')).toBe('temporarily_unavailable'); // OAuth 2.1 §4.1.2.1
    expect(full.location?.searchParams.get('state')).toBe('state-1');
    expect(full.location?.searchParams.get('iss')).toBe(h.issuer);
    clock.advance(61_000); // unredeemed codes live 60 s
    await getCode(h, client);
    expect((await h.server.sizes()).codes).toBe(1);
  });
});

describe('grants and refresh tokens', () => {
  it('grants are capped: the exchange past the cap is 503 and does not burn the code', async () => {
    const clock = fakeClock();
    const h = await start({ limits: { maxGrants: 2, grantIdleSeconds: 30 } });
    const client = await register(h);
    await getTokens(h, client);
    await getTokens(h, client);
    const code = await getCode(h, client);
    expect503(await redeem(h, client, code), 30);
    clock.advance(30_000); // both grants idle out; the code (60 s) is still good
    expect((await redeem(h, client, code)).status).toBe(200);
    expect((await h.server.sizes()).grants).toBe(1);
  });

  it('a grant whose refresh token idles out ends: its refresh token is then unknown', async () => {
    const clock = fakeClock();
    const h = await start({ limits: { grantIdleSeconds: 30 } });
    const client = await register(h);
    const tokens = await getTokens(h, client);
    clock.advance(20_000);
    const first = await refresh(h, client, tokens.refresh_token);
    expect(first.status).toBe(200); // a use: 30 more seconds
    clock.advance(20_000);
    const second = await refresh(h, client, String(first.json?.refresh_token));
    expect(second.status).toBe(200);
    clock.advance(31_000);
    const late = await refresh(h, client, String(second.json?.refresh_token));
    expect(late.status).toBe(400);
    expect(late.json?.error).toBe('invalid_grant');
    expect(await h.server.sizes()).toMatchObject({ grants: 0, refreshTokens: 0 });
  });

  it('remember the last few superseded refresh tokens for reuse detection, no more', async () => {
    const h = await start({ limits: { maxRefreshHistory: 2 } });
    const client = await register(h);
    const chain = [(await getTokens(h, client)).refresh_token];
    for (let i = 0; i < 4; i++) {
      const next = await refresh(h, client, chain.at(-1)!);
      expect(next.status).toBe(200);
      chain.push(String(next.json?.refresh_token));
    }
    // The active token and two superseded ones are indexed; the two oldest are forgotten.
    expect((await h.server.sizes()).refreshTokens).toBe(3);
    const forgotten = await refresh(h, client, chain[0]!);
    expect(forgotten.json).toMatchObject({ error: 'invalid_grant' });
    expect(String(forgotten.json?.error_description)).toMatch(/unknown/);
    // A remembered superseded token is a reuse: the grant ends (OAuth 2.1 §4.3.1).
    const reused = await refresh(h, client, chain[3]!);
    expect(String(reused.json?.error_description)).toMatch(/already used/);
    expect((await refresh(h, client, chain[4]!)).status).toBe(400);
  });

  it('access-token ids are bookkeeping: the oldest is dropped past the cap, nothing is refused', async () => {
    const h = await start({ limits: { maxAccessTokenRecords: 3 } });
    const client = await register(h);
    let rt = (await getTokens(h, client)).refresh_token;
    for (let i = 0; i < 4; i++) {
      const next = await refresh(h, client, rt);
      expect(next.status).toBe(200);
      rt = String(next.json?.refresh_token);
    }
    expect((await h.server.sizes()).accessTokenRecords).toBe(3);
  });

  it('a full grant store still lets existing grants refresh, and refuses a code replay as one', async () => {
    const h = await start({ limits: { maxGrants: 1 } });
    const client = await register(h);
    const code = await getCode(h, client);
    const tokens = await redeem(h, client, code);
    expect(tokens.status).toBe(200);
    expect((await refresh(h, client, String(tokens.json?.refresh_token))).status).toBe(200);
    const replay = await redeem(h, client, code);
    expect(replay.json?.error).toBe('invalid_grant');
    const other = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: 'unknown',
      client_id: client.client_id,
    });
    expect(other.json?.error).toBe('invalid_grant');
  });
});

describe('MCP sessions', () => {
  it('are capped: the least recently used session is closed to make room', async () => {
    const s = await startTestServer({ limits: { maxSessions: 2 } });
    try {
      const token = await s.mint();
      const first = await openSession(s.url, '2025-06-18', token);
      await openSession(s.url, '2025-06-18', token);
      await openSession(s.url, '2025-06-18', token);
      expect((await s.sizes()).sessions).toBe(2);
      const gone = await postMcp(s.url, '2025-06-18', 'tools/list', {
        token,
        headers: { 'Mcp-Session-Id': first },
      });
      expect(gone.status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe('limits', () => {
  it('must be positive integers with known names', async () => {
    await expect(startAs({ limits: { maxClients: 0 } })).rejects.toThrow(/positive integer/);
    await expect(startAs({ limits: { maxClients: 1.5 } })).rejects.toThrow(/positive integer/);
    await expect(startAs({ limits: { noSuchLimit: 1 } as never })).rejects.toThrow(/unknown/);
  });
});
