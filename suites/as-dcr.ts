// AS — Dynamic Client Registration (RFC 7591). Requirements §2.10, rows AS-DCR-*.
// Applicability: SHOULD in 2025-06-18, MAY in 2025-11-25, MAY and deprecated in 2026-07-28
// (requirements §3 A15). Every check runs only when the metadata names a registration_endpoint;
// otherwise it skips (AS-META-10 judges whether the endpoint should have been advertised).
//
// Registrations are real: each probe that the AS accepts leaves a client behind at the AS. They
// are public clients with a loopback redirect URI that nothing listens on.

import { defineCheck, type CheckContext } from '../runner/check.ts';
import type { HttpResponse } from '../runner/http.ts';
import type { AuthorizationServer } from '../runner/oauth.ts';
import { REVISIONS, since } from '../runner/revisions.ts';
import { authorizationProbe, describeOutcome, discoveredAs } from './as-cimd.ts';

/** The registration request of requirements AS-DCR-01: a public native client, loopback redirect. */
export function catalogueRegistration(clientName: string): Record<string, unknown> {
  return {
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: clientName,
    application_type: 'native',
  };
}

/** Client metadata members RFC 7591 §2 defines (the ones a registration response must return). */
const RFC7591_MEMBERS = new Set([
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'tos_uri',
  'policy_uri',
  'jwks_uri',
  'jwks',
  'software_id',
  'software_version',
]);

/** The AS and its registration endpoint, or undefined after recording why the check skips. */
async function registrationTarget(
  t: CheckContext,
): Promise<{ as: AuthorizationServer; endpoint: string } | undefined> {
  const as = await discoveredAs(t);
  if (!as) return undefined;
  const endpoint = as.metadata.registration_endpoint;
  if (typeof endpoint !== 'string') {
    t.notApplicable(
      'the authorization server advertises no registration_endpoint (DCR is optional; see AS-META-10)',
    );
    return undefined;
  }
  return { as, endpoint };
}

/** POSTs client metadata as JSON (RFC 7591 §3.1). */
function register(
  t: CheckContext,
  endpoint: string,
  metadata: unknown,
  label: string,
): Promise<HttpResponse> {
  return t.http.request(endpoint, {
    method: 'POST',
    json: metadata,
    headers: { accept: 'application/json' },
    label,
  });
}

/**
 * The control of registrations that must be refused (issue #12 §1): the same registration without
 * the one defect (the catalogue registration) is accepted at that moment. Otherwise the refusals
 * prove nothing: this records "control failed: …" (the check ends skip) and returns false.
 */
async function registrationAccepted(t: CheckContext, endpoint: string, what: string): Promise<boolean> {
  const res = await register(
    t,
    endpoint,
    catalogueRegistration('mcp-auth-conformance (control)'),
    'DCR: the same registration without the defect (control)',
  );
  t.data('control', { status: res.status, exchange: res.exchange.id });
  if (res.status >= 200 && res.status < 300 && typeof jsonObject(res)?.client_id === 'string') return true;
  const error = errorCode(res);
  t.inconclusive(
    `control failed: ${what} were refused, but so was the same registration without the defect (HTTP ${res.status}${error ? ` error=${error}` : ''}), so the refusals are not shown to be about the defect`,
  );
  return false;
}

function jsonObject(res: HttpResponse): Record<string, unknown> | undefined {
  const body = res.json();
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

function errorCode(res: HttpResponse): string | undefined {
  const code = jsonObject(res)?.error;
  return typeof code === 'string' ? code : undefined;
}

const DCR_REFS = 'RFC7591 §3.2.1';

export const AS_DCR_01 = defineCheck({
  id: 'AS-DCR-01',
  title: 'Registration answers 201 Created with a client_id',
  level: 'MUST',
  refs: ['RFC7591 §3.1', DCR_REFS],
  quotes: [
    {
      source: 'RFC 7591',
      section: '3.2.1',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: 'client_id REQUIRED. OAuth 2.0 client identifier string.',
    },
    {
      source: 'RFC 7591',
      section: '3.2',
      binds: 'context',
      text: 'The server responds with an HTTP 201 Created status code and a body of type "application/json" with content as described in Section 3.2.1.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-200'],
  requirement:
    'A POST of JSON client metadata to the registration endpoint is answered 201 Created with a JSON object that carries the issued client_id.',
  remediation:
    'Answer successful registrations with status 201, Content-Type application/json and a client_id member.',
  probe:
    'POST the catalogue registration (public native client, http://127.0.0.1/cb) to registration_endpoint.',
  control:
    'None: the probe is the plain registration every MCP client sends, nothing changed; the check judges its answer (201 and a client_id), and a refusal of it is the defect itself, with no smaller request to compare it with.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const res = await register(
      t,
      target.endpoint,
      catalogueRegistration('mcp-auth-conformance (AS-DCR-01)'),
      'DCR: catalogue registration',
    );
    const body = jsonObject(res);
    const problems: string[] = [];
    if (res.status !== 201) problems.push(`status is ${res.status}, not 201`);
    if (!body) problems.push('the body is not a JSON object');
    else if (typeof body.client_id !== 'string' || body.client_id === '')
      problems.push('there is no string client_id');
    if (problems.length > 0) t.violated(`registration at ${target.endpoint}: ${problems.join('; ')}`);
    else t.conforms(`201 Created with client_id`);
  },
});

export const AS_DCR_02 = defineCheck({
  id: 'AS-DCR-02',
  title: 'The registration response returns all registered metadata',
  level: 'MUST',
  refs: [DCR_REFS],
  quotes: [
    {
      source: 'RFC 7591',
      section: '3.2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Additionally, the authorization server MUST return all registered metadata about this client, including any fields provisioned by the authorization server itself.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-metadata-not-echoed'],
  requirement:
    'The registration response contains every registered metadata member, including values the AS substituted, so the client knows e.g. which token_endpoint_auth_method it must use.',
  remediation:
    'Return the full registered client metadata (as stored, after any substitution) in the 201 response.',
  probe: 'POST the catalogue registration; compare the members sent with those returned.',
  control: 'None: the check compares the members of an accepted registration with those sent, not a refusal.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const sent = catalogueRegistration('mcp-auth-conformance (AS-DCR-02)');
    const res = await register(t, target.endpoint, sent, 'DCR: metadata echo');
    const body = jsonObject(res);
    if (res.status < 200 || res.status >= 300 || !body) {
      t.notApplicable(`the registration was not accepted (HTTP ${res.status}; see AS-DCR-01)`);
      return;
    }
    // RFC 7591 §2: the AS "MUST ignore any client metadata sent by the client that it does not
    // understand", so a member defined elsewhere (application_type is OpenID Connect Dynamic Client
    // Registration §2) may be left out: it was never registered. Only RFC 7591 §2 members must come back.
    const ignorable = Object.keys(sent).filter((k) => !(k in body) && !RFC7591_MEMBERS.has(k));
    if (ignorable.length > 0)
      t.note(`the AS left out ${ignorable.join(', ')} (not an RFC 7591 member, so it may ignore it)`);
    const missing = Object.keys(sent).filter((k) => !(k in body) && RFC7591_MEMBERS.has(k));
    const changed = Object.keys(sent).filter(
      (k) => k in body && JSON.stringify(body[k]) !== JSON.stringify(sent[k]),
    );
    t.data('changed', changed);
    if (changed.length > 0)
      t.note(`the AS changed (substituted) ${changed.join(', ')}: a client must use the returned values`);
    if (missing.length > 0) t.violated(`the response leaves out registered members: ${missing.join(', ')}`);
    else
      t.conforms(
        `all ${Object.keys(sent).filter((k) => RFC7591_MEMBERS.has(k)).length} RFC 7591 members sent come back${changed.length ? ' (some substituted)' : ''}`,
      );
  },
});

export const AS_DCR_03 = defineCheck({
  id: 'AS-DCR-03',
  title: 'An issued client_secret comes with client_secret_expires_at and Cache-Control: no-store',
  level: 'MUST',
  refs: [
    `${DCR_REFS} (client_secret_expires_at REQUIRED if client_secret is issued)`,
    'OAuth 2.1 §3.2.3 (no-store for credentials)',
  ],
  quotes: [
    {
      source: 'RFC 7591',
      section: '3.2.1',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: 'client_secret_expires_at REQUIRED if "client_secret" is issued.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '3.2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST include the HTTP Cache-Control response header field (see Section 5.2 of [RFC9111]) with a value of no-store in any response containing tokens, credentials, or other sensitive information.',
    },
  ],

  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-no-secret-expiry', 'as-dcr-no-cache-control'],
  requirement:
    'When the registration response issues a client_secret, it also states client_secret_expires_at (0 = never), and the response, which carries a credential, is sent with Cache-Control: no-store.',
  remediation:
    'Add client_secret_expires_at next to every issued secret, and send Cache-Control: no-store on registration responses.',
  probe: 'POST the catalogue registration with token_endpoint_auth_method client_secret_basic.',
  control:
    'None: the check judges an accepted confidential registration (client_secret_expires_at, Cache-Control), not a refusal.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const res = await register(
      t,
      target.endpoint,
      {
        ...catalogueRegistration('mcp-auth-conformance (AS-DCR-03)'),
        token_endpoint_auth_method: 'client_secret_basic',
      },
      'DCR: confidential client',
    );
    const body = jsonObject(res);
    if (res.status < 200 || res.status >= 300 || !body) {
      t.notApplicable(
        `a confidential client was not registered (HTTP ${res.status}): the AS may accept public clients only`,
      );
      return;
    }
    if (typeof body.client_secret !== 'string') {
      t.notApplicable('the AS issued no client_secret (it registered the client without a secret)');
      return;
    }
    const problems: string[] = [];
    if (typeof body.client_secret_expires_at !== 'number')
      problems.push('client_secret_expires_at is missing');
    const cacheControl = res.headers.get('cache-control') ?? '';
    if (!/\bno-store\b/i.test(cacheControl))
      problems.push(`Cache-Control is "${cacheControl || '(none)'}", not no-store`);
    if (problems.length > 0) t.violated(`a client_secret was issued, but ${problems.join('; ')}`);
    else
      t.conforms(
        `client_secret_expires_at=${String(body.client_secret_expires_at)}, Cache-Control: ${cacheControl}`,
      );
  },
});

export const AS_DCR_04 = defineCheck({
  id: 'AS-DCR-04',
  title: 'Invalid redirect URIs are refused with invalid_redirect_uri',
  level: 'MUST',
  refs: [
    'RFC7591 §3.2.2',
    'MCP 2025-06-18 §Communication Security (redirect URIs localhost or https)',
    'OAuth 2.1 §2.3.1',
  ],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.6',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'To this end, authorization servers MUST NOT allow redirect URIs that use the http scheme except for native clients that use Loopback Interface Redirection as described in [RFC8252], Section 7.3.',
    },
    {
      source: 'RFC 7591',
      section: '5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Additionally, in order to prevent hijacking of the return values of the redirection, registered redirection URI values MUST be one of:',
    },
    {
      source: 'RFC 7591',
      section: '3.2.2',
      binds: 'context',
      text: 'invalid_redirect_uri The value of one or more redirection URIs is invalid.',
    },
  ],

  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-http-redirect-accepted', 'as-dcr-dangerous-scheme-accepted'],
  requirement:
    'Registration refuses redirect URIs that are plain http on a non-loopback host, javascript: or data: URIs, relative references, or carry a fragment, with 400 and error invalid_redirect_uri.',
  remediation:
    'Accept only absolute https redirect URIs, or http on a loopback host, without a fragment; answer 400 {"error":"invalid_redirect_uri"} otherwise.',
  probe:
    'One registration per redirect URI: http://evil.example/cb, javascript:alert(1), data:,x, /cb, https://h.example/cb#frag.',
  control:
    'The same registration with a valid redirect URI (the catalogue registration), after the probes: accepted, it shows the refusals are about the invalid redirect URIs. A registration accepted needs no control.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const uris = [
      'http://evil.example/cb',
      'javascript:alert(1)',
      'data:,x',
      '/cb',
      'https://h.example/cb#frag',
    ];
    const rows = await Promise.all(
      uris.map(async (uri) => {
        const res = await register(
          t,
          target.endpoint,
          { ...catalogueRegistration('mcp-auth-conformance (AS-DCR-04)'), redirect_uris: [uri] },
          `DCR: redirect URI ${uri}`,
        );
        return { uri, status: res.status, error: errorCode(res), exchange: res.exchange.id };
      }),
    );
    t.data(
      'probes',
      rows.map(({ exchange: _, ...r }) => r),
    );
    for (const r of rows) {
      if (r.status >= 200 && r.status < 300) {
        t.violated(`${r.uri} was registered (HTTP ${r.status})`, { exchanges: [r.exchange] });
      } else if (r.status !== 400 || r.error !== 'invalid_redirect_uri') {
        t.note(
          `${r.uri}: refused with HTTP ${r.status} error=${r.error ?? '(none)'}; RFC 7591 §3.2.2 names 400 invalid_redirect_uri`,
        );
      }
    }
    if (
      rows.every((r) => r.status < 200 || r.status >= 300) &&
      (await registrationAccepted(t, target.endpoint, 'the registrations with invalid redirect URIs'))
    )
      t.conforms(`all ${rows.length} invalid redirect URIs were refused`);
  },
});

export const AS_DCR_05 = defineCheck({
  id: 'AS-DCR-05',
  title: 'Invalid client metadata is refused or replaced, never kept',
  level: 'SHOULD',
  refs: ['RFC7591 §3.2.2', 'RFC7591 §2'],
  quotes: [
    {
      source: 'RFC 7591',
      section: '2',
      keyword: 'MAY',
      binds: 'authorization-server',
      text: 'The authorization server MAY reject any requested client metadata values by replacing requested values with suitable defaults as described in Section 3.2.1 or by returning an error response as described in Section 3.2.2.',
    },
    {
      source: 'RFC 7591',
      section: '3.2.2',
      binds: 'context',
      text: 'invalid_client_metadata The value of one of the client metadata fields is invalid and the server has rejected this request.',
    },
  ],
  derived:
    'RFC 7591 §2 lets the AS reject requested metadata values by replacing them with defaults or by returning an error (MAY); no sentence forbids keeping an invalid value, but a registration that keeps one the AS cannot honour (an implicit response type, an unknown auth method) yields a client that cannot work as registered.',
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-metadata-unchecked'],
  requirement:
    'Registration with invalid metadata (a member of the wrong JSON type, an unsupported token_endpoint_auth_method, response_types ["token"]) is refused with 400 invalid_client_metadata, or the AS substitutes a valid value and returns it; it never registers the invalid value.',
  remediation:
    'Validate each metadata member; answer 400 {"error":"invalid_client_metadata"} or register and return a corrected value.',
  probe:
    'Three registrations: client_name 42, token_endpoint_auth_method "client_secret_unknown", response_types ["token"].',
  control:
    'When an invalid value is refused: the same registration with valid metadata (the catalogue registration), after the probes, is accepted, which shows the refusals are about the invalid values. A value kept, or replaced, needs no control.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const probes: [string, string, unknown][] = [
      ['client_name of type number', 'client_name', 42],
      ['unsupported token_endpoint_auth_method', 'token_endpoint_auth_method', 'client_secret_unknown'],
      ['response_types ["token"]', 'response_types', ['token']],
    ];
    const rows = await Promise.all(
      probes.map(async ([name, member, value]) => {
        const res = await register(
          t,
          target.endpoint,
          { ...catalogueRegistration('mcp-auth-conformance (AS-DCR-05)'), [member]: value },
          `DCR: ${name}`,
        );
        const body = jsonObject(res);
        const accepted = res.status >= 200 && res.status < 300;
        const kept = accepted && body !== undefined && JSON.stringify(body[member]) === JSON.stringify(value);
        return { name, status: res.status, error: errorCode(res), accepted, kept, exchange: res.exchange.id };
      }),
    );
    t.data(
      'probes',
      rows.map(({ exchange: _, ...r }) => r),
    );
    for (const r of rows) {
      if (r.kept)
        t.violated(`${r.name}: registered and returned unchanged (HTTP ${r.status})`, {
          exchanges: [r.exchange],
        });
      else if (!r.accepted && r.error !== 'invalid_client_metadata')
        t.note(
          `${r.name}: refused with HTTP ${r.status} error=${r.error ?? '(none)'}; RFC 7591 §3.2.2 names invalid_client_metadata`,
        );
    }
    // A value replaced needs no control; a refusal is about the value only if the same
    // registration without it is accepted.
    if (
      !rows.some((r) => r.kept) &&
      (rows.every((r) => r.accepted) ||
        (await registrationAccepted(t, target.endpoint, 'the registrations with invalid metadata')))
    )
      t.conforms('each invalid value was refused or replaced');
  },
});

export const AS_DCR_06 = defineCheck({
  id: 'AS-DCR-06',
  title: 'Registration is open (no initial access token needed)',
  level: 'SHOULD',
  refs: ['RFC7591 §3 (open registration MAY be offered)', 'MCP 2025-06-18 §Dynamic Client Registration'],
  quotes: [
    {
      source: 'RFC 7591',
      section: '3',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'To support open registration and facilitate wider interoperability, the client registration endpoint SHOULD allow registration requests with no authorization (which is to say, with no initial access token in the request).',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-dcr-initial-token-required'],
  requirement:
    'MCP clients cannot obtain an initial access token, so the registration endpoint accepts registrations without one (rate limiting is allowed). A 401/403 is reported as a warning: it is a policy choice, but MCP clients cannot register.',
  remediation:
    'Allow registration without an initial access token; protect the endpoint with rate limits instead.',
  probe: 'POST the catalogue registration without any Authorization header.',
  control:
    'None: the probe is the plain registration every MCP client sends (no initial access token); a 401 or 403 is what such a client meets, and the request with a token, which the harness does not hold, is not needed to say that it cannot register.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const res = await register(
      t,
      target.endpoint,
      catalogueRegistration('mcp-auth-conformance (AS-DCR-06)'),
      'DCR: open registration',
    );
    t.data('status', res.status);
    if (res.status === 401 || res.status === 403)
      t.violated(
        `registration without an initial access token is refused with ${res.status}: MCP clients cannot register`,
      );
    else if (res.status >= 200 && res.status < 300)
      t.conforms(`registration without a token answered ${res.status}`);
    else t.observe(`registration answered ${res.status} (see AS-DCR-01); not an access refusal`);
  },
});

export const AS_DCR_07 = defineCheck({
  id: 'AS-DCR-07',
  title: 'A native client with a loopback redirect URI can register',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Client Registration (application_type)', 'RFC8252 §7.3', 'OIDC Registration §2'],
  quotes: [
    {
      source: 'MCP 2026-07-28',
      section: 'Application Type and Redirect URI Constraints',
      keyword: 'MUST',
      binds: 'client',
      text: 'MCP clients MUST specify an appropriate application_type during Dynamic Client Registration.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Application Type and Redirect URI Constraints',
      binds: 'context',
      text: 'When authorization servers support OpenID Connect (OIDC) and Dynamic Client Registration, they may enforce additional constraints on redirect URIs based on the application_type parameter as defined in OpenID Connect Dynamic Client Registration 1.0.',
    },
    {
      source: 'RFC 8252',
      section: '7.3',
      keyword: 'MUST',
      binds: 'context',
      text: 'The authorization server MUST allow any port to be specified at the time of the request for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral port from the operating system at the time of the request.',
    },
  ],
  derived:
    'MCP 2026-07-28 has MCP clients register native-style loopback redirect URIs with application_type "native", and OAuth 2.1 §8.4.2 and RFC 8252 §7.3 define loopback redirects for native apps; no sentence obliges the AS to accept the registration, but refusing it leaves MCP desktop clients without a way in.',
  revisions: since('2026-07-28'),
  needs: ['as'],
  faults: ['as-dcr-native-loopback-refused'],
  requirement:
    'MCP 2026-07-28 asks desktop and CLI clients to register with application_type "native" and a loopback redirect URI; the AS accepts that combination. Whether "web" with a loopback redirect is accepted is reported, not judged (an OIDC AS may refuse it).',
  remediation:
    'Accept application_type "native" with http://127.0.0.1 / http://[::1] / http://localhost redirect URIs.',
  probe: 'Two registrations with http://127.0.0.1/cb: application_type native, then web.',
  control:
    'None: the probe is the plain registration an MCP client sends (a native client with a loopback redirect URI), nothing changed; its refusal is the defect itself, with no smaller request to compare it with.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    const [native, web] = await Promise.all(
      (['native', 'web'] as const).map((type) =>
        register(
          t,
          target.endpoint,
          { ...catalogueRegistration('mcp-auth-conformance (AS-DCR-07)'), application_type: type },
          `DCR: application_type ${type} with loopback redirect`,
        ),
      ),
    );
    const ok = (r: HttpResponse) => r.status >= 200 && r.status < 300;
    t.data('native', native!.status);
    t.data('web', web!.status);
    t.note(`web + loopback redirect: ${ok(web!) ? 'accepted' : `refused (HTTP ${web!.status})`}`);
    if (ok(native!)) t.conforms('native + loopback redirect registered');
    else
      t.violated(
        `native + loopback redirect refused: HTTP ${native!.status} error=${errorCode(native!) ?? '(none)'}`,
      );
  },
});

export const AS_DCR_08 = defineCheck({
  id: 'AS-DCR-08',
  title: 'Generated client_ids do not look like metadata-document URLs',
  level: 'SHOULD',
  refs: ['CIMD-01 §Security Considerations', 'MCP 2025-11-25 §Client ID Metadata Documents'],
  quotes: [
    {
      source: 'CIMD draft-01',
      section: '6.9',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'If an Authorization Server wishes to support clients using Client ID Metadata Documents as well as clients where the Authorization Server generates the client_id, it SHOULD ensure that the client_id strings it generates do not start with https://.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-dcr-https-client-id'],
  requirement:
    'When the AS supports both DCR and metadata documents, the client_ids it generates do not start with https://, so they can never be mistaken for (or collide with) a metadata-document URL.',
  remediation: 'Generate opaque client_ids without a URL scheme (e.g. a random string with a prefix).',
  probe: 'POST the catalogue registration and inspect the issued client_id.',
  control: 'None: the check judges the shape of the client_id a registration returns, not a refusal.',
  async run(t) {
    const target = await registrationTarget(t);
    if (!target) return;
    if (target.as.metadata.client_id_metadata_document_supported !== true) {
      t.notApplicable(
        'the AS does not advertise metadata-document support, so generated client_ids cannot collide with them',
      );
      return;
    }
    const res = await register(
      t,
      target.endpoint,
      catalogueRegistration('mcp-auth-conformance (AS-DCR-08)'),
      'DCR: client_id shape',
    );
    const clientId = jsonObject(res)?.client_id;
    if (typeof clientId !== 'string') {
      t.notApplicable(`the registration returned no client_id (HTTP ${res.status}; see AS-DCR-01)`);
      return;
    }
    t.data('client_id', clientId);
    if (clientId.toLowerCase().startsWith('https://'))
      t.violated(`the generated client_id "${clientId}" starts with https://`);
    else t.conforms('the generated client_id is not an https URL');
  },
});

export const AS_DCR_09 = defineCheck({
  id: 'AS-DCR-09',
  title: 'No silent redirect to an upstream IdP for a newly registered client (confused deputy)',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Security Considerations (Confused Deputy)',
    'MCP Security Best Practices §Confused Deputy Problem',
  ],
  quotes: [
    {
      source: 'MCP 2025-06-18',
      section: 'Confused Deputy Problem',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP proxy servers using static client IDs MUST obtain user consent for each dynamically registered client before forwarding to third-party authorization servers (which may require additional consent).',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Confused Deputy Problem',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP proxy servers using static client IDs MUST obtain user consent for each dynamically registered client before forwarding to third-party authorization servers (which may require additional consent).',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Confused Deputy Problem',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP proxy servers using static client IDs MUST obtain user consent for each dynamically registered client before forwarding to third-party authorization servers (which may require additional consent).',
    },
  ],

  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-proxy-upstream-no-consent'],
  requirement:
    "An MCP proxy that uses one static client_id at a third-party authorization server obtains consent for each dynamically registered client before forwarding: the first answer to a new client's authorization request is not an immediate redirect to another host. A redirect back to the client (auto-approve) or a page of the AS itself conforms.",
  remediation:
    'Show your own consent page for each dynamically registered client (and remember the consent per client) before redirecting to the upstream authorization server.',
  probe:
    "A well-formed authorization request for the run's freshly registered client; read the Location, never follow it.",
  control:
    "None: the check judges where the first answer to a new client's request points (a redirect to a third party), not a refusal.",
  async run(t) {
    const as = await discoveredAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    const redirectUri = client.redirectUris[0]!;
    const outcome = await authorizationProbe(
      t,
      as,
      client.clientId,
      redirectUri,
      'authorization request of a new client (confused deputy)',
    );
    t.data('outcome', describeOutcome(outcome));
    const elsewhere =
      outcome.kind === 'other' && outcome.location && URL.canParse(outcome.location, outcome.response.url)
        ? new URL(outcome.location, outcome.response.url).origin
        : undefined;
    if (elsewhere && elsewhere !== new URL(redirectUri).origin) {
      t.violated(
        `the first answer for a new client is a redirect to another host (${elsewhere}) without a consent step of the AS`,
        { exchanges: [outcome.exchange] },
      );
    } else {
      t.conforms(`no redirect to a third party: ${describeOutcome(outcome)}`);
    }
  },
});

/** `Set-Cookie` attributes a consent cookie needs (MCP Security Best Practices §Confused Deputy). */
function cookieProblems(setCookie: string): string[] {
  const [pair = '', ...attrs] = setCookie.split(';').map((s) => s.trim());
  const name = pair.split('=')[0] ?? '';
  const has = (attr: RegExp) => attrs.some((a) => attr.test(a));
  const problems: string[] = [];
  if (!name.startsWith('__Host-')) problems.push('no __Host- prefix');
  if (!has(/^secure$/i)) problems.push('not Secure');
  if (!has(/^httponly$/i)) problems.push('not HttpOnly');
  if (!has(/^samesite=(lax|strict)$/i)) problems.push('not SameSite=Lax');
  return problems.length > 0 ? [`cookie ${name}: ${problems.join(', ')}`] : [];
}

export const AS_DCR_10 = defineCheck({
  id: 'AS-DCR-10',
  title: 'The consent page cannot be framed and its cookies are locked down',
  level: 'MUST',
  refs: [
    'MCP Security Best Practices §Confused Deputy Problem (consent cookie security, clickjacking)',
    'RFC9700 §4.16',
  ],
  quotes: [
    {
      source: 'RFC 9700',
      section: '4.16',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST prevent clickjacking attacks.',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The MCP-level consent page MUST:',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The MCP-level consent page MUST:',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The MCP-level consent page MUST:',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If using cookies to track consent decisions, they MUST:',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If using cookies to track consent decisions, they MUST:',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Required Protections',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If using cookies to track consent decisions, they MUST:',
    },
  ],

  revisions: REVISIONS,
  needs: ['as', 'client'],
  faults: ['as-consent-frameable'],
  requirement:
    'The consent page forbids framing (CSP frame-ancestors, or X-Frame-Options DENY/SAMEORIGIN), and any cookie it sets uses the __Host- prefix with Secure, HttpOnly and SameSite=Lax (or Strict). Skipped when the AS shows no consent page even for prompt=consent.',
  remediation:
    "Send Content-Security-Policy: frame-ancestors 'none' (and X-Frame-Options: DENY) on the consent page; set consent cookies as __Host-name=...; Secure; HttpOnly; SameSite=Lax; Path=/.",
  probe: "An authorization request for the run's client with prompt=consent; inspect the page's headers.",
  control: 'None: the check judges the headers of the consent page, not a refusal.',
  async run(t) {
    const as = await discoveredAs(t);
    if (!as) return;
    const client = await t.fixture('client');
    const outcome = await authorizationProbe(
      t,
      as,
      client.clientId,
      client.redirectUris[0]!,
      'consent page (prompt=consent)',
      [['prompt', 'consent']],
    );
    if (outcome.kind !== 'page' || outcome.location) {
      t.notApplicable(
        `no consent page to inspect: the request with prompt=consent ended in ${describeOutcome(outcome)}`,
      );
      return;
    }
    const headers = outcome.response.headers;
    const problems: string[] = [];
    const csp = headers.get('content-security-policy') ?? '';
    const xfo = headers.get('x-frame-options') ?? '';
    const cspForbids = /frame-ancestors\s+('none'|'self')/i.test(csp);
    const xfoForbids = /^(deny|sameorigin)$/i.test(xfo.trim());
    if (!cspForbids && !xfoForbids)
      problems.push('neither CSP frame-ancestors nor X-Frame-Options forbids framing');
    for (const cookie of headers.getAll('set-cookie')) problems.push(...cookieProblems(cookie));
    t.data('frame_protection', { csp: cspForbids, x_frame_options: xfo || null });
    t.data('cookies', headers.getAll('set-cookie').length);
    if (problems.length > 0)
      t.violated(`consent page: ${problems.join('; ')}`, { exchanges: [outcome.exchange] });
    else
      t.conforms(
        'the consent page forbids framing, and sets no cookie without __Host-/Secure/HttpOnly/SameSite',
      );
  },
});

export const checks = [
  AS_DCR_01,
  AS_DCR_02,
  AS_DCR_03,
  AS_DCR_04,
  AS_DCR_05,
  AS_DCR_06,
  AS_DCR_07,
  AS_DCR_08,
  AS_DCR_09,
  AS_DCR_10,
];
