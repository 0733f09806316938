// Which checks could not run for want of something the operator can provide, grouped by what
// would let them run (the `howToProvide` of their skip): one line per option in summary.md, the
// terminal summary and report.json (`couldNotRun`), instead of the same advice once per check.

/** The part of a result this needs (a CheckResult or a report.json result). */
export interface SkippedResult {
  id: string;
  status: string;
  howToProvide?: string | undefined;
}

export interface CouldNotRun {
  /** What the operator can do (an option, a setup step), as the checks say it. */
  howToProvide: string;
  /** The checks it would let run, in report order. */
  checks: string[];
}

/** Skips that name a way to provide what they missed, grouped by that way, most checks first. */
export function groupCouldNotRun(results: readonly SkippedResult[]): CouldNotRun[] {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    if (r.status !== 'skip' || !r.howToProvide) continue;
    groups.set(r.howToProvide, [...(groups.get(r.howToProvide) ?? []), r.id]);
  }
  return [...groups]
    .map(([howToProvide, checks]) => ({ howToProvide, checks }))
    .sort((a, b) => b.checks.length - a.checks.length);
}
