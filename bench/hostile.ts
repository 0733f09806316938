// `npx tsx bench/hostile.ts [--behaviour B,...] [--scope S,...] [--parallel N] [--timeout S]`:
// the runner (the real CLI, a subprocess per run) against every hostile behaviour in every scope
// (test/hostile/server.ts), printing per run: wall time, exit code, peak RSS of the runner, the
// size of its reports (all files, and the largest) and of its stdout, and whether it contacted
// anything outside the egress policy. Goals (issue #14): no crash, a report every time, peak RSS
// <= 300 MB, reports <= 20 MB.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAgainstHostile, type HostileRun } from '../test/hostile/run.ts';
import {
  BEHAVIOURS,
  type Behaviour,
  FORBIDDEN_CONNECT_HOSTS,
  FORBIDDEN_LOOKUP_HOSTS,
  type Scope,
  SCOPES,
  prepareHostileTargets,
} from '../test/hostile/server.ts';

const { values } = parseArgs({
  options: {
    behaviour: { type: 'string' },
    scope: { type: 'string' },
    parallel: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '1' },
    'run-timeout': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '16' },
  },
});
const behaviours = (values.behaviour?.split(',') ?? BEHAVIOURS) as Behaviour[];
const scopes = (values.scope?.split(',') ?? SCOPES) as Scope[];
const jobs = behaviours.flatMap((b) => scopes.map((s) => [b, s] as const));
const dir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-hostile-'));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);

function outsidePolicy(run: HostileRun): string[] {
  const bad = run.connects.filter(
    (c) => FORBIDDEN_CONNECT_HOSTS.some((h) => c.startsWith(`${h}:`)) || !c.startsWith('127.0.0.1:'),
  );
  const looked = run.lookups.filter((h) => FORBIDDEN_LOOKUP_HOSTS.includes(h));
  return [...bad, ...looked];
}

console.log(
  `${jobs.length} run(s), ${values.parallel} at a time, --timeout ${values.timeout} s, runTimeout ${values['run-timeout']} s, concurrency ${values.concurrency}\n`,
);
console.log(
  'behaviour               scope            wall s  exit  peak RSS MB  reports MB (largest)        stdout KB  results  outside policy',
);
prepareHostileTargets();
const started = performance.now();
const results: HostileRun[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: Number(values.parallel) }, async () => {
    while (next < jobs.length) {
      const [behaviour, scope] = jobs[next++]!;
      const run = await runAgainstHostile(behaviour, scope, {
        timeoutSeconds: Number(values.timeout),
        runTimeoutSeconds: Number(values['run-timeout']),
        concurrency: Number(values.concurrency),
        dir: join(dir, `${behaviour}-${scope}`),
        killAfterMs: 180_000,
      });
      results.push(run);
      const largest = run.largestReport ? `${run.largestReport.file} ${mb(run.largestReport.bytes)}` : '-';
      console.log(
        `${behaviour.padEnd(23)} ${scope.padEnd(16)} ${(run.wallMs / 1000).toFixed(1).padStart(6)}  ${String(run.exitCode ?? run.signal).padStart(4)}  ${String(run.peakRssMb ?? '-').padStart(11)}  ${mb(run.reportBytes).padStart(6)} (${largest})`.padEnd(
          100,
        ) +
          `${(run.stdoutBytes / 1024).toFixed(0).padStart(9)}  ${String(run.report?.results.length ?? 'none').padStart(7)}  ${outsidePolicy(run).join(' ') || 'none'}`,
      );
    }
  }),
);
const worst = {
  wallMs: Math.max(...results.map((r) => r.wallMs)),
  rss: Math.max(...results.map((r) => r.peakRssMb ?? 0)),
  report: Math.max(...results.map((r) => r.reportBytes)),
};
console.log(
  `\n${results.length} run(s) in ${((performance.now() - started) / 1000).toFixed(1)} s; worst: wall ${(worst.wallMs / 1000).toFixed(1)} s, peak RSS ${worst.rss} MB, reports ${mb(worst.report)} MB; ` +
    `${results.filter((r) => !r.report).length} without a report, ${results.filter((r) => r.exitCode === null || r.exitCode > 3).length} crashed`,
);
rmSync(dir, { recursive: true, force: true });
