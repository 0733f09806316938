// The `browser` login driver: the form script, played in a real headless Chromium (Debian's
// `chromium` package) through playwright-core, for login pages that need JavaScript.
//
// playwright-core is an optional dependency: it is imported only when this driver runs, with a
// clear message when it (or the Chromium binary) is missing. Requests to the redirect URI are
// intercepted and never loaded (the harness owns that URI), and requests to origins outside the
// allowed set are aborted. Browser traffic does not go through the HttpClient, so it is not
// recorded as exchanges; the driver logs each navigation instead.

import { access } from 'node:fs/promises';
import { type FormScript, isRedirectTo, type LoginContext, LoginError, resolveFillValue } from './shared.ts';

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
interface PwPage {
  url(): string;
  goto(url: string, options: { timeout: number }): Promise<unknown>;
  fill(selector: string, value: string, options: { timeout: number }): Promise<void>;
  locator(selector: string): {
    first(): { click(options: { timeout: number }): Promise<void> };
    count(): Promise<number>;
  };
  evaluate<T>(fn: (arg: number) => T, arg: number): Promise<T>;
  waitForLoadState(state: 'load', options: { timeout: number }): Promise<void>;
}
interface PwBrowser {
  newContext(): Promise<{
    route(pattern: string, handler: (route: PwRoute) => Promise<void>): Promise<void>;
    newPage(): Promise<PwPage>;
  }>;
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

export async function browserLogin(
  ctx: LoginContext,
  script: FormScript,
  chromiumPath?: string,
): Promise<URL> {
  const executablePath = chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  const pw = await loadPlaywright();
  try {
    await access(executablePath);
  } catch {
    throw new LoginError(
      `--login browser needs Chromium at ${executablePath}: install it (apt-get install chromium) or give its path in the configuration`,
    );
  }
  const allowed = new Set([
    ctx.authorizationUrl.origin,
    ...(script.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  const deadline = Date.now() + ctx.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const browser = await pw.chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: remaining(),
  });
  try {
    let callback: URL | undefined;
    let resolveCallback: (url: URL) => void = () => {};
    const callbackReached = new Promise<URL>((resolve) => {
      resolveCallback = resolve;
    });
    const context = await browser.newContext();
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (isRedirectTo(url, ctx.redirectUri)) {
        callback = url;
        const code = url.searchParams.get('code');
        if (code) ctx.onSecret?.(code, 'authorization_code');
        resolveCallback(url);
        await route.abort();
        return;
      }
      if (!allowed.has(url.origin)) {
        ctx.log?.(`browser login: blocked a request to ${url.origin} (not an allowed origin)`);
        await route.abort();
        return;
      }
      await route.continue();
    });
    const page = await context.newPage();
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
      const index = script.steps.findIndex((s, i) => !used.has(i) && new RegExp(s.match).test(current));
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
    return callback ?? (await callbackReached);
  } finally {
    await browser.close();
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
