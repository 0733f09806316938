// Baselines: a file of known failures a team has accepted for now, so CI stays green on them and
// turns red on anything new, and also when a known failure goes away (a stale entry hides the next
// regression of that check, so it must be removed).
//
//   { "expected-failures": [ { "id": "RS-401-05", "status": "warn", "reason": "SDK emits error= on anonymous 401" } ] }
//
// JSON or YAML. `status` defaults to "fail"; it may also be "warn" or "error".
// `--fail-on must|should|never` decides which results count as failures for the exit code:
//   must   (default) a `fail` (a violated MUST, or a violated SHOULD under --strict);
//   should           a `fail` or a `warn`;
//   never            nothing: the exit code is 0 whatever the results (reports still say it all).

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Status } from './check.ts';

export const BaselineSchema = z
  .object({
    'expected-failures': z
      .array(
        z
          .object({
            id: z.string().regex(/^[A-Z]+(-[A-Z0-9]+)+$/, 'must be a check ID like RS-PRM-01'),
            status: z.enum(['fail', 'warn', 'error']).default('fail'),
            reason: z.string().min(1, 'say why this failure is accepted'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type Baseline = z.infer<typeof BaselineSchema>;
export type BaselineEntry = Baseline['expected-failures'][number];
export type FailOn = 'must' | 'should' | 'never';

export class BaselineError extends Error {
  override name = 'BaselineError';
}

/** Reads and validates a baseline file; any problem is a BaselineError with a sentence (exit 2). */
export function loadBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BaselineError(`cannot read baseline ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new BaselineError(
      `baseline ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
  const parsed = BaselineSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new BaselineError(`baseline ${file} is invalid: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  for (const entry of parsed.data['expected-failures']) {
    const key = `${entry.id}/${entry.status}`;
    if (seen.has(key)) throw new BaselineError(`baseline ${file} lists ${entry.id} (${entry.status}) twice`);
    seen.add(key);
  }
  return parsed.data;
}

export interface Judged {
  id: string;
  status: Status;
}

export interface Verdict {
  /** 0 when nothing counts against the run, 1 otherwise (exit codes 2 and 3 are decided elsewhere). */
  exitCode: 0 | 1;
  /** Results that count as failures and no baseline entry covers. */
  unexpected: Judged[];
  /** Covered by a baseline entry: reported, not counted. */
  expected: { result: Judged; entry: BaselineEntry }[];
  /** Entries whose check ran and no longer has the listed status. */
  stale: { entry: BaselineEntry; now: Status }[];
  /** Entries whose check did not run in this selection (revision, --only/--skip): not judged. */
  notRun: BaselineEntry[];
  /** One sentence per unexpected failure and stale entry, for the console and the report. */
  messages: string[];
}

function counts(status: Status, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  if (status === 'fail') return true;
  return failOn === 'should' && status === 'warn';
}

/** Decides the exit code of a run from its results, the baseline and --fail-on. */
export function judge(
  results: readonly Judged[],
  options: { failOn?: FailOn; baseline?: Baseline } = {},
): Verdict {
  const failOn = options.failOn ?? 'must';
  const entries = options.baseline?.['expected-failures'] ?? [];
  const byId = new Map(results.map((r) => [r.id, r]));
  const covered = (r: Judged) => entries.find((e) => e.id === r.id && e.status === r.status);

  const unexpected: Judged[] = [];
  const expected: Verdict['expected'] = [];
  for (const result of results) {
    const entry = covered(result);
    if (entry) expected.push({ result, entry });
    else if (counts(result.status, failOn)) unexpected.push(result);
  }
  const stale: Verdict['stale'] = [];
  const notRun: BaselineEntry[] = [];
  for (const entry of entries) {
    const now = byId.get(entry.id);
    if (!now) notRun.push(entry);
    else if (now.status !== entry.status) stale.push({ entry, now: now.status });
  }

  const messages = [
    ...unexpected.map((r) => `${r.id}: ${r.status}, and the baseline does not list it`),
    ...stale.map(
      ({ entry, now }) =>
        `${entry.id}: the baseline expects ${entry.status} but it is now ${now}; remove the stale entry ("${entry.reason}")`,
    ),
  ];
  const exitCode = failOn !== 'never' && (unexpected.length > 0 || stale.length > 0) ? 1 : 0;
  return { exitCode, unexpected, expected, stale, notRun, messages };
}
