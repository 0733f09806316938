// The verdict of a run, decided in one place from the results, --fail-on and the baseline. The
// exit code, the terminal summary, summary.md, report.html, junit.xml and report.sarif all show
// this one object (it is stored in report.json as `verdict`), so they cannot disagree.
//
// Exit code (DESIGN.md §Contracts):
//   1 results that count (a `fail`; a `warn` too under --fail-on should) the baseline does not
//     list, or a baseline entry that no longer happens (a stale entry hides the next regression);
//   3 otherwise, when the run could not happen or complete (runError), or a check could not finish
//     (`error`) and the baseline does not list it;
//   0 otherwise. --fail-on never counts nothing: only a run that could not happen is 3.
//
// Certifiable (the strongest claim, shown only when true): exit 0, nothing failed, nothing
// errored, nothing accepted by a baseline, and every MUST check of the revision's catalogue ran (a
// skipped or deselected MUST check verified nothing). Otherwise the headline says why not.

import { type Baseline, type FailOn, judge } from './baseline.ts';
import type { Level, Status } from './check.ts';

export interface VerdictInput {
  results: readonly { id: string; level: Level; status: Status }[];
  failOn?: FailOn;
  baseline?: Baseline;
  /** Why the run could not happen or complete, if so. */
  runError?: string;
  /**
   * IDs of every MUST check of the catalogue for the run's revision (selected or not): the ones
   * that did not run make the run not certifiable. Absent: the results' own MUST checks.
   */
  mustChecks?: readonly string[];
}

export interface AcceptedFailure {
  id: string;
  status: Status;
  reason: string;
}

export interface Verdict {
  /** What the exit code says: pass (0), fail (1), incomplete (3). */
  outcome: 'pass' | 'fail' | 'incomplete';
  exitCode: 0 | 1 | 3;
  certifiable: boolean;
  /** One sentence every output shows as is. */
  headline: string;
  /** Further sentences: what counted, what the baseline accepted, what did not run. */
  details: string[];
  failOn: FailOn;
  /** Results that decide exit code 1 (not covered by the baseline). */
  counted: { id: string; status: Status }[];
  /** Failures the baseline accepted: reported, not counted. */
  accepted: AcceptedFailure[];
  /** Baseline entries whose check now has another status: they fail the run (none under --fail-on never). */
  stale: { id: string; expected: Status; now: Status; reason: string }[];
  /** Results that are fail, warn or error but count for nothing under this --fail-on. */
  ignored: { id: string; status: Status }[];
  /** MUST checks of the revision that did not run to a verdict (skipped, errored or not selected). */
  mustNotRun: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const ids = (list: readonly { id: string }[], max = 5) =>
  list.length <= max
    ? list.map((r) => r.id).join(', ')
    : `${list
        .slice(0, max)
        .map((r) => r.id)
        .join(', ')} and ${list.length - max} more`;

export function decideVerdict(input: VerdictInput): Verdict {
  const failOn = input.failOn ?? 'must';
  const judged = judge(input.results, { failOn, ...(input.baseline ? { baseline: input.baseline } : {}) });
  const accepted = judged.expected.map(({ result, entry }) => ({
    id: result.id,
    status: result.status,
    reason: entry.reason,
  }));
  const acceptedIds = new Set(accepted.map((a) => a.id));
  const counted = judged.unexpected.map((r) => ({ id: r.id, status: r.status }));
  const countedIds = new Set(counted.map((c) => c.id));
  // A stale entry fails the run (a stale entry hides the next regression), except under
  // --fail-on never, where nothing counts: there it is only mentioned.
  const allStale = judged.stale.map(({ entry, now }) => ({
    id: entry.id,
    expected: entry.status,
    now,
    reason: entry.reason,
  }));
  const stale = failOn === 'never' ? [] : allStale;
  const errors = input.results.filter((r) => r.status === 'error' && !acceptedIds.has(r.id));
  const ignored = input.results
    .filter(
      (r) =>
        (r.status === 'fail' || r.status === 'warn' || (r.status === 'error' && failOn === 'never')) &&
        !countedIds.has(r.id) &&
        !acceptedIds.has(r.id),
    )
    .map((r) => ({ id: r.id, status: r.status }));

  const ran = new Set(
    input.results.filter((r) => r.status !== 'skip' && r.status !== 'error').map((r) => r.id),
  );
  const mustChecks = input.mustChecks ?? input.results.filter((r) => r.level === 'MUST').map((r) => r.id);
  const mustNotRun = mustChecks.filter((id) => !ran.has(id));

  const exitCode: 0 | 1 | 3 =
    judged.exitCode === 1
      ? 1
      : input.runError !== undefined
        ? 3
        : failOn !== 'never' && errors.length > 0
          ? 3
          : 0;
  const has = (status: Status) => input.results.some((r) => r.status === status);
  const certifiable =
    exitCode === 0 &&
    input.runError === undefined &&
    input.results.length > 0 &&
    !has('fail') &&
    !has('error') &&
    accepted.length === 0 &&
    mustNotRun.length === 0;

  const details: string[] = [];
  const countedFails = counted.filter((c) => c.status === 'fail');
  const countedWarns = counted.filter((c) => c.status === 'warn');
  const baselineNote = input.baseline ? ' the baseline does not list' : '';
  if (countedFails.length > 0)
    details.push(`${plural(countedFails.length, 'check')} failed${baselineNote}: ${ids(countedFails)}.`);
  if (countedWarns.length > 0)
    details.push(
      `${plural(countedWarns.length, 'warning')}${baselineNote} count${countedWarns.length === 1 ? 's' : ''} under --fail-on should: ${ids(countedWarns)}.`,
    );
  for (const s of allStale)
    details.push(
      `${s.id}: the baseline expects ${s.expected} but it is now ${s.now}; remove the stale entry ("${s.reason}").`,
    );
  if (accepted.length > 0)
    details.push(
      `The baseline accepted ${plural(accepted.length, 'failure')}: ${accepted.map((a) => `${a.id} (${a.status}: ${a.reason})`).join('; ')}.`,
    );
  if (errors.length > 0 && failOn !== 'never')
    details.push(`${plural(errors.length, 'check')} could not finish (harness error): ${ids(errors)}.`);
  const ignoredFails = ignored.filter((i) => i.status !== 'warn');
  if (failOn === 'never' && ignoredFails.length > 0)
    details.push(
      `--fail-on never: ${plural(ignoredFails.length, 'failure')} did not change the exit code: ${ids(ignoredFails)}.`,
    );
  if (mustNotRun.length > 0)
    details.push(
      `${plural(mustNotRun.length, 'MUST check')} did not run to a verdict (skipped, errored or not selected): ${ids(
        mustNotRun.map((id) => ({ id })),
        8,
      )}.`,
    );
  if (input.runError) details.push(`The run could not complete: ${input.runError}`);

  const warns = input.results.filter((r) => r.status === 'warn').length;
  const notRun = mustNotRun.length > 0 ? `${plural(mustNotRun.length, 'MUST check')} did not run` : '';
  let headline: string;
  if (exitCode === 3) {
    headline = input.runError
      ? `Incomplete: the run could not complete: ${oneLine(input.runError, 200)}`
      : `Incomplete: ${plural(errors.length, 'check')} could not finish (harness error)`;
  } else if (exitCode === 1) {
    const parts = [
      countedFails.length > 0 ? `${plural(countedFails.length, 'check')} failed` : '',
      countedWarns.length > 0 ? `${plural(countedWarns.length, 'warning')} under --fail-on should` : '',
      stale.length > 0 ? `${plural(stale.length, 'stale baseline entry', 'stale baseline entries')}` : '',
    ].filter(Boolean);
    headline = `Not conformant: ${parts.join(', ')}${input.baseline && counted.length > 0 ? ' (not in the baseline)' : ''}`;
  } else if (certifiable) {
    headline = `Certifiable: conformant, and every MUST check ran${warns > 0 ? ` (${plural(warns, 'warning')})` : ''}`;
  } else {
    const why = [
      accepted.length > 0 ? `the baseline accepted ${plural(accepted.length, 'failure')}` : '',
      ignoredFails.length > 0 && failOn === 'never'
        ? `${plural(ignoredFails.length, 'failure')} ignored by --fail-on never`
        : '',
      notRun,
      input.results.length === 0 ? 'no check ran' : '',
    ].filter(Boolean);
    const lead =
      accepted.length > 0 || (failOn === 'never' && ignoredFails.length > 0) ? 'Passes' : 'Conformant';
    headline = `${lead}, not certifiable: ${why.join('; ')}`;
  }
  return {
    outcome: exitCode === 0 ? 'pass' : exitCode === 1 ? 'fail' : 'incomplete',
    exitCode,
    certifiable,
    headline,
    details,
    failOn,
    counted,
    accepted,
    stale,
    ignored,
    mustNotRun,
  };
}

/** What each exit code means, for the terminal's last line. */
export const EXIT_MEANING: Record<number, string> = {
  0: 'the run passes',
  1: 'the run fails',
  2: 'bad usage or configuration',
  3: 'the run could not happen or complete',
};

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}
