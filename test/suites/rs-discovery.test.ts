// The RS discovery and challenge suites (RS-PRM, RS-401-01..07, RS-CORS) through the engine
// against the embedded reference server: on a clean server every check passes in every revision
// it applies to (RS-PRM-14 skips: the reference metadata declares no signing parameters); with
// each fault a check names switched on, that check fails (MUST) or warns (SHOULD). One server per
// (fault, revision), shared by every check naming that fault.

import { describe, expect, it } from 'vitest';
import type { Check, Status } from '../../runner/check.ts';
import type { Revision } from '../../runner/revisions.ts';
import { checks as challengeChecks } from '../../suites/rs-challenge.ts';
import { checks as corsChecks } from '../../suites/rs-cors.ts';
import { checks as prmChecks, matchResource } from '../../suites/rs-prm.ts';
import { runAgainstEmbedded, summarize } from '../helpers/run-checks.ts';

const CHECKS: readonly Check[] = [...prmChecks, ...challengeChecks, ...corsChecks];

/** Clean-server outcomes other than pass, with the reason. */
const EXPECTED_ON_CLEAN: Record<string, Status> = {
  // No jwks_uri, resource_signing_alg_values_supported or signed_metadata to judge.
  'RS-PRM-14': 'skip',
};

/**
 * Faults that bend a check only in some revisions (the check's level varies by revision):
 * without resource_metadata, 2025-11-25+ clients still find the well-known metadata.
 */
const FAULT_REVISION: Record<string, Revision> = {
  'RS-401-03 rs-challenge-no-resource-metadata': '2025-06-18',
};

describe('RS discovery suites against the clean reference server', () => {
  it.each(['2025-06-18', '2025-11-25', '2026-07-28'] as const)(
    'every check passes (%s)',
    async (revision) => {
      const applicable = CHECKS.filter((c) => c.revisions.includes(revision));
      const results = await runAgainstEmbedded(applicable, { revision });
      expect(results).toHaveLength(applicable.length);
      const unexpected = results.filter((r) => r.status !== (EXPECTED_ON_CLEAN[r.id] ?? 'pass'));
      expect(unexpected, summarize(results)).toEqual([]);
      const skipped = results.find((r) => r.id === 'RS-PRM-14');
      expect(skipped?.message).toMatch(/no jwks_uri/);
    },
  );
});

describe('each named fault turns its checks red', () => {
  // (fault, revision) → the checks that name the fault.
  const groups = new Map<string, { fault: string; revision: Revision; checks: Check[] }>();
  for (const check of CHECKS) {
    for (const fault of check.faults) {
      const revision =
        FAULT_REVISION[`${check.id} ${fault}`] ??
        (check.revisions.includes('2026-07-28') ? '2026-07-28' : check.revisions[0]!);
      const key = `${fault} @ ${revision}`;
      const group = groups.get(key) ?? { fault, revision, checks: [] };
      group.checks.push(check);
      groups.set(key, group);
    }
  }

  it('every check names at least one fault', () => {
    expect(CHECKS.filter((c) => c.faults.length === 0).map((c) => c.id)).toEqual([]);
  });

  it.each([...groups.entries()])('%s', async (_key, { fault, revision, checks }) => {
    const results = await runAgainstEmbedded(checks, { faults: [fault], revision });
    for (const check of checks) {
      const result = results.find((r) => r.id === check.id);
      const expected: Status = check.level === 'MUST' ? 'fail' : 'warn';
      expect(result?.status, `${check.id} with ${fault}\n${summarize(results)}`).toBe(expected);
    }
  });
});

describe('RS-PRM-06 classifies resource against the endpoint (requirements §3 A1)', () => {
  it.each([
    ['https://h.example/mcp', 'https://h.example/mcp', 'EXACT'],
    ['https://h.example', 'https://h.example/mcp', 'PREFIX'],
    ['https://h.example/', 'https://h.example/mcp', 'PREFIX'],
    ['https://h.example/t1', 'https://h.example/t1/mcp', 'PREFIX'],
    ['https://h.example/m', 'https://h.example/mcp', 'MISMATCH'],
    ['https://h.example/mcp/', 'https://h.example/mcp', 'MISMATCH'],
    ['HTTPS://H.EXAMPLE/mcp', 'https://h.example/mcp', 'MISMATCH'],
    ['https://h.example:8', 'https://h.example:8443/mcp', 'MISMATCH'],
    ['https://h.ex', 'https://h.example/mcp', 'MISMATCH'],
    ['https://other.example/mcp', 'https://h.example/mcp', 'MISMATCH'],
    ['https://h.example?x=1', 'https://h.example?x=1/mcp', 'MISMATCH'],
  ] as const)('%s vs %s → %s', (resource, endpoint, expected) => {
    expect(matchResource(resource, endpoint)).toBe(expected);
  });

  it('PREFIX fails by default (RFC 9728 §3.3 "MUST be identical"), naming the clients that tolerate it', async () => {
    const check = CHECKS.filter((c) => c.id === 'RS-PRM-06');
    const [r] = await runAgainstEmbedded(check, { faults: ['rs-prm-resource-prefix'] });
    expect(r?.status, r?.message).toBe('fail');
    expect(r?.data.classification).toBe('PREFIX');
    expect(r?.message).toMatch(/only a path prefix .*MUST be identical.*TypeScript SDK client/);
  });
});

describe('RS-401-01 honours methods the operator declared public (requirements RS-401-01: "initialize unless configured public")', () => {
  const check = () => CHECKS.filter((c) => c.id === 'RS-401-01');
  const server = { publicMethods: ['initialize'] };
  it('an undeclared public initialize warns, quoting both conflicting sentences; declared, the next undeclared method is probed and its 401 passes', async () => {
    const [undeclared] = await runAgainstEmbedded(check(), { revision: '2025-11-25', server });
    expect(undeclared!.status, summarize([undeclared!])).toBe('warn');
    expect(undeclared!.message).toMatch(/^initialize without credentials was answered 200/);
    expect(undeclared!.message).toContain(
      '"MCP servers that implement authorization MUST verify all inbound requests."',
    );
    expect(undeclared!.message).toContain(
      '"Servers SHOULD implement proper authentication for all connections"',
    );
    const [declared] = await runAgainstEmbedded(check(), {
      revision: '2025-11-25',
      server,
      expectPublic: ['initialize'],
    });
    expect(declared!.status, summarize([declared!])).toBe('pass');
    expect(declared!.data).toMatchObject({ method: 'ping', status: 401 });
  });
  it('with every candidate declared public it is not applicable', async () => {
    const [r] = await runAgainstEmbedded(check(), {
      revision: '2025-11-25',
      expectPublic: ['initialize', 'tools/list', 'ping', 'resources/list', 'prompts/list'],
    });
    expect(r!.status).toBe('skip');
    expect(r!.message).toMatch(/declared public/);
  });
});

describe('RS-PRM-15 provokes its 403 with a scope that does not imply the challenged one', () => {
  const check = () => CHECKS.filter((c) => c.id === 'RS-PRM-15');
  it('without a declared hierarchy every listed scope outside the challenge is used', async () => {
    const [r] = await runAgainstEmbedded(check(), { scopeImplies: {} });
    expect(r!.status, summarize([r!])).toBe('pass');
    expect(r!.data).toMatchObject({ narrowerScope: 'mcp:write mcp:admin' });
  });
  it('a broad scope declared to imply the challenged one is left out (--scope-implies)', async () => {
    const [r] = await runAgainstEmbedded(check(), { scopeImplies: { 'mcp:admin': ['mcp:tools'] } });
    expect(r!.status, summarize([r!])).toBe('pass');
    expect(r!.data).toMatchObject({ narrowerScope: 'mcp:write' });
  });
});
