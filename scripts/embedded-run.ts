// Runs `mcp-auth-conformance run` in process against the embedded reference server, exactly as a
// person would with `--fault NAME --variant NAME --only IDS --spec REV [more flags]`, and returns
// the parsed report.json. The fault and variant matrices and the docs scripts use it, so a row of
// either matrix is reproducible by hand.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportSchema, type Report } from '../reports/json.ts';
import { main } from '../cli/main.ts';
import type { Revision } from '../runner/revisions.ts';

export interface EmbeddedRun {
  exitCode: number;
  report: Report;
  console: string;
  /** The command line that reproduces the run. */
  command: string;
}

export async function runEmbedded(options: {
  faults?: readonly string[];
  variants?: readonly string[];
  only?: readonly string[];
  revision: Revision;
  /** More `run` flags (a variant's runFlags: --expect-public, --login form, ...). */
  flags?: readonly string[];
}): Promise<EmbeddedRun> {
  const out = mkdtempSync(join(tmpdir(), 'embedded-run-'));
  const argv = [
    'run',
    '--spec',
    options.revision,
    ...(options.faults ?? []).flatMap((f) => ['--fault', f]),
    ...(options.variants ?? []).flatMap((v) => ['--variant', v]),
    ...(options.only && options.only.length > 0 ? ['--only', options.only.join(',')] : []),
    ...(options.flags ?? []),
  ];
  const lines: string[] = [];
  try {
    const exitCode = await main([...argv, '--out', out, '--format', 'json'], {
      out: (t) => lines.push(t),
      err: (t) => lines.push(t),
      isTTY: false,
      env: {},
      cwd: process.cwd(),
    });
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    return { exitCode, report, console: lines.join(''), command: `mcp-auth-conformance ${argv.join(' ')}` };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
