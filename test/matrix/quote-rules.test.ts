// The quotes test's rules catch bad metadata: each case below breaks one rule of quote-rules.ts.

import { describe, expect, it } from 'vitest';
import { type CheckDefinition, defineCheck, type Quote } from '../../runner/check.ts';
import { REVISIONS } from '../../runner/revisions.ts';
import { type QuoteProblemKind, quoteProblems } from './quote-rules.ts';

const MUST_401: Quote = {
  source: 'RFC 6750',
  section: '3',
  text: 'The resource server MUST include the HTTP "WWW-Authenticate" response header field.',
  keyword: 'MUST',
  binds: 'resource-server',
};

function check(overrides: Partial<CheckDefinition>) {
  return defineCheck({
    id: 'RS-TEST-01',
    title: 'test',
    level: 'MUST',
    refs: ['RFC6750 §3'],
    quotes: [MUST_401],
    revisions: REVISIONS,
    needs: [],
    faults: ['rs-401-no-challenge'],
    requirement: 'r',
    remediation: 'r',
    control: 'None: a test check.',
    async run() {},
    ...overrides,
  });
}

const kinds = (overrides: Partial<CheckDefinition>): QuoteProblemKind[] =>
  quoteProblems(check(overrides)).map((p) => p.kind);

describe('quote rules', () => {
  it('accept a check whose level is the one its quotes give', () => {
    expect(kinds({})).toEqual([]);
  });

  it('catch a check without quotes or derived reason', () => {
    expect(kinds({ quotes: undefined })).toEqual(['unquoted']);
  });

  it('catch a check whose only quote binds the client', () => {
    expect(kinds({ quotes: [{ ...MUST_401, binds: 'client' }] })).toEqual(['unquoted']);
  });

  it('catch a level stronger than the sentence', () => {
    expect(kinds({ quotes: [{ ...MUST_401, text: 'It SHOULD be so.', keyword: 'SHOULD' }] })).toEqual([
      'level-mismatch',
    ]);
  });

  it('catch a level weaker than the sentence', () => {
    expect(kinds({ level: 'SHOULD' })).toEqual(['level-mismatch']);
  });

  it('catch a keyword that is not in the text as written', () => {
    expect(kinds({ quotes: [{ ...MUST_401, text: 'The resource server must include it.' }] })).toEqual([
      'keyword-not-in-text',
    ]);
    // "MUST" inside "MUSTER" is no keyword.
    expect(kinds({ quotes: [{ ...MUST_401, text: 'MUSTER the header.' }] })).toContain('keyword-not-in-text');
  });

  it('catch markup, line breaks, unknown sources and a server quote without keyword', () => {
    expect(kinds({ quotes: [MUST_401, { ...MUST_401, text: 'The **MUST** rule.' }] })).toContain(
      'malformed-quote',
    );
    expect(kinds({ quotes: [MUST_401, { ...MUST_401, text: 'Line one MUST\nline two.' }] })).toContain(
      'malformed-quote',
    );
    expect(kinds({ quotes: [{ ...MUST_401, source: 'RFC6750' }] })).toContain('malformed-quote');
    expect(kinds({ quotes: [{ ...MUST_401, source: 'MCP 2025-03-26' }] })).toContain('malformed-quote');
    const { keyword: _, ...noKeyword } = MUST_401;
    expect(kinds({ quotes: [MUST_401, noKeyword] })).toContain('malformed-quote');
  });

  it('catch an MCP sentence missing for a revision the check runs in', () => {
    const mcp = (revision: string): Quote => ({
      ...MUST_401,
      source: `MCP ${revision}`,
      section: 'Token Handling',
    });
    expect(kinds({ quotes: [mcp('2025-11-25'), mcp('2026-07-28')] })).toEqual(['no-level-for-revision']);
    expect(kinds({ quotes: REVISIONS.map(mcp) })).toEqual([]);
  });

  it('catch a derived or conflicting rule at MUST, and a conflict with one quote', () => {
    expect(kinds({ derived: 'no sentence says so' })).toEqual([
      'level-mismatch',
      'derived-or-conflict-above-should',
    ]);
    expect(kinds({ derived: 'no sentence says so', level: 'SHOULD' })).toEqual([]);
    expect(kinds({ conflict: 'two sentences disagree', level: 'SHOULD' })).toEqual([
      'conflict-without-two-quotes',
    ]);
    expect(
      kinds({
        conflict: 'two sentences disagree',
        level: 'SHOULD',
        quotes: [MUST_401, { ...MUST_401, text: 'It SHOULD be so.', keyword: 'SHOULD' }],
      }),
    ).toEqual([]);
  });

  it('catch a fault on a rule that is only MAY', () => {
    const may: Quote = { ...MUST_401, text: 'The server MAY do it.', keyword: 'MAY' };
    expect(kinds({ level: 'MAY', quotes: [may] })).toEqual(['fault-on-may']);
    expect(kinds({ level: 'MAY', quotes: [may], faults: [], untestable: 'MAY' })).toEqual([]);
  });
});
