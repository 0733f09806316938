// AS — the `iss` authorization response parameter (RFC 9207; MCP 2026-07-28 §Authorization
// Response Validation; SEP-2468). Requirements §2.12, rows AS-ISS-*. Each check looks at one
// success response (a code) and one error response (response_type=unknown_type).

import { type CheckContext, defineCheck } from '../runner/check.ts';
import { REVISIONS } from '../runner/revisions.ts';
import {
  type AuthzOutcome,
  type AuthzSetup,
  authzSetup,
  describe,
  evidence,
  outcomeRow,
  pooledResponses,
} from './as-authorize-probe.ts';

const NEEDS = ['prm', 'as', 'client'] as const;

interface Samples {
  setup: AuthzSetup;
  /** Responses that came back to the client, labelled. */
  responses: [string, AuthzOutcome][];
  advertised: boolean;
}

/** A success and an error authorization response; undefined (after a skip) when neither came back. */
async function samples(t: CheckContext): Promise<Samples | undefined> {
  const setup = await authzSetup(t);
  if (!setup) return undefined;
  // Read only: every check of this file (and AS-META-11) reads the same pair of responses.
  const { success: ok, error: bad } = await pooledResponses(t, setup);
  const responses = (
    [
      ['success response', ok],
      ['error response', bad],
    ] as [string, AuthzOutcome][]
  ).filter(([, o]) => o.kind === 'redirect');
  t.data(
    'responses',
    [outcomeRow('success', ok), outcomeRow('error', bad)].map((r, i) => ({
      ...r,
      iss: [ok, bad][i]!.params.get('iss'),
    })),
  );
  const advertised = setup.as.metadata.authorization_response_iss_parameter_supported === true;
  t.data(
    'authorization_response_iss_parameter_supported',
    setup.as.metadata.authorization_response_iss_parameter_supported ?? null,
  );
  if (responses.length === 0) {
    t.prerequisiteMissing(
      `no authorization response came back to the client (${describe(ok)}; ${describe(bad)})`,
      'use --login auto against an AS in test mode, or --login form/browser with a login script',
    );
    return undefined;
  }
  return { setup, responses, advertised };
}

export const AS_ISS_01 = defineCheck({
  id: 'AS-ISS-01',
  title: 'Authorization responses carry `iss`',
  level: 'SHOULD',
  refs: ['MCP 2026-07-28 §Authorization Response Validation', 'SEP-2468', 'RFC9207 §2'],
  quotes: [
    {
      source: 'MCP 2026-07-28',
      section: 'Authorization Response Validation',
      keyword: 'SHOULD',
      binds: 'authorization-server',
      text: 'MCP authorization servers SHOULD include the iss parameter in authorization responses, including error responses, as defined in RFC9207 Section 2.',
    },
  ],
  revisions: ['2026-07-28'],
  needs: [...NEEDS],
  faults: ['as-iss-missing'],
  requirement:
    'Under the 2026-07-28 profile, success and error authorization responses include the `iss` parameter (RFC 9207), so MCP clients can detect mix-up attacks.',
  remediation:
    'Add iss=<issuer> to every authorization response and advertise authorization_response_iss_parameter_supported: true.',
  probe: 'One success and one error authorization response; look for iss.',
  control:
    'None: the check judges the parameters of the authorization responses it receives (a shared success and error response), not a refusal.',
  async run(t) {
    const s = await samples(t);
    if (!s) return;
    for (const [label, o] of s.responses) {
      if (o.params.has('iss')) t.conforms(`${label} carries iss`);
      else t.violated(`${label} carries no iss`, evidence(o));
    }
  },
});

export const AS_ISS_02 = defineCheck({
  id: 'AS-ISS-02',
  title: 'With the iss flag advertised, every authorization response (errors too) has `iss`',
  level: 'MUST',
  refs: ['RFC9207 §2', 'RFC9207 §3', 'MCP 2026-07-28 §Authorization Response Validation'],
  quotes: [
    {
      source: 'RFC 9207',
      section: '2',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: 'In authorization responses to the client, including error responses, an authorization server supporting this specification MUST indicate its identity by including the iss parameter in the response.',
    },
  ],
  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-iss-missing', 'as-iss-missing-on-error'],
  requirement:
    'When the metadata says `authorization_response_iss_parameter_supported: true`, every authorization response, success and error alike, contains `iss` (clients then reject responses without it).',
  remediation: 'Add iss to error redirects as well as to code redirects.',
  probe: 'One success and one error authorization response; both must have iss.',
  control:
    'None: the check judges the parameters of the authorization responses it receives (a shared success and error response), not a refusal.',
  async run(t) {
    const s = await samples(t);
    if (!s) return;
    if (!s.advertised) {
      t.notApplicable('the metadata does not advertise authorization_response_iss_parameter_supported: true');
      return;
    }
    for (const [label, o] of s.responses) {
      if (o.params.has('iss')) t.conforms(`${label} carries iss`);
      else t.violated(`${label} carries no iss although the metadata advertises it`, evidence(o));
    }
  },
});

export const AS_ISS_03 = defineCheck({
  id: 'AS-ISS-03',
  title: '`iss` equals the metadata issuer exactly',
  level: 'MUST',
  refs: [
    'RFC9207 §2 (iss identical to the issuer)',
    'SEP-2468',
    'MCP 2026-07-28 §Authorization Response Validation',
  ],
  quotes: [
    {
      source: 'RFC 9207',
      section: '2.3',
      keyword: 'MUST',
      binds: 'authorization-server',
      text: "The issuer identifier included in the server's metadata value issuer MUST be identical to the iss parameter's value.",
    },
  ],

  revisions: REVISIONS,
  needs: [...NEEDS],
  faults: ['as-iss-mismatch'],
  requirement:
    'The `iss` value (after form-decoding) is identical, code point for code point, to the `issuer` of the metadata and to the issuer the client discovered; no normalisation (trailing slash, case).',
  remediation: 'Send the metadata issuer string unchanged as iss.',
  probe: 'Compare iss of a success and an error response with the metadata issuer.',
  control:
    'None: the check compares the `iss` of the responses it receives with the metadata issuer, not a refusal.',
  async run(t) {
    const s = await samples(t);
    if (!s) return;
    const issuer = s.setup.as.issuer;
    const withIss = s.responses.filter(([, o]) => o.params.has('iss'));
    if (withIss.length === 0) {
      t.notApplicable('no authorization response carries iss (see AS-ISS-01/02)');
      return;
    }
    for (const [label, o] of withIss) {
      const iss = o.params.get('iss');
      if (iss === issuer) t.conforms(`${label}: iss is "${issuer}"`);
      else t.violated(`${label}: iss is "${iss}", but the issuer is "${issuer}"`, evidence(o));
    }
  },
});

export const AS_ISS_04 = defineCheck({
  id: 'AS-ISS-04',
  title: 'An AS that sends `iss` advertises it in its metadata',
  level: 'MUST',
  refs: ['MCP 2026-07-28 §Authorization Response Validation', 'RFC9207 §3', 'requirements §3 A17'],
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
  needs: [...NEEDS],
  faults: ['as-metadata-no-iss-flag'],
  requirement:
    'If authorization responses carry `iss`, the metadata says `authorization_response_iss_parameter_supported: true`; otherwise RFC 9207 clients may discard the responses (cross-check with AS-META-11).',
  remediation: 'Add "authorization_response_iss_parameter_supported": true to the metadata.',
  probe: 'Look for iss in a success and an error response; read the metadata flag.',
  control: 'None: the check compares the `iss` seen in responses with the metadata flag, not a refusal.',
  async run(t) {
    const s = await samples(t);
    if (!s) return;
    const withIss = s.responses.filter(([, o]) => o.params.has('iss'));
    if (withIss.length === 0) {
      t.notApplicable('no authorization response carries iss, so there is nothing to advertise');
      return;
    }
    if (s.advertised) t.conforms('iss is sent and the metadata advertises it');
    else
      t.violated(
        `${withIss.map(([l]) => l).join(' and ')} carry iss, but the metadata does not say authorization_response_iss_parameter_supported: true`,
        evidence(...withIss.map(([, o]) => o)),
      );
  },
});

export const checks = [AS_ISS_01, AS_ISS_02, AS_ISS_03, AS_ISS_04];
