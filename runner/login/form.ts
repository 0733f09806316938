// The `form` login driver: plays a login script over plain HTTP with a cookie jar, the way a
// browser without JavaScript would. It follows redirects itself, only within the allowed origins
// (the authorization URL's origin and the script's `allowedOrigins`), and stops at the first
// redirect to the redirect URI without requesting it (the harness owns that URI).

import type { HttpResponse } from '../http.ts';
import { isSecretName } from '../redact.ts';
import { CookieJar } from './cookies.ts';
import { formEntries, type HtmlControl, type HtmlForm, isSubmitButton, parseForms } from './html-forms.ts';
import {
  echoesRequest,
  type FormScript,
  type FormStep,
  isRedirectTo,
  type LoginContext,
  LoginError,
  rateLimitMessage,
  resolveFillValue,
} from './shared.ts';

/** A login that has not reached the redirect URI after this many requests is stuck in a loop. */
const MAX_REQUESTS = 25;

export async function formLogin(ctx: LoginContext, script: FormScript): Promise<URL> {
  const allowed = new Set([
    ctx.authorizationUrl.origin,
    ...(script.allowedOrigins ?? []).map((o) => new URL(o).origin),
  ]);
  const jar = new CookieJar();
  const deadline = Date.now() + ctx.timeoutMs;
  let url = ctx.authorizationUrl;
  let method: 'GET' | 'POST' = 'GET';
  let body: [string, string][] | undefined;
  const used = new Set<FormStep>();

  for (let n = 0; n < MAX_REQUESTS; n++) {
    if (!allowed.has(url.origin)) {
      throw new LoginError(
        `the login went to ${url.origin}, which is not allowed; add it to the script's "allowedOrigins" if it is the identity provider`,
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0)
      throw new LoginError(`the login did not reach the redirect URI within ${ctx.timeoutMs} ms`);
    const headers: [string, string][] = [['accept', 'text/html,application/xhtml+xml']];
    const cookie = jar.header(url);
    if (cookie) headers.push(['cookie', cookie]);
    ctx.log?.(`form login: ${method} ${url.origin}${url.pathname}`);
    const response = await ctx.http.request(url, {
      method,
      headers,
      ...(body ? { form: body } : {}),
      timeoutMs: remaining,
      label: `login (form): ${method} ${url.pathname}`,
    });
    jar.store(url, response.headers.getAll('set-cookie'), (v) => ctx.onSecret?.(v, 'cookie'));

    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      const target = resolve(location, url);
      if (isRedirectTo(target, ctx.redirectUri)) {
        const code = target.searchParams.get('code');
        if (code) ctx.onSecret?.(code, 'authorization_code');
        return target;
      }
      // RFC 9110 §15.4: 307/308 repeat the request; 301/302/303 after a POST become a GET.
      if (response.status !== 307 && response.status !== 308) {
        method = 'GET';
        body = undefined;
      }
      url = target;
      continue;
    }
    const limited = rateLimitMessage(response, `the login page ${url.origin}${url.pathname}`);
    if (limited !== undefined) throw new LoginError(limited);
    if (response.status < 200 || response.status > 299) {
      throw new LoginError(
        `the login page ${url.origin}${url.pathname} answered ${response.status}; check the login script`,
      );
    }

    // As in the browser driver: the first step not yet used whose pattern matches, so two pages on
    // the same URL pattern (oidc-provider's login then consent, both /interaction/<uid>) each get
    // their own step, in script order; a page seen again falls back to the first matching step.
    const matching = script.steps.filter((s) => new RegExp(s.match).test(url.href));
    const step = matching.find((s) => !used.has(s)) ?? matching[0];
    if (step) used.add(step);
    if (!step) {
      throw new LoginError(
        `no step of the login script matches ${url.origin}${url.pathname}${describePage(response)}; add a step whose "match" fits this URL`,
      );
    }
    const next = submitStep(response.text, url, step, ctx);
    url = next.url;
    method = next.method;
    body = next.body;
  }
  throw new LoginError(`the login made ${MAX_REQUESTS} requests without reaching the redirect URI (a loop?)`);
}

/** Fills and submits the form a step names; returns the request that submission makes. */
function submitStep(
  html: string,
  pageUrl: URL,
  step: FormStep,
  ctx: LoginContext,
): { url: URL; method: 'GET' | 'POST'; body: [string, string][] | undefined } {
  const forms = parseForms(html);
  const { form, pressed } = chooseForm(forms, step, pageUrl);
  // Hidden fields (a CSRF token, a consent request id, a state handle) are server state handed to
  // the browser: secrets from the moment the harness sees them (redact.ts scrubs them everywhere).
  for (const c of form.controls) {
    if (c.value === '') continue;
    if (isSecretName(c.name) || (c.type === 'hidden' && !echoesRequest(c.value, ctx)))
      ctx.onSecret?.(c.value, 'form-state');
  }
  for (const [field, raw] of Object.entries(step.fill)) {
    const { value, fromEnv } = resolveFillValue(raw);
    const controls = form.controls.filter((c) => c.name === field && !isSubmitButton(c));
    if (controls.length === 0) {
      const names = [...new Set(form.controls.map((c) => c.name).filter(Boolean))].join(', ');
      throw new LoginError(`the form on ${pageUrl.pathname} has no field "${field}" (it has: ${names})`);
    }
    for (const c of controls) fill(c, value);
    if (fromEnv || controls.some((c) => c.type === 'password')) ctx.onSecret?.(value, 'login-secret');
  }
  if (form.enctype !== 'application/x-www-form-urlencoded') {
    throw new LoginError(
      `the form on ${pageUrl.pathname} uses ${form.enctype}, which the form driver does not send; use --login browser`,
    );
  }
  const entries = formEntries(form, pressed);
  // HTML §4.10.21.3: an empty or missing action submits to the document's URL.
  const action = resolve(form.action === '' ? pageUrl.href : form.action, pageUrl);
  if (form.method === 'GET') {
    action.search = new URLSearchParams(entries).toString();
    return { url: action, method: 'GET', body: undefined };
  }
  return { url: action, method: 'POST', body: entries };
}

function chooseForm(
  forms: HtmlForm[],
  step: FormStep,
  pageUrl: URL,
): { form: HtmlForm; pressed?: HtmlControl } {
  if (forms.length === 0)
    throw new LoginError(`the page ${pageUrl.pathname} has no form, but the script has a step for it`);
  const firstButton = (f: HtmlForm) => f.controls.find((c) => isSubmitButton(c) && !c.disabled);
  if (typeof step.submit === 'number') {
    const form = forms[step.submit];
    if (!form)
      throw new LoginError(
        `the page ${pageUrl.pathname} has ${forms.length} form(s); there is no form #${step.submit}`,
      );
    return { form, pressed: firstButton(form) };
  }
  if (typeof step.submit === 'string') {
    const wanted = step.submit;
    for (const form of forms) {
      const pressed = form.controls.find(
        (c) =>
          isSubmitButton(c) && !c.disabled && (c.name === wanted || c.value === wanted || c.text === wanted),
      );
      if (pressed) return { form, pressed };
    }
    throw new LoginError(`no submit button named "${wanted}" on ${pageUrl.pathname}`);
  }
  const fields = Object.keys(step.fill);
  const form =
    forms.find((f) => fields.every((name) => f.controls.some((c) => c.name === name))) ?? forms[0]!;
  return { form, pressed: firstButton(form) };
}

function fill(control: HtmlControl, value: string): void {
  if (control.type === 'checkbox') control.checked = value !== '' && value !== 'false' && value !== 'off';
  else if (control.type === 'radio') control.checked = control.value === value;
  else control.value = value;
}

function resolve(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new LoginError(`the login page sent an invalid URL: ${location}`);
  }
}

function describePage(response: HttpResponse): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(response.text)?.[1]?.trim();
  return title ? ` (page title "${title}")` : '';
}
