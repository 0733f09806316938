// The login drivers register the consent page's hidden fields (CSRF token, consent request id) as
// secrets the moment they see them, so no report shows them in clear: against the reference
// server's real consent page, with the form driver and (when Chromium is installed) the browser.

import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceServer, type RunningReferenceServer } from '../../reference-server/server.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';
import { parseForms } from '../../runner/login/html-forms.ts';
import { createLoginDriver, FormScriptSchema } from '../../runner/login/index.ts';
import { authorizationUrl, newPkce, registerClient } from '../../runner/oauth.ts';
import { Redactor } from '../../runner/redact.ts';

const SCRIPT = FormScriptSchema.parse({
  steps: [{ match: '/authorize\\?', fill: { username: 'alice', password: 'alice' }, submit: 'approve' }],
});

let server: RunningReferenceServer | undefined;
let http: HttpRecorder | undefined;
afterEach(async () => {
  await http?.close();
  await server?.close();
  http = undefined;
  server = undefined;
});

async function loginWith(driver: 'form' | 'browser') {
  server = await startReferenceServer({});
  http = new HttpRecorder({ allowedOrigins: [server.url, server.issuer] });
  const metadata = (
    await http.request(`${server.issuer}/.well-known/oauth-authorization-server`)
  ).json() as Record<string, unknown>;
  const as = { issuer: server.issuer, metadata };
  const redirectUri = 'http://127.0.0.1:53124/callback';
  const client = await registerClient(http, as, { redirectUris: [redirectUri] });
  const url = authorizationUrl(as, client, {
    redirectUri,
    state: 'st-1',
    pkce: await newPkce(),
    resource: server.url,
    scope: 'mcp:tools',
  });
  const redactor = new Redactor();
  const registered: [string, string][] = [];
  await createLoginDriver({ driver, script: SCRIPT }).login({
    http,
    authorizationUrl: url,
    redirectUri,
    timeoutMs: 30_000,
    onSecret: (value, kind) => {
      registered.push([kind, value]);
      redactor.register(value, kind === 'login-secret' ? 'password' : 'token');
    },
  });
  // The consent page as served: its hidden fields are what must not leave in clear.
  const page = http.exchanges.find((e) => e.response?.body.includes('name="csrf"'));
  expect(page, 'the consent page was recorded').toBeDefined();
  const hidden = parseForms(page!.response!.body)
    .flatMap((f) => f.controls)
    .filter((c) => c.type === 'hidden' && c.value !== '');
  expect(hidden.map((c) => c.name)).toEqual(expect.arrayContaining(['csrf', 'request_id']));
  return { registered, hidden, redactor, exchanges: http.exchanges };
}

describe('hidden form fields are secrets', () => {
  it('form driver: the CSRF token and request_id are registered and never in a redacted exchange', async () => {
    const { registered, hidden, redactor, exchanges } = await loginWith('form');
    for (const c of hidden) expect(registered).toContainEqual(['form-state', c.value]);
    const out = JSON.stringify(exchanges.map((e) => redactor.exchange(e)));
    for (const c of hidden) expect(out).not.toContain(c.value);
  });

  it.skipIf(!existsSync(DEFAULT_CHROMIUM_PATH))(
    'browser driver: the same, from the page Chromium shows',
    async () => {
      const { registered, hidden, redactor, exchanges } = await loginWith('browser');
      for (const c of hidden) expect(registered).toContainEqual(['form-state', c.value]);
      const out = JSON.stringify(exchanges.map((e) => redactor.exchange(e)));
      for (const c of hidden) expect(out).not.toContain(c.value);
    },
    40_000,
  );
});
