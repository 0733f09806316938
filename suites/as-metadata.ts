// AS — authorization-server metadata (RFC 8414 / OIDC Discovery). Requirements §2.6, rows AS-META-*.
// The `as` fixture is discovery for the first `authorization_servers` entry of the PRM, in the
// MCP order of the revision (requirements §4.4): 2025-06-18 RFC 8414 only; later revisions OAuth
// insert, OIDC insert, OIDC append.

import {
  attemptExchanges,
  attemptsTable,
  assertSomeAnswer,
  describeAttempts,
} from '../runner/check-helpers.ts';
import { defineCheck } from '../runner/check.ts';
import { REVISIONS, since } from '../runner/revisions.ts';

export const AS_META_01 = defineCheck({
  id: 'AS-META-01',
  title: 'Authorization-server metadata is served at a discovery URL of the MCP order',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Authorization Server Discovery (RFC 8414)',
    'MCP 2025-11-25 §Authorization Server Metadata Discovery (RFC 8414 or OIDC Discovery)',
    'RFC8414 §3',
  ],
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-missing'],
  requirement:
    'The authorization server named in the protected-resource metadata answers 200 with a JSON object at one of the well-known URLs an MCP client tries for the revision (2025-06-18: RFC 8414 only; later: RFC 8414 insert, then OIDC insert, then OIDC append).',
  remediation:
    'Serve RFC 8414 metadata at /.well-known/oauth-authorization-server (inserted before the issuer path, if any).',
  probe: 'GET each metadata URL of the issuer in the MCP order until one answers 200 with a JSON object.',
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
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-metadata-wrong-content-type'],
  requirement:
    'The metadata answer is 200 with Content-Type application/json and a JSON object body, and members with zero-element arrays are omitted rather than sent as [].',
  remediation:
    'Answer with status 200, `Content-Type: application/json`, a JSON object, and leave out empty arrays.',
  probe: 'GET the metadata URL found by discovery.',
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
    const problems: string[] = [];
    if (res.status !== 200) problems.push(`status is ${res.status}, not 200`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json')
      problems.push(`Content-Type is "${res.headers.get('content-type') ?? '(none)'}", not application/json`);
    const body = res.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      problems.push('the body is not a JSON object');
    } else {
      // RFC 8414 §3.2: "Claims with zero elements MUST be omitted from the response."
      const empty = Object.entries(body as Record<string, unknown>).filter(
        ([, v]) => Array.isArray(v) && v.length === 0,
      );
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
  revisions: REVISIONS,
  needs: ['as'],
  faults: ['as-issuer-trailing-slash'],
  requirement:
    'The `issuer` member of the metadata is identical, code point for code point, to the authorization_servers entry the metadata URL was built from; a client must not use metadata whose issuer differs.',
  remediation:
    'Publish `issuer` exactly as the protected-resource metadata names the authorization server (mind trailing slashes and case).',
  probe: 'Compare `issuer` of the discovered metadata with the authorization_servers entry.',
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
  revisions: since('2025-11-25'),
  needs: ['as'],
  faults: ['as-metadata-no-s256'],
  requirement:
    '`code_challenge_methods_supported` is present and contains "S256": an MCP client MUST refuse to proceed when it is absent (RFC 8414: absent means PKCE is not supported).',
  remediation: 'Add `"code_challenge_methods_supported": ["S256"]` to the metadata.',
  probe: 'Read code_challenge_methods_supported from the discovered metadata.',
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

export const checks = [AS_META_01, AS_META_02, AS_META_03, AS_META_06];
