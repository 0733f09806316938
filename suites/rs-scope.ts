// RS — scope (403) and step-up. Requirements §2.4, rows RS-403-01..05.
//
// A scope probe needs an operation the default token may NOT perform. Which one is target
// knowledge: the operator names it with --privileged-tool (the CLI names write_note for the
// embedded reference server); without one, the first tool that declares `readOnlyHint: false` is
// tried, and when it runs anyway nothing can be concluded (the tool may need no extra scope), so
// the check asks for --privileged-tool instead of guessing a verdict.
// Every probe is an otherwise-valid request for the revision: in 2025-06-18 / 2025-11-25 it runs
// inside a session opened with the same token (initialize + notifications/initialized).
//
// RS-403-05 (scope hierarchies): black-box the harness cannot know that one scope implies another,
// so the operator declares the hierarchy with --scope-implies BROAD=NARROW,… (the CLI declares the
// embedded reference server's own: mcp:admin implies mcp:tools and mcp:write).

import { type CheckContext, defineCheck } from '../runner/check.ts';
import {
  type McpReply,
  type McpSession,
  McpSessionError,
  mcpCall,
  openSession,
  resultOf,
} from '../runner/mcp.ts';
import { isStateless, REVISIONS, since } from '../runner/revisions.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from '../runner/www-authenticate.ts';
import {
  BEARER_SCHEME,
  CHALLENGE_ON_REFUSAL,
  inMcp,
  STATUS_CODES,
  VALIDATE_ACCESS_TOKEN,
} from './rs-quotes.ts';

// MCP 2025-11-25 and 2026-07-28: the answer to a token with insufficient scope (403, a Bearer
// challenge with error="insufficient_scope", scope and resource_metadata) is a SHOULD.
const RUNTIME_INSUFFICIENT_SCOPE = inMcp(since('2025-11-25'), {
  section: 'Runtime Insufficient Scope Errors',
  text: 'When a client makes a request with an access token with insufficient scope during runtime operations, the server SHOULD respond with:',
  keyword: 'SHOULD',
  binds: 'resource-server',
});

// ---------------------------------------------------------------------------------------------
// Helpers shared with rs-transport.ts: sessions, tool discovery, reply descriptions.

/**
 * Runs `fn` inside what the revision needs before ordinary requests: a session opened with
 * `token` (2025-*), or nothing (2026-07-28 is stateless). A session the server issued an id for
 * is ended with DELETE afterwards (best effort), so probes leave no state behind.
 *
 * A server may require a scope for every request, the handshake included, that the token the
 * authorization server granted lacks: then the handshake itself is answered 403 and no session
 * can be opened. That 403 is an observation, not a harness failure: `onForbidden` receives it
 * (the RS-403 checks judge it), and without `onForbidden` the check skips with the reason.
 */
export async function withSession<T>(
  t: CheckContext,
  token: string,
  fn: (session: McpSession | undefined) => Promise<T>,
  onForbidden?: (refusal: HandshakeRefusal) => Promise<T> | T,
): Promise<T | undefined> {
  if (isStateless(t.revision)) return fn(undefined);
  const opened = await openSessionOrRefusal(t, token);
  if ('refusal' in opened) {
    if (onForbidden && opened.refusal.reply.response.status === 403) return onForbidden(opened.refusal);
    skipForRefusedHandshake(t, opened.refusal);
    return undefined;
  }
  try {
    return await fn(opened.session);
  } finally {
    if (opened.session.sessionId) await endSession(t, token, opened.session);
  }
}

/** The handshake step answered 403, and what the harness was trying to do. */
export interface HandshakeRefusal {
  reply: McpReply;
  /** e.g. "notifications/initialized was answered 403, not 202 Accepted". */
  what: string;
}

/**
 * Opens a session with `token`, or returns the 4xx that refused the handshake (a 403 is an
 * observation the RS-403 checks judge; any other refusal of the harness's token means the control
 * every probe in the session needs failed). Anything else still throws (a 2xx without a result, a
 * 5xx: McpSessionError, the check ends as error with the replies; transport errors).
 */
async function openSessionOrRefusal(
  t: CheckContext,
  token: string,
): Promise<{ session: McpSession } | { refusal: HandshakeRefusal }> {
  try {
    return { session: (await openSession(t.http, t.target, t.revision, token)).session };
  } catch (error) {
    const reply = error instanceof McpSessionError ? error.replies.at(-1) : undefined;
    const status = reply?.response.status;
    if (reply === undefined || status === undefined || status < 400 || status > 499) throw error;
    return { refusal: { reply, what: (error as McpSessionError).message } };
  }
}

/**
 * Opens a session with `token` for a check that needs one; when the handshake is refused 403,
 * the check skips (skipForRefusedHandshake) and this returns undefined.
 */
export async function openSessionOrSkip(t: CheckContext, token: string): Promise<McpSession | undefined> {
  const opened = await openSessionOrRefusal(t, token);
  if ('session' in opened) return opened.session;
  skipForRefusedHandshake(t, opened.refusal);
  return undefined;
}

/** A check that needs a session cannot run when the handshake is refused: say why, and how. */
function skipForRefusedHandshake(t: CheckContext, refusal: HandshakeRefusal): void {
  if (refusal.reply.response.status !== 403) {
    t.prerequisiteMissing(
      `control failed: the MCP handshake with the harness's token was refused (${refusal.what}), so no probe in a session can be judged`,
      'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
    );
    return;
  }
  t.prerequisiteMissing(
    `the MCP handshake with the harness's token was refused (${refusal.what}): the server requires a scope for every request that this token lacks, so no session can be opened to probe in`,
    'give a token holding every scope the server requires with --token-env NAME (RS-403-01 judges the 403 itself)',
  );
}

/** DELETE the session (2025-06-18 §Session Management: the client SHOULD end a session it no longer needs). */
export async function endSession(
  t: CheckContext,
  token: string | undefined,
  session: McpSession,
): Promise<void> {
  if (!session.sessionId) return;
  await t.http
    .request(t.target, {
      method: 'DELETE',
      headers: [
        ['mcp-session-id', session.sessionId],
        ['mcp-protocol-version', session.protocolVersion],
        ...(token !== undefined ? ([['authorization', `Bearer ${token}`]] as [string, string][]) : []),
      ],
      label: 'end the MCP session',
    })
    .catch(() => undefined);
}

export interface ToolInfo {
  name: string;
  inputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** `tools/list` with the token; undefined (and a note) when it is not answered with a tool list. */
export async function listTools(
  t: CheckContext,
  token: string,
  session: McpSession | undefined,
): Promise<ToolInfo[] | undefined> {
  const reply = await mcpCall(t.http, t.target, t.revision, {
    method: 'tools/list',
    params: {},
    token,
    ...(session ? { session } : {}),
    label: 'tools/list (with token)',
  });
  const tools = resultOf(reply)?.tools;
  if (!Array.isArray(tools)) {
    t.note(`tools/list with the token was answered ${describeReply(reply)}, so no tool is known`);
    return undefined;
  }
  return tools.filter(isObject).flatMap((tool) =>
    typeof tool.name === 'string'
      ? [
          {
            name: tool.name,
            ...(isObject(tool.inputSchema) ? { inputSchema: tool.inputSchema } : {}),
            ...(isObject(tool.annotations) ? { annotations: tool.annotations } : {}),
          },
        ]
      : [],
  );
}

/**
 * Arguments that satisfy a simple JSON Schema: every required property gets a plain value of its
 * type. Deliberately small: it only has to get past argument validation of ordinary tools.
 */
export function argumentsFor(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const properties = isObject(schema?.properties) ? schema.properties : {};
  const required = Array.isArray(schema?.required) ? schema.required : [];
  const args: Record<string, unknown> = {};
  for (const name of required) {
    if (typeof name !== 'string') continue;
    const prop = isObject(properties[name]) ? properties[name] : {};
    if (Array.isArray(prop.enum) && prop.enum.length > 0) args[name] = prop.enum[0];
    else if (prop.type === 'integer' || prop.type === 'number')
      args[name] = typeof prop.minimum === 'number' ? prop.minimum : 1;
    else if (prop.type === 'boolean') args[name] = false;
    else if (prop.type === 'array') args[name] = [];
    else if (prop.type === 'object') args[name] = {};
    else args[name] = 'mcp-auth-conformance probe';
  }
  return args;
}

/** The operation a minimal token must not be allowed to perform. */
export interface PrivilegedOperation {
  tool: string;
  args: Record<string, unknown>;
  /** operator: --privileged-tool (or the embedded default); annotation: guessed from readOnlyHint: false. */
  source: 'operator' | 'annotation';
}

/** Picks the privileged tool, or tells `t` how to name one and returns undefined. */
export async function privilegedOperation(
  t: CheckContext,
  token: string,
  session: McpSession | undefined,
): Promise<PrivilegedOperation | undefined> {
  const tools = await listTools(t, token, session);
  const named = t.options.privilegedTool;
  if (named) {
    const tool = tools?.find((x) => x.name === named);
    if (tools && !tool) t.note(`tools/list does not list the privileged tool "${named}"; calling it anyway`);
    return { tool: named, args: argumentsFor(tool?.inputSchema), source: 'operator' };
  }
  const guess = tools?.find((x) => x.annotations?.readOnlyHint === false);
  if (guess) return { tool: guess.name, args: argumentsFor(guess.inputSchema), source: 'annotation' };
  t.prerequisiteMissing(
    'no tool is known to need more scope than the default token holds',
    'name one with --privileged-tool NAME (a tool the token from the 401 challenge scope may not call)',
  );
  return undefined;
}

export async function callTool(
  t: CheckContext,
  token: string,
  op: PrivilegedOperation,
  session: McpSession | undefined,
  label: string,
): Promise<McpReply> {
  return mcpCall(t.http, t.target, t.revision, {
    method: 'tools/call',
    params: { name: op.tool, arguments: op.args },
    token,
    ...(session ? { session } : {}),
    label,
  });
}

/** `403`, `200 with a JSON-RPC result`, `200 with JSON-RPC error -32602 (Invalid params)`. */
export function describeReply(reply: McpReply): string {
  const status = reply.response.status;
  const error = reply.message?.error;
  if (isObject(error))
    return `${status} with JSON-RPC error ${String(error.code)} (${String(error.message)})`;
  if (reply.message && 'result' in reply.message) return `${status} with a JSON-RPC result`;
  return String(status);
}

/** True for a 2xx reply that carries a JSON-RPC result (the operation ran). */
export function executed(reply: McpReply): boolean {
  const ok = reply.response.status >= 200 && reply.response.status < 300;
  return ok && reply.message !== undefined && 'result' in reply.message;
}

/**
 * The default token's scopes when they include every scope the protected-resource metadata and
 * the AS metadata advertise (openid and offline_access aside), else undefined: such a token is
 * not known to lack any scope a tool could need.
 */
async function heldAdvertisedScopes(t: CheckContext): Promise<string | undefined> {
  const token = await t.fixture('token');
  const held = new Set(scopesOf(token.scope ?? (await t.fixture('scope')).scope));
  const listed = (list: unknown) =>
    (Array.isArray(list) ? list : []).filter(
      (s): s is string => typeof s === 'string' && s !== '' && s !== 'openid' && s !== 'offline_access',
    );
  const advertised = new Set([
    ...listed((await t.optionalFixture('prm'))?.prm?.scopes_supported),
    ...listed((await t.optionalFixture('as'))?.metadata?.scopes_supported),
  ]);
  if (advertised.size === 0 || ![...advertised].every((s) => held.has(s))) return undefined;
  return [...held].join(' ');
}

/** A 2xx reply: the request was served (the controls ask no more). */
function served(reply: McpReply): boolean {
  return reply.response.status >= 200 && reply.response.status < 300;
}

function scopesOf(text: string | undefined): string[] {
  return (text ?? '').split(' ').filter((s) => s !== '');
}

function challengeOf(reply: McpReply) {
  return bearerChallenge(parseWwwAuthenticate(reply.response.headers.getAll('www-authenticate')));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The common start of the RS-403 checks: with the default token, pick the privileged tool and
 * call it. Undefined (after telling `t` why) when there is nothing to judge.
 */
async function insufficientScopeProbe(
  t: CheckContext,
  token: string,
  session: McpSession | undefined,
): Promise<{ op: PrivilegedOperation; reply: McpReply } | undefined> {
  const op = await privilegedOperation(t, token, session);
  if (!op) return undefined;
  t.data('operation', { tool: op.tool, chosenBy: op.source });
  const reply = await callTool(t, token, op, session, `tools/call ${op.tool} (token without its scope)`);
  t.data('status', reply.response.status);
  return { op, reply };
}

/** When the probe was not answered 403, says so (see RS-403-01) and returns false. */
function was403(t: CheckContext, reply: McpReply, op: PrivilegedOperation | string): boolean {
  if (reply.response.status === 403) return true;
  const what = typeof op === 'string' ? op : `tools/call ${op.tool} with a token lacking its scope`;
  t.notApplicable(
    `${what} was answered ${describeReply(reply)}, not 403, so there is no 403 challenge to judge (see RS-403-01)`,
  );
  return false;
}

/** What the RS-403-01/-02 checks judge: the privileged call, or the 403 that refused the handshake. */
interface ScopeObservation {
  reply: McpReply;
  /** "tools/call write_note with a token lacking its scope", or the handshake step. */
  what: string;
  /** The privileged operation, when the reply is its call (undefined for a refused handshake). */
  op?: PrivilegedOperation;
}

/**
 * With the default token: open a session and call the privileged tool; or, when the server
 * refuses the handshake itself with 403 (it needs a scope for every request that the token
 * lacks), judge that 403, the first one a client would meet.
 *
 * Every refusal is judged only under its controls (suites/token-probes.ts): the same token is
 * still served on tools/list in the same session (the token and session are good), and the same
 * call, or handshake, with a token that also holds the scopes the 403 names (or, when it names
 * none, every scope the metadata lists) goes through. Otherwise the refusal may be about something
 * else than scope, and the check skips ("control failed: …"). A call that runs needs no control.
 */
async function observeInsufficientScope(
  t: CheckContext,
  token: string,
  judge: (observation: ScopeObservation) => void | Promise<void>,
): Promise<void> {
  await withSession(
    t,
    token,
    async (session) => {
      const probe = await insufficientScopeProbe(t, token, session);
      if (!probe) return;
      if (executed(probe.reply)) {
        await judge({
          reply: probe.reply,
          what: `tools/call ${probe.op.tool} with a token lacking its scope`,
          op: probe.op,
        });
        return;
      }
      const sameToken = await mcpCall(t.http, t.target, t.revision, {
        method: 'tools/list',
        params: {},
        token,
        ...(session ? { session } : {}),
        label: 'tools/list with the same token in the same session (control)',
      });
      const scoped = await withScopeControl(t, probe.reply, (privileged) =>
        withSession(t, privileged, (own) =>
          callTool(
            t,
            privileged,
            probe.op,
            own,
            `tools/call ${probe.op.tool} with the scopes it needs (control)`,
          ),
        ),
      );
      if (!scopeControlsPassed(t, sameToken, scoped)) return;
      await judge({
        reply: probe.reply,
        what: `tools/call ${probe.op.tool} with a token lacking its scope`,
        op: probe.op,
      });
    },
    async (refusal) => {
      t.data('handshakeRefused', refusal.what);
      t.note(
        `the MCP handshake with the default token was refused (${refusal.what}): the server requires a scope for every request, so that 403 is what is judged`,
      );
      const scoped = await withScopeControl(t, refusal.reply, async (privileged) => {
        try {
          const opened = await openSession(t.http, t.target, t.revision, privileged);
          if (opened.session.sessionId) await endSession(t, privileged, opened.session);
          return opened.replies.at(-1);
        } catch (err) {
          if (err instanceof McpSessionError) return err.replies.at(-1);
          throw err;
        }
      });
      if (!scopeControlsPassed(t, undefined, scoped)) return;
      await judge({ reply: refusal.reply, what: 'the MCP handshake with the default token' });
    },
  );
}

/** What the privileged control gave: the reply, or why no token with the scopes could be had. */
type ScopeControl = { scope: string; reply?: McpReply } | { unavailable: string };

/**
 * Gets a token that also holds the scopes `refusal` names (forged with the harness's key, else an
 * authorization of its own, shared by the RS-403 checks of the run) and runs `send` with it.
 */
async function withScopeControl(
  t: CheckContext,
  refusal: McpReply,
  send: (token: string) => Promise<McpReply | undefined>,
): Promise<ScopeControl> {
  const defaultToken = await t.fixture('token');
  const challenge = challengeOf(refusal);
  let wanted = scopesOf(challenge && param(challenge, 'scope'));
  if (wanted.length === 0) {
    const supported = (await t.optionalFixture('prm'))?.prm?.scopes_supported;
    wanted = Array.isArray(supported) ? supported.filter((s): s is string => typeof s === 'string') : [];
  }
  const scope = [...new Set([...scopesOf(defaultToken.scope), ...wanted])].join(' ');
  if (scope === '')
    return { unavailable: 'neither the 403 challenge nor the metadata names a scope to ask for' };
  const privileged = await privilegedToken(t, defaultToken, scope);
  if ('unavailable' in privileged) return privileged;
  return { scope, reply: await send(privileged.token) };
}

/**
 * A token of `scope`: forged when the harness holds a key, else one authorization per run and
 * scope (a probe the RS-403 checks share, t.shared), with the asking check's leased client.
 */
async function privilegedToken(
  t: CheckContext,
  _defaultToken: object,
  scope: string,
): Promise<{ token: string } | { unavailable: string }> {
  const minter = await t.optionalFixture('minter');
  if (minter) return { token: await minter.mint({ claims: { scope } }) };
  return t.shared(`a grant for scope "${scope}" (the RS-403 controls)`, () =>
    t.freshGrant({ scope }).then(
      (grant): { token: string } | { unavailable: string } => {
        const granted = grant.tokens.scope === undefined ? undefined : scopesOf(grant.tokens.scope);
        const missing = granted ? scopesOf(scope).filter((s) => !granted.includes(s)) : [];
        return missing.length > 0
          ? {
              unavailable: `the authorization server granted "${granted!.join(' ')}" for a request of "${scope}"`,
            }
          : { token: grant.tokens.accessToken };
      },
      (err: unknown) => ({
        unavailable: `an authorization for "${scope}" failed: ${(err as Error).message}`,
      }),
    ),
  );
}

/** Both RS-403 controls passed; otherwise the check ends as "control failed" (skip). */
function scopeControlsPassed(
  t: CheckContext,
  sameToken: McpReply | undefined,
  scoped: ScopeControl | undefined,
): boolean {
  const served = (r: McpReply | undefined) =>
    r !== undefined && r.response.status >= 200 && r.response.status < 300;
  t.data('control', {
    ...(sameToken ? { sameTokenToolsList: sameToken.response.status } : {}),
    ...(scoped && 'scope' in scoped
      ? { withScope: scoped.scope, withScopeStatus: scoped.reply?.response.status ?? null }
      : {}),
  });
  const how =
    'give a token holding every scope the operation needs with --token-env NAME, or a key the target trusts with --mint-key FILE --mint-issuer URL';
  if (sameToken && !served(sameToken)) {
    t.prerequisiteMissing(
      `control failed: tools/list with the same token in the same session was answered ${describeReply(sameToken)}, so the refusal may not be about scope`,
      how,
    );
    return false;
  }
  if (!scoped) return false; // withSession already ended the check (a refused handshake)
  if ('unavailable' in scoped) {
    t.prerequisiteMissing(
      `control failed: no token with the scopes the refused request needs could be had (${scoped.unavailable}), so the refusal cannot be shown to be about scope`,
      how,
    );
    return false;
  }
  if (!served(scoped.reply)) {
    t.prerequisiteMissing(
      `control failed: the same request with a token of "${scoped.scope}" was answered ${scoped.reply ? describeReply(scoped.reply) : 'nothing'}, so the refusal is not (only) about scope`,
      how,
    );
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

export const RS_403_01 = defineCheck({
  id: 'RS-403-01',
  title: 'A valid token lacking a required scope gets HTTP 403',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Error Handling (403 Invalid scopes or insufficient permissions)',
    'MCP 2025-11-25 §Runtime Insufficient Scope Errors',
    'RFC6750 §3.1 (insufficient_scope)',
  ],
  quotes: [
    ...STATUS_CODES,
    VALIDATE_ACCESS_TOKEN,
    ...RUNTIME_INSUFFICIENT_SCOPE,
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'The resource server SHOULD respond with the HTTP 403 (Forbidden) status code and MAY include the "scope" attribute with the scope necessary to access the protected resource.',
      keyword: 'SHOULD',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['token', 'own-client'],
  faults: ['rs-scope-not-enforced', 'rs-insufficient-scope-401', 'rs-insufficient-scope-jsonrpc'],
  requirement:
    'A request with a valid token that lacks a scope the operation needs is answered HTTP 403 (not 401, which means the token itself is bad, and not a 200 carrying a JSON-RPC error, which no client treats as a step-up signal), and the operation does not run.',
  remediation:
    'Check the scopes of the verified token before dispatching the operation, and answer 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` when one is missing.',
  probe:
    'tools/list with the default token, then tools/call of the privileged tool (--privileged-tool) with that token.',
  control:
    'Two, for a call that did not run: tools/list with the same token in the same session (the token and session are good), and the same call (or handshake) with a token that also holds the scopes the 403 names, else every scope the metadata lists (forged, or one authorization per run): both served show the refusal was about scope. A call that ran needs none.',
  async run(t) {
    const { accessToken } = await t.fixture('token');
    await observeInsufficientScope(t, accessToken, async ({ reply, what, op }) => {
      const status = reply.response.status;
      if (status === 403) {
        t.conforms(`${what} was answered 403`);
        return;
      }
      if (op && executed(reply) && op.source === 'annotation') {
        t.note(
          `tools/call ${op.tool} ran with the default token (scope "${(await t.fixture('token')).scope ?? 'unknown'}"): either it needs no further scope or scopes are not enforced`,
        );
        t.prerequisiteMissing(
          `the tool ${op.tool} (guessed from readOnlyHint: false) ran with the default token, so it proves nothing`,
          'name a tool that needs more scope than the 401 challenge asks for with --privileged-tool NAME',
        );
        return;
      }
      if (op && executed(reply)) {
        // "Lacking its scope" must be known: a token that holds every scope either metadata
        // advertises (the run's scope came from the AS's whole list) lacks none of them.
        const held = await heldAdvertisedScopes(t);
        if (held) {
          t.prerequisiteMissing(
            `tools/call ${op.tool} ran, but the default token holds every advertised scope (${held}), so it is not known to lack the scope the tool needs`,
            'give the run a narrower scope with --scope (the one a client asks for first), so the privileged tool needs more than the token holds',
          );
          return;
        }
      }
      const why =
        status === 401
          ? '401 says the token is invalid, so a client re-authenticates instead of stepping up'
          : executed(reply)
            ? 'the operation ran without the scope it needs'
            : status >= 200 && status < 300
              ? 'a refusal inside a 200 is invisible to the HTTP layer, where clients look for a step-up signal'
              : 'only 403 signals insufficient scope';
      t.violated(`${what} was answered ${describeReply(reply)}, not 403: ${why}`);
    });
  },
});

export const RS_403_02_A = defineCheck({
  id: 'RS-403-02-A',
  title: 'The 403 carries a Bearer insufficient_scope challenge',
  level: 'MUST',
  refs: ['OAuth 2.1 draft-13 §5.3.1', 'RFC6750 §3.1', 'MCP 2025-11-25 §Runtime Insufficient Scope Errors'],
  quotes: [CHALLENGE_ON_REFUSAL, BEARER_SCHEME, ...RUNTIME_INSUFFICIENT_SCOPE],
  revisions: REVISIONS,
  needs: ['token', 'own-client'],
  faults: ['rs-insufficient-scope-no-challenge'],
  requirement:
    'The 403 to a token that lacks a scope carries `WWW-Authenticate: Bearer error="insufficient_scope"` (OAuth 2.1 §5.3.1: a resource server MUST include the header when the token does not enable access). Split from RS-403-02: the parameters inside the challenge are RS-403-02-B.',
  remediation:
    'Add `WWW-Authenticate: Bearer error="insufficient_scope", scope="<scopes the operation needs>", resource_metadata="<PRM URL>"` to the 403.',
  probe: 'tools/call of the privileged tool with the default token; parse the 403 challenge.',
  control:
    "The 403 is judged only under RS-403-01's controls: the same call (or handshake) with a token that also holds the scopes the 403 names goes through, and, for a call, tools/list with the same token in the same session is served; so the challenge judged is that of an insufficient-scope refusal.",
  async run(t) {
    const { accessToken } = await t.fixture('token');
    await observeInsufficientScope(t, accessToken, async (probe) => {
      if (!was403(t, probe.reply, probe.what)) return;
      const lines = probe.reply.response.headers.getAll('www-authenticate');
      t.data('wwwAuthenticate', lines);
      if (lines.length === 0) {
        t.violated(
          'the 403 carries no WWW-Authenticate header, so a client cannot tell which scope to ask for',
        );
        return;
      }
      const challenge = challengeOf(probe.reply);
      if (!challenge) {
        t.violated(`the 403 WWW-Authenticate "${lines.join(', ')}" holds no Bearer challenge`);
        return;
      }
      const error = param(challenge, 'error');
      if (error !== 'insufficient_scope')
        t.violated(
          `the 403 Bearer challenge has ${error === undefined ? 'no error' : `error="${error}"`}, not error="insufficient_scope"`,
        );
      else t.conforms('the 403 carries a Bearer challenge with error="insufficient_scope"');
    });
  },
});

export const RS_403_02_B = defineCheck({
  id: 'RS-403-02-B',
  title: 'The 403 challenge names the scopes and the metadata URL',
  level: 'SHOULD',
  refs: ['MCP 2025-11-25 §Runtime Insufficient Scope Errors', 'RFC6750 §3', 'RFC9728 §5.1, §5.2'],
  quotes: [
    ...RUNTIME_INSUFFICIENT_SCOPE,
    ...inMcp(['2025-11-25'], {
      section: 'Runtime Insufficient Scope Errors',
      text: 'Server Scope Management: When responding with insufficient scope errors, servers SHOULD include the scopes needed to satisfy the current request in the scope parameter.',
      keyword: 'SHOULD',
      binds: 'resource-server',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Runtime Insufficient Scope Errors',
      text: 'Server Scope Management: When responding with insufficient scope errors, servers SHOULD include the scopes needed to satisfy the current operation in the scope parameter, consistent with RFC 6750 Section 3.1.',
      keyword: 'SHOULD',
      binds: 'resource-server',
    }),
  ],
  revisions: since('2025-11-25'),
  needs: ['token', 'own-client'],
  faults: ['rs-403-metadata-url-broken'],
  requirement:
    'The insufficient_scope challenge carries `scope` (the scopes the operation needs) and `resource_metadata`, and that URL serves the protected-resource metadata (RFC 9728 §5.2: the client fetches it to re-authorize).',
  remediation:
    'Send `scope="<scopes>"` and `resource_metadata="<the PRM URL of this endpoint>"` in the 403 challenge, and make sure the URL answers 200.',
  probe:
    'tools/call of the privileged tool with the default token; read scope and resource_metadata; GET the metadata URL.',
  control:
    "The 403 is judged only under RS-403-01's controls: the same call (or handshake) with a token that also holds the scopes the 403 names goes through, and, for a call, tools/list with the same token in the same session is served; so the challenge judged is that of an insufficient-scope refusal.",
  async run(t) {
    const { accessToken } = await t.fixture('token');
    await observeInsufficientScope(t, accessToken, async (probe) => {
      if (!was403(t, probe.reply, probe.what)) return;
      const challenge = challengeOf(probe.reply);
      if (!challenge) {
        t.notApplicable('the 403 carries no Bearer challenge (see RS-403-02-A)');
        return;
      }
      const scope = param(challenge, 'scope');
      const metadataUrl = param(challenge, 'resource_metadata');
      t.data('scope', scope ?? null);
      t.data('resourceMetadata', metadataUrl ?? null);
      const problems: string[] = [];
      if (scope === undefined || scopesOf(scope).length === 0)
        problems.push('the 403 challenge names no scope, so the client cannot tell what to re-authorize for');
      if (metadataUrl === undefined) {
        problems.push('the 403 challenge has no resource_metadata parameter');
      } else if (!URL.canParse(metadataUrl)) {
        problems.push(`resource_metadata="${metadataUrl}" is not a URL`);
      } else {
        const response = await t.http.request(metadataUrl, {
          headers: { accept: 'application/json' },
          label: 'PRM named by the 403 challenge',
        });
        const body = response.json();
        if (response.status !== 200 || !isObject(body))
          problems.push(
            `resource_metadata="${metadataUrl}" answers ${response.status}${response.status === 200 ? ' without a JSON object' : ''}, not the protected-resource metadata`,
          );
      }
      for (const problem of problems) t.violated(problem);
      if (problems.length === 0)
        t.conforms(`the 403 challenge names scope="${scope ?? ''}" and a resource_metadata URL that answers`);
    });
  },
});

export const RS_403_03 = defineCheck({
  id: 'RS-403-03',
  title: 'One 403 challenge names every scope the operation needs',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Scope Challenge Handling', 'SEP-2350'],
  quotes: inMcp(['2026-07-28'], {
    section: 'Runtime Insufficient Scope Errors',
    text: 'Whatever scope-inclusion strategy a server adopts, servers SHOULD include all scopes required for the current operation in a single challenge.',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
  revisions: since('2026-07-28'),
  needs: ['token', 'own-client'],
  faults: ['rs-scope-challenge-one-at-a-time'],
  requirement:
    'After re-authorizing with the union of the scopes it held and the scopes the 403 challenge named, a client can perform the same call: the server does not hand out the needed scopes one challenge at a time.',
  remediation:
    'Put every scope the operation needs in the scope parameter of one insufficient_scope challenge, not only the first missing one.',
  probe:
    'tools/call of the privileged tool with a token holding no scope (forged, when the harness holds a key; else the default token), a fresh authorization for the union of held and challenged scopes, then the same call again.',
  control:
    'tools/list with the re-authorized token (which the default scope allows), when the retry is refused: served, it shows the token itself is good, so the refusal is about the scopes of the operation. A retry that goes through needs no control.',
  async run(t) {
    const defaultToken = await t.fixture('token');
    const minter = await t.optionalFixture('minter');
    // The most demanding start: a token with no scope at all, so an operation needing two scopes
    // shows whether the challenge names both. Without a key, the default token is the start.
    const start = minter
      ? {
          token: await minter.mint({ omit: ['scope'] }),
          granted: [] as string[],
          what: 'a forged token with no scope',
        }
      : { token: defaultToken.accessToken, granted: scopesOf(defaultToken.scope), what: 'the default token' };
    const op = await withSession(t, defaultToken.accessToken, (session) =>
      privilegedOperation(t, defaultToken.accessToken, session),
    );
    if (!op) return;
    t.data('operation', { tool: op.tool, chosenBy: op.source });
    const first = await withSession(t, start.token, (session) =>
      callTool(t, start.token, op, session, `tools/call ${op.tool} (${start.what})`),
    );
    if (!first || !was403(t, first, op)) return;
    const challenged = scopesOf(challengeOf(first) && param(challengeOf(first)!, 'scope'));
    if (challenged.length === 0) {
      t.notApplicable('the 403 challenge names no scope (see RS-403-02-B)');
      return;
    }
    const union = [...new Set([...start.granted, ...challenged])];
    t.data('firstChallengeScope', challenged.join(' '));
    t.data('reauthorizedWith', union.join(' '));
    const grant = await t.freshGrant({ scope: union.join(' ') });
    const grantedNow = grant.tokens.scope === undefined ? union : scopesOf(grant.tokens.scope);
    if (!union.every((s) => grantedNow.includes(s))) {
      t.notApplicable(
        `the authorization server granted "${grantedNow.join(' ')}" for a request of "${union.join(' ')}", so the retry would not show what the challenge named`,
      );
      return;
    }
    const second = await withSession(t, grant.tokens.accessToken, (session) =>
      callTool(t, grant.tokens.accessToken, op, session, `tools/call ${op.tool} (after re-authorizing)`),
    );
    if (!second) return;
    t.data('retryStatus', second.response.status);
    if (second.response.status >= 200 && second.response.status < 300) {
      t.conforms(
        `after re-authorizing with "${union.join(' ')}" the same call was answered ${describeReply(second)}`,
      );
      return;
    }
    // Control: the re-authorized token on tools/list, which the default scope allows: served, the
    // token itself is good, so the refusal of the retry is about the scopes of the operation.
    const control = await withSession(t, grant.tokens.accessToken, (session) =>
      mcpCall(t.http, t.target, t.revision, {
        method: 'tools/list',
        params: {},
        token: grant.tokens.accessToken,
        ...(session ? { session } : {}),
        label: 'tools/list with the re-authorized token (control)',
      }),
    );
    if (!control) return;
    t.data('control', { reauthorizedTokenToolsList: control.response.status });
    if (!served(control)) {
      t.prerequisiteMissing(
        `control failed: tools/list with the token re-authorized for "${union.join(' ')}" was answered ${describeReply(control)}, so the refusal of the retry is not shown to be about scope`,
        'make sure the tokens the authorization server issues for these scopes are accepted by this endpoint',
      );
      return;
    }
    const again =
      second.response.status === 403
        ? scopesOf(challengeOf(second) && param(challengeOf(second)!, 'scope'))
        : [];
    const added = again.filter((s) => !union.includes(s));
    if (added.length > 0)
      t.violated(
        `the first 403 named "${challenged.join(' ')}"; after re-authorizing with "${union.join(' ')}" a second 403 names "${added.join(' ')}" for the same call: scopes come one challenge at a time`,
      );
    else
      t.violated(
        `after re-authorizing with every scope the challenge named ("${union.join(' ')}") the same call is still answered ${describeReply(second)}`,
      );
  },
});

export const RS_403_04 = defineCheck({
  id: 'RS-403-04',
  title: 'Re-authorizing with the challenged scopes keeps earlier access (2025-11-25)',
  level: 'SHOULD',
  refs: [
    'MCP 2025-11-25 §Scope Challenge Handling (recommended: include previously granted scopes)',
    'MCP 2026-07-28 §Scope Challenge Handling (servers need not repeat them)',
  ],
  derived:
    'MCP 2025-11-25 calls including the granted scopes its "Recommended approach" (a label, not a BCP 14 keyword) and 2026-07-28 says servers need not; no sentence obliges a server to repeat them, but a client that asks only for the challenged scopes loses access.',
  quotes: [
    ...inMcp(['2025-11-25'], {
      section: 'Runtime Insufficient Scope Errors',
      text: 'Recommended approach: Include both existing relevant scopes and newly required scopes to prevent clients from losing previously granted permissions',
      binds: 'context',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Runtime Insufficient Scope Errors',
      text: "The scope attribute describes the scopes necessary to access the requested resource — servers are not required to include the client's previously granted scopes.",
      binds: 'context',
    }),
  ],
  revisions: since('2025-11-25'),
  needs: ['token', 'own-client'],
  faults: ['rs-scope-challenge-omits-granted'],
  // In 2026-07-28 the union of scopes is the client's duty: only reported there.
  faultRevisions: { 'rs-scope-challenge-omits-granted': '2025-11-25' },
  requirement:
    "2025-11-25: the insufficient_scope challenge repeats the scopes already granted, or at least re-authorizing with only the challenged scopes does not lose access to earlier operations (WARN otherwise). 2026-07-28: the union is the client's duty, so whether granted scopes are repeated is only reported (INFO).",
  remediation:
    'Under 2025-11-25, list the scopes the token already holds together with the missing ones in the scope parameter of the 403 challenge.',
  probe:
    'tools/call of the privileged tool with the default token; if the challenge omits granted scopes, authorize with only the challenged scopes and retry tools/list.',
  control:
    'When the token of only the challenged scopes loses tools/list: the same tools/list with the token of the granted scopes, right after; served, it shows the refusal is about the narrower token. A token that keeps access needs no control.',
  async run(t) {
    const defaultToken = await t.fixture('token');
    const granted = scopesOf(defaultToken.scope);
    if (granted.length === 0) {
      t.notApplicable('the token response names no scope, so the granted scopes are unknown');
      return;
    }
    const probe = await withSession(t, defaultToken.accessToken, (session) =>
      insufficientScopeProbe(t, defaultToken.accessToken, session),
    );
    if (!probe || !was403(t, probe.reply, probe.op)) return;
    const challenged = scopesOf(challengeOf(probe.reply) && param(challengeOf(probe.reply)!, 'scope'));
    if (challenged.length === 0) {
      t.notApplicable('the 403 challenge names no scope (see RS-403-02-B)');
      return;
    }
    const repeated = granted.every((s) => challenged.includes(s));
    t.data('granted', granted.join(' '));
    t.data('challenged', challenged.join(' '));
    t.data('repeatsGranted', repeated);
    const profile2026 = t.revision === '2026-07-28';
    if (repeated) {
      const message = `the challenge "${challenged.join(' ')}" repeats the granted scopes "${granted.join(' ')}"`;
      if (profile2026) t.observe(message);
      else t.conforms(message);
      return;
    }
    if (profile2026) {
      t.observe(
        `the challenge "${challenged.join(' ')}" does not repeat the granted scopes "${granted.join(' ')}" (allowed in 2026-07-28: the client keeps the union)`,
      );
      return;
    }
    // 2025-11-25: does a client that follows the challenge literally lose earlier access?
    const grant = await t.freshGrant({ scope: challenged.join(' ') });
    const earlier = await withSession(t, grant.tokens.accessToken, (session) =>
      mcpCall(t.http, t.target, t.revision, {
        method: 'tools/list',
        params: {},
        token: grant.tokens.accessToken,
        ...(session ? { session } : {}),
        label: 'tools/list with a token of only the challenged scopes',
      }),
    ).catch((err: unknown) => {
      // openSession refused: the token of the challenged scopes cannot even start a session.
      t.note(`with a token of only "${challenged.join(' ')}": ${(err as Error).message}`);
      return undefined;
    });
    const status = earlier?.response.status;
    t.data('earlierOperationStatus', status ?? null);
    if (earlier && status !== undefined && status >= 200 && status < 300) {
      t.conforms(
        `the challenge omits the granted scopes, but a token of only "${challenged.join(' ')}" still lists tools`,
      );
      return;
    }
    // Control: the same tools/list with the token of the granted scopes, at that moment: served,
    // the refusal is about the token of only the challenged scopes.
    const control = await withSession(t, defaultToken.accessToken, (session) =>
      mcpCall(t.http, t.target, t.revision, {
        method: 'tools/list',
        params: {},
        token: defaultToken.accessToken,
        ...(session ? { session } : {}),
        label: 'tools/list with the token of the granted scopes (control)',
      }),
    );
    if (!control) return;
    t.data('control', { grantedScopesToolsList: control.response.status });
    if (!served(control))
      t.prerequisiteMissing(
        `control failed: tools/list with the token of the granted scopes "${granted.join(' ')}" was answered ${describeReply(control)} too, so losing it with a token of "${challenged.join(' ')}" is not shown to be about scope`,
        'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      );
    else
      t.violated(
        `the challenge "${challenged.join(' ')}" omits the granted scopes "${granted.join(' ')}", and a client re-authorizing with it loses access to tools/list (${earlier ? describeReply(earlier) : 'no session'})`,
      );
  },
});

/**
 * The token scope that swaps the needed scopes a declared broad scope implies for that broad scope:
 * needed {files:read, mail:send} with files:*=files:read gives {files:*, mail:send}. The broad scope
 * that replaces the most needed scopes wins; undefined when no declared scope implies any of them.
 */
export function broaderScopeRequest(
  needed: readonly string[],
  implies: Readonly<Record<string, readonly string[]>>,
): { broad: string; replaced: string[]; scope: string[] } | undefined {
  let best: { broad: string; replaced: string[]; scope: string[] } | undefined;
  for (const [broad, narrower] of Object.entries(implies)) {
    if (needed.includes(broad)) continue; // the operation asks for the broad scope itself
    const replaced = needed.filter((s) => narrower.includes(s));
    if (replaced.length === 0 || (best && replaced.length <= best.replaced.length)) continue;
    best = { broad, replaced, scope: [broad, ...needed.filter((s) => !replaced.includes(s))] };
  }
  return best;
}

export const RS_403_05 = defineCheck({
  id: 'RS-403-05',
  title: 'A broader scope that implies the needed one is accepted',
  level: 'MUST',
  refs: ['MCP 2026-07-28 §Step-Up ("Servers MUST account for scope hierarchies")', 'SEP-2350'],
  quotes: inMcp(['2026-07-28'], {
    section: 'Step-Up Authorization Flow',
    text: 'Servers MUST account for scope hierarchies, where a broader scope implies narrower ones, when deciding whether a token is sufficient for an operation.',
    keyword: 'MUST',
    binds: 'resource-server',
  }),
  revisions: since('2026-07-28'),
  needs: ['token', 'own-client'],
  faults: ['rs-scope-hierarchy-ignored'],
  requirement:
    'When the target declares that one scope implies others (the operator states the hierarchy with --scope-implies, since a hierarchy cannot be discovered black-box), a token holding the broad scope, and not the narrower ones it implies, may perform an operation that needs the narrower ones.',
  remediation:
    'When checking the scopes of a token, expand each granted scope into the scopes it implies before comparing with what the operation needs, instead of comparing scope strings literally.',
  probe:
    'tools/call of the privileged tool with the default token to learn the needed scopes from the 403 challenge; a fresh authorization with the declared broad scope in place of the scopes it implies; the same call again.',
  control:
    "When the broad-scope token is refused: the same call with a token of the needed scopes themselves (forged with the harness's key, else one authorization per run); it goes through, so the refusal is about the broad scope. A call that runs needs no control.",
  async run(t) {
    const implies = t.options.scopeImplies;
    if (!implies || Object.keys(implies).length === 0) {
      t.prerequisiteMissing(
        'the scope hierarchy of the target is unknown (it cannot be discovered black-box)',
        'declare it with --scope-implies BROAD=NARROW[,NARROW] (repeatable), or "scopeImplies" in the config file',
      );
      return;
    }
    t.data('declaredHierarchy', implies);
    const { accessToken } = await t.fixture('token');
    const probe = await withSession(t, accessToken, (session) =>
      insufficientScopeProbe(t, accessToken, session),
    );
    if (!probe || !was403(t, probe.reply, probe.op)) return;
    const needed = scopesOf(challengeOf(probe.reply) && param(challengeOf(probe.reply)!, 'scope'));
    if (needed.length === 0) {
      t.notApplicable(
        'the 403 challenge names no scope, so the scopes the operation needs are unknown (see RS-403-02-B)',
      );
      return;
    }
    t.data('neededScopes', needed.join(' '));
    const request = broaderScopeRequest(needed, implies);
    if (!request) {
      t.notApplicable(
        `tools/call ${probe.op.tool} needs "${needed.join(' ')}", and no declared broad scope implies any of them, so the hierarchy cannot be exercised on it`,
      );
      return;
    }
    t.data('requestedScope', request.scope.join(' '));
    const grant = await t.freshGrant({ scope: request.scope.join(' ') });
    const granted = grant.tokens.scope === undefined ? request.scope : scopesOf(grant.tokens.scope);
    t.data('grantedScope', granted.join(' '));
    if (!granted.includes(request.broad)) {
      t.notApplicable(
        `the authorization server granted "${granted.join(' ')}" for a request of "${request.scope.join(' ')}", without the broad scope ${request.broad}`,
      );
      return;
    }
    const literal = request.replaced.filter((s) => granted.includes(s));
    if (literal.length > 0) {
      t.notApplicable(
        `the authorization server granted "${granted.join(' ')}": it already adds ${literal.join(' ')}, so the resource server's handling of the hierarchy cannot be observed`,
      );
      return;
    }
    const token = grant.tokens.accessToken;
    const reply = await withSession(t, token, (session) =>
      callTool(t, token, probe.op, session, `tools/call ${probe.op.tool} (token of ${request.broad})`),
    );
    if (!reply) return;
    t.data('status', reply.response.status);
    const what = `a token of "${granted.join(' ')}" (${request.broad} implies ${request.replaced.join(' ')})`;
    if (executed(reply)) {
      t.conforms(`tools/call ${probe.op.tool}, which needs "${needed.join(' ')}", ran with ${what}`);
      return;
    }
    // Control: the same call with a token of the needed scopes themselves (forged, or one
    // authorization per run): it goes through, so the refusal is about the broad scope.
    const scoped = await withScopeControl(t, probe.reply, (privileged) =>
      withSession(t, privileged, (own) =>
        callTool(
          t,
          privileged,
          probe.op,
          own,
          `tools/call ${probe.op.tool} with the scopes it needs (control)`,
        ),
      ),
    );
    if (!scopeControlsPassed(t, undefined, scoped)) return;
    const challenged = reply.response.status === 403 ? challengeOf(reply) : undefined;
    const asked = challenged ? param(challenged, 'scope') : undefined;
    t.violated(
      `tools/call ${probe.op.tool}, which needs "${needed.join(' ')}", was answered ${describeReply(reply)} with ${what}${asked ? `; the challenge asks for "${asked}"` : ''}: the scope hierarchy is not applied`,
    );
  },
});

export const checks = [RS_403_01, RS_403_02_A, RS_403_02_B, RS_403_03, RS_403_04, RS_403_05];
