// The variant matrix (issue #12 item 6), the dual of the fault matrix: the reference server with
// each variant switched on (reference-server/variants.ts: revoking earlier grants, opaque tokens,
// a required scope, no refresh tokens, a path in the issuer, ...) behaves in a way the specs allow
// but unlike our defaults, so the whole suite against it must end with no `fail` and no `error`,
// and every skip must say why (scripts/matrix-plan.ts variantProblems). A red row means a check
// has the wrong rule, or the harness cannot yet cope with a legal behaviour; its message lists
// each offending check with the variant, the status and the message, and the command that
// reproduces the run.
//
// Every run is a real `mcp-auth-conformance run --variant NAME --spec REV [the variant's flags]`
// in process, one embedded server per run on an ephemeral port; runs go in parallel.

import { beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedRun, runEmbedded } from '../../scripts/embedded-run.ts';
import { type VariantRun, variantProblems, variantRuns } from '../../scripts/matrix-plan.ts';
import { VARIANTS } from '../../reference-server/variants.ts';

/**
 * Runs at once. A run is mostly waiting (rate limits, code lifetimes, login round trips): the 22
 * runs cost about 20 s of CPU and take about 30 s at 4 at a time on the shared 2-core machine, 25 s
 * at 8. Four keeps the matrix from starving timing-sensitive tests in other files (the race
 * faults' 250 ms windows) when the whole suite runs.
 */
const PARALLEL_RUNS = 4;
/** The whole matrix, however loaded the machine. */
const MATRIX_TIMEOUT_MS = 300_000;

const runs = variantRuns();
const outcomes = new Map<VariantRun, EmbeddedRun | Error>();

beforeAll(async () => {
  const queue = [...runs];
  const worker = async () => {
    for (let plan = queue.shift(); plan; plan = queue.shift()) {
      outcomes.set(
        plan,
        await runEmbedded({
          revision: plan.revision,
          variants: [plan.variant.name],
          flags: plan.flags,
        }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_RUNS }, worker));
}, MATRIX_TIMEOUT_MS);

describe('the plan', () => {
  it('runs every variant of the catalogue', () => {
    expect([...new Set(runs.map((r) => r.variant.name))]).toEqual(VARIANTS.map((v) => v.name));
  });
});

describe('under every variant, no check fails or errors', () => {
  it.each(runs.map((r) => [`${r.variant.name} (${r.revision})`, r] as const))('%s', (_name, plan) => {
    const run = outcomes.get(plan);
    if (run instanceof Error || run === undefined) throw run ?? new Error('the run did not happen');
    // The report says which legal behaviour it was run against.
    expect(run.report.variants).toEqual([plan.variant.name]);
    const lines = variantProblems(run.report).map(
      (p) => `${p.check} | ${plan.variant.name} (${plan.revision}) | ${p.status} | ${p.message}`,
    );
    expect(lines.join('\n'), `reproduce: npx ${run.command}`).toBe('');
  });
});
