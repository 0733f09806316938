// AS — authorization-server metadata (RFC 8414 / OIDC Discovery). Requirements §2.6, rows AS-META-*.
// The `as` fixture is discovery for the first `authorization_servers` entry of the PRM, in the
// MCP order of the revision (requirements §4.4): 2025-06-18 RFC 8414 only; later revisions OAuth
// insert, OIDC insert, OIDC append.

import {
  attemptExchanges,
  attemptsTable,
  assertSomeAnswer,
  describeAttempts,
  jsonObjectAnswer,
} from '../runner/check-helpers.ts';
import { type CheckContext, defineCheck } from '../runner/check.ts';
import { REVISIONS, since } from '../runner/revisions.ts';
import {
  cimdTarget,
  concludesNothing,
  describeOutcome,
  isLoopbackUrl,
  probeValidDocument,
  withHost,
} from './as-cimd.ts';
import { catalogueRegistration } from './as-dcr.ts';
import { authzSetup, describe, evidence, pooledResponses } from './as-authorize-probe.ts';
import { answerOf, describeAnswer, pooledRedemption, sameScope } from './as-token-probes.ts';
import { LoginError } from '../runner/login/index.ts';
import { type AuthorizationServer, OAuthStepError } from '../runner/oauth.ts';

export const AS_META_01 = defineCheck({
  id: 'AS-META-01',
  title: 'Authorization-server metadata is served at a discovery URL of the MCP order',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Authorization Server Discovery (RFC 8414)',
    'MCP 2025-11-25 §Authorization Server Metadata Discovery (RFC 8414 or OIDC Discovery)',
    'RFC8414 §3',
  ],
  quotes: [
    {
      source: 'MCP 2025-06-18',
      section: 'Overview',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST provide OAuth 2.0 Authorization Server Metadata (RFC8414).',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Overview',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP authorization servers MUST provide at least one of the following discovery mechanisms:',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Overview',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP authorization servers MUST provide at least one of the following discovery mechanisms:',
    },
    {
      source: 'RFC 8414',
      section: '3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers supporting metadata MUST make a JSON document containing metadata as specified in Section 2 available at a path formed by inserting a well-known URI string into the authorization server's issuer identifier between the host component and the path component, if any.",
    },
  ],

  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-missing'],
  requirement:
    'The authorization server named in the protected-resource metadata answers 200 with a JSON object at one of the well-known URLs an MCP client tries for the revision (2025-06-18: RFC 8414 only; later: RFC 8414 insert, then OIDC insert, then OIDC append).',
  remediation:
    'Serve RFC 8414 metadata at /.well-known/oauth-authorization-server (inserted before the issuer path, if any).',
  probe: 'GET each metadata URL of the issuer in the MCP order until one answers 200 with a JSON object.',
  control:
    'None: the check judges whether metadata is served at the URLs an MCP client tries, a positive observation; no refusal is taken as proof.',
  async run(t) {
    const as = await t.fixture('as');
    t.data('issuer', as.issuer);
    t.data('attempts', attemptsTable(as.attempts));
    if (as.metadata && as.metadataUrl) {
      t.data('variant', as.variant);
      t.conforms(`metadata for ${as.issuer} found at ${as.metadataUrl} (${as.variant})`);
      return;
    }
    assertSomeAnswer(as.attempts, `the metadata of ${as.issuer}`);
    t.violated(
      `no metadata for ${as.issuer} at any URL an MCP client tries: ${describeAttempts(as.attempts)}`,
      {
        exchanges: attemptExchanges(as.attempts),
      },
    );
  },
});

export const AS_META_02 = defineCheck({
  id: 'AS-META-02',
  title: 'Authorization-server metadata is a JSON object served as application/json with 200',
  level: 'MUST',
  refs: ['RFC8414 §3.2', 'OIDC Discovery §4.2'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '3.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'A successful response MUST use the 200 OK HTTP status code and return a JSON object using the "application/json" content type that contains a set of claims as its members that are a subset of the metadata values defined in Section 2.',
    },
    {
      source: 'RFC 8414',
      section: '3.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Claims with zero elements MUST be omitted from the response.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-wrong-content-type'],
  requirement:
    'The metadata answer is 200 with Content-Type application/json and a JSON object body, and members with zero-element arrays are omitted rather than sent as [].',
  remediation:
    'Answer with status 200, `Content-Type: application/json`, a JSON object, and leave out empty arrays.',
  probe: 'GET the metadata URL found by discovery.',
  control: 'None: the check judges the status, media type and body of the metadata answer, not a refusal.',
  async run(t) {
    const as = await t.fixture('as');
    if (!as.metadataUrl) {
      t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
      return;
    }
    const res = await t.http.request(as.metadataUrl, {
      headers: { accept: 'application/json' },
      label: 'AS metadata (media type)',
    });
    const { problems, body } = jsonObjectAnswer(res);
    if (body) {
      // RFC 8414 §3.2: "Claims with zero elements MUST be omitted from the response."
      const empty = Object.entries(body).filter(([, v]) => Array.isArray(v) && v.length === 0);
      if (empty.length > 0)
        problems.push(
          `members with zero elements are sent instead of omitted: ${empty.map(([k]) => k).join(', ')}`,
        );
    }
    if (problems.length > 0) t.violated(`${as.metadataUrl}: ${problems.join('; ')}`);
    else t.conforms(`${as.metadataUrl} answers 200 application/json with a JSON object`);
  },
});

export const AS_META_03 = defineCheck({
  id: 'AS-META-03',
  title: 'Metadata `issuer` is identical to the issuer the discovery URL was built from',
  level: 'MUST',
  refs: ['RFC8414 §3.3', 'OIDC Discovery §4.3', 'MCP 2026-07-28 §Authorization Server Metadata Discovery'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '3.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The "issuer" value returned MUST be identical to the authorization server\'s issuer identifier value into which the well-known URI string was inserted to create the URL used to retrieve the metadata.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Authorization Server Metadata Discovery',
      keyword: 'MUST NOT',
      binds: 'client',
      text: 'If they differ, the client MUST NOT use the metadata.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-issuer-trailing-slash'],
  requirement:
    'The `issuer` member of the metadata is identical, code point for code point, to the authorization_servers entry the metadata URL was built from; a client must not use metadata whose issuer differs.',
  remediation:
    'Publish `issuer` exactly as the protected-resource metadata names the authorization server (mind trailing slashes and case).',
  probe: 'Compare `issuer` of the discovered metadata with the authorization_servers entry.',
  control: 'None: the check judges what the metadata document says (`issuer`), not a refusal.',
  async run(t) {
    const as = await t.fixture('as');
    if (!as.metadata) {
      t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
      return;
    }
    const issuer = as.metadata.issuer;
    t.data('expected', as.issuer);
    t.data('issuer', issuer ?? null);
    if (issuer === as.issuer) t.conforms(`issuer "${as.issuer}" matches`);
    else if (typeof issuer !== 'string')
      t.violated(`the metadata at ${as.metadataUrl} has no string \`issuer\` member`);
    else
      t.violated(
        `the metadata at ${as.metadataUrl} says issuer "${issuer}", but it was discovered for "${as.issuer}"`,
      );
  },
});

export const AS_META_06 = defineCheck({
  id: 'AS-META-06',
  title: 'Metadata advertises PKCE with S256',
  level: 'MUST',
  refs: ['RFC8414 §2 (code_challenge_methods_supported)', 'MCP 2025-11-25 §Authorization Code Protection'],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST provide a way to detect their support for PKCE.',
    },
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'RECOMMENDED',
      binds: 'authorization-server',
      text: 'It is RECOMMENDED for authorization servers to publish the element code_challenge_methods_supported in their Authorization Server Metadata ([RFC8414]) containing the supported PKCE challenge methods (which can be used by the client to detect PKCE support).',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Authorization Code Protection',
      keyword: 'MUST',
      binds: 'client',
      text: 'Since OAuth 2.1 and PKCE specifications do not define a mechanism for clients to discover PKCE support, MCP clients MUST rely on authorization server metadata to verify this capability:',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Authorization Code Protection',
      keyword: 'MUST',
      binds: 'client',
      text: 'OAuth 2.0 Authorization Server Metadata: If code_challenge_methods_supported is absent, the authorization server does not support PKCE and MCP clients MUST refuse to proceed.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Authorization Code Protection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers providing OpenID Connect Discovery 1.0 MUST include code_challenge_methods_supported in their metadata to ensure MCP compatibility.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Authorization Code Protection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers providing OpenID Connect Discovery 1.0 MUST include code_challenge_methods_supported in their metadata to ensure MCP compatibility.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-metadata-no-s256'],
  requirement:
    '`code_challenge_methods_supported` is present and contains "S256": an MCP client MUST refuse to proceed when it is absent (RFC 8414: absent means PKCE is not supported).',
  remediation: 'Add `"code_challenge_methods_supported": ["S256"]` to the metadata.',
  probe: 'Read code_challenge_methods_supported from the discovered metadata.',
  control:
    'None: the check judges what the metadata document says (`code_challenge_methods_supported`), not a refusal.',
  async run(t) {
    const as = await t.fixture('as');
    if (!as.metadata) {
      t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
      return;
    }
    const methods = as.metadata.code_challenge_methods_supported;
    t.data('code_challenge_methods_supported', methods ?? null);
    if (!Array.isArray(methods))
      t.violated('code_challenge_methods_supported is absent, so MCP clients must refuse this server');
    else if (!methods.includes('S256'))
      t.violated(`code_challenge_methods_supported is ${JSON.stringify(methods)}, without S256`);
    else t.conforms('S256 is advertised');
  },
});

/** The discovered metadata, or undefined after recording that there is none (AS-META-01 judges that). */
async function metadataOf(
  t: CheckContext,
): Promise<{ issuer: string; metadata: Record<string, unknown>; url: string } | undefined> {
  const as = await t.fixture('as');
  if (!as.metadata || !as.metadataUrl) {
    t.notApplicable('no authorization-server metadata was found (see AS-META-01)');
    return undefined;
  }
  return { issuer: as.issuer, metadata: as.metadata, url: as.metadataUrl };
}

/**
 * Why `value` is not an https URL (OAuth 2.1 §1.5). Plain http on a loopback host is accepted as
 * a development setting (the embedded reference server), and `dev` says so.
 */
function httpsProblem(value: unknown): { problem?: string; dev?: boolean } {
  if (typeof value !== 'string' || !URL.canParse(value)) return { problem: 'is not an absolute URL' };
  const url = new URL(value);
  if (url.protocol === 'https:') return {};
  if (url.protocol === 'http:' && isLoopbackUrl(value)) return { dev: true };
  return { problem: `uses ${url.protocol} instead of https:` };
}

export const AS_META_04 = defineCheck({
  id: 'AS-META-04',
  title: 'The issuer is an https URL without query or fragment',
  level: 'MUST',
  refs: ['RFC8414 §2 (issuer)'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: 'issuer REQUIRED. The authorization server\'s issuer identifier, which is a URL that uses the "https" scheme and has no query or fragment components.',
    },
    {
      source: 'RFC 8414',
      section: '3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'This path MUST use the "https" scheme.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-issuer-with-query'],
  requirement:
    'The issuer identifier (the authorization_servers entry, and the `issuer` member of the metadata) is an https URL with no query and no fragment component. Plain http on a loopback host is tolerated as a development setting and noted.',
  remediation:
    'Use an issuer like https://auth.example.com or https://auth.example.com/tenant: https, no "?" and no "#".',
  probe: 'Parse the issuer the metadata was discovered for and the metadata `issuer` member.',
  control: "None: the check judges the issuer's spelling, not a refusal.",
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const values = new Set([
      md.issuer,
      ...(typeof md.metadata.issuer === 'string' ? [md.metadata.issuer] : []),
    ]);
    let dev = false;
    const problems: string[] = [];
    for (const value of values) {
      const scheme = httpsProblem(value);
      dev ||= scheme.dev === true;
      if (scheme.problem) problems.push(`"${value}" ${scheme.problem}`);
      if (value.includes('?')) problems.push(`"${value}" has a query component`);
      if (value.includes('#')) problems.push(`"${value}" has a fragment component`);
    }
    if (dev) t.note('the issuer is plain http on a loopback host: accepted as a development setting only');
    if (problems.length > 0) t.violated(problems.join('; '));
    else t.conforms(`issuer ${[...values].join(' / ')} is well-formed`);
  },
});

export const AS_META_05 = defineCheck({
  id: 'AS-META-05',
  title: 'The metadata holds the required members',
  level: 'MUST',
  refs: ['RFC8414 §2', 'OIDC Discovery §3'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: "authorization_endpoint URL of the authorization server's authorization endpoint [RFC6749]. This is REQUIRED unless no grant types are supported that use the authorization endpoint.",
    },
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: "token_endpoint URL of the authorization server's token endpoint [RFC6749]. This is REQUIRED unless only the implicit grant type is supported.",
    },
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'REQUIRED',
      binds: 'authorization-server',
      text: 'response_types_supported REQUIRED. JSON array containing a list of the OAuth 2.0 "response_type" values that this authorization server supports.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'REQUIRED',
      binds: 'context',
      text: '"response_type": REQUIRED. The authorization endpoint supports different sets of request and response parameters. The client determines the type of flow by using a certain response_type value. This specification defines the value code, which must be used to signal that the client wants to use the authorization code flow.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-incomplete'],
  requirement:
    'authorization_endpoint and token_endpoint are URLs, and response_types_supported is an array containing "code"; a document served at an openid-configuration URL also has jwks_uri, subject_types_supported and id_token_signing_alg_values_supported (OIDC Discovery §3).',
  remediation:
    'Publish authorization_endpoint, token_endpoint and response_types_supported: ["code"] (plus the three OIDC members in an openid-configuration document).',
  probe: 'Read the members of the discovered metadata.',
  control: 'None: the check judges what the metadata document says (its required members), not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const m = md.metadata;
    const problems: string[] = [];
    for (const name of ['authorization_endpoint', 'token_endpoint']) {
      if (typeof m[name] !== 'string' || !URL.canParse(m[name] as string))
        problems.push(`${name} is missing or not a URL`);
    }
    const types = m.response_types_supported;
    if (!Array.isArray(types)) problems.push('response_types_supported is missing');
    else if (!types.includes('code'))
      problems.push(`response_types_supported is ${JSON.stringify(types)}, without "code"`);
    if (md.url.includes('openid-configuration')) {
      for (const name of ['jwks_uri', 'subject_types_supported', 'id_token_signing_alg_values_supported']) {
        if (m[name] === undefined)
          problems.push(`${name} is missing (required in an OIDC Discovery document)`);
      }
    }
    if (problems.length > 0) t.violated(`${md.url}: ${problems.join('; ')}`);
    else t.conforms('the required members are present');
  },
});

const ENDPOINT_MEMBERS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'jwks_uri',
];

export const AS_META_07 = defineCheck({
  id: 'AS-META-07',
  title: 'Every endpoint in the metadata is https',
  level: 'MUST',
  refs: ['OAuth 2.1 §1.5', 'MCP 2025-06-18 §Communication Security'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '1.5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'All the OAuth protocol URLs (URLs exposed by the AS, RS and Client) MUST use the https scheme except for loopback interface redirect URIs, which MAY use the http scheme.',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'All authorization server endpoints MUST be served over HTTPS.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'All authorization server endpoints MUST be served over HTTPS.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'All authorization server endpoints MUST be served over HTTPS.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-http-endpoint'],
  requirement:
    'The authorization, token, registration, revocation, introspection and JWKS URLs the metadata names are https. Plain http on a loopback host is tolerated as a development setting and noted.',
  remediation: 'Serve every endpoint over TLS and publish https URLs.',
  probe: 'Parse every endpoint URL of the discovered metadata.',
  control: 'None: the check judges the endpoint URLs of the metadata document, not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const problems: string[] = [];
    const dev: string[] = [];
    for (const name of ENDPOINT_MEMBERS) {
      if (md.metadata[name] === undefined) continue;
      const scheme = httpsProblem(md.metadata[name]);
      if (scheme.problem) problems.push(`${name} ${String(md.metadata[name])} ${scheme.problem}`);
      if (scheme.dev) dev.push(name);
    }
    if (dev.length > 0) t.note(`plain http on loopback (development setting only): ${dev.join(', ')}`);
    if (problems.length > 0) t.violated(problems.join('; '));
    else t.conforms('every endpoint is https (or loopback http in development)');
  },
});

export const AS_META_08 = defineCheck({
  id: 'AS-META-08',
  title: 'No implicit or password grant is advertised',
  level: 'SHOULD',
  refs: ['OAuth 2.1 §10.1', 'RFC9700 §2.1.2, §2.4', 'RFC8414 §2 (grant_types_supported default)'],
  quotes: [
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
      source: 'RFC 9700',
      section: '2.4',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'The resource owner password credentials grant [RFC6749] MUST NOT be used.',
    },
    {
      source: 'RFC 8414',
      section: '2',
      binds: 'context',
      text: 'If omitted, the default value is "["authorization_code", "implicit"]".',
    },
  ],
  conflict:
    'OIDC Discovery 1.0 §3 requires Dynamic OpenID Providers to support the implicit grant type value (for ID-token flows), while OAuth 2.1 §10.1 and RFC 9700 §2.1.2 retire the implicit grant; an AS that lists implicit but offers no response type issuing an access token satisfies the first and only nominally breaks the second.',
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-implicit-advertised'],
  requirement:
    'The metadata does not advertise the implicit flow (a response type containing "token") or the implicit/password grants, and lists grant_types_supported explicitly, because its RFC 8414 default includes "implicit". A warning: OIDC Discovery requires Dynamic OpenID Providers to list implicit while OAuth 2.1 retires it, so an implicit listed with no response type that issues a token is reported with both sentences.',
  remediation:
    'Publish response_types_supported: ["code"] and grant_types_supported: ["authorization_code", "refresh_token"].',
  probe: 'Read response_types_supported and grant_types_supported.',
  control:
    'None: the check judges what the metadata document says (response and grant types), not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const problems: string[] = [];
    const types = Array.isArray(md.metadata.response_types_supported)
      ? (md.metadata.response_types_supported as unknown[])
      : [];
    const implicitTypes = types.filter((v) => typeof v === 'string' && v.split(' ').includes('token'));
    if (implicitTypes.length > 0)
      problems.push(`response_types_supported includes ${JSON.stringify(implicitTypes)}`);
    const grants = md.metadata.grant_types_supported;
    if (!Array.isArray(grants))
      problems.push(
        'grant_types_supported is absent, so its default ["authorization_code", "implicit"] applies',
      );
    else {
      if (grants.includes('password')) problems.push('grant_types_supported includes password');
      if (grants.includes('implicit'))
        problems.push(
          implicitTypes.length > 0
            ? 'grant_types_supported includes implicit'
            : // The two sentences disagree (the check's `conflict`): quote both, warn.
              'grant_types_supported lists implicit although no response type issues a token; OAuth 2.1 §10.1 retires it ("This value for the response_type parameter is no longer defined in OAuth 2.1"), while OIDC Discovery 1.0 §3 says "Dynamic OpenID Providers MUST support the authorization_code and implicit Grant Type values"',
        );
    }
    if (problems.length > 0) t.violated(problems.join('; '));
    else t.conforms('neither implicit nor password is advertised');
  },
});

/**
 * Does the AS accept a valid metadata document hosted by the harness? Undefined (after recording
 * why nothing can be concluded, and the option that would let it run) when the AS did not, or
 * could not, fetch it (as-cimd.ts probeValidDocument).
 */
async function documentsWork(
  t: CheckContext,
  as: AuthorizationServer,
): Promise<{ fetched: boolean; accepted: boolean; outcome: string } | undefined> {
  return withHost(t, async (host) => {
    const probe = await probeValidDocument(t, as, host, {
      checkId: 'meta',
      label: 'CIMD: is a metadata document used?',
    });
    t.data('client_id', probe.clientId);
    if (concludesNothing(t, probe, host)) return undefined;
    return {
      // Not observable on a folder host: an accepted document there was read by the AS.
      fetched: probe.fetches === undefined ? probe.kind === 'accepted' : probe.fetches > 0,
      accepted: probe.kind === 'accepted',
      outcome: describeOutcome(probe.outcome),
    };
  });
}

export const AS_META_09_A = defineCheck({
  id: 'AS-META-09-A',
  title: 'client_id_metadata_document_supported: true is backed by working metadata documents',
  level: 'MUST',
  refs: ['CIMD-00 §5 (Authorization Server Metadata)', 'MCP 2025-11-25 §Client ID Metadata Documents'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers that publish Authorization Server Metadata [RFC8414] MUST include the following property to signal support for client metadata documents as described in this specification.',
    },
    {
      source: 'CIMD draft-00',
      section: '5',
      keyword: 'OPTIONAL',
      binds: 'context',
      text: 'client_id_metadata_document_supported: OPTIONAL. Boolean value specifying whether the authorization server supports retrieving client metadata from a client_id URL as described in this specification.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP implementations supporting Client ID Metadata Documents MUST follow the requirements specified in OAuth Client ID Metadata Document.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Implementation Requirements',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'MCP implementations supporting Client ID Metadata Documents MUST follow the requirements specified in OAuth Client ID Metadata Document.',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-cimd-disabled'],
  requirement:
    'An AS that publishes client_id_metadata_document_supported: true actually fetches and uses client metadata documents (first half of "published iff supported"; AS-META-09-B is the other half).',
  remediation: 'Either implement metadata-document clients or remove the flag from the metadata.',
  probe:
    'Host a valid document (on a harness loopback listener, or under --cimd-url-base) and send an authorization request with its URL as client_id.',
  control:
    "The harness's own well-formed document is the probe, and its fetch is the control: a refusal counts as the AS's only when the AS fetched the document (or the harness started this AS with loopback fetches allowed); a document never fetched concludes nothing (skip, saying how to publish it).",
  async run(t) {
    const as = await cimdTarget(t);
    if (!as) return;
    const seen = await documentsWork(t, as);
    if (!seen) return;
    t.data('document', seen);
    if (seen.fetched && seen.accepted)
      t.conforms(`the flag is true and a metadata document was fetched and accepted (${seen.outcome})`);
    else
      t.violated(
        `the flag is true, but the harness's document was ${seen.fetched ? 'fetched and refused' : 'never fetched'} (${seen.outcome})`,
      );
  },
});

export const AS_META_09_B = defineCheck({
  id: 'AS-META-09-B',
  title: 'An AS that uses metadata documents says so in its metadata',
  level: 'MUST',
  refs: ['CIMD-00 §5', 'MCP 2025-11-25 §Client Registration (CIMD SHOULD be supported)'],
  quotes: [
    {
      source: 'CIMD draft-00',
      section: '5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers that publish Authorization Server Metadata [RFC8414] MUST include the following property to signal support for client metadata documents as described in this specification.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Client ID Metadata Documents',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'MCP clients and authorization servers SHOULD support OAuth Client ID Metadata Documents as specified in OAuth Client ID Metadata Document.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Client ID Metadata Documents',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'MCP clients and authorization servers SHOULD support OAuth Client ID Metadata Documents as specified in OAuth Client ID Metadata Document for client registration.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Client Registration Approaches',
      keyword: 'SHOULD',
      binds: 'client',
      text: 'Clients supporting all options SHOULD follow the following priority order:',
    },
  ],
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-metadata-no-cimd-flag', 'as-cimd-disabled+as-metadata-no-cimd-flag'],
  // Without metadata documents at all, only the SHOULD to support them is broken.
  faultLevels: { 'as-cimd-disabled+as-metadata-no-cimd-flag': 'SHOULD' },
  requirement:
    'An AS that fetches and accepts client metadata documents publishes client_id_metadata_document_supported: true, since MCP clients only use metadata documents when the flag is there (second half of "published iff supported"). CIMD-00 §5 makes this a MUST for an AS that publishes metadata, and MCP makes an AS that supports metadata documents follow CIMD.',
  remediation: 'Add "client_id_metadata_document_supported": true to the metadata.',
  probe: 'Read the flag; host a valid document and send an authorization request with its URL as client_id.',
  control:
    "The harness's own well-formed document: it counts as used or refused only when the AS fetched it (else nothing is concluded about its use); a missing flag is judged on the metadata alone.",
  async run(t) {
    const as = await cimdTarget(t, { ignoreFlag: true });
    if (!as) return;
    const flag = as.metadata.client_id_metadata_document_supported;
    t.data('flag', flag ?? null);
    const seen = await documentsWork(t, as);
    if (seen) t.data('document', seen);
    if (seen?.fetched && seen.accepted) {
      if (flag !== true)
        t.violated(
          `metadata documents work (${seen.outcome}), but client_id_metadata_document_supported is ${JSON.stringify(flag ?? null)}`,
        );
      else t.conforms('metadata documents work and the flag says so');
    } else if (flag !== true)
      // MCP 2025-11-25 on: authorization servers SHOULD support metadata documents, and MCP
      // clients use them only when the flag says so (issue #13 §7).
      t.violated(
        `the metadata does not advertise client_id_metadata_document_supported (${JSON.stringify(flag ?? null)})${seen ? ` and the harness's document was not used (${seen.outcome})` : ''}: MCP clients cannot register by metadata document, which MCP says authorization servers SHOULD support`,
        { level: 'SHOULD' },
      );
    else
      t.notApplicable(
        `the flag is true but the harness's document was not used${seen ? ` (${seen.outcome})` : ''}: AS-META-09-A judges that`,
      );
  },
});

export const AS_META_10 = defineCheck({
  id: 'AS-META-10',
  title: 'registration_endpoint is advertised when registration works',
  level: 'SHOULD',
  refs: ['RFC8414 §2 (registration_endpoint)', 'MCP 2025-11-25 §Client Registration (priority order)'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'OPTIONAL',
      binds: 'context',
      text: "registration_endpoint OPTIONAL. URL of the authorization server's OAuth 2.0 Dynamic Client Registration endpoint [RFC7591].",
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Client Registration Approaches',
      keyword: 'SHOULD',
      binds: 'client',
      text: 'Clients supporting all options SHOULD follow the following priority order:',
    },
  ],
  derived:
    'No sentence obliges an AS to advertise its registration endpoint (RFC 8414 §2: registration_endpoint is OPTIONAL), but MCP clients find dynamic registration only through registration_endpoint in the metadata, so an AS whose registration works should list it.',
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-no-registration-endpoint'],
  requirement:
    'MCP clients register dynamically only through the registration_endpoint of the metadata, so an AS that supports dynamic registration advertises it. When it is absent, the harness tries the conventional <issuer origin>/register (the 2025-03-26 default endpoint) and reports a working one.',
  remediation: 'Publish "registration_endpoint" in the metadata, or switch registration off entirely.',
  probe:
    'Read registration_endpoint; when absent, POST the catalogue registration to <issuer origin>/register.',
  control:
    'None: only a registration that succeeds at the unadvertised URL is a violation (a positive observation); its refusal is what an AS without registration answers, and nothing more is claimed.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    if (typeof md.metadata.registration_endpoint === 'string') {
      t.conforms(
        `registration_endpoint is ${md.metadata.registration_endpoint} (AS-DCR-* check that it works)`,
      );
      return;
    }
    const guess = `${new URL(md.issuer).origin}/register`;
    const res = await t.http.request(guess, {
      method: 'POST',
      json: catalogueRegistration('mcp-auth-conformance (AS-META-10)'),
      headers: { accept: 'application/json' },
      label: 'unadvertised registration endpoint?',
    });
    const body = res.json() as { client_id?: unknown } | undefined;
    if (res.status >= 200 && res.status < 300 && typeof body?.client_id === 'string')
      t.violated(
        `no registration_endpoint is advertised, yet ${guess} registered a client (HTTP ${res.status})`,
      );
    else
      t.conforms(
        `no registration_endpoint is advertised, and ${guess} does not register clients (HTTP ${res.status})`,
      );
  },
});

export const AS_META_11 = defineCheck({
  id: 'AS-META-11',
  title: 'An AS that returns `iss` advertises authorization_response_iss_parameter_supported',
  level: 'MUST',
  refs: ['RFC9207 §3', 'MCP 2026-07-28 §Authorization Response Validation'],
  quotes: [
    {
      source: 'RFC 9207',
      section: '2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The server MUST indicate its support for the iss parameter by setting the metadata parameter authorization_response_iss_parameter_supported, defined in Section 3, to true.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Authorization Response Validation',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers that include the iss parameter MUST advertise this by setting authorization_response_iss_parameter_supported to true in their metadata (RFC9207 Section 2.3).',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm', 'client'],
  faults: ['as-metadata-no-iss-flag'],
  requirement:
    'Whenever authorization responses carry `iss`, the metadata has authorization_response_iss_parameter_supported: true (RFC 9207 §3: the AS MUST do so when it includes iss).',
  remediation: 'Add "authorization_response_iss_parameter_supported": true to the metadata.',
  probe: 'Run one authorization flow and look for `iss` in the callback; read the flag.',
  control:
    'None: the check judges whether the `iss` seen in a (shared) authorization response is advertised in the metadata, not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const setup = await authzSetup(t);
    if (!setup) return;
    // Read only: the run's pooled success response (shared with AS-ISS-*).
    const { success } = await pooledResponses(t, setup);
    if (success.kind !== 'redirect') {
      t.prerequisiteMissing(
        `no authorization response came back to the client (${describe(success)})`,
        'use --login auto against an AS in test mode, or --login form/browser with a login script',
      );
      return;
    }
    const iss = success.params.get('iss');
    const flag = md.metadata.authorization_response_iss_parameter_supported;
    t.data('iss_in_response', iss !== null);
    t.data('flag', flag ?? null);
    if (iss === null)
      t.notApplicable('the authorization response carries no iss (AS-ISS-* judge whether it should)');
    else if (flag === true) t.conforms('iss is returned and the flag is true');
    else
      t.violated(
        `the authorization response carries iss, but authorization_response_iss_parameter_supported is ${JSON.stringify(flag ?? null)}`,
        evidence(success),
      );
  },
});

export const AS_META_12 = defineCheck({
  id: 'AS-META-12',
  title: 'Public clients: `none` is listed in token_endpoint_auth_methods_supported',
  level: 'SHOULD',
  refs: ['RFC8414 §2 (token_endpoint_auth_methods_supported, default client_secret_basic)', 'RFC7591 §2'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'OPTIONAL',
      binds: 'context',
      text: 'token_endpoint_auth_methods_supported OPTIONAL. JSON array containing a list of client authentication methods supported by this token endpoint. Client authentication method values are used in the "token_endpoint_auth_method" parameter defined in Section 2 of [RFC7591]. If omitted, the default is "client_secret_basic" -- the HTTP Basic Authentication Scheme specified in Section 2.3.1 of OAuth 2.0 [RFC6749].',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Overview',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST implement OAuth 2.1 with appropriate security measures for both confidential and public clients.',
    },
  ],
  derived:
    'RFC 8414 §2 makes client_secret_basic the default when token_endpoint_auth_methods_supported is absent, and MCP clients are mostly public clients (token_endpoint_auth_method "none", RFC 7591 §2), so an AS that serves them should list "none".',
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-no-none-auth'],
  requirement:
    'MCP clients are mostly public clients; the metadata lists "none" in token_endpoint_auth_methods_supported (when the member is absent, RFC 8414 says only client_secret_basic is supported).',
  remediation:
    'Add "none" to token_endpoint_auth_methods_supported if public clients (PKCE, no secret) are accepted.',
  probe: 'Read token_endpoint_auth_methods_supported.',
  control:
    'None: the check judges what the metadata document says (`token_endpoint_auth_methods_supported`), not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const methods = md.metadata.token_endpoint_auth_methods_supported;
    t.data('token_endpoint_auth_methods_supported', methods ?? null);
    if (Array.isArray(methods) && methods.includes('none')) t.conforms('"none" is listed');
    else if (!Array.isArray(methods))
      t.violated(
        'token_endpoint_auth_methods_supported is absent: its default, client_secret_basic, excludes public clients',
      );
    else t.violated(`token_endpoint_auth_methods_supported is ${JSON.stringify(methods)}, without "none"`);
  },
});

export const AS_META_14 = defineCheck({
  id: 'AS-META-14',
  title: 'protected_resources, when listed, includes the MCP server',
  level: 'MAY',
  refs: ['RFC9728 §4 (protected_resources in AS metadata)'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '4',
      keyword: 'OPTIONAL',
      binds: 'authorization-server',
      text: 'protected_resources OPTIONAL. JSON array containing a list of resource identifiers for OAuth protected resources that can be used with this authorization server.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as', 'prm'],
  faults: [],
  requirement:
    "If the AS metadata lists protected_resources, the MCP server's resource identifier is among them. Informational (MAY); no fault turns it red because the member is optional and the reference server does not publish it (untestable by fault injection: only an observation).",
  remediation: "Add the MCP server's resource identifier to protected_resources, or leave the member out.",
  probe: 'Read protected_resources from the AS metadata and resource from the PRM.',
  control: 'None: the check judges what the metadata document says (`protected_resources`), not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const prm = await t.fixture('prm');
    const resource = typeof prm.prm?.resource === 'string' ? prm.prm.resource : t.target;
    const listed = md.metadata.protected_resources;
    t.data('protected_resources', listed ?? null);
    if (!Array.isArray(listed)) t.observe('the AS metadata lists no protected_resources');
    else if (listed.includes(resource)) t.observe(`protected_resources includes ${resource}`);
    else t.violated(`protected_resources ${JSON.stringify(listed)} does not include ${resource}`);
  },
});

export const AS_META_15 = defineCheck({
  id: 'AS-META-15',
  title: 'An AS that issues refresh tokens only for offline_access lists it in scopes_supported',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Refresh Tokens (SEP-2207)', 'RFC8414 §2 (scopes_supported)'],
  quotes: [
    {
      source: 'MCP 2026-07-28',
      section: 'Refresh Tokens',
      keyword: 'MAY',
      binds: 'client',
      text: 'MAY add offline_access to the scope parameter of the authorization and token requests when the Authorization Server metadata contains it in scopes_supported',
    },
    {
      source: 'RFC 8414',
      section: '2',
      keyword: 'RECOMMENDED',
      binds: 'authorization-server',
      text: 'scopes_supported RECOMMENDED. JSON array containing a list of the OAuth 2.0 [RFC6749] "scope" values that this authorization server supports.',
    },
  ],
  derived:
    'MCP 2026-07-28 lets clients add offline_access only when scopes_supported lists it, so an AS that issues refresh tokens only for offline_access must list it there for MCP clients ever to get one.',
  revisions: since('2026-07-28'),
  needs: ['as', 'prm', 'client', 'own-client'],
  faults: ['as-refresh-only-offline-access-unlisted'],
  requirement:
    'MCP clients may add `offline_access` to their scope only when the AS metadata lists it in scopes_supported. So an AS that issues refresh tokens only when `offline_access` is requested lists it there; otherwise MCP clients never get a refresh token. The check runs two flows, with the default scope and with `offline_access` added, records whether each yields a refresh token (data), and warns when only the second does while scopes_supported lacks `offline_access`.',
  remediation:
    'List "offline_access" in scopes_supported of the authorization-server metadata, or issue refresh tokens without it.',
  probe:
    'Two authorization flows of the harness client: default scope, and default scope plus offline_access; compare refresh-token issuance with scopes_supported.',
  control:
    "The flow without offline_access must itself succeed (an access token) for its missing refresh token to count; the same client's flow with offline_access added then shows what that scope changes.",
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const supported = md.metadata.scopes_supported;
    const listed = Array.isArray(supported) && supported.includes('offline_access');
    const base = (await t.fixture('scope')).scope;
    const withOffline = [...new Set([...(base ?? '').split(' ').filter(Boolean), 'offline_access'])].join(
      ' ',
    );
    // Without offline_access: the run's pooled redemption (same scope) answers that already.
    // When its first redemption brought no refresh token and the AS lists offline_access, the
    // pooled probe asked again with offline_access and prompt=consent (offlineAccessRetry): then
    // the scope of its code says so, "without" was not issued, and its answer is one "with".
    const pooled = await pooledRedemption(t, md);
    const pooledTokens = answerOf(pooled.redemption);
    const retried = sameScope(pooled.code.scope, withOffline) && !sameScope(base, withOffline);
    const without = retried
      ? 'not issued'
      : pooledTokens.accessToken === undefined
        ? `the flow failed (${describeAnswer(pooledTokens)})`
        : pooledTokens.refreshToken !== undefined
          ? 'issued'
          : 'not issued';
    // A flow that failed says nothing about refresh tokens: it cannot stand for "not issued".
    if (pooledTokens.accessToken === undefined) {
      t.inconclusive(
        `control failed: the flow without offline_access got no token (${describeAnswer(pooledTokens)}), so whether it would come with a refresh token is unknown (see AS-TOKEN-01)`,
      );
      return;
    }
    const offline =
      retried && pooledTokens.refreshToken !== undefined
        ? 'issued (asked with prompt=consent)'
        : await rtIssuance(t, withOffline);
    t.data('scopes_supported lists offline_access', listed);
    t.data('refresh token', {
      [`scope ${base ?? '(none)'}`]: without,
      [`scope ${withOffline}`]: offline,
    });
    if (without === 'issued') {
      t.conforms(
        `a refresh token is issued without offline_access, so the rule does not bind (offline_access: ${offline})`,
      );
    } else if (!offline.startsWith('issued')) {
      t.notApplicable(
        `no refresh token was issued to the harness client with or without offline_access (without: ${without}; with: ${offline})`,
      );
    } else if (listed) {
      t.conforms('refresh tokens come only with offline_access, and scopes_supported lists it');
    } else {
      t.violated(
        `refresh tokens come only with offline_access (without it: ${without}), yet scopes_supported ${Array.isArray(supported) ? JSON.stringify(supported) : '(absent)'} does not list it: MCP clients will never request it`,
      );
    }
  },
});

/** One fresh flow with `scope`: was a refresh token issued, none, or was the request refused? */
async function rtIssuance(t: CheckContext, scope: string | undefined): Promise<string> {
  try {
    const grant = await t.freshGrant(scope !== undefined ? { scope } : {});
    return grant.tokens.refreshToken ? 'issued' : 'not issued';
  } catch (err) {
    if (err instanceof OAuthStepError || err instanceof LoginError) return `the flow failed (${err.message})`;
    throw err;
  }
}

/** JWK members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export const AS_XJWKS_01 = defineCheck({
  id: 'AS-XJWKS-01',
  title: 'The JWK Set at jwks_uri holds public keys only',
  level: 'MUST',
  refs: ['RFC8414 §2 (jwks_uri)', 'RFC7517 §5', 'RFC7518 §6.2.2', 'RFC9068 §4'],
  quotes: [
    {
      source: 'RFC 7517',
      section: '9.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Private and symmetric keys MUST be protected from disclosure to unintended parties.',
    },
    {
      source: 'RFC 7517',
      section: '7',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Access to JWKs containing non-public key material by parties without legitimate access to the non-public information MUST be prevented.',
    },
    {
      source: 'RFC 8414',
      section: '2',
      binds: 'context',
      text: 'The referenced document contains the signing key(s) the client uses to validate signatures from the authorization server.',
    },
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-jwks-private-key'],
  requirement:
    'Not a catalogue row: the document at jwks_uri is a JWK Set of the keys clients and resource servers use to verify signatures; no key in it carries private members (d, p, q, dp, dq, qi, oth) or a symmetric secret (k). A private key there lets anyone mint access tokens every resource server of this AS accepts.',
  remediation:
    'Publish only the public part of each signing key (for EC: kty, crv, x, y, kid, alg, use), and rotate any key that was ever published with its private part.',
  probe: 'GET jwks_uri; inspect every key for private members.',
  control: 'None: the check judges the keys the JWK Set publishes, not a refusal.',
  async run(t) {
    const md = await metadataOf(t);
    if (!md) return;
    const uri = md.metadata.jwks_uri;
    if (typeof uri !== 'string') {
      t.notApplicable('the metadata names no jwks_uri (opaque tokens or introspection only)');
      return;
    }
    const res = await t.http.request(uri, { label: 'JWK Set at jwks_uri' });
    const body = res.json() as { keys?: unknown } | undefined;
    if (res.status !== 200 || !body || !Array.isArray(body.keys)) {
      t.violated(`jwks_uri ${uri} answered ${res.status} without a JWK Set ({"keys": [...]})`);
      return;
    }
    const leaks = body.keys.flatMap((key, i) => {
      if (key === null || typeof key !== 'object') return [];
      const members = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
      const kid = (key as { kid?: unknown }).kid;
      return members.length > 0
        ? [`key ${typeof kid === 'string' ? `"${kid}"` : `#${i}`} has ${members.join(', ')}`]
        : [];
    });
    t.data('keys', body.keys.length);
    if (leaks.length > 0) t.violated(`the JWK Set publishes private key material: ${leaks.join('; ')}`);
    else t.conforms(`${body.keys.length} key(s), none with private members`);
  },
});

export const checks = [
  AS_META_01,
  AS_META_02,
  AS_META_03,
  AS_META_04,
  AS_META_05,
  AS_META_06,
  AS_META_07,
  AS_META_08,
  AS_META_09_A,
  AS_META_09_B,
  AS_META_10,
  AS_META_11,
  AS_META_12,
  AS_META_14,
  AS_META_15,
  AS_XJWKS_01,
];
