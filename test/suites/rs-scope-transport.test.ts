// RS-403, RS-TRN, RS-SESS and RS-PUB through the engine against the embedded reference server:
// every check passes on a clean server in each revision it applies to, and each fault a check
// names turns it red (fail for MUST, warn for SHOULD) with a message naming the defect.
// Plus the pure helpers: session-id analysis and tool-argument synthesis.

import { describe, expect, it } from 'vitest';
import { faultParts } from '../../reference-server/faults.ts';
import type { Check, Status } from '../../runner/check.ts';
import { loadRunConfig, UsageError } from '../../cli/config.ts';
import type { Revision } from '../../runner/revisions.ts';
import { checks as publicChecks } from '../../suites/rs-public-methods.ts';
import { argumentsFor, broaderScopeRequest, checks as scopeChecks } from '../../suites/rs-scope.ts';
import { analyseIds, answersFor, tamperState, checks as transportChecks } from '../../suites/rs-transport.ts';
import { runAgainstEmbedded, summarize } from '../helpers/run-checks.ts';

const CHECKS: readonly Check[] = [...scopeChecks, ...transportChecks, ...publicChecks];
const byId = (id: string): Check => {
  const check = CHECKS.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
};

describe('clean embedded server: every check passes', () => {
  for (const revision of ['2025-06-18', '2025-11-25', '2026-07-28'] as const) {
    it(revision, async () => {
      const results = await runAgainstEmbedded(CHECKS, { revision });
      expect(results.length).toBeGreaterThan(8);
      // RS-403-04 under 2026-07-28 only reports (INFO) whether granted scopes are repeated.
      // RS-TRN-04 binds "a server that supports only this revision"; the reference server is dual-era.
      const expected = (id: string): Status =>
        id === 'RS-403-04' && revision === '2026-07-28' ? 'info' : id === 'RS-TRN-04' ? 'skip' : 'pass';
      for (const r of results) expect(r.status, summarize([r])).toBe(expected(r.id));
      const surface = results.find((r) => r.id === 'RS-PUB-02')?.data.anonymousSurface as {
        outcome: string;
      }[];
      expect(surface.every((row) => row.outcome === 'requires-auth')).toBe(true);
    });
  }
});

interface FaultCase {
  fault: string;
  revision: Revision;
  /** check id → expected status and a pattern of its message. */
  expect: Record<string, [Status, RegExp]>;
  expectPublic?: string[];
}

const CASES: FaultCase[] = [
  {
    fault: 'rs-scope-not-enforced',
    revision: '2026-07-28',
    expect: { 'RS-403-01': ['fail', /ran without the scope/] },
  },
  {
    fault: 'rs-insufficient-scope-401',
    revision: '2025-06-18',
    expect: { 'RS-403-01': ['fail', /answered 401, not 403/] },
  },
  {
    fault: 'rs-insufficient-scope-jsonrpc',
    revision: '2026-07-28',
    expect: { 'RS-403-01': ['fail', /JSON-RPC error .* not 403/] },
  },
  {
    fault: 'rs-insufficient-scope-no-challenge',
    revision: '2025-11-25',
    expect: { 'RS-403-02-A': ['fail', /no WWW-Authenticate/] },
  },
  {
    fault: 'rs-403-metadata-url-broken',
    revision: '2026-07-28',
    expect: { 'RS-403-02-B': ['warn', /answers 404/] },
  },
  {
    fault: 'rs-scope-challenge-one-at-a-time',
    revision: '2026-07-28',
    expect: { 'RS-403-03': ['warn', /one challenge at a time/] },
  },
  {
    fault: 'rs-scope-challenge-omits-granted',
    revision: '2025-11-25',
    expect: { 'RS-403-04': ['warn', /omits the granted scopes .* loses access/] },
  },
  {
    fault: 'rs-scope-challenge-omits-granted',
    revision: '2026-07-28',
    expect: { 'RS-403-04': ['info', /does not repeat the granted scopes/] },
  },
  {
    fault: 'rs-scope-hierarchy-ignored',
    revision: '2026-07-28',
    expect: { 'RS-403-05': ['fail', /answered 403 .*mcp:admin implies mcp:write.*hierarchy is not applied/] },
  },
  {
    fault: 'rs-origin-not-checked',
    revision: '2025-06-18',
    expect: { 'RS-TRN-01': ['fail', /Origin: https:\/\/evil\.example was served/] },
  },
  {
    fault: 'rs-origin-not-checked',
    revision: '2026-07-28',
    expect: { 'RS-TRN-01': ['fail', /was served/] },
  },
  {
    fault: 'rs-protocol-version-not-checked',
    revision: '2025-11-25',
    expect: { 'RS-TRN-02': ['fail', /1999-01-01 was answered 200/] },
  },
  {
    fault: 'rs-protocol-version-not-checked',
    revision: '2026-07-28',
    expect: { 'RS-TRN-02': ['fail', /not 400/] },
  },
  {
    fault: 'rs-header-mismatch-not-checked',
    revision: '2026-07-28',
    expect: { 'RS-TRN-03': ['fail', /Mcp-Method: tools\/list .* executed.*Mcp-Name/] },
  },
  {
    fault: 'rs-modern-only+rs-modern-session-id',
    revision: '2026-07-28',
    expect: { 'RS-TRN-04': ['warn', /carries Mcp-Session-Id/] },
  },
  {
    // The precondition of RS-TRN-04 holds (2026-07-28 only) and the server behaves: it passes.
    fault: 'rs-modern-only',
    revision: '2026-07-28',
    expect: { 'RS-TRN-04': ['pass', /GET and DELETE are answered 405/] },
  },
  {
    fault: 'rs-get-404',
    revision: '2025-11-25',
    expect: {
      'RS-TRN-05': [
        'fail',
        /GET with Accept: text\/event-stream was answered 404 .*neither an SSE stream nor 405/,
      ],
    },
  },
  {
    fault: 'rs-get-404',
    revision: '2025-06-18',
    expect: { 'RS-TRN-05': ['fail', /answered 404/] },
  },
  {
    fault: 'rs-session-authenticates',
    revision: '2025-06-18',
    expect: { 'RS-SESS-01': ['fail', /only the session id was served/] },
  },
  {
    fault: 'rs-session-not-bound',
    revision: '2025-11-25',
    expect: { 'RS-SESS-02': ['warn', /user B's token was served in user A's session/] },
  },
  {
    fault: 'rs-request-state-unverified',
    revision: '2026-07-28',
    expect: {
      'RS-SESS-04': [
        'fail',
        /user B's token with user A's requestState finished A's request .*acted as authentication.*one character changed was accepted/,
      ],
    },
  },
  {
    fault: 'rs-session-id-predictable',
    revision: '2025-06-18',
    expect: { 'RS-SESS-03': ['fail', /counter or a clock/] },
  },
  {
    fault: 'rs-initialize-public-only',
    revision: '2025-06-18',
    expect: {
      'RS-PUB-01': ['warn', /handshake is split/],
      'RS-PUB-04': ['warn', /lazy auth/],
      'RS-PUB-02': ['pass', /401/],
    },
  },
  {
    fault: 'rs-tools-call-public',
    revision: '2026-07-28',
    expect: { 'RS-PUB-02': ['fail', /tools\/call → 200 .* without a token/], 'RS-PUB-03': ['pass', /./] },
  },
  {
    fault: 'rs-auth-disabled',
    revision: '2025-06-18',
    expect: {
      'RS-PUB-02': ['fail', /metadata at .* names/],
      'RS-PUB-04': ['warn', /no JSON-RPC method needs a token/],
    },
  },
  {
    fault: 'rs-auth-disabled',
    revision: '2026-07-28',
    expect: { 'RS-PUB-04': ['warn', /clients waiting for a 401 never sign in/] },
  },
  {
    fault: 'rs-catalogue-public',
    revision: '2026-07-28',
    expect: { 'RS-PUB-03': ['warn', /tools\/list → 200 .*resources\/list.*prompts\/list/] },
  },
  {
    fault: 'rs-catalogue-public',
    revision: '2025-11-25',
    expectPublic: ['tools/list', 'resources/list', 'prompts/list'],
    expect: { 'RS-PUB-03': ['pass', /except those declared public/] },
  },
];

describe('each named fault turns its check red', () => {
  for (const c of CASES) {
    const label = `${c.fault} (${c.revision}${c.expectPublic ? ', declared public' : ''}) → ${Object.entries(
      c.expect,
    )
      .map(([id, [status]]) => `${id} ${status}`)
      .join(', ')}`;
    it(label, async () => {
      const results = await runAgainstEmbedded(Object.keys(c.expect).map(byId), {
        faults: faultParts(c.fault),
        revision: c.revision,
        ...(c.expectPublic ? { expectPublic: c.expectPublic } : {}),
      });
      expect(results.map((r) => r.id).sort()).toEqual(Object.keys(c.expect).sort());
      for (const r of results) {
        const [status, message] = c.expect[r.id]!;
        expect(r.status, summarize([r])).toBe(status);
        expect(r.message).toMatch(message);
      }
    });
  }

  it('every fault a check names is exercised above', () => {
    const proven = new Set(
      CASES.flatMap((c) =>
        Object.entries(c.expect)
          .filter(([, [status]]) => status === 'fail' || status === 'warn')
          .map(([id]) => `${id} ${c.fault}`),
      ),
    );
    const missing = CHECKS.flatMap((check) =>
      check.faults.map((f) => `${check.id} ${f}`).filter((pair) => !proven.has(pair)),
    );
    expect(missing).toEqual([]);
  });
});

describe('analyseIds (RS-SESS-03 heuristics)', () => {
  it('flags a counter and a clock, not random ids', () => {
    const counter = Array.from({ length: 20 }, (_, i) => `session-${i + 1}`);
    expect(analyseIds(counter).pattern).toMatch(/counter or a clock/);
    const clock = Array.from({ length: 20 }, (_, i) => `s${1_700_000_000_000 + i * 3}x`);
    expect(analyseIds(clock).pattern).toBeDefined();
    const random = Array.from({ length: 20 }, () => crypto.getRandomValues(new Uint8Array(32))).map((b) =>
      Buffer.from(b).toString('base64url'),
    );
    const analysis = analyseIds(random);
    expect(analysis.pattern).toBeUndefined();
    expect(analysis.duplicates).toBe(0);
    expect(analysis.estimatedBits).toBeGreaterThanOrEqual(128);
    expect(analyseIds(counter).estimatedBits).toBeLessThan(128);
  });

  it('counts duplicates', () => {
    expect(analyseIds(['a1b2', 'a1b2', 'zzzz']).duplicates).toBe(1);
  });
});

describe('argumentsFor (privileged-tool probes)', () => {
  it('fills each required property with a value of its type, and nothing else', () => {
    expect(
      argumentsFor({
        type: 'object',
        properties: {
          text: { type: 'string' },
          n: { type: 'integer', minimum: 3 },
          flag: { type: 'boolean' },
          mode: { enum: ['a', 'b'] },
          optional: { type: 'string' },
        },
        required: ['text', 'n', 'flag', 'mode'],
      }),
    ).toEqual({ text: 'mcp-auth-conformance probe', n: 3, flag: false, mode: 'a' });
    expect(argumentsFor(undefined)).toEqual({});
  });
});

describe('RS-403-05 scope hierarchies', () => {
  it('skips, saying how to declare the hierarchy, when none is declared', async () => {
    const [result] = await runAgainstEmbedded([byId('RS-403-05')], { scopeImplies: {} });
    expect(result?.status, summarize(result ? [result] : [])).toBe('skip');
    expect(result?.message).toMatch(/hierarchy .* unknown/);
    expect(JSON.stringify(result)).toMatch(/--scope-implies BROAD=NARROW/);
  });

  it('skips when no declared broad scope implies what the operation needs', async () => {
    const [result] = await runAgainstEmbedded([byId('RS-403-05')], { scopeImplies: { 'x:all': ['x:read'] } });
    expect(result?.status).toBe('skip');
    expect(result?.message).toMatch(/no declared broad scope implies any of them/);
  });

  it('broaderScopeRequest swaps the implied scopes for the broad one, preferring the broadest', () => {
    expect(broaderScopeRequest(['mcp:tools', 'mcp:write'], { 'mcp:admin': ['mcp:write'] })).toEqual({
      broad: 'mcp:admin',
      replaced: ['mcp:write'],
      scope: ['mcp:admin', 'mcp:tools'],
    });
    expect(broaderScopeRequest(['a', 'b', 'c'], { 'x:1': ['a'], 'x:2': ['a', 'b'] })?.scope).toEqual([
      'x:2',
      'c',
    ]);
    expect(broaderScopeRequest(['a'], { b: ['c'] })).toBeUndefined();
    // The operation already asks for the broad scope: nothing to swap.
    expect(broaderScopeRequest(['all', 'a'], { all: ['a'] })).toBeUndefined();
  });
});

describe('--scope-implies (RS-403-05 operator input)', () => {
  it('parses repeatable BROAD=NARROW[,NARROW] into one hierarchy', () => {
    const { config } = loadRunConfig(
      ['--scope-implies', 'files:*=files:read,files:write', '--scope-implies', 'files:*=files:list'],
      '/nonexistent-dir',
    );
    expect(config.scopeImplies).toEqual({ 'files:*': ['files:read', 'files:write', 'files:list'] });
    expect(loadRunConfig([], '/nonexistent-dir').config.scopeImplies).toEqual({});
  });

  it('refuses a malformed declaration or a scope that is not a scope token', () => {
    expect(() => loadRunConfig(['--scope-implies', 'files:*'], '/nonexistent-dir')).toThrow(UsageError);
    expect(() => loadRunConfig(['--scope-implies', '=files:read'], '/nonexistent-dir')).toThrow(
      /BROAD=NARROW/,
    );
    expect(() => loadRunConfig(['--scope-implies', 'a"b=c'], '/nonexistent-dir')).toThrow(/scope token/);
  });
});

describe('RS-SESS-04 state handles', () => {
  it('skips, saying how to name the tool, when no state tool is known', async () => {
    const [result] = await runAgainstEmbedded([byId('RS-SESS-04')], { stateTool: '' });
    expect(result?.status).toBe('skip');
    expect(JSON.stringify(result)).toMatch(/--state-tool NAME/);
  });

  it('skips when the named tool answers without a state handle', async () => {
    const [result] = await runAgainstEmbedded([byId('RS-SESS-04')], { stateTool: 'echo' });
    expect(result?.status).toBe('skip');
    expect(result?.message).toMatch(/not input_required with a requestState/);
  });

  it('the clean run refuses B, no token and a tampered state, and completes A (data)', async () => {
    const [result] = await runAgainstEmbedded([byId('RS-SESS-04')]);
    expect(result?.status, summarize(result ? [result] : [])).toBe('pass');
    expect(result?.data.replies).toEqual({
      userB: '200 with JSON-RPC error -32602 (Invalid or expired requestState)',
      noToken: '401',
      tampered: '200 with JSON-RPC error -32602 (Invalid or expired requestState)',
      controlUserA: '200 with a JSON-RPC result',
    });
  });

  it('answersFor accepts a form elicitation with its confirmations given, and answers roots and sampling', () => {
    expect(
      answersFor({
        confirm: {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            requestedSchema: {
              type: 'object',
              properties: { confirm: { type: 'boolean' }, why: { type: 'string' } },
              required: ['confirm', 'why'],
            },
          },
        },
        roots: { method: 'roots/list' },
        link: { method: 'elicitation/create', params: { mode: 'url', url: 'https://x.example' } },
      }),
    ).toEqual({
      confirm: { action: 'accept', content: { confirm: true, why: 'mcp-auth-conformance probe' } },
      roots: { roots: [] },
      link: { action: 'accept' },
    });
    expect(answersFor(undefined)).toEqual({});
  });

  it('tamperState changes exactly one character, inside a trailing MAC, never the last one', () => {
    const wire = 'v1.eyJwIjp7fX0.JTrDnrg06SBoj_TSCwdpMgDm6aASd71dH3V_On9uFIE';
    const tampered = tamperState(wire);
    expect(tampered).toHaveLength(wire.length);
    const changed = [...wire].flatMap((c, i) => (tampered[i] !== c ? [i] : []));
    expect(changed).toEqual([wire.length - 5]);
    expect(tamperState('a.b-_')).not.toBe('a.b-_');
  });
});
