// RS — Protected Resource Metadata (RFC 9728). Requirements §2.1, rows RS-PRM-*.
// The `prm` fixture is the discovery the MCP client performs (requirements §4.4): the anonymous
// request's challenge first, then the path-inserted, then the root well-known URL.

import {
  attemptExchanges,
  attemptsTable,
  assertSomeAnswer,
  describeAttempts,
} from '../runner/check-helpers.ts';
import { defineCheck } from '../runner/check.ts';
import { prmWellKnownUrls } from '../runner/discovery.ts';
import { REVISIONS } from '../runner/revisions.ts';

const PRM_SUFFIX = '/.well-known/oauth-protected-resource';

export const RS_PRM_01 = defineCheck({
  id: 'RS-PRM-01',
  title: 'The MCP server publishes protected-resource metadata',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Authorization Server Location',
    'MCP 2025-11-25 §Protected Resource Metadata Discovery Requirements',
    'RFC9728 §3',
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
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-wrong-content-type'],
  requirement:
    'A GET of the protected-resource metadata URL answers 200 with Content-Type application/json (parameters such as charset allowed) and a body that is a JSON object.',
  remediation:
    'Answer the metadata GET with status 200, `Content-Type: application/json` and a JSON object body.',
  probe: 'GET the metadata URL found by discovery.',
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
    const problems: string[] = [];
    if (res.status !== 200) problems.push(`status is ${res.status}, not 200`);
    // RFC 9110 §8.3.1: the media type is case-insensitive; parameters are not part of it.
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json')
      problems.push(`Content-Type is "${res.headers.get('content-type') ?? '(none)'}", not application/json`);
    const body = res.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      problems.push('the body is not a JSON object');
    if (problems.length > 0) t.violated(`${prm.prmUrl}: ${problems.join('; ')}`);
    else t.conforms(`${prm.prmUrl} answers 200 application/json with a JSON object`);
  },
});

export const RS_PRM_03 = defineCheck({
  id: 'RS-PRM-03',
  title: 'Protected-resource metadata is readable without credentials',
  level: 'MUST',
  refs: [
    'RFC9728 §5 (derived: the metadata is how a client learns to get credentials)',
    'MCP 2025-06-18 §Authorization Flow Steps',
  ],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-requires-auth'],
  requirement:
    'The protected-resource metadata answers a request without Authorization with 200, never 401 or 403: it is the bootstrap for obtaining a token.',
  remediation: 'Exempt the /.well-known/oauth-protected-resource… URLs from authentication.',
  probe: 'The discovery GETs, which carry no Authorization header.',
  async run(t) {
    const prm = await t.fixture('prm');
    const refused = prm.attempts.filter((a) => a.status === 401 || a.status === 403);
    if (prm.prmUrl) {
      t.conforms(`${prm.prmUrl} answered 200 to a request without credentials`);
    } else if (refused.length > 0) {
      t.violated(`the metadata refused a request without credentials: ${describeAttempts(refused)}`, {
        exchanges: attemptExchanges(refused),
      });
    } else {
      t.notApplicable('no protected-resource metadata was found (see RS-PRM-01)');
    }
  },
});

export const RS_PRM_04 = defineCheck({
  id: 'RS-PRM-04',
  title: 'PRM `resource` is an absolute https URL without a fragment',
  level: 'MUST',
  refs: ['RFC9728 §2 (resource)', 'RFC9728 §1.2 (protected resource identifier)'],
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-resource-missing', 'rs-prm-resource-fragment'],
  requirement:
    'The metadata has a `resource` member: an absolute URL with the https scheme and no fragment (http is tolerated for loopback hosts, a development setup); it SHOULD NOT contain a query (reported as a note).',
  remediation: 'Set `resource` to the https URL of the MCP endpoint, without fragment or query.',
  probe: 'Parse `resource` of the discovered metadata.',
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
  level: 'MUST',
  refs: ['RFC9728 §3.3', 'RFC9728 §7.3', 'RFC9728 §6 (no normalization)'],
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
      t.violated(
        typeof resource === 'string'
          ? `${url} says resource "${resource}", but the identifier its URL was built from is "${expected}"`
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
  revisions: REVISIONS,
  needs: ['prm'],
  faults: ['rs-prm-no-authorization-servers'],
  requirement:
    '`authorization_servers` is present and is a JSON array of at least one issuer string (optional in RFC 9728, mandatory for MCP servers).',
  remediation: 'Add `"authorization_servers": ["<issuer of your authorization server>"]` to the metadata.',
  probe: 'Read authorization_servers of the discovered metadata.',
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

export const checks = [RS_PRM_01, RS_PRM_02, RS_PRM_03, RS_PRM_04, RS_PRM_05, RS_PRM_07];
