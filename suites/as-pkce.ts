// AS — PKCE (RFC 7636; OAuth 2.1 §4.1.1, §4.1.3, §7.5.2; RFC 9700 §2.1.1). Requirements §2.7,
// rows AS-PKCE-*. Authorization-side probes change one PKCE parameter of a valid request; the
// token-side probes get a code of their own (never a shared one) and redeem it on their terms.

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { type Pkce, tokenRequest } from '../runner/oauth.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  type AuthzOutcome,
  type AuthzSetup,
  authzSetup,
  buildUrl,
  controlAccepted,
  describe,
  evidence,
  outcomeRow,
  type Param,
  sendWithLogin,
  validRequest,
  withParam,
} from './as-authorize-probe.ts';
import { answerOf, judgeTokenRefusal, type OAuthAnswer, type TokenControl } from './as-token-probes.ts';

const NEEDS = ['prm', 'as', 'client'] as const;

/** RFC 7636 Appendix B test vector. */
const RFC7636_B: Pkce = {
  verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  method: 'S256',
};

/**
 * Sends the variants in parallel. A code for any of them is a violation by itself; a refusal
 * conforms only when the control (the same request without the change) was accepted (issue #12
 * §1). The property is the refusal: an error code other than `expectedError`, or an error page
 * instead of a redirect, is a note (the shape of authorization errors is AS-AUTHZ-03's to judge).
 */
async function expectRefused(
  t: CheckContext,
  setup: AuthzSetup,
  variants: [string, (p: Param[]) => Param[]][],
  expectedError = 'invalid_request',
): Promise<AuthzOutcome[]> {
  const rows: Record<string, unknown>[] = [];
  const outs = await Promise.all(
    variants.map(async ([label, change]) => {
      const { params } = await validRequest(setup);
      const out = await sendWithLogin(
        t,
        setup,
        buildUrl(setup.endpoint, change(params)),
        `authorization request, ${label}`,
      );
      rows.push(outcomeRow(label, out));
      return [label, out] as const;
    }),
  );
  t.data('probes', rows);
  for (const [label, out] of outs) {
    if (out.code) t.violated(`${label}: a code was issued`, evidence(out));
    else if (out.kind === 'redirect-elsewhere') t.violated(`${label}: ${describe(out)}`, evidence(out));
    else if (await controlAccepted(t, setup, label, out)) {
      t.conforms(`${label}: refused (${describe(out)})`);
      if (out.kind !== 'redirect' || out.error !== expectedError)
        t.note(
          `${label}: refused as ${describe(out)} rather than a redirect with error=${expectedError}; the shape of authorization errors is AS-AUTHZ-03's to judge`,
        );
    }
  }
  return outs.map(([, out]) => out);
}

export const AS_PKCE_01 = defineCheck({
  id: 'AS-PKCE-01',
  title: 'An authorization request without code_challenge is refused',
  level: 'MUST',
  refs: [
    'OAuth 2.1 §4.1.1, §4.1.2.1, §7.5.2',
    'RFC7636 §4.4.1',
    'RFC9700 §2.1.1',
    'MCP 2025-03-26 ("PKCE is REQUIRED")',
  ],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'An AS MUST reject requests without a code_challenge from public clients, and MUST reject such requests from other clients unless there is reasonable assurance that the client mitigates authorization code injection in other ways.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Clients MUST use code_challenge and code_verifier and authorization servers MUST enforce their use except under the conditions described in Section 7.5.1.',
    },
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST support PKCE [RFC7636].',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-pkce-optional'],
  requirement:
    "A public client's request with no `code_challenge` is refused with `invalid_request` (by redirect to the client); no code is issued.",
  remediation: 'Require code_challenge (with S256) on every authorization request of a public client.',
  probe: 'Valid request without code_challenge and code_challenge_method.',
  control:
    "The same client's valid request with an S256 code_challenge, sent the same way as the probe: accepted, it shows the refusal is about the missing challenge. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    await expectRefused(t, setup, [
      [
        'no code_challenge',
        (p) => withParam(withParam(p, 'code_challenge', undefined), 'code_challenge_method', undefined),
      ],
    ]);
  },
});

export const AS_PKCE_02 = defineCheck({
  id: 'AS-PKCE-02',
  title: 'An unsupported code_challenge_method is refused',
  level: 'MUST',
  refs: ['RFC7636 §4.4.1', 'OAuth 2.1 §4.1.2.1'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.2.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the server does not support the requested code_challenge_method transformation, the authorization endpoint MUST return the authorization error response with error value set to invalid_request.',
    },
    {
      source: 'RFC 7636',
      section: '4.4.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the server supporting PKCE does not support the requested transformation, the authorization endpoint MUST return the authorization error response with "error" value set to "invalid_request".',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-pkce-unknown-method-accepted'],
  requirement:
    '`code_challenge_method` values the AS does not support (`S512`, and `s256`: method names are case-sensitive) get `invalid_request`; no code is issued.',
  remediation: 'Accept exactly the method names you support ("S256") and refuse any other value.',
  probe: 'Valid requests with code_challenge_method=S512 and =s256.',
  control:
    "The same client's valid request with code_challenge_method=S256, sent the same way as the probe: accepted, it shows each refusal is about the method. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    await expectRefused(t, setup, [
      ['code_challenge_method=S512', (p) => withParam(p, 'code_challenge_method', 'S512')],
      ['code_challenge_method=s256', (p) => withParam(p, 'code_challenge_method', 's256')],
    ]);
  },
});

/** Sends `plain` and no-method requests; resolves with which of them got a code. */
async function plainProbes(t: CheckContext, setup: AuthzSetup) {
  const rows: Record<string, unknown>[] = [];
  const probe = async (label: string, change: (p: Param[], pkce: Pkce) => Param[]) => {
    const { params, pkce } = await validRequest(setup);
    const out = await sendWithLogin(
      t,
      setup,
      buildUrl(setup.endpoint, change(params, pkce)),
      `authorization request, ${label}`,
    );
    rows.push(outcomeRow(label, out));
    return [label, out] as const;
  };
  const outs = await Promise.all([
    // RFC 7636 §4.2: with plain, code_challenge = code_verifier.
    probe('code_challenge_method=plain', (p, pkce) =>
      withParam(withParam(p, 'code_challenge', pkce.verifier), 'code_challenge_method', 'plain'),
    ),
    // RFC 7636 §4.3: a missing method defaults to plain.
    probe('no code_challenge_method (defaults to plain)', (p, pkce) =>
      withParam(withParam(p, 'code_challenge', pkce.verifier), 'code_challenge_method', undefined),
    ),
  ]);
  t.data('probes', rows);
  const methods = setup.as.metadata.code_challenge_methods_supported;
  t.data('code_challenge_methods_supported', methods ?? null);
  return { outs, advertised: Array.isArray(methods) && methods.includes('plain') };
}

export const AS_PKCE_03A = defineCheck({
  id: 'AS-PKCE-03A',
  title: '`plain` is not accepted unless the metadata advertises it',
  level: 'SHOULD',
  refs: ['RFC8414 §2 (code_challenge_methods_supported)', 'OAuth 2.1 §4.1.1', 'RFC7636 §4.3'],
  quotes: [
    {
      source: 'RFC 8414',
      section: '2',
      binds: 'context',
      text: 'code_challenge_methods_supported OPTIONAL. JSON array containing a list of Proof Key for Code Exchange (PKCE) [RFC7636] code challenge methods supported by this authorization server.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'MUST',
      binds: 'client',
      text: 'If the client is capable of using S256, it MUST use S256, as S256 is Mandatory To Implement (MTI) on the server. Clients are permitted to use plain only if they cannot support S256 for some technical reason, for example constrained environments that do not have a hashing function available, and know via out-of-band configuration or via Authorization Server Metadata [RFC8414] that the server supports plain.',
    },
  ],
  derived:
    'RFC 8414 §2 defines code_challenge_methods_supported as the methods the AS supports, and OAuth 2.1 §4.1.1 lets clients use plain only when the metadata says the server supports it; no keyworded sentence forbids accepting an unlisted method, so listing what is accepted is derived.',
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-pkce-plain-accepted'],
  requirement:
    'First half of row AS-PKCE-03 (consistency): an AS that accepts `code_challenge_method=plain`, or a challenge with no method (which means plain), lists "plain" in `code_challenge_methods_supported`.',
  remediation: 'Refuse plain (recommended), or at least advertise it in code_challenge_methods_supported.',
  probe: 'Valid requests with code_challenge_method=plain, and with a challenge but no method.',
  control:
    "The same client's valid request with an S256 challenge, sent the same way as the probe: accepted, it shows a refusal of plain is about the method. A code issued is judged against the metadata and needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { outs, advertised } = await plainProbes(t, setup);
    for (const [label, out] of outs) {
      if (out.code && !advertised)
        t.violated(`${label}: a code was issued, but the metadata does not advertise plain`, evidence(out));
      else if (out.code) t.conforms(`${label}: accepted, and plain is advertised`);
      else if (await controlAccepted(t, setup, label, out))
        t.conforms(`${label}: refused (${describe(out)})`);
    }
  },
});

export const AS_PKCE_03B = defineCheck({
  id: 'AS-PKCE-03B',
  title: '`plain` PKCE is refused (MCP-hardened profile)',
  level: 'SHOULD',
  refs: [
    'OAuth 2.1 §4.1.1 (S256 is mandatory to implement)',
    'RFC7636 §7.2',
    'RFC9700 §2.1.1',
    'MCP 2025-11-25 (clients MUST use S256)',
  ],
  quotes: [
    {
      source: 'RFC 7636',
      section: '7.2',
      keyword: 'SHOULD NOT',
      binds: 'authorization-server',
      text: 'The "plain" method SHOULD NOT be used in new implementations, unless they cannot support "S256" for some technical reason.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.1',
      keyword: 'SHOULD',
      binds: 'client',
      text: 'Clients SHOULD use code challenge methods that do not expose the code_verifier in the authorization request.',
    },
    {
      source: 'MCP 2025-11-25',
      section: 'Authorization Code Protection',
      keyword: 'MUST',
      binds: 'client',
      text: 'MCP clients MUST use the S256 code challenge method when technically capable, as required by OAuth 2.1 Section 4.1.1.',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-pkce-plain-accepted'],
  requirement:
    'Second half of row AS-PKCE-03 (hardening): plain exposes the verifier in the front channel and MCP clients must use S256, so the AS should refuse `plain` and a challenge without a method (requirements §3 A10: WARN).',
  remediation: 'Support S256 only; refuse plain and a missing code_challenge_method with invalid_request.',
  probe: 'Valid requests with code_challenge_method=plain, and with a challenge but no method.',
  control:
    "The same client's valid request with an S256 challenge, sent the same way as the probe: accepted, it shows a refusal of plain is about the method. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    const { outs } = await plainProbes(t, setup);
    for (const [label, out] of outs) {
      if (out.code) t.violated(`${label}: accepted (a code was issued)`, evidence(out));
      else if (await controlAccepted(t, setup, label, out))
        t.conforms(`${label}: refused (${describe(out)})`);
    }
  },
});

export const AS_PKCE_04 = defineCheck({
  id: 'AS-PKCE-04',
  title: 'A syntactically invalid code_challenge is refused',
  level: 'SHOULD',
  refs: ['OAuth 2.1 §4.1.1 (ABNF code-challenge = 43*128unreserved)', 'RFC7636 §4.2'],
  quotes: [
    {
      source: 'OAuth 2.1 draft-13',
      section: 'A.18',
      binds: 'context',
      text: 'code-challenge = 43*128unreserved unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" ALPHA = %x41-5A / %x61-7A DIGIT = %x30-39',
    },
  ],
  derived:
    'OAuth 2.1 Appendix A.18 and RFC 7636 §4.2 give the code_challenge syntax (43 to 128 unreserved characters), a rule on what the client sends; no sentence orders the AS to check it, so refusing a malformed challenge is derived.',
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-pkce-challenge-syntax-unchecked'],
  requirement:
    'A `code_challenge` shorter than 43, longer than 128, or with characters outside [A-Za-z0-9-._~] is refused with invalid_request. The catalogue derives this from the ABNF (MUST, derived) but asks for WARN when accepted, since no sentence orders the AS to check it; hence SHOULD here.',
  remediation: 'Check code_challenge against 43*128 unreserved characters before accepting the request.',
  probe: 'Valid requests with a 42-character, a 129-character, and a "+/="-containing code_challenge.',
  control:
    "The same client's valid request with a well-formed S256 challenge, sent the same way as the probe: accepted, it shows each refusal is about the malformed challenge. A code issued needs no control.",
  async run(t) {
    const setup = await authzSetup(t);
    if (!setup) return;
    await expectRefused(t, setup, [
      ['42-character challenge', (p) => withParam(p, 'code_challenge', 'A'.repeat(42))],
      ['129-character challenge', (p) => withParam(p, 'code_challenge', 'A'.repeat(129))],
      ['challenge with + / =', (p) => withParam(p, 'code_challenge', `${'A'.repeat(40)}+/=`)],
    ]);
  },
});

/**
 * A code of the check's own client (setup from authzSetup(t, { own: true })), issued for `pkce`,
 * for no challenge (`null`), or for a challenge without code_challenge_method (`'no-method'`:
 * the challenge is the verifier itself, RFC 7636 §4.3's plain default).
 */
async function ownCode(
  t: CheckContext,
  setup: AuthzSetup,
  pkce?: Pkce | null | 'no-method',
): Promise<{ code?: string; out: AuthzOutcome; pkce: Pkce }> {
  const req = await validRequest(setup, pkce && pkce !== 'no-method' ? { pkce } : {});
  let params = req.params;
  if (pkce === null)
    params = withParam(withParam(params, 'code_challenge', undefined), 'code_challenge_method', undefined);
  if (pkce === 'no-method')
    params = withParam(
      withParam(params, 'code_challenge', req.pkce.verifier),
      'code_challenge_method',
      undefined,
    );
  const out = await sendWithLogin(
    t,
    setup,
    buildUrl(setup.endpoint, params),
    'authorization request (code for a token-endpoint probe)',
  );
  return { ...(out.code ? { code: out.code } : {}), out, pkce: req.pkce };
}

/** The code grant at the token endpoint, with `verifier` (omitted when undefined). */
async function redeem(
  t: CheckContext,
  setup: AuthzSetup,
  code: string,
  verifier: string | undefined,
  label: string,
): Promise<OAuthAnswer> {
  const form: [string, string][] = [
    ['grant_type', 'authorization_code'],
    ['code', code],
    ['redirect_uri', setup.redirectUri],
    ['resource', setup.resource],
    ...(verifier !== undefined ? ([['code_verifier', verifier]] as [string, string][]) : []),
  ];
  return answerOf(await tokenRequest(t.http, setup.as, setup.client, form, { label }));
}

/** Couldn't get a code for a token-side probe: say why, as a skip (the authorization side has its own checks). */
function noCode(t: CheckContext, out: AuthzOutcome): void {
  t.prerequisiteMissing(
    `the harness could not obtain an authorization code to redeem (${describe(out)})`,
    'use --login auto against an AS in test mode, or --login form/browser with a login script',
  );
}

/**
 * The controls of a redemption probe: the same code redeemed with `verifier` (the right one)
 * right after, then a new S256 code of the same client redeemed properly, for an AS that
 * invalidates a code after a refused attempt (which is allowed).
 */
function redemptionControls(
  t: CheckContext,
  setup: AuthzSetup,
  code: string,
  verifier: string | undefined,
  what: string,
): TokenControl[] {
  return [
    { what, send: () => redeem(t, setup, code, verifier, `control: ${what}`) },
    {
      what: 'a new code of the same client redeemed with its verifier',
      send: async () => {
        const fresh = await ownCode(t, setup);
        return fresh.code
          ? redeem(t, setup, fresh.code, fresh.pkce.verifier, 'control: a new code redeemed properly')
          : undefined;
      },
    },
  ];
}

export const AS_PKCE_05 = defineCheck({
  id: 'AS-PKCE-05',
  title: 'A wrong code_verifier is refused with invalid_grant',
  level: 'MUST',
  refs: ['RFC7636 §4.6', 'OAuth 2.1 §4.1.3', 'OAuth 2.1 §3.2.4'],
  quotes: [
    {
      source: 'RFC 7636',
      section: '4.6',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the values are not equal, an error response indicating "invalid_grant" as described in Section 5.2 of [RFC6749] MUST be returned.',
    },
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If a client sends a valid PKCE [RFC7636] code_challenge parameter in the authorization request, the authorization server MUST enforce the correct usage of code_verifier at the token endpoint.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS, 'own-client'],
  faults: ['as-pkce-verifier-ignored'],
  requirement:
    'Redeeming a code with a well-formed verifier that does not match its challenge fails with 400 `invalid_grant`.',
  remediation: 'Compute BASE64URL(SHA256(code_verifier)) and compare it with the stored code_challenge.',
  probe: 'Own code (S256); token request with another valid-syntax verifier.',
  control:
    'The same code redeemed with the right code_verifier right after (or a new code of the same client, redeemed properly, when the AS burned it): a token shows the refusal was about the verifier.',
  async run(t) {
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { code, out, pkce } = await ownCode(t, setup);
    if (!code) return noCode(t, out);
    const probe = await redeem(t, setup, code, 'W'.repeat(43), 'token request, wrong code_verifier');
    await judgeTokenRefusal(t, 'a wrong code_verifier', probe, {
      expected: ['invalid_grant'],
      // RFC 7636 §4.6: "invalid_grant ... MUST be returned": the code is part of the rule.
      codeIsTheRule: 'MUST',
      controls: redemptionControls(t, setup, code, pkce.verifier, 'the same code with the right verifier'),
    });
  },
});

export const AS_PKCE_06 = defineCheck({
  id: 'AS-PKCE-06',
  title: 'A missing code_verifier is refused when a challenge was sent',
  level: 'MUST',
  refs: [
    'OAuth 2.1 §4.1.3 ("code_verifier is present if and only if a code_challenge was present")',
    'RFC7636 §4.5',
  ],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If a client sends a valid PKCE [RFC7636] code_challenge parameter in the authorization request, the authorization server MUST enforce the correct usage of code_verifier at the token endpoint.',
    },
    {
      source: 'OAuth 2.1 draft-13',
      section: '4.1.3',
      binds: 'context',
      text: 'verify that the code_verifier parameter is present if and only if a code_challenge parameter was present in the authorization request,',
    },
    {
      source: 'RFC 7636',
      section: '4.5',
      keyword: 'REQUIRED',
      binds: 'client',
      text: 'code_verifier REQUIRED. Code verifier',
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS, 'own-client'],
  faults: ['as-pkce-verifier-optional', 'as-pkce-verifier-ignored'],
  requirement:
    'Redeeming a code issued for a code_challenge without sending code_verifier fails (400 invalid_grant or invalid_request).',
  remediation: 'Require code_verifier whenever the authorization request carried a code_challenge.',
  probe: 'Own code (S256); token request without code_verifier.',
  control:
    'The same code redeemed with its verifier right after (or a new code of the same client, redeemed properly, when the AS burned it), for the S256 code and for the plain-by-default one: a token shows the refusal was about the missing verifier.',
  async run(t) {
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { code, out, pkce } = await ownCode(t, setup);
    if (!code) return noCode(t, out);
    const probe = await redeem(t, setup, code, undefined, 'token request, no code_verifier');
    await judgeTokenRefusal(t, 'no code_verifier for an S256 code', probe, {
      expected: ['invalid_grant', 'invalid_request'],
      controls: redemptionControls(t, setup, code, pkce.verifier, 'the same code with its verifier'),
    });
    // A challenge without code_challenge_method means plain (RFC 7636 §4.3), so its code needs a
    // verifier too; an AS that drops PKCE for such a request instead would serve a redemption
    // with none at all (issue #13 §7).
    const plain = await ownCode(t, setup, 'no-method');
    t.data('challenge without method', outcomeRow('code_challenge without code_challenge_method', plain.out));
    if (!plain.code) {
      t.note(`a code_challenge without code_challenge_method got no code (${describe(plain.out)})`);
      return;
    }
    const bare = await redeem(
      t,
      setup,
      plain.code,
      undefined,
      'token request, no code_verifier (plain-default code)',
    );
    await judgeTokenRefusal(
      t,
      'no code_verifier for a code whose challenge had no method (plain by default)',
      bare,
      {
        expected: ['invalid_grant', 'invalid_request'],
        controls: redemptionControls(
          t,
          setup,
          plain.code,
          plain.pkce.verifier,
          'the same code with the verifier (plain)',
        ),
      },
    );
  },
});

export const AS_PKCE_07 = defineCheck({
  id: 'AS-PKCE-07',
  title: 'A code_verifier for a code issued without challenge is refused (downgrade)',
  level: 'MUST',
  refs: ['RFC9700 §2.1.1 (PKCE downgrade)', 'OAuth 2.1 §4.1.3', 'OAuth 2.1 §3.2.4'],
  quotes: [
    {
      source: 'RFC 9700',
      section: '2.1.1',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Authorization servers MUST mitigate PKCE Downgrade Attacks by ensuring that a token request containing a code_verifier parameter is accepted only if a code_challenge parameter was present in the authorization request, see Section 4.8.2 for details.',
    },
    {
      source: 'RFC 9700',
      section: '4.8.2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'Beyond this, to prevent PKCE downgrade attacks, the authorization server MUST ensure that if there was no code_challenge in the authorization request, a request to the token endpoint containing a code_verifier is rejected.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS, 'own-client'],
  // Only the combination shows the downgrade: an AS that requires PKCE makes the check not applicable.
  faults: ['as-pkce-optional+as-pkce-verifier-ignored'],
  requirement:
    'If the AS issues a code for a request without code_challenge, a later token request that carries a code_verifier must be refused (an attacker stripped the challenge). Only testable when the AS lets a request omit PKCE; an AS that requires PKCE (AS-PKCE-01) makes this not applicable.',
  remediation:
    'At the token endpoint, refuse a code_verifier when the code was issued without a code_challenge.',
  probe: 'Request without code_challenge; if a code comes back, redeem it with a verifier.',
  control:
    'The same code redeemed without a verifier, as it was issued, right after: a token shows the refusal was about the added verifier.',
  async run(t) {
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { code, out } = await ownCode(t, setup, null);
    t.data('authorization', outcomeRow('no code_challenge', out));
    if (!code) {
      t.notApplicable(
        `the AS issues no code without a code_challenge (${describe(out)}), so no downgrade is possible`,
      );
      return;
    }
    const probe = await redeem(t, setup, code, 'V'.repeat(43), 'token request, verifier without challenge');
    await judgeTokenRefusal(t, 'a code_verifier for a code issued without challenge', probe, {
      expected: ['invalid_grant', 'invalid_request'],
      // Without the change: the same code redeemed without a verifier, as it was issued.
      controls: [
        {
          what: 'the same code redeemed without a verifier',
          send: () => redeem(t, setup, code, undefined, 'control: the same code without a verifier'),
        },
      ],
    });
  },
});

export const AS_PKCE_08 = defineCheck({
  id: 'AS-PKCE-08',
  title: 'The S256 transform is verified: the challenge itself is not a valid verifier',
  level: 'MUST',
  refs: ['RFC7636 §4.6', 'RFC7636 Appendix B'],
  quotes: [
    {
      source: 'RFC 7636',
      section: '4.5',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'That is the method that the token endpoint MUST use to verify the "code_verifier".',
    },
    {
      source: 'RFC 7636',
      section: '4.6',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'If the values are not equal, an error response indicating "invalid_grant" as described in Section 5.2 of [RFC6749] MUST be returned.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS, 'own-client'],
  faults: ['as-pkce-challenge-as-verifier', 'as-pkce-verifier-ignored'],
  requirement:
    'Sending the code_challenge value as the code_verifier fails with invalid_grant; as a sanity check, the RFC 7636 Appendix B pair (verifier dBjf…, challenge E9Me…) is accepted, proving the S256 computation itself.',
  remediation:
    'Apply SHA-256 and base64url (no padding) to the verifier before comparing; never compare the raw values.',
  probe:
    'Own code for the App. B challenge redeemed with the challenge; a second one redeemed with the App. B verifier.',
  control:
    "The same code redeemed with the RFC 7636 Appendix B verifier right after (or a new code of the same client, redeemed properly, when the AS burned it): a token shows the refusal was about the challenge sent as verifier, and proves the S256 computation on the RFC's test vector.",
  async run(t) {
    const setup = await authzSetup(t, { own: true });
    if (!setup) return;
    const { code, out } = await ownCode(t, setup, RFC7636_B);
    if (!code) return noCode(t, out);
    const probe = await redeem(t, setup, code, RFC7636_B.challenge, 'token request, challenge as verifier');
    // The control redeems the same code with the Appendix B verifier: it proves the S256
    // computation itself on the RFC's own test vector.
    await judgeTokenRefusal(t, 'the code_challenge sent as code_verifier', probe, {
      expected: ['invalid_grant'],
      // RFC 7636 §4.6: "invalid_grant ... MUST be returned": the code is part of the rule.
      codeIsTheRule: 'MUST',
      controls: redemptionControls(
        t,
        setup,
        code,
        RFC7636_B.verifier,
        'the same code with the RFC 7636 Appendix B verifier',
      ),
    });
  },
});

export const checks = [
  AS_PKCE_01,
  AS_PKCE_02,
  AS_PKCE_03A,
  AS_PKCE_03B,
  AS_PKCE_04,
  AS_PKCE_05,
  AS_PKCE_06,
  AS_PKCE_07,
  AS_PKCE_08,
];
