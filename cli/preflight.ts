// Before any check: is the target reachable, and does it answer like an MCP endpoint? A URL without
// its /mcp path, or a plain web server, otherwise gets a long list of ordinary failures and skips
// that hide the real mistake. The run ends instead (exit 3) with a hint.
//
// "Does not look like MCP": every MCP request (the revision's anonymous probe, then a second,
// different one) is answered 404, 405 or 501 (no such resource or method), a redirect, or an HTML
// page, without a JSON-RPC body. A 401 or 403 is what a protected MCP endpoint sends first, so it
// always passes here.

import { protectedProbe } from '../runner/fixtures.ts';
import { type HttpClient, type HttpResponse, HttpTransportError } from '../runner/http.ts';
import { mcpCall } from '../runner/mcp.ts';
import type { Revision } from '../runner/revisions.ts';

export class RunCouldNotHappen extends Error {
  override name = 'RunCouldNotHappen';
}

/** Throws RunCouldNotHappen when the target cannot be reached or does not answer like MCP. */
export async function preflight(http: HttpClient, target: string, revision: Revision): Promise<void> {
  const probe = protectedProbe(revision, 'preflight: is the target reachable?');
  const first = await send(http, target, revision, probe);
  if (!notMcp(first)) return;
  // One more, different request before concluding: a server may refuse one method oddly.
  const second = await send(http, target, revision, {
    method: probe.method === 'tools/list' ? 'server/discover' : 'tools/list',
    params: {},
    id: 2,
    label: 'preflight: does the target answer like an MCP endpoint?',
  });
  if (!notMcp(second)) return;
  const seen = [first, second].map((r) => `${r.exchange.request.method} → ${describe(r)}`).join(', ');
  const hint = await suggestion(http, target, [first, second]);
  throw new RunCouldNotHappen(
    `the target ${target} does not answer like an MCP endpoint (${seen}). Is this the MCP endpoint? ${hint}`,
  );
}

async function send(
  http: HttpClient,
  target: string,
  revision: Revision,
  probe: Parameters<typeof mcpCall>[3],
): Promise<HttpResponse> {
  try {
    return (await mcpCall(http, target, revision, probe)).response;
  } catch (err) {
    if (err instanceof HttpTransportError) {
      throw new RunCouldNotHappen(
        `the target ${target} cannot be reached: ${err.message}. Check the URL and that the server is running.`,
      );
    }
    throw err;
  }
}

function isHtml(r: HttpResponse): boolean {
  return (
    /\btext\/html\b/i.test(r.headers.get('content-type') ?? '') ||
    /^\s*(<!doctype html|<html)/i.test(r.text.slice(0, 200))
  );
}

function isRedirect(r: HttpResponse): boolean {
  return r.status >= 300 && r.status < 400 && r.headers.has('location');
}

function notMcp(r: HttpResponse): boolean {
  if (r.status === 401 || r.status === 403) return false;
  // A JSON-RPC answer is MCP speaking, whatever its status (2026-07-28 servers answer an unknown
  // method 404 with a JSON-RPC error).
  if ((r.json() as { jsonrpc?: unknown } | undefined)?.jsonrpc === '2.0') return false;
  return r.status === 404 || r.status === 405 || r.status === 501 || isRedirect(r) || isHtml(r);
}

function describe(r: HttpResponse): string {
  if (isRedirect(r)) return `${r.status} to ${r.headers.get('location')}`;
  return `${r.status}${isHtml(r) ? ' (an HTML page)' : ''}`;
}

/** "try …": the redirect's target, the resource the server's metadata names, or <target>/mcp. */
async function suggestion(http: HttpClient, target: string, replies: HttpResponse[]): Promise<string> {
  const redirect = replies.find(isRedirect)?.headers.get('location');
  if (redirect && URL.canParse(redirect, target))
    return `It redirects: try --target ${new URL(redirect, target).href}`;
  const url = new URL(target);
  try {
    const prm = await http.request(`${url.origin}/.well-known/oauth-protected-resource`, {
      headers: { accept: 'application/json' },
      label: 'preflight: where is the MCP endpoint?',
    });
    const resource = (prm.json() as { resource?: unknown } | undefined)?.resource;
    if (prm.status === 200 && typeof resource === 'string' && URL.canParse(resource) && resource !== target) {
      return `Its protected-resource metadata names ${resource}: try --target ${resource}`;
    }
  } catch {
    // no metadata: fall back to the usual path
  }
  if (!/\/mcp\/?$/.test(url.pathname)) {
    return `MCP servers usually serve it at /mcp: try --target ${url.origin}${url.pathname.replace(/\/$/, '')}/mcp`;
  }
  return "Check the server's documentation for the path of its MCP endpoint, and that it accepts POST.";
}
