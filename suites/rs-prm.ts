// RS — Protected Resource Metadata (RFC 9728). Requirements §2.1, rows RS-PRM-*.
// The `prm` fixture is the discovery the MCP client performs (requirements §4.4): the anonymous
// request's challenge first, then the path-inserted, then the root well-known URL.

import {
  attemptExchanges,
  attemptsTable,
  assertSomeAnswer,
  describeAttempts,
  jsonObjectAnswer,
} from '../runner/check-helpers.ts';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type CheckContext, defineCheck, FixtureUnavailable, type Quote } from '../runner/check.ts';
import {
  type Attempt,
  discoverAuthorizationServer,
  type ProtectedResourceDiscovery,
  prmWellKnownUrls,
} from '../runner/discovery.ts';
import { protectedProbe } from '../runner/fixtures.ts';
import { type HttpResponse, HttpTransportError } from '../runner/http.ts';
import { type McpSession, mcpCall, openSession } from '../runner/mcp.ts';
import { REVISIONS, since } from '../runner/revisions.ts';
import { bearerChallenge, param, parseWwwAuthenticate } from '../runner/www-authenticate.ts';
import { conflictSides, inMcp, OFFLINE_ACCESS_NOT_A_RESOURCE_SCOPE } from './rs-quotes.ts';
import { protectedRequest, validTokenControl } from './token-probes.ts';

const PRM_SUFFIX = '/.well-known/oauth-protected-resource';

// RFC 9728 §3.3 ¶1 and ¶2: which `resource` a metadata document must name. For the root
// well-known URL of an endpoint with a path they name different values (RS-PRM-05's conflict).
const PRM_RESOURCE_OF_WELL_KNOWN_URL: readonly Quote[] = [
  {
    source: 'RFC 9728',
    section: '3.3',
    text: "The resource value returned MUST be identical to the protected resource's resource identifier value into which the well-known URI path suffix was inserted to create the URL used to retrieve the metadata.",
    keyword: 'MUST',
    binds: 'resource-server',
  },
];
const PRM_RESOURCE_OF_CHALLENGED_URL: readonly Quote[] = [
  {
    source: 'RFC 9728',
    section: '3.3',
    text: 'If the protected resource metadata was retrieved from a URL returned by the protected resource via the WWW-Authenticate resource_metadata parameter, then the resource value returned MUST be identical to the URL that the client used to make the request to the resource server.',
    keyword: 'MUST',
    binds: 'resource-server',
  },
];
// MCP 2025-11-25 on: the root well-known URL is one of the two places for an endpoint's metadata.
const MCP_ROOT_WELL_KNOWN_URL: readonly Quote[] = inMcp(since('2025-11-25'), {
  section: 'Protected Resource Metadata Discovery Requirements',
  text: 'At the root: https://example.com/.well-known/oauth-protected-resource',
  binds: 'context',
});

export const RS_PRM_01 = defineCheck({
  id: 'RS-PRM-01',
  title: 'The MCP server publishes protected-resource metadata',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Authorization Server Location',
    'MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements',
    'RFC9728 §3',
  ],
  quotes: [
    ...inMcp(REVISIONS, {
      section: 'Authorization Server Location',
      text: 'MCP servers MUST implement the OAuth 2.0 Protected Resource Metadata (RFC9728) specification to indicate the locations of authorization servers.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    ...inMcp(since('2025-11-25'), {
      section: 'Protected Resource Metadata Discovery Requirements',
      text: 'MCP servers MUST implement one of the following discovery mechanisms to provide authorization server location information to MCP clients:',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
    {
      source: 'RFC 9728',
      section: '3',
      text: "Protected resources supporting metadata MUST make a JSON document containing metadata as specified in Section 2 available at a URL formed by inserting a well-known URI string into the protected resource's resource identifier between the host component and the path and/or query components, if any.",
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-missing'],
  requirement:
    'An RFC 9728 protected-resource metadata document for the MCP endpoint is reachable the way an MCP client looks for it: the URL in the 401 challenge (resource_metadata), else (2025-11-25 on) the path-inserted well-known URL, else the root well-known URL.',
  remediation:
    'Serve a JSON document with `resource` and `authorization_servers` at /.well-known/oauth-protected-resource<path of the MCP endpoint>, and point to it from the 401 challenge with resource_metadata="…".',
  probe:
    'POST an anonymous JSON-RPC request, then GET each PRM URL in the MCP order until one answers 200 with a JSON object.',
  control:
    'None: the check judges whether metadata is served at the URLs an MCP client tries, a positive observation; no refusal is taken as proof.',
  async run(t) {
    const prm = await t.fixture('prm');
    t.data('attempts', attemptsTable(prm.attempts));
    if (prm.challenge?.resourceMetadata) t.data('resourceMetadata', prm.challenge.resourceMetadata);
    if (prm.prm && prm.prmUrl) {
      t.data('source', prm.source);
      t.conforms(`protected-resource metadata found at ${prm.prmUrl} (${prm.source})`);
      return;
    }
    if (prm.attempts.length === 0) {
      // 2025-06-18 defines no well-known fallback: the challenge header is the only way in.
      t.violated(
        `the anonymous request's answer names no resource_metadata URL, and revision ${t.revision} defines no other place to look`,
        prm.challenge ? { exchanges: [prm.challenge.exchangeId] } : {},
      );
      return;
    }
    assertSomeAnswer(prm.attempts, 'protected-resource metadata');
    t.violated(
      `no protected-resource metadata at any URL an MCP client tries: ${describeAttempts(prm.attempts)}`,
      {
        exchanges: attemptExchanges(prm.attempts),
      },
    );
  },
});

export const RS_PRM_02 = defineCheck({
  id: 'RS-PRM-02',
  title: 'Protected-resource metadata is a JSON object served as application/json with 200',
  level: 'MUST',
  refs: ['RFC9728 §3.1', 'RFC9728 §3.2'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '3.2',
      text: 'A successful response MUST use the 200 OK HTTP status code and return a JSON object using the application/json content type that contains a set of metadata parameters as its members that are a subset of the metadata parameters defined in Section 2.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-wrong-content-type'],
  requirement:
    'A GET of the protected-resource metadata URL answers 200 with Content-Type application/json (parameters such as charset allowed) and a body that is a JSON object.',
  remediation:
    'Answer the metadata GET with status 200, `Content-Type: application/json` and a JSON object body.',
  probe: 'GET the metadata URL found by discovery.',
  control: 'None: the check judges the status, media type and body of the metadata answer, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prmUrl) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const res = await t.http.request(prm.prmUrl, {
      headers: { accept: 'application/json' },
      label: 'PRM (media type)',
    });
    const { problems } = jsonObjectAnswer(res);
    if (problems.length > 0) t.violated(`${prm.prmUrl}: ${problems.join('; ')}`);
    else t.conforms(`${prm.prmUrl} answers 200 application/json with a JSON object`);
  },
});

export const RS_PRM_03 = defineCheck({
  id: 'RS-PRM-03',
  title: 'Protected-resource metadata is readable without credentials',
  level: 'SHOULD',
  refs: [
    'RFC9728 §5 (derived: the metadata is how a client learns to get credentials)',
    'MCP 2025-06-18 §Authorization Flow Steps',
  ],
  derived:
    'No sentence says the metadata is served without credentials; it is how a client without a token learns where to get one (RFC 9728 §5, the MCP authorization flow), so metadata behind authentication cannot be used.',
  quotes: [
    {
      source: 'RFC 9728',
      section: '3.1',
      text: 'A protected resource metadata document MUST be queried using an HTTP GET request at the previously specified URL.',
      keyword: 'MUST',
      binds: 'client',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-requires-auth'],
  requirement:
    'The protected-resource metadata answers a request without Authorization with 200, never 401 or 403: it is the bootstrap for obtaining a token.',
  remediation: 'Exempt the /.well-known/oauth-protected-resource… URLs from authentication.',
  probe: 'The discovery GETs, which carry no Authorization header.',
  control:
    "The same metadata URL fetched with a token the target accepts (the harness's, else a correctly forged one) right after a refusal: metadata served with it shows the refusal was about the missing credentials, not about a document that is not there.",
  async run(t) {
    const prm = await t.fixture('prm');
    const refused = prm.attempts.filter((a) => a.status === 401 || a.status === 403);
    if (prm.prmUrl) {
      t.conforms(`${prm.prmUrl} answered 200 to a request without credentials`);
    } else if (refused.length > 0) {
      await judgeCredentialRefusal(t, refused);
    } else {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
    }
  },
});

/**
 * RS-PRM-03's verdict on metadata URLs that refused a request without credentials, under its
 * control: the same URLs fetched with a token the target accepts. Only a URL that then serves
 * metadata shows the refusal was about credentials; a URL that refuses the token too may hold no
 * metadata at all (RS-PRM-01 judges that), and then nothing is concluded.
 */
async function judgeCredentialRefusal(t: CheckContext, attempts: readonly Attempt[]): Promise<void> {
  // The challenge's URL and a well-known URL may be the same: one control per URL.
  const refused = attempts.filter((a, i) => attempts.findIndex((b) => b.url === a.url) === i);
  let control: { token: string; what: string };
  try {
    control = await validTokenControl(t);
  } catch (err) {
    if (!(err instanceof FixtureUnavailable)) throw err;
    t.prerequisiteMissing(
      `control failed: the metadata refused a request without credentials (${describeAttempts(refused)}), and no token could be had to send the same request with one (${err.reason}), so the refusal is not shown to be about credentials`,
      err.howToProvide ?? 'pass a token the target accepts with --token-env NAME',
    );
    return;
  }
  const rows = await Promise.all(
    refused.map(async (attempt) => {
      const res = await t.http.request(attempt.url, {
        headers: { accept: 'application/json', authorization: `Bearer ${control.token}` },
        label: `PRM with ${control.what} (control)`,
      });
      const served = res.status === 200 && jsonObjectAnswer(res).body !== undefined;
      return { attempt, res, served };
    }),
  );
  t.data(
    'control',
    rows.map(({ attempt, res }) => ({ url: attempt.url, status: res.status, exchange: res.exchange.id })),
  );
  const served = rows.filter((r) => r.served);
  if (served.length === 0) {
    t.inconclusive(
      `control failed: the metadata refused a request without credentials (${describeAttempts(refused)}), and the same request with ${control.what} too (${rows.map((r) => `${r.attempt.url} → ${r.res.status}`).join('; ')}), so the refusal is not shown to be about credentials (see RS-PRM-01)`,
    );
    return;
  }
  t.violated(
    `the metadata refused a request without credentials, and served it with ${control.what}: ${describeAttempts(served.map((r) => r.attempt))}`,
    { exchanges: [...attemptExchanges(served.map((r) => r.attempt)), ...served.map((r) => r.res.exchange)] },
  );
}

export const RS_PRM_04 = defineCheck({
  id: 'RS-PRM-04',
  title: 'PRM `resource` is an absolute https URL without a fragment',
  level: 'MUST',
  refs: ['RFC9728 §2 (resource)', 'RFC9728 §1.2 (protected resource identifier)'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '2',
      text: "REQUIRED. The protected resource's resource identifier, as defined in Section 1.2.",
      keyword: 'REQUIRED',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9728',
      section: '1.2',
      text: "The protected resource's resource identifier, which is a URL that uses the https scheme and has no fragment component.",
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-resource-missing', 'rs-prm-resource-fragment'],
  requirement:
    'The metadata has a `resource` member: an absolute URL with the https scheme and no fragment (http is tolerated for loopback hosts, a development setup); it SHOULD NOT contain a query (reported as a note).',
  remediation: 'Set `resource` to the https URL of the MCP endpoint, without fragment or query.',
  probe: 'Parse `resource` of the discovered metadata.',
  control: 'None: the check judges what the metadata document says (`resource`), not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const resource = prm.prm.resource;
    t.data('resource', resource ?? null);
    if (typeof resource !== 'string') {
      t.violated(`the metadata at ${prm.prmUrl} has no string \`resource\` member`);
      return;
    }
    if (!URL.canParse(resource)) {
      t.violated(`resource "${resource}" is not an absolute URL`);
      return;
    }
    const url = new URL(resource);
    const problems: string[] = [];
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      problems.push(`its scheme is ${url.protocol.slice(0, -1)}, not https`);
    }
    // The URL parser drops an empty fragment ("#"), so look at the text as well.
    if (url.hash !== '' || resource.includes('#')) problems.push('it has a fragment');
    if (problems.length > 0) t.violated(`resource "${resource}": ${problems.join('; ')}`);
    else t.conforms(`resource "${resource}" is an absolute URL without fragment`);
    if (url.protocol === 'http:') t.note('http is accepted only because the host is a loopback address');
    if (url.search !== '')
      t.note(`resource carries a query ("${url.search}"), which RFC 9728 §1.2 says it SHOULD NOT`);
  },
});

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const RS_PRM_05 = defineCheck({
  id: 'RS-PRM-05',
  title: 'PRM `resource` equals the identifier its well-known URL was built from',
  level: 'SHOULD',
  refs: ['RFC9728 §3.3', 'RFC9728 §7.3', 'RFC9728 §6 (no normalization)'],
  quotes: [...PRM_RESOURCE_OF_WELL_KNOWN_URL, ...PRM_RESOURCE_OF_CHALLENGED_URL, ...MCP_ROOT_WELL_KNOWN_URL],
  conflict:
    'For the root well-known URL, §3.3 ¶1 wants the origin as `resource`, but MCP offers the root URL for an endpoint with a path, and a challenge naming that URL makes §3.3 ¶2 want the endpoint URL.',
  revisions: REVISIONS,
  needs: ['prm'],
  faults: [
    'rs-prm-resource-mismatch',
    'rs-prm-resource-prefix',
    'rs-prm-resource-trailing-slash',
    'rs-prm-resource-uppercase-host',
    'rs-prm-resource-fragment',
    'rs-prm-root-names-endpoint',
  ],
  requirement:
    'For every well-known metadata URL that answers 200, `resource` is identical, code point for code point, to the resource identifier into which /.well-known/oauth-protected-resource was inserted (…/oauth-protected-resource/mcp must say <origin>/mcp; the root document must say <origin>).',
  remediation:
    'Set `resource` to exactly the identifier the well-known URL was built from: no trailing slash, same case, no fragment; a root document describes the origin, not the /mcp endpoint.',
  probe:
    'GET the path-inserted and the root well-known URL; compare each `resource` with the identifier rebuilt from its URL.',
  control: 'None: the check judges the `resource` each well-known document names, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    const { pathInserted, root } = prmWellKnownUrls(t.target);
    const urls = new Set([pathInserted, root].filter((u): u is string => u !== undefined));
    if (prm.prmUrl && new URL(prm.prmUrl).pathname.startsWith(PRM_SUFFIX)) urls.add(prm.prmUrl);
    const rows: Record<string, unknown>[] = [];
    let judged = 0;
    for (const url of urls) {
      const res = await t.http.request(url, {
        headers: { accept: 'application/json' },
        label: 'PRM (resource identity)',
      });
      const body = res.status === 200 ? res.json() : undefined;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        rows.push({ url, status: res.status, judged: false });
        continue;
      }
      judged++;
      const expected = identifierOf(url);
      const resource = (body as Record<string, unknown>).resource;
      rows.push({ url, status: res.status, expected, resource: resource ?? null });
      if (resource === expected) continue;
      // The root document naming the endpoint is where RFC 9728 §3.3 ¶1 and ¶2 disagree.
      const conflict =
        url === root && resource === t.target
          ? `; ${conflictSides(t.revision, PRM_RESOURCE_OF_WELL_KNOWN_URL, PRM_RESOURCE_OF_CHALLENGED_URL).text}`
          : '';
      t.violated(
        typeof resource === 'string'
          ? `${url} says resource "${resource}", but the identifier its URL was built from is "${expected}"${conflict}`
          : `${url} has no string \`resource\` member (expected "${expected}")`,
        { exchanges: [res.exchange] },
      );
    }
    t.data('documents', rows);
    if (judged === 0)
      t.notApplicable(
        'no well-known protected-resource metadata URL answered 200 with a JSON object (see RS-PRM-01)',
      );
    else t.conforms(`${judged} well-known metadata document(s) name the identifier they were fetched for`);
  },
});

/** The resource identifier a well-known URL was built from: the suffix removed (RFC 9728 §3.1 reversed). */
function identifierOf(wellKnownUrl: string): string {
  const url = new URL(wellKnownUrl);
  const rest = url.pathname.slice(PRM_SUFFIX.length);
  return `${url.origin}${rest}${url.search}`;
}

export const RS_PRM_07 = defineCheck({
  id: 'RS-PRM-07',
  title: 'PRM names at least one authorization server',
  level: 'MUST',
  refs: ['MCP 2025-06-18 §Authorization Server Location', 'RFC9728 §2 (authorization_servers)'],
  quotes: [
    ...inMcp(REVISIONS, {
      section: 'Authorization Server Location',
      text: 'The Protected Resource Metadata document returned by the MCP server MUST include the authorization_servers field containing at least one authorization server.',
      keyword: 'MUST',
      binds: 'resource-server',
    }),
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-no-authorization-servers'],
  requirement:
    '`authorization_servers` is present and is a JSON array of at least one issuer string (optional in RFC 9728, mandatory for MCP servers).',
  remediation: 'Add `"authorization_servers": ["<issuer of your authorization server>"]` to the metadata.',
  probe: 'Read authorization_servers of the discovered metadata.',
  control: 'None: the check judges what the metadata document says (`authorization_servers`), not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const servers = prm.prm.authorization_servers;
    t.data('authorization_servers', servers ?? null);
    if (servers === undefined) t.violated('the metadata has no authorization_servers member');
    else if (!Array.isArray(servers))
      t.violated(`authorization_servers is ${JSON.stringify(servers)}, not an array`);
    else if (servers.length === 0) t.violated('authorization_servers is an empty array');
    else if (!servers.every((s) => typeof s === 'string'))
      t.violated('authorization_servers has entries that are not strings');
    else t.conforms(`authorization_servers names ${servers.join(', ')}`);
  },
});

/** How a PRM `resource` relates to the MCP endpoint URL (requirements §3 A1). */
export type ResourceMatch = 'EXACT' | 'PREFIX' | 'MISMATCH';

/**
 * EXACT: identical code points (RFC 9728 §3.3 ¶2, §6). PREFIX: the same origin text and a path
 * that ends on a segment boundary of the endpoint's path (draft-mcguinness-oauth-rfc9728bis, the
 * TS SDK's checkResourceAllowed). Anything else, including a case or trailing-slash difference
 * (A2: metadata comparisons are strict), is MISMATCH.
 */
export function matchResource(resource: string, endpoint: string): ResourceMatch {
  if (resource === endpoint) return 'EXACT';
  if (resource.includes('?') || resource.includes('#') || !endpoint.startsWith(resource)) return 'MISMATCH';
  const originLength = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(endpoint)?.[0].length ?? endpoint.length;
  if (resource.length < originLength) return 'MISMATCH';
  const next = endpoint[resource.length];
  return resource.endsWith('/') || next === '/' || next === '?' ? 'PREFIX' : 'MISMATCH';
}

export const RS_PRM_06 = defineCheck({
  id: 'RS-PRM-06',
  title: 'PRM reached through resource_metadata names the MCP endpoint as its resource',
  level: 'MUST',
  refs: [
    'RFC9728 §3.3 ¶2',
    'RFC9728 §6',
    'MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements',
  ],
  quotes: PRM_RESOURCE_OF_CHALLENGED_URL,
  revisions: REVISIONS,
  needs: ['prm'],
  faults: [
    'rs-prm-resource-mismatch',
    'rs-prm-resource-trailing-slash',
    'rs-prm-resource-uppercase-host',
    'rs-prm-resource-prefix',
  ],
  requirement:
    'When the metadata URL came from the resource_metadata parameter of the challenge, its `resource` is identical to the URL the client requested (the MCP endpoint), RFC 9728 §3.3. EXACT passes; anything else fails, including a PREFIX (same origin, a path prefix on a segment boundary): the message says which clients tolerate a prefix (the TypeScript SDK client, whose checkResourceAllowed accepts one) and that clients applying §3.3 as written refuse it.',
  remediation:
    'Set `resource` to the exact URL clients use for the MCP endpoint (same scheme, host case, port and path, no trailing slash), e.g. "https://mcp.example.com/mcp".',
  probe: 'Compare `resource` of the metadata found via the challenge with the MCP endpoint URL.',
  control:
    'None: the check compares the `resource` of the metadata reached through resource_metadata with the endpoint URL, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (prm.source !== 'header' || !prm.prm) {
      t.notApplicable(
        prm.prm
          ? `the metadata was found at the ${prm.source} well-known URL, not through resource_metadata (RS-PRM-05 judges it)`
          : 'no protected-resource metadata was found through resource_metadata (see RS-PRM-01, RS-401-03)',
      );
      return;
    }
    const resource = prm.prm.resource;
    if (typeof resource !== 'string') {
      t.notApplicable('the metadata has no string `resource` member (see RS-PRM-04)');
      return;
    }
    const match = matchResource(resource, t.target);
    t.data('classification', match);
    t.data('resource', resource);
    t.data('endpoint', t.target);
    if (match === 'EXACT') {
      t.conforms(`resource "${resource}" is the MCP endpoint URL exactly`);
    } else if (match === 'MISMATCH') {
      t.violated(`resource "${resource}" is neither the MCP endpoint "${t.target}" nor a path prefix of it`);
    } else {
      t.violated(
        `resource "${resource}" is only a path prefix of the MCP endpoint "${t.target}": RFC 9728 §3.3 says the resource of metadata reached through resource_metadata MUST be identical to the URL the client requested. Clients that tolerate a prefix (the TypeScript SDK client: checkResourceAllowed in @modelcontextprotocol/sdk accepts a same-origin path prefix) connect; clients that apply §3.3 as written refuse the metadata`,
        { exchanges: attemptExchanges(prm.attempts.filter((a) => a.url === prm.prmUrl)) },
      );
    }
  },
});

/** Why a string is not an issuer identifier (RFC 8414 §2: https URL, no query, no fragment). */
function issuerShapeProblems(issuer: string): string[] {
  if (!URL.canParse(issuer)) return ['it is not an absolute URL'];
  const url = new URL(issuer);
  const problems: string[] = [];
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    problems.push(`its scheme is ${url.protocol.slice(0, -1)}, not https`);
  if (issuer.includes('?')) problems.push('it has a query');
  if (issuer.includes('#')) problems.push('it has a fragment');
  return problems;
}

export const RS_PRM_08 = defineCheck({
  id: 'RS-PRM-08',
  title: 'Every authorization_servers entry is an issuer whose metadata names it exactly',
  level: 'SHOULD',
  refs: ['RFC9728 §2 (authorization_servers)', 'RFC8414 §2', 'RFC8414 §3.3', 'OpenID Connect Discovery §4.3'],
  derived:
    'RFC 9728 §2 defines authorization_servers as a list of RFC 8414 issuer identifiers but puts no keyword on the value; RFC 8414 §3.3 binds the authorization server to its own issuer, and a client that finds them different must not use the metadata.',
  quotes: [
    {
      source: 'RFC 9728',
      section: '2',
      text: 'OPTIONAL. JSON array containing a list of OAuth authorization server issuer identifiers, as defined in [RFC8414], for authorization servers that can be used with this protected resource.',
      keyword: 'OPTIONAL',
      binds: 'resource-server',
    },
    ...inMcp(['2026-07-28'], {
      section: 'Authorization Server Metadata Discovery',
      text: 'If they differ, the client MUST NOT use the metadata.',
      keyword: 'MUST NOT',
      binds: 'client',
    }),
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-issuer-trailing-slash'],
  requirement:
    "Each `authorization_servers` entry is an issuer identifier (https URL without query or fragment; http tolerated for loopback hosts) whose authorization-server metadata, found in the revision's discovery order, has `issuer` identical to the entry, byte for byte (a trailing-slash difference fails).",
  remediation:
    'List each authorization server by its exact `issuer` value, as its own metadata spells it (no added trailing slash).',
  probe:
    'For each entry, GET its metadata in the MCP order (RFC 8414, then OpenID Connect) and compare `issuer`.',
  control:
    'None: the check compares each listed issuer with the `issuer` its own metadata names; a missing document is an absence, not a refusal of a changed request.',
  async run(t) {
    const prm = await t.fixture('prm');
    const servers = prm.prm?.authorization_servers;
    if (!Array.isArray(servers) || servers.length === 0) {
      t.notApplicable('the metadata names no authorization server (see RS-PRM-01, RS-PRM-07)');
      return;
    }
    // The shared discovery of the first entry; asking for it also lets the harness contact that origin.
    const first = await t.optionalFixture('as');
    const rows: Record<string, unknown>[] = [];
    const allAttempts: Attempt[] = [];
    let judged = 0;
    for (const entry of servers) {
      if (typeof entry !== 'string') {
        judged++;
        t.violated(`authorization_servers holds ${JSON.stringify(entry)}, which is not a string`);
        continue;
      }
      const shape = issuerShapeProblems(entry);
      if (shape.length > 0) {
        judged++;
        rows.push({ entry, problems: shape });
        t.violated(`"${entry}" is not an issuer identifier: ${shape.join('; ')}`);
        continue;
      }
      const discovery =
        first?.issuer === entry ? first : await discoverAuthorizationServer(t.http, entry, t.revision);
      allAttempts.push(...discovery.attempts);
      const issuer = discovery.metadata?.issuer;
      rows.push({ entry, metadataUrl: discovery.metadataUrl ?? null, issuer: issuer ?? null });
      if (!discovery.metadata) {
        if (discovery.attempts.every((a) => a.status === undefined)) {
          t.note(`"${entry}": no metadata URL could be contacted (${describeAttempts(discovery.attempts)})`);
          continue;
        }
        judged++;
        t.violated(
          `no authorization-server metadata for "${entry}" at any URL of the ${t.revision} discovery order: ${describeAttempts(discovery.attempts)}`,
          { exchanges: attemptExchanges(discovery.attempts) },
        );
        continue;
      }
      judged++;
      if (issuer !== entry) {
        t.violated(
          `the metadata of "${entry}" (${discovery.metadataUrl}) says issuer ${JSON.stringify(issuer ?? null)}, not "${entry}"`,
          { exchanges: attemptExchanges(discovery.attempts) },
        );
      }
    }
    t.data('entries', rows);
    if (judged > 0) {
      t.conforms(`${judged} authorization server entr${judged === 1 ? 'y' : 'ies'} judged`);
      return;
    }
    assertSomeAnswer(allAttempts, 'authorization-server metadata');
    t.notApplicable('no authorization_servers entry could be judged');
  },
});

export const RS_PRM_09 = defineCheck({
  id: 'RS-PRM-09',
  title: 'PRM omits parameters that have no value',
  level: 'MUST',
  refs: ['RFC9728 §3.2'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '3.2',
      text: 'Parameters with zero values MUST be omitted from the response.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-empty-member'],
  requirement:
    'A metadata parameter with zero values is left out instead of sent as null, an empty string, an empty array or an empty object; the one exception is `bearer_methods_supported: []`, which RFC 9728 gives a meaning (no bearer method).',
  remediation:
    'Drop members you have no value for from the metadata document instead of sending "", [] or null.',
  probe: 'Read every member of the discovered metadata.',
  control: 'None: the check judges the members of the metadata document, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const empty = Object.entries(prm.prm)
      .filter(([name, value]) => name !== 'bearer_methods_supported' && isEmptyValue(value))
      .map(([name, value]) => `${name}: ${JSON.stringify(value)}`);
    t.data('emptyMembers', empty);
    if (empty.length > 0) t.violated(`the metadata sends members without a value: ${empty.join(', ')}`);
    else t.conforms(`none of the ${Object.keys(prm.prm).length} members is empty`);
  },
});

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

export const RS_PRM_10 = defineCheck({
  id: 'RS-PRM-10',
  title: 'PRM lists scopes_supported',
  level: 'SHOULD',
  refs: ['RFC9728 §2 (scopes_supported: RECOMMENDED)', 'MCP 2025-11-25 §Scope Selection Strategy'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '2',
      text: 'RECOMMENDED. JSON array containing a list of scope values, as defined in OAuth 2.0 [RFC6749], that are used in authorization requests to request access to this protected resource.',
      keyword: 'RECOMMENDED',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-no-scopes-supported'],
  requirement:
    'RECOMMENDED: the metadata has `scopes_supported`, an array of scope strings; MCP clients fall back to it when the 401 challenge names no scope.',
  remediation: 'Add `"scopes_supported": ["<scope>", …]` with the scopes your MCP endpoint uses.',
  probe: 'Read scopes_supported of the discovered metadata.',
  control: 'None: the check judges what the metadata document says (`scopes_supported`), not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const scopes = prm.prm.scopes_supported;
    t.data('scopes_supported', scopes ?? null);
    if (scopes === undefined) t.violated('the metadata has no scopes_supported member');
    else if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
      t.violated(`scopes_supported is ${JSON.stringify(scopes)}, not an array of strings`);
    else t.conforms(`scopes_supported lists ${scopes.length} scope(s): ${scopes.join(' ')}`);
  },
});

export const RS_PRM_11 = defineCheck({
  id: 'RS-PRM-11',
  title: 'PRM scopes_supported does not list offline_access',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Refresh Tokens', 'SEP-2207'],
  quotes: OFFLINE_ACCESS_NOT_A_RESOURCE_SCOPE,
  revisions: since('2026-07-28'),
  needs: ['prm'],
  faults: ['rs-prm-offline-access'],
  requirement:
    'SHOULD NOT: `scopes_supported` does not contain offline_access (a client that requests every listed scope would otherwise always ask for refresh tokens; that is its own decision).',
  remediation: 'Remove offline_access from scopes_supported of the protected-resource metadata.',
  probe: 'Read scopes_supported of the discovered metadata.',
  control: 'None: the check judges what the metadata document says (`scopes_supported`), not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    const scopes = prm.prm?.scopes_supported;
    if (!Array.isArray(scopes)) {
      t.notApplicable(
        prm.prm
          ? 'the metadata has no scopes_supported array (see RS-PRM-10)'
          : 'no metadata (see RS-PRM-01)',
      );
      return;
    }
    if (scopes.includes('offline_access')) t.violated('scopes_supported lists offline_access');
    else t.conforms('scopes_supported does not list offline_access');
  },
});

export const RS_PRM_12 = defineCheck({
  id: 'RS-PRM-12',
  title: 'PRM does not advertise query-string bearer tokens',
  level: 'SHOULD',
  refs: ['OAuth 2.1 draft-13 §5.1 (derived)', 'RFC9728 §2 (bearer_methods_supported)', 'RFC6750 §2.3'],
  derived:
    'No sentence binds the metadata: OAuth 2.1 §5.1 makes resource servers ignore query-string tokens, so advertising "query" in bearer_methods_supported promises what a conformant server must not do (RS-401-16 judges the behaviour).',
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '5.1',
      text: 'In particular, clients MUST NOT send the access token in a URI query parameter, and resource servers MUST ignore access tokens in a URI query parameter.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-bearer-query'],
  requirement:
    'SHOULD NOT (derived): `bearer_methods_supported`, when present, does not list "query" (OAuth 2.1 resource servers must not take tokens from the URL). It should list "header", the only method MCP clients use; a list without it is reported as a note, not judged.',
  remediation: 'Advertise `"bearer_methods_supported": ["header"]` and ignore access_token query parameters.',
  probe: 'Read bearer_methods_supported of the discovered metadata.',
  control:
    'None: the check judges what the metadata document says (`bearer_methods_supported`), not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const methods = prm.prm.bearer_methods_supported;
    t.data('bearer_methods_supported', methods ?? null);
    if (methods === undefined) {
      t.conforms('bearer_methods_supported is absent, so no query method is advertised');
      return;
    }
    if (!Array.isArray(methods)) {
      t.violated(`bearer_methods_supported is ${JSON.stringify(methods)}, not an array`);
      return;
    }
    if (methods.includes('query')) {
      t.violated(`bearer_methods_supported ${JSON.stringify(methods)} advertises query-string tokens`);
      return;
    }
    if (methods.length > 0 && !methods.includes('header'))
      t.note(
        `bearer_methods_supported ${JSON.stringify(methods)} lacks "header", the method MCP clients use`,
      );
    t.conforms(`bearer_methods_supported ${JSON.stringify(methods)} does not advertise query`);
  },
});

export const RS_PRM_13 = defineCheck({
  id: 'RS-PRM-13',
  title: 'PRM resource is in canonical form',
  level: 'SHOULD',
  refs: ['MCP 2025-06-18 §Canonical Server URI', 'RFC3986 §6.2.2.1'],
  quotes: inMcp(REVISIONS, {
    section: 'Canonical Server URI',
    text: 'While both https://mcp.example.com/ (with trailing slash) and https://mcp.example.com (without trailing slash) are technically valid absolute URIs according to RFC 3986, implementations SHOULD consistently use the form without the trailing slash for better interoperability unless the trailing slash is semantically significant for the specific resource.',
    keyword: 'SHOULD',
    binds: 'resource-server',
  }),
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-resource-trailing-slash', 'rs-prm-resource-uppercase-host'],
  requirement:
    'The `resource` identifier uses a lowercase scheme and host and no trailing slash (unless the slash is significant to the server, which the harness cannot tell: it is reported anyway).',
  remediation:
    'Spell `resource` in canonical form: "https://mcp.example.com/mcp" (lowercase, no trailing "/").',
  probe: 'Read the scheme, host and path of `resource` as sent.',
  control: 'None: the check judges how `resource` is spelled, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    const resource = prm.prm?.resource;
    if (typeof resource !== 'string' || !URL.canParse(resource)) {
      t.notApplicable('no metadata with an absolute `resource` URL was found (see RS-PRM-01, RS-PRM-04)');
      return;
    }
    // The URL parser lowercases scheme and host, so read them from the text as sent.
    const [, scheme = '', authority = '', rest = ''] = /^([^:]*):\/\/([^/?#]*)(.*)$/.exec(resource) ?? [];
    const host = authority.replace(/^[^@]*@/, '').replace(/:\d*$/, '');
    const path = rest.split(/[?#]/)[0]!;
    const problems: string[] = [];
    if (scheme !== scheme.toLowerCase()) problems.push(`the scheme "${scheme}" is not lowercase`);
    if (host !== host.toLowerCase()) problems.push(`the host "${host}" is not lowercase`);
    if (path.endsWith('/')) problems.push('it ends with a trailing slash');
    if (problems.length > 0) t.violated(`resource "${resource}": ${problems.join('; ')}`);
    else t.conforms(`resource "${resource}" is in canonical form`);
  },
});

export const RS_PRM_14 = defineCheck({
  id: 'RS-PRM-14',
  title: 'PRM signing parameters are sound',
  level: 'MUST',
  refs: ['RFC9728 §2 (jwks_uri, resource_signing_alg_values_supported, signed_metadata)', 'RFC9728 §2.2'],
  quotes: [
    {
      source: 'RFC 9728',
      section: '2',
      text: 'This URL MUST use the https scheme.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9728',
      section: '2',
      text: 'The value none MUST NOT be used.',
      keyword: 'MUST NOT',
      binds: 'resource-server',
    },
    {
      source: 'RFC 9728',
      section: '2.2',
      text: 'The signed metadata MUST be digitally signed or MACed (protected with a Message Authentication Code) using a JSON Web Signature (JWS) [JWS] and MUST contain an iss (issuer) claim denoting the party attesting to the claims in the signed metadata.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-signing-alg-none'],
  requirement:
    'When present: `jwks_uri` is an https URL; `resource_signing_alg_values_supported` is an array that does not contain "none"; `signed_metadata` is a JWS (not alg "none") whose payload carries an `iss` claim. The harness does not verify the signature (RFC 9728 leaves the trust anchor to the application): that is reported as a note.',
  remediation:
    'Serve jwks_uri over https, never list "none" as a signing algorithm, and sign signed_metadata with a real algorithm and an iss claim.',
  probe:
    'Read jwks_uri, resource_signing_alg_values_supported and signed_metadata of the discovered metadata.',
  control: 'None: the check judges the signing members of the metadata document, not a refusal.',
  async run(t) {
    const prm = await t.fixture('prm');
    if (!prm.prm) {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
      return;
    }
    const {
      jwks_uri: jwksUri,
      resource_signing_alg_values_supported: algs,
      signed_metadata: signed,
    } = prm.prm;
    if (jwksUri === undefined && algs === undefined && signed === undefined) {
      t.notApplicable(
        'the metadata has no jwks_uri, resource_signing_alg_values_supported or signed_metadata',
      );
      return;
    }
    const problems: string[] = [];
    if (jwksUri !== undefined) {
      const shape =
        typeof jwksUri === 'string' ? issuerShapeProblems(jwksUri).filter((p) => !p.includes('query')) : [];
      if (typeof jwksUri !== 'string')
        problems.push(`jwks_uri is ${JSON.stringify(jwksUri)}, not a URL string`);
      else if (shape.length > 0) problems.push(`jwks_uri "${jwksUri}": ${shape.join('; ')}`);
    }
    if (algs !== undefined) {
      if (!Array.isArray(algs)) problems.push(`resource_signing_alg_values_supported is not an array`);
      else if (algs.some((a) => typeof a === 'string' && a.toLowerCase() === 'none'))
        problems.push(`resource_signing_alg_values_supported ${JSON.stringify(algs)} lists "none"`);
    }
    if (signed !== undefined) problems.push(...signedMetadataProblems(signed));
    if (signed !== undefined && problems.length === 0)
      t.note('signed_metadata is well formed; its signature was not verified (no trust anchor is defined)');
    if (problems.length > 0) t.violated(problems.join('; '));
    else t.conforms('the signing parameters present are sound');
  },
});

/** RFC 9728 §2.2: a JWS (compact) with an `iss` claim, signed with a real algorithm. */
function signedMetadataProblems(signed: unknown): string[] {
  if (typeof signed !== 'string') return [`signed_metadata is ${JSON.stringify(signed)}, not a JWS string`];
  try {
    const header = decodeProtectedHeader(signed);
    const claims = decodeJwt(signed);
    const problems: string[] = [];
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none')
      problems.push(`signed_metadata uses alg ${JSON.stringify(header.alg ?? null)}`);
    if (typeof claims.iss !== 'string') problems.push('signed_metadata has no iss claim');
    return problems;
  } catch (err) {
    return [`signed_metadata is not a compact JWS with a JSON payload (${(err as Error).message})`];
  }
}

/** The Bearer challenge's resource_metadata of an answer, if it has one. */
function challengedMetadataUrl(response: HttpResponse): string | undefined {
  const challenge = bearerChallenge(parseWwwAuthenticate(response.headers.getAll('www-authenticate')));
  return challenge ? param(challenge, 'resource_metadata') : undefined;
}

/** Why a fetched PRM does not meet the essentials of RS-PRM-02/04/07, or [] when it does. */
function metadataProblems(res: HttpResponse): string[] {
  if (res.status !== 200) return [`answered ${res.status}, not 200`];
  const problems: string[] = [];
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') problems.push(`Content-Type is not application/json`);
  const body = res.json();
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return [...problems, 'not a JSON object'];
  const doc = body as Record<string, unknown>;
  if (typeof doc.resource !== 'string') problems.push('no string `resource`');
  const servers = doc.authorization_servers;
  if (!Array.isArray(servers) || servers.length === 0) problems.push('no authorization_servers');
  return problems;
}

export const RS_PRM_15 = defineCheck({
  id: 'RS-PRM-15',
  title: 'Every resource_metadata a challenge names resolves to valid metadata',
  level: 'SHOULD',
  refs: ['RFC9728 §5.2', 'RFC9728 §5.1', 'MCP 2025-11-25 §Runtime Insufficient Scope'],
  derived:
    'resource_metadata is "The URL of the protected resource metadata" (RFC 9728 §5.1) and a server may name new metadata in any later challenge (§5.2, MAY); a named URL that does not serve metadata strands the client that follows it.',
  quotes: [
    {
      source: 'RFC 9728',
      section: '5.2',
      text: 'At any point, for any reason determined by the resource server, the protected resource MAY respond with a new WWW-Authenticate challenge that includes a value for the protected resource metadata URL to indicate that its metadata may have changed.',
      keyword: 'MAY',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['prm', 'own-client'],
  faults: ['rs-403-metadata-url-broken'],
  requirement:
    'A server may name new metadata in a later challenge (RFC 9728 §5.2); every distinct resource_metadata URL seen in a 401 or 403 challenge answers 200 with a JSON metadata object that has `resource` and `authorization_servers`. Challenges collected: the anonymous 401, the 401 to an invalid token, and the 403 insufficient_scope to a request whose token lacks the scope the operation needs (a grant for scopes_supported minus the challenge scope, when that set is not empty).',
  remediation:
    'Point resource_metadata in every 401 and 403 challenge at a metadata URL that is actually served.',
  probe:
    'Collect resource_metadata from the anonymous 401, an invalid-token 401 and a 403 with a narrower token; GET each distinct URL.',
  control:
    'None: the check judges whether each resource_metadata URL a challenge names serves metadata; the 401s and 403 are only where the URLs are collected, not verdicts.',
  async run(t) {
    const prm = await t.fixture('prm');
    const seen = new Map<string, string[]>();
    const add = (url: string | undefined, where: string) => {
      if (url !== undefined) seen.set(url, [...(seen.get(url) ?? []), where]);
    };
    add(prm.challenge?.resourceMetadata, 'anonymous 401');
    const invalid = await mcpCall(t.http, t.target, t.revision, {
      ...(await protectedRequest(t, 'MCP request with an invalid token')),
      token: 'mcp-auth-conformance-not-a-token',
    });
    if (invalid.response.status === 401) add(challengedMetadataUrl(invalid.response), 'invalid-token 401');
    const insufficient = await insufficientScopeAnswer(t, prm);
    if (insufficient?.status === 403) add(challengedMetadataUrl(insufficient), 'insufficient-scope 403');
    if (seen.size === 0) {
      t.notApplicable('no challenge named a resource_metadata URL (see RS-401-03)');
      return;
    }
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      [...seen].map(async ([url, where]) => {
        if (!URL.canParse(url)) {
          rows.push({ url, where, problems: ['not an absolute URL'] });
          t.violated(`resource_metadata "${url}" (${where.join(', ')}) is not an absolute URL`);
          return;
        }
        let res: HttpResponse;
        try {
          res = await t.http.request(url, {
            headers: { accept: 'application/json', 'mcp-protocol-version': t.revision },
            label: 'PRM named by a challenge',
          });
        } catch (err) {
          // A URL on an origin the target never named in discovery is not contacted (DESIGN.md).
          if (!(err instanceof HttpTransportError) || err.kind !== 'forbidden-origin') throw err;
          rows.push({ url, where, problems: ['not contacted: another origin'] });
          t.note(
            `resource_metadata ${url} (${where.join(', ')}) is on an origin the harness does not contact`,
          );
          return;
        }
        const problems = metadataProblems(res);
        rows.push({ url, where, status: res.status, problems });
        if (problems.length > 0)
          t.violated(`resource_metadata ${url} (named by the ${where.join(', ')}): ${problems.join('; ')}`, {
            exchanges: [res.exchange],
          });
      }),
    );
    t.data('urls', rows);
    const fetched = rows.filter((r) => r.status !== undefined).length;
    if (fetched > 0) t.conforms(`${fetched} distinct resource_metadata URL(s) fetched and judged`);
    else t.notApplicable('no resource_metadata URL a challenge named could be fetched');
  },
});

/**
 * A request whose token lacks a scope the operation needs, to provoke the 403 challenge: a grant
 * for the scopes the metadata lists but the challenge does not ask for, then the protected method
 * (after the handshake of the revision). Undefined, with a note, when no such grant can be had.
 */
async function insufficientScopeAnswer(
  t: CheckContext,
  prm: ProtectedResourceDiscovery,
): Promise<HttpResponse | undefined> {
  const challenge = prm.challenge && bearerChallenge(parseWwwAuthenticate(prm.challenge.wwwAuthenticate));
  const asked = (challenge && param(challenge, 'scope'))?.split(' ') ?? [];
  const supported = prm.prm?.scopes_supported;
  // A broad scope that the operator declared to imply an asked one (--scope-implies; MCP
  // 2026-07-28 §Step-Up: servers account for scope hierarchies) would not lack it: left out.
  const implies = t.options.scopeImplies ?? {};
  const coversAsked = (s: string) => (implies[s] ?? []).some((narrow) => asked.includes(narrow));
  const others = Array.isArray(supported)
    ? supported.filter((s): s is string => typeof s === 'string' && !asked.includes(s) && !coversAsked(s))
    : [];
  t.data('narrowerScope', others.join(' '));
  if (asked.length === 0 || others.length === 0) {
    t.note('no 403 was provoked: no scope outside the challenge scope is known to ask a narrower token for');
    return undefined;
  }
  let token: string;
  try {
    token = (await t.freshGrant({ scope: others.join(' ') })).tokens.accessToken;
  } catch (err) {
    t.note(`no 403 was provoked: a grant for scope "${others.join(' ')}" failed (${(err as Error).message})`);
    return undefined;
  }
  const probe = protectedProbe(t.revision, 'MCP request with a token lacking the challenge scope');
  let session: McpSession | undefined;
  if (probe.method === 'initialize') {
    // 2025 revisions: the handshake needs no scope; the first scoped call is tools/list.
    session = (await openSession(t.http, t.target, t.revision, token).catch(() => undefined))?.session;
    if (!session) {
      t.note('no 403 was provoked: the handshake with the narrower token failed');
      return undefined;
    }
  }
  const reply = await mcpCall(t.http, t.target, t.revision, {
    method: 'tools/list',
    params: {},
    token,
    label: probe.label,
    ...(session ? { session } : {}),
  });
  if (reply.response.status !== 403)
    t.note(
      `the request with a token lacking "${asked.join(' ')}" was answered ${reply.response.status}, not 403`,
    );
  return reply.response;
}

export const checks = [
  RS_PRM_01,
  RS_PRM_02,
  RS_PRM_03,
  RS_PRM_04,
  RS_PRM_05,
  RS_PRM_06,
  RS_PRM_07,
  RS_PRM_08,
  RS_PRM_09,
  RS_PRM_10,
  RS_PRM_11,
  RS_PRM_12,
  RS_PRM_13,
  RS_PRM_14,
  RS_PRM_15,
];
