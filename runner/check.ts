// What a check is, and what it may use while it runs.
//
// A check is one requirement row of ../shared/requirements.md (its ID is the row's ID). It probes
// the target and reports what it OBSERVED (t.conforms / t.violated / t.notApplicable / ...); the
// engine turns the observations into a status, using the requirement's level (DESIGN.md §Anatomy
// of a check). A check never decides "pass" or "fail" itself, so the mapping stays in one place.

import type { FixtureValues, Grant } from './fixtures.ts';
import type { Exchange, HttpClient } from './http.ts';
import { REVISIONS, type Revision } from './revisions.ts';

export type Level = 'MUST' | 'SHOULD' | 'MAY';

/** The BCP 14 keywords (RFC 2119, RFC 8174), as they stand in a normative sentence. */
export const BCP14_KEYWORDS = [
  'MUST NOT',
  'MUST',
  'REQUIRED',
  'SHALL NOT',
  'SHALL',
  'SHOULD NOT',
  'SHOULD',
  'NOT RECOMMENDED',
  'RECOMMENDED',
  'MAY',
  'OPTIONAL',
] as const;
export type Bcp14Keyword = (typeof BCP14_KEYWORDS)[number];

/** MUST / MUST NOT / REQUIRED / SHALL → MUST; SHOULD / RECOMMENDED (and NOT) → SHOULD; MAY / OPTIONAL → MAY. */
export function levelOfKeyword(keyword: Bcp14Keyword): Level {
  switch (keyword) {
    case 'MUST':
    case 'MUST NOT':
    case 'REQUIRED':
    case 'SHALL':
    case 'SHALL NOT':
      return 'MUST';
    case 'SHOULD':
    case 'SHOULD NOT':
    case 'RECOMMENDED':
    case 'NOT RECOMMENDED':
      return 'SHOULD';
    case 'MAY':
    case 'OPTIONAL':
      return 'MAY';
  }
}

/** The party a normative sentence binds. Only sentences that bind the server under test can fail it. */
export const PARTIES = ['authorization-server', 'resource-server', 'client', 'context'] as const;
export type Party = (typeof PARTIES)[number];

/**
 * One normative sentence a check enforces, copied from the specification itself (never from
 * memory): the document, the section, the sentence as written, its BCP 14 keyword and the party
 * it binds. MCP sources name their revision (`MCP 2025-11-25`): such a quote only sets the level
 * of that revision (a rule of a later revision never judges a server that does not speak it).
 */
export interface Quote {
  /** 'RFC 9728', 'RFC 6750', 'OAuth 2.1 draft-13', 'MCP 2025-06-18', 'MCP 2026-07-28', 'CIMD draft-00', ... */
  source: string;
  /** '3.3', '4.1.2.1', 'Authorization Server Discovery' (the heading in the MCP text). */
  section: string;
  /** The sentence as written in the source (whitespace collapsed), containing `keyword`. */
  text: string;
  /** The keyword of the sentence that binds `binds`; absent only for `context` quotes (definitions). */
  keyword?: Bcp14Keyword;
  binds: Party;
}

/** The MCP revision a quote's source names (`MCP 2025-11-25` → 2025-11-25), if any. */
export function quoteRevision(quote: Quote): Revision | undefined {
  const m = /^MCP (\d{4}-\d{2}-\d{2})\b/.exec(quote.source);
  return m && (REVISIONS as readonly string[]).includes(m[1]!) ? (m[1] as Revision) : undefined;
}

const LEVEL_RANK: Record<Level, number> = { MAY: 0, SHOULD: 1, MUST: 2 };

/**
 * The level a check's rule has in `revision`, derived from its quotes: the strongest keyword
 * among the sentences that bind a server and apply to that revision (quotes of another MCP
 * revision do not). A `conflict` caps it at SHOULD (two sentences disagree: the check warns and
 * quotes both); a `derived` rule (no sentence states it) is the declared level, at most SHOULD.
 * Undefined when no binding sentence applies to the revision (the check has no rule there).
 */
export function derivedLevel(
  basis: Pick<CheckDefinition, 'quotes' | 'derived' | 'conflict' | 'level'>,
  revision: Revision,
): Level | undefined {
  if (basis.derived !== undefined) return basis.level === 'MUST' ? 'SHOULD' : basis.level;
  let best: Level | undefined;
  for (const q of basis.quotes ?? []) {
    if (q.binds === 'client' || q.binds === 'context' || !q.keyword) continue;
    const rev = quoteRevision(q);
    if (rev !== undefined && rev !== revision) continue;
    const level = levelOfKeyword(q.keyword);
    if (best === undefined || LEVEL_RANK[level] > LEVEL_RANK[best]) best = level;
  }
  if (best !== undefined && basis.conflict !== undefined && best === 'MUST') return 'SHOULD';
  return best;
}

/**
 * The level the engine judges a check by in `revision`: the level its quotes give that revision,
 * else (no quote for it, or a check not yet quoted) its declared level.
 */
export function levelFor(
  check: Pick<CheckDefinition, 'quotes' | 'derived' | 'conflict' | 'level'>,
  revision: Revision,
): Level {
  return derivedLevel(check, revision) ?? check.level;
}
export type Status = 'pass' | 'fail' | 'warn' | 'skip' | 'error' | 'info';
export const STATUSES: readonly Status[] = ['pass', 'fail', 'warn', 'skip', 'error', 'info'];
export const LEVELS: readonly Level[] = ['MUST', 'SHOULD', 'MAY'];

/**
 * Fixtures a check can ask for (runner/fixtures.ts builds them). Their value types live in
 * fixtures.ts; here they are only names, so checks can be listed without touching the network.
 * All are shared by the run except `own-client`: a client registered for the asking check alone,
 * so that no other check's authorization can disturb its grants (an AS may legally revoke every
 * earlier grant of a client when a new authorization completes). A check that redeems codes,
 * refreshes, revokes or races uses it; where the target offers no registration it is the shared
 * client, and the engine runs such checks one at a time (issue #12 §Isolation).
 */
export const FIXTURE_NAMES = [
  'prm',
  'as',
  'client',
  'second-client',
  'token',
  'token-user-b',
  'minter',
  'protected-request',
  'scope',
  'own-client',
  'token-other-resource',
  'token-no-resource',
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** Options of the run a check may read (never secrets: those stay in the fixtures). */
export interface CheckOptions {
  strict: boolean;
  /** True when the target is the reference server the runner started itself. */
  embedded: boolean;
  /** Per-request time bound in ms. */
  requestTimeoutMs: number;
  /** JSON-RPC methods the operator declared public (`--expect-public`): RS-PUB checks do not warn about them. */
  expectPublic: readonly string[];
  /** A tool the operator says needs more scope than the default token has (`--privileged-tool`): RS-403 probes it. */
  privilegedTool?: string;
  /**
   * The target's scope hierarchy as the operator declared it (`--scope-implies BROAD=NARROW,…`):
   * a token holding the key scope may do what each listed scope allows. RS-403-05 probes it.
   */
  scopeImplies?: Readonly<Record<string, readonly string[]>>;
  /**
   * A tool that answers a first call with `input_required` and a `requestState` (MCP 2026-07-28
   * multi-round-trip), named by the operator (`--state-tool`): RS-SESS-04 replays its state.
   */
  stateTool?: string;
  /** The operator allows the AS-RACE burst probes against a non-loopback target (`--allow-races`). */
  allowRaces?: boolean;
  /**
   * Seconds AS-AUTHZ-12 waits between getting a code and redeeming it (`--code-lifetime-wait`): the
   * longest code lifetime the operator accepts. Absent or 0: the check skips.
   */
  codeLifetimeWaitSeconds?: number;
  /**
   * Where the operator publishes the harness's client metadata documents (`--cimd-url-base`,
   * `--cimd-out`); absent: a loopback listener of the harness (runner/cimd-host.ts).
   */
  cimdPublishing?: { urlBase: string; dir: string };
  /**
   * The harness knows the AS fetches its http://127.0.0.1 documents (it started that AS itself,
   * with loopback metadata-document fetches allowed), so a document the AS never fetched is the
   * AS's own doing. Otherwise an unfetched loopback document proves nothing (as-cimd.ts).
   */
  cimdLoopbackFetch?: boolean;
}

/** How a check records what it saw. Every method may be called more than once. */
export interface Observations {
  /** The target does what the requirement asks (for this probe). */
  conforms(message: string): void;
  /**
   * The target breaks the requirement; `exchanges` are extra evidence ids (the check's own are
   * linked anyway). `level` judges a secondary property at a lower level than the check's (an
   * invalid-token 401 that lacks `error="invalid_token"`: RFC 6750 §3.1 SHOULD), never higher;
   * the check's quotes must include the sentence that gives it.
   */
  violated(message: string, evidence?: { exchanges?: readonly (string | Exchange)[]; level?: Level }): void;
  /** The requirement does not apply to this target (feature absent, revision excludes it). */
  notApplicable(reason: string): void;
  /** The check needs something the operator did not provide; say how to provide it. */
  prerequisiteMissing(reason: string, howToProvide: string): void;
  /** Something worth reporting that is not a verdict (MAY behaviour, a measurement). */
  observe(message: string): void;
  /**
   * The check cannot conclude: its control (the same request without the one change) did not
   * succeed, or a race had no winner. Ends `skip` with the reason, never pass or fail, unless a
   * violation was also observed. `suspect` names a shared fixture whose state another check may
   * have changed (the shared token stopped working): the engine then renews it and re-runs the
   * check alone once, and says so in the result.
   */
  inconclusive(reason: string, options?: { suspect?: FixtureName }): void;
}

/** What `run(t)` receives. */
export interface CheckContext extends Observations {
  /** An HttpClient whose exchanges are linked to this check's result. */
  readonly http: HttpClient;
  /** The MCP endpoint URL under test. */
  readonly target: string;
  readonly revision: Revision;
  readonly options: Readonly<CheckOptions>;
  /** Aborted when the check's time bound is reached: pass it to any wait of your own. */
  readonly signal: AbortSignal;
  /** A shared fixture, created once per run on first use. Unavailable → the check ends as skip/error. */
  fixture<K extends FixtureName>(name: K): Promise<FixtureValues[K]>;
  /** Like `fixture`, but resolves `undefined` instead of ending the check when it is unavailable. */
  optionalFixture<K extends FixtureName>(name: K): Promise<FixtureValues[K] | undefined>;
  /** A new authorization flow of its own, for checks that consume or revoke what they get. */
  freshGrant(opts?: { scope?: string; loginHint?: string; extraParams?: [string, string][] }): Promise<Grant>;
  /**
   * Sends an authorization URL the check built itself (a negative probe, or a flow whose code it
   * redeems on its own terms) through the run's login driver, and resolves with the callback URL
   * (code or error). The URL's redirect_uri must be the harness's own (the `client` fixture's
   * first redirect URI), where the login driver waits. Rejects with the driver's LoginError when
   * the authorization server never redirects back (e.g. it shows an error page).
   */
  authorize(url: URL, options?: { onExchange?: (exchange: Exchange) => void }): Promise<URL>;
  /**
   * A probe whose answer several checks only read (an authorization response to inspect for
   * `iss`, say): made once per run under `key`, by the first check that asks, and shared; its
   * exchanges are evidence of every check that uses it (issue #15 §4: fewer authorization flows).
   * Never for anything a check consumes or changes: that is what `own-client` grants are for.
   */
  shared<T>(key: string, create: (probe: ProbeContext) => Promise<T>): Promise<T>;
  /** A line of explanation for the report. */
  note(text: string): void;
  /** Structured details for the report (a classification, a table); redacted like everything else. */
  data(key: string, value: unknown): void;
}

/** What a shared probe may use: the HTTP client and the login step, nothing of one check's own. */
export type ProbeContext = Pick<CheckContext, 'http' | 'authorize'>;

export interface CheckDefinition {
  /** The row ID in ../shared/requirements.md; stable forever. */
  id: string;
  title: string;
  level: Level;
  /** Spec sections the rule comes from ("RFC9728 §3", "MCP 2025-06-18 authorization"). */
  refs: readonly string[];
  /**
   * The normative sentences the check enforces, as written (see Quote). The check's `level` is
   * the one they give its newest revision (derivedLevel); test/matrix/quotes.test.ts enforces it.
   */
  quotes?: readonly Quote[];
  /**
   * Set instead of binding quotes when no sentence states the rule and it is derived from others:
   * one line of reasoning. A derived rule is at most SHOULD.
   */
  derived?: string;
  /**
   * Set when two sentences of the specs disagree on this rule (both are quoted): one line saying
   * how. The check then judges at most SHOULD (warn), and its message quotes both.
   */
  conflict?: string;
  revisions: readonly Revision[];
  /** Fixtures the check uses; resolved before `run`, so a missing one ends the check with its reason. */
  needs: readonly FixtureName[];
  /** Reference-server faults that must make this check fail (or warn, for SHOULD). */
  faults: readonly string[];
  /**
   * The revision in which a fault shows, for faults that break a rule of some revisions only (a
   * missing resource_metadata is a MUST violation in 2025-06-18 only). The fault matrix runs that
   * pair in this revision instead of the newest one the check applies to.
   */
  faultRevisions?: Readonly<Record<string, Revision>>;
  /**
   * The level at which a fault shows, for a fault that breaks a secondary property the check
   * judges below its own level (`t.violated(…, { level })`): the fault matrix then expects that
   * level's status (warn for SHOULD) instead of the check's.
   */
  faultLevels?: Readonly<Record<string, Level>>;
  /** The requirement in our own words. */
  requirement: string;
  /** What to change in the target when the check does not pass. */
  remediation: string;
  /** One line: what the check sends. */
  probe?: string;
  /**
   * The check's control, in one or two sentences (DESIGN.md §Anatomy of a check: a refusal proves
   * nothing without the same request minus the one change succeeding at that moment): which request
   * is the control and what its success shows. A check that judges no refusal says why it needs
   * none, starting with exactly "None: ". test/matrix/controls.test.ts holds the text to the code.
   */
  control: string;
  /** Why the check cannot run against the embedded reference server when it auto-approves (it then skips there). */
  expectedSkipInEmbedded?: string;
  /**
   * Why no reference-server fault can make this check fail (black-box untestable, e.g. a token
   * forwarded upstream). The fault matrix (issue #7) accepts a check without faults only when it is
   * MAY-level or says why here.
   */
  untestable?: string;
  run(t: CheckContext): Promise<void>;
}

/** A registered check; `defineCheck` validates its metadata when the suite module loads. */
export type Check = Readonly<CheckDefinition>;

const ID_PATTERN = /^[A-Z]+(-[A-Z0-9]+)+$/;

export class CheckDefinitionError extends Error {
  override name = 'CheckDefinitionError';
}

/**
 * Declares a check. Metadata mistakes (a bad ID, no refs, no revisions, an empty requirement)
 * throw at import time, so a broken check can never be silently skipped by the registry.
 */
export function defineCheck(definition: CheckDefinition): Check {
  const problems: string[] = [];
  if (!ID_PATTERN.test(definition.id)) problems.push(`id "${definition.id}" is not like RS-PRM-01`);
  if (!definition.title.trim()) problems.push('title is empty');
  if (definition.refs.length === 0) problems.push('refs is empty: cite the spec section');
  if (definition.revisions.length === 0) problems.push('revisions is empty');
  if (!definition.requirement.trim()) problems.push('requirement is empty');
  if (!definition.remediation.trim()) problems.push('remediation is empty');
  for (const [fault, revision] of Object.entries(definition.faultRevisions ?? {})) {
    if (!definition.faults.includes(fault))
      problems.push(`faultRevisions names "${fault}", which is not in faults`);
    if (!definition.revisions.includes(revision))
      problems.push(`faultRevisions puts "${fault}" in ${revision}, a revision the check does not apply to`);
  }
  for (const fault of Object.keys(definition.faultLevels ?? {})) {
    if (!definition.faults.includes(fault))
      problems.push(`faultLevels names "${fault}", which is not in faults`);
  }
  if (definition.untestable !== undefined && definition.faults.length > 0) {
    problems.push(
      'untestable is set but faults are named: a fault that turns the check red proves it testable',
    );
  }
  for (const need of definition.needs) {
    if (!(FIXTURE_NAMES as readonly string[]).includes(need)) problems.push(`unknown fixture "${need}"`);
  }
  if (problems.length > 0) {
    throw new CheckDefinitionError(`check ${definition.id}: ${problems.join('; ')}`);
  }
  return Object.freeze({ ...definition });
}

/**
 * Thrown by a fixture that cannot be provided. `skip`: the target lacks the feature or the
 * operator did not supply what it needs (`howToProvide` says how); `error`: the harness failed.
 */
export class FixtureUnavailable extends Error {
  override name = 'FixtureUnavailable';
  constructor(
    readonly kind: 'skip' | 'error',
    readonly reason: string,
    readonly howToProvide?: string,
  ) {
    super(reason);
  }
}
