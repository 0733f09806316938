// The fault matrix (issue #7): proof that every check detects what it claims.
//
// 1. Coverage: every check names a fault (or is MAY, or declares itself untestable with a reason),
//    every fault is named by a check, and no check names a fault that does not exist.
// 2. Clean: against the clean embedded reference server, every check passes in every revision it
//    applies to (scripts/matrix-plan.ts cleanProblem says which skips and infos are acceptable).
// 3. Faults: for each fault, the checks that name it run against a server with that fault switched
//    on, and each ends `fail` (MUST) or `warn` (SHOULD), never anything else.
//
// Every run is a real `mcp-auth-conformance run --spec REV [--fault F] --only IDS` in process, one
// embedded server per run on an ephemeral port; runs go in parallel. A failing row prints the
// command that reproduces it.
//
// 4. Checks that cannot run against the auto-approving embedded server (expectedSkipInEmbedded:
//    they judge the sign-in step) run against the reference server with its consent page on,
//    signing in through the form login script fixtures/login/reference-server.json: clean → pass,
//    each fault → red.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { faultParts } from '../../reference-server/faults.ts';
import { FormScriptSchema } from '../../runner/login/shared.ts';
import { REVISIONS } from '../../runner/revisions.ts';
import {
  cleanProblem,
  coverageProblems,
  expectedUnderFault,
  faultRuns,
  matrixRevision,
  provableEmbedded,
} from '../../scripts/matrix-plan.ts';
import { CHECKS } from '../../suites/index.ts';
import { runEmbedded } from '../../scripts/embedded-run.ts';
import { runAgainstEmbedded } from '../helpers/run-checks.ts';

describe('coverage', () => {
  const problems = coverageProblems(CHECKS);
  it.each([
    'check-without-fault',
    'fault-without-check',
    'unknown-fault',
    'may-with-fault',
    'unknown-variant',
  ] as const)('no %s', (kind) => {
    expect(problems.filter((p) => p.kind === kind).map((p) => p.message)).toEqual([]);
  });
});

describe.concurrent('clean reference server', () => {
  it.each(REVISIONS)('every %s check passes (or may not apply) on the clean server', async (revision) => {
    const applicable = CHECKS.filter((c) => c.revisions.includes(revision));
    const run = await runEmbedded({ revision });
    const byId = new Map(run.report.results.map((r) => [r.id, r]));
    const wrong = applicable.flatMap((check) => {
      const problem = cleanProblem(check, byId.get(check.id));
      return problem ? [`${check.id}: ${problem}`] : [];
    });
    expect(wrong.join('\n'), `reproduce: ${run.command}`).toBe('');
  });
});

describe.concurrent('every fault turns the checks that name it red', () => {
  // Checks that declare they cannot run embedded (expectedSkipInEmbedded) prove their faults in
  // their suite's own tests, against a reference server configured for them.
  const runs = faultRuns(provableEmbedded(CHECKS));
  // A fault that needs variants (rs-introspection-cached needs opaque-tokens) runs with them on.
  const label = (r: (typeof runs)[number]) =>
    `${r.fault} (${r.revision}${r.variants.length > 0 ? `, variants ${r.variants.join(', ')}` : ''})`;
  it.each(runs.map((r) => [label(r), r] as const))('%s', async (_name, plan) => {
    const run = await runEmbedded({
      revision: plan.revision,
      variants: plan.variants,
      faults: faultParts(plan.fault),
      only: plan.checks.map((c) => c.id),
    });
    const byId = new Map(run.report.results.map((r) => [r.id, r]));
    const wrong = plan.checks
      .map((check) => ({
        check,
        expected: expectedUnderFault(check, plan.revision, plan.fault),
        result: byId.get(check.id),
      }))
      .filter(({ expected, result }) => result?.status !== expected)
      .map(
        ({ check, expected, result }) =>
          `${check.id} (${check.level}) should be ${expected}, was ${result ? `${result.status}: ${result.message}` : 'not run'}`,
      );
    expect(wrong.join('\n'), `reproduce: ${run.command}`).toBe('');
  });
});

describe.concurrent('checks that judge the sign-in step, against the consent page', () => {
  const loginScript = FormScriptSchema.parse(
    JSON.parse(readFileSync(new URL('../../fixtures/login/reference-server.json', import.meta.url), 'utf8')),
  );
  const consentChecks = CHECKS.filter((c) => c.expectedSkipInEmbedded);
  const consent = { autoApprove: false, embedded: false, loginScript } as const;

  it('there are such checks, and each names a fault', () => {
    expect(consentChecks.length).toBeGreaterThan(0);
    expect(consentChecks.filter((c) => c.faults.length === 0).map((c) => c.id)).toEqual([]);
  });

  it.each(consentChecks.map((c) => [c.id, c] as const))(
    '%s passes on the clean server',
    async (_id, check) => {
      const [result] = await runAgainstEmbedded([check], { ...consent, revision: matrixRevision(check) });
      expect(result?.status, result ? `${result.status}: ${result.message}` : 'did not run').toBe('pass');
    },
  );

  const pairs = consentChecks.flatMap((check) =>
    check.faults.map((fault) => [`${check.id} with ${fault}`, check, fault] as const),
  );
  it.each(pairs)('%s is red', async (_name, check, fault) => {
    const [result] = await runAgainstEmbedded([check], {
      ...consent,
      revision: matrixRevision(check, fault),
      faults: faultParts(fault),
    });
    expect(result?.status, result ? `${result.status}: ${result.message}` : 'did not run').toBe(
      expectedUnderFault(check, matrixRevision(check, fault), fault),
    );
  });
});
