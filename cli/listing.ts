// The check catalogue as `list --json` prints it and the API's listChecks() returns it.

import { type Check, levelFor, type Quote } from '../runner/check.ts';
import type { Revision } from '../runner/revisions.ts';

export interface CheckListing {
  id: string;
  title: string;
  level: Check['level'];
  refs: string[];
  /** The level each revision's text gives the rule (an MCP sentence speaks for its own revision). */
  levelByRevision: Partial<Record<Revision, Check['level']>>;
  quotes?: Quote[];
  derived?: string;
  conflict?: string;
  revisions: Revision[];
  needs: string[];
  faults: string[];
  requirement: string;
  remediation: string;
  probe?: string;
  /** The check's control: the request without the one change, and what its success shows ("None: …" when no refusal is judged). */
  control: string;
  expectedSkipInEmbedded?: string;
}

/** The checks of `revision` (all when absent), in catalogue order, as plain JSON-able objects. */
export function checkListing(checks: readonly Check[], revision?: Revision): CheckListing[] {
  return checks
    .filter((c) => revision === undefined || c.revisions.includes(revision))
    .map((c) => ({
      id: c.id,
      title: c.title,
      level: c.level,
      refs: [...c.refs],
      levelByRevision: Object.fromEntries(c.revisions.map((r) => [r, levelFor(c, r)])),
      ...(c.quotes ? { quotes: [...c.quotes] } : {}),
      ...(c.derived !== undefined ? { derived: c.derived } : {}),
      ...(c.conflict !== undefined ? { conflict: c.conflict } : {}),
      revisions: [...c.revisions],
      needs: [...c.needs],
      faults: [...c.faults],
      requirement: c.requirement,
      remediation: c.remediation,
      ...(c.probe ? { probe: c.probe } : {}),
      control: c.control,
      ...(c.expectedSkipInEmbedded ? { expectedSkipInEmbedded: c.expectedSkipInEmbedded } : {}),
    }));
}
