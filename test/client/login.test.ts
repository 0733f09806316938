// Login drivers against the fake authorization server: auto (redirects straight back, or a clear
// refusal), form (cookie jar, CSRF hidden fields, consent buttons, origin restriction), browser
// (real headless Chromium; skipped with a reason when /usr/bin/chromium is absent). The manual
// driver has its own file: test/login/manual-driver.test.ts.

import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRecorder } from '../../runner/http.ts';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';
import { formEntries, parseForms } from '../../runner/login/html-forms.ts';
import {
  createLoginDriver,
  type FormScript,
  FormScriptSchema,
  isRedirectTo,
  type LoginContext,
  LoginError,
} from '../../runner/login/index.ts';
import { authorizationUrl, newPkce, registerClient, validateCallback } from '../../runner/oauth.ts';
import { DEMO_PASSWORD, type FakeAs, type FakeAsOptions, startFakeAs } from './helpers/fake-as.ts';

const REDIRECT = 'http://127.0.0.1:53123/callback';

const SCRIPT: FormScript = FormScriptSchema.parse({
  steps: [
    { match: '/login\\?', fill: { username: 'alice', password: '$env:C2_TEST_LOGIN_PASSWORD' } },
    { match: '/authorize\\?', submit: 'approve' },
  ],
});

let fake: FakeAs | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  await http?.close();
  await fake?.close();
  fake = undefined;
  http = undefined;
  delete process.env.C2_TEST_LOGIN_PASSWORD;
});

/** A fake AS, a registered client and a fresh authorization request. */
async function prepare(options: FakeAsOptions, redirectUri = REDIRECT) {
  fake = await startFakeAs(options);
  http = new HttpRecorder({ allowedOrigins: [fake.issuer] });
  const metadata = (
    await http.request(`${fake.issuer}/.well-known/oauth-authorization-server`)
  ).json() as Record<string, unknown>;
  const as = { issuer: fake.issuer, metadata };
  const client = await registerClient(http, as, { redirectUris: [redirectUri] });
  const state = 'st-1';
  const url = authorizationUrl(as, client, {
    redirectUri,
    state,
    pkce: await newPkce(),
    resource: 'http://127.0.0.1:9/mcp',
  });
  const secrets: [string, string][] = [];
  const ctx: LoginContext = {
    http,
    authorizationUrl: url,
    redirectUri,
    timeoutMs: 10_000,
    onSecret: (value, kind) => secrets.push([kind, value]),
  };
  return { as, client, state, ctx, secrets };
}

describe('auto driver', () => {
  it('returns the callback when the AS redirects straight back', async () => {
    const { as, client, state, ctx, secrets } = await prepare({ mode: 'auto' });
    const callback = await createLoginDriver({ driver: 'auto' }).login(ctx);
    expect(validateCallback(as, client, callback, state)).toMatch(/^[0-9a-f]{24}$/);
    expect(secrets.map(([k]) => k)).toEqual(['authorization_code']);
  });

  it('says clearly when the AS shows a login page instead', async () => {
    const { ctx } = await prepare({ mode: 'login' });
    const login = createLoginDriver({ driver: 'auto' }).login(ctx);
    await expect(login).rejects.toThrow(LoginError);
    await expect(login).rejects.toThrow(/did not auto-approve.*--login form, browser or manual/);
  });

  it('names a 429 as the target rate limit, with its announced limits, not as a login problem', async () => {
    const { ctx } = await prepare({ mode: 'auto', rateLimited: true });
    const login = createLoginDriver({ driver: 'auto' }).login(ctx);
    await expect(login).rejects.toThrow(
      /answered 429 Too Many Requests: the target rate-limits the harness \(retry-after: 900, ratelimit-policy: 100;w=900\)/,
    );
    await expect(login).rejects.not.toThrow(/--login form/);
  });
});

describe('form driver', () => {
  it('logs in through CSRF-protected forms with cookies and presses Approve', async () => {
    process.env.C2_TEST_LOGIN_PASSWORD = DEMO_PASSWORD;
    const { as, client, state, ctx, secrets } = await prepare({ mode: 'login' });
    const callback = await createLoginDriver({ driver: 'form', script: SCRIPT }).login(ctx);
    expect(isRedirectTo(callback, REDIRECT)).toBe(true);
    expect(validateCallback(as, client, callback, state)).toBeTruthy();
    const kinds = secrets.map(([k]) => k);
    expect(kinds).toContain('login-secret');
    expect(kinds).toContain('cookie');
    expect(kinds).toContain('authorization_code');
    // Hidden fields are secrets (the CSRF token), except a value that only echoes the harness's own
    // request (response_type=code): that word would otherwise be redacted all over the report.
    const formState = secrets.filter(([k]) => k === 'form-state').map(([, v]) => v);
    expect(formState.length).toBeGreaterThan(0);
    expect(formState).not.toContain('code');
    // The consent POST carried the pressed button only, the select's selected option and the textarea.
    const consent = http!.exchanges.find((e) => e.request.url.endsWith('/consent'))!;
    const body = new URLSearchParams(consent.request.body);
    expect(body.getAll('decision')).toEqual(['approve']);
    expect(body.get('lang')).toBe('en');
    expect(body.get('note')).toBe('hello & welcome');
    // The login POST did not take the commented-out trap form, and left the checkbox unchecked.
    const loginPost = http!.exchanges.find(
      (e) => e.request.method === 'POST' && e.request.url.endsWith('/login'),
    )!;
    const loginBody = new URLSearchParams(loginPost.request.body);
    expect(loginBody.has('remember')).toBe(false);
    expect(loginBody.get('action')).toBe('login');
  });

  it('Deny yields an access_denied callback (the driver does not judge it)', async () => {
    process.env.C2_TEST_LOGIN_PASSWORD = DEMO_PASSWORD;
    const { ctx } = await prepare({ mode: 'login' });
    const script = FormScriptSchema.parse({
      steps: [SCRIPT.steps[0], { match: '/authorize\\?', submit: 'Deny' }],
    });
    const callback = await createLoginDriver({ driver: 'form', script }).login(ctx);
    expect(callback.searchParams.get('error')).toBe('access_denied');
  });

  it('refuses to follow a redirect to an origin that is not allowed', async () => {
    process.env.C2_TEST_LOGIN_PASSWORD = DEMO_PASSWORD;
    const { ctx } = await prepare({ mode: 'login', loginRedirectTo: 'http://127.0.0.2:9/idp' });
    await expect(createLoginDriver({ driver: 'form', script: SCRIPT }).login(ctx)).rejects.toThrow(
      /not allowed.*allowedOrigins/,
    );
  });

  it('names the missing field, the missing env variable and the unmatched page', async () => {
    const { ctx } = await prepare({ mode: 'login' });
    const typo = FormScriptSchema.parse({ steps: [{ match: '/login', fill: { user: 'alice' } }] });
    await expect(createLoginDriver({ driver: 'form', script: typo }).login(ctx)).rejects.toThrow(
      /no field "user".*username/,
    );
    const noEnv = FormScriptSchema.parse({
      steps: [{ match: '/login', fill: { password: '$env:C2_TEST_LOGIN_PASSWORD' } }],
    });
    await expect(createLoginDriver({ driver: 'form', script: noEnv }).login(ctx)).rejects.toThrow(
      /C2_TEST_LOGIN_PASSWORD is not set/,
    );
    const nothing = FormScriptSchema.parse({ steps: [{ match: '^https://elsewhere' }] });
    await expect(createLoginDriver({ driver: 'form', script: nothing }).login(ctx)).rejects.toThrow(
      /no step.*matches.*"Sign in"/,
    );
  });

  it('wrong credentials end as a clear error, not a hang', async () => {
    process.env.C2_TEST_LOGIN_PASSWORD = 'wrong';
    const { ctx } = await prepare({ mode: 'login' });
    await expect(createLoginDriver({ driver: 'form', script: SCRIPT }).login(ctx)).rejects.toThrow(
      /answered 401/,
    );
  });
});

describe('login scripts and helpers', () => {
  it('the schema rejects bad scripts', () => {
    expect(FormScriptSchema.safeParse({ steps: [] }).success).toBe(false);
    expect(FormScriptSchema.safeParse({ steps: [{ match: '(' }] }).success).toBe(false);
    expect(FormScriptSchema.safeParse({ steps: [{ match: 'x', click: 'y' }] }).success).toBe(false);
    expect(FormScriptSchema.safeParse({ steps: [{ match: 'x', submit: 1 }] }).success).toBe(true);
  });

  it('form and browser drivers need a script', () => {
    expect(() => createLoginDriver({ driver: 'form' })).toThrow(/needs a login script/);
    expect(() => createLoginDriver({ driver: 'browser' })).toThrow(/needs a login script/);
  });

  it('isRedirectTo compares origin and path exactly', () => {
    expect(isRedirectTo(new URL(`${REDIRECT}?code=1`), REDIRECT)).toBe(true);
    expect(isRedirectTo(new URL('http://127.0.0.1:53123/callbackx?code=1'), REDIRECT)).toBe(false);
    expect(isRedirectTo(new URL('http://127.0.0.1:53124/callback'), REDIRECT)).toBe(false);
    expect(isRedirectTo(new URL('http://127.0.0.1:1/cb?x=1&code=2'), 'http://127.0.0.1:1/cb?x=1')).toBe(true);
    expect(isRedirectTo(new URL('http://127.0.0.1:1/cb?code=2'), 'http://127.0.0.1:1/cb?x=1')).toBe(false);
  });

  it('parseForms reads attributes in every quoting style, entities, and ignores scripts', () => {
    const forms = parseForms(`<script>var s = '<form action="/no">';</script>
      <FORM Method=POST action='/a?x=1&amp;y=2'><input name=a value=1><input type="radio" name="r" value="p">
      <input type="radio" name="r" value="q" checked><input name="d" disabled value="x"><input type=submit name=go value="Go &#x21;"></FORM>`);
    expect(forms).toHaveLength(1);
    expect(forms[0]!.method).toBe('POST');
    expect(forms[0]!.action).toBe('/a?x=1&y=2');
    expect(formEntries(forms[0]!, forms[0]!.controls.at(-1))).toEqual([
      ['a', '1'],
      ['r', 'q'],
      ['go', 'Go !'],
    ]);
  });
});

// The manual driver (one sign-in, a loopback listener for the run): test/login/manual-driver.test.ts.

const hasChromium = existsSync(DEFAULT_CHROMIUM_PATH);
describe('browser driver', () => {
  it.skipIf(!hasChromium)(
    'logs in and approves in headless Chromium, with a consent form rendered by JavaScript',
    async () => {
      process.env.C2_TEST_LOGIN_PASSWORD = DEMO_PASSWORD;
      const { as, client, state, ctx, secrets } = await prepare({ mode: 'login', scriptedConsent: true });
      // The browser driver keeps one Chromium for the run: closed here, as the run closes it.
      const driver = createLoginDriver({ driver: 'browser', script: SCRIPT });
      const callback = await driver.login({ ...ctx, timeoutMs: 30_000 }).finally(() => driver.close?.());
      expect(validateCallback(as, client, callback, state)).toBeTruthy();
      expect(secrets.map(([k]) => k)).toEqual(expect.arrayContaining(['login-secret', 'authorization_code']));
      // The callback was intercepted, never loaded: nothing listens on 53123 and the call did not fail.
      // Chromium's traffic is evidence like any other: recorded through the HttpClient.
      const browserExchanges = http!.exchanges.filter((e) => e.label?.startsWith('browser login:'));
      const lines = browserExchanges.map(
        (e) => `${e.request.method} ${new URL(e.request.url).pathname} ${e.response?.status ?? e.error}`,
      );
      expect(lines, lines.join('\n')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^GET \/authorize 302$/),
          expect.stringMatching(/^POST \/login 30[23]$/),
          // The redirect URI is never served by the browser: intercepted, or (a redirect hop, which
          // Chromium follows itself) refused by the unused loopback port.
          expect.stringMatching(
            /^GET \/callback (not loaded: the redirect URI belongs to the harness|browser: net::)/,
          ),
        ]),
      );
      const posted = browserExchanges.find(
        (e) => e.request.method === 'POST' && e.request.url.includes('/login'),
      );
      expect(posted?.request.body).toMatch(/username=alice/);
    },
    40_000,
  );
  if (!hasChromium) {
    it.skip(`browser driver: skipped because ${DEFAULT_CHROMIUM_PATH} is absent (apt-get install chromium)`, () => {});
  }

  it('a missing Chromium binary gives the install hint', async () => {
    const { ctx } = await prepare({ mode: 'login' });
    const driver = createLoginDriver({
      driver: 'browser',
      script: SCRIPT,
      chromiumPath: '/nonexistent/chromium',
    });
    await expect(driver.login(ctx)).rejects.toThrow(/apt-get install chromium/);
    await driver.close?.();
  });
});
