// The `browser` login driver: the form script, played in a real headless Chromium (Debian's
// `chromium` package) through playwright-core, for login pages that need JavaScript.
//
// playwright-core is an optional dependency: it is imported only when this driver runs, with a
// clear message when it (or the Chromium binary) is missing. Requests to the redirect URI are
// intercepted and never loaded (the harness owns that URI), and requests to origins outside the
// allowed set are aborted. Browser traffic does not go through the HttpClient, so the driver
// records it through `HttpClient.record`: every request Chromium made (documents, form posts,
// redirects; bodies up to 64 KiB), and the intercepted and blocked ones with the reason, so a
// browser login is evidence like a form login (AS-AUTHZ-11 can inspect its POSTs).
//
// One browser and one profile (one browser context, in memory) serve the whole run, so the
// identity provider's session cookie set by the first sign-in carries the later authorizations, as
// a person's browser would: an IdP that asks for a second factor asks once. Each authorization gets
// a page of its own in that profile; the authorizations that start while the first is signing in
// wait for it, so the sign-in happens once. The script's steps apply where they fit: a step whose
// URL matches but whose fields are not on the page (a consent page shown to a signed-in person) is
// passed over for the next one that fits. close() (the end of the run) closes the browser.

import { access } from 'node:fs/promises';
import type { EgressRefused } from '../egress.ts';
import type { Exchange } from '../http.ts';
import { type EgressProxy, startEgressProxy } from './egress-proxy.ts';
import {
  echoesRequest,
  type FormScript,
  isRedirectTo,
  type LoginContext,
  LoginError,
  resolveFillValue,
} from './shared.ts';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The bits of playwright-core this driver uses (typed here so the import can stay optional). */
interface PwRoute {
  request(): { url(): string };
  abort(): Promise<void>;
  continue(): Promise<void>;
}
interface PwResponse {
  status(): number;
  headersArray(): Promise<{ name: string; value: string }[]>;
  body(): Promise<Buffer>;
}
interface PwRequest {
  url(): string;
  method(): string;
  allHeaders(): Promise<Record<string, string>>;
  postData(): string | null;
  response(): Promise<PwResponse | null>;
  failure(): { errorText: string } | null;
  timing(): { startTime: number; responseEnd: number };
}
interface PwPage {
  url(): string;
  goto(url: string, options: { timeout: number }): Promise<unknown>;
  fill(selector: string, value: string, options: { timeout: number }): Promise<void>;
  locator(selector: string): {
    first(): { click(options: { timeout: number }): Promise<void> };
    count(): Promise<number>;
  };
  evaluate<T, A>(fn: (arg: A) => T, arg: A): Promise<T>;
  waitForLoadState(state: 'load', options: { timeout: number }): Promise<void>;
}
interface PwPageOfContext extends PwPage {
  route(pattern: string, handler: (route: PwRoute) => Promise<void>): Promise<void>;
  on(event: 'request' | 'requestfinished' | 'requestfailed', handler: (request: PwRequest) => void): void;
  close(): Promise<void>;
}
interface PwContext {
  newPage(): Promise<PwPageOfContext>;
}
interface PwBrowser {
  newContext(): Promise<PwContext>;
  close(): Promise<void>;
}
interface PwModule {
  chromium: {
    launch(options: {
      executablePath: string;
      args: string[];
      headless: boolean;
      timeout: number;
    }): Promise<PwBrowser>;
  };
}

export class BrowserLoginSession {
  readonly name = 'browser' as const;
  readonly humanActions = 0;
  private browser: Promise<{ browser: PwBrowser; context: PwContext; proxy?: EgressProxy }> | undefined;
  /** The logins under way, newest last: a refusal by the egress proxy is recorded in the newest. */
  private readonly active: LoginContext[] = [];
  /** Every redirect URI a login used: the proxy never forwards a request to one. */
  private readonly redirectUris = new Set<string>();
  /** Settles when the run's first login has ended: later ones wait for its sign-in. */
  private first: Promise<unknown> | undefined;
  private closed = false;

  constructor(
    private readonly script: FormScript,
    private readonly chromiumPath?: string,
  ) {}

  async login(ctx: LoginContext): Promise<URL> {
    if (this.closed) throw new LoginError('the run has ended: the browser login is closed');
    const deadline = Date.now() + ctx.timeoutMs;
    if (!this.first) {
      const login = this.loginInPage(ctx, deadline);
      this.first = login.catch(() => undefined);
      return login;
    }
    // Wait (within this login's bound) for the first login's sign-in, so the session carries.
    await Promise.race([this.first, sleep(Math.max(1, deadline - Date.now()))]);
    return this.loginInPage(ctx, deadline);
  }

  /** Closes the browser (the end of the run); idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const started = this.browser;
    this.browser = undefined;
    if (!started) return;
    const { browser, proxy } = await started.catch(() => ({ browser: undefined, proxy: undefined }));
    await browser?.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
  }

  /** Chromium and the run's one profile, launched on first use. */
  private start(
    timeoutMs: number,
    ctx: LoginContext,
  ): Promise<{ browser: PwBrowser; context: PwContext; proxy?: EgressProxy }> {
    this.browser ??= (async () => {
      const executablePath = this.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
      const pw = await loadPlaywright();
      try {
        await access(executablePath);
      } catch {
        throw new LoginError(
          `--login browser needs Chromium at ${executablePath}: install it (apt-get install chromium) or give its path in the configuration`,
        );
      }
      // Chromium resolves and follows redirects on its own: every request it makes, loopback
      // included, goes through a proxy that applies the runner's egress policy (egress-proxy.ts).
      // The egress policy is the run's, the same in every login context.
      const proxy = ctx.http.egress
        ? await startEgressProxy(
            ctx.http.egress,
            (url, refusal) => this.recordRefusal(url, refusal),
            // The redirect URI is the harness's: the proxy never forwards it (Chromium sees a network error).
            (url) => [...this.redirectUris].some((uri) => isRedirectTo(url, uri)),
          )
        : undefined;
      try {
        const browser = await pw.chromium.launch({
          executablePath,
          args: [
            ...CHROMIUM_ARGS,
            ...(proxy ? [`--proxy-server=${proxy.url}`, '--proxy-bypass-list=<-loopback>'] : []),
          ],
          headless: true,
          timeout: timeoutMs,
        });
        try {
          return { browser, context: await browser.newContext(), ...(proxy ? { proxy } : {}) };
        } catch (err) {
          await browser.close().catch(() => undefined);
          throw err;
        }
      } catch (err) {
        await proxy?.close().catch(() => undefined);
        throw err;
      }
    })();
    const started = this.browser;
    // A failed launch is not kept: the next login tries again (and says the same if it fails).
    started.catch(() => {
      if (this.browser === started) this.browser = undefined;
    });
    return started;
  }

  private async loginInPage(ctx: LoginContext, deadline: number): Promise<URL> {
    const remaining = () => Math.max(1, deadline - Date.now());
    this.redirectUris.add(ctx.redirectUri);
    this.active.push(ctx);
    try {
      const { context } = await this.start(remaining(), ctx);
      if (this.closed) throw new LoginError('the run has ended: the browser login is closed');
      const page = await context.newPage();
      try {
        return await playScript(ctx, this.script, page, deadline);
      } finally {
        await page.close().catch(() => undefined);
      }
    } finally {
      this.active.splice(this.active.indexOf(ctx), 1);
    }
  }

  /** A request the egress proxy refused, as evidence of the newest login under way. */
  private recordRefusal(url: string, refusal: EgressRefused): void {
    const ctx = this.active.at(-1);
    ctx?.log?.(`browser login: ${refusal.message}`);
    ctx?.http.record?.({
      label: 'browser login: refused by the egress policy',
      startedAt: new Date().toISOString(),
      durationMs: 0,
      request: { method: 'GET', url, headers: [] },
      error: refusal.message,
      refused: {
        host: refusal.host,
        addressClass: refusal.addressClass,
        ...(refusal.address ? { address: refusal.address } : {}),
      },
    });
  }
}

/** One authorization in its own page of the run's profile: the script, until the redirect URI is reached. */
async function playScript(
  ctx: LoginContext,
  script: FormScript,
  page: PwPageOfContext,
  deadline: number,
): Promise<URL> {
  const allowed = new Set([
    ctx.authorizationUrl.origin,
    ...(script.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  const remaining = () => Math.max(1, deadline - Date.now());
  let callback: URL | undefined;
  let resolveCallback: (url: URL) => void = () => {};
  const callbackReached = new Promise<URL>((resolve) => {
    resolveCallback = resolve;
  });
  /** The first request to the redirect URI is the callback (its code registered as a secret). */
  const takeCallback = (url: URL) => {
    if (callback) return;
    callback = url;
    const code = url.searchParams.get('code');
    if (code) ctx.onSecret?.(code, 'authorization_code');
    resolveCallback(url);
  };
  const aborted = new Map<string, string>();
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (isRedirectTo(url, ctx.redirectUri)) {
      takeCallback(url);
      aborted.set(
        url.href,
        'not loaded: the redirect URI belongs to the harness, which read the response from it',
      );
      await route.abort();
      return;
    }
    if (!allowed.has(url.origin)) {
      ctx.log?.(`browser login: blocked a request to ${url.origin} (not an allowed origin)`);
      aborted.set(url.href, `blocked by the harness: ${url.origin} is not an allowed origin`);
      await route.abort();
      return;
    }
    await route.continue();
  });
  const recording: Promise<void>[] = [];
  const record = (request: PwRequest) => {
    if (ctx.http.record)
      recording.push(recordBrowserExchange(ctx.http.record.bind(ctx.http), request, aborted));
  };
  page.on('requestfinished', record);
  page.on('requestfailed', record);
  // A redirect hop to the redirect URI does not pass through the route handler (Chromium follows
  // redirects itself), so the callback is also taken from the request event.
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (isRedirectTo(url, ctx.redirectUri)) takeCallback(url);
  });
  ctx.log?.(`browser login: opening ${ctx.authorizationUrl.origin}${ctx.authorizationUrl.pathname}`);
  await Promise.race([
    page.goto(ctx.authorizationUrl.href, { timeout: remaining() }).catch(() => undefined),
    callbackReached,
  ]);

  const used = new Set<number>();
  while (!callback) {
    if (Date.now() >= deadline)
      throw new LoginError(`the browser login did not reach the redirect URI within ${ctx.timeoutMs} ms`);
    const current = page.url();
    const index = await nextStep(page, script, used, current);
    if (index === -1) {
      // Maybe a script-driven redirect is still under way: give it a moment, then judge.
      const arrived = await Promise.race([
        callbackReached,
        sleep(Math.min(1000, remaining())).then(() => undefined),
      ]);
      if (arrived || callback) break;
      if (page.url() === current) {
        throw new LoginError(
          `no step of the login script matches ${new URL(current).origin}${new URL(current).pathname}; add a step whose "match" fits this URL`,
        );
      }
      continue;
    }
    used.add(index);
    const step = script.steps[index]!;
    ctx.log?.(`browser login: step ${index + 1} on ${new URL(current).pathname}`);
    // Hidden fields (CSRF token, consent request id, state handles) are secrets from now on, as in
    // the form driver: the form post that carries them is recorded as evidence.
    const hidden = await page
      .evaluate(
        (max: number) =>
          Array.from(document.querySelectorAll('input'))
            .filter((i) => i.type === 'hidden' && i.value !== '')
            .map((i) => i.value)
            .slice(0, max),
        100,
      )
      .catch((): string[] => []);
    for (const value of hidden) if (!echoesRequest(value, ctx)) ctx.onSecret?.(value, 'form-state');
    for (const [field, raw] of Object.entries(step.fill)) {
      const { value, fromEnv } = resolveFillValue(raw);
      if (fromEnv) ctx.onSecret?.(value, 'login-secret');
      await page.fill(`[name="${cssEscape(field)}"]`, value, { timeout: remaining() });
    }
    const navigation = Promise.race([
      page.waitForLoadState('load', { timeout: remaining() }).catch(() => undefined),
      callbackReached,
    ]);
    if (typeof step.submit === 'string') {
      const name = cssEscape(step.submit);
      const byName = page.locator(
        `button[name="${name}"], input[type=submit][name="${name}"], button[value="${name}"], input[type=submit][value="${name}"]`,
      );
      const target = (await byName.count()) > 0 ? byName : page.locator(`button:has-text("${name}")`);
      await Promise.all([target.first().click({ timeout: remaining() }), navigation]);
    } else {
      const formIndex = typeof step.submit === 'number' ? step.submit : 0;
      const ok = await page.evaluate((i) => {
        const form = document.forms[i];
        if (!form) return false;
        form.requestSubmit();
        return true;
      }, formIndex);
      if (!ok) throw new LoginError(`the page ${new URL(current).pathname} has no form #${formIndex}`);
      await navigation;
    }
    await Promise.race([callbackReached, sleep(200)]);
  }
  const reached = callback ?? (await callbackReached);
  // Reading a response body from Chromium has no bound of its own: give the recording at most
  // 2 s (within the login's bound); what is not read by then stays out of the evidence.
  await Promise.race([Promise.allSettled(recording), sleep(Math.min(2_000, remaining()))]);
  return reached;
}

/**
 * The first step not yet used whose URL pattern matches and whose fields are all on the page:
 * with the run's one profile the identity provider may skip its sign-in form (a session), so a
 * sign-in step and a consent step can match the same URL; -1 when none fits.
 */
async function nextStep(
  page: PwPage,
  script: FormScript,
  used: ReadonlySet<number>,
  current: string,
): Promise<number> {
  let fallback = -1;
  for (const [i, step] of script.steps.entries()) {
    if (used.has(i) || !new RegExp(step.match).test(current)) continue;
    if (fallback === -1) fallback = i;
    const fields = Object.keys(step.fill);
    const present = await Promise.all(
      fields.map((f) =>
        page
          .locator(`[name="${cssEscape(f)}"]`)
          .count()
          .catch(() => 0),
      ),
    );
    if (present.every((n) => n > 0)) return i;
  }
  // None has all its fields here: the first match, so filling it says which field is missing.
  return fallback;
}

/** Bodies of browser exchanges are kept up to this size (pages and form posts, not assets). */
const BROWSER_BODY_CAP = 64 * 1024;

/** One request Chromium made (or was refused), as an exchange. Never throws. */
async function recordBrowserExchange(
  record: NonNullable<LoginContext['http']['record']>,
  request: PwRequest,
  aborted: ReadonlyMap<string, string>,
): Promise<void> {
  try {
    const url = request.url();
    const timing = request.timing();
    const headers = Object.entries(await request.allHeaders().catch(() => ({})));
    const post = request.postData();
    const response = await request.response().catch(() => null);
    let recorded: Exchange['response'];
    if (response) {
      const body = await response.body().catch(() => Buffer.alloc(0));
      recorded = {
        status: response.status(),
        headers: (await response.headersArray().catch(() => [])).map(({ name, value }) => [name, value]),
        body: body.subarray(0, BROWSER_BODY_CAP).toString('utf8'),
        bytes: body.length,
        truncated: body.length > BROWSER_BODY_CAP,
      };
    }
    const failure = request.failure();
    const { pathname } = new URL(url);
    record({
      label: `browser login: ${request.method()} ${pathname}`,
      startedAt: new Date(timing.startTime > 0 ? timing.startTime : Date.now()).toISOString(),
      durationMs: timing.responseEnd > 0 ? Math.round(timing.responseEnd) : 0,
      request: { method: request.method(), url, headers, ...(post !== null ? { body: post } : {}) },
      ...(recorded ? { response: recorded } : {}),
      ...(!recorded && (failure || aborted.has(url))
        ? { error: aborted.get(url) ?? `browser: ${failure!.errorText}` }
        : {}),
    });
  } catch {
    // Evidence is best effort here: a request the browser already discarded is not recorded.
  }
}

async function loadPlaywright(): Promise<PwModule> {
  try {
    const name = 'playwright-core';
    return (await import(name)) as PwModule;
  } catch {
    throw new LoginError(
      '--login browser needs the optional dependency playwright-core, which is not installed: run npm install playwright-core (and apt-get install chromium), or use --login form or manual',
    );
  }
}

function cssEscape(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}

/** A short pause that never keeps the process alive (it may outlive a race it lost by up to 1 s). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
