// summary.md: the counts and one line per result that needs attention, rendered from report.json.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupCouldNotRun } from './could-not-run.ts';
import type { Report } from './json.ts';

const ATTENTION = ['fail', 'error', 'warn'] as const;

export function renderMarkdown(report: Report): string {
  const s = report.summary.byStatus;
  const lines = [
    '# MCP authorization conformance',
    '',
    `- Target: ${report.embedded ? `embedded reference server (${report.target ?? 'not started'})` : report.target}`,
    ...(report.faults.length > 0 ? [`- Faults switched on: ${report.faults.join(', ')}`] : []),
    `- Spec revision: ${report.revision}${report.options.strict ? ' (strict: a violated SHOULD fails)' : ''}`,
    `- Started: ${report.startedAt}, took ${(report.durationMs / 1000).toFixed(1)} s, ${report.authorizationFlows} authorization flow(s)${humanActions(report)}`,
    `- Exit code: ${report.exitCode}`,
    '',
    '| pass | fail | warn | skip | error | info | total |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${s.pass} | ${s.fail} | ${s.warn} | ${s.skip} | ${s.error} | ${s.info} | ${report.summary.total} |`,
    '',
  ];
  if (report.runError) lines.push(`**The run could not complete:** ${escape(report.runError)}`, '');
  for (const status of ATTENTION) {
    const results = report.results.filter((r) => r.status === status);
    if (results.length === 0) continue;
    lines.push(`## ${status} (${results.length})`, '');
    for (const r of results) {
      lines.push(
        `- **${r.id}** (${r.level}, ${r.refs.join('; ')}): ${escape(r.title)}. ${escape(oneLine(r.message))}`,
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
