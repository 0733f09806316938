// The MCP specification revisions the harness knows. Checks declare which ones they apply to;
// `--spec` picks one per run (default: the newest), and the report states which was used.

export const REVISIONS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];
export const LATEST_REVISION: Revision = '2026-07-28';

export function isRevision(value: string): value is Revision {
  return (REVISIONS as readonly string[]).includes(value);
}

/** 2026-07-28 is stateless: no `initialize`, no sessions, `server/discover`, `Mcp-Method` headers. */
export function isStateless(revision: Revision): boolean {
  return revision === '2026-07-28';
}

/** Revisions from `from` on (inclusive), for check metadata: `since('2025-11-25')`. */
export function since(from: Revision): Revision[] {
  return REVISIONS.slice(REVISIONS.indexOf(from));
}
