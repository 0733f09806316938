// The rules every check's quotes obey (issue #13 item 1), in one place: test/matrix/quotes.test.ts
// applies them to the registry, test/matrix/quote-rules.test.ts shows they catch bad metadata.
//
// A check states its rule with quotes (runner/check.ts Quote): the normative sentences as written,
// each with the BCP 14 keyword of the party it binds. Its level is the one those sentences give
// (derivedLevel), in every revision it runs in; a rule no sentence states is `derived` and at most
// SHOULD; two sentences that disagree make a `conflict`, judged at most SHOULD.

import { BCP14_KEYWORDS, type Check, derivedLevel, type Quote } from '../../runner/check.ts';
import { REVISIONS, type Revision } from '../../runner/revisions.ts';
import { matrixRevision } from '../../scripts/matrix-plan.ts';

export const QUOTE_PROBLEM_KINDS = [
  'unquoted',
  'malformed-quote',
  'keyword-not-in-text',
  'no-level-for-revision',
  'level-mismatch',
  'conflict-without-two-quotes',
  'derived-or-conflict-above-should',
  'fault-on-may',
] as const;
export type QuoteProblemKind = (typeof QUOTE_PROBLEM_KINDS)[number];

export interface QuoteProblem {
  kind: QuoteProblemKind;
  check: string;
  message: string;
}

/**
 * The names sources go by (shared by every suite, so a reader can tell where a sentence is from):
 * RFCs by number, the OAuth 2.1 draft and the MCP revisions the harness knows, the Client ID
 * Metadata Document draft by its version, and the WHATWG Fetch standard (CORS).
 */
const SOURCE = new RegExp(
  `^(RFC \\d{3,5}|OAuth 2\\.1 draft-13|MCP (${REVISIONS.join('|')})|CIMD draft-\\d{2}|Fetch)$`,
);

const isServer = (q: Quote) => q.binds === 'authorization-server' || q.binds === 'resource-server';

/** The newest revision a check applies to: its level must be the one its quotes give there. */
export function newestRevision(check: Check): Revision {
  return [...check.revisions].sort((a, b) => REVISIONS.indexOf(a) - REVISIONS.indexOf(b)).at(-1)!;
}

export function quoteProblems(check: Check): QuoteProblem[] {
  const problems: QuoteProblem[] = [];
  const add = (kind: QuoteProblemKind, message: string) =>
    problems.push({ kind, check: check.id, message: `${check.id}: ${message}` });
  const quotes = check.quotes ?? [];

  if (check.derived === undefined && !quotes.some((q) => isServer(q) && q.keyword)) {
    add('unquoted', 'no quote binds a server with a BCP 14 keyword, and no `derived` reason is given');
    return problems; // the other rules would only repeat this one
  }

  for (const q of quotes) {
    const where = `quote "${q.text.slice(0, 60)}…" (${q.source} §${q.section})`;
    if (!SOURCE.test(q.source)) add('malformed-quote', `${where}: unknown source name "${q.source}"`);
    if (q.section.trim() === '') add('malformed-quote', `${where}: no section`);
    if (q.text.trim() === '' || q.text !== q.text.trim() || /\s{2,}|\n|\*\*|`/.test(q.text))
      add('malformed-quote', `${where}: the text is not one collapsed sentence without markup`);
    if (q.binds !== 'context' && q.keyword === undefined)
      add('malformed-quote', `${where}: binds ${q.binds} but names no keyword`);
    if (q.keyword !== undefined && !(BCP14_KEYWORDS as readonly string[]).includes(q.keyword))
      add('malformed-quote', `${where}: "${q.keyword}" is not a BCP 14 keyword`);
    else if (q.keyword !== undefined && !new RegExp(`(^|[^A-Z])${q.keyword}([^A-Z]|$)`).test(q.text))
      add('keyword-not-in-text', `${where}: the keyword ${q.keyword} is not in the text as written`);
  }

  for (const [field, value] of [
    ['derived', check.derived],
    ['conflict', check.conflict],
  ] as const) {
    if (value !== undefined && (value.trim() === '' || value.includes('\n')))
      add('malformed-quote', `\`${field}\` must be one non-empty line of reasoning`);
  }

  for (const revision of check.revisions) {
    if (derivedLevel(check, revision) === undefined)
      add(
        'no-level-for-revision',
        `no sentence that binds a server applies to ${revision}, a revision the check runs in (quote that revision's own text)`,
      );
  }
  const newest = newestRevision(check);
  const level = derivedLevel(check, newest);
  if (level !== undefined && level !== check.level)
    add(
      'level-mismatch',
      `level is ${check.level}, but its quotes give ${level} in ${newest}${check.derived !== undefined ? ' (a derived rule is at most SHOULD)' : ''}${check.conflict !== undefined ? ' (a conflict is at most SHOULD)' : ''}`,
    );

  if (check.conflict !== undefined && quotes.length < 2)
    add('conflict-without-two-quotes', 'a conflict quotes both sentences, but the check has fewer than two');
  if ((check.derived !== undefined || check.conflict !== undefined) && check.level === 'MUST')
    add(
      'derived-or-conflict-above-should',
      `a ${check.derived !== undefined ? 'derived rule' : 'conflict'} is at most SHOULD, but the level is MUST`,
    );

  for (const fault of check.faults) {
    const revision = matrixRevision(check, fault);
    if (derivedLevel(check, revision) === 'MAY')
      add(
        'fault-on-may',
        `names fault ${fault}, but its rule is MAY in ${revision}: a MAY observation is info and can never turn red`,
      );
  }
  return problems;
}
