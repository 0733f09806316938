// Writes every requested format into the report directory. report.json is always written; every
// other file is rendered from the same Report object, so all formats agree by construction.

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  ensureWritableDir(dir);
  const files = [writeJsonReport(dir, report)];
  for (const [format, { file, render }] of Object.entries(REPORT_FILES)) {
    if (!formats.includes(format)) continue;
    const path = join(dir, file);
    writeFileSync(path, render(report));
    files.push(path);
  }
  return files;
}

/**
 * Creates `dir` (and missing parents) and proves a file can be written in it; throws the
 * filesystem's error otherwise. The run checks this before its first request, so a report
 * directory that cannot be written is found in a second, not after the whole run.
 *
 * Parents are created one at a time, not with mkdirSync's `recursive`: on Node 20 a recursive
 * mkdir under /proc (`--out /proc/nope`) never returns, spinning a CPU.
 */
export function ensureWritableDir(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const path of missing) mkdirSync(path);
  if (!statSync(dir).isDirectory()) {
    throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  writeFileSync(probe, '');
  rmSync(probe, { force: true });
}
