// RS — audience binding (RFC 8707) and token passthrough. Requirements §2.3, rows RS-AUD-01..06.
//
// Forged tokens (the `minter` fixture) differ from an accepted one only in `aud`; each check first
// shows that the unaltered forged token is accepted (suites/token-probes.ts). The status for a
// wrong audience is 401 (requirements §3 A8: 403 is reserved for insufficient_scope).

import { defineCheck } from '../runner/check.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  ACCEPT_UPPERCASE_SCHEME_HOST,
  inMcp,
  JWT_AUDIENCE,
  ONLY_OWN_AUDIENCE,
  VALIDATE_AUDIENCE,
} from './rs-quotes.ts';
import { decodeJwtParts, judgeAllRefused, outcomeRow, presentToken, trustedForger } from './token-probes.ts';

const AUDIENCE_REFS = [
  'MCP 2025-06-18 §Token Handling',
  'MCP 2025-06-18 §Access Token Privilege Restriction',
  'RFC8707 §2',
  'RFC9068 §4',
  'RFC9700 §2.3',
];

/** The resource with another path on the same origin (`…/mcp` → `…/mcp-other`). */
function siblingResource(resource: string): string {
  const url = new URL(resource);
  url.pathname = `${url.pathname.replace(/\/$/, '')}-other`;
  return url.href;
}

/** `https://Host/path` with scheme and host in upper case (the path untouched). */
function upperCaseOrigin(resource: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(resource);
  return match ? `${match[1]!.toUpperCase()}${match[2]}` : resource.toUpperCase();
}

export const RS_AUD_01 = defineCheck({
  id: 'RS-AUD-01',
  title: 'A token issued for another resource gets 401',
  level: 'MUST',
  refs: AUDIENCE_REFS,
  quotes: [
    ...VALIDATE_AUDIENCE,
    ...JWT_AUDIENCE,
    {
      source: 'OAuth 2.1 draft-13',
      section: '7.1.4',
      text: 'If not, the resource server MUST refuse to serve the respective request.',
      keyword: 'MUST',
      binds: 'resource-server',
    },
  ],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-audience-not-checked'],
  requirement:
    'A token valid in every respect except that its `aud` names another resource is refused with 401 invalid_token: another host (https://other.example/mcp), a sibling path on the same origin, and the authorization server itself. Needs a key the target trusts (forged tokens).',
  remediation:
    'Accept a token only when its `aud` (or introspected audience) names this MCP server exactly; answer 401 invalid_token otherwise.',
  probe:
    'POST the protected request with forged tokens whose aud is another host, a sibling path, and the issuer.',
  async run(t) {
    const forger = await trustedForger(t);
    if (!forger) return;
    const { resource, issuer } = forger.minter;
    const audiences: [string, string][] = [
      ['aud of another host (https://other.example/mcp)', 'https://other.example/mcp'],
      [`aud of a sibling path on the same origin (${siblingResource(resource)})`, siblingResource(resource)],
      [`aud = the authorization server (${issuer})`, issuer],
    ];
    const outcomes = await Promise.all(
      audiences
        .filter(([, aud]) => aud !== resource)
        .map(async ([probe, aud]) => presentToken(t, await forger.mint({ claims: { aud } }), probe)),
    );
    judgeAllRefused(t, outcomes, 'tokens for another resource');
  },
});

export const RS_AUD_02 = defineCheck({
  id: 'RS-AUD-02',
  title: 'A token without an audience gets 401',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Token Handling ("MUST reject tokens that do not include them in the audience claim")',
    'RFC9068 §4',
  ],
  quotes: [...ONLY_OWN_AUDIENCE, ...JWT_AUDIENCE],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-audience-missing-accepted'],
  requirement:
    'A token valid in every respect except that it has no `aud` claim (and so no evidence that it was meant for this server) is refused with 401.',
  remediation: 'Treat a missing `aud` as "not for this resource": answer 401 invalid_token.',
  probe: 'POST the protected request with a forged token without aud.',
  async run(t) {
    const forger = await trustedForger(t);
    if (!forger) return;
    const token = await forger.mint({ omit: ['aud'] });
    judgeAllRefused(t, [await presentToken(t, token, 'a token without aud')], 'the token without audience');
  },
});

export const RS_AUD_03 = defineCheck({
  id: 'RS-AUD-03',
  title: 'A token issued without `resource` is accepted only if its audience names this server',
  level: 'MUST',
  refs: ['MCP 2025-06-18 §Token Handling', 'RFC8707 §2'],
  quotes: [...VALIDATE_AUDIENCE, ...ONLY_OWN_AUDIENCE],
  revisions: REVISIONS,
  needs: ['token'],
  faults: [],
  untestable:
    "no single reference-server fault yields an accepted token whose aud does not name the server: the harness's flow always sends resource (RFC 8707), the reference AS binds it, and a foreign-aud token is already refused unless the RS audience check is also off",
  requirement:
    "A token the authorization server issued with its default audience is accepted only when that audience still names this server. Black-box part implemented: the harness's real token is decoded and, when it is a JWT that the server accepts, its `aud` must name this server. Not implemented: an authorization flow that omits `resource` (the harness's flow always sends it, RFC 8707), so no fault of the reference server turns this check red today.",
  remediation:
    'Check `aud` against this server on every token, including tokens issued without a `resource` parameter.',
  probe: 'POST the protected request with the real token and compare its `aud` with the endpoint URL.',
  async run(t) {
    const tokens = await t.fixture('token');
    const parts = decodeJwtParts(tokens.accessToken);
    if (!parts) {
      t.notApplicable('the access token is opaque, so its audience cannot be read black-box');
      return;
    }
    const outcome = await presentToken(t, tokens.accessToken, 'the real access token');
    const aud = parts.claims.aud;
    const audiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
    t.data('aud', aud ?? null);
    t.data('probes', [outcomeRow(outcome)]);
    const names = audiences.some((a) => typeof a === 'string' && sameResource(a, t.target));
    if (!outcome.accepted) {
      t.notApplicable(
        `the real access token is refused (HTTP ${outcome.status}), so there is nothing to judge`,
      );
    } else if (names) t.conforms(`the accepted token's aud names this server (${JSON.stringify(aud)})`);
    else
      t.violated(
        `the server accepts a token whose aud ${JSON.stringify(aud ?? null)} does not name ${t.target}`,
        {
          exchanges: [outcome.exchange],
        },
      );
  },
});

/** Equal, or equal after lower-casing scheme and authority (MCP §Canonical Server URI). */
function sameResource(candidate: string, resource: string): boolean {
  return candidate === resource || upperCaseOrigin(candidate) === upperCaseOrigin(resource);
}

export const RS_AUD_04 = defineCheck({
  id: 'RS-AUD-04',
  title: 'An audience array that contains this server is accepted',
  level: 'SHOULD',
  refs: ['RFC9068 §4 ("the aud claim contains a resource indicator value")', 'RFC8707 §3', 'RFC7519 §4.1.3'],
  derived:
    'RFC 9068 §4 validates that "aud" contains this server (RFC 7519 §4.1.3: an array in the general case), but no sentence obliges a resource server to accept every multi-audience token: OAuth 2.1 §5.2 leaves room for its own policy.',
  quotes: [
    JWT_AUDIENCE[0]!,
    {
      source: 'RFC 7519',
      section: '4.1.3',
      text: 'Each principal intended to process the JWT MUST identify itself with a value in the audience claim.',
      keyword: 'MUST',
      binds: 'context',
    },
  ],
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-audience-array-rejected'],
  requirement:
    'A token whose `aud` is an array naming this server and another resource is valid for this server and accepted. Recorded with a note: multi-audience tokens are a security trade-off (RFC 8707 §3), so a server that accepts them should trust every listed audience.',
  remediation: 'Accept `aud` as a string or an array, and look for this server among the array entries.',
  probe:
    'POST the protected request with a forged token whose aud = [this server, https://other.example/mcp].',
  async run(t) {
    const forger = await trustedForger(t);
    if (!forger) return;
    const aud = [forger.minter.resource, 'https://other.example/mcp'];
    const o = await presentToken(
      t,
      await forger.mint({ claims: { aud } }),
      'aud = [this server, another resource]',
    );
    t.data('probes', [outcomeRow(o)]);
    if (o.accepted) {
      t.note(
        'multi-audience tokens are accepted: each listed resource could replay the token here (RFC 8707 §3)',
      );
      t.conforms(`the token with aud ${JSON.stringify(aud)} was accepted`);
    } else
      t.violated(`the token whose aud array names this server was refused (HTTP ${o.status})`, {
        exchanges: [o.exchange],
      });
  },
});

export const RS_AUD_05 = defineCheck({
  id: 'RS-AUD-05',
  title: 'Audience matching accepts an upper-case scheme and host',
  level: 'SHOULD',
  refs: [
    'MCP 2025-06-18 §Canonical Server URI ("SHOULD accept uppercase scheme and host")',
    'requirements §3 A2',
  ],
  quotes: ACCEPT_UPPERCASE_SCHEME_HOST,
  revisions: REVISIONS,
  needs: ['minter'],
  faults: ['rs-audience-case-sensitive'],
  requirement:
    'A token whose `aud` spells this server with the scheme and host in upper case is accepted. The trailing-slash spelling (`…/mcp/`) is only recorded (requirements §3 A2: either behaviour is defensible).',
  remediation: 'Compare the scheme and host of `aud` case-insensitively (the path stays exact).',
  probe:
    'POST the protected request with forged tokens whose aud is the upper-case spelling, then the trailing-slash one.',
  async run(t) {
    const forger = await trustedForger(t);
    if (!forger) return;
    const resource = forger.minter.resource;
    const upper = upperCaseOrigin(resource);
    const slash = resource.endsWith('/') ? resource.slice(0, -1) : `${resource}/`;
    const [upperOutcome, slashOutcome] = await Promise.all([
      forger.mint({ claims: { aud: upper } }).then((tok) => presentToken(t, tok, `aud = ${upper}`)),
      forger.mint({ claims: { aud: slash } }).then((tok) => presentToken(t, tok, `aud = ${slash}`)),
    ]);
    t.data('probes', [outcomeRow(upperOutcome), outcomeRow(slashOutcome)]);
    t.data('trailingSlash', slashOutcome.accepted ? 'accepted' : `refused (HTTP ${slashOutcome.status})`);
    t.note(
      `the trailing-slash audience ${slash} was ${slashOutcome.accepted ? 'accepted' : 'refused'} (recorded only)`,
    );
    if (upper === resource)
      t.notApplicable('the resource URL has no letters in its scheme or host to change');
    else if (upperOutcome.accepted) t.conforms(`the upper-case audience ${upper} was accepted`);
    else
      t.violated(`the upper-case audience ${upper} was refused (HTTP ${upperOutcome.status})`, {
        exchanges: [upperOutcome.exchange],
      });
  },
});

export const RS_AUD_06 = defineCheck({
  id: 'RS-AUD-06',
  title: 'The server never passes the client token through to upstream APIs',
  level: 'MUST',
  refs: [
    'MCP 2025-06-18 §Access Token Privilege Restriction',
    'MCP Security Best Practices §Token Passthrough',
  ],
  quotes: inMcp(REVISIONS, {
    section: 'Access Token Privilege Restriction',
    text: 'The MCP server MUST NOT pass through the token it received from the MCP client.',
    keyword: 'MUST NOT',
    binds: 'resource-server',
  }),
  revisions: REVISIONS,
  needs: [],
  faults: [],
  untestable: 'token passthrough to an upstream API is not observable black-box',
  requirement:
    'MUST NOT: the MCP server does not forward the access token it received to any upstream service. Untestable black-box: only an instrumented upstream (a canary service the server calls) could see the token, and the harness has no way to make an arbitrary server call one. The check always skips with that reason.',
  remediation:
    'Obtain separate credentials for upstream APIs (e.g. token exchange, RFC 8693); never forward the token the MCP client sent.',
  probe: 'Sends nothing: token passthrough is not observable from outside.',
  async run(t) {
    t.notApplicable(
      'token passthrough is not observable black-box: only an upstream service instrumented to record the tokens it receives could show it (review the server code, or run it against such an upstream)',
    );
  },
});

export const checks = [RS_AUD_01, RS_AUD_02, RS_AUD_03, RS_AUD_04, RS_AUD_05, RS_AUD_06];
