// The canonical report (report.json): every other format is rendered from it.
//
// It is written whatever the outcome (also when the run could not happen: then `runError` says
// why and `results` may be empty). Everything in it has passed through the Redactor: exchanges,
// messages, notes and data. The zod schema below is the contract; issue #8 generates a JSON
// Schema (schemas/report.schema.json) and the other formats from it (reports/write.ts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BCP14_KEYWORDS, LEVELS, PARTIES, STATUSES } from '../runner/check.ts';
import type { CheckResult } from '../runner/engine.ts';
import { summarize } from '../runner/engine.ts';
import type { Exchange } from '../runner/http.ts';
import type { Redactor } from '../runner/redact.ts';
import { groupCouldNotRun } from './could-not-run.ts';
import { REVISIONS } from '../runner/revisions.ts';

const StatusSchema = z.enum(STATUSES as [string, ...string[]]);
const LevelSchema = z.enum(LEVELS as [string, ...string[]]);
const Counts = z.record(StatusSchema, z.int().nonnegative());
const HeaderList = z.array(z.tuple([z.string(), z.string()]));

export const ExchangeSchema = z.object({
  id: z.string(),
  label: z.string().optional(),
  startedAt: z.string(),
  durationMs: z.number(),
  request: z.object({
    method: z.string(),
    url: z.string(),
    headers: HeaderList,
    body: z.string().optional(),
  }),
  response: z
    .object({
      status: z.int(),
      headers: HeaderList,
      body: z.string(),
      bytes: z.int(),
      truncated: z.boolean(),
    })
    .optional(),
  error: z.string().optional(),
});

/** A normative sentence a check enforces, as written (runner/check.ts Quote). */
export const QuoteSchema = z.object({
  source: z.string(),
  section: z.string(),
  text: z.string(),
  keyword: z.enum(BCP14_KEYWORDS).optional(),
  binds: z.enum(PARTIES),
});

export const ResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  /** The level of the rule in the run's revision, from its quotes. */
  level: LevelSchema,
  status: StatusSchema,
  message: z.string(),
  refs: z.array(z.string()),
  /** The sentences the rule comes from that speak for the run's revision. */
  quotes: z.array(QuoteSchema).optional(),
  /** Why the rule is derived (no sentence states it): at most SHOULD. */
  derived: z.string().optional(),
  /** How two quoted sentences disagree: judged at most SHOULD. */
  conflict: z.string().optional(),
  requirement: z.string(),
  remediation: z.string(),
  exchanges: z.array(z.string()),
  durationMs: z.number(),
  notes: z.array(z.string()),
  data: z.record(z.string(), z.unknown()),
  howToProvide: z.string().optional(),
});

/** What `humanActions` counts (runner/login/manual.ts ManualLoginSession.humanActions). */
export const HUMAN_ACTIONS =
  'Authorizations that needed a person (--login manual; 0 for the other logins, which need none): the first one (the person opened the URL and signed in), and every later one whose authorization response showed that the person acted on a page on the way (the browser sent Sec-Fetch-User: ?1, which it does for navigations the person started, a click on a sign-in or consent button included, and never for the automatic forwarding between authorizations), or that took over 5 s in a browser that sends no fetch metadata, or that went to the browser and did not come back.';

export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal('mcp-auth-conformance'), version: z.string() }),
  /** The MCP endpoint checked (for an embedded run: the reference server's, on an ephemeral port). */
  target: z.string().nullable(),
  embedded: z.boolean(),
  faults: z.array(z.string()),
  revision: z.enum(REVISIONS),
  startedAt: z.string(),
  durationMs: z.number(),
  /** The options that change what a result means. */
  options: z.object({
    strict: z.boolean(),
    only: z.array(z.string()),
    skip: z.array(z.string()),
    login: z.string(),
    timeoutSeconds: z.number(),
    concurrency: z.int(),
    presetToken: z.boolean(),
    presetClient: z.boolean(),
    mintKey: z.boolean(),
  }),
  summary: z.object({ total: z.int(), byStatus: Counts, byLevel: z.record(LevelSchema, Counts) }),
  authorizationFlows: z.int().nonnegative(),
  /** See HUMAN_ACTIONS: authorizations that needed a person (0 unless --login manual). */
  humanActions: z.int().nonnegative().describe(HUMAN_ACTIONS),
  exitCode: z.int(),
  /** Set when the run could not happen or ended early (exit code 3). */
  runError: z.string().optional(),
  /** How the baseline (--baseline) and --fail-on judged the results, when a baseline was given. */
  baseline: z
    .object({
      file: z.string(),
      failOn: z.enum(['must', 'should', 'never']),
      expected: z.array(z.string()),
      unexpected: z.array(z.string()),
      stale: z.array(z.string()),
      notRun: z.array(z.string()),
      messages: z.array(z.string()),
    })
    .optional(),
  results: z.array(ResultSchema),
  /**
   * The skipped checks that say how to let them run, grouped by that advice (an option such as
   * --cimd-url-base, --token-b-env, --mint-key): what the operator can add to run more of the suite.
   */
  couldNotRun: z.array(z.object({ howToProvide: z.string(), checks: z.array(z.string()) })).optional(),
  exchanges: z.array(ExchangeSchema),
});

export type Report = z.infer<typeof ReportSchema>;

export interface ReportInput {
  version: string;
  target: string | null;
  embedded: boolean;
  faults: readonly string[];
  revision: Report['revision'];
  startedAt: Date;
  durationMs: number;
  options: Report['options'];
  authorizationFlows: number;
  /** Authorizations that needed a person (the login driver's count); default 0. */
  humanActions?: number;
  exitCode: number;
  runError?: string;
  baseline?: Report['baseline'];
  results: readonly CheckResult[];
  exchanges: readonly Exchange[];
}

/** Builds the report; every string that came from the target or a check passes the redactor here. */
export function buildReport(input: ReportInput, redactor: Redactor): Report {
  const results = input.results.map((r) => ({
    ...r,
    message: redactor.text(r.message),
    notes: r.notes.map((n) => redactor.text(n)),
    data: redactor.value(r.data) as Record<string, unknown>,
    ...(r.howToProvide ? { howToProvide: redactor.text(r.howToProvide) } : {}),
  }));
  const { byStatus, byLevel } = summarize(input.results);
  return {
    schemaVersion: 1,
    tool: { name: 'mcp-auth-conformance', version: input.version },
    target: input.target,
    embedded: input.embedded,
    faults: [...input.faults],
    revision: input.revision,
    startedAt: input.startedAt.toISOString(),
    durationMs: input.durationMs,
    options: input.options,
    summary: { total: results.length, byStatus, byLevel },
    authorizationFlows: input.authorizationFlows,
    humanActions: input.humanActions ?? 0,
    exitCode: input.exitCode,
    ...(input.runError ? { runError: redactor.text(input.runError) } : {}),
    ...(input.baseline ? { baseline: input.baseline } : {}),
    results,
    couldNotRun: groupCouldNotRun(results),
    exchanges: input.exchanges.map((e) => redactor.exchange(e)),
  };
}

/** Writes report.json into `dir` (created if needed); returns the file path. */
export function writeJsonReport(dir: string, report: Report): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
