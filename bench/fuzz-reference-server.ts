// `npx tsx bench/fuzz-reference-server.ts [cases] [--seed N] [--concurrency N] [--bound-ms N]`:
// the seeded property-based fuzzer of the reference server (test/server/fuzz/), at volume.
// Defaults: 100,000 cases, seed 20261203, 16 connections, 10 s bound per case.
//
// The server runs in a child process (a crash is an exit we count, after which a new one is
// started), cases come from fast-check in seeded chunks of 1,000 (chunk i uses seed + i, so any
// chunk can be replayed alone), and each case is judged as in test/server/fuzz.test.ts. Prints:
// cases and HTTP requests sent, 5xx, designed 503s (a store at its cap), crashes, hangs, requests
// the server closed unanswered, the server's heap and RSS before and after (after full
// collections), its store sizes, wall time and requests/s; then the answers per kind of case, and
// the first failing cases in full.
//
// Then a registration flood (`--flood N`, default 5,000; 0 to skip) on a fresh server with the
// default caps: half of the registrations carry 60 KB of metadata, half just under the 5 KiB
// per-client cap; the server's heap and RSS before and after.

import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { type FuzzCase, fuzzCase } from '../test/server/fuzz/cases.ts';
import {
  type CaseResult,
  describeCase,
  type Fixtures,
  runCases,
  startFuzzTarget,
  type TargetProcess,
} from '../test/server/fuzz/harness.ts';
import { registrationFlood } from '../test/server/fuzz/flood.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: '20261203' },
    concurrency: { type: 'string', default: '16' },
    'bound-ms': { type: 'string', default: '10000' },
    flood: { type: 'string', default: '5000' },
    show: { type: 'string' },
  },
});
const total = Number(positionals[0] ?? 100_000);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
const boundMs = Number(values['bound-ms']);
const CHUNK = 1000;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The fuzz run; prints its figures and returns how many cases failed (5xx, crash, hang, dropped). */
async function fuzz(): Promise<number> {
  let { target, fixtures } = await startFuzzTarget();
  const before = await target.measure();
  const started = performance.now();
  const counts = { cases: 0, requests: 0, serverErrors: 0, storeFull: 0, crashes: 0, hangs: 0, dropped: 0 };
  const byKind = new Map<string, { cases: number; statuses: Map<number, number>; maxMs: number }>();
  const failures: string[] = [];
  /** `--show KIND[:STATUS]`: a few cases of that kind (answered STATUS) in full, to see what the generator makes of it. */
  const shown: string[] = [];
  const latencies: number[] = [];

  function record(c: FuzzCase, r: CaseResult): void {
    counts.cases++;
    counts.requests += r.requests;
    if (r.serverError) counts.serverErrors++;
    if (r.storeFull) counts.storeFull++;
    if (r.hang) counts.hangs++;
    if (r.dropped) counts.dropped++;
    latencies.push(r.ms);
    const kind = byKind.get(r.kind) ?? { cases: 0, statuses: new Map<number, number>(), maxMs: 0 };
    kind.cases++;
    kind.maxMs = Math.max(kind.maxMs, r.ms);
    for (const s of r.statuses.length > 0 ? r.statuses : [0])
      kind.statuses.set(s, (kind.statuses.get(s) ?? 0) + 1);
    byKind.set(r.kind, kind);
    if ((r.serverError || r.hang || r.dropped) && failures.length < 20) failures.push(describeCase(c, r));
    const [showKind, showStatus] = (values.show ?? '').split(':');
    const statusMatches = showStatus === undefined || r.statuses.includes(Number(showStatus));
    if (r.kind === showKind && statusMatches && shown.length < 12) shown.push(describeCase(c, r));
  }

  async function restartAfterCrash(dead: TargetProcess): Promise<void> {
    counts.crashes++;
    failures.push(`crash: ${JSON.stringify(dead.exit())}\n${dead.stderr().slice(-4000)}`);
    ({ target, fixtures } = await startFuzzTarget());
  }

  for (let chunk = 0; counts.cases < total; chunk++) {
    const cases = fc.sample(fuzzCase, { seed: seed + chunk, numRuns: Math.min(CHUNK, total - counts.cases) });
    const current: { target: TargetProcess; fixtures: Fixtures[] } = { target, fixtures };
    const results = await runCases(current.target, current.fixtures, cases, { concurrency, boundMs });
    results.forEach((r, i) => record(cases[i]!, r));
    if (current.target.exit()) await restartAfterCrash(current.target);
    if (counts.cases % 10_000 === 0) {
      const s = (performance.now() - started) / 1000;
      console.error(
        `  ${counts.cases} cases, ${s.toFixed(0)} s, 5xx ${counts.serverErrors}, hangs ${counts.hangs}`,
      );
    }
  }
  const wallS = (performance.now() - started) / 1000;
  const after = await target.measure();
  const unexpected = (target.stderr().match(/unexpected error/g) ?? []).length;
  const fixtureRequests = fixtures.reduce((n, f) => n + f.requests, 0);
  await target.close();

  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(`reference-server fuzz: seed ${seed}, ${concurrency} connections, bound ${boundMs} ms`);
  console.log(`  cases                 ${counts.cases}`);
  console.log(`  HTTP requests         ${counts.requests} (+ ${fixtureRequests} to obtain fixtures)`);
  console.log(`  5xx                   ${counts.serverErrors}`);
  console.log(`  503 store full        ${counts.storeFull} (with Retry-After: a store at its cap)`);
  console.log(`  crashes               ${counts.crashes}`);
  console.log(`  hangs                 ${counts.hangs}`);
  console.log(`  closed unanswered     ${counts.dropped} (complete requests)`);
  console.log(`  "unexpected error"    ${unexpected} lines on the server's stderr`);
  console.log(`  first answer (ms)     p50 ${pct(0.5)}, p99 ${pct(0.99)}, max ${pct(1)}`);
  console.log(`  server heap           ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
  console.log(`  server RSS            ${mib(before.rss)} → ${mib(after.rss)}`);
  console.log(`  stores after          ${after.sizes.map((s) => JSON.stringify(s)).join(' | ')}`);
  console.log(`  wall time             ${wallS.toFixed(1)} s`);
  console.log(`  requests/s            ${((counts.requests + fixtureRequests) / wallS).toFixed(0)}`);
  console.log('\nanswers per kind of case (status: count; 0 = none)');
  for (const [kind, k] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
    const statuses = [...k.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
    console.log(
      `  ${kind.padEnd(26)} ${String(k.cases).padStart(6)}  max ${k.maxMs.toFixed(0).padStart(5)} ms  ${statuses.join(' ')}`,
    );
  }
  if (shown.length > 0) console.log(`\ncases of kind ${values.show}\n  ${shown.join('\n  ')}`);
  if (failures.length > 0) {
    console.log('\nfirst failures');
    for (const f of failures) console.log(`  ${f}`);
  }
  return counts.serverErrors + counts.crashes + counts.hangs + counts.dropped;
}

const failed = total > 0 ? await fuzz() : 0;

const floodCount = Number(values.flood);
if (floodCount > 0) {
  const flood = await registrationFlood(floodCount);
  console.log(
    `\nregistration flood: ${flood.registrations} registrations in ${(flood.wallMs / 1000).toFixed(1)} s`,
  );
  console.log(`  answers               ${JSON.stringify(flood.statuses)}; clients kept ${flood.clients}`);
  console.log(`  server heap           ${mib(flood.before.heapUsed)} → ${mib(flood.after.heapUsed)}`);
  console.log(`  server RSS            ${mib(flood.before.rss)} → ${mib(flood.after.rss)}`);
}
process.exitCode = failed > 0 ? 1 : 0;
