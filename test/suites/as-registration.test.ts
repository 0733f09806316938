// The AS-META, AS-DCR and AS-CIMD checks through the engine against the embedded reference server:
// every check passes on a clean server (or ends as the one documented skip/info), and every fault
// a check names turns it red (fail for MUST, warn for SHOULD). Plus the harness's metadata-document
// host (runner/cimd-host.ts) on its own.

import { faultParts } from '../../reference-server/faults.ts';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../runner/check.ts';
import { clientDocument, startCimdHost, startConnectionCounter } from '../../runner/cimd-host.ts';
import { checks as cimdChecks } from '../../suites/as-cimd.ts';
import { checks as dcrChecks } from '../../suites/as-dcr.ts';
import { checks as metadataChecks } from '../../suites/as-metadata.ts';
import { runAgainstEmbedded, summarize } from '../helpers/run-checks.ts';

const CHECKS: readonly Check[] = [...metadataChecks, ...dcrChecks, ...cimdChecks];

/**
 * AS-CIMD-07 (SSRF guard) is judged on https client_id URLs, which the reference server guards
 * even with allowLoopbackCimd (that setting only admits the harness's http://127.0.0.1 test
 * documents); it is also run on a server without that setting.
 */
const SSRF_CHECK = 'AS-CIMD-07';
const noLoopbackCimd = { allowLoopbackCimd: false };

/** Results that are not a pass on a clean server, each with the reason it is expected. */
const EXPECTED_NOT_PASS: Record<string, string> = {
  'AS-META-14': 'info', // MAY: the reference server lists no protected_resources
};

describe('AS metadata, registration and metadata-document checks on a clean server', () => {
  it.each(['2026-07-28', '2025-06-18'] as const)('all pass (%s)', async (revision) => {
    const results = await runAgainstEmbedded(CHECKS, { revision });
    expect(results).toHaveLength(CHECKS.filter((c) => c.revisions.includes(revision)).length);
    for (const r of results) {
      expect(r.status, summarize([r])).toBe(EXPECTED_NOT_PASS[r.id] ?? 'pass');
    }
  });

  it('AS-CIMD-07 passes on a server that does not fetch loopback documents', async () => {
    const ssrf = CHECKS.filter((c) => c.id === SSRF_CHECK);
    const [r] = await runAgainstEmbedded(ssrf, { server: noLoopbackCimd });
    expect(r?.status, summarize(r ? [r] : [])).toBe('pass');
    expect(r?.data.connections).toBe(0);
  });
});

describe('AS-META-15: refresh tokens only for offline_access, and scopes_supported', () => {
  const check = () => CHECKS.filter((c) => c.id === 'AS-META-15');
  it('clean: a refresh token comes without offline_access (which the AS refuses), so the rule does not bind', async () => {
    const [r] = await runAgainstEmbedded(check());
    expect(r?.status, summarize(r ? [r] : [])).toBe('pass');
    expect(r?.data['refresh token']).toMatchObject({
      'scope mcp:tools': 'issued',
      'scope mcp:tools offline_access': expect.stringMatching(/invalid_scope/),
    });
  });
  it('fault: refresh tokens only with offline_access, which is not listed → warn naming the defect', async () => {
    const [r] = await runAgainstEmbedded(check(), { faults: ['as-refresh-only-offline-access-unlisted'] });
    expect(r?.status, summarize(r ? [r] : [])).toBe('warn');
    expect(r?.message).toMatch(/only with offline_access .* does not list it/);
    expect(r?.data['refresh token']).toEqual({
      'scope mcp:tools': 'not issued',
      'scope mcp:tools offline_access': 'issued',
    });
  });
});

// Every (fault, checks naming it) pair; one server per fault.
const byFault = new Map<string, Check[]>();
for (const check of CHECKS) {
  for (const fault of check.faults) byFault.set(fault, [...(byFault.get(fault) ?? []), check]);
}

describe('each named fault turns its checks red', () => {
  it.each([...byFault.keys()])('%s', async (fault) => {
    const checks = byFault.get(fault)!;
    const server = checks.some((c) => c.id === SSRF_CHECK) ? noLoopbackCimd : {};
    const results = await runAgainstEmbedded(checks, { faults: faultParts(fault), server });
    expect(results).toHaveLength(checks.length);
    for (const r of results) {
      // A fault may prove a secondary property judged below the check's level (faultLevels).
      const level = checks.find((c) => c.id === r.id)?.faultLevels?.[fault] ?? r.level;
      expect(r.status, summarize([r])).toBe(level === 'MUST' ? 'fail' : 'warn');
    }
  });

  it('every check except the MAY one names a fault', () => {
    for (const check of CHECKS) {
      if (check.level !== 'MAY') expect(check.faults.length, check.id).toBeGreaterThan(0);
    }
  });
});

describe('runner/cimd-host.ts', () => {
  it('serves published documents, counts fetches, and is closed afterwards', async () => {
    const host = await startCimdHost();
    const url = host.publishJson('/c.json', clientDocument(`${host.origin}/c.json`, ['http://127.0.0.1/cb']));
    let calls = 0;
    host.publish('/flaky.json', (n) => {
      calls = n;
      return n === 1 ? { status: 500, body: '{}' } : { body: '{"ok":true}' };
    });
    const doc = (await (await fetch(url)).json()) as Record<string, unknown>;
    expect(doc.client_id).toBe(url);
    expect((await fetch(`${host.origin}/flaky.json`)).status).toBe(500);
    expect((await fetch(`${host.origin}/flaky.json`)).status).toBe(200);
    expect(calls).toBe(2);
    expect((await fetch(`${host.origin}/missing.json`)).status).toBe(404);
    expect(host.fetches('/c.json')).toBe(1);
    expect(host.totalFetches()).toBe(4);
    await host.close();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('the connection counter counts and drops connections', async () => {
    const counter = await startConnectionCounter();
    await expect(fetch(`http://127.0.0.1:${counter.port}/`)).rejects.toThrow();
    expect(counter.connections()).toBeGreaterThan(0);
    await counter.close();
  });
});
