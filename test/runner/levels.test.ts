// Levels come from the normative sentences a check quotes (runner/check.ts derivedLevel): the
// strongest keyword that binds a server, per MCP revision; client sentences never count; a
// conflict or a derived rule is at most SHOULD.

import { describe, expect, it } from 'vitest';
import { derivedLevel, levelFor, levelOfKeyword, type Quote } from '../../runner/check.ts';

const rfc = (keyword: Quote['keyword'], binds: Quote['binds'] = 'resource-server'): Quote => ({
  source: 'RFC 6750',
  section: '3.1',
  text: `The resource server ${keyword} do it.`,
  ...(keyword ? { keyword } : {}),
  binds,
});
const mcp = (revision: string, keyword: Quote['keyword']): Quote => ({
  source: `MCP ${revision}`,
  section: 'Authorization',
  text: `MCP servers ${keyword} do it.`,
  ...(keyword ? { keyword } : {}),
  binds: 'resource-server',
});

describe('levels from quotes', () => {
  it('maps every BCP 14 keyword', () => {
    expect(levelOfKeyword('MUST NOT')).toBe('MUST');
    expect(levelOfKeyword('REQUIRED')).toBe('MUST');
    expect(levelOfKeyword('SHALL')).toBe('MUST');
    expect(levelOfKeyword('NOT RECOMMENDED')).toBe('SHOULD');
    expect(levelOfKeyword('RECOMMENDED')).toBe('SHOULD');
    expect(levelOfKeyword('OPTIONAL')).toBe('MAY');
  });

  it('takes the strongest sentence that binds a server; a client sentence does not count', () => {
    const basis = { level: 'MUST' as const, quotes: [rfc('SHOULD'), rfc('MUST', 'client')] };
    expect(derivedLevel(basis, '2026-07-28')).toBe('SHOULD');
    expect(derivedLevel({ level: 'MUST', quotes: [rfc('MUST', 'client')] }, '2026-07-28')).toBeUndefined();
  });

  it('an MCP sentence sets the level of its own revision only', () => {
    const basis = {
      level: 'MUST' as const,
      quotes: [mcp('2025-06-18', 'SHOULD'), mcp('2025-11-25', 'MUST')],
    };
    expect(derivedLevel(basis, '2025-06-18')).toBe('SHOULD');
    expect(derivedLevel(basis, '2025-11-25')).toBe('MUST');
    expect(derivedLevel(basis, '2026-07-28')).toBeUndefined();
    expect(levelFor(basis, '2026-07-28')).toBe('MUST');
  });

  it('a conflict and a derived rule are at most SHOULD', () => {
    expect(
      derivedLevel({ level: 'MUST', quotes: [rfc('MUST'), rfc('MAY')], conflict: 'x' }, '2026-07-28'),
    ).toBe('SHOULD');
    expect(derivedLevel({ level: 'MUST', derived: 'because' }, '2026-07-28')).toBe('SHOULD');
    expect(derivedLevel({ level: 'MAY', derived: 'because' }, '2026-07-28')).toBe('MAY');
  });
});
