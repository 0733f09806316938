// Third-party targets (issue #9): the full suite against each target of fixtures/targets/, compared
// with its expected file check by check. A verdict that flips (a new failure, or an expected failure
// that now passes), an unlisted result or a stale entry fails the test.
//
// A target whose dependencies cannot be installed (`npm ci --prefix fixtures/targets/<name>`, e.g.
// no registry access) is skipped with the reason; when they can be installed, the test runs.

import { describe, expect, it } from 'vitest';
import {
  compare,
  ensureInstalled,
  ExpectedEntrySchema,
  glueEntries,
  INSTALL_TIMEOUT_MS,
  listTargets,
  loadExpected,
  loadTarget,
  RUN_TIMEOUT_MS,
  runVariant,
} from '../../scripts/target-run.ts';

describe('third-party targets match their expected results', () => {
  for (const name of listTargets()) {
    for (const variant of loadTarget(name)) {
      // The title says how many expected verdicts our glue decides (issue #13 §6), so a reader of
      // the test output sees which share of a target's verdicts is the product's own.
      const glue = glueEntries(loadExpected(name, variant)).length;
      it(
        `${name}/${variant.name} (${glue} glue ${glue === 1 ? 'entry' : 'entries'})`,
        async (ctx) => {
          const problem = ensureInstalled(name);
          if (problem) ctx.skip(problem);
          const outcome = await runVariant(name, variant);
          const lines = outcome.differences.map(
            (d) => `${d.id}: expected ${d.expected}, got ${d.actual}${d.message ? ` (${d.message})` : ''}`,
          );
          expect(lines, `${name}/${variant.name} differs from ${variant.expected}`).toEqual([]);
          // Deterministic verdicts (issue #12 §3): a second run, against a fresh start of the same
          // target, gives every check the same status.
          const again = await runVariant(name, variant);
          expect(
            statusChanges(outcome.report.results, again.report.results),
            `${name}/${variant.name}: the second run's statuses differ from the first's`,
          ).toEqual([]);
        },
        INSTALL_TIMEOUT_MS + 2 * RUN_TIMEOUT_MS,
      );
    }
  }
});

/** "ID: first → second (message)" for every check whose status differs between two runs. */
function statusChanges(
  first: readonly { id: string; status: string }[],
  second: readonly { id: string; status: string; message: string }[],
): string[] {
  const before = new Map(first.map((r) => [r.id, r.status]));
  return second
    .filter((r) => before.get(r.id) !== r.status)
    .map((r) => `${r.id}: ${before.get(r.id) ?? '(not run)'} → ${r.status} (${r.message})`);
}

describe('the comparison is exact per check ID', () => {
  const report = (results: { id: string; status: string }[]) =>
    ({ results: results.map((r) => ({ ...r, message: `${r.id} ${r.status}` })) }) as unknown as Parameters<
      typeof compare
    >[0];
  const expected = {
    'A-01': { status: 'fail' as const, comment: 'confirmed' },
    'A-02': { status: 'pass' as const, comment: 'conforms' },
  };

  it('accepts identical statuses', () => {
    expect(
      compare(
        report([
          { id: 'A-01', status: 'fail' },
          { id: 'A-02', status: 'pass' },
        ]),
        expected,
      ),
    ).toEqual([]);
  });

  it('fails a new failure and an expected failure that now passes', () => {
    const d = compare(
      report([
        { id: 'A-01', status: 'pass' },
        { id: 'A-02', status: 'fail' },
      ]),
      expected,
    );
    expect(d.map((x) => `${x.id} ${x.expected}->${x.actual}`)).toEqual([
      'A-01 fail->pass',
      'A-02 pass->fail',
    ]);
  });

  it('fails an unlisted result and a stale entry', () => {
    const d = compare(
      report([
        { id: 'A-01', status: 'fail' },
        { id: 'A-03', status: 'pass' },
      ]),
      expected,
    );
    expect(d.map((x) => `${x.id} ${x.expected}->${x.actual}`)).toEqual([
      'A-03 (not listed)->pass',
      'A-02 pass->(did not run)',
    ]);
  });
});

describe('glue entries (issue #13 §6)', () => {
  it('an entry may say its verdict is our glue’s, as a boolean only', () => {
    expect(ExpectedEntrySchema.parse({ status: 'fail', comment: 'c', glue: true }).glue).toBe(true);
    expect(() => ExpectedEntrySchema.parse({ status: 'fail', comment: 'c', glue: 'yes' })).toThrow();
    expect(() => ExpectedEntrySchema.parse({ status: 'fail', comment: 'c', gleu: true })).toThrow();
  });

  it('glueEntries lists the marked IDs, sorted', () => {
    expect(
      glueEntries({
        'B-02': { status: 'warn', comment: 'glue', glue: true },
        'A-01': { status: 'fail', comment: 'glue', glue: true },
        'C-03': { status: 'pass', comment: 'product', glue: false },
        'D-04': { status: 'pass', comment: 'product' },
      }),
    ).toEqual(['A-01', 'B-02']);
  });
});
