// RS token validation and audience (suites/rs-token.ts RS-401-08..22, suites/rs-audience.ts
// RS-AUD-01..06) through the real CLI path, in process, against the embedded reference server:
// clean → every check passes (or is info/skip for the reason it declares), in each revision; each
// named fault → the checks that name it fail (MUST) or warn (SHOULD), with a message that names
// the defect. One run per fault, shared by the checks that name it.

import { describe, expect, it } from 'vitest';
import type { Check } from '../../runner/check.ts';
import { REVISIONS } from '../../runner/revisions.ts';
import { runEmbedded } from '../../scripts/embedded-run.ts';
import { checks as audienceChecks } from '../../suites/rs-audience.ts';
import { checks as tokenChecks } from '../../suites/rs-token.ts';

const CHECKS: readonly Check[] = [...tokenChecks, ...audienceChecks];
const IDS = CHECKS.map((c) => c.id);

/** What each fault's message must mention, so a red result is red for the right reason. */
const FAULT_MESSAGE: Record<string, RegExp> = {
  'rs-bad-token-500': /500/,
  'rs-bad-token-403': /403, not 401/,
  'rs-expired-accepted': /expired .*accepted/,
  'rs-signature-not-checked': /accepted \(HTTP 200\)/,
  'rs-alg-none-accepted': /alg "none".*accepted/,
  'rs-embedded-jwk-accepted': /embedded jwk header: accepted/,
  'rs-algorithm-confusion': /HS256 keyed with .*accepted/,
  'rs-issuer-not-checked': /another authorization server .*accepted/,
  'rs-typ-not-checked': /typ "JWT" .*accepted/,
  'rs-nbf-ignored': /nbf .*accepted/,
  'rs-query-token-accepted': /query was served/,
  'rs-scheme-case-sensitive': /scheme "bearer" was refused/,
  'rs-non-bearer-400': /Basic credentials: answered 400/,
  'rs-duplicate-authorization-first-wins': /authenticated with one of the lines/,
  'rs-notifications-unauthenticated': /notification without a token: served/,
  'rs-audience-not-checked': /another host .*accepted/,
  'rs-audience-missing-accepted': /without aud: accepted/,
  'rs-audience-array-rejected': /aud array names this server was refused/,
  'rs-audience-case-sensitive': /upper-case audience .* was refused/,
};

/** Clean statuses that are not `pass`, and why each is right for the reference server. */
const CLEAN_EXCEPTIONS: Record<string, string> = {
  'RS-401-21': 'info', // self-contained JWTs: revocation not observable at the RS (declared untestable)
  'RS-AUD-06': 'skip', // token passthrough is not observable black-box (declared untestable)
};

describe('RS token validation and audience checks on the clean reference server', () => {
  for (const revision of REVISIONS) {
    it(`${revision}: every check passes (RS-401-21 info, RS-AUD-06 skip)`, async () => {
      const run = await runEmbedded({ only: IDS, revision });
      const results = run.report.results;
      expect(results.map((r) => r.id).sort()).toEqual(
        CHECKS.filter((c) => c.revisions.includes(revision))
          .map((c) => c.id)
          .sort(),
      );
      for (const r of results) {
        expect(`${r.id} ${r.status}: ${r.message}`).toBe(
          `${r.id} ${CLEAN_EXCEPTIONS[r.id] ?? 'pass'}: ${r.message}`,
        );
      }
    });
  }
});

describe('each named fault turns its checks red for the right reason', () => {
  const byFault = new Map<string, Check[]>();
  for (const check of CHECKS)
    for (const fault of check.faults) byFault.set(fault, [...(byFault.get(fault) ?? []), check]);

  it('every fault a check names has an expected message here', () => {
    expect([...byFault.keys()].sort()).toEqual(Object.keys(FAULT_MESSAGE).sort());
  });

  for (const [fault, checks] of byFault) {
    it(`${fault} → ${checks.map((c) => c.id).join(', ')}`, async () => {
      const run = await runEmbedded({
        faults: [fault],
        only: checks.map((c) => c.id),
        revision: '2026-07-28',
      });
      for (const check of checks) {
        const result = run.report.results.find((r) => r.id === check.id);
        expect(result, `${check.id} did not run (${run.command})`).toBeDefined();
        expect(`${check.id} ${result!.status}`).toBe(
          `${check.id} ${check.level === 'MUST' ? 'fail' : 'warn'}`,
        );
        expect(result!.message).toMatch(FAULT_MESSAGE[fault]!);
      }
    });
  }
});
