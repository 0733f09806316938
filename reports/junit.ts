// junit.xml: one <testsuite> per area (RS-PRM, AS-PKCE, ...), one <testcase> per check, so CI
// dashboards (GitLab, Jenkins, GitHub test reporters) show the run as ordinary tests.
//
// Mapping: fail → <failure>, error → <error>, skip → <skipped>; warn and info pass, with a
// `status` property and a line of system-out saying so (a violated SHOULD is not a failed test
// unless --strict made it one, in which case its status is already `fail`).

import type { Report } from './json.ts';

type Result = Report['results'][number];

/** The area of a check: its ID without the trailing number ("RS-PRM-05" → "RS-PRM"). */
export function areaOf(id: string): string {
  const parts = id.split('-');
  return parts.length > 2 ? parts.slice(0, 2).join('-') : (parts[0] ?? id);
}

export function renderJunit(report: Report): string {
  const areas = new Map<string, Result[]>();
  for (const result of report.results) {
    const area = areaOf(result.id);
    const list = areas.get(area) ?? [];
    list.push(result);
    areas.set(area, list);
  }
  const count = (rs: readonly Result[], status: string) => rs.filter((r) => r.status === status).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);

  const suites = [...areas.entries()].map(([area, results]) => {
    const cases = results.map((r) => renderCase(area, r)).join('\n');
    const time = results.reduce((sum, r) => sum + r.durationMs, 0);
    return [
      `  <testsuite name="${attr(area)}" tests="${results.length}" failures="${count(results, 'fail')}"` +
        ` errors="${count(results, 'error')}" skipped="${count(results, 'skip')}" time="${seconds(time)}"` +
        ` timestamp="${attr(report.startedAt.replace(/Z$/, ''))}">`,
      cases,
      '  </testsuite>',
    ].join('\n');
  });

  const s = report.summary.byStatus;
  const name = `MCP authorization conformance (${report.revision})`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${report.summary.total}" failures="${s.fail ?? 0}"` +
      ` errors="${s.error ?? 0}" skipped="${s.skip ?? 0}" time="${seconds(report.durationMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function renderCase(area: string, r: Result): string {
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
  switch (r.status) {
    case 'fail':
      body.push(
        `      <failure message="${attr(r.message)}" type="${attr(r.level)}">${text(`${detail}\nFix: ${r.remediation}`)}</failure>`,
      );
      break;
    case 'error':
      body.push(`      <error message="${attr(r.message)}" type="harness-error">${text(detail)}</error>`);
      break;
    case 'skip':
      body.push(`      <skipped message="${attr(r.message)}"/>`);
      break;
    case 'warn':
      body.push(
        `      <system-out>${text(`WARNING (${r.level} not met, not failing): ${detail}\nFix: ${r.remediation}`)}</system-out>`,
      );
      break;
    case 'info':
      body.push(`      <system-out>${text(`INFO: ${r.message}`)}</system-out>`);
      break;
    default:
      break;
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
