// The canonical report (report.json): every other format is rendered from it.
//
// It is written whatever the outcome (also when the run could not happen: then `runError` says
// why and `results` may be empty). Everything in it has passed through the Redactor: exchanges,
// messages, notes and data. The zod schema below is the contract; issue #8 generates a JSON
// Schema (schemas/report.schema.json) and the other formats from it (reports/write.ts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LEVELS, STATUSES } from '../runner/check.ts';
import type { CheckResult } from '../runner/engine.ts';
import { summarize } from '../runner/engine.ts';
import type { Exchange } from '../runner/http.ts';
import type { Redactor } from '../runner/redact.ts';
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

export const ResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  level: LevelSchema,
  status: StatusSchema,
  message: z.string(),
  refs: z.array(z.string()),
  requirement: z.string(),
  remediation: z.string(),
  exchanges: z.array(z.string()),
  durationMs: z.number(),
  notes: z.array(z.string()),
  data: z.record(z.string(), z.unknown()),
  howToProvide: z.string().optional(),
});

export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal('mcp-auth-conformance'), version: z.string() }),
  /** The MCP endpoint checked (for an embedded run: the reference server's, on an ephemeral port). */
  target: z.string().nullable(),
  embedded: z.boolean(),
  faults: z.array(z.string()),
  revision: z.enum(REVISIONS),
  /** How `revision` was chosen: --spec REV, the embedded server, or negotiated with the target (--spec auto). */
  revisionDetection: z
    .object({
      requested: z.enum(['auto', ...REVISIONS]),
      how: z.enum(['forced', 'embedded', 'negotiated', 'undetected']),
      detail: z.string(),
      advertised: z.array(z.string()).optional(),
      withToken: z.boolean().optional(),
      exchanges: z.array(z.string()),
    })
    .optional(),
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
  exchanges: z.array(ExchangeSchema),
});

export type Report = z.infer<typeof ReportSchema>;

export interface ReportInput {
  version: string;
  target: string | null;
  embedded: boolean;
  faults: readonly string[];
  revision: Report['revision'];
  revisionDetection?: Report['revisionDetection'];
  startedAt: Date;
  durationMs: number;
  options: Report['options'];
  authorizationFlows: number;
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
    ...(input.revisionDetection
      ? {
          revisionDetection: {
            ...input.revisionDetection,
            detail: redactor.text(input.revisionDetection.detail),
          },
        }
      : {}),
    startedAt: input.startedAt.toISOString(),
    durationMs: input.durationMs,
    options: input.options,
    summary: { total: results.length, byStatus, byLevel },
    authorizationFlows: input.authorizationFlows,
    exitCode: input.exitCode,
    ...(input.runError ? { runError: redactor.text(input.runError) } : {}),
    ...(input.baseline ? { baseline: input.baseline } : {}),
    results,
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
