// Which scopes each JSON-RPC operation needs, and which methods answer without a token.
//
// Scope enforcement happens at the HTTP layer, before the SDK sees the request, so that a missing
// scope is an HTTP 403 with an `insufficient_scope` challenge (RFC 6750 §3.1; MCP 2025-11-25
// §Runtime Insufficient Scope), not a JSON-RPC error inside a 200. To do that the endpoint peeks
// at the JSON-RPC body: `method`, and for `tools/call` the tool `params.name`.
//
// Method, tool and scope names come from the request (or from a token), so every table here is a
// Map: a plain object would answer `constructor`, `__proto__` or `toString` with a prototype
// member, and the lookup would throw (issue #14: such method names were answered 500 before
// authentication).

import type { ServerContext } from '../context.ts';

/** The one table: scopes per method. Methods not listed need a valid token but no scope. */
const METHOD_SCOPES: ReadonlyMap<string, readonly string[]> = new Map([
  ['tools/list', ['mcp:tools']],
  ['tools/call', ['mcp:tools']], // refined per tool below
  ['resources/list', ['mcp:tools']],
  ['resources/templates/list', ['mcp:tools']],
  ['resources/read', ['mcp:tools']],
  ['resources/subscribe', ['mcp:tools']],
  ['resources/unsubscribe', ['mcp:tools']],
  ['prompts/list', ['mcp:tools']],
  ['prompts/get', ['mcp:tools']],
  ['completion/complete', ['mcp:tools']],
  // initialize, notifications/*, ping, server/discover, logging/setLevel: a valid token, no scope.
]);

/** Scopes per tool for `tools/call`; unknown tools fall back to the method's scopes. */
export const TOOL_SCOPES: ReadonlyMap<string, readonly string[]> = new Map([
  ['echo', ['mcp:tools']],
  ['whoami', ['mcp:tools']],
  ['write_note', ['mcp:tools', 'mcp:write']],
]);

/**
 * The scope hierarchy: a granted scope on the left implies every scope on the right (MCP 2026-07-28
 * §Step-Up: "Servers MUST account for scope hierarchies"). One level deep on purpose. `run`
 * declares this same table to the checks for the embedded server (`--scope-implies`, RS-403-05).
 *
 * `mcp:admin` implies `mcp:write` and NOT `mcp:tools`: a token of `mcp:tools mcp:admin` may call
 * write_note. Had it implied `mcp:tools` too, every narrower-token probe that asks for
 * "scopes_supported minus the 401 challenge scope" (RS-PRM-15's 403 provocation) would get a token
 * that can do everything, and could no longer provoke a 403 on this server.
 */
export const SCOPE_IMPLIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'mcp:admin': ['mcp:write'],
});
/** SCOPE_IMPLIES as a Map, for lookups by a scope name a token chose. */
const IMPLIED_BY: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(SCOPE_IMPLIES));

/** The scopes a token holds once the hierarchy is applied: its own, plus every implied one. */
export function effectiveScopes(ctx: ServerContext, granted: readonly string[]): Set<string> {
  const out = new Set(granted);
  // The fault forgets the hierarchy: only literally granted scopes count.
  if (ctx.fault('rs-scope-hierarchy-ignored')) return out;
  for (const scope of granted) for (const implied of IMPLIED_BY.get(scope) ?? []) out.add(implied);
  return out;
}

/** What the endpoint learned from a peek at the body. */
export interface PeekedMessage {
  /** JSON-RPC method; undefined for a response object (a client answering the server). */
  method: string | undefined;
  /** `params.name` of a `tools/call` / `prompts/get`, when it is a string. */
  name: string | undefined;
  /** True for a notification (has a method, no id). */
  isNotification: boolean;
}

/** Reads the JSON-RPC messages of a parsed body (one object or a batch array). */
export function peekMessages(body: unknown): PeekedMessage[] {
  const items = Array.isArray(body) ? body : [body];
  return items.map((item) => {
    if (item === null || typeof item !== 'object')
      return { method: undefined, name: undefined, isNotification: false };
    const record = item as Record<string, unknown>;
    const method = typeof record.method === 'string' ? record.method : undefined;
    const params = record.params;
    const name =
      params !== null &&
      typeof params === 'object' &&
      typeof (params as Record<string, unknown>).name === 'string'
        ? ((params as Record<string, unknown>).name as string)
        : undefined;
    return { method, name, isNotification: method !== undefined && !Object.hasOwn(record, 'id') };
  });
}

/** Scopes one message needs. */
function scopesOf(message: PeekedMessage): readonly string[] {
  if (message.method === undefined) return [];
  if (message.method === 'tools/call' && message.name !== undefined) {
    return TOOL_SCOPES.get(message.name) ?? METHOD_SCOPES.get('tools/call')!;
  }
  return METHOD_SCOPES.get(message.method) ?? [];
}

/** The union of the scopes every message of the body needs, in a stable order. */
export function requiredScopes(messages: readonly PeekedMessage[]): string[] {
  const out: string[] = [];
  for (const message of messages) {
    for (const scope of scopesOf(message)) if (!out.includes(scope)) out.push(scope);
  }
  return out;
}

/**
 * Methods that answer without a token (`publicMethods`, default none: MCP Security Best Practices
 * "MUST verify all inbound requests").
 *
 * Rule for the handshake: `initialize` and `notifications/initialized` are gated as ONE unit. If
 * either is public, both are; otherwise a client could connect anonymously and then be refused
 * on the very next message, the "connected, no tools, no sign-in" failure (issue #5, RS-PUB).
 */
export function publicMethodSet(ctx: ServerContext): Set<string> {
  const set = new Set(ctx.options.publicMethods ?? []);
  if (set.has('initialize') || set.has('notifications/initialized')) {
    set.add('initialize');
    set.add('notifications/initialized');
  }
  // Variant: the handshake and the catalogue are public, as many deployments keep them (the
  // operator declares it: --expect-public initialize,tools/list); calls still need a token.
  if (ctx.variant('public-handshake')) {
    for (const method of ['initialize', 'notifications/initialized', 'tools/list']) set.add(method);
  }
  // The fault breaks the rule above: initialize alone is public.
  if (ctx.fault('rs-initialize-public-only')) set.add('initialize');
  if (ctx.fault('rs-catalogue-public')) {
    set.add('tools/list');
    set.add('resources/list');
    set.add('prompts/list');
  }
  if (ctx.fault('rs-tools-call-public')) set.add('tools/call');
  return set;
}

/** True when every message of the body is a public method (a body with no message never is). */
export function isPublicRequest(ctx: ServerContext, messages: readonly PeekedMessage[]): boolean {
  if (messages.length === 0) return false;
  const publicSet = publicMethodSet(ctx);
  // MCP §Token Requirements: the token is on every request, notifications included; the fault
  // waves notifications through.
  const notificationsFree = ctx.fault('rs-notifications-unauthenticated');
  return messages.every(
    (m) => m.method !== undefined && (publicSet.has(m.method) || (notificationsFree && m.isNotification)),
  );
}
