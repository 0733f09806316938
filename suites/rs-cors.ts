// RS — browser clients (issue #5, family RS-CORS-*). No catalogue row covers them: MCP clients
// that run in a browser (web IDEs, hosted inspectors) read the endpoint and its metadata through
// CORS (Fetch standard §3.2 "CORS protocol"), so a server that wants them must
//   1. let the preflight of an MCP POST through, with Authorization among the allowed headers;
//   2. expose WWW-Authenticate on the 401, or the client never learns where the metadata is;
//   3. make the protected-resource metadata readable from any origin.
// All SHOULD: a server with no browser clients breaks nothing by ignoring them.
//
// Which Origin to send: the MCP endpoint must refuse an Origin it does not trust (MCP 2025-11-25
// Streamable HTTP §Security Warning, RS-TRN), so a foreign Origin is tried first and, if it is
// refused with 403, the endpoint's own origin (the one origin every Origin-validating server
// accepts) is used instead. The CORS policy for an accepted origin is what is judged.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import { mcpCall } from '../runner/mcp.ts';
import { isStateless, REVISIONS } from '../runner/revisions.ts';
import { protectedRequest } from './token-probes.ts';

/** A browser origin that is never contacted (RFC 6761 §6.4 reserves .invalid). */
export const FOREIGN_ORIGIN = 'https://browser-client.mcp-auth-conformance.invalid';

const REFS = ['Fetch standard §3.2 (CORS protocol)', 'Fetch standard §4.8 (CORS-preflight fetch)'];

/** Lower-cased members of a comma-separated header list ("a, B" → ["a", "b"]). */
function listOf(response: HttpResponse, name: string): string[] {
  return (response.headers.get(name) ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
}

/** Fetch §3.2.5: the response is readable by `origin` when ACAO is `*` or that origin exactly. */
function allowsOrigin(response: HttpResponse, origin: string): boolean {
  const acao = response.headers.get('access-control-allow-origin');
  return acao === '*' || acao === origin;
}

/**
 * Sends `send(origin)` with the foreign origin and, when that is refused with 403, with the
 * endpoint's own origin. Records which was used; undefined (after a skip) when both are refused.
 */
async function withAcceptedOrigin(
  t: CheckContext,
  send: (origin: string) => Promise<HttpResponse>,
): Promise<{ origin: string; response: HttpResponse } | undefined> {
  const foreign = await send(FOREIGN_ORIGIN);
  if (foreign.status !== 403) {
    t.data('origin', FOREIGN_ORIGIN);
    return { origin: FOREIGN_ORIGIN, response: foreign };
  }
  const own = new URL(t.target).origin;
  t.note(
    `the endpoint refuses the foreign Origin ${FOREIGN_ORIGIN} (403); judged with its own origin ${own}`,
  );
  const response = await send(own);
  if (response.status === 403) {
    t.notApplicable(
      `the endpoint refuses both ${FOREIGN_ORIGIN} and its own origin ${own} with 403, so no browser client can reach it`,
    );
    return undefined;
  }
  t.data('origin', own);
  return { origin: own, response };
}

/** Request headers a browser MCP client sends on a POST (runner/mcp.ts builds the same set). */
function mcpRequestHeaders(t: CheckContext): string[] {
  const headers = ['authorization', 'content-type', 'mcp-protocol-version'];
  if (isStateless(t.revision)) headers.push('mcp-method', 'mcp-name');
  return headers;
}

export const RS_CORS_01 = defineCheck({
  id: 'RS-CORS-01',
  title: 'The CORS preflight of the MCP endpoint allows an authorized MCP POST',
  level: 'SHOULD',
  refs: [...REFS, 'MCP 2025-06-18 §Token Requirements (Authorization header on every request)'],
  derived:
    'No MCP sentence mentions CORS; a browser client sends the Authorization header on every request (MCP Token Requirements), which a browser does only after a preflight that allows it (Fetch, CORS protocol).',
  quotes: [
    {
      source: 'Fetch',
      section: 'CORS protocol: HTTP responses',
      text: "Indicates which headers are supported by the response's URL for the purposes of the CORS protocol.",
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-cors-preflight-no-authorization'],
  requirement:
    'An OPTIONS preflight for a POST carrying the headers an MCP client sends (Authorization, Content-Type, MCP-Protocol-Version, and from 2026-07-28 Mcp-Method and Mcp-Name) is answered 2xx with Access-Control-Allow-Origin for the requesting origin (or *) and Access-Control-Allow-Headers covering each of them; Authorization must be listed by name (a * does not cover it). Otherwise browser clients cannot send their token.',
  remediation:
    'Answer OPTIONS on the MCP endpoint with 204, Access-Control-Allow-Origin: <origin>, Access-Control-Allow-Methods: POST, GET, DELETE and Access-Control-Allow-Headers: Authorization, Content-Type, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id.',
  probe:
    'OPTIONS the MCP endpoint with Origin, Access-Control-Request-Method: POST and the MCP request headers.',
  control: 'None: the check judges the CORS headers of the preflight answer, not a refusal.',
  async run(t) {
    const requested = mcpRequestHeaders(t);
    const answer = await withAcceptedOrigin(t, (origin) =>
      t.http.request(t.target, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': requested.join(','),
        },
        label: `CORS preflight of the MCP endpoint (Origin ${origin})`,
      }),
    );
    if (!answer) return;
    const { origin, response } = answer;
    const allowed = listOf(response, 'access-control-allow-headers');
    t.data('preflight', {
      status: response.status,
      allowOrigin: response.headers.get('access-control-allow-origin'),
      allowHeaders: response.headers.get('access-control-allow-headers'),
      allowMethods: response.headers.get('access-control-allow-methods'),
    });
    const problems: string[] = [];
    if (response.status < 200 || response.status > 299)
      problems.push(`the preflight is answered ${response.status}`);
    if (!allowsOrigin(response, origin))
      problems.push(
        `Access-Control-Allow-Origin is ${JSON.stringify(response.headers.get('access-control-allow-origin'))}, not ${origin} or *`,
      );
    // Fetch §4.8 step "CORS-preflight check": * covers every header name except Authorization.
    const missing = requested.filter(
      (h) => !allowed.includes(h) && !(h !== 'authorization' && allowed.includes('*')),
    );
    if (missing.length > 0)
      problems.push(`Access-Control-Allow-Headers does not allow ${missing.join(', ')}`);
    // POST is a CORS-safelisted method: it needs no Access-Control-Allow-Methods entry.
    if (problems.length > 0) t.violated(`preflight from ${origin}: ${problems.join('; ')}`);
    else t.conforms(`the preflight from ${origin} allows POST with ${requested.join(', ')}`);
  },
});

export const RS_CORS_02 = defineCheck({
  id: 'RS-CORS-02',
  title: 'A cross-origin 401 lets the browser read WWW-Authenticate',
  level: 'SHOULD',
  refs: [...REFS, 'Fetch standard §3.2.3 (Access-Control-Expose-Headers)', 'RFC9728 §5.1'],
  derived:
    'No MCP sentence mentions CORS; a browser client reads WWW-Authenticate of a cross-origin 401 (to find resource_metadata) only when the response exposes it (Fetch, CORS protocol).',
  quotes: [
    {
      source: 'Fetch',
      section: 'CORS protocol: HTTP responses',
      text: 'Indicates which headers can be exposed as part of the response by listing their names.',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: [],
  faults: ['rs-cors-no-expose'],
  requirement:
    'The 401 to a cross-origin MCP request without credentials carries Access-Control-Allow-Origin for the requesting origin (or *) and lists WWW-Authenticate (or *) in Access-Control-Expose-Headers; otherwise a browser client sees the 401 but not the challenge that names the metadata and the scopes.',
  remediation:
    'Add Access-Control-Allow-Origin: <origin> and Access-Control-Expose-Headers: WWW-Authenticate (plus Mcp-Session-Id, MCP-Protocol-Version) to every MCP endpoint answer, 401s included.',
  probe: 'POST the protected request without Authorization, with an Origin header.',
  control:
    'None: the check judges the CORS headers on the anonymous 401 it receives, not whether the request was refused.',
  async run(t) {
    const answer = await withAcceptedOrigin(
      t,
      async (origin) =>
        (
          await mcpCall(t.http, t.target, t.revision, {
            ...(await protectedRequest(t, `anonymous MCP request (Origin ${origin})`)),
            headers: [['origin', origin]],
          })
        ).response,
    );
    if (!answer) return;
    const { origin, response } = answer;
    t.data('response', {
      status: response.status,
      allowOrigin: response.headers.get('access-control-allow-origin'),
      exposeHeaders: response.headers.get('access-control-expose-headers'),
    });
    if (response.status !== 401) {
      t.notApplicable(
        `the cross-origin request without credentials was answered ${response.status}, not 401 (see RS-401-01)`,
      );
      return;
    }
    const problems: string[] = [];
    if (!allowsOrigin(response, origin))
      problems.push(
        `Access-Control-Allow-Origin is ${JSON.stringify(response.headers.get('access-control-allow-origin'))}, not ${origin} or *, so the browser hides the whole answer`,
      );
    const exposed = listOf(response, 'access-control-expose-headers');
    if (!exposed.includes('www-authenticate') && !exposed.includes('*'))
      problems.push(
        `Access-Control-Expose-Headers (${JSON.stringify(response.headers.get('access-control-expose-headers'))}) does not list WWW-Authenticate`,
      );
    if (problems.length > 0) t.violated(`the 401 to ${origin}: ${problems.join('; ')}`);
    else t.conforms(`the 401 to ${origin} exposes WWW-Authenticate`);
    if (exposed.includes('*') && !exposed.includes('www-authenticate'))
      t.note('Access-Control-Expose-Headers: * works only for requests without credentials mode "include"');
  },
});

export const RS_CORS_03 = defineCheck({
  id: 'RS-CORS-03',
  title: 'The protected-resource metadata is readable cross-origin',
  level: 'SHOULD',
  refs: [...REFS, 'RFC9728 §3'],
  derived:
    'No MCP sentence mentions CORS; a browser client reads the protected-resource metadata cross-origin only when its response allows the origin (Fetch, CORS protocol).',
  quotes: [
    {
      source: 'Fetch',
      section: 'CORS protocol: HTTP responses',
      text: 'Indicates whether the response can be shared, via returning the literal value of the Origin request header (which can be null) or * in a response.',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-no-cors'],
  requirement:
    'A GET of the protected-resource metadata with a foreign Origin is answered with Access-Control-Allow-Origin: * (or that origin): the document is public and a browser client must read it to find the authorization server. A preflight for the MCP-Protocol-Version header that SDK clients add is reported as a note (the SDKs retry without the header).',
  remediation:
    'Serve the metadata with Access-Control-Allow-Origin: *, and answer OPTIONS on it allowing GET and the MCP-Protocol-Version header.',
  probe: 'GET the metadata URL with a foreign Origin; OPTIONS it for GET with MCP-Protocol-Version.',
  control: 'None: the check judges the CORS headers of the metadata answer, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prmUrl) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const [get, preflight] = await Promise.all([
      t.http.request(prm.prmUrl, {
        headers: { origin: FOREIGN_ORIGIN, accept: 'application/json' },
        label: 'PRM read cross-origin',
      }),
      t.http.request(prm.prmUrl, {
        method: 'OPTIONS',
        headers: {
          origin: FOREIGN_ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'mcp-protocol-version',
        },
        label: 'CORS preflight of the PRM',
      }),
    ]);
    t.data('get', { status: get.status, allowOrigin: get.headers.get('access-control-allow-origin') });
    const preflightOk =
      preflight.status >= 200 &&
      preflight.status <= 299 &&
      allowsOrigin(preflight, FOREIGN_ORIGIN) &&
      listOf(preflight, 'access-control-allow-headers').some(
        (h) => h === 'mcp-protocol-version' || h === '*',
      );
    t.data('preflight', { status: preflight.status, allowsMcpProtocolVersion: preflightOk });
    if (!preflightOk)
      t.note(
        `the preflight for MCP-Protocol-Version is not allowed (${preflight.status}); browser SDK clients must retry the metadata GET without that header`,
      );
    if (get.status !== 200) {
      t.notApplicable(`the cross-origin GET of ${prm.prmUrl} was answered ${get.status} (see RS-PRM-02)`);
      return;
    }
    if (allowsOrigin(get, FOREIGN_ORIGIN)) t.conforms(`${prm.prmUrl} is readable from ${FOREIGN_ORIGIN}`);
    else
      t.violated(
        `${prm.prmUrl} answers a cross-origin GET with Access-Control-Allow-Origin ${JSON.stringify(get.headers.get('access-control-allow-origin'))}, so browser clients cannot read it`,
      );
  },
});

export const checks = [RS_CORS_01, RS_CORS_02, RS_CORS_03];
