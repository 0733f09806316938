// summary.md: the verdict, the counts and one line per result that needs attention, rendered from
// report.json. It is what a CI job summary shows ($GITHUB_STEP_SUMMARY), so it opens with the
// run's one verdict, word for word as the terminal and every other report show it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupCouldNotRun } from './could-not-run.ts';
import type { Report } from './json.ts';

const ATTENTION = ['fail', 'error', 'warn'] as const;

export function renderMarkdown(report: Report): string {
  const s = report.summary.byStatus;
  const v = report.verdict;
  const mark = v.exitCode === 0 ? (v.certifiable ? '✅' : '☑️') : v.exitCode === 1 ? '❌' : '⚠️';
  const accepted = new Map(v.accepted.map((a) => [a.id, a.reason]));
  const lines = [
    '# MCP authorization conformance',
    '',
    `**${mark} ${escape(v.headline)}**`,
    '',
    ...v.details.map((d) => `- ${escape(oneLine(d))}`),
    ...(v.details.length > 0 ? [''] : []),
    `- Target: ${report.embedded ? `embedded reference server (${report.target ?? 'not started'})` : report.target}`,
    ...(report.faults.length > 0 ? [`- Faults switched on: ${report.faults.join(', ')}`] : []),
    ...(report.variants.length > 0 ? [`- Variants switched on: ${report.variants.join(', ')}`] : []),
    `- Spec revision: ${report.revision}${report.options.strict ? ' (strict: a violated SHOULD fails)' : ''}`,
    ...(report.revisionDetection
      ? [
          `  - ${report.revisionDetection.how === 'negotiated' ? 'Detected' : 'Chosen'}: ${escape(report.revisionDetection.detail)}`,
        ]
      : []),
    `- Started: ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s, ${report.authorizationFlows} authorization flow(s)${humanActions(report)}`,
    `- Exit code: ${v.exitCode} (--fail-on ${v.failOn}${report.baseline ? `, baseline ${escape(report.baseline.file)}` : ''})`,
    '',
    '| pass | fail | warn | skip | error | info | total |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${s.pass} | ${s.fail} | ${s.warn} | ${s.skip} | ${s.error} | ${s.info} | ${report.summary.total} |`,
    '',
  ];
  if (report.runError) lines.push(`**The run could not complete:** ${escape(report.runError)}`, '');
  for (const h of report.harnessErrors ?? []) lines.push(`**Harness error:** ${escape(oneLine(h))}`, '');
  const refused = report.egress?.refused ?? [];
  if (refused.length > 0) {
    lines.push(`## Hosts the runner refused to contact (${refused.length})`, '');
    for (const r of refused)
      lines.push(
        `- ${escape(r.host)} (${r.addressClass}, ${r.exchanges.length} request(s)): ${escape(oneLine(r.message))}`,
      );
    lines.push('');
  }
  for (const status of ATTENTION) {
    const results = report.results.filter((r) => r.status === status);
    if (results.length === 0) continue;
    lines.push(`## ${status} (${results.length})`, '');
    for (const r of results) {
      const acceptedBecause = accepted.get(r.id);
      lines.push(
        `- **${r.id}** (${r.level}, ${r.refs.join('; ')}): ${escape(r.title)}. ${escape(oneLine(r.message))}${acceptedBecause === undefined ? '' : ` _Accepted by the baseline: ${escape(acceptedBecause)}_`}`,
      );
      if (status !== 'error') lines.push(`  - Fix: ${escape(r.remediation)}`);
    }
    lines.push('');
  }
  const couldNotRun = report.couldNotRun ?? groupCouldNotRun(report.results);
  if (couldNotRun.length > 0) {
    const count = couldNotRun.reduce((n, g) => n + g.checks.length, 0);
    lines.push(`## Could not run (${count}): what would let them run`, '');
    for (const group of couldNotRun)
      lines.push(`- ${escape(group.howToProvide)}: ${group.checks.map((id) => `**${id}**`).join(', ')}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

export function writeMarkdownReport(dir: string, report: Report): string {
  const file = join(dir, 'summary.md');
  writeFileSync(file, renderMarkdown(report));
  return file;
}

/** `, 2 of them needed a person` for --login manual (see HUMAN_ACTIONS in json.ts). */
function humanActions(report: Report): string {
  return report.options.login === 'manual' ? `, ${report.humanActions} of them needed a person` : '';
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** Keeps target-supplied text from breaking the Markdown (tables, emphasis, HTML). */
function escape(text: string): string {
  return text.replace(/[\\`*_<>|[\]]/g, (c) => `\\${c}`);
}
