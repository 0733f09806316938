// The seeded property-based fuzzer of the reference server (test/server/fuzz/): malformed and
// adversarial requests to every endpoint, raw garbage, oversize headers and bodies, pipelines
// behind an `Upgrade:` request. The property, for every case: no 5xx (a 503 with Retry-After,
// a store at its cap, is the designed answer), an answer within the bound, and the server process
// still alive. bench/fuzz-reference-server.ts runs the same cases at 100,000.
//
// fast-check draws batches of 8 cases, run in parallel; a failing batch is shrunk to simpler cases
// that still fail, and the message shows the failing ones' bytes.

import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fuzzCase } from './fuzz/cases.ts';
import {
  describeCase,
  type Fixtures,
  runCases,
  startFuzzTarget,
  type TargetProcess,
} from './fuzz/harness.ts';

const SEED = 20261203;
const BATCH = 8;
const RUNS = 500; // 4,000 cases
const BOUND_MS = 10_000;

let target: TargetProcess;
let fixtures: Fixtures[];
beforeAll(async () => {
  ({ target, fixtures } = await startFuzzTarget());
}, 60_000);
afterAll(async () => {
  await target?.close();
});

it(`answers ${BATCH * RUNS} fuzzed requests without a 5xx, a crash or a hang`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const results = await runCases(target, fixtures, batch, { concurrency: BATCH, boundMs: BOUND_MS });
      expect(target.exit(), `the server process ended:\n${target.stderr().slice(-4000)}`).toBeUndefined();
      const failures = results.flatMap((r, i) =>
        r.serverError || r.hang || r.dropped ? [describeCase(batch[i]!, r)] : [],
      );
      expect(failures).toEqual([]);
    }),
    { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 150_000, markInterruptAsFailure: true },
  );
  // A 5xx the verdict missed would still have left its line here.
  expect(target.stderr()).not.toMatch(/unexpected error/);
}, 180_000);
