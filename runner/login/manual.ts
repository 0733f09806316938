// The `manual` login driver: a person signs in once, in their own browser, and that browser tab
// then carries every other authorization of the run (DESIGN.md §Getting past the login step).
//
// One loopback listener per run, on the redirect URI's address and port (RFC 8252 §7.3: the
// redirect URI stays `http://127.0.0.1:<port>/callback`; §8.3: loopback, not localhost). The
// authorizations of the run wait in a queue; the tab visits them one after the other:
//
//   start page `/` or `/next` ──200 forwarding page (names the check)──▶ authorization server
//        ▲                                                                      │
//        └──── 200 page (meta refresh) ◀── GET /callback?code&state ◀───────────┘
//
// The identity provider's session cookie lives in that tab, so after the first sign-in each
// authorization comes straight back without a prompt, unless the provider asks again (a consent for
// a new client, an expired session): then the page the tab left names the check, and the terminal
// says which check needs the person and why.
//
// Several checks authorize at once: every authorization has its own `state`, and a callback is
// matched to its waiter by `state` (a callback without `state`, from a server that drops it, goes to
// the one authorization in the browser, if there is exactly one). A callback nobody waits for is
// answered with a clear page and ignored.
//
// Between two authorizations the tab always loads a page of ours (never a chain of redirects):
// browsers stop a chain after about 20 redirects, and a new navigation started by a meta refresh is
// not one the person started, which is how a human action is told apart (see humanActions).
//
// Bounded: at most MAX_LIVE authorizations queued or in the browser, each waits at most its
// login's timeout in the queue and again in the browser, at most MAX_HELD waiting-page requests are
// held (each at most HOLD_MS), a few hundred finished states are remembered, and close() (the end of
// the run) ends the listener and every wait.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  currentLoginPurpose,
  describeLoginPurpose,
  isRedirectTo,
  type LoginContext,
  LoginError,
} from './shared.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Authorizations queued or in the browser at once (the engine runs a few checks at a time). */
const MAX_LIVE = 64;
/** Waiting-page requests held open for the next authorization, and for how long each. */
const MAX_HELD = 8;
const HOLD_MS = 10_000;
/** States of authorizations that ended (answered, timed out, abandoned), to answer a late callback. */
const MAX_ENDED = 256;
/** In the browser longer than this without coming back: the terminal says the person is needed. */
const PROMPT_NOTICE_MS = 3_000;
/**
 * A browser that sends no fetch metadata (Sec-Fetch-*) cannot show whether the person acted: an
 * authorization that took longer than this in the browser is counted as a human action then.
 */
const SLOW_WITHOUT_METADATA_MS = 5_000;

export interface ManualLoginOptions {
  /** See PROMPT_NOTICE_MS (tests shorten it). */
  promptNoticeMs?: number;
  /** See HOLD_MS (tests shorten it). */
  holdMs?: number;
  /** See MAX_LIVE. */
  maxLive?: number;
  /** See SLOW_WITHOUT_METADATA_MS (tests shorten it). */
  slowWithoutMetadataMs?: number;
}

/** Why an authorization counted as a human action. */
export type HumanActionReason =
  /** The first authorization of the run: the person opened the printed URL (and signed in). */
  | 'first sign-in'
  /** The person interacted with a page on the way (Sec-Fetch-User: ?1 on the callback). */
  | 'the person acted in the browser'
  /** No fetch metadata, and it took longer than a silent round trip would. */
  | 'slow, in a browser that does not say whether the person acted'
  /** It went to the browser and did not come back: the person had to go on from there. */
  | 'did not come back from the authorization server';

interface Authorization {
  /** 1-based, in the order the run asked for them. */
  n: number;
  url: URL;
  state: string | undefined;
  purpose: string;
  log: (line: string) => void;
  timeoutMs: number;
  onSecret: LoginContext['onSecret'];
  resolve: (url: URL) => void;
  reject: (err: Error) => void;
  /** When it was sent to the browser (undefined while queued). */
  forwardedAt?: number;
  timer?: NodeJS.Timeout;
  notice?: NodeJS.Timeout;
  /** Already counted as a human action. */
  counted?: boolean;
  stopListening?: () => void;
}

export class ManualLoginSession {
  readonly name = 'manual' as const;

  private server: Server | undefined;
  private listening: Promise<void> | undefined;
  private redirect: URL | undefined;
  private readonly queue: Authorization[] = [];
  private readonly inBrowser = new Set<Authorization>();
  /** state → how it ended (and whether it counted already), for callbacks that come late. */
  private readonly ended = new Map<string, { n: number; purpose: string; how: string; counted: boolean }>();
  private readonly held = new Set<ServerResponse>();
  private sequence = 0;
  private answered = 0;
  private human = 0;
  private readonly humanLog: { n: number; purpose: string; reason: HumanActionReason }[] = [];
  private closed = false;
  private readonly promptNoticeMs: number;
  private readonly holdMs: number;
  private readonly maxLive: number;
  private readonly slowWithoutMetadataMs: number;

  constructor(options: ManualLoginOptions = {}) {
    this.promptNoticeMs = options.promptNoticeMs ?? PROMPT_NOTICE_MS;
    this.holdMs = options.holdMs ?? HOLD_MS;
    this.maxLive = options.maxLive ?? MAX_LIVE;
    this.slowWithoutMetadataMs = options.slowWithoutMetadataMs ?? SLOW_WITHOUT_METADATA_MS;
  }

  /**
   * Authorizations that needed the person: the first one (the person opened the URL and signed
   * in), and every later one whose callback shows the person acted on a page on the way
   * (`Sec-Fetch-User: ?1`, which browsers send on navigations the user started, redirects
   * included, and never on one a meta refresh started), or that took longer than
   * SLOW_WITHOUT_METADATA_MS in a browser that sends no fetch metadata, or that went to the browser
   * and never came back.
   */
  get humanActions(): number {
    return this.human;
  }

  /** Each human action: which authorization, for what, and why it counted (at most 200 kept). */
  get humanActionLog(): readonly { n: number; purpose: string; reason: HumanActionReason }[] {
    return this.humanLog;
  }

  /** The start page a person opens (known once the first authorization has started the listener). */
  get startUrl(): string | undefined {
    return this.redirect ? `${this.redirect.origin}/` : undefined;
  }

  async login(ctx: LoginContext): Promise<URL> {
    if (this.closed)
      throw new LoginError('the run has ended: the manual login no longer takes authorizations');
    const redirect = checkRedirectUri(ctx.redirectUri);
    if (this.redirect && !sameRedirect(this.redirect, redirect)) {
      throw new LoginError(
        `--login manual listens at ${this.redirect.origin}${this.redirect.pathname} for this run; an authorization for ${ctx.redirectUri} cannot be answered there`,
      );
    }
    this.redirect ??= redirect;
    await this.listen(redirect);
    if (this.queue.length + this.inBrowser.size >= this.maxLive) {
      throw new LoginError(
        `${this.maxLive} authorizations are already waiting for the browser; run fewer checks at once (--concurrency)`,
      );
    }
    const purpose = currentLoginPurpose();
    if (purpose?.signal?.aborted)
      throw new LoginError('whoever asked for this authorization stopped waiting');
    const log = ctx.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    return new Promise<URL>((resolve, reject) => {
      const auth: Authorization = {
        n: ++this.sequence,
        url: ctx.authorizationUrl,
        state: ctx.authorizationUrl.searchParams.get('state') ?? undefined,
        purpose: describeLoginPurpose(purpose),
        log,
        timeoutMs: ctx.timeoutMs,
        onSecret: ctx.onSecret,
        resolve,
        reject,
      };
      if (purpose?.signal) {
        const signal = purpose.signal;
        const onAbort = () =>
          this.end(
            auth,
            'abandoned: the check that asked for it ended',
            new LoginError('the check that asked for this authorization ended'),
          );
        signal.addEventListener('abort', onAbort, { once: true });
        auth.stopListening = () => signal.removeEventListener('abort', onAbort);
      }
      auth.timer = setTimeout(
        () =>
          this.end(
            auth,
            'not taken by the browser in time',
            new LoginError(
              `no browser tab took authorization ${auth.n} (${auth.purpose}) within ${seconds(auth.timeoutMs)}: is the tab at ${this.startUrl} still open?`,
            ),
          ),
        ctx.timeoutMs,
      );
      auth.timer.unref();
      this.queue.push(auth);
      if (auth.n === 1) this.announce(auth);
      this.pump();
    });
  }

  /** Ends every wait and the listener (the end of the run). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const auth of [...this.queue, ...this.inBrowser]) {
      this.end(auth, 'the run ended', new LoginError('the run ended before the authorization came back'));
    }
    for (const res of this.held) this.page(res, 200, finishedPage(this.answered, this.human));
    this.held.clear();
    const server = this.server;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), 1_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
  }

  private listen(redirect: URL): Promise<void> {
    this.listening ??= new Promise<void>((resolve, reject) => {
      const server = createServer((req, res) => this.handle(req, res));
      server.headersTimeout = 10_000;
      server.requestTimeout = 15_000;
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new LoginError(`cannot listen on ${redirect.host} for the callback: ${err.code ?? err.message}`),
        ),
      );
      const host = redirect.hostname === '[::1]' ? '::1' : redirect.hostname;
      server.listen(Number(redirect.port), host, () => resolve());
      this.server = server;
    });
    return this.listening;
  }

  /** The first authorization: tell the person what to open and what will happen. */
  private announce(auth: Authorization): void {
    auth.log('--login manual: open this URL in your browser and sign in once; that tab then goes');
    auth.log('through every other authorization of the run by itself (keep it open until the run ends):');
    auth.log(`  ${this.startUrl}`);
    auth.log(`(it forwards to the authorization server: ${auth.url.href})`);
    auth.log(
      `Waiting up to ${seconds(auth.timeoutMs)} for the browser; where the authorization server asks again, this terminal names the check that needs it.`,
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const redirect = this.redirect!;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', redirect.origin);
    } catch {
      res.writeHead(400).end();
      return;
    }
    // Only this listener's own address (a DNS-rebinding page cannot pose as it), only GET.
    if (req.headers.host !== redirect.host) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request\n');
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (isRedirectTo(url, redirect.href) && isResponse(url)) {
      this.callback(req, res, url);
      return;
    }
    if (url.pathname === '/' || url.pathname === '/next') {
      // Only a top-level navigation of this tab (or one the person typed) may take the next
      // authorization: another site's fetch or frame must not draw one off (fetch metadata, where sent).
      const mode = req.headers['sec-fetch-mode'];
      const site = req.headers['sec-fetch-site'];
      if ((mode !== undefined && mode !== 'navigate') || (site !== undefined && site === 'cross-site')) {
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('open this page in the browser tab itself\n');
        return;
      }
      this.next(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  /** An authorization response: resolve its waiter, count the human action, move the tab on. */
  private callback(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const state = url.searchParams.get('state');
    const auth =
      state !== null ? this.find(state) : this.inBrowser.size === 1 ? [...this.inBrowser][0] : undefined;
    if (!auth) {
      const ended = state !== null ? this.ended.get(state) : undefined;
      if (ended) {
        // One of ours that nobody waits for any more: the tab is ours, go on. The person may
        // still have acted for it (counted once: a stranded one counted when its wait ended).
        if (userActivated(req) && !ended.counted) {
          ended.counted = true;
          this.count(ended.n, ended.purpose, 'the person acted in the browser');
        }
        this.forwardOrWait(
          res,
          `The authorization response came after its wait ended (${ended.how}); it was ignored.`,
        );
        return;
      }
      this.page(
        res,
        400,
        layout(
          'Not an authorization this run is waiting for',
          `<p>This authorization response ${state === null ? 'has no <code>state</code>' : 'carries a <code>state</code> that no authorization of this run is waiting for'}, so it was ignored.</p>
<p>If this tab belongs to the conformance run, <a href="/next">go on with its next authorization</a>.</p>`,
        ),
      );
      return;
    }
    const code = url.searchParams.get('code');
    if (code) auth.onSecret?.(code, 'authorization_code');
    const elapsed = Date.now() - (auth.forwardedAt ?? Date.now());
    const reason: HumanActionReason | undefined =
      auth.n === 1
        ? 'first sign-in'
        : userActivated(req)
          ? 'the person acted in the browser'
          : !hasFetchMetadata(req) && elapsed > this.slowWithoutMetadataMs
            ? 'slow, in a browser that does not say whether the person acted'
            : undefined;
    if (reason) {
      this.count(auth.n, auth.purpose, reason);
      if (auth.n !== 1)
        auth.log(`manual login: authorization ${auth.n} (${auth.purpose}) needed you: ${reason}.`);
    }
    this.answered++;
    auth.resolve(url);
    this.end(auth, 'answered', undefined);
    this.forwardOrWait(res, `Authorization ${auth.n} (${auth.purpose}) came back.`);
  }

  /** `/` and `/next`: the next queued authorization, or hold the request until one comes. */
  private next(res: ServerResponse): void {
    if (this.closed) {
      this.page(res, 200, finishedPage(this.answered, this.human));
      return;
    }
    if (this.queue.length > 0) {
      this.forward(res);
      return;
    }
    if (this.held.size >= MAX_HELD) {
      this.page(res, 200, waitingPage(this.answered, 2, ''));
      return;
    }
    this.held.add(res);
    const timer = setTimeout(() => {
      if (!this.held.delete(res)) return;
      this.page(res, 200, waitingPage(this.answered, 0, ''));
    }, this.holdMs);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      this.held.delete(res);
    });
  }

  /** After a callback: the forwarding page when one is queued, else the waiting page. */
  private forwardOrWait(res: ServerResponse, what: string): void {
    if (this.queue.length > 0) this.forward(res, what);
    else this.page(res, 200, waitingPage(this.answered, 0, what));
  }

  /** A new authorization is queued: give it to a held waiting-page request, if one is there. */
  private pump(): void {
    for (const res of this.held) {
      if (this.queue.length === 0) return;
      this.held.delete(res);
      if (!res.writableEnded && !res.destroyed) this.forward(res);
    }
  }

  /** Sends the tab to the first queued authorization, through a page that names it. */
  private forward(res: ServerResponse, what = ''): void {
    const auth = this.queue.shift()!;
    clearTimeout(auth.timer);
    auth.forwardedAt = Date.now();
    this.inBrowser.add(auth);
    auth.timer = setTimeout(() => {
      auth.counted = true;
      this.count(auth.n, auth.purpose, 'did not come back from the authorization server');
      auth.log(
        `manual login: authorization ${auth.n} (${auth.purpose}) did not come back from the authorization server within ${seconds(auth.timeoutMs)}; if your tab shows a page of the authorization server (an error?), open ${this.startUrl} to go on with the next authorizations.`,
      );
      this.end(
        auth,
        'it did not come back in time',
        new LoginError(
          `authorization ${auth.n} did not come back from the authorization server within ${seconds(auth.timeoutMs)} (--login manual: the person did not complete it, or the server showed a page that does not lead back)`,
        ),
      );
    }, auth.timeoutMs);
    auth.timer.unref();
    // The first one is the sign-in the person was told about; later ones were not expected to stop.
    if (auth.n > 1)
      auth.notice = setTimeout(() => {
        auth.log(
          `manual login: authorization ${auth.n} is for ${auth.purpose}; it has not come back after ${seconds(this.promptNoticeMs)}, so the authorization server is probably asking you to sign in or approve (a client this run registered, or an ended session). Please answer it in the browser tab.`,
        );
      }, this.promptNoticeMs);
    auth.notice?.unref();
    this.page(res, 200, forwardingPage(auth, what));
  }

  private find(state: string): Authorization | undefined {
    for (const auth of this.inBrowser) if (auth.state === state) return auth;
    // A callback can overtake its own forwarding (the person opened the URL from the terminal).
    return this.queue.find((a) => a.state === state);
  }

  /** Takes an authorization out of the queue or the browser; rejects its waiter with `error`. */
  private end(auth: Authorization, how: string, error: Error | undefined): void {
    clearTimeout(auth.timer);
    clearTimeout(auth.notice);
    auth.stopListening?.();
    const queued = this.queue.indexOf(auth);
    if (queued !== -1) this.queue.splice(queued, 1);
    this.inBrowser.delete(auth);
    if (auth.state !== undefined) {
      this.ended.set(auth.state, { n: auth.n, purpose: auth.purpose, how, counted: auth.counted === true });
      if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value!);
    }
    if (error) auth.reject(error);
  }

  private count(n: number, purpose: string, reason: HumanActionReason): void {
    this.human++;
    if (this.humanLog.length < 200) this.humanLog.push({ n, purpose, reason });
  }

  private page(res: ServerResponse, status: number, html: string): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, PAGE_HEADERS).end(html);
  }
}

/** The redirect URI must be a loopback http URI with an explicit port (RFC 8252 §7.3). */
function checkRedirectUri(redirectUri: string): URL {
  let redirect: URL;
  try {
    redirect = new URL(redirectUri);
  } catch {
    throw new LoginError(`--login manual: the redirect URI ${redirectUri} is not a URL`);
  }
  if (redirect.protocol !== 'http:' || !LOOPBACK_HOSTS.has(redirect.hostname) || redirect.port === '') {
    throw new LoginError(
      `--login manual needs a loopback http redirect URI with an explicit port (RFC 8252 §7.3), such as http://127.0.0.1:53123/callback; got ${redirectUri}`,
    );
  }
  if (redirect.pathname === '/' || redirect.pathname === '/next') {
    throw new LoginError(
      `--login manual serves its own pages at / and /next; use another path for the redirect URI than ${redirect.pathname}`,
    );
  }
  return redirect;
}

function sameRedirect(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname === b.pathname;
}

/** An authorization response carries `code` or `error` (OAuth 2.1 §4.1.2, §4.1.2.1), or at least `state`. */
function isResponse(url: URL): boolean {
  return ['code', 'error', 'state'].some((name) => url.searchParams.has(name));
}

/** Fetch Metadata (W3C): the navigation that ended here was started by the person (a click, the address bar). */
function userActivated(req: IncomingMessage): boolean {
  return req.headers['sec-fetch-user'] === '?1';
}

function hasFetchMetadata(req: IncomingMessage): boolean {
  return req.headers['sec-fetch-site'] !== undefined || req.headers['sec-fetch-mode'] !== undefined;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

// --- the pages -------------------------------------------------------------------------------
// Plain HTML, no script and nothing external: a meta refresh moves the tab on (a CSP of
// default-src 'none' allows it). The URLs carry codes and states, so no page sends a Referer.

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function layout(title: string, body: string, refresh?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">${
    refresh ? `<meta http-equiv="refresh" content="${escapeHtml(refresh)}">` : ''
  }<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** Names the check and goes on to the authorization server at once. */
function forwardingPage(auth: Authorization, what: string): string {
  const href = auth.url.href;
  return layout(
    `Authorization ${auth.n}: ${auth.purpose}`,
    `${what ? `<p>${escapeHtml(what)}</p>` : ''}
<p>Going on to the authorization server for <strong>${escapeHtml(auth.purpose)}</strong>.</p>
<p>If the authorization server asks you to sign in or to approve, it is for this check; answer it and this tab comes back here by itself.
(<a href="${escapeHtml(href)}">continue</a>)</p>`,
    // Unquoted URL: the refresh syntax ends it at the end of the attribute (HTML §4.2.5.3).
    `0; url=${href}`,
  );
}

/** Waits for the next authorization: the refresh asks /next, which the listener holds until one comes. */
function waitingPage(answered: number, delaySeconds: number, what: string): string {
  return layout(
    'Conformance run: waiting for the next authorization',
    `${what ? `<p>${escapeHtml(what)}</p>` : ''}
<p>${answered} authorization(s) done. Keep this tab open: it goes on by itself when the run needs the next one.</p>`,
    `${delaySeconds}; url=/next`,
  );
}

function finishedPage(answered: number, human: number): string {
  return layout(
    'Conformance run: finished with the browser',
    `<p>${answered} authorization(s) came back through this tab; ${human} of them needed you. You can close this tab.</p>`,
  );
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
