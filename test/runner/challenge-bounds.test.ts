// The challenge parser against a hostile WWW-Authenticate (runner/www-authenticate.ts): a header
// of thousands of defects gives a few sentences and a count, each quoting an excerpt, never the
// whole header, and parsing stays linear in the header's length.

import { describe, expect, it } from 'vitest';
import { MAX_PROBLEMS, parseWwwAuthenticate } from '../../runner/www-authenticate.ts';

/** ~15 KB of defects of every kind the parser reports. */
function challengeBomb(): string {
  const parts: string[] = ['Bearer'];
  for (let i = 0; i < 600; i++) parts.push(`realm=r${i}`, `scope="a  b"`, `x=http://u/${i}`, '"', '=v');
  return parts.join(', ');
}

describe('a hostile WWW-Authenticate', () => {
  it('gives at most a few problems plus a count, each a short sentence', () => {
    const header = challengeBomb();
    expect(header.length).toBeGreaterThan(12_000);
    const { problems } = parseWwwAuthenticate([header]);
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems.at(-1)).toMatch(/^and \d+ more defect\(s\) of the same header, not listed$/);
    const dropped = Number(/and (\d+) more/.exec(problems.at(-1)!)![1]);
    expect(dropped).toBeGreaterThan(1000);
    for (const p of problems) expect(p.length).toBeLessThan(400);
  });

  it('quotes an excerpt of a long value, with its length', () => {
    const long = `https://x/${'a'.repeat(5000)}`;
    const { problems } = parseWwwAuthenticate([`Bearer resource_metadata=${long}`]);
    expect(problems[0]).toContain(`(${long.length} characters)`);
    expect(problems[0]!.length).toBeLessThan(300);
  });

  it('parses in time linear in the length: 16 KB of token68 challenges in well under a second', () => {
    const header = Array.from({ length: 2000 }, (_, i) => `S${i} abc=`).join(', ');
    const started = performance.now();
    const parse = parseWwwAuthenticate([header]);
    expect(performance.now() - started).toBeLessThan(500);
    expect(parse.challenges).toHaveLength(2000);
  });
});
