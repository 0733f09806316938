// RS — audience binding (RFC 8707) and token passthrough. Requirements §2.3, rows RS-AUD-01..06.
//
// Forged tokens (the `minter` fixture) differ from an accepted one only in `aud`; each check first
// shows that the unaltered forged token is accepted (suites/token-probes.ts). The status for a
// wrong audience is 401 (requirements §3 A8: 403 is reserved for insufficient_scope).

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { sameResourceId, type TokenAudience } from '../runner/fixtures.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  ACCEPT_UPPERCASE_SCHEME_HOST,
  inMcp,
  JWT_AUDIENCE,
  ONLY_OWN_AUDIENCE,
  VALIDATE_AUDIENCE,
} from './rs-quotes.ts';
import {
  decodeJwtParts,
  describeOutcome,
  forger,
  judgeAllRefused,
  judgeRefusal,
  outcomeRow,
  presentToken,
  probeValidatesTokens,
  realTokenControl,
  type TokenOutcome,
  underControl,
} from './token-probes.ts';

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
  needs: [],
  faults: ['rs-audience-not-checked'],
  requirement:
    "A token valid in every respect except that it was issued for another resource is refused. With a key the target trusts (--mint-key, or the embedded server's), the sharpest probes: forged tokens whose `aud` is another host (https://other.example/mcp), a sibling path on the same origin, and the authorization server itself. Without a key, real tokens: the operator's token of another service (--foreign-token-env), else one the harness asks the same authorization server for with RFC 8707 `resource` = --other-resource, else a synthetic resource on the authorization server's host, else a sibling path of the endpoint (each an authorization of its own, with a client of its own where registration is offered). A real token that is accepted fails the check: the authorization server issued it for the other resource (RFC 8707 §2: it would have refused a resource it cannot issue for), and its audience, when the harness can read it (JWT `aud`, RFC 7662 introspection), is quoted; when the authorization server refuses every other resource, or ignores `resource` (the audience it gives names this server), the check skips and says which option would make it run.",
  remediation:
    'Accept a token only when its `aud` (or introspected audience) names this MCP server exactly; answer 401 invalid_token otherwise.',
  probe:
    'POST the protected request with forged tokens for other audiences, or with a real token issued for another resource, between controls with a valid token.',
  control:
    "With a key: the same request with a correctly forged token whose `aud` is this server; without one: the same request with the harness's own access token; right before and right after: served, it shows the refusal was about the audience.",
  async run(t) {
    if (await t.optionalFixture('minter')) {
      await forgedAudiences(t);
      return;
    }
    const other = await t.fixture('token-other-resource');
    t.data('otherResource', {
      source: other.source,
      ...(other.resource ? { resource: other.resource } : {}),
      audience: other.audience,
      attempts: other.attempts,
    });
    const what =
      other.source === 'operator'
        ? 'the token of another service given with --foreign-token-env'
        : `a token the authorization server issued for ${other.resource}`;
    const { control } = await realTokenControl(t);
    const outcomes = await underControl(t, control, async () => [
      await presentToken(t, other.accessToken, what),
    ]);
    if (!outcomes) return;
    const o = outcomes[0]!;
    t.data('probes', [outcomeRow(o)]);
    if (!o.accepted) {
      if (judgeRefusal(t, o)) t.conforms(`${what} was refused (${describeOutcome(o)})`);
      return;
    }
    const audience = describeAudience(other.audience);
    if (other.audience.active === false) {
      t.notApplicable(
        `${what} was accepted (HTTP ${o.status}), but introspection calls it inactive, so it is not a valid token of another resource`,
      );
      return;
    }
    // RFC 8707 §2: an AS that cannot issue a token for the indicated resource refuses it
    // (invalid_target); this one issued a token, so it is a token for that resource. An audience
    // the harness reads (JWT or introspection) confirms it; one naming this server made the
    // fixture skip ("the authorization server ignores resource").
    const why =
      other.source === 'operator'
        ? 'the operator gave it as a token of another service'
        : other.audience.values === undefined
          ? `the authorization server issued it for resource=${other.resource} without refusing that resource (RFC 8707 §2), and its audience cannot be read (${other.audience.detail ?? 'opaque'})`
          : other.audience.values.length === 0
            ? 'it carries no audience at all, so nothing shows it was issued for this server'
            : 'its audience names another resource';
    t.violated(
      `${what} (${audience}) was accepted (HTTP ${o.status}): ${why}; the server does not check that tokens were issued for it (MCP §Token Handling: "MUST validate that access tokens were issued specifically for them as the intended audience")`,
      { exchanges: [o.exchange] },
    );
  },
});

/** RS-AUD-01 with a key: forged tokens that differ from an accepted one only in `aud`. */
async function forgedAudiences(t: CheckContext): Promise<void> {
  const f = await forger(t);
  const { resource, issuer } = f.minter;
  const audiences: [string, string][] = [
    ['aud of another host (https://other.example/mcp)', 'https://other.example/mcp'],
    [`aud of a sibling path on the same origin (${siblingResource(resource)})`, siblingResource(resource)],
    [`aud = the authorization server (${issuer})`, issuer],
  ].filter(([, aud]) => aud !== resource) as [string, string][];
  const tokens = await Promise.all(audiences.map(([, aud]) => f.mint({ claims: { aud } })));
  const outcomes = await underControl(t, f.control, () =>
    Promise.all(audiences.map(([probe], i) => presentToken(t, tokens[i]!, probe))),
  );
  if (outcomes) judgeAllRefused(t, outcomes, 'tokens for another resource');
}

/** `aud ["https://other/mcp"] (introspection)`, `audience unknown (the token is opaque …)`. */
function describeAudience(audience: TokenAudience): string {
  if (audience.values === undefined) return `audience unknown: ${audience.detail ?? 'no way to read it'}`;
  if (audience.values.length === 0) return `no audience (${audience.source})`;
  return `aud ${JSON.stringify(audience.values)} (${audience.source})`;
}

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
  probe:
    'POST the protected request with a forged token without aud, between controls with a correctly forged token.',
  control:
    'The same request with a correctly forged token that has `aud` (this server), right before and right after: served, it shows the refusal was about the missing audience.',
  async run(t) {
    const f = await forger(t);
    const token = await f.mint({ omit: ['aud'] });
    const outcomes = await underControl(t, f.control, async () => [
      await presentToken(t, token, 'a token without aud'),
    ]);
    if (outcomes) judgeAllRefused(t, outcomes, 'the token without audience');
  },
});

export const RS_AUD_03 = defineCheck({
  id: 'RS-AUD-03',
  title: 'A token issued without `resource` is accepted only if its audience names this server',
  level: 'MUST',
  refs: ['MCP 2025-06-18 §Token Handling', 'RFC8707 §2'],
  quotes: [...VALIDATE_AUDIENCE, ...ONLY_OWN_AUDIENCE],
  revisions: REVISIONS,
  needs: [],
  faults: [],
  untestable:
    'the reference authorization server refuses an authorization without resource (and, when lenient, binds the token to this server), so a red result needs two independent defects at once: an authorization server whose default audience is another resource, and a resource server that does not check audience',
  requirement:
    'A token the authorization server issued with its default audience (an authorization whose requests carry no `resource`, RFC 8707 §2, an authorization of its own) is accepted only when that audience names this server. Its audience is read from the JWT `aud` or by RFC 7662 introspection; an opaque token the harness cannot introspect cannot be judged. An authorization server that refuses authorizations without `resource` leaves nothing to judge.',
  remediation:
    'Check `aud` against this server on every token, including tokens issued without a `resource` parameter.',
  probe:
    'An authorization without resource; POST the protected request with its token between controls with the default token; read the token audience.',
  control:
    "The same request with the run's default token (issued with `resource`), right before and right after: served, it shows that what the server does with the token issued without `resource` is about its audience.",
  async run(t) {
    const issued = await t.fixture('token-no-resource');
    t.data('audience', issued.audience);
    const { control } = await realTokenControl(t);
    const outcomes = await underControl(t, control, async () => [
      await presentToken(t, issued.accessToken, 'a token issued without resource'),
    ]);
    if (!outcomes) return;
    const o = outcomes[0]!;
    t.data('probes', [outcomeRow(o)]);
    const audience = describeAudience(issued.audience);
    const names = issued.audience.values?.some((a) => sameResourceId(a, t.target));
    if (!o.accepted)
      t.conforms(`the token issued without resource (${audience}) is refused (${describeOutcome(o)})`);
    else if (names) t.conforms(`the accepted token's audience names this server (${audience})`);
    else if (issued.audience.values === undefined)
      t.notApplicable(`the token issued without resource was accepted, but its ${audience}`);
    else
      t.violated(
        `the server accepts a token issued without resource whose ${audience} does not name ${t.target}`,
        { exchanges: [o.exchange] },
      );
  },
});

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
  control:
    'The same request with a correctly forged token whose `aud` is this server alone, right before and right after: served, it shows that a refused array audience is refused for being an array. (The check first makes sure the request validates presented tokens.)',
  async run(t) {
    const f = await forger(t);
    if (!(await probeValidatesTokens(t))) return;
    const aud = [f.minter.resource, 'https://other.example/mcp'];
    const token = await f.mint({ claims: { aud } });
    const outcomes = await underControl(t, f.control, async () => [
      await presentToken(t, token, 'aud = [this server, another resource]'),
    ]);
    if (!outcomes) return;
    const o = outcomes[0]!;
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
  control:
    'The same request with a correctly forged token whose `aud` is the resource spelled as the server spells it, right before and right after: served, it shows a refused upper-case audience is refused for its case. (The check first makes sure the request validates presented tokens.)',
  async run(t) {
    const f = await forger(t);
    if (!(await probeValidatesTokens(t))) return;
    const resource = f.minter.resource;
    const upper = upperCaseOrigin(resource);
    const slash = resource.endsWith('/') ? resource.slice(0, -1) : `${resource}/`;
    const [upperToken, slashToken] = await Promise.all([
      f.mint({ claims: { aud: upper } }),
      f.mint({ claims: { aud: slash } }),
    ]);
    const outcomes = await underControl(t, f.control, () =>
      Promise.all([
        presentToken(t, upperToken, `aud = ${upper}`),
        presentToken(t, slashToken, `aud = ${slash}`),
      ]),
    );
    if (!outcomes) return;
    const [upperOutcome, slashOutcome] = outcomes as [TokenOutcome, TokenOutcome];
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
  control: 'None: the check sends nothing (token passthrough is not observable black-box).',
  async run(t) {
    t.notApplicable(
      'token passthrough is not observable black-box: only an upstream service instrumented to record the tokens it receives could show it (review the server code, or run it against such an upstream)',
    );
  },
});

export const checks = [RS_AUD_01, RS_AUD_02, RS_AUD_03, RS_AUD_04, RS_AUD_05, RS_AUD_06];
