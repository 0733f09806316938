// RS — 401 challenges. Requirements §2.2, rows RS-401-01..07 (token validation rows: rs-token.ts).
// Every probe is an otherwise-valid JSON-RPC request for the revision (runner/mcp.ts), so a
// rejection can only be about the credentials.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { fallbackProbeMethods, protectedProbe } from '../runner/fixtures.ts';
import { type HttpResponse, HttpTransportError } from '../runner/http.ts';
import { type McpProbe, mcpCall } from '../runner/mcp.ts';
import { endSession } from './rs-scope.ts';
import {
  type Control,
  describeOutcome,
  outcomeOf,
  protectedRequest,
  underControl,
  validTokenControl,
} from './token-probes.ts';
import { REVISIONS, since } from '../runner/revisions.ts';
import { bearerChallenge, type Challenge, param, parseWwwAuthenticate } from '../runner/www-authenticate.ts';
import {
  AUTHENTICATE_ALL_CONNECTIONS,
  BEARER_SCHEME,
  CHALLENGE_ON_REFUSAL,
  conflictSides,
  inMcp,
  OFFLINE_ACCESS_NOT_A_RESOURCE_SCOPE,
  VERIFY_ALL_INBOUND,
} from './rs-quotes.ts';

// MCP 2025-11-25 (and, word for word, 2026-07-28 §Scope Selection Strategy).
const SCOPE_IN_CHALLENGE =
  'MCP servers SHOULD include a scope parameter in the WWW-Authenticate header as defined in RFC 6750 Section 3 to indicate the scopes required for accessing the resource.';

export const RS_401_01 = defineCheck({
  id: 'RS-401-01',
  title: 'A request without credentials gets 401',
  level: 'SHOULD',
  refs: [
    'MCP 2025-06-18 §Error Handling (401 Unauthorized)',
    'MCP 2025-03-26 §Authorization Flow Steps',
    'RFC6750 §3',
  ],
  // Two sentences disagree on whether every request must carry a token: the message quotes both.
  quotes: [...VERIFY_ALL_INBOUND, ...AUTHENTICATE_ALL_CONNECTIONS],
  conflict:
    'The Security Best Practices make servers that implement authorization verify all inbound requests (MUST); the transport asks for authentication of all connections only as a SHOULD, and no revision names which methods may be public.',
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-auth-disabled'],
  requirement:
    'A JSON-RPC request that needs authorization (initialize in the 2025 revisions, tools/list in 2026-07-28) sent without an Authorization header is answered with HTTP 401, and never executed.',
  remediation:
    'Check for a Bearer token before dispatching any JSON-RPC method and answer 401 with a WWW-Authenticate challenge when there is none.',
  probe:
    'POST initialize (2025-*) or tools/list (2026-07-28) without Authorization; when the operator declared that method public (--expect-public), the first undeclared of the fallback methods (2025-*: ping, tools/list, resources/list, prompts/list; 2026-07-28: resources/list, prompts/list).',
  control:
    "The same request with a token the target accepts (the harness's, else a correctly forged one), sent right before and right after the anonymous one: served both times, it shows the 401 was about the missing token. An anonymous request that is served needs no control.",
  async run(t) {
    const probe = undeclaredProbe(t);
    if (!probe) {
      t.notApplicable(
        `every method this check can probe is declared public (--expect-public ${t.options.expectPublic.join(',')}); RS-PUB-* judge the anonymous surface`,
      );
      return;
    }
    t.data('method', probe.method);
    const first = await mcpCall(t.http, t.target, t.revision, probe);
    if (first.response.status >= 200 && first.response.status <= 299) {
      // Served without credentials: conclusive, whatever a token would have done.
      t.data('status', first.response.status);
      const executed =
        first.message && 'result' in first.message
          ? ' and the JSON-RPC request was executed (it has a result)'
          : '';
      t.violated(
        `${probe.method} without credentials was answered ${first.response.status}, not 401${executed}; ${conflictSides(t.revision, VERIFY_ALL_INBOUND, AUTHENTICATE_ALL_CONNECTIONS).text}`,
      );
      return;
    }
    // A refusal counts only if the same request with a valid token is served (the control).
    const { token } = await validTokenControl(t);
    const control: Control = {
      what: `${probe.method} with a valid token`,
      howToProvide:
        'make sure the token the harness obtained is accepted by this endpoint (--token-env NAME)',
      send: async (when) => {
        const o = outcomeOf(
          `${probe.method} with a valid token (control, ${when} the probe)`,
          (
            await mcpCall(t.http, t.target, t.revision, {
              ...probe,
              token,
              label: `${probe.method} with a valid token (control, ${when} the probe)`,
            })
          ).response,
        );
        if (o.accepted && o.sessionId)
          await endSession(t, token, {
            revision: t.revision,
            protocolVersion: t.revision,
            sessionId: o.sessionId,
          });
        return { ok: o.accepted, status: o.status, exchange: o.exchange, describe: describeOutcome(o) };
      },
    };
    const reply = await underControl(t, control, () => mcpCall(t.http, t.target, t.revision, probe));
    if (!reply) return;
    const status = reply.response.status;
    t.data('status', status);
    if (status === 401) t.conforms(`${probe.method} without credentials was answered 401`);
    else
      t.violated(
        `${probe.method} without credentials was answered ${status}, not 401; ${conflictSides(t.revision, VERIFY_ALL_INBOUND, AUTHENTICATE_ALL_CONNECTIONS).text}`,
      );
  },
});

/**
 * The revision's protected request (requirements RS-401-01: "initialize unless configured
 * public"), or, when the operator declared that method public, the first undeclared method among
 * a few harmless ones; undefined when all are declared.
 */
function undeclaredProbe(t: CheckContext): McpProbe | undefined {
  const declared = new Set(t.options.expectPublic);
  const primary = protectedProbe(t.revision);
  if (!declared.has(primary.method)) return primary;
  const method = fallbackProbeMethods(t.revision).find((m) => !declared.has(m));
  return method ? { method, params: {}, id: 1, label: `anonymous MCP request (${method})` } : undefined;
}

export const RS_401_02 = defineCheck({
  id: 'RS-401-02',
  title: 'Every 401 carries a WWW-Authenticate Bearer challenge with at least one parameter',
  level: 'MUST',
  refs: ['RFC9110 §15.5.2', 'RFC9110 §11.6.1', 'OAuth 2.1 draft-13 §5.3.1', 'RFC6750 §3'],
  quotes: [
    CHALLENGE_ON_REFUSAL,
    BEARER_SCHEME,
    {
      source: 'RFC 6750',
      section: '3',
      text: 'This scheme MUST be followed by one or more auth-param values.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9110',
      section: '11.6.1',
      text: 'A server generating a 401 (Unauthorized) response MUST send a WWW-Authenticate header field containing at least one challenge.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-401-no-challenge', 'rs-challenge-bare-bearer'],
  requirement:
    'A 401 answer carries a WWW-Authenticate header with at least one challenge; the Bearer (or DPoP) challenge has at least one auth-param (a bare "Bearer" is invalid). Checked on the anonymous 401 and on the 401 to an invalid token.',
  remediation:
    'Send `WWW-Authenticate: Bearer resource_metadata="<PRM URL>", scope="<scopes>"` (plus error="invalid_token" for a bad token) on every 401.',
  probe: 'POST the protected request without Authorization, then with `Authorization: Bearer <random>`.',
  control:
    "None: the check judges the WWW-Authenticate header of the 401 answers it gets; whether the requests had to be refused is RS-401-01's and RS-401-08's to judge.",
  async run(t) {
    const anonymous = await mcpCall(
      t.http,
      t.target,
      t.revision,
      await protectedRequest(t, 'anonymous MCP request'),
    );
    const invalid = await mcpCall(t.http, t.target, t.revision, {
      ...(await protectedRequest(t, 'MCP request with an invalid token')),
      token: 'mcp-auth-conformance-not-a-token',
    });
    let judged = 0;
    for (const [what, reply] of [
      ['without credentials', anonymous],
      ['with an invalid token', invalid],
    ] as const) {
      if (reply.response.status !== 401) {
        t.note(
          `the request ${what} was answered ${reply.response.status}, not 401: not judged here (see RS-401-01, RS-401-08)`,
        );
        continue;
      }
      judged++;
      const problem = challengeProblem(reply.response);
      if (problem)
        t.violated(`the 401 to the request ${what}: ${problem}`, { exchanges: [reply.response.exchange] });
    }
    if (judged === 0)
      t.notApplicable('no request was answered 401, so there is no challenge to judge (see RS-401-01)');
    else t.conforms(`${judged} 401 answer(s) carry a Bearer challenge with parameters`);
  },
});

export const RS_401_03 = defineCheck({
  id: 'RS-401-03',
  title: 'The 401 challenge points at the protected-resource metadata (resource_metadata)',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Authorization Server Location',
    'MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements',
    'RFC9728 §5.1',
  ],
  quotes: [
    ...inMcp(['2025-06-18'], {
      section: 'Authorization Server Location',
      text: 'MCP servers MUST use the HTTP header WWW-Authenticate when returning a 401 Unauthorized to indicate the location of the resource server metadata URL as described in RFC9728 Section 5.1 "WWW-Authenticate Response".',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    // From 2025-11-25 the header is one of two mechanisms (the other: a well-known URL).
    ...inMcp(since('2025-11-25'), {
      section: 'Protected Resource Metadata Discovery Requirements',
      text: 'MCP servers MUST implement one of the following discovery mechanisms to provide authorization server location information to MCP clients:',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(since('2025-11-25'), {
      section: 'Protected Resource Metadata Discovery Requirements',
      text: 'WWW-Authenticate Header: Include the resource metadata URL in the WWW-Authenticate HTTP header under resource_metadata when returning 401 Unauthorized responses, as described in RFC9728 Section 5.1.',
      binds: 'context',
    }),
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-challenge-no-resource-metadata', 'rs-prm-missing'],
  // From 2025-11-25 a missing parameter is allowed when the well-known URL serves the metadata.
  faultRevisions: { 'rs-challenge-no-resource-metadata': '2025-06-18' },
  requirement:
    'The Bearer challenge of the 401 carries resource_metadata="<absolute https URL>" (http tolerated for loopback hosts) that answers 200 with a JSON object. 2025-06-18: the parameter is mandatory. 2025-11-25 and later: the server must implement the parameter OR a well-known metadata URL, so a missing parameter fails only when no well-known metadata is served (otherwise a note: SEP-985 still intends the header as the normal way).',
  remediation:
    'Add resource_metadata="https://<host>/.well-known/oauth-protected-resource/<path>" to every 401 challenge, pointing at metadata that is served.',
  probe: 'POST the protected request without Authorization; read resource_metadata; GET it.',
  control:
    'None: the check judges the resource_metadata parameter of the anonymous 401 and whether its URL serves metadata, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.challenge || prm.challenge.status !== 401) {
      t.notApplicable('the request without credentials was not answered 401 (see RS-401-01)');
      return;
    }
    const url = prm.challenge.resourceMetadata;
    t.data('resource_metadata', url ?? null);
    if (url === undefined) {
      const wellKnown = prm.prm !== undefined && prm.source !== 'header';
      if (t.revision === '2025-06-18') {
        t.violated('the 401 challenge has no resource_metadata parameter, which 2025-06-18 requires', {
          exchanges: [prm.challenge.exchangeId],
        });
      } else if (wellKnown) {
        t.note(
          'the challenge has no resource_metadata; clients find the metadata only through the well-known fallback',
        );
        t.conforms(`no resource_metadata, but the metadata is served at the well-known URL ${prm.prmUrl}`);
      } else {
        t.violated(
          'the 401 challenge has no resource_metadata parameter and no well-known metadata URL serves the metadata either',
          { exchanges: [prm.challenge.exchangeId] },
        );
      }
      return;
    }
    if (!URL.canParse(url)) {
      t.violated(`resource_metadata "${url}" is not an absolute URL`);
      return;
    }
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
      t.violated(`resource_metadata "${url}" uses ${parsed.protocol.slice(0, -1)}, not https`);
      return;
    }
    const attempt = prm.attempts.find((a) => a.url === url);
    if (attempt?.status === undefined) {
      throw new HttpTransportError(
        'network',
        `resource_metadata ${url} could not be fetched: ${attempt?.error}`,
      );
    }
    if (prm.source === 'header') t.conforms(`resource_metadata "${url}" answers 200 with a JSON object`);
    else
      t.violated(
        `resource_metadata "${url}" does not resolve to metadata: ${attempt.status}${attempt.error ? ` (${attempt.error})` : ''}`,
        attempt.exchangeId ? { exchanges: [attempt.exchangeId] } : {},
      );
  },
});

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const RS_401_04 = defineCheck({
  id: 'RS-401-04',
  title: 'WWW-Authenticate challenges are syntactically valid',
  level: 'MUST',
  refs: ['RFC9110 §11.2', 'RFC9110 §11.5', 'RFC9110 §11.6.1', 'RFC6750 §3', 'OAuth 2.1 draft-13 §5.3.1'],
  quotes: [
    {
      source: 'RFC 9110',
      section: '11.2',
      text: 'Authentication parameters are name/value pairs, where the name token is matched case-insensitively and each parameter name MUST only occur once per challenge.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9110',
      section: '11.5',
      text: 'For historical reasons, a sender MUST only generate the quoted-string syntax.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'RFC 6750',
      section: '3',
      text: 'The "scope" attribute MUST NOT appear more than once.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    },
    {
      source: 'RFC 6750',
      section: '3',
      text: 'The "error", "error_description", and "error_uri" attributes MUST NOT appear more than once.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    },
    {
      source: 'RFC 6750',
      section: '3',
      text: 'Values for the "error" and "error_description" attributes (specified in Appendixes A.7 and A.8 of [RFC6749]) MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-challenge-unquoted', 'rs-challenge-duplicate-param'],
  requirement:
    "Each challenge follows the RFC 9110 grammar and the Bearer rules: auth-param names unique per challenge (case-insensitive); realm only as a quoted-string; scope, error, error_description, error_uri at most once; values that are not tokens (URLs, space-separated scopes) quoted; the OAuth 2.1 §5.3.1 character sets respected (no '\"' or '\\' inside error_description). Checked on the anonymous 401 and on the 401 to an invalid token.",
  remediation:
    'Build the header from a list of (name, value) pairs, each name once, every value quoted: Bearer resource_metadata="…", scope="a b".',
  probe:
    'POST the protected request without Authorization, then with `Authorization: Bearer <random>`; parse each challenge strictly.',
  control: 'None: the check judges the syntax of the challenges it receives, not a refusal.',
  async run(t) {
    const anonymousProbe = await protectedRequest(t, 'anonymous MCP request');
    const invalidProbe = await protectedRequest(t, 'MCP request with an invalid token');
    const replies = await Promise.all([
      mcpCall(t.http, t.target, t.revision, anonymousProbe),
      mcpCall(t.http, t.target, t.revision, {
        ...invalidProbe,
        token: 'mcp-auth-conformance-not-a-token',
      }),
    ]);
    const seen: Record<string, string[]> = {};
    let judged = 0;
    for (const [what, reply] of [
      ['without credentials', replies[0]],
      ['with an invalid token', replies[1]],
    ] as const) {
      const lines = reply.response.headers.getAll('www-authenticate');
      if (lines.length === 0) {
        t.note(`the answer to the request ${what} (${reply.response.status}) has no WWW-Authenticate`);
        continue;
      }
      judged++;
      seen[what] = lines;
      const { problems } = parseWwwAuthenticate(lines);
      for (const problem of problems)
        t.violated(`the challenge to the request ${what}: ${problem}`, {
          exchanges: [reply.response.exchange],
        });
    }
    t.data('challenges', seen);
    if (judged === 0) t.notApplicable('no answer carried a WWW-Authenticate header (see RS-401-02)');
    else t.conforms(`${judged} challenge header(s) parse without a defect`);
  },
});

/** Why a 401's WWW-Authenticate does not meet RS-401-02, or undefined when it does. */
function challengeProblem(response: HttpResponse): string | undefined {
  const lines = response.headers.getAll('www-authenticate');
  if (lines.length === 0) return 'it carries no WWW-Authenticate header';
  const { challenges } = parseWwwAuthenticate(lines);
  if (challenges.length === 0) return `WWW-Authenticate "${lines.join(', ')}" holds no challenge`;
  const usable = challenges.filter((c) => ['bearer', 'dpop'].includes(c.scheme.toLowerCase()));
  if (usable.length === 0) {
    return `no Bearer (or DPoP) challenge, only ${challenges.map((c) => c.scheme).join(', ')}`;
  }
  if (usable.every((c) => c.params.length === 0)) {
    return `the ${usable[0]!.scheme} challenge has no auth-param (RFC 6750 §3 requires at least one, e.g. resource_metadata)`;
  }
  return undefined;
}

/** The Bearer challenge of the anonymous 401, or undefined after telling `t` why there is none to judge. */
async function anonymousBearerChallenge(t: CheckContext): Promise<Challenge | undefined> {
  const reply = await mcpCall(
    t.http,
    t.target,
    t.revision,
    await protectedRequest(t, 'anonymous MCP request'),
  );
  if (reply.response.status !== 401) {
    t.notApplicable(
      `the request without credentials was answered ${reply.response.status}, not 401 (see RS-401-01)`,
    );
    return undefined;
  }
  const challenge = bearerChallenge(parseWwwAuthenticate(reply.response.headers.getAll('www-authenticate')));
  if (!challenge) t.notApplicable('the 401 carries no Bearer challenge (see RS-401-02)');
  else t.data('challenge', reply.response.headers.getAll('www-authenticate'));
  return challenge;
}

export const RS_401_05 = defineCheck({
  id: 'RS-401-05',
  title: 'The challenge to a request without credentials carries no error code',
  level: 'SHOULD',
  refs: ['RFC6750 §3.1 (last paragraph)', 'OAuth 2.1 draft-13 §5.3.2'],
  quotes: [
    {
      source: 'RFC 6750',
      section: '3.1',
      text: 'If the request lacks any authentication information (e.g., the client was unaware that authentication is necessary or attempted using an unsupported authentication method), the resource server SHOULD NOT include an error code or other error information.',
      keyword: 'SHOULD NOT',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-anonymous-error'],
  requirement:
    'SHOULD NOT: when the request carried no authentication at all, the Bearer challenge has no `error` (nor `error_description`): there was no token to be invalid.',
  remediation:
    'Leave out error="invalid_token" when the request had no Authorization header; keep it for bad tokens.',
  probe: 'POST the protected request without Authorization and read the Bearer challenge.',
  control: 'None: the check judges the content of the anonymous 401 challenge, not a refusal.',
  async run(t) {
    const challenge = await anonymousBearerChallenge(t);
    if (!challenge) return;
    const error = param(challenge, 'error');
    const description = param(challenge, 'error_description');
    if (error !== undefined || description !== undefined) {
      t.violated(
        `the challenge to a request without credentials carries ${[error !== undefined ? `error="${error}"` : '', description !== undefined ? 'error_description' : ''].filter(Boolean).join(' and ')}`,
      );
    } else {
      t.conforms('the anonymous challenge carries no error code');
    }
  },
});

/** OAuth 2.1 §5.3.1 / RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces. */
const SCOPE_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

export const RS_401_06 = defineCheck({
  id: 'RS-401-06',
  title: 'The 401 challenge names the scopes the request needs',
  level: 'SHOULD',
  refs: [
    'MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements',
    'MCP 2025-11-25 §Scope Selection Strategy',
    'RFC6750 §3',
  ],
  quotes: [
    ...inMcp(['2025-11-25'], {
      section: 'Protected Resource Metadata Discovery Requirements',
      text: SCOPE_IN_CHALLENGE,
      keyword: 'SHOULD',
      binds: 'resource-server',
    }),
    ...inMcp(['2026-07-28'], {
      section: 'Scope Selection Strategy',
      text: SCOPE_IN_CHALLENGE,
      keyword: 'SHOULD',
      binds: 'resource-server',
    }),
  ],
  revisions: since('2025-11-25'),
  needs: [],
  faults: ['rs-challenge-no-scope'],
  requirement:
    'The Bearer challenge of the 401 includes scope="<space-separated scopes>" (clients request exactly these), with the RFC 6750 scope character set and single spaces between scopes.',
  remediation: 'Add scope="<scopes this endpoint needs>" to the 401 challenge.',
  probe: 'POST the protected request without Authorization and read the scope parameter.',
  control: 'None: the check judges the scope parameter of the anonymous 401 challenge, not a refusal.',
  async run(t) {
    const challenge = await anonymousBearerChallenge(t);
    if (!challenge) return;
    const scope = param(challenge, 'scope');
    t.data('scope', scope ?? null);
    if (scope === undefined)
      t.violated('the 401 challenge has no scope parameter, so clients must guess the scopes to request');
    else if (!SCOPE_VALUE.test(scope))
      t.violated(`scope="${scope}" is not a space-separated list of RFC 6750 scope tokens`);
    else t.conforms(`the challenge names scope="${scope}"`);
  },
});

export const RS_401_07 = defineCheck({
  id: 'RS-401-07',
  title: 'The challenge scope does not ask for offline_access',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Refresh Tokens', 'SEP-2207'],
  quotes: OFFLINE_ACCESS_NOT_A_RESOURCE_SCOPE,
  revisions: since('2026-07-28'),
  needs: [],
  faults: ['rs-challenge-offline-access'],
  requirement:
    "SHOULD NOT: the `scope` of the challenge does not include offline_access; whether to ask for refresh tokens is the client's decision.",
  remediation: 'Remove offline_access from the scope parameter of the challenge.',
  probe: 'POST the protected request without Authorization and read the scope parameter.',
  control: 'None: the check judges the scope parameter of the anonymous 401 challenge, not a refusal.',
  async run(t) {
    const challenge = await anonymousBearerChallenge(t);
    if (!challenge) return;
    const scope = param(challenge, 'scope');
    if (scope === undefined) t.notApplicable('the challenge has no scope parameter (see RS-401-06)');
    else if (scope.split(' ').includes('offline_access'))
      t.violated(`the challenge asks for scope="${scope}", which includes offline_access`);
    else t.conforms(`scope="${scope}" does not include offline_access`);
  },
});

export const checks = [RS_401_01, RS_401_02, RS_401_03, RS_401_04, RS_401_05, RS_401_06, RS_401_07];
