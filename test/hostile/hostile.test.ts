// The runner against hostile targets (issue #14): every behaviour of test/hostile/server.ts in
// every scope, each a real `run` subprocess with short time bounds. For each run: no crash, a
// report written with a result for every selected check, every check ended within its bound,
// peak memory and report size under the caps, no connection or DNS query outside the egress
// policy, and the credentials stand-in's secrets nowhere in the output.
//
// The runs go five at a time (they mostly wait on time bounds): about a minute on 2 cores.
// bench/hostile.ts prints the same runs' figures.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectChecks } from '../../runner/engine.ts';
import { LATEST_REVISION } from '../../runner/revisions.ts';
import { CHECKS } from '../../suites/index.ts';
import { type HostileRun, runAgainstHostile } from './run.ts';
import {
  BEHAVIOURS,
  type Behaviour,
  FORBIDDEN_CONNECT_HOSTS,
  FORBIDDEN_LOOKUP_HOSTS,
  REBIND_HOST,
  type Scope,
  prepareHostileTargets,
  SCOPES,
} from './server.ts';

/**
 * --timeout: short, so a behaviour that makes the runner wait out its bounds costs seconds, yet
 * long enough for a loaded 2-core machine to answer the requests that are not abused.
 */
const timeoutOf = (_b: Behaviour) => 1;
const RUN_TIMEOUT_S = 30;
/** What the CLI derives from --timeout (cli/run.ts): a check gets 3x, a login 10x, fixtures login + 3x. */
const checkBoundMs = (b: Behaviour) => 3 * timeoutOf(b) * 1000;
const fixtureBoundMs = (b: Behaviour) => 10 * timeoutOf(b) * 1000 + checkBoundMs(b);
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 2_000;
const PARALLEL = 5;
const MAX_RSS_MB = 300;
const MAX_REPORT_BYTES = 20 * 1024 * 1024;
const MAX_STDOUT_BYTES = 1024 * 1024;

const jobs = BEHAVIOURS.flatMap((b) => SCOPES.map((s) => [b, s] as const));
const runs = new Map<string, HostileRun>();
const key = (b: Behaviour, s: Scope) => `${b}/${s}`;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-hostile-'));
  prepareHostileTargets();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < jobs.length) {
        const [behaviour, scope] = jobs[next++]!;
        runs.set(
          key(behaviour, scope),
          await runAgainstHostile(behaviour, scope, {
            timeoutSeconds: timeoutOf(behaviour),
            runTimeoutSeconds: RUN_TIMEOUT_S,
            concurrency: 16,
            dir: join(dir, `${behaviour}-${scope}`),
            killAfterMs: (RUN_TIMEOUT_S + 30) * 1000,
          }),
        );
      }
    }),
  );
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const selected = selectChecks(CHECKS, { revision: LATEST_REVISION }).selected;

describe.each(BEHAVIOURS)('%s', (behaviour) => {
  it.each(SCOPES)('in scope %s: no crash, a full report, bounded, inside the egress policy', (scope) => {
    const run = runs.get(key(behaviour, scope))!;
    const context = `${behaviour}/${scope}: exit ${run.exitCode} signal ${run.signal}\n${run.stderr}`;

    // No crash: the runner ended by itself with one of its exit codes, and said nothing on stderr.
    expect(run.signal, context).toBeNull();
    expect([0, 1, 3], context).toContain(run.exitCode);
    expect(run.stderr, context).not.toMatch(/Unhandled|uncaught|Error:|Warning/i);

    // A report, with a result for every selected check.
    expect(run.report, context).toBeDefined();
    const report = run.report!;
    expect(report.exitCode).toBe(run.exitCode);
    expect(report.results.map((r) => r.id)).toEqual(selected.map((c) => c.id));

    // Every check ended within its bound; the run within the run's.
    const bound = fixtureBoundMs(behaviour) + checkBoundMs(behaviour) + SLACK_MS;
    const late = report.results.filter((r) => r.durationMs > bound);
    expect(late.map((r) => `${r.id} ${r.durationMs} ms`)).toEqual([]);
    expect(report.durationMs).toBeLessThan(RUN_TIMEOUT_S * 1000 + SLACK_MS);

    // Memory and output under the caps.
    expect(run.peakRssMb, context).toBeDefined();
    expect(run.peakRssMb!).toBeLessThanOrEqual(MAX_RSS_MB);
    expect(run.reportBytes).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(run.stdoutBytes).toBeLessThanOrEqual(MAX_STDOUT_BYTES);

    // No contact outside the policy: loopback connections only, never a forbidden host, and a
    // cloud metadata name never even resolved.
    expect(run.connects.filter((c) => !c.startsWith('127.0.0.1:'))).toEqual([]);
    for (const host of FORBIDDEN_CONNECT_HOSTS) expect(run.connects.join(' ')).not.toContain(host);
    expect(run.lookups.filter((h) => FORBIDDEN_LOOKUP_HOSTS.includes(h))).toEqual([]);

    // The credentials stand-in's secrets are nowhere in clear.
    const output = run.allOutput();
    for (const secret of run.target.secrets) expect(output).not.toContain(secret);

    // The behaviour did happen (a scope that selects no request of it is a plain run).
    if (!behaviour.endsWith('-elsewhere') || scope !== 'as-only' || behaviour === 'as-endpoints-elsewhere')
      expect(run.target.counts.hostile).toBeGreaterThan(0);
  });
});

describe('refused hosts are findings in the report', () => {
  it.each(['everything', 'after-first-401'] as const)(
    'prm-points-elsewhere (%s): the metadata name refused before DNS, the rebinding name after it',
    (scope) => {
      const run = runs.get(key('prm-points-elsewhere', scope))!;
      const refused = new Map(run.report!.egress!.refused.map((r) => [r.host, r]));
      expect(refused.get('metadata.google.internal')?.addressClass).toBe('cloud-metadata');
      expect(refused.get(REBIND_HOST)?.message).toContain(`${REBIND_HOST} resolves to 169.254.169.254`);
      expect(run.lookups).toContain(REBIND_HOST);
      const noted = run.report!.results.filter((r) =>
        r.notes.some((n) => n.includes('egress policy: refused')),
      );
      expect(noted.length).toBeGreaterThan(0);
    },
  );

  it.each(SCOPES)(
    'as-endpoints-elsewhere (%s): the metadata address refused, the loopback stand-in redacted',
    (scope) => {
      const run = runs.get(key('as-endpoints-elsewhere', scope))!;
      const refused = run.report!.egress!.refused.map((r) => `${r.host} ${r.addressClass}`);
      expect(refused).toContain('169.254.169.254 cloud-metadata');
      // The stand-in shares the target's class (loopback): it may be fetched, its secrets redacted.
      const fetched = run.report!.exchanges.filter((e) =>
        e.request.url.startsWith(run.target.credentialsOrigin),
      );
      expect(fetched.length).toBeGreaterThan(0);
      expect(fetched.some((e) => e.response?.body.includes('"SecretAccessKey":"[redacted'))).toBe(true);
    },
  );
});
