// One verdict everywhere: for every combination of --fail-on, baseline and result statuses (and a
// run that could not happen), the exit code, the terminal summary, summary.md, report.html,
// junit.xml and report.sarif show the same verdict, say when the baseline accepted a failure, and
// call a run certifiable only when every MUST check ran. Then the cases the issue found, by hand,
// and the CLI's exit code against its own report.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { Progress } from '../../cli/progress.ts';
import { renderHtml } from '../../reports/html.ts';
import { buildReport, type Report } from '../../reports/json.ts';
import { renderJunit } from '../../reports/junit.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderSarif } from '../../reports/sarif.ts';
import type { Baseline, FailOn } from '../../runner/baseline.ts';
import { defineCheck, type Level, type Status } from '../../runner/check.ts';
import type { CheckResult } from '../../runner/engine.ts';
import { Redactor } from '../../runner/redact.ts';
import { decideVerdict } from '../../runner/verdict.ts';

type Row = [id: string, level: Level, status: Status];

function result([id, level, status]: Row): CheckResult {
  return {
    id,
    title: `title of ${id}`,
    level,
    status,
    message: `message of ${id}`,
    refs: ['RFC9728 §3.3'],
    requirement: 'r',
    remediation: 'fix it',
    exchanges: [],
    durationMs: 1,
    notes: [],
    data: {},
    authorizationFlows: 0,
  };
}

interface Outputs {
  report: Report;
  terminal: string;
  md: string;
  html: string;
  junit: string;
  sarif: {
    runs: [
      {
        properties: Record<string, unknown>;
        invocations: [{ exitCode: number; executionSuccessful: boolean }];
        results: {
          ruleId: string;
          suppressions?: { kind: string; justification: string }[];
          properties: { counted: boolean };
        }[];
      },
    ];
  };
}

function render(
  rows: readonly Row[],
  opts: { failOn: FailOn; baseline?: Baseline; runError?: string; mustChecks?: string[] },
): Outputs {
  const results = rows.map(result);
  const verdict = decideVerdict({ results, ...opts });
  const redactor = new Redactor();
  const report = buildReport(
    {
      version: '0.0.0',
      target: 'http://127.0.0.1:4567/mcp',
      embedded: false,
      faults: [],
      revision: '2026-07-28',
      startedAt: new Date(0),
      durationMs: 10,
      options: {
        strict: false,
        only: [],
        skip: [],
        login: 'auto',
        timeoutSeconds: 10,
        concurrency: 4,
        presetToken: false,
        presetClient: false,
        mintKey: false,
      },
      authorizationFlows: 0,
      verdict,
      ...(opts.runError ? { runError: opts.runError } : {}),
      results,
      exchanges: [],
    },
    redactor,
  );
  let terminal = '';
  const progress = new Progress({ write: (t) => (terminal += t), tty: false, env: {}, redactor });
  progress.header({
    version: '0.0.0',
    target: 'http://127.0.0.1:4567/mcp',
    embedded: false,
    faults: [],
    variants: [],
    revision: '2026-07-28',
    order: results.map((r) => r.id),
    strict: false,
  });
  for (const r of results) progress.result(r);
  progress.summary(results, report.verdict, { durationMs: 10, authorizationFlows: 0, files: [] });
  return {
    report,
    terminal,
    md: renderMarkdown(report),
    html: renderHtml(report),
    junit: renderJunit(report),
    sarif: JSON.parse(renderSarif(report)),
  };
}

const unescapeMd = (md: string) => md.replace(/\\(.)/g, '$1');
const unescapeHtml = (html: string) =>
  html
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const attr = (xml: string, name: string) => new RegExp(`<testsuites [^>]*${name}="(\\d+)"`).exec(xml)?.[1];

/** Every output shows the one verdict; returns it for case-specific assertions. */
function assertAgree(o: Outputs): Report['verdict'] {
  const v = o.report.verdict;
  expect(o.report.exitCode).toBe(v.exitCode);
  // terminal
  expect(o.terminal).toContain(`verdict: ${v.headline}`);
  expect(o.terminal).toContain(`exit code ${v.exitCode}:`);
  // summary.md
  expect(unescapeMd(o.md)).toContain(v.headline);
  expect(o.md).toContain(`Exit code: ${v.exitCode}`);
  // report.html
  const shown = /<p class="verdict (\w+)" data-testid="verdict">([^<]*)<\/p>/.exec(o.html);
  expect(unescapeHtml(shown?.[2] ?? '')).toBe(v.headline);
  expect(shown?.[1]).toBe(v.exitCode === 0 ? (v.certifiable ? 'ok' : 'mid') : 'bad');
  // junit.xml: no failure and no error exactly when the exit code is 0
  const bad = Number(attr(o.junit, 'failures')) + Number(attr(o.junit, 'errors'));
  expect(bad === 0).toBe(v.exitCode === 0);
  expect(unescapeHtml(o.junit)).toContain(`<property name="verdict" value="${v.headline}"/>`);
  expect(o.junit).toContain(`<property name="exitCode" value="${v.exitCode}"/>`);
  expect(o.junit.includes('name="the run completes"')).toBe(o.report.runError !== undefined);
  // report.sarif
  const run = o.sarif.runs[0];
  expect(run.properties.verdict).toBe(v.headline);
  expect(run.invocations[0].exitCode).toBe(v.exitCode);
  expect(run.invocations[0].executionSuccessful).toBe(o.report.runError === undefined && v.exitCode !== 3);
  const counted = new Set(v.counted.map((c) => c.id));
  const accepted = new Set(v.accepted.map((a) => a.id));
  for (const r of run.results) {
    expect(r.properties.counted).toBe(counted.has(r.ruleId));
    expect(r.suppressions !== undefined).toBe(accepted.has(r.ruleId));
  }
  // A baseline's acceptance is said everywhere.
  if (v.accepted.length > 0) {
    for (const text of [o.terminal, o.md, o.html]) expect(text).toMatch(/[Aa]ccepted by the baseline/);
    expect(o.junit).toMatch(/accepted by the baseline/);
    expect(v.details.join(' ')).toMatch(/The baseline accepted/);
    if (v.exitCode === 0) expect(v.headline).toMatch(/the baseline accepted/);
  }
  // "Certifiable" only when it is true, and then every MUST check ran.
  for (const text of [o.terminal, o.md, o.html, o.junit])
    expect(text.includes('Certifiable')).toBe(v.certifiable);
  if (v.mustNotRun.length > 0) {
    expect(v.certifiable).toBe(false);
    if (v.exitCode === 0)
      expect(v.headline).toMatch(new RegExp(`${v.mustNotRun.length} MUST checks? did not run`));
  }
  return v;
}

const STATUS_SETS: Record<string, Row[]> = {
  'all pass': [
    ['A-1-01', 'MUST', 'pass'],
    ['A-1-02', 'SHOULD', 'pass'],
  ],
  'one fail': [
    ['A-1-01', 'MUST', 'fail'],
    ['A-1-02', 'SHOULD', 'pass'],
  ],
  'one warn': [
    ['A-1-01', 'MUST', 'pass'],
    ['A-1-02', 'SHOULD', 'warn'],
  ],
  'fail and warn': [
    ['A-1-01', 'MUST', 'fail'],
    ['A-1-02', 'SHOULD', 'warn'],
  ],
  'one error': [
    ['A-1-01', 'MUST', 'error'],
    ['A-1-02', 'SHOULD', 'pass'],
  ],
  'a MUST skipped': [
    ['A-1-01', 'MUST', 'skip'],
    ['A-1-02', 'SHOULD', 'info'],
  ],
};
const BASELINES: Record<string, Baseline | undefined> = {
  none: undefined,
  'accepts the fail': { 'expected-failures': [{ id: 'A-1-01', status: 'fail', reason: 'known bug #1' }] },
  'accepts fail and warn': {
    'expected-failures': [
      { id: 'A-1-01', status: 'fail', reason: 'known bug #1' },
      { id: 'A-1-02', status: 'warn', reason: 'upstream SDK' },
    ],
  },
  'accepts the error': { 'expected-failures': [{ id: 'A-1-01', status: 'error', reason: 'flaky AS' }] },
};

describe('every output shows the one verdict (fail-on × baseline × statuses)', () => {
  const cases = (['must', 'should', 'never'] as const).flatMap((failOn) =>
    Object.keys(BASELINES).flatMap((b) =>
      Object.keys(STATUS_SETS).flatMap((s) => [
        [failOn, b, s, false] as const,
        [failOn, b, s, true] as const,
      ]),
    ),
  );
  it.each(cases)('--fail-on %s, baseline %s, %s%s', (failOn, b, s, couldNotHappen) => {
    const rows = couldNotHappen ? [] : STATUS_SETS[s]!;
    const baseline = BASELINES[b];
    const o = render(rows, {
      failOn,
      ...(baseline ? { baseline } : {}),
      ...(couldNotHappen ? { runError: 'the target http://127.0.0.1:1/mcp cannot be reached' } : {}),
      mustChecks: ['A-1-01'],
    });
    const v = assertAgree(o);
    // The exit code, from the rules themselves (not from the function under test).
    const statusOf = new Map(rows.map((r) => [r[0], r[2]]));
    const entries = baseline?.['expected-failures'] ?? [];
    const listed = (id: string, st: Status) => entries.some((e) => e.id === id && e.status === st);
    const countsAgainst = rows.some(
      ([id, , st]) =>
        failOn !== 'never' && (st === 'fail' || (failOn === 'should' && st === 'warn')) && !listed(id, st),
    );
    const stale =
      failOn !== 'never' && entries.some((e) => statusOf.has(e.id) && statusOf.get(e.id) !== e.status);
    const unlistedError = rows.some(([id, , st]) => st === 'error' && !listed(id, st));
    const expected =
      countsAgainst || stale ? 1 : couldNotHappen ? 3 : failOn !== 'never' && unlistedError ? 3 : 0;
    expect(v.exitCode).toBe(expected);
    // Certifiable: passes, nothing failed or errored, nothing accepted, the MUST check ran.
    const acceptedAny = rows.some(([id, , st]) => st !== 'pass' && listed(id, st));
    const clean = rows.every(([, , st]) => st !== 'fail' && st !== 'error' && st !== 'skip');
    expect(v.certifiable).toBe(expected === 0 && !couldNotHappen && clean && !acceptedAny);
  });
});

describe('the disagreements the issue found', () => {
  it('--fail-on should with one warning fails, and no output calls it certifiable', () => {
    const v = assertAgree(render(STATUS_SETS['one warn']!, { failOn: 'should' }));
    expect(v.exitCode).toBe(1);
    expect(v.headline).toBe('Not conformant: 1 warning under --fail-on should');
  });

  it('a baseline that accepts both failures passes, and every output says the baseline accepted them', () => {
    const o = render(STATUS_SETS['fail and warn']!, {
      failOn: 'should',
      baseline: BASELINES['accepts fail and warn']!,
    });
    const v = assertAgree(o);
    expect(v.exitCode).toBe(0);
    expect(v.headline).toBe('Passes, not certifiable: the baseline accepted 2 failures');
    expect(o.terminal).toMatch(
      /FAIL\s+A-1-01\s+message of A-1-01 \[accepted by the baseline: known bug #1\]/,
    );
  });

  it('skipped MUST checks (an embedded run) are not certifiable, and the headline counts them', () => {
    const rows: Row[] = [
      ['A-1-01', 'MUST', 'pass'],
      ...[2, 3, 4, 5, 6].map((n): Row => [`A-1-0${n}`, 'MUST', 'skip']),
    ];
    const v = assertAgree(render(rows, { failOn: 'must' }));
    expect(v.headline).toBe('Conformant, not certifiable: 5 MUST checks did not run');
  });

  it('MUST checks left out with --only count as not run', () => {
    const v = assertAgree(
      render([['A-1-01', 'MUST', 'pass']], { failOn: 'must', mustChecks: ['A-1-01', 'B-1-01', 'B-1-02'] }),
    );
    expect(v.mustNotRun).toEqual(['B-1-01', 'B-1-02']);
    expect(v.headline).toBe('Conformant, not certifiable: 2 MUST checks did not run');
  });

  it('a run that could not happen is an error test case in JUnit, not an empty green suite', () => {
    const o = render([], { failOn: 'must', runError: 'the target cannot be reached' });
    assertAgree(o);
    expect(o.junit).toMatch(/<testsuites [^>]*tests="1" failures="0" errors="1"/);
    expect(o.junit).toMatch(/<error message="the target cannot be reached" type="run-could-not-happen">/);
  });

  it('a stale baseline entry is a failing test case', () => {
    const o = render(STATUS_SETS['all pass']!, { failOn: 'must', baseline: BASELINES['accepts the fail']! });
    const v = assertAgree(o);
    expect(v.exitCode).toBe(1);
    expect(o.junit).toMatch(
      /name="A-1-01 baseline entry still holds"[\s\S]*?<failure message="the baseline expects fail but it is now pass/,
    );
  });

  it('a fully green run is certifiable everywhere', () => {
    const o = render(STATUS_SETS['all pass']!, { failOn: 'must' });
    const v = assertAgree(o);
    expect(v.headline).toBe('Certifiable: conformant, and every MUST check ran');
  });
});

describe('the CLI exits with the verdict its reports show', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fixed = (id: string, level: Level, outcome: 'pass' | 'violated' | 'skip') =>
    defineCheck({
      id,
      title: `fixed ${outcome}`,
      level,
      refs: ['test'],
      revisions: ['2026-07-28'],
      needs: [],
      faults: [],
      requirement: 'test',
      remediation: 'test',
      control: 'None: a test check.',
      async run(t) {
        if (outcome === 'pass') t.conforms('as expected');
        else if (outcome === 'violated') t.violated('seen wrong');
        else t.notApplicable('not here');
      },
    });
  const checks = [
    fixed('T-V-01', 'MUST', 'pass'),
    fixed('T-V-02', 'MUST', 'violated'),
    fixed('T-V-03', 'SHOULD', 'violated'),
    fixed('T-V-04', 'MUST', 'skip'),
  ];
  it.each([
    [['--only', 'T-V-01'], 0, /^Conformant, not certifiable: 2 MUST checks did not run$/],
    [
      ['--only', 'T-V-01,T-V-03', '--fail-on', 'should'],
      1,
      /^Not conformant: 1 warning under --fail-on should$/,
    ],
    [
      ['--only', 'T-V-02', '--fail-on', 'never'],
      0,
      /^Passes, not certifiable: 1 failure ignored by --fail-on never/,
    ],
  ])('run %j exits %i', async (args, code, headline) => {
    let out = '';
    const exit = await main(['run', ...args, '--out', join(dir, 'r'), '--format', 'json'], {
      out: (t) => (out += t),
      err: (t) => (out += t),
      isTTY: false,
      env: {},
      cwd: dir,
      checks,
    });
    const report = JSON.parse(readFileSync(join(dir, 'r', 'report.json'), 'utf8')) as Report;
    expect(exit).toBe(code);
    expect(report.verdict.exitCode).toBe(exit);
    expect(report.verdict.headline).toMatch(headline);
    expect(out).toContain(`verdict: ${report.verdict.headline}`);
  });
});
