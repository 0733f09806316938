// The fault matrix's plan (issue #7): which runs prove that every check can fail, and fails for
// the right reason. Used by the matrix test, the CHECKS.md generator and the specificity script.
//
// - Coverage: a check names at least one fault, unless it is MAY-level (a MAY observation is
//   `info`, it cannot fail) or declares itself `untestable` with a reason. Every fault of the
//   catalogue is named by at least one check, and every fault a check names exists.
// - Each (fault, check) pair runs in the check's matrix revision: the revision the check declares
//   for that fault (faultRevisions), else the newest revision it applies to.
// - A MUST check must end `fail` under each of its faults; a SHOULD check `warn`.

import { FAULTS, faultParts, variantsFor } from '../reference-server/faults.ts';
import { isVariantName, type VariantDefinition, VARIANTS } from '../reference-server/variants.ts';
import { type Check, levelFor, type Status } from '../runner/check.ts';
import { LATEST_REVISION, type Revision } from '../runner/revisions.ts';

export function matrixRevision(check: Check, fault?: string): Revision {
  const declared = fault ? check.faultRevisions?.[fault] : undefined;
  if (declared) return declared;
  return check.revisions.includes(LATEST_REVISION)
    ? LATEST_REVISION
    : (check.revisions[check.revisions.length - 1] as Revision);
}

export function expectedUnderFault(
  check: Check,
  revision: Revision = matrixRevision(check),
  fault?: string,
): Status {
  const level = (fault && check.faultLevels?.[fault]) || levelFor(check, revision);
  return level === 'MUST' ? 'fail' : 'warn';
}

/**
 * Why a check's result on the clean reference server is not acceptable, or undefined when it is.
 * Acceptable: `pass`; `info` (an observation with no verdict, e.g. a MAY behaviour, or revocation
 * that a self-contained JWT cannot show); `skip` when the check declares it cannot run embedded;
 * and a not-applicable `skip` (the reference server lacks an optional feature, say signed metadata),
 * which is safe because the fault rows prove the check still turns red when the feature appears.
 * Never acceptable: fail, warn, error, or a skip for want of something the operator must provide
 * (embedded runs provide everything).
 */
export function cleanProblem(
  check: Check,
  result: { status: string; message: string; howToProvide?: string } | undefined,
): string | undefined {
  if (!result) return 'did not run';
  if (result.status === 'pass' || result.status === 'info') return undefined;
  if (result.status === 'skip' && (check.expectedSkipInEmbedded || !result.howToProvide)) return undefined;
  return `${result.status}: ${result.message}`;
}

/**
 * Checks the auto-approving embedded server can prove: not those that declare they cannot run
 * embedded (they judge the sign-in step; the matrix runs them against the consent page instead).
 */
export function provableEmbedded(checks: readonly Check[]): Check[] {
  return checks.filter((c) => !c.expectedSkipInEmbedded);
}

export interface CoverageProblem {
  kind:
    'check-without-fault' | 'fault-without-check' | 'unknown-fault' | 'may-with-fault' | 'unknown-variant';
  subject: string;
  message: string;
}

export function coverageProblems(checks: readonly Check[]): CoverageProblem[] {
  const problems: CoverageProblem[] = [];
  const known = new Set(FAULTS.map((f) => f.name));
  const named = new Set<string>();
  for (const check of checks) {
    for (const fault of check.faults.flatMap(faultParts)) {
      named.add(fault);
      if (!known.has(fault)) {
        problems.push({
          kind: 'unknown-fault',
          subject: check.id,
          message: `${check.id} names fault "${fault}", which is not in the catalogue`,
        });
      }
    }
    if (check.level === 'MAY' && check.faults.length > 0) {
      problems.push({
        kind: 'may-with-fault',
        subject: check.id,
        message: `${check.id} is MAY-level (its observations are info, never red) but names faults`,
      });
    }
    if (check.faults.length === 0 && check.level !== 'MAY' && !check.untestable) {
      problems.push({
        kind: 'check-without-fault',
        subject: check.id,
        message: `${check.id} (${check.level}) names no fault that turns it red and does not say why it is untestable`,
      });
    }
  }
  for (const fault of FAULTS) {
    for (const variant of fault.requiresVariants ?? []) {
      if (!isVariantName(variant)) {
        problems.push({
          kind: 'unknown-variant',
          subject: fault.name,
          message: `fault ${fault.name} requires variant "${variant}", which is not in the catalogue`,
        });
      }
    }
    if (!named.has(fault.name)) {
      problems.push({
        kind: 'fault-without-check',
        subject: fault.name,
        message: `fault ${fault.name} is named by no check: nothing proves it is detected`,
      });
    }
  }
  return problems;
}

export interface FaultRun {
  /** A catalogue entry: one fault, or several joined by `+` (see faultParts). */
  fault: string;
  /** Variants the fault needs to be observable (FaultDefinition.requiresVariants), switched on with it. */
  variants: string[];
  revision: Revision;
  checks: Check[];
}

/**
 * One run per (fault, revision): the checks that name the fault, in their matrix revision, with the
 * variants the fault requires.
 */
export function faultRuns(checks: readonly Check[]): FaultRun[] {
  const runs = new Map<string, FaultRun>();
  for (const check of checks) {
    for (const fault of check.faults) {
      const revision = matrixRevision(check, fault);
      const key = `${fault}@${revision}`;
      const run = runs.get(key) ?? { fault, variants: variantsFor(fault), revision, checks: [] };
      run.checks.push(check);
      runs.set(key, run);
    }
  }
  return [...runs.values()].sort(
    (a, b) => a.fault.localeCompare(b.fault) || a.revision.localeCompare(b.revision),
  );
}

// ---------------------------------------------------------------------------------------------
// The variant matrix (issue #12 item 6), the dual of the fault matrix: under every variant of the
// reference server (reference-server/variants.ts, conformant behaviours unlike our defaults) the
// whole suite ends with no `fail` and no `error`, and every skip says why. A check that fails a
// variant has the wrong rule, or the harness cannot yet cope with a behaviour the specs allow.

/**
 * The revisions each variant runs in: the newest (stateless) and 2025-11-25 (initialize and
 * sessions). Together they cover every check (no check applies to 2025-06-18 only).
 */
export const VARIANT_MATRIX_REVISIONS: readonly Revision[] = [LATEST_REVISION, '2025-11-25'];

export interface VariantRun {
  variant: VariantDefinition;
  revision: Revision;
  /** The `run` flags the variant needs besides `--variant` (its runFlags). */
  flags: readonly string[];
}

export function variantRuns(variants: readonly VariantDefinition[] = VARIANTS): VariantRun[] {
  return variants.flatMap((variant) =>
    VARIANT_MATRIX_REVISIONS.map((revision) => ({ variant, revision, flags: variant.runFlags ?? [] })),
  );
}

export interface VariantProblem {
  check: string;
  status: string;
  message: string;
}

/** What a run under a variant must not contain: a fail, an error, a skip that gives no reason, a run error. */
export function variantProblems(report: {
  runError?: string;
  results: readonly { id: string; status: string; message: string }[];
}): VariantProblem[] {
  const problems: VariantProblem[] = report.results
    .filter((r) => r.status === 'fail' || r.status === 'error' || (r.status === 'skip' && !r.message.trim()))
    .map((r) => ({ check: r.id, status: r.status, message: r.message }));
  if (report.runError) problems.unshift({ check: '(run)', status: 'error', message: report.runError });
  return problems;
}
