// The HTML pages of the authorization endpoint: the sign-in + consent form and the error page.
// Plain server-rendered HTML, no script; every dynamic value goes through escapeHtml.

import type { ServerResponse } from 'node:http';
import type { ServerContext } from '../context.ts';
import { escapeHtml, sendHtml } from '../http.ts';
import type { ClientRecord, PendingRequest } from '../store.ts';
import { issuerPath } from './metadata.ts';

/**
 * Headers of every page: the page must not be framed (clickjacking, RFC 9700 §4.16, OAuth 2.1
 * §7.13: `frame-ancestors 'none'` and the legacy X-Frame-Options), must not leak its URL (which
 * carries the request) to other sites, and must not be cached.
 */
export function pageHeaders(ctx: ServerContext): Record<string, string> {
  const headers: Record<string, string> = {
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  };
  // Fault: the consent page may be framed by any site.
  if (!ctx.fault('as-consent-frameable')) {
    headers['Content-Security-Policy'] =
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
    headers['X-Frame-Options'] = 'DENY';
  }
  return headers;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}' +
  'label{display:block;margin:.5rem 0}.error{color:#a00}code{background:#eee;padding:0 .2rem}';

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/**
 * An error shown to the user instead of a redirect: the client or redirect URI could not be
 * trusted (OAuth 2.1 §4.1.2.1: "MUST NOT automatically redirect the user agent to the invalid
 * redirect URI").
 */
export function sendErrorPage(
  ctx: ServerContext,
  res: ServerResponse,
  error: string,
  description: string,
  status = 400,
  headers: Record<string, string> = {},
): void {
  const body = `<p class="error"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>
<p>The application that sent you here made a request this server cannot answer safely, so you are not being sent back to it.</p>`;
  sendHtml(res, status, layout('Authorization error', body), { ...pageHeaders(ctx), ...headers });
}

/**
 * The sign-in and consent form for a pending authorization request. `signedInAs`: the person has a
 * sign-in session (as/sign-in-sessions.ts), so the form asks for consent only, without password
 * fields, as an identity provider does for a client the person has not approved yet.
 */
export function sendConsentPage(
  ctx: ServerContext,
  res: ServerResponse,
  pending: PendingRequest,
  client: ClientRecord,
  notice?: string,
  status = 200,
  signedInAs?: string,
): void {
  const name = client.metadata.client_name ?? client.client_id;
  const redirectHost = new URL(pending.request.redirectUri).host;
  // MCP 2025-11-25 §Client ID Metadata Documents (localhost redirect risks): show where the user
  // will be sent. Fault: the redirect host is not shown.
  const destination = ctx.fault('as-consent-hides-redirect-host')
    ? ''
    : `<p>After you answer, you will be sent to <strong>${escapeHtml(redirectHost)}</strong>.</p>`;
  const what = pending.error
    ? `<p class="error">The request from this application is invalid (${escapeHtml(pending.error.error)}: ${escapeHtml(pending.error.description)}). Sign in to return to it.</p>`
    : `<p><strong>${escapeHtml(name)}</strong> asks to use <code>${escapeHtml(pending.request.resource)}</code> with the scope <code>${escapeHtml(pending.request.scope)}</code>.</p>`;
  const body = `${what}
${destination}
${notice ? `<p class="error">${escapeHtml(notice)}</p>` : ''}
<form method="post" action="${escapeHtml(`${issuerPath(ctx)}/consent`)}">
<input type="hidden" name="request_id" value="${escapeHtml(pending.id)}">
<input type="hidden" name="csrf" value="${escapeHtml(pending.csrf)}">
${
  signedInAs === undefined
    ? `<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<p>Demo users: alice / alice, bob / bob.</p>`
    : `<p>You are signed in as <strong>${escapeHtml(signedInAs)}</strong>.</p>`
}
<button type="submit" name="action" value="approve">${pending.error ? 'Continue' : 'Approve'}</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`;
  const title = signedInAs === undefined ? 'Sign in and authorize' : 'Authorize';
  sendHtml(res, status, layout(title, body), pageHeaders(ctx));
}
