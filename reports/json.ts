// The canonical report (report.json): every other format is rendered from it.
//
// It is written whatever the outcome (also when the run could not happen: then `runError` says
// why and every selected check is an `error` that was not started). Everything in it has passed
// through the Redactor: exchanges, messages, notes and data. The zod schema below is the
// contract; issue #8 generates a JSON Schema (schemas/report.schema.json) and the other formats
// from it (reports/write.ts).
//
// Its size is bounded whatever the target sends (issue #14): the evidence was bounded when it was
// recorded (runner/http.ts EvidenceStore: cut bodies with length and hash, a repeated body stored
// once), and here every text a check built from target data is cut (REPORT_LIMITS), so report.json
// stays within a few MB and every format rendered from it too.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BCP14_KEYWORDS, LEVELS, PARTIES, STATUSES } from '../runner/check.ts';
import type { CheckResult } from '../runner/engine.ts';
import { summarize } from '../runner/engine.ts';
import type { Exchange } from '../runner/http.ts';
import { clipText, type Redactor } from '../runner/redact.ts';
import { groupCouldNotRun } from './could-not-run.ts';
import { REVISIONS } from '../runner/revisions.ts';
import type { Verdict } from '../runner/verdict.ts';

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
      /** The body as kept: whole, or its beginning (bodyKept), or empty (sameBodyAs). */
      body: z.string(),
      /** Bytes received, after decoding. */
      bytes: z.int(),
      /** Reading stopped at the runner's size cap. */
      truncated: z.boolean(),
      /** SHA-256 of the bytes received, when the body is not kept whole here. */
      sha256: z.string().optional(),
      /** Why only the beginning of the body is kept. */
      bodyKept: z.string().optional(),
      /** The body is the same as that exchange's, stored there. */
      sameBodyAs: z.string().optional(),
      /** The Content-Encoding the runner decoded. */
      decoded: z.string().optional(),
    })
    .optional(),
  error: z.string().optional(),
  /** The egress policy refused the host: the request was never sent (README "Security"). */
  refused: z
    .object({ host: z.string(), addressClass: z.string(), address: z.string().optional() })
    .optional(),
});

/** What the run's egress policy allowed, and each host it refused. */
export const EgressSchema = z.object({
  /** Restricted address classes open because the target is in them (loopback, private, ...). */
  openClasses: z.array(z.string()),
  /** Hosts the operator allowed (--allow-host, and the hosts of --allow-origin / the login script). */
  allowHosts: z.array(z.string()),
  refused: z.array(
    z.object({
      host: z.string(),
      addressClass: z.string(),
      message: z.string(),
      /** The refused requests (exchanges with `refused`). */
      exchanges: z.array(z.string()),
    }),
  ),
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

/** The run's one verdict (runner/verdict.ts): every output shows it, none re-decides it. */
export const VerdictSchema = z.object({
  outcome: z.enum(['pass', 'fail', 'incomplete']),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]),
  certifiable: z.boolean(),
  headline: z.string(),
  details: z.array(z.string()),
  failOn: z.enum(['must', 'should', 'never']),
  counted: z.array(z.object({ id: z.string(), status: StatusSchema })),
  accepted: z.array(z.object({ id: z.string(), status: StatusSchema, reason: z.string() })),
  stale: z.array(z.object({ id: z.string(), expected: StatusSchema, now: StatusSchema, reason: z.string() })),
  ignored: z.array(z.object({ id: z.string(), status: StatusSchema })),
  mustNotRun: z.array(z.string()),
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
  /** Legal behaviours of the embedded reference server switched on (--variant; empty for a target). */
  variants: z.array(z.string()).default([]),
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
    /** Repository-relative file report.sarif points its findings at (--sarif-artifact). */
    sarifArtifact: z.string().optional(),
  }),
  summary: z.object({ total: z.int(), byStatus: Counts, byLevel: z.record(LevelSchema, Counts) }),
  authorizationFlows: z.int().nonnegative(),
  /** See HUMAN_ACTIONS: authorizations that needed a person (0 unless --login manual). */
  humanActions: z.int().nonnegative().describe(HUMAN_ACTIONS),
  /** The process exit code: always verdict.exitCode. */
  exitCode: z.int(),
  verdict: VerdictSchema,
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
  /** Escaped rejections or exceptions that no check could be blamed for (a harness bug; exit code 3). */
  harnessErrors: z.array(z.string()).optional(),
  egress: EgressSchema.optional(),
});

/** Bounds on the texts of a report that checks build from target data. */
export const REPORT_LIMITS = {
  messageChars: 4 * 1024,
  noteChars: 2 * 1024,
  notesPerResult: 50,
  /** A result's data, as JSON: beyond this it is replaced by a preview with its length and hash. */
  dataChars: 32 * 1024,
  urlChars: 8 * 1024,
  errorChars: 2 * 1024,
} as const;

export type Report = z.infer<typeof ReportSchema>;

export interface ReportInput {
  version: string;
  target: string | null;
  embedded: boolean;
  faults: readonly string[];
  variants?: readonly string[];
  revision: Report['revision'];
  revisionDetection?: Report['revisionDetection'];
  startedAt: Date;
  durationMs: number;
  options: Report['options'];
  authorizationFlows: number;
  verdict: Verdict;
  /** Authorizations that needed a person (the login driver's count); default 0. */
  humanActions?: number;
  runError?: string;
  baseline?: Report['baseline'];
  results: readonly CheckResult[];
  exchanges: readonly Exchange[];
  harnessErrors?: readonly string[];
  /** The egress policy's openings (runner/egress.ts EgressPolicy.describe); refusals come from the exchanges. */
  egress?: { openClasses: string[]; allowHosts: string[] };
}

/** Builds the report; every string that came from the target or a check passes the redactor here. */
export function buildReport(input: ReportInput, redactor: Redactor): Report {
  const L = REPORT_LIMITS;
  const text = (t: string, max: number) => clipText(redactor.text(t), max);
  const refusals = egressRefusals(input.exchanges, redactor);
  const refusedById = new Map(refusals.flatMap((r) => r.exchanges.map((id) => [id, r] as const)));
  const results = input.results.map((r) => {
    // A refused host is a finding on every check whose evidence it touched, never a silent skip.
    const refusedHere = [
      ...new Set(r.exchanges.map((id) => refusedById.get(id)).filter((x) => x !== undefined)),
    ];
    const notes = [...r.notes, ...refusedHere.map((x) => `egress policy: ${x.message}`)];
    return {
      ...r,
      message: text(r.message, L.messageChars),
      notes: [
        ...notes.slice(0, L.notesPerResult).map((n) => text(n, L.noteChars)),
        ...(notes.length > L.notesPerResult
          ? [`and ${notes.length - L.notesPerResult} more note(s), not kept`]
          : []),
      ],
      data: boundedData(redactor.value(r.data) as Record<string, unknown>, L.dataChars),
      ...(r.howToProvide ? { howToProvide: text(r.howToProvide, L.messageChars) } : {}),
    };
  });
  const { byStatus, byLevel } = summarize(input.results);
  return {
    schemaVersion: 1,
    tool: { name: 'mcp-auth-conformance', version: input.version },
    target: input.target,
    embedded: input.embedded,
    faults: [...input.faults],
    variants: [...(input.variants ?? [])],
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
    humanActions: input.humanActions ?? 0,
    exitCode: input.verdict.exitCode,
    verdict: {
      ...input.verdict,
      headline: redactor.text(input.verdict.headline),
      details: input.verdict.details.map((d) => text(d, L.messageChars)),
    },
    ...(input.runError ? { runError: text(input.runError, L.messageChars) } : {}),
    ...(input.baseline ? { baseline: input.baseline } : {}),
    results,
    couldNotRun: groupCouldNotRun(results),
    exchanges: input.exchanges.map((e) => boundedExchange(redactor.exchange(e))),
    ...(input.harnessErrors && input.harnessErrors.length > 0
      ? { harnessErrors: input.harnessErrors.slice(0, 20).map((h) => text(h, L.messageChars)) }
      : {}),
    ...(input.egress ? { egress: { ...input.egress, refused: refusals } } : {}),
  };
}

type Refusal = z.infer<typeof EgressSchema>['refused'][number];

/** One entry per refused host: its class, the policy's sentence, and the requests not sent. */
function egressRefusals(exchanges: readonly Exchange[], redactor: Redactor): Refusal[] {
  const byHost = new Map<string, Refusal>();
  for (const e of exchanges) {
    if (!e.refused) continue;
    const entry = byHost.get(e.refused.host) ?? {
      host: e.refused.host,
      addressClass: e.refused.addressClass,
      message: clipText(
        redactor.text(e.error ?? `refused to contact ${e.refused.host}`),
        REPORT_LIMITS.errorChars,
      ),
      exchanges: [],
    };
    entry.exchanges.push(e.id);
    byHost.set(e.refused.host, entry);
  }
  return [...byHost.values()];
}

/** The exchange with its texts cut (the bodies and header values were bounded when recorded). */
function boundedExchange(e: Exchange): Exchange {
  const L = REPORT_LIMITS;
  return {
    ...e,
    ...(e.label !== undefined ? { label: clipText(e.label, L.errorChars) } : {}),
    request: { ...e.request, url: clipText(e.request.url, L.urlChars) },
    ...(e.error !== undefined ? { error: clipText(e.error, L.errorChars) } : {}),
  };
}

/** A result's data, or (when its JSON is longer than `max`) a preview with the length and hash. */
function boundedData(data: Record<string, unknown>, max: number): Record<string, unknown> {
  const json = JSON.stringify(data);
  if (json === undefined || json.length <= max) return data;
  return { cut: clipText(json, max) };
}

/** Writes report.json into `dir` (created if needed); returns the file path. */
export function writeJsonReport(dir: string, report: Report): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
