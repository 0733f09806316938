// A run whose checks let work escape, for the process-level guard's test (run-guard.test.ts).
// Run as a subprocess (an escaped rejection inside a vitest worker would fail that worker):
//   node --import tsx test/runner/helpers/leaky-run.ts <out-dir>
// Prints the exit code of `run` on the last line; the process itself must exit normally.

import { defineCheck } from '../../../runner/check.ts';
import { main } from '../../../cli/main.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const base = {
  level: 'MUST' as const,
  refs: ['issue #14'],
  revisions: ['2026-07-28' as const],
  needs: [],
  faults: [],
  requirement: 'test',
  remediation: 'test',
  control: 'None: a test check.',
};

const checks = [
  defineCheck({
    ...base,
    id: 'T-LEAK-01',
    title: 'passes, but leaves a promise that rejects after it ended',
    async run(t) {
      void sleep(100).then(() => Promise.reject(new Error('late rejection of T-LEAK-01')));
      t.conforms('looked fine');
    },
  }),
  defineCheck({
    ...base,
    id: 'T-LEAK-02',
    title: 'a timer it started throws while it waits',
    async run(t) {
      setTimeout(() => {
        throw new Error('thrown in a timer of T-LEAK-02');
      }, 50);
      await sleep(400);
      t.conforms('never reached: the escape ends the check');
    },
  }),
  defineCheck({
    ...base,
    id: 'T-LEAK-03',
    title: 'keeps the run going long enough for the escapes',
    async run(t) {
      await sleep(600);
      t.conforms('done');
    },
  }),
];

// Work no check started: a harness error of the run.
setTimeout(() => void Promise.reject(new Error('rejection outside any check')), 300);

const code = await main(['run', '--out', process.argv[2]!, '--format', 'json,html'], {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: false,
  env: {},
  cwd: process.cwd(),
  checks,
});
process.stdout.write(`\nrun exit code ${code}\n`);
