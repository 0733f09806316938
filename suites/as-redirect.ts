// AS — redirect URIs (OAuth 2.1 §2.3, §4.1.1, §4.1.2.1; RFC 8252 §7.3; RFC 9700 §2.1, §4.1).
// Requirements §2.7, rows AS-REDIR-*, plus two families from ../shared/security-checks.md (OAuch):
// AS-XREDIR-01 (redirect-URI confusion encodings, row AZ-03) and AS-XCODE-01 (code pollution, AZ-04).
// Every probe is read from its Location header; the harness never goes where it points.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { OAuthStepError, type RegisteredClient, registerClient } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  accepted,
  type AuthzOutcome,
  type AuthzSetup,
  authzSetup,
  buildUrl,
  controlAccepted,
  describe,
  evidence,
  outcomeRow,
  sendRaw,
  sendWithLogin,
  validRequest,
  withParam,
} from './as-authorize-probe.ts';

const NEEDS = ['prm', 'as', 'client'] as const;
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);

/** OAuch's four outcomes of a request with a redirect URI that is not the registered one. */
type Verdict = 'error shown' | 'request denied' | 'parameter ignored' | 'redirect allowed';

/**
 * Classifies the answer to a request whose redirect_uri is a variant of `registered`. Only a
 * redirect to the registered URI itself (no userinfo, no fragment, nothing but response
 * parameters added) counts as "the variant was not used".
 */
function classify(o: AuthzOutcome): Verdict {
  if (o.kind === 'page') return 'error shown';
  if (o.kind === 'redirect-elsewhere') return 'redirect allowed';
  if (o.location && (o.location.username || o.location.password || o.location.hash))
    return 'redirect allowed';
  return o.error ? 'request denied' : 'parameter ignored';
}

/** Sends each variant as redirect_uri of a valid request (in parallel) and judges "no redirect to it". */
async function variantProbes(
  t: CheckContext,
  setup: AuthzSetup,
  variants: readonly [string, string][],
): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const outs = await Promise.all(
    variants.map(async ([label, uri]) => {
      const { params } = await validRequest(setup, { redirectUri: uri });
      const out = await sendRaw(
        t,
        buildUrl(setup.endpoint, params),
        `authorization request, redirect_uri ${label}`,
        setup.redirectUri,
      );
      const verdict = classify(out);
      rows.push({ variant: label, redirect_uri: uri, verdict, ...outcomeRow(label, out) });
      return { label, uri, out, verdict };
    }),
  );
  t.data('registered', setup.redirectUri);
  t.data('variants', rows);
  const allowed = outs.filter((o) => o.verdict === 'redirect allowed');
  for (const o of allowed)
    t.violated(`${o.label} (${o.uri}): the AS redirected to it (${describe(o.out)})`, evidence(o.out));
  // "Nothing was redirected to" proves exact matching only when the registered URI itself works.
  if (allowed.length === 0 && (await controlAccepted(t, setup, 'the variant redirect URIs', 'raw'))) {
    const ignored = outs.filter((o) => o.verdict === 'parameter ignored').map((o) => o.label);
    if (ignored.length > 0)
      t.note(
        `the AS ignored the mismatching redirect_uri and used the registered one for: ${ignored.join(', ')}`,
      );
    t.conforms(`none of ${outs.length} variants was redirected to (${tally(outs.map((o) => o.verdict))})`);
  }
}

function tally(verdicts: Verdict[]): string {
  const counts = new Map<Verdict, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

/** origin + path of the registered URI, and its parts. */
function parts(registered: string) {
  const u = new URL(registered);
  return { u, base: `${u.origin}${u.pathname === '/' ? '' : u.pathname}`, path: u.pathname };
}

export const AS_REDIR_01 = defineCheck({
  id: 'AS-REDIR-01',
  title: 'A redirect_uri not exactly equal to a registered one is never redirected to',
  level: 'MUST',
  refs: [
    'OAuth 2.1 §2.3.1, §4.1.1, §4.1.2.1',
    'RFC9700 §2.1',
    'MCP 2025-06-18 §Open Redirection',
    'RFC3986 §6.2.1',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST reject authorization requests that specify a redirect URI that doesn't exactly match one that was registered, with an exception for loopback redirects, where an exact match is required except for the port URI component, see Section 4.1.1 for details.",
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'If the request fails due to a missing, invalid, or mismatching redirect URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user agent to the invalid redirect URI.',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-redirect-uri-prefix-match'],
  requirement:
    "redirect_uri is compared with the registered URIs by simple string comparison (the only exception: the port of a loopback IP). Variants of the harness's registered URI (other host, extra segment, added query, trailing slash, case, subdomain, userinfo, fragment, encoded slash, other scheme) get an error shown to the user and no redirect to the variant.",
  remediation:
    'Compare redirect_uri with the registered values as exact strings; show an error page on mismatch.',
  probe: 'Ten valid requests, each with a variant of the registered redirect URI.',
  control:
    "The same client's valid request with the registered redirect URI, sent raw: accepted, it shows that no variant being redirected to is exact matching, not an AS that refuses everything. A variant redirected to needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { u, base, path } = parts(setup.redirectUri);
    const otherScheme = u.protocol === 'http:' ? 'https:' : 'http:';
    await variantProbes(t, setup, [
      ['other host', `https://evil.example${path}`],
      ['extra path segment', `${base}/x`],
      ['added query', `${base}?x=1`],
      ['trailing slash', `${base}/`],
      ['case of the path', `${u.origin}${path.toUpperCase()}`],
      [
        'subdomain of an attacker',
        `${u.protocol}//${u.hostname}.evil.example${u.port ? `:${u.port}` : ''}${path}`,
      ],
      ['userinfo', `${u.protocol}//${u.host}@evil.example${path}`],
      ['fragment', `${setup.redirectUri}#f`],
      ['encoded slash', `${base}%2Fx`],
      ['other scheme', `${otherScheme}//${u.host}${path}`],
    ]);
  },
});

export const AS_XREDIR_01 = defineCheck({
  id: 'AS-XREDIR-01',
  title: 'Redirect-URI confusion encodings are never redirected to',
  level: 'MUST',
  refs: [
    'security-checks.md AZ-03 (OAuch RedirectUriConfusionTest, RedirectUriPathMatchedTest)',
    'RFC9700 §2.1, §4.1.3',
    'OAuth 2.1 §4.1.1',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST reject authorization requests that specify a redirect URI that doesn't exactly match one that was registered, with an exception for loopback redirects, where an exact match is required except for the port URI component, see Section 4.1.1 for details.",
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'If the request fails due to a missing, invalid, or mismatching redirect URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user agent to the invalid redirect URI.',
    },
    {
      source: 'RFC 9700',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'This means the authorization server MUST ensure that the two URIs are equal, see [RFC3986], Section 6.2.1, Simple String Comparison, for details.',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-redirect-uri-prefix-match'],
  requirement:
    "From security-checks.md (OAuch's path-confusion set): each encoding of a path escape from the registered redirect URI (dot segments plain, percent-encoded and double-encoded, `;`, encoded `?`, `#` and `\\`, `//`, userinfo pointing at the registered host) is a separate probe. The answer is classified as error shown, request denied, parameter ignored or redirect allowed (table in the result data); any redirect to the confused URI fails.",
  remediation:
    'Match redirect URIs as exact strings before any decoding or normalisation; never use prefix, pattern or path-normalised matching.',
  probe: 'Fourteen valid requests, each with a path-confusion variant of the registered redirect URI.',
  control:
    "The same client's valid request with the registered redirect URI, sent raw: accepted, it shows that no variant being redirected to is exact matching, not an AS that refuses everything. A variant redirected to needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { u, base, path } = parts(setup.redirectUri);
    await variantProbes(t, setup, [
      ['/../', `${base}/../evil`],
      ['/..%2F', `${base}/..%2Fevil`],
      ['%2F..%2F', `${base}%2F..%2Fevil`],
      ['/%2E%2E/', `${base}/%2E%2E/evil`],
      ['/.%2E/', `${base}/.%2E/evil`],
      [';/../', `${base};/../evil`],
      ['%252F (double encoding)', `${base}%252F..%252Fevil`],
      ['%3F (encoded ?)', `${base}%3Fx=1`],
      ['%23 (encoded #)', `${base}%23x`],
      ['%5C (encoded \\)', `${base}%5C..%5Cevil`],
      ['// path', `${u.origin}//evil.example${path}`],
      ['userinfo at the registered host', `${u.protocol}//evil.example@${u.host}${path}`],
      ['extra segment', `${base}/evil`],
      ['suffix on the last segment', `${base}.evil`],
    ]);
  },
});

export const AS_XCODE_01 = defineCheck({
  id: 'AS-XCODE-01',
  title: "An attacker's `code` in the redirect URI's query never reaches the callback beside the real one",
  level: 'MUST',
  refs: ['security-checks.md AZ-04 (OAuch CodePollutionTest)', 'OAuth 2.1 §2.3.1, §4.1.2', 'RFC9700 §4.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST reject authorization requests that specify a redirect URI that doesn't exactly match one that was registered, with an exception for loopback redirects, where an exact match is required except for the port URI component, see Section 4.1.1 for details.",
    },
    {
      source: 'RFC 9700',
      section: '4.1.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'This means the authorization server MUST ensure that the two URIs are equal, see [RFC3986], Section 6.2.1, Simple String Comparison, for details.',
    },
    {
      source: 'MCP 2025-06-18',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Open Redirection',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST validate exact redirect URIs against pre-registered values to prevent redirection attacks.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-redirect-uri-prefix-match'],
  requirement:
    "From security-checks.md (OAuch code pollution): a request whose redirect_uri is the registered one plus `?code=<attacker>` is refused by exact matching; if the AS redirects at all, the callback never carries the attacker's code (alone or next to a real one), which a client could redeem in the victim's session.",
  remediation:
    'Match redirect URIs exactly (so the polluted URI is refused); never append a code to a URI that already has one.',
  probe: 'Valid request with redirect_uri=<registered>?code=attacker-code-polluted.',
  control:
    "When the polluted redirect URI is refused: the same client's valid request with the registered redirect URI, sent raw, is accepted, which shows the refusal is about the polluted URI. A redirect is judged on the codes it carries and needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const polluted = new URL(setup.redirectUri);
    const attacker = 'attacker-code-polluted';
    polluted.searchParams.append('code', attacker);
    const { params } = await validRequest(setup, { redirectUri: polluted.href });
    const out = await sendRaw(
      t,
      buildUrl(setup.endpoint, params),
      'authorization request, code in the redirect URI',
      setup.redirectUri,
    );
    const codes = out.location?.searchParams.getAll('code') ?? [];
    t.data('outcome', {
      ...outcomeRow('polluted redirect_uri', out),
      codes: codes.length,
      attackerCode: codes.includes(attacker),
    });
    if (codes.includes(attacker))
      t.violated(
        `the callback carries the attacker's code${codes.length > 1 ? ' next to the real one' : ''} (${codes.length} code parameters)`,
        evidence(out),
      );
    else if (out.kind !== 'page')
      t.conforms(`the AS redirected without the attacker's code: ${describe(out)}`);
    else if (await controlAccepted(t, setup, 'the code in the redirect URI', 'raw'))
      t.conforms(`the polluted redirect URI was refused: ${describe(out)}`);
  },
});

export const AS_REDIR_02 = defineCheck({
  id: 'AS-REDIR-02',
  title: 'Loopback IP redirect URIs match with any port; path and scheme stay exact',
  level: 'MUST',
  refs: ['RFC8252 §7.3', 'OAuth 2.1 §4.1.1, §8.4.2', 'requirements §3 A9'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '8.4.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST allow any port to be specified at the time of the request for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral port from the operating system at the time of the request.',
    },
    {
      source: 'RFC 8252',
      section: '7.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The authorization server MUST allow any port to be specified at the time of the request for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral port from the operating system at the time of the request.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "Authorization servers MUST reject authorization requests that specify a redirect URI that doesn't exactly match one that was registered, with an exception for loopback redirects, where an exact match is required except for the port URI component, see Section 4.1.1 for details.",
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-loopback-port-strict'],
  requirement:
    'For a registered `http://127.0.0.1/...` or `http://[::1]/...` redirect URI the AS accepts any port at request time (native apps get an ephemeral port), while another path on that loopback host is still refused.',
  remediation:
    'When comparing loopback IP redirect URIs, ignore the port and compare everything else exactly.',
  probe:
    'Valid request with the registered loopback URI on another port; and with another path on that port.',
  control:
    "When the other port is refused: the same client's valid request on the registered port, sent raw, is accepted, which shows the refusal is about the port. A redirect to another path needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const u = new URL(setup.redirectUri);
    if (u.protocol !== 'http:' || !LOOPBACK_IPS.has(u.hostname)) {
      t.notApplicable(`the harness client's redirect URI ${setup.redirectUri} is not a loopback IP URI`);
      return;
    }
    const other = new URL(setup.redirectUri);
    other.port = String(((Number(u.port || 80) + 1) % 65535) + 1);
    const otherPath = new URL(other.href);
    otherPath.pathname = `${u.pathname.replace(/\/$/, '')}-other`;
    // The other port through the login when the AS shows a page (a sign-in or consent page for
    // that URI is legitimate); the other path raw: any redirect to it is the defect.
    const [same, wrongPath] = await Promise.all([
      validRequest(setup, { redirectUri: other.href }).then(({ params }) =>
        sendWithLogin(
          t,
          setup,
          buildUrl(setup.endpoint, params),
          `authorization request, loopback ${other.href}`,
          other.href,
        ),
      ),
      validRequest(setup, { redirectUri: otherPath.href }).then(({ params }) =>
        sendRaw(
          t,
          buildUrl(setup.endpoint, params),
          `authorization request, loopback ${otherPath.href}`,
          otherPath.href,
        ),
      ),
    ]);
    t.data('probes', [
      outcomeRow(`other port (${other.href})`, same!),
      outcomeRow(`other port and path (${otherPath.href})`, wrongPath!),
    ]);
    if (same!.kind === 'redirect' && same!.code) t.conforms(`another port was accepted: ${describe(same!)}`);
    else if (same!.kind === 'page' && same!.status < 400)
      t.prerequisiteMissing(
        `the AS showed a page (${describe(same!)}) that the login driver could not complete for another port`,
        'use --login auto, form or browser (the manual login listens on one port only)',
      );
    else if (await controlAccepted(t, setup, 'another port', 'raw'))
      t.violated(
        `the registered loopback URI on another port was refused (${describe(same!)}), while the registered port was accepted`,
        evidence(same!),
      );
    if (wrongPath!.kind === 'redirect' || wrongPath!.kind === 'redirect-elsewhere')
      t.violated(
        `another path on the loopback host was redirected to: ${describe(wrongPath!)}`,
        evidence(wrongPath!),
      );
  },
});

/** Registers a client of the check's own; undefined (after a skip) when the AS has no DCR. */
async function ownClient(
  t: CheckContext,
  setup: AuthzSetup,
  redirectUris: string[],
  name: string,
): Promise<RegisteredClient | undefined> {
  if (typeof setup.as.metadata.registration_endpoint !== 'string') {
    t.notApplicable(
      'the AS offers no registration_endpoint, so the harness cannot register the client this check needs',
    );
    return undefined;
  }
  try {
    return await registerClient(t.http, setup.as, { redirectUris, authMethod: 'none', clientName: name });
  } catch (err) {
    if (!(err instanceof OAuthStepError)) throw err;
    t.notApplicable(
      `the AS refused to register a client with redirect URIs ${redirectUris.join(', ')}: ${err.message}`,
    );
    return undefined;
  }
}

export const AS_REDIR_03 = defineCheck({
  id: 'AS-REDIR-03',
  title: 'Port flexibility for `http://localhost` redirect URIs (recorded)',
  level: 'MAY',
  refs: [
    'RFC9700 §2.1 ("localhost redirection URIs")',
    'RFC8252 §8.3 (localhost NOT RECOMMENDED)',
    'requirements §3 A9',
  ],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.1',
      keyword: 'MUST',
      binds: 'context',
      text: 'When comparing client redirect URIs against pre-registered URIs, authorization servers MUST utilize exact string matching except for port numbers in localhost redirection URIs of native apps (see Section 4.1.3).',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '8.4.2',
      keyword: 'NOT RECOMMENDED',
      binds: 'client',
      text: 'While redirect URIs using the name localhost (i.e., http://localhost:{port}/{path}) function similarly to loopback IP redirects, the use of localhost is NOT RECOMMENDED.',
    },
  ],
  derived:
    'RFC 9700 §2.1 exempts the port of localhost redirect URIs of native apps from exact matching (an allowance, not a duty), while OAuth 2.1 §8.4.2 and RFC 8252 §8.3 advise against localhost and bind the any-port rule to loopback IP literals: whether the port may vary is recorded, not judged.',

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: [],
  requirement:
    'Informational (requirements §3 A9): whether a registered `http://localhost:<port>/...` redirect URI is accepted on another port. The specs disagree, so either answer is recorded, none judged; no fault.',
  remediation: 'None required; prefer 127.0.0.1 redirect URIs (RFC 8252 §8.3).',
  probe: 'Register a client with http://localhost:<p>/callback; request with another port.',
  control:
    'None: the check records what the AS does with http://localhost on another port (info), it judges no refusal.',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const port = Number(new URL(setup.redirectUri).port || 8080);
    const client = await ownClient(
      t,
      setup,
      [`http://localhost:${port}/callback`],
      'mcp-auth-conformance (localhost)',
    );
    if (!client) return;
    const other = `http://localhost:${(port % 65000) + 1}/callback`;
    const { params } = await validRequest(setup, { client, redirectUri: other });
    const out = await sendRaw(
      t,
      buildUrl(setup.endpoint, params),
      'authorization request, localhost on another port',
      other,
    );
    t.data('outcome', outcomeRow(other, out));
    // A redirect carrying an error is a refusal; a step within the AS (its sign-in) decides nothing yet.
    const answer =
      out.kind === 'redirect'
        ? out.error
          ? 'refused by an error redirect to that port'
          : 'accepted'
        : out.kind === 'page' && out.status < 400
          ? 'not refused before sign-in'
          : 'refused';
    t.observe(`http://localhost on another port: ${answer} (${describe(out)})`);
  },
});

export const AS_REDIR_04 = defineCheck({
  id: 'AS-REDIR-04',
  title: 'Non-loopback http redirect URIs are refused at registration',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Communication Security ("MUST be either localhost or use HTTPS")',
    'RFC9700 §2.6',
    'RFC7591 §3.2.2',
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
      source: 'MCP 2025-06-18',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'context',
      text: 'All redirect URIs MUST be either localhost or use HTTPS.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'context',
      text: 'All redirect URIs MUST be either localhost or use HTTPS.',
    },
    {
      source: 'MCP 2026-07-28',
      section: 'Communication Security',
      keyword: 'MUST',
      binds: 'context',
      text: 'All redirect URIs MUST be either localhost or use HTTPS.',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-dcr-http-redirect-accepted'],
  requirement:
    'Dynamic registration of a client with `http://app.example/cb` (plain http, not loopback) is refused (400, e.g. invalid_redirect_uri). The CIMD half of the row is left to AS-CIMD-*.',
  remediation: 'Accept https redirect URIs, and http only on loopback hosts.',
  probe: 'DCR with redirect_uris ["http://app.example/cb"].',
  control:
    'The same registration with an https redirect URI (https://app.example/cb): accepted, it shows the refusal of http://app.example/cb is about the scheme. A registration accepted needs no control.',
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    if (typeof setup.as.metadata.registration_endpoint !== 'string') {
      t.notApplicable('the AS offers no registration_endpoint');
      return;
    }
    try {
      const client = await registerClient(t.http, setup.as, {
        redirectUris: ['http://app.example/cb'],
        authMethod: 'none',
        applicationType: 'web',
        clientName: 'mcp-auth-conformance (http redirect)',
      });
      t.data('registered', client.redirectUris);
      t.violated(`the AS registered a client with http://app.example/cb (client_id ${client.clientId})`);
    } catch (err) {
      if (!(err instanceof OAuthStepError)) throw err;
      t.data('refusal', { error: err.error ?? null, status: err.status ?? null });
      // Control: the same registration with an https redirect URI is accepted.
      try {
        await registerClient(t.http, setup.as, {
          redirectUris: ['https://app.example/cb'],
          authMethod: 'none',
          applicationType: 'web',
          clientName: 'mcp-auth-conformance (https redirect, control)',
        });
        t.conforms(
          `registration refused: ${err.message} (the same registration with https://app.example/cb was accepted)`,
        );
      } catch (controlErr) {
        if (!(controlErr instanceof OAuthStepError)) throw controlErr;
        t.inconclusive(
          `control failed: the registration with http://app.example/cb was refused (${err.message}), but so was the same registration with https://app.example/cb (${controlErr.message})`,
        );
      }
    }
  },
});

export const AS_REDIR_05 = defineCheck({
  id: 'AS-REDIR-05',
  title: 'A missing or unknown client_id is never redirected',
  level: 'MUST',
  refs: ['OAuth 2.1 §2.3.5, §4.1.2.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'If the request fails due to a missing, invalid, or mismatching redirect URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user agent to the invalid redirect URI.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.12.2',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'Section 4.1.2.1 already prevents open redirects by stating that the AS MUST NOT automatically redirect the user agent in case of an invalid combination of client_id and redirect_uri.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-unknown-client-redirects'],
  requirement:
    'Without a valid client there is no verified redirect URI: a request with an unknown or missing client_id gets an error page, never a redirect to the redirect_uri it names.',
  remediation:
    'Validate client_id before anything else and show an error page when it is unknown or missing.',
  probe:
    "Valid requests with client_id=unknown-<random>, and with no client_id, naming the harness's redirect URI.",
  control:
    "The same client's valid request with its own client_id, sent raw: accepted, it shows the page for an unknown or missing client_id is about the client_id. A redirect needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const rows: Record<string, unknown>[] = [];
    await Promise.all(
      (
        [
          ['unknown client_id', `unknown-${crypto.randomUUID()}`],
          ['missing client_id', undefined],
        ] as [string, string | undefined][]
      ).map(async ([label, clientId]) => {
        const { params } = await validRequest(setup);
        const out = await sendRaw(
          t,
          buildUrl(setup.endpoint, withParam(params, 'client_id', clientId)),
          `authorization request, ${label}`,
        );
        rows.push(outcomeRow(label, out));
        if (out.kind !== 'page') t.violated(`${label}: redirected (${describe(out)})`, evidence(out));
        else if (await controlAccepted(t, setup, `a ${label}`, 'raw'))
          t.conforms(`${label}: ${describe(out)}`);
      }),
    );
    t.data('probes', rows);
  },
});

export const AS_REDIR_06 = defineCheck({
  id: 'AS-REDIR-06',
  title: 'A client with several redirect URIs must name one',
  level: 'MUST',
  refs: ['OAuth 2.1 §2.3.2', 'OAuth 2.1 §4.1.1 (redirect_uri REQUIRED if more than one is registered)'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST NOT',
      binds: 'authorization-server',
      text: 'If the request fails due to a missing, invalid, or mismatching redirect URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user agent to the invalid redirect URI.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3.2',
      keyword: 'MUST',
      binds: 'client',
      text: 'If multiple redirect URIs have been registered to a client, the client MUST include a redirect URI with the authorization request using the redirect_uri request parameter (Section 4.1.1).',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'REQUIRED',
      binds: 'client',
      text: '"redirect_uri": OPTIONAL if only one redirect URI is registered for this client. REQUIRED if multiple redirict URIs are registered for this client.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-redirect-uri-default-multiple'],
  requirement:
    'For a client registered with two redirect URIs, a request without redirect_uri is an error shown to the user; the AS does not pick one and redirect to it.',
  remediation: 'Require redirect_uri when the client registered more than one.',
  probe: 'Register a client with two loopback redirect URIs; valid request without redirect_uri.',
  control:
    "The same client's request naming one of its two redirect URIs, sent raw: accepted, it shows the refusal without redirect_uri is about the missing parameter. A redirect needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const second = new URL(setup.redirectUri);
    second.pathname = `${second.pathname.replace(/\/$/, '')}-2`;
    const client = await ownClient(
      t,
      setup,
      [setup.redirectUri, second.href],
      'mcp-auth-conformance (two redirect URIs)',
    );
    if (!client) return;
    const { params } = await validRequest(setup, { client });
    const out = await sendRaw(
      t,
      buildUrl(setup.endpoint, withParam(params, 'redirect_uri', undefined)),
      'authorization request without redirect_uri (two registered)',
      setup.redirectUri,
    );
    t.data('outcome', outcomeRow('no redirect_uri', out));
    if (out.kind !== 'page')
      t.violated(`the AS picked a redirect URI itself: ${describe(out)}`, evidence(out));
    else {
      // Control: the same client's request naming one of its redirect URIs is accepted.
      const control = await sendRaw(
        t,
        buildUrl(setup.endpoint, params),
        'control: the same request naming a redirect URI',
        setup.redirectUri,
      );
      t.data('control', outcomeRow('with redirect_uri', control));
      if (accepted(control)) t.conforms(`no redirect: ${describe(out)}`);
      else
        t.inconclusive(
          `control failed: without redirect_uri the AS answered ${describe(out)}, and with one it did not accept the request either (${describe(control)})`,
        );
    }
  },
});

export const AS_REDIR_07 = defineCheck({
  id: 'AS-REDIR-07',
  title: 'The query of a registered redirect URI is kept in the response',
  level: 'MUST',
  refs: ['OAuth 2.1 §2.3 ("MUST retain that query component")', 'OAuth 2.1 §4.1.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'The redirect URI MAY include an query string component (Appendix C.1), which MUST be retained when adding additional query parameters.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-redirect-query-dropped'],
  requirement:
    'When the registered redirect URI has a query (`?tenant=1`), the AS adds code and state to it and keeps `tenant=1`.',
  remediation: 'Append response parameters to the existing query instead of replacing it.',
  probe: 'Register a client with <loopback>/callback?tenant=1; valid request with that redirect URI.',
  control:
    "When the request with the registered query is refused: the same client's valid request with a redirect URI without query, sent raw, is accepted, which shows the refusal is about the query. A redirect is judged on the query it keeps.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const withQuery = new URL(setup.redirectUri);
    withQuery.searchParams.set('tenant', '1');
    const client = await ownClient(
      t,
      setup,
      [withQuery.href],
      'mcp-auth-conformance (redirect URI with query)',
    );
    if (!client) return;
    const { params } = await validRequest(setup, { client, redirectUri: withQuery.href });
    const out = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, params),
      'authorization request, redirect URI with a query',
      withQuery.href,
    );
    t.data('outcome', {
      ...outcomeRow('redirect URI with ?tenant=1', out),
      tenant: out.location?.searchParams.get('tenant') ?? null,
    });
    if (out.kind === 'page' && out.status < 400) {
      t.prerequisiteMissing(
        `the AS showed a page (${describe(out)}) that the login driver could not complete for this redirect URI`,
        'use --login auto, form or browser (the manual login listens on one redirect URI only)',
      );
    } else if (out.location?.searchParams.get('tenant') === '1' && out.kind === 'redirect')
      t.conforms(`the response kept tenant=1: ${describe(out)}`);
    else if (out.kind !== 'page')
      t.violated(`the registered query was not kept: ${describe(out)}`, evidence(out));
    else if (await controlAccepted(t, setup, 'a registered redirect URI with a query', 'raw'))
      t.violated(
        `the request with the registered redirect URI ?tenant=1 was refused (${describe(out)}), while a redirect URI without query is accepted`,
        evidence(out),
      );
  },
});

export const checks = [
  AS_REDIR_01,
  AS_REDIR_02,
  AS_REDIR_03,
  AS_REDIR_04,
  AS_REDIR_05,
  AS_REDIR_06,
  AS_REDIR_07,
  AS_XREDIR_01,
  AS_XCODE_01,
];
