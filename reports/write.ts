// Writes every requested format into the report directory. report.json is always written; every
// other file is rendered from the same Report object, so all formats agree by construction.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHar } from './har.ts';
import { renderHtml } from './html.ts';
import { type Report, writeJsonReport } from './json.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { renderSarif } from './sarif.ts';

export const REPORT_FILES = {
  md: { file: 'summary.md', render: renderMarkdown },
  junit: { file: 'junit.xml', render: renderJunit },
  html: { file: 'report.html', render: renderHtml },
  sarif: { file: 'report.sarif', render: renderSarif },
  har: { file: 'exchanges.har', render: renderHar },
} as const satisfies Record<string, { file: string; render: (report: Report) => string }>;

/** Writes report.json and each requested format; returns the paths written, report.json first. */
export function writeReports(dir: string, report: Report, formats: readonly string[]): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [writeJsonReport(dir, report)];
  for (const [format, { file, render }] of Object.entries(REPORT_FILES)) {
    if (!formats.includes(format)) continue;
    const path = join(dir, file);
    writeFileSync(path, render(report));
    files.push(path);
  }
  return files;
}
