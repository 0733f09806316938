// junit.xml: one <testsuite> per area (RS-PRM, AS-PKCE, ...), one <testcase> per check, so CI
// dashboards (GitLab, Jenkins, GitHub test reporters) show the run as ordinary tests.
//
// The dashboard shows the run's one verdict (runner/verdict.ts): a test case fails exactly when its
// result counts against the run, so "no failures and no errors" holds exactly when the exit code
// is 0.
//   a result that counts (a fail; a warn under --fail-on should) → <failure>
//   error (a check the harness could not finish)                  → <error> (unless the baseline
//                                                                   lists it, or --fail-on never)
//   skip                                                           → <skipped>
//   a fail or warn that does not count: accepted by the baseline,
//   a warn under --fail-on must, anything under --fail-on never   → passes, with a `status`
//                                                                   property and system-out saying why
//   info                                                           → passes, with system-out
// A last suite, "run", carries the verdict as properties, an <error> case when the run could not
// happen or complete (a run that never started is not green), and a <failure> case per stale
// baseline entry.

import type { Report } from './json.ts';

type Result = Report['results'][number];

/** The area of a check: its ID without the trailing number ("RS-PRM-05" → "RS-PRM"). */
export function areaOf(id: string): string {
  const parts = id.split('-');
  return parts.length > 2 ? parts.slice(0, 2).join('-') : (parts[0] ?? id);
}

export function renderJunit(report: Report): string {
  const v = report.verdict;
  const counted = new Set(v.counted.map((c) => c.id));
  const accepted = new Map(v.accepted.map((a) => [a.id, a.reason]));
  const outcome = (r: Result): Outcome =>
    counted.has(r.id)
      ? 'failure'
      : r.status === 'error' && !accepted.has(r.id) && v.failOn !== 'never'
        ? 'error'
        : r.status === 'skip'
          ? 'skipped'
          : 'passed';
  const areas = new Map<string, Result[]>();
  for (const result of report.results) {
    const area = areaOf(result.id);
    const list = areas.get(area) ?? [];
    list.push(result);
    areas.set(area, list);
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const timestamp = attr(report.startedAt.replace(/Z$/, ''));
  const totals = { tests: 0, failure: 0, error: 0, skipped: 0 };
  const suite = (
    name: string,
    cases: { outcome: Outcome; xml: string }[],
    ms: number,
    head: string[] = [],
  ) => {
    const n = (o: Outcome) => cases.filter((c) => c.outcome === o).length;
    totals.tests += cases.length;
    totals.failure += n('failure');
    totals.error += n('error');
    totals.skipped += n('skipped');
    return [
      `  <testsuite name="${attr(name)}" tests="${cases.length}" failures="${n('failure')}"` +
        ` errors="${n('error')}" skipped="${n('skipped')}" time="${seconds(ms)}" timestamp="${timestamp}">`,
      ...head,
      ...cases.map((c) => c.xml),
      '  </testsuite>',
    ].join('\n');
  };

  const suites = [...areas.entries()].map(([area, results]) =>
    suite(
      area,
      results.map((r) => ({
        outcome: outcome(r),
        xml: renderCase(area, r, outcome(r), v.failOn, accepted.get(r.id)),
      })),
      results.reduce((sum, r) => sum + r.durationMs, 0),
    ),
  );

  const runCases: { outcome: Outcome; xml: string }[] = [];
  if (report.runError) {
    runCases.push({
      outcome: 'error',
      xml: [
        `    <testcase classname="mcp-auth-conformance.run" name="the run completes" time="${seconds(report.durationMs)}">`,
        `      <error message="${attr(report.runError)}" type="run-could-not-happen">${text(`${v.headline}\n\n${report.runError}`)}</error>`,
        '    </testcase>',
      ].join('\n'),
    });
  }
  for (const stale of v.stale) {
    runCases.push({
      outcome: 'failure',
      xml: [
        `    <testcase classname="mcp-auth-conformance.baseline" name="${attr(`${stale.id} baseline entry still holds`)}" time="0.000">`,
        `      <failure message="${attr(`the baseline expects ${stale.expected} but it is now ${stale.now}: remove the stale entry`)}" type="stale-baseline-entry">${text(`reason given: ${stale.reason}`)}</failure>`,
        '    </testcase>',
      ].join('\n'),
    });
  }
  const verdictProperties = [
    '    <properties>',
    `      <property name="verdict" value="${attr(v.headline)}"/>`,
    `      <property name="outcome" value="${attr(v.outcome)}"/>`,
    `      <property name="exitCode" value="${v.exitCode}"/>`,
    `      <property name="certifiable" value="${v.certifiable}"/>`,
    `      <property name="failOn" value="${attr(v.failOn)}"/>`,
    ...v.details.map((d) => `      <property name="detail" value="${attr(d)}"/>`),
    '    </properties>',
  ];
  suites.push(suite('run', runCases, report.durationMs, verdictProperties));

  const name = `MCP authorization conformance (${report.revision}): ${v.headline}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${totals.tests}" failures="${totals.failure}"` +
      ` errors="${totals.error}" skipped="${totals.skipped}" time="${seconds(report.durationMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

type Outcome = 'failure' | 'error' | 'skipped' | 'passed';

function renderCase(
  area: string,
  r: Result,
  outcome: Outcome,
  failOn: string,
  acceptedBecause: string | undefined,
): string {
  const open = `    <testcase classname="mcp-auth-conformance.${attr(area)}" name="${attr(`${r.id} ${r.title}`)}" time="${(r.durationMs / 1000).toFixed(3)}">`;
  const properties = [
    `      <properties>`,
    `        <property name="level" value="${attr(r.level)}"/>`,
    `        <property name="status" value="${attr(r.status)}"/>`,
    ...r.refs.map((ref) => `        <property name="ref" value="${attr(ref)}"/>`),
    `      </properties>`,
  ];
  const body: string[] = [];
  const detail = `${r.message}\n\nRequirement (${r.level}): ${r.requirement}\nSpec: ${r.refs.join('; ')}`;
  const why =
    acceptedBecause !== undefined
      ? `accepted by the baseline: ${acceptedBecause}`
      : failOn === 'never'
        ? 'not counted: --fail-on never'
        : `${r.level} not met, not failing under --fail-on ${failOn}`;
  if (outcome === 'failure') {
    body.push(
      `      <failure message="${attr(r.message)}" type="${attr(r.level)}">${text(`${detail}\nFix: ${r.remediation}`)}</failure>`,
    );
  } else if (outcome === 'error') {
    body.push(`      <error message="${attr(r.message)}" type="harness-error">${text(detail)}</error>`);
  } else if (outcome === 'skipped') {
    body.push(`      <skipped message="${attr(r.message)}"/>`);
  } else if (r.status === 'info') {
    body.push(`      <system-out>${text(`INFO: ${r.message}`)}</system-out>`);
  } else if (r.status !== 'pass') {
    body.push(
      `      <system-out>${text(`${r.status.toUpperCase()} (${why}): ${detail}${r.status === 'error' ? '' : `\nFix: ${r.remediation}`}`)}</system-out>`,
    );
  }
  return [open, ...properties, ...body, '    </testcase>'].join('\n');
}

/** XML 1.0 forbids most control characters even escaped; drop them, then escape markup. */
function clean(value: string): string {
  return value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function attr(value: string): string {
  return clean(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;');
}

function text(value: string): string {
  return clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
