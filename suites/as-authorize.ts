// AS — the authorization endpoint (OAuth 2.1 §3.1, §4.1.1-§4.1.2.1; RFC 8707; RFC 9700).
// Requirements §2.7, rows AS-AUTHZ-*. Every probe is the harness client's valid request with one
// thing changed (suites/as-authorize-probe.ts); no redirect is ever followed.

import { setTimeout as sleep } from 'node:timers/promises';
import { defineCheck } from '../runner/check.ts';
import type { Exchange } from '../runner/http.ts';
import { tokenRequest } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  accepted,
  type AuthzOutcome,
  type AuthzSetup,
  authzSetup,
  controlAccepted,
  buildUrl,
  describe,
  evidence,
  outcomeRow,
  type Param,
  sendRaw,
  sendWithLogin,
  validRequest,
  withParam,
} from './as-authorize-probe.ts';
import { answerOf, decodeJwtToken, describeAnswer } from './as-token-probes.ts';

const AUTHZ_NEEDS = ['prm', 'as', 'client'] as const;

export const AS_AUTHZ_01 = defineCheck({
  id: 'AS-AUTHZ-01',
  title: 'The authorization endpoint accepts GET',
  level: 'MUST',
  refs: ['OAuth 2.1 §3.1 ("MUST support the use of the HTTP GET method")'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST support the use of the HTTP GET method Section 9.3.1 of [RFC9110] for the authorization endpoint and MAY support the POST method (Section 9.3.3 of [RFC9110]) as well.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-authorize-get-refused'],
  requirement:
    'A valid authorization request sent with GET is processed: the answer is a login/consent page (200) or a redirect, never 405 or another refusal of the method.',
  remediation: 'Serve the authorization endpoint for GET (POST support is optional).',
  probe: "GET the authorization endpoint with the harness client's valid request.",
  control:
    'For a refusal other than 405 or 501 (which name the method): the same request sent by POST as a form; accepted, it shows the GET refusal is about the method. An accepted GET needs no control.',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const out = await sendRaw(t, buildUrl(setup.endpoint, params), 'authorization request (GET)');
    t.data('outcome', outcomeRow('valid request', out));
    if (accepted(out) || out.kind === 'redirect') {
      t.conforms(`a valid GET authorization request was answered ${describe(out)}`);
      return;
    }
    if (out.status === 405 || out.status === 501) {
      t.violated(
        `a valid GET authorization request was answered ${describe(out)}: the method is refused`,
        evidence(out),
      );
      return;
    }
    // Another refusal may not be about the method. Control: the same request by POST (form
    // body), which an AS MAY support (OAuth 2.1 §3.1): if that one is accepted, GET is the problem.
    const post = await t.http.request(setup.endpoint, {
      method: 'POST',
      form: params,
      label: 'control: the same request by POST',
    });
    const viaPost = post.status >= 300 && post.status < 400 ? 'a redirect' : `HTTP ${post.status}`;
    if (post.status < 400)
      t.violated(
        `a valid GET authorization request was answered ${describe(out)}, while the same request by POST got ${viaPost}`,
        {
          exchanges: [...evidence(out).exchanges, post.exchange],
        },
      );
    else
      t.inconclusive(
        `control failed: a valid GET authorization request was answered ${describe(out)}, and the same request by POST too (HTTP ${post.status}): the refusal is not about the method`,
      );
  },
});

export const AS_AUTHZ_02 = defineCheck({
  id: 'AS-AUTHZ-02',
  title: 'No CORS on the authorization endpoint',
  level: 'MUST',
  refs: ['OAuth 2.1 §3.1 (the endpoint is for user-agent navigation)', 'RFC9700 §2.6'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'Cross-Origin Resource Sharing [WHATWG.CORS] MUST NOT be supported at the Authorization Endpoint as the client does not access this endpoint directly, instead the client redirects the user agent to it.',
    },
    {
      source: 'RFC 9700',
      section: '2.6',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'However, CORS MUST NOT be supported at the Authorization Endpoint, as the client does not access this endpoint directly; instead, the client redirects the user agent to it.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-authorize-cors'],
  requirement:
    'The authorization endpoint is a page the browser navigates to, not an API: neither a cross-origin request nor a preflight gets `Access-Control-Allow-Origin`, so no script of another origin can read its answer (e.g. a code in a Location).',
  remediation:
    'Remove CORS headers from the authorization endpoint (keep them on metadata and token endpoints only).',
  probe: 'GET a valid request and an OPTIONS preflight, both with Origin: https://evil.example.',
  control: 'None: the check judges the CORS headers of the answers, not a refusal.',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const url = buildUrl(setup.endpoint, params);
    const origin = 'https://evil.example';
    const [get, preflight] = await Promise.all([
      t.http.request(url, { headers: { origin }, label: 'authorization request with a foreign Origin' }),
      t.http.request(url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
        label: 'CORS preflight on the authorization endpoint',
      }),
    ]);
    const rows = [
      { request: 'GET', status: get.status, allowOrigin: get.headers.get('access-control-allow-origin') },
      {
        request: 'OPTIONS',
        status: preflight.status,
        allowOrigin: preflight.headers.get('access-control-allow-origin'),
      },
    ];
    t.data('cors', rows);
    const open = rows.filter((r) => r.allowOrigin !== null);
    if (open.length > 0)
      t.violated(
        open.map((r) => `${r.request} answered Access-Control-Allow-Origin: ${r.allowOrigin}`).join('; '),
        { exchanges: [get.exchange, preflight.exchange] },
      );
    else t.conforms('neither the GET nor the preflight carries Access-Control-Allow-Origin');
  },
});

export const AS_AUTHZ_03 = defineCheck({
  id: 'AS-AUTHZ-03',
  title: 'Missing or unknown response_type is an error redirected to the client with state',
  level: 'MUST',
  refs: ['OAuth 2.1 §4.1.1 (response_type REQUIRED)', 'OAuth 2.1 §4.1.2.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'Values for the error_description parameter MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If an authorization request is missing the response_type parameter, or if the response type is not understood, the authorization server MUST return an error response as described in Section 4.1.2.1.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"state": REQUIRED if a state parameter was present in the client authorization request. The exact value received from the client.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"error": REQUIRED. A single ASCII [USASCII] error code from the following:',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      binds: 'context',
      text: '"invalid_request": The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      binds: 'context',
      text: '"unsupported_response_type": The authorization server does not support obtaining an authorization code using this method.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-response-type-unchecked', 'as-authorize-error-description-unsafe'],
  requirement:
    'Without `response_type` the AS answers `error=invalid_request`; with an unknown value, `error=unsupported_response_type`. Client and redirect URI being valid, the error goes back by redirect to the redirect URI, carrying the `state` sent; no code is issued.',
  remediation:
    'Validate response_type after client_id and redirect_uri, and redirect errors to the client with error and state (and iss).',
  probe: 'Valid request without response_type; and with response_type=unknown_type.',
  control:
    "The same client's valid request without the change (with response_type=code), sent the same way as the probe (raw, or through the login step): accepted, it shows the error answer is about response_type.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    // The codes that fit: §4.1.2.1 defines invalid_request for a missing parameter and for "an
    // invalid parameter value", unsupported_response_type for a method the AS does not support.
    const probes: [string, string | undefined, readonly string[]][] = [
      ['response_type missing', undefined, ['invalid_request']],
      ['response_type=unknown_type', 'unknown_type', ['unsupported_response_type', 'invalid_request']],
    ];
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      probes.map(async ([label, value, expected]) => {
        const { params, state } = await validRequest(setup);
        const url = buildUrl(setup.endpoint, withParam(params, 'response_type', value));
        const out = await sendWithLogin(t, setup, url, `authorization request, ${label}`);
        rows.push(outcomeRow(label, out));
        await judgeErrorRedirect(t, setup, label, out, expected, state);
      }),
    );
    t.data('probes', rows);
  },
});

/**
 * The common verdict of a phase-2 error (valid client and redirect URI): a redirect to the client
 * with an error and the state (OAuth 2.1 §4.1.1 MUST, §4.1.2.1 state REQUIRED). A code is always a
 * violation. Which code is chosen is judged at SHOULD: §4.1.2.1 only defines the codes' meanings.
 */
async function judgeErrorRedirect(
  t: Parameters<typeof AS_AUTHZ_01.run>[0],
  setup: AuthzSetup,
  label: string,
  out: AuthzOutcome,
  expected: readonly string[],
  state: string,
): Promise<void> {
  if (out.code) {
    t.violated(`${label}: a code was issued (${describe(out)})`, evidence(out));
  } else if (!(await controlAccepted(t, setup, label, out))) {
    // The same request without the change was refused too: the answer is not about `label`.
  } else if (out.kind !== 'redirect') {
    t.violated(
      `${label}: answered ${describe(out)}; with a valid client and redirect URI the error must be redirected to the client (OAuth 2.1 §4.1.2.1)`,
      evidence(out),
    );
  } else if (out.params.get('state') !== state) {
    t.violated(`${label}: the error redirect does not return the state sent`, evidence(out));
  } else if (unsafeErrorText(out)) {
    t.violated(`${label}: ${unsafeErrorText(out)} (OAuth 2.1 §4.1.2.1)`, evidence(out));
  } else if (out.error === undefined || !expected.includes(out.error)) {
    t.violated(
      `${label}: error=${out.error ?? '(none)'}, expected ${expected.join(' or ')} (the error code's meaning is defined in OAuth 2.1 §4.1.2.1; its choice is judged as a SHOULD)`,
      { ...evidence(out), level: 'SHOULD' },
    );
  } else {
    t.conforms(`${label}: ${describe(out)} and the state`);
  }
}

/** OAuth 2.1 §4.1.2.1: error and error_description use %x20-21 / %x23-5B / %x5D-7E only. */
const ERROR_TEXT = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

/** Which member of an error redirect has characters outside the allowed set, if any (issue #13 §7). */
function unsafeErrorText(out: AuthzOutcome): string | undefined {
  for (const name of ['error', 'error_description']) {
    const value = out.params.get(name);
    if (value !== null && !ERROR_TEXT.test(value))
      return `${name} carries characters outside %x20-21 / %x23-5B / %x5D-7E (${JSON.stringify(value.slice(0, 80))})`;
  }
  return undefined;
}

export const AS_AUTHZ_04 = defineCheck({
  id: 'AS-AUTHZ-04',
  title: 'response_type=token is refused; no token in any front-channel response',
  level: 'MUST',
  refs: ['OAuth 2.1 §10.1 (implicit grant removed)', 'RFC9700 §2.1.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If an authorization request is missing the response_type parameter, or if the response type is not understood, the authorization server MUST return an error response as described in Section 4.1.2.1.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '10.1',
      binds: 'context',
      text: 'The intent of removing the Implicit grant is to no longer issue access tokens in the authorization response, as such tokens are vulnerable to leakage and injection, and are unable to be sender-constrained to a client. This behavior was indicated by clients using the response_type=token parameter. This value for the response_type parameter is no longer defined in OAuth 2.1.',
    },
    {
      source: 'RFC 9700',
      section: '2.1.2',
      keyword: 'SHOULD NOT',
      binds: 'client',
      text: 'In order to avoid these issues, clients SHOULD NOT use the implicit grant (response type "token") or other response types issuing access tokens in the authorization response, unless access token injection in the authorization response is prevented and the aforementioned token leakage vectors are mitigated.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      binds: 'context',
      text: '"invalid_request": The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-response-type-unchecked'],
  requirement:
    'The implicit grant is gone from OAuth 2.1, so `response_type=token` is a response type the AS does not understand: it answers with an error (unsupported_response_type, or invalid_request for an invalid parameter value), and neither an access token nor a code comes back in the redirect (query or fragment). The error code itself is not judged.',
  remediation: 'Support response_type=code only; answer anything else with unsupported_response_type.',
  probe: 'Valid request with response_type=token.',
  control:
    "When response_type=token is refused: the same client's valid request with response_type=code, sent the same way as the probe, is accepted, which shows the refusal is about the implicit response type. A token or a code in the answer needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const url = buildUrl(setup.endpoint, withParam(params, 'response_type', 'token'));
    const out = await sendWithLogin(t, setup, url, 'authorization request, response_type=token');
    t.data('outcome', outcomeRow('response_type=token', out));
    if (out.params.has('access_token')) {
      t.violated(`an access_token came back in the front channel (${describe(out)})`, evidence(out));
    } else if (out.code) {
      t.violated(`response_type=token was answered with a code (${describe(out)})`, evidence(out));
    } else if (out.kind === 'redirect' && out.error === undefined) {
      t.violated(
        `response_type=token was answered with neither a token nor an error (${describe(out)})`,
        evidence(out),
      );
    } else if (out.kind === 'redirect-elsewhere') {
      t.violated(`the request was redirected to ${describe(out)}`, evidence(out));
    } else if (await controlAccepted(t, setup, 'response_type=token', out)) {
      // Any refusal without a token conforms: §4.1.2.1 defines invalid_request for "an invalid
      // parameter value" as well as unsupported_response_type. It is a refusal of the implicit
      // grant only because the same request with response_type=code was accepted (the control).
      if (out.kind === 'redirect' && out.error !== 'unsupported_response_type')
        t.note(`refused with error=${out.error}; unsupported_response_type is the more specific code`);
      t.conforms(`response_type=token was refused: ${describe(out)}`);
    }
  },
});

export const AS_AUTHZ_05 = defineCheck({
  id: 'AS-AUTHZ-05',
  title: '`state` is returned exactly as sent, in success and error responses',
  level: 'MUST',
  refs: ['OAuth 2.1 §4.1.2 (state REQUIRED if present in the request)', 'OAuth 2.1 §4.1.2.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"state": REQUIRED if the state parameter was present in the client authorization request. The exact value received from the client.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: '"state": REQUIRED if a state parameter was present in the client authorization request. The exact value received from the client.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-state-dropped'],
  requirement:
    'The `state` of the request comes back unchanged (compared after URL-decoding once): with reserved characters, with 512 characters, and on an error response.',
  remediation: 'Copy the state parameter verbatim into every authorization response, success and error.',
  probe:
    'Valid requests with state "a+b/c=d%20~" and a 512-character state; an error request (response_type=unknown_type).',
  control:
    'None: the check judges the state each response returns, not a refusal (the error response is provoked on purpose and only its state is read).',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const long = 'S'.repeat(256) + '-._~'.repeat(64);
    const probes: [string, string, boolean][] = [
      ['reserved characters', 'a+b/c=d%20~', false],
      ['512 characters', long, false],
      ['error response', 'a+b/c=d%20~', true],
    ];
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      probes.map(async ([label, state, error]) => {
        const { params } = await validRequest(setup);
        let p: Param[] = withParam(params, 'state', state);
        if (error) p = withParam(p, 'response_type', 'unknown_type');
        const out = await sendWithLogin(
          t,
          setup,
          buildUrl(setup.endpoint, p),
          `authorization request, state ${label}`,
        );
        rows.push({ ...outcomeRow(label, out), stateReturned: out.params.get('state') === state });
        if (out.kind !== 'redirect') {
          t.note(`${label}: no response to read the state from (${describe(out)})`);
          return;
        }
        const got = out.params.get('state');
        if (got === state) t.conforms(`${label}: state returned exactly`);
        else if (got === null) t.violated(`${label}: the response carries no state`, evidence(out));
        else t.violated(`${label}: state came back as "${got.slice(0, 80)}", not as sent`, evidence(out));
      }),
    );
    t.data('probes', rows);
  },
});

export const AS_AUTHZ_06 = defineCheck({
  id: 'AS-AUTHZ-06',
  title: 'Repeated authorization request parameters are refused',
  level: 'SHOULD',
  refs: ['OAuth 2.1 §3.1 ("Request and response parameters MUST NOT be included more than once")'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.1',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'Request and response parameters defined by this specification MUST NOT be included more than once.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      binds: 'context',
      text: '"invalid_request": The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
    },
  ],
  derived:
    'OAuth 2.1 §3.1 forbids repeating a parameter in the request (a rule on the client that sends it) and §4.1.2.1 names invalid_request for a request that "includes a parameter more than once", but no sentence binds the AS to refuse a repetition, least of all an identical one.',
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-authorize-duplicates-accepted'],
  requirement:
    'A request repeating `state`, `code_challenge`, `redirect_uri` or `client_id` is an error (`invalid_request` by redirect, or an error page when redirect_uri or client_id is the repeated one); no code is issued.',
  remediation: 'Reject any authorization request in which a parameter appears more than once.',
  probe: 'Four valid requests, each with one of state, code_challenge, redirect_uri, client_id sent twice.',
  control:
    "The same client's valid request with each parameter once, sent raw: accepted (a code or a sign-in page), it shows the refusal is about the repeated parameter. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      ['state', 'code_challenge', 'redirect_uri', 'client_id'].map(async (name) => {
        const { params } = await validRequest(setup);
        const value = params.find(([n]) => n === name)![1];
        const url = buildUrl(setup.endpoint, [...params, [name, value]]);
        const out = await sendRaw(t, url, `authorization request, ${name} twice`);
        rows.push(outcomeRow(`${name} twice`, out));
        if (out.code)
          t.violated(
            `${name} sent twice: a code was issued (${describe(out)}). OAuth 2.1 §3.1: "Request and response parameters defined by this specification MUST NOT be included more than once"; §4.1.2.1 defines invalid_request for a request that "includes a parameter more than once". No sentence binds the AS to refuse, so this is a warning`,
            evidence(out),
          );
        else if (out.kind === 'redirect-elsewhere')
          t.violated(`${name} sent twice: redirected to ${describe(out)}`, evidence(out));
        else if (!(await controlAccepted(t, setup, `${name} sent twice`, 'raw'))) return;
        else if (out.kind === 'redirect' && out.error !== 'invalid_request')
          t.violated(
            `${name} sent twice: error=${out.error ?? '(none)'}, expected invalid_request`,
            evidence(out),
          );
        else t.conforms(`${name} twice: ${describe(out)}`);
      }),
    );
    t.data('probes', rows);
  },
});

export const AS_AUTHZ_07 = defineCheck({
  id: 'AS-AUTHZ-07',
  title: 'Unrecognized authorization request parameters are ignored',
  level: 'MUST',
  refs: ['OAuth 2.1 §3.1 ("MUST ignore unrecognized request parameters")'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST ignore unrecognized request parameters sent to the authorization endpoint.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-authorize-unknown-param-rejected'],
  requirement:
    'A valid request with an extra parameter the AS does not know (`foo=bar`) succeeds as if it were absent.',
  remediation: 'Ignore parameters you do not recognise instead of rejecting the request.',
  probe: 'Valid request plus foo=bar.',
  control:
    "The same client's valid request without foo=bar, sent the same way (raw, or through the login step): accepted, it shows a refusal is about foo=bar; only then is it a violation. A code needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const out = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, [...params, ['foo', 'bar']]),
      'authorization request with foo=bar',
    );
    t.data('outcome', outcomeRow('foo=bar', out));
    if (out.code) t.conforms('the request with foo=bar got a code');
    else if (out.kind === 'page' && out.status < 400)
      t.prerequisiteMissing(
        `the authorization server showed a page the login driver could not get past (${describe(out)})`,
        'use --login auto against an AS in test mode, or --login form/browser with a login script',
      );
    // A refusal is blamed on foo=bar only when the same request without it was accepted.
    else if (await controlAccepted(t, setup, 'foo=bar', out))
      t.violated(
        `the request with foo=bar was refused (${describe(out)}), while the same request without it was accepted`,
        evidence(out),
      );
  },
});

export const AS_AUTHZ_08 = defineCheck({
  id: 'AS-AUTHZ-08',
  title: 'A malformed `resource` is refused with invalid_target',
  level: 'SHOULD',
  refs: ['RFC8707 §2 (absolute URI, no fragment)', 'RFC8707 §2.1 (invalid_target)'],
  quotes: [
    {
      source: 'RFC 8707',
      section: '2',
      keyword: 'MUST',
      binds: 'client',
      text: 'Its value MUST be an absolute URI, as specified by Section 4.3 of [RFC3986]. The URI MUST NOT include a fragment component.',
    },
    {
      source: 'RFC 8707',
      section: '2.1',
      binds: 'context',
      text: 'If the authorization server fails to parse the provided value(s) or does not consider the resource(s) acceptable, it should reject the request with an error response using the error code "invalid_target" as the value of the "error" parameter and can provide additional information regarding the reasons for the error using the "error_description".',
    },
  ],
  derived:
    'RFC 8707 §2 requires the client to send an absolute URI without fragment, and §2.1 says the AS "should" (lowercase, not a BCP 14 keyword) reject a resource it fails to parse with invalid_target: refusing is the expected behaviour, not a keyworded duty.',
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-resource-unchecked'],
  requirement:
    'A `resource` that is relative, has a fragment or is not a URI gets `error=invalid_target` (RFC 8707 says the AS SHOULD), and no code is issued for it.',
  remediation: 'Validate resource as an absolute URI without fragment and refuse others with invalid_target.',
  probe: 'Valid requests with resource=/mcp, resource=<target>#x, resource=not a uri.',
  control:
    "The same client's valid request with the MCP endpoint as `resource`, sent the same way as the probe: accepted, it shows the refusal is about the malformed resource. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const values: [string, string][] = [
      ['relative', new URL(setup.resource).pathname || '/mcp'],
      ['with fragment', `${setup.resource}#x`],
      ['not a URI', 'not a uri'],
    ];
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      values.map(async ([label, value]) => {
        const { params } = await validRequest(setup);
        const url = buildUrl(setup.endpoint, withParam(params, 'resource', value));
        const out = await sendWithLogin(t, setup, url, `authorization request, resource ${label}`);
        rows.push(outcomeRow(`resource ${label}`, out));
        if (out.code)
          t.violated(`resource ${label} ("${value}") was accepted: a code was issued`, evidence(out));
        else if (!(await controlAccepted(t, setup, `resource ${label}`, out))) return;
        else if (out.kind === 'redirect' && out.error !== 'invalid_target')
          t.violated(
            `resource ${label}: error=${out.error ?? '(none)'}, expected invalid_target`,
            evidence(out),
          );
        else t.conforms(`resource ${label}: ${describe(out)}`);
      }),
    );
    t.data('probes', rows);
  },
});

export const AS_AUTHZ_09 = defineCheck({
  id: 'AS-AUTHZ-09',
  title: 'Behaviour when `resource` is missing (recorded)',
  level: 'MAY',
  refs: ['RFC8707 §2.1 (the AS may use a default or refuse)'],
  quotes: [
    {
      source: 'RFC 8707',
      section: '2.1',
      keyword: 'MAY',
      binds: 'authorization-server',
      text: 'If the client omits the "resource" parameter when requesting authorization, the authorization server MAY process the request with no specific resource or by using a predefined default resource value. Alternatively, the authorization server MAY require clients to specify the resource(s) they intend to access and MAY fail requests that omit the parameter with an "invalid_target" error.',
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS, 'own-client'],
  faults: [],
  requirement:
    'MAY-level observation: without `resource`, the AS may apply a default resource or refuse with invalid_target. The check records which, and the audience of the token a default yields. No fault: either behaviour is allowed.',
  remediation: 'None required; MCP clients always send resource.',
  probe: 'Valid request without resource; a code is redeemed without resource.',
  control: 'None: the check records what the AS does without `resource` (info), it judges no refusal.',
  async run(t) {
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { params, pkce } = await validRequest(setup);
    const out = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, withParam(params, 'resource', undefined)),
      'authorization request without resource',
    );
    t.data('outcome', outcomeRow('no resource', out));
    if (!out.code) {
      t.observe(`without resource the AS answered ${describe(out)}`);
      return;
    }
    // A raw redemption: what the AS issued is read as it is, not through a strict client library.
    const answer = answerOf(
      await tokenRequest(
        t.http,
        setup.as,
        setup.client,
        [
          ['grant_type', 'authorization_code'],
          ['code', out.code],
          ['code_verifier', pkce.verifier],
          ['redirect_uri', setup.redirectUri],
        ],
        { label: 'token request without resource' },
      ),
    );
    if (answer.accessToken === undefined) {
      t.observe(
        `without resource a code was issued, but redeeming it without resource was refused (${describeAnswer(answer)})`,
      );
      return;
    }
    const jwt = decodeJwtToken(answer.accessToken);
    t.data('aud', jwt ? (jwt.claims.aud ?? null) : '(not a JWT)');
    t.observe(
      jwt
        ? `without resource the AS applied a default: a token was issued with aud ${JSON.stringify(jwt.claims.aud ?? null)}`
        : 'without resource a token was issued; it is opaque, so whether the AS applied a default resource or ignores resource altogether is not visible',
    );
  },
});

export const AS_AUTHZ_10 = defineCheck({
  id: 'AS-AUTHZ-10',
  title: 'No redirect of an erroneous request before the user has signed in',
  level: 'MUST',
  refs: ['OAuth 2.1 §7.12.2', 'MCP 2025-06-18 §Open Redirection'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.12.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The AS MUST always authenticate the user first and, with the exception of the silent authentication use case, prompt the user for credentials when needed, before redirecting the user.',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST take precautions to prevent redirecting user agents to untrusted URI's, following suggestions laid out in OAuth 2.1 Section 7.12.2",
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST take precautions to prevent redirecting user agents to untrusted URI's, following suggestions laid out in OAuth 2.1 Section 7.12.2",
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST take precautions to prevent redirecting user agents to untrusted URI's, following suggestions laid out in OAuth 2.1 Section 7.12.2",
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-error-redirect-before-login'],
  expectedSkipInEmbedded:
    'the embedded reference server auto-approves, so its user always counts as signed in; the test suite runs this check against a reference server with the consent page on',
  requirement:
    'An erroneous request (here: an invalid scope) from a registered client, sent by a browser with no session at the AS, is not redirected to the client at once: the AS first authenticates the user, so an attacker-registered client cannot use it as a silent open redirector.',
  remediation:
    'Show the login (and consent) page before redirecting any error other than a redirect-URI/client error; do not auto-approve in production.',
  probe:
    'Valid request with scope=%%%invalid, no cookies; expect a login page, not a 302 to the redirect URI.',
  control:
    'None: the check judges whether an erroneous request is redirected before any sign-in; whatever the reason, a page is no redirect, so no refusal is taken as proof of anything else.',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const out = await sendRaw(
      t,
      buildUrl(setup.endpoint, withParam(params, 'scope', '%%%invalid')),
      'authorization request, invalid scope, no session',
    );
    t.data('outcome', outcomeRow('scope=%%%invalid, no session', out));
    if (out.kind === 'page') t.conforms(`no redirect before sign-in: ${describe(out)}`);
    else if (out.kind === 'redirect' && out.code !== undefined && out.error === undefined)
      // "%%%invalid" is a syntactically valid scope-token (RFC 6749 §3.3 allows %x25), and an AS
      // MAY ignore scopes it does not know (§3.3), so a code means the request was not erroneous.
      t.notApplicable(
        `the AS granted the request with scope=%%%invalid (${describe(out)}): it ignores unknown scopes (RFC 6749 §3.3 allows that), so no erroneous request was observed; and a success redirect with no sign-in is the AS's auto-approval, which --login auto declares`,
      );
    else
      t.violated(
        `the erroneous request was redirected at once, before any sign-in: ${describe(out)}`,
        evidence(out),
      );
  },
});

export const AS_AUTHZ_11 = defineCheck({
  id: 'AS-AUTHZ-11',
  title: 'The answer to the credential POST is never a 307',
  level: 'MUST',
  refs: ['OAuth 2.1 §7.5.4', 'RFC9700 §4.12'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.5.4',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'An authorization server which redirects a request that potentially contains user credentials MUST NOT use the 307 status code (Section 15.4.8 of [RFC9110]) for redirection.',
    },
    {
      source: 'RFC 9700',
      section: '4.12',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: "Authorization servers that redirect a request that potentially contains the user's credentials therefore MUST NOT use the HTTP 307 status code for redirection.",
    },
  ],
  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS],
  faults: ['as-consent-307'],
  expectedSkipInEmbedded:
    'the embedded reference server auto-approves, so no credentials are posted; test/suites/as-authorize.test.ts runs this check against the reference server with its consent page and the form login script fixtures/login/reference-server.json',
  requirement:
    'When the user posts credentials (or consent) to the authorization server, the redirect that follows is not a 307 or 308: those make the browser re-send the POST body, credentials included, to the client (RFC 9700 §4.12). 303 is the safe answer. Observed on the form POSTs of the login step, so it needs --login form or browser (both record the requests of the login step as exchanges).',
  remediation: 'Answer the login and consent form POSTs with 303 See Other (or 302), never 307/308.',
  probe:
    'A valid authorization request passed through the login driver; every POST to the authorization server is inspected.',
  control: "None: the check judges the statuses of the login step's form POSTs, not a refusal.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { params } = await validRequest(setup);
    const url = buildUrl(setup.endpoint, params);
    const posts: Exchange[] = [];
    const origin = new URL(setup.endpoint).origin;
    const watch = (e: Exchange) => {
      if (
        e.request.method === 'POST' &&
        URL.canParse(e.request.url) &&
        new URL(e.request.url).origin === origin
      )
        posts.push(e);
    };
    let loginError: unknown;
    try {
      await t.authorize(url, { onExchange: watch });
    } catch (err) {
      loginError = err;
    }
    const answered = posts.filter((e) => e.response !== undefined);
    if (answered.length === 0) {
      if (loginError) throw loginError;
      t.notApplicable(
        'the login step posted no form to the authorization server (auto-approve, or --login auto/manual): run with --login form or browser and a login script to observe it',
      );
      return;
    }
    const statuses = answered.map((e) => e.response!.status);
    t.data(
      'credentialPosts',
      answered.map((e) => ({ exchange: e.id, url: e.request.url, status: e.response!.status })),
    );
    const temporary = answered.filter((e) => e.response!.status === 307 || e.response!.status === 308);
    if (temporary.length > 0)
      t.violated(
        `the form POST was answered ${temporary.map((e) => e.response!.status).join(', ')}: the browser would re-send the posted credentials to the redirect target`,
        { exchanges: temporary },
      );
    else t.conforms(`the login step's ${answered.length} POST(s) were answered ${statuses.join(', ')}`);
  },
});

/** OAuth 2.1 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED." */
const RECOMMENDED_MAX_CODE_LIFETIME_SECONDS = 600;

export const AS_AUTHZ_12 = defineCheck({
  id: 'AS-AUTHZ-12',
  title: 'Authorization codes expire shortly (10 minutes at most RECOMMENDED)',
  level: 'SHOULD',
  refs: [
    'OAuth 2.1 §4.1.2 ("MUST expire shortly after it is issued"; "a maximum authorization code lifetime of 10 minutes is RECOMMENDED")',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2',
      keyword: 'RECOMMENDED',
      binds: 'authorization-server',
      text: 'A maximum authorization code lifetime of 10 minutes is RECOMMENDED.',
    },
  ],

  revisions: REVISIONS,
  needs: [...AUTHZ_NEEDS, 'own-client'],
  faults: ['as-code-long-lived'],
  requirement:
    'An authorization code stops being redeemable shortly after issue. "Shortly" (the MUST) has no number; the number is the RECOMMENDED maximum of 10 minutes, so this check is SHOULD-level. Black-box it needs a wait: the operator declares the longest code lifetime they accept with --code-lifetime-wait W (at most 600 s, which tests the RECOMMENDED maximum itself); the check gets a code, waits W seconds and redeems it with an otherwise valid request. Still redeemable: the code outlives W, so it outlives what the operator accepts (with W = 600, the RECOMMENDED maximum) → warn. Refused: its lifetime is under the measured age → pass. Without W the check skips (the embedded run uses W = 2.5 against its 2 s codes). The bindings of §4.1.2 (client, redirect URI, PKCE) are AS-TOKEN-06/-07 and AS-PKCE-05/-06.',
  remediation:
    'Give authorization codes a lifetime of at most 10 minutes (a minute is plenty: clients redeem at once) and refuse an expired code with invalid_grant.',
  probe:
    'Get a code with a valid request, wait --code-lifetime-wait seconds, then redeem it (same client, verifier, redirect_uri and resource).',
  control:
    'A new code of the same client, redeemed at once with the same parameters: a token shows the refusal of the aged code is about its age. An aged code redeemed needs no control.',
  async run(t) {
    const wait = t.options.codeLifetimeWaitSeconds ?? 0;
    if (wait <= 0) {
      t.prerequisiteMissing(
        'the code lifetime is only observable by waiting, and no wait was given',
        `run with --code-lifetime-wait SECONDS (or "codeLifetimeWait" in the config file): the longest code lifetime you accept; ${RECOMMENDED_MAX_CODE_LIFETIME_SECONDS} tests the 10 minutes OAuth 2.1 §4.1.2 RECOMMENDS (the run then takes that long)`,
      );
      return;
    }
    // The check's own client: no other authorization may revoke the code while it ages.
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { params, pkce } = await validRequest(setup);
    const out = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, params),
      'authorization request (a code to let age)',
    );
    if (!out.code) {
      if (out.kind === 'page' && out.status < 400) {
        t.prerequisiteMissing(
          `the authorization server showed a page the login driver could not get past (${describe(out)})`,
          'use --login auto against an AS in test mode, or --login form/browser with a login script',
        );
        return;
      }
      throw new Error(`a valid authorization request got no code, so none could age: ${describe(out)}`);
    }
    // The code was issued before the callback reached the harness, so its age at redemption is at
    // least the time measured from here.
    const received = performance.now();
    await sleep(wait * 1000, undefined, { signal: t.signal });
    const ageSeconds = Math.round((performance.now() - received) / 100) / 10;
    t.data('waitSeconds', wait);
    t.data('codeAgeSeconds', ageSeconds);
    const declared = `the ${wait} s you accept (--code-lifetime-wait)${wait >= RECOMMENDED_MAX_CODE_LIFETIME_SECONDS ? ', the RECOMMENDED maximum' : ''}`;
    const form = (code: string, verifier: string): [string, string][] => [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['code_verifier', verifier],
      ['redirect_uri', setup.redirectUri],
      ['resource', setup.resource],
    ];
    const aged = answerOf(
      await tokenRequest(t.http, setup.as, setup.client, form(out.code, pkce.verifier), {
        label: `token request, the code ${ageSeconds} s after issue`,
      }),
    );
    t.data('redeemed', aged.accessToken !== undefined);
    if (aged.accessToken !== undefined) {
      t.violated(`the code was still redeemed ${ageSeconds} s after issue: it outlives ${declared}`);
      return;
    }
    // Control: a new code of the same client, redeemed at once, works (the refusal is about age).
    const fresh = await validRequest(setup);
    const second = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, fresh.params),
      'control: a new code',
    );
    const control = second.code
      ? answerOf(
          await tokenRequest(t.http, setup.as, setup.client, form(second.code, fresh.pkce.verifier), {
            label: 'control: a new code redeemed at once',
          }),
        )
      : undefined;
    if (control?.accessToken === undefined) {
      t.inconclusive(
        `control failed: the aged code was refused (${describeAnswer(aged)}), but so was a new code of the same client redeemed at once (${control ? describeAnswer(control) : describe(second)})`,
      );
      return;
    }
    if (aged.error !== 'invalid_grant')
      t.note(
        `the refusal is ${describeAnswer(aged)}; OAuth 2.1 §3.2.4 names invalid_grant for an expired code (the shape of token errors is AS-TOKEN-10's to judge)`,
      );
    t.conforms(
      `the code was refused ${ageSeconds} s after issue (${describeAnswer(aged)}), while a new code redeemed at once got a token: its lifetime is within ${declared}`,
    );
  },
});

export const checks = [
  AS_AUTHZ_01,
  AS_AUTHZ_02,
  AS_AUTHZ_03,
  AS_AUTHZ_04,
  AS_AUTHZ_05,
  AS_AUTHZ_06,
  AS_AUTHZ_07,
  AS_AUTHZ_08,
  AS_AUTHZ_09,
  AS_AUTHZ_10,
  AS_AUTHZ_11,
  AS_AUTHZ_12,
];
