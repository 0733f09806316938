// The reference server's sign-in session (reference-server/as/sign-in-sessions.ts): signing in on
// the consent page starts a session (an HttpOnly, SameSite=Lax cookie); with it, a client the
// person approved gets its code without a page, a new client gets a consent page without password
// fields (or no page with --skip-consent), an erroneous request is redirected at once (the user is
// authenticated: OAuth 2.1 §7.12.2), and prompt=login ignores the session.

import { afterEach, describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  form,
  type Harness,
  pkce,
  post,
  REDIRECT_URI,
  register,
  startAs,
  type TestClient,
} from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** GET /authorize for `client` with `cookie` (none: a browser without a session). */
async function open(client: TestClient, cookie?: string, extra: Record<string, string> = {}) {
  const { challenge } = pkce();
  const res = await fetch(
    authorizeUrl(h!, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: h!.resource,
      scope: 'mcp:tools',
      state: 's',
      ...extra,
    }),
    { redirect: 'manual', headers: cookie ? { cookie } : {} },
  );
  const html = await res.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
  return { res, html, requestId: field('request_id'), csrf: field('csrf') };
}

const submit = (fields: Record<string, string>, cookie?: string) =>
  post(h!, '/consent', form(fields), {
    'content-type': 'application/x-www-form-urlencoded',
    ...(cookie ? { cookie } : {}),
  });

/** Signs alice in on the consent page of `client`; returns the session cookie (name=value). */
async function signIn(client: TestClient): Promise<string> {
  const page = await open(client);
  const r = await submit({
    request_id: page.requestId!,
    csrf: page.csrf!,
    username: 'alice',
    password: 'alice',
    action: 'approve',
  });
  expect(r.status).toBe(303);
  const setCookie = r.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/^as_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  return setCookie.split(';')[0]!;
}

describe('sign-in session of the reference server', () => {
  it('a wrong password starts no session; a right one does, and the same client then gets its code without a page', async () => {
    h = await startAs({ autoApprove: false });
    const client = await register(h);
    const page = await open(client);
    const wrong = await submit({
      request_id: page.requestId!,
      csrf: page.csrf!,
      username: 'alice',
      password: 'nope',
      action: 'approve',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const cookie = await signIn(client);
    const again = await open(client, cookie);
    expect(again.res.status).toBe(302);
    const location = new URL(again.res.headers.get('location')!);
    expect(location.searchParams.get('code')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('s');
    // A scope the person has not approved for this client asks again.
    const wider = await open(client, cookie, { scope: 'mcp:tools mcp:write' });
    expect(wider.res.status).toBe(200);
    // Without the cookie, the sign-in form as before.
    const anonymous = await open(client);
    expect(anonymous.res.status).toBe(200);
    expect(anonymous.html).toContain('name="password"');
  });

  it('a new client gets a consent page without password fields, answerable only with the session it was shown to', async () => {
    h = await startAs({ autoApprove: false });
    const cookie = await signIn(await register(h));
    const other = await register(h, { client_name: 'Another client' });
    const page = await open(other, cookie);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('You are signed in as <strong>alice</strong>');
    expect(page.html).not.toContain('name="password"');
    expect(page.html).toContain('Another client');
    // Without the session (another browser), the form cannot be answered.
    const stolen = await submit({ request_id: page.requestId!, csrf: page.csrf!, action: 'approve' });
    expect(stolen.status).toBe(400);
    expect(stolen.text).toMatch(/sign-in session this consent page was shown to has ended/);
    const approved = await submit(
      { request_id: page.requestId!, csrf: page.csrf!, action: 'approve' },
      cookie,
    );
    expect(approved.status).toBe(303);
    expect(new URL(approved.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    // Remembered: the next request of that client needs no page.
    expect((await open(other, cookie)).res.status).toBe(302);
  });

  it('with --skip-consent a signed-in person is never asked again, for any client; prompt=login still asks', async () => {
    h = await startAs({ autoApprove: false, skipConsent: true });
    const cookie = await signIn(await register(h));
    const fresh = await open(await register(h), cookie);
    expect(fresh.res.status).toBe(302);
    expect(new URL(fresh.res.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    const login = await open(await register(h), cookie, { prompt: 'login' });
    expect(login.res.status).toBe(200);
    expect(login.html).toContain('name="password"');
  });

  it('an erroneous request of a signed-in person is redirected with its error at once (OAuth 2.1 §7.12.2 is met)', async () => {
    h = await startAs({ autoApprove: false });
    const client = await register(h);
    const cookie = await signIn(client);
    const noPkce = await open(client, cookie, { code_challenge: '' });
    expect(noPkce.res.status).toBe(302);
    const location = new URL(noPkce.res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    // Without the session, the sign-in page first (unchanged).
    expect((await open(client, undefined, { code_challenge: '' })).res.status).toBe(200);
  });

  it('an unknown or forged cookie is no session', async () => {
    h = await startAs({ autoApprove: false, skipConsent: true });
    const client = await register(h);
    await signIn(client);
    const forged = await open(client, `as_session=${'A'.repeat(43)}`);
    expect(forged.res.status).toBe(200);
    expect(forged.html).toContain('name="password"');
  });
});
