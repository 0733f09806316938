// `npm run targets [-- NAME[/VARIANT] ...] [--keep-reports DIR]`: the full suite against each
// third-party target of fixtures/targets/ (issue #9), compared with its expected file.
// Installs a target's exact dependencies into its own folder when node_modules is missing, starts
// it on free loopback ports, runs, stops it. Exit 0 when every variant matches its expected file,
// 1 when any differs (each difference is printed), 3 when a target could not be installed or run.
// Each variant is bounded (target-run.ts: RUN_TIMEOUT_MS); so is each install.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureInstalled, listTargets, loadTarget, runVariant } from './target-run.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'keep-reports': { type: 'string' } },
});
const selection = positionals.length > 0 ? positionals : listTargets();
let exitCode = 0;
for (const selector of selection) {
  const [name, only] = selector.split('/') as [string, string | undefined];
  const installProblem = ensureInstalled(name);
  if (installProblem) {
    console.log(`${name}: NOT RUN: ${installProblem}`);
    exitCode = Math.max(exitCode, 3);
    continue;
  }
  for (const variant of loadTarget(name)) {
    if (only && variant.name !== only) continue;
    const keep = values['keep-reports'] ? resolve(values['keep-reports'], name, variant.name) : undefined;
    if (keep) mkdirSync(keep, { recursive: true });
    try {
      const outcome = await runVariant(name, variant, keep ? { keepReport: keep } : {});
      const s = outcome.report.summary;
      const counts = Object.entries(s.byStatus)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      const verdict =
        outcome.differences.length === 0 ? 'matches expected' : `${outcome.differences.length} difference(s)`;
      const glue =
        outcome.glue.length === 0
          ? 'no glue entries'
          : `${outcome.glue.length} glue entries (${outcome.glue.join(', ')})`;
      console.log(
        `${name}/${variant.name}: ${counts}; ${glue}; ${(outcome.durationMs / 1000).toFixed(1)} s; ${verdict}`,
      );
      for (const d of outcome.differences) {
        console.log(`  ${d.id}: expected ${d.expected}, got ${d.actual}${d.message ? `: ${d.message}` : ''}`);
      }
      if (keep) console.log(`  report: ${join(keep, 'report.json')}`);
      if (outcome.differences.length > 0) exitCode = Math.max(exitCode, 1);
    } catch (err) {
      console.log(`${name}/${variant.name}: NOT RUN: ${(err as Error).message}`);
      exitCode = 3;
    }
  }
}
process.exitCode = exitCode;
