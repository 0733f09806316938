// Every check quotes the rule it enforces (issue #13 item 1): at least one normative sentence that
// binds the server under test, or a `derived` reason; and its level is the one those sentences give
// in every revision it runs in. The rules live in quote-rules.ts (unit-tested there).

import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../suites/index.ts';
import { QUOTE_PROBLEM_KINDS, quoteProblems } from './quote-rules.ts';

const problems = CHECKS.flatMap(quoteProblems);

describe('every check quotes its rule', () => {
  it('every check has a quote that binds a server, or a derived reason', () => {
    const unquoted = problems.filter((p) => p.kind === 'unquoted').map((p) => p.check);
    expect(unquoted, `${unquoted.length} check(s) without quotes: ${unquoted.join(', ')}`).toEqual([]);
  });

  it.each(QUOTE_PROBLEM_KINDS.filter((k) => k !== 'unquoted'))('no %s', (kind) => {
    expect(problems.filter((p) => p.kind === kind).map((p) => p.message)).toEqual([]);
  });
});
