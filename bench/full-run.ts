// `npx tsx bench/full-run.ts [runs]`: wall time and peak memory of a full embedded run (every
// check against the in-process reference server), and how many authorization flows it used.
//
// Each run goes through the same `main(['run', ...])` as the CLI, with output captured and the
// reports written to a temporary directory. Peak RSS is sampled every 5 ms during the runs
// (process.resourceUsage().maxRSS is the high-water mark of the whole process, reported too).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportSchema } from '../reports/json.ts';
import { main } from '../cli/main.ts';

const runs = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-bench-'));
const rows: {
  run: number;
  exit: number;
  checks: number;
  wallMs: number;
  flows: number;
  exchanges: number;
}[] = [];
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

try {
  for (let i = 1; i <= runs; i++) {
    const out = join(dir, `run-${i}`);
    const started = performance.now();
    const exit = await main(['run', '--out', out, '--format', 'json'], {
      out: () => undefined,
      err: (t) => process.stderr.write(t),
      isTTY: false,
      env: {},
      cwd: dir,
    });
    const wallMs = performance.now() - started;
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    rows.push({
      run: i,
      exit,
      checks: report.results.length,
      wallMs,
      flows: report.authorizationFlows,
      exchanges: report.exchanges.length,
    });
  }
} finally {
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log('run  exit  checks  wall ms  auth flows  exchanges');
for (const r of rows) {
  console.log(
    `${String(r.run).padEnd(5)}${String(r.exit).padEnd(6)}${String(r.checks).padEnd(8)}${r.wallMs.toFixed(0).padStart(7)}  ${String(r.flows).padStart(10)}  ${String(r.exchanges).padStart(9)}`,
  );
}
const walls = rows.map((r) => r.wallMs).sort((a, b) => a - b);
console.log(
  `median wall time ${walls[Math.floor(walls.length / 2)]?.toFixed(0)} ms over ${rows.length} run(s)`,
);
console.log(
  `peak RSS (sampled) ${mib(peakRss)} MiB; process maxRSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB`,
);
console.log(`node ${process.version}`);
