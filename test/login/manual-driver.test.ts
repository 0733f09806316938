// The manual login driver's loopback listener, with plain HTTP requests standing in for the
// browser tab: callbacks matched to their waiters by `state` in any order, the forwarding and
// waiting pages, the count of human actions, and every bound (queue, waits, listener lifetime).
// The whole flow with a real browser and the reference server: manual-once.test.ts.

import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRecorder } from '../../runner/http.ts';
import { ManualLoginSession } from '../../runner/login/manual.ts';
import { type LoginContext, LoginError, withLoginPurpose } from '../../runner/login/shared.ts';

const sessions: ManualLoginSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

interface Setup {
  session: ManualLoginSession;
  redirectUri: string;
  origin: string;
  lines: string[];
  secrets: string[];
  /** Starts a login for an authorization URL with this state (none: no state parameter). */
  login(state: string | undefined, timeoutMs?: number): Promise<URL>;
}

async function setup(options: ConstructorParameters<typeof ManualLoginSession>[0] = {}): Promise<Setup> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const redirectUri = `${origin}/callback`;
  const session = new ManualLoginSession({ promptNoticeMs: 100, holdMs: 300, ...options });
  sessions.push(session);
  const lines: string[] = [];
  const secrets: string[] = [];
  const ctx = (state: string | undefined, timeoutMs: number): LoginContext => ({
    http: new HttpRecorder(),
    authorizationUrl: new URL(
      `https://as.example/authorize?client_id=c${state === undefined ? '' : `&state=${state}`}`,
    ),
    redirectUri,
    timeoutMs,
    log: (l) => lines.push(l),
    onSecret: (_v, k) => secrets.push(k),
  });
  return {
    session,
    redirectUri,
    origin,
    lines,
    secrets,
    login: (state, timeoutMs = 5_000) => {
      const login = session.login(ctx(state, timeoutMs));
      login.catch(() => undefined);
      return login;
    },
  };
}

/** Where a page's meta refresh sends the tab. */
function refreshTarget(body: string): string | undefined {
  const content = /<meta http-equiv="refresh" content="([^"]*)">/.exec(body)?.[1];
  return content?.replace(/&amp;/g, '&').replace(/^\d+; url=/, '');
}

describe('manual driver: one listener for the run', () => {
  it('prints one start URL; the tab is forwarded through every queued authorization, and each callback finds its waiter by state', async () => {
    const s = await setup();
    const a = s.login('state-a');
    const b = s.login('state-b');
    const c = s.login('state-c');
    await waitFor(() => s.lines.length > 0);
    expect(s.lines.join('\n')).toContain(`  ${s.origin}/`);
    expect(s.lines.join('\n')).toContain('sign in once');
    // The tab opens the start page: forwarded to the first authorization, through a page of ours.
    const first = await get(`${s.origin}/`);
    expect(first.status).toBe(200);
    expect(refreshTarget(first.body)).toBe('https://as.example/authorize?client_id=c&state=state-a');
    expect(first.body).not.toMatch(/<script/i);
    expect(first.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(first.headers['referrer-policy']).toBe('no-referrer');
    // A second tab (or a reload) takes the next one.
    const second = await get(`${s.origin}/next`);
    expect(refreshTarget(second.body)).toContain('state=state-b');
    // Callbacks out of order: b first, then a; each resolves its own waiter.
    const cbB = await get(`${s.redirectUri}?code=code-b&state=state-b`);
    expect(cbB.status).toBe(200);
    // c is queued: the answer to b's callback forwards the tab to it.
    expect(refreshTarget(cbB.body)).toContain('state=state-c');
    expect((await b).searchParams.get('code')).toBe('code-b');
    const cbA = await get(`${s.redirectUri}?code=code-a&state=state-a`);
    expect(refreshTarget(cbA.body)).toBe('/next');
    expect((await a).searchParams.get('code')).toBe('code-a');
    await get(`${s.redirectUri}?code=code-c&state=state-c`);
    expect((await c).searchParams.get('code')).toBe('code-c');
    expect(s.secrets).toEqual(['authorization_code', 'authorization_code', 'authorization_code']);
  });

  it('holds the waiting page until the next authorization comes, then forwards it at once', async () => {
    const s = await setup({ holdMs: 5_000 });
    const first = s.login('one');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=1&state=one`);
    await first;
    const started = Date.now();
    const waiting = get(`${s.origin}/next`);
    await new Promise((r) => setTimeout(r, 100));
    const second = s.login('two');
    const forwarded = await waiting;
    expect(refreshTarget(forwarded.body)).toContain('state=two');
    expect(Date.now() - started).toBeLessThan(2_000);
    await get(`${s.redirectUri}?code=2&state=two`);
    await second;
  });

  it('after the hold ends with nothing queued, answers a waiting page that asks again', async () => {
    const s = await setup({ holdMs: 100 });
    const first = s.login('one');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=1&state=one`);
    await first;
    const page = await get(`${s.origin}/next`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('waiting for the next authorization');
    expect(refreshTarget(page.body)).toBe('/next');
  });

  it('a callback with a state nobody waits for gets a clear page and is ignored', async () => {
    const s = await setup();
    const pending = s.login('mine');
    await get(`${s.origin}/`);
    const stray = await get(`${s.redirectUri}?code=x&state=not-mine`);
    expect(stray.status).toBe(400);
    expect(stray.body).toContain('no authorization of this run is waiting for');
    expect(s.secrets).toEqual([]);
    await get(`${s.redirectUri}?code=y&state=mine`);
    expect((await pending).searchParams.get('code')).toBe('y');
  });

  it('a callback without state (a server that drops it) goes to the one authorization in the browser', async () => {
    const s = await setup();
    const pending = s.login('dropped');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=z&iss=https%3A%2F%2Fas.example`);
    const callback = await pending;
    expect(callback.searchParams.get('code')).toBe('z');
    // The flow (oauth.ts), not the driver, judges the missing state.
    expect(callback.searchParams.has('state')).toBe(false);
  });

  it('counts human actions: the first sign-in, and later callbacks the person started (Sec-Fetch-User: ?1) or that took long without fetch metadata', async () => {
    const s = await setup({ slowWithoutMetadataMs: 300 });
    const silent = { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'same-site' };
    // How the authorization server answers each state, as the tab sees it: the headers the
    // browser sends on the callback, and how long the person took first.
    const answers: Record<string, { headers: Record<string, string>; delayMs?: number }> = {
      s1: { headers: silent }, // the first: the person opened the URL
      s2: { headers: silent }, // rode the session: no action
      s3: { headers: { ...silent, 'sec-fetch-user': '?1' } }, // a consent click
      s4: { headers: {} }, // no fetch metadata, fast: not counted
      s5: { headers: silent },
      s6: { headers: {}, delayMs: 500 }, // no fetch metadata, slower than a silent round trip
    };
    const logins = Object.keys(answers).map((state) => s.login(state));
    await followTab(s, answers);
    await Promise.all(logins);
    expect(s.session.humanActions).toBe(3);
    expect(s.session.humanActionLog.map((h) => [h.n, h.reason])).toEqual([
      [1, 'first sign-in'],
      [3, 'the person acted in the browser'],
      [6, 'slow, in a browser that does not say whether the person acted'],
    ]);
    expect(s.lines.some((l) => /authorization 3 .*needed you: the person acted/.test(l))).toBe(true);
  });

  it('names the check that needs an authorization on the forwarding page and, when it does not come back, in the terminal', async () => {
    const s = await setup({ promptNoticeMs: 50 });
    const first = s.login('first');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=1&state=first`);
    await first;
    const second = withLoginPurpose(
      { check: { id: 'AS-PKCE-02', title: 'A wrong verifier is refused' } },
      () => s.login('second'),
    );
    const page = await get(`${s.origin}/next`);
    expect(page.body).toContain('check AS-PKCE-02 (A wrong verifier is refused)');
    await waitFor(() => s.lines.some((l) => l.includes('authorization 2 is for check AS-PKCE-02')));
    expect(s.lines.find((l) => l.includes('authorization 2 is for'))).toMatch(
      /asking you to sign in or approve/,
    );
    await get(`${s.redirectUri}?code=2&state=second`, {
      'sec-fetch-user': '?1',
      'sec-fetch-site': 'same-site',
    });
    await second;
    expect(s.lines.some((l) => /authorization 2 \(check AS-PKCE-02 .*needed you/.test(l))).toBe(true);
  });

  it('a queued authorization whose check ended is dropped; its late callback moves the tab on, not an error', async () => {
    const s = await setup();
    const first = s.login('first');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=1&state=first`);
    await first;
    const ended = new AbortController();
    const dropped = withLoginPurpose({ check: { id: 'X', title: 't' }, signal: ended.signal }, () =>
      s.login('dropped'),
    );
    await get(`${s.origin}/next`);
    ended.abort();
    await expect(dropped).rejects.toThrow(/check that asked for this authorization ended/);
    const late = await get(`${s.redirectUri}?code=2&state=dropped`);
    expect(late.status).toBe(200);
    expect(late.body).toContain('came after its wait ended');
  });
});

describe('manual driver: bounds', () => {
  it('a queued login that no tab takes ends at its time bound, and says what to check', async () => {
    const s = await setup();
    const started = Date.now();
    await expect(s.login('lonely', 150)).rejects.toThrow(
      /no browser tab took authorization 1 .* within 0\.2 s/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a login that went to the browser and does not come back ends at its bound, counts, and tells the person how to go on', async () => {
    const s = await setup();
    const stuck = s.login('stuck', 200);
    await get(`${s.origin}/`);
    await expect(stuck).rejects.toThrow(/did not come back from the authorization server within 0\.2 s/);
    expect(s.session.humanActions).toBe(1);
    expect(s.lines.join('\n')).toMatch(new RegExp(`open ${s.origin}/ to go on`));
    // The person finishes it late: the tab goes on, and the authorization is not counted twice.
    const late = await get(`${s.redirectUri}?code=late&state=stuck`, { 'sec-fetch-user': '?1' });
    expect(late.status).toBe(200);
    expect(late.body).toContain('came after its wait ended');
    expect(s.session.humanActions).toBe(1);
  });

  it('refuses more authorizations than it may keep waiting', async () => {
    const s = await setup({ maxLive: 2 });
    s.login('1');
    s.login('2');
    await expect(s.login('3')).rejects.toThrow(/2 authorizations are already waiting/);
  });

  it('close() ends every wait, answers a held tab, and the listener is gone', async () => {
    const s = await setup({ holdMs: 10_000 });
    const first = s.login('one');
    await get(`${s.origin}/`);
    await get(`${s.redirectUri}?code=1&state=one`);
    await first;
    const queued = s.login('two', 60_000);
    await get(`${s.origin}/next`); // two is in the browser now
    const held = get(`${s.origin}/next`);
    await new Promise((r) => setTimeout(r, 50));
    await s.session.close();
    await expect(queued).rejects.toThrow(/the run ended/);
    expect((await held).body).toContain('finished with the browser');
    await expect(get(`${s.origin}/`)).rejects.toThrow(/ECONNREFUSED/);
    await expect(s.login('three')).rejects.toThrow(LoginError);
  });

  it('answers only its own host name and top-level navigations; other requests are refused', async () => {
    const s = await setup();
    const pending = s.login('guarded');
    expect((await get(`${s.origin}/`, { host: 'evil.example' })).status).toBe(421);
    expect(
      (await get(`${s.origin}/next`, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(403);
    expect((await get(`${s.origin}/favicon.ico`)).status).toBe(404);
    // Nothing was drawn off: the tab still gets the authorization.
    expect(refreshTarget((await get(`${s.origin}/`)).body)).toContain('state=guarded');
    await get(`${s.redirectUri}?code=1&state=guarded`);
    await pending;
  });

  it('refuses a redirect URI that is not loopback http with a port (RFC 8252 §7.3), and a second one in the run', async () => {
    const session = new ManualLoginSession();
    sessions.push(session);
    for (const redirectUri of ['https://app.example/cb', 'http://127.0.0.1/cb', 'http://10.0.0.1:80/cb']) {
      await expect(
        session.login({
          http: new HttpRecorder(),
          authorizationUrl: new URL('https://as.example/authorize'),
          redirectUri,
          timeoutMs: 100,
        }),
      ).rejects.toThrow(/loopback http redirect URI/);
    }
    const s = await setup();
    s.login('a');
    await expect(
      s.session.login({
        http: new HttpRecorder(),
        authorizationUrl: new URL('https://as.example/authorize'),
        redirectUri: `${s.origin}/other`,
        timeoutMs: 100,
      }),
    ).rejects.toThrow(/listens at .*\/callback for this run/);
  });
});

// --- helpers ------------------------------------------------------------------------------

/**
 * A browser tab: opens the start page and follows every page's meta refresh; where it is sent to
 * the authorization server, the server "answers" with the callback for that state (after the
 * delay, with the headers given), until every state has been answered.
 */
async function followTab(
  s: Setup,
  answers: Record<string, { headers: Record<string, string>; delayMs?: number }>,
): Promise<void> {
  const left = new Set(Object.keys(answers));
  let page = await get(`${s.origin}/`, { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none' });
  while (left.size > 0) {
    const target = refreshTarget(page.body);
    if (target === undefined) throw new Error(`the tab is stuck on: ${page.body}`);
    if (target.startsWith('/')) {
      page = await get(`${s.origin}${target}`, {
        'sec-fetch-mode': 'navigate',
        'sec-fetch-site': 'same-origin',
      });
      continue;
    }
    const state = new URL(target).searchParams.get('state')!;
    const answer = answers[state]!;
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    page = await get(`${s.redirectUri}?code=code-${state}&state=${state}`, answer.headers);
    left.delete(state);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
