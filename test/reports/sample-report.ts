// A small report.json for renderer tests: one result of every status, two areas, a hostile string
// in target-supplied text, an exchange that failed without a response.

import { type Report, ReportSchema } from '../../reports/json.ts';
import type { Level, Status } from '../../runner/check.ts';
import { decideVerdict } from '../../runner/verdict.ts';

export const HOSTILE = '<script>alert("x")</script> & "quotes" \u0007bell';

export function sampleReport(overrides: Partial<Report> = {}): Report {
  const result = (
    id: string,
    status: string,
    level: string,
    extra: Partial<Report['results'][number]> = {},
  ) => ({
    id,
    title: `title of ${id}`,
    level,
    status,
    message: `message of ${id}`,
    refs: ['RFC9728 §3.3', 'MCP 2025-06-18 §Authorization Server Location'],
    requirement: `requirement of ${id}`,
    remediation: `remediation of ${id}`,
    exchanges: [] as string[],
    durationMs: 12,
    notes: [] as string[],
    data: {} as Record<string, unknown>,
    ...extra,
  });
  const report = {
    schemaVersion: 1,
    tool: { name: 'mcp-auth-conformance', version: '0.1.0' },
    target: 'http://127.0.0.1:4000/mcp',
    embedded: false,
    faults: [],
    revision: '2026-07-28',
    startedAt: '2026-11-23T10:00:00.000Z',
    durationMs: 1234,
    options: {
      strict: false,
      only: [],
      skip: [],
      login: 'auto',
      timeoutSeconds: 10,
      concurrency: 4,
      presetToken: false,
      presetClient: false,
      mintKey: true,
    },
    summary: {
      total: 6,
      byStatus: { pass: 1, fail: 1, warn: 1, skip: 1, error: 1, info: 1 },
      byLevel: {
        MUST: { pass: 1, fail: 1, warn: 0, skip: 1, error: 1, info: 0 },
        SHOULD: { pass: 0, fail: 0, warn: 1, skip: 0, error: 0, info: 0 },
        MAY: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, info: 1 },
      },
    },
    authorizationFlows: 2,
    humanActions: 0,
    exitCode: 1,
    results: [
      result('RS-PRM-01', 'pass', 'MUST', { exchanges: ['x1'] }),
      result('RS-PRM-05', 'fail', 'MUST', {
        message: HOSTILE,
        exchanges: ['x1', 'x2'],
        quotes: [
          {
            source: 'RFC 9728',
            section: '3.3',
            text: 'The resource value returned MUST be identical to <the identifier> & "so on".',
            keyword: 'MUST',
            binds: 'resource-server',
          },
          {
            source: 'MCP 2026-07-28',
            section: 'Transports: Security Warning',
            text: 'Context without a keyword.',
            binds: 'context',
          },
        ],
        conflict: 'one sentence <b>says</b> this, the other that',
      }),
      result('RS-401-05', 'warn', 'SHOULD', { derived: 'no sentence says so' }),
      result('AS-CIMD-01', 'skip', 'MUST', { howToProvide: 'pass --cimd-url' }),
      result('AS-META-01', 'error', 'MUST', {
        message: 'no complete response within 10000 ms',
        exchanges: ['x2'],
      }),
      result('AS-AUTHZ-09', 'info', 'MAY', { data: { behaviour: 'default resource' } }),
    ],
    exchanges: [
      {
        id: 'x1',
        label: 'PRM at path-inserted URL',
        startedAt: '2026-11-23T10:00:00.100Z',
        durationMs: 3,
        request: {
          method: 'GET',
          url: 'http://127.0.0.1:4000/.well-known/oauth-protected-resource/mcp?x=1',
          headers: [['accept', 'application/json']],
        },
        response: {
          status: 200,
          headers: [['content-type', 'application/json']],
          body: `{"resource":"${HOSTILE.replace(/"/g, '\\"')}"}`,
          bytes: 40,
          truncated: false,
        },
      },
      {
        id: 'x2',
        startedAt: '2026-11-23T10:00:00.200Z',
        durationMs: 10000,
        request: {
          method: 'POST',
          url: 'http://127.0.0.1:4000/token',
          headers: [['content-type', 'application/x-www-form-urlencoded']],
          body: 'grant_type=authorization_code',
        },
        error: 'no complete response from http://127.0.0.1:4000 within 10000 ms',
      },
    ],
    ...overrides,
  };
  const verdict =
    overrides.verdict ??
    decideVerdict({
      results: report.results as { id: string; level: Level; status: Status }[],
      ...(report.runError ? { runError: report.runError } : {}),
    });
  return ReportSchema.parse({ ...report, verdict, exitCode: verdict.exitCode });
}
