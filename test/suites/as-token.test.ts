// The token-endpoint suites (AS-TOKEN, AS-REFRESH, AS-REVOKE, AS-RACE, AS-ENTROPY, AS-LIFETIME)
// through the engine against the embedded reference server: clean, every check passes (the
// MAY-level lifetime report is info); with each fault a check names switched on, that check fails
// (MUST) or warns (SHOULD). One server per fault, shared by every check naming it.

import { describe, expect, it } from 'vitest';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';
import type { Check } from '../../runner/check.ts';
import { type CheckResult, runChecks } from '../../runner/engine.ts';
import { freeLoopbackPort, RunFixtures } from '../../runner/fixtures.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { createLoginDriver } from '../../runner/login/index.ts';
import { Redactor } from '../../runner/redact.ts';
import type { Revision } from '../../runner/revisions.ts';
import { checks as refreshChecks } from '../../suites/as-refresh.ts';
import { checks as revocationChecks } from '../../suites/as-revocation.ts';
import { checks as securityChecks, estimateEntropyBits, raceRefusal } from '../../suites/as-security.ts';
import type { CheckContext } from '../../runner/check.ts';
import { checks as tokenChecks } from '../../suites/as-token.ts';

const CHECKS: readonly Check[] = [...tokenChecks, ...refreshChecks, ...revocationChecks, ...securityChecks];

/** Runs checks in process against a fresh embedded server with the given faults; closes everything. */
async function runAgainstEmbedded(
  checks: readonly Check[],
  faults: readonly string[],
  revision: Revision = '2026-07-28',
): Promise<CheckResult[]> {
  const server: RunningReferenceServer = await startReferenceServer({
    autoApprove: true,
    faults: [...faults],
    allowLoopbackCimd: true,
  });
  const recorder = new HttpRecorder({ allowedOrigins: [server.url, server.issuer], timeoutMs: 5_000 });
  try {
    const fixtures = new RunFixtures({
      recorder,
      redactor: new Redactor(),
      target: server.url,
      revision,
      login: createLoginDriver({ driver: 'auto' }),
      redirectUri: `http://127.0.0.1:${await freeLoopbackPort()}/callback`,
      loginTimeoutMs: 5_000,
      mintKey: { privateJwk: server.signingKey, issuer: server.issuer },
    });
    return await runChecks(checks, {
      target: server.url,
      revision,
      strict: false,
      embedded: true,
      http: recorder,
      fixtures,
      requestTimeoutMs: 5_000,
      checkTimeoutMs: 15_000,
      fixtureTimeoutMs: 15_000,
      runTimeoutMs: 30_000,
      concurrency: 4,
    });
  } finally {
    await recorder.close();
    await server.close();
  }
}

const summary = (results: readonly CheckResult[]) =>
  results.map((r) => `${r.id} ${r.status}: ${r.message}`).join('\n');

describe('token-endpoint suites against the clean reference server', () => {
  it.each(['2026-07-28', '2025-06-18'] as const)('every check passes (%s)', async (revision) => {
    const results = await runAgainstEmbedded(CHECKS, [], revision);
    const expected = (c: Check) => (c.level === 'MAY' ? 'info' : 'pass');
    expect(
      results.filter((r) => r.status !== expected(CHECKS.find((c) => c.id === r.id)!)),
      summary(results),
    ).toEqual([]);
    expect(results).toHaveLength(CHECKS.length);
  });
});

describe('each named fault turns its checks red', () => {
  const byFault = new Map<string, Check[]>();
  for (const check of CHECKS) {
    for (const fault of check.faults) byFault.set(fault, [...(byFault.get(fault) ?? []), check]);
  }
  it('every check names a fault or says why it is untestable', () => {
    for (const check of CHECKS)
      expect(check.faults.length > 0 || check.untestable !== undefined, check.id).toBe(true);
  });
  it.each([...byFault.entries()])('%s', async (fault, checks) => {
    const results = await runAgainstEmbedded(checks, [fault]);
    for (const check of checks) {
      const result = results.find((r) => r.id === check.id)!;
      expect(result.status, `${check.id} under ${fault}: ${result.message}`).toBe(
        check.level === 'MUST' ? 'fail' : 'warn',
      );
    }
  });
});

describe('entropy estimator (upper bound over the observed alphabet)', () => {
  it('counts hex, digits and base64url', () => {
    expect(estimateEntropyBits('deadbeef').bits).toBe(32);
    expect(estimateEntropyBits('123456').bits).toBe(Math.floor(6 * Math.log2(10)));
    expect(estimateEntropyBits('Ab3_'.repeat(8)).alphabet).toBe(64);
    expect(estimateEntropyBits('aB3-xY9_'.repeat(5) + 'abc').bits).toBeGreaterThanOrEqual(128);
  });
});

describe('race probes stay on loopback unless the operator allows them', () => {
  const ctx = (target: string, allowRaces?: boolean) =>
    ({ target, options: { allowRaces } }) as unknown as CheckContext;
  it('runs against loopback, refuses a remote target, and runs there with --allow-races', () => {
    expect(raceRefusal(ctx('http://127.0.0.1:8080/mcp'), 'http://127.0.0.1:8080/token')).toBeUndefined();
    expect(raceRefusal(ctx('https://mcp.example.com/mcp'), 'https://as.example.com/token')).toMatch(
      /loopback/,
    );
    expect(raceRefusal(ctx('http://127.0.0.1:8080/mcp'), 'https://as.example.com/token')).toMatch(/loopback/);
    expect(
      raceRefusal(ctx('https://mcp.example.com/mcp', true), 'https://as.example.com/token'),
    ).toBeUndefined();
  });
});

describe('AS-REFRESH-07 says what the issued token shows', () => {
  it('a JWT issued for the foreign resource names its aud in the failure (as-refresh-resource-unchecked)', async () => {
    const [r] = await runAgainstEmbedded(
      CHECKS.filter((c) => c.id === 'AS-REFRESH-07'),
      ['as-refresh-resource-unchecked'],
    );
    expect(r!.status).toBe('fail');
    expect(r!.message).toMatch(
      /^a refresh that asked for https:\/\/other\.invalid\/mcp, which was never granted, was answered with an access token \(aud "https:\/\/other\.invalid\/mcp"\) instead of invalid_target$/,
    );
  });
});
