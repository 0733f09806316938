// The engine: picks the checks of a run, runs them with bounded concurrency and time limits,
// shares fixtures between them, and turns what each check observed into a status.
//
// Status rules (DESIGN.md §Anatomy of a check; issue #4 §Engine), in one function (deriveStatus):
// - a violated MUST is `fail`; a violated SHOULD is `warn` (`fail` under --strict); a violated
//   or observed MAY is `info`;
// - `skip` (not applicable, or a prerequisite the operator did not provide) carries its reason;
// - `error` means the harness could not finish: a transport failure, a time bound, a bug. It is
//   never a target failure and never a pass. A check that ends without any verdict is an error.

import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Check,
  type CheckContext,
  type CheckOptions,
  type FixtureName,
  FixtureUnavailable,
  type Level,
  levelFor,
  type ProbeContext,
  type Quote,
  quoteRevision,
  type Status,
} from './check.ts';
import type { FixtureSource } from './fixtures.ts';
import type { RegisteredClient } from './oauth.ts';
import { type Exchange, type HttpClient, HttpTransportError, type RequestOptions } from './http.ts';
import { withLoginPurpose } from './login/shared.ts';
import type { Revision } from './revisions.ts';

export interface CheckResult {
  id: string;
  title: string;
  level: Level;
  status: Status;
  /** Why this status, in one or a few sentences. `skip` and `error` always have one. */
  message: string;
  refs: string[];
  /** The sentences the rule comes from that speak for the run's revision (every non-MCP source, and its own MCP text). */
  quotes?: Quote[];
  /** Why the rule is derived, when no sentence states it. */
  derived?: string;
  /** How two quoted sentences disagree, when they do. */
  conflict?: string;
  requirement: string;
  remediation: string;
  /** Ids of the exchanges that are evidence for this result (see report.exchanges). */
  exchanges: string[];
  durationMs: number;
  notes: string[];
  data: Record<string, unknown>;
  /** For a skip on a missing prerequisite: how the operator can provide it. */
  howToProvide?: string;
  /** Authorization flows (login steps) this check ran itself; shared fixtures' flows are not counted here. */
  authorizationFlows: number;
}

export interface Selection {
  revision: Revision;
  /** ID prefixes at a `-` boundary ("RS", "RS-PRM", "AS-PKCE-01"); empty = all. */
  only?: readonly string[];
  skip?: readonly string[];
}

/** True when `id` is `prefix` or starts with `prefix-` (so `RS-P` matches nothing). */
export function matchesPrefix(id: string, prefix: string): boolean {
  const p = prefix.trim().toUpperCase();
  return p.length > 0 && (id === p || id.startsWith(`${p}-`));
}

/** Checks of the revision, filtered by --only / --skip; also the prefixes that matched nothing. */
export function selectChecks(
  checks: readonly Check[],
  selection: Selection,
): { selected: Check[]; unmatched: string[] } {
  const only = selection.only ?? [];
  const skip = selection.skip ?? [];
  const unmatched = [...only, ...skip].filter((p) => !checks.some((c) => matchesPrefix(c.id, p)));
  const selected = checks.filter(
    (c) =>
      c.revisions.includes(selection.revision) &&
      (only.length === 0 || only.some((p) => matchesPrefix(c.id, p))) &&
      !skip.some((p) => matchesPrefix(c.id, p)),
  );
  return { selected, unmatched };
}

type Observation =
  | { kind: 'conforms' | 'observe'; message: string }
  | { kind: 'violated'; message: string; level?: Level }
  | { kind: 'inconclusive'; message: string; suspect?: FixtureName }
  | { kind: 'notApplicable'; message: string }
  | { kind: 'prerequisiteMissing'; message: string; howToProvide: string };

/** The mapping from observations and level to a status, in one place. */
export function deriveStatus(
  level: Level,
  observations: readonly Observation[],
  strict: boolean,
): { status: Status; message: string; howToProvide?: string } {
  const of = (kind: Observation['kind']) => observations.filter((o) => o.kind === kind);
  const join = (list: readonly Observation[]) => list.map((o) => o.message).join('; ');
  const violated = of('violated');
  if (violated.length > 0) {
    // The strongest violation decides; a secondary property's own level never exceeds the check's.
    const rank = { MAY: 0, SHOULD: 1, MUST: 2 } as const;
    const effective = violated
      .map((o) => (o.kind === 'violated' && o.level && rank[o.level] < rank[level] ? o.level : level))
      .reduce((a, b) => (rank[b] > rank[a] ? b : a));
    const status: Status =
      effective === 'MUST' ? 'fail' : effective === 'SHOULD' ? (strict ? 'fail' : 'warn') : 'info';
    return { status, message: join(violated) };
  }
  // A control that failed outweighs whatever else passed: part of the rule is unproven, so no pass.
  const inconclusive = of('inconclusive');
  if (inconclusive.length > 0) return { status: 'skip', message: join(inconclusive) };
  const conforms = of('conforms');
  if (conforms.length > 0) return { status: 'pass', message: join(conforms) };
  const skips = observations.filter((o) => o.kind === 'notApplicable' || o.kind === 'prerequisiteMissing');
  if (skips.length > 0) {
    const missing = skips.find((o) => o.kind === 'prerequisiteMissing');
    return {
      status: 'skip',
      message: join(skips),
      ...(missing?.kind === 'prerequisiteMissing' ? { howToProvide: missing.howToProvide } : {}),
    };
  }
  const observed = of('observe');
  if (observed.length > 0) return { status: 'info', message: join(observed) };
  return { status: 'error', message: 'harness error: the check finished without reporting any observation' };
}

export interface EngineOptions {
  /** The MCP endpoint URL. */
  target: string;
  revision: Revision;
  strict: boolean;
  embedded: boolean;
  /**
   * For an embedded run: whether its reference server approves at once (no sign-in page). The
   * checks with `expectedSkipInEmbedded` skip only then (default: true).
   */
  embeddedAutoApproves?: boolean;
  /** The run's HTTP client (a HttpRecorder): every check gets a scoped, time-bounded view of it. */
  http: HttpClient;
  fixtures: FixtureSource;
  requestTimeoutMs: number;
  /** Bound on one check's own work (fixtures excluded). */
  checkTimeoutMs: number;
  /** Bound on waiting for the fixtures a check needs (covers a login step). */
  fixtureTimeoutMs: number;
  /** Bound on the whole run: checks not finished by then end as `error`. */
  runTimeoutMs: number;
  concurrency: number;
  /** See CheckOptions.expectPublic (default: none). */
  expectPublic?: readonly string[];
  /** See CheckOptions.privilegedTool. */
  privilegedTool?: string;
  /** See CheckOptions.scopeImplies (default: none declared). */
  scopeImplies?: Readonly<Record<string, readonly string[]>>;
  /** See CheckOptions.stateTool. */
  stateTool?: string;
  /** See CheckOptions.allowRaces (default: false). */
  allowRaces?: boolean;
  /** See CheckOptions.codeLifetimeWaitSeconds (default: none, AS-AUTHZ-12 skips). */
  codeLifetimeWaitSeconds?: number;
  /** See CheckOptions.cimdPublishing (default: the harness's loopback listener). */
  cimdPublishing?: { urlBase: string; dir: string };
  /** See CheckOptions.cimdLoopbackFetch (default: false). */
  cimdLoopbackFetch?: boolean;
  /** Aborting it interrupts the run (Ctrl-C): running checks end as error, the rest are not started. */
  signal?: AbortSignal;
  onStart?: (check: Check) => void;
  onResult?: (result: CheckResult) => void;
}

/**
 * Fixtures through which a check can complete authorizations with a client another check also
 * uses. When the target offers no registration, checks that need one of them run one at a time.
 */
const CLIENT_FIXTURES: readonly FixtureName[] = ['client', 'own-client', 'second-client'];

/**
 * Runs the checks; resolves with one result per check, in registry order (never completion
 * order). Never rejects for a check's sake.
 *
 * Isolation (issue #12 §2): a check that consumes grants declares `own-client` and gets a client
 * registered for it alone. When the target offers no registration (one fixed client), the checks
 * that can complete authorizations with that client run after all the others, one at a time, and
 * each says so. A check whose control failed on a shared fixture that another check may have
 * disturbed (`t.inconclusive(…, { suspect })`) is re-run alone at the end with that fixture
 * renewed, and says so.
 */
export async function runChecks(checks: readonly Check[], options: EngineOptions): Promise<CheckResult[]> {
  const results = new Array<CheckResult | undefined>(checks.length);
  const runDeadline = Date.now() + options.runTimeoutMs;

  const shared: SharedProbes = new Map();
  const runPool = async (indices: readonly number[], concurrency: number, rerun?: Map<number, string>) => {
    let next = 0;
    const worker = async () => {
      while (next < indices.length) {
        const index = indices[next++]!;
        const check = checks[index]!;
        options.onStart?.(check);
        // Everything the check starts runs in its guard's async context, so a rejection that
        // escapes it can be attributed to it (attributeEscape).
        const guard = new EscapeGuard(check.id);
        const { result, suspect } = await runningCheck.run(guard, () =>
          runOne(check, options, runDeadline, serialized.includes(index), shared, guard),
        );
        guard.finished(result);
        if (suspect && !rerun) suspects.set(index, suspect);
        const why = rerun?.get(index);
        if (why) result.notes.unshift(`re-run alone: ${why}`);
        results[index] = result;
        options.onResult?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, indices.length)) }, worker));
  };

  const suspects = new Map<number, FixtureName[]>();
  const all = checks.map((_, i) => i);
  const usesClient = (c: Check) => c.needs.some((n) => CLIENT_FIXTURES.includes(n));
  const serialized =
    checks.some(usesClient) && (await isolationOf(options)) === 'serialized'
      ? all.filter((i) => usesClient(checks[i]!))
      : [];
  await runPool(
    all.filter((i) => !serialized.includes(i)),
    options.concurrency,
  );
  if (serialized.length > 0) await runPool(serialized, 1);

  // Re-run alone what a shared fixture's change may have spoiled (once).
  const rerun = new Map<number, string>();
  const renew = new Set<FixtureName>();
  for (const [i, suspect] of suspects) {
    if (options.signal?.aborted) break;
    rerun.set(
      i,
      `the first run could not conclude (${results[i]!.message}); the ${suspect.join(', ')} fixture, which another check may have changed, was renewed first`,
    );
    for (const name of suspect) renew.add(name);
  }
  if (rerun.size > 0) {
    for (const name of renew) options.fixtures.renew?.(name);
    await runPool([...rerun.keys()], 1, rerun);
  }
  return results as CheckResult[];
}

/** The run's shared probes (CheckContext.shared): one promise per key, with the exchanges it made. */
type SharedProbes = Map<string, { value: Promise<unknown>; exchanges: string[] }>;

/** How checks that use a client are isolated from each other (asked once per run). */
async function isolationOf(options: EngineOptions): Promise<'per-check' | 'serialized'> {
  if (!options.fixtures.isolation) return 'per-check';
  try {
    return await withDeadline(
      options.fixtures.isolation(),
      Date.now() + options.fixtureTimeoutMs,
      'finding how checks can be isolated',
    );
  } catch {
    // Discovery failed: the checks that need a client will skip or error on their own.
    return 'per-check';
  }
}

const SERIALIZED =
  'serialized: the target offers no client registration, so this check ran alone with the one client (an authorization server may revoke earlier grants of a client when a new authorization completes)';

/** Why checks end when the operator interrupts the run. */
const INTERRUPTED = 'the run was interrupted (SIGINT)';

class CheckAborted extends Error {
  override name = 'CheckAborted';
}

/** A rejection (or exception) that escaped a check: nobody awaited the promise that carried it. */
class EscapedError extends Error {
  override name = 'EscapedError';
}

/**
 * The check whose work is running, for the process-level guard (cli.ts): every async step a check
 * starts inherits it (AsyncLocalStorage; Node runs `unhandledRejection` and `uncaughtException`
 * listeners in the context of the promise or callback that failed).
 */
const runningCheck = new AsyncLocalStorage<EscapeGuard>();

/**
 * Per check: while it runs, an escaped rejection ends it as `error`; after it finished, its
 * result becomes `error` (it started work it did not wait for), the verdict it had kept in a note.
 */
class EscapeGuard {
  /** Rejects when something escapes while the check runs; raced against the check's own work. */
  readonly escapedWhileRunning: Promise<never>;
  private rejectRunning: (err: EscapedError) => void = () => undefined;
  private runningError: EscapedError | undefined;
  private result: CheckResult | undefined;

  constructor(readonly id: string) {
    this.escapedWhileRunning = new Promise<never>((_, reject) => {
      this.rejectRunning = reject;
    });
    this.escapedWhileRunning.catch(() => undefined);
  }

  escaped(err: unknown): void {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (this.result) {
      markEscaped(this.result, what);
      return;
    }
    this.runningError ??= new EscapedError(
      `harness error: work the check started failed with nobody waiting for it (${what})`,
    );
    this.rejectRunning(this.runningError);
  }

  /** The check's result; an escape it did not end with (it came as the check was finishing) still marks it. */
  finished(result: CheckResult): void {
    this.result = result;
    if (this.runningError && result.message !== this.runningError.message)
      markEscaped(result, this.runningError.message);
  }
}

function markEscaped(result: CheckResult, what: string): void {
  if (result.status !== 'error')
    result.notes.push(`verdict before the escape: ${result.status}: ${result.message}`);
  result.status = 'error';
  result.message = `harness error: after the check ended, work it started failed with nobody waiting for it (${what})`;
}

/**
 * For the process-level guard: turns an escaped rejection or exception into an `error` on the
 * check whose work it came from. Returns that check's id, or undefined when it cannot be
 * attributed (it did not come from a check's work).
 */
export function attributeEscape(err: unknown): string | undefined {
  const guard = runningCheck.getStore();
  if (!guard) return undefined;
  guard.escaped(err);
  return guard.id;
}

/** Results for checks a run never started (it stopped before them: target unreachable, ...). */
export function notStartedResults(
  checks: readonly Check[],
  revision: Revision,
  reason: string,
): CheckResult[] {
  return checks.map((check) => ({
    id: check.id,
    title: check.title,
    level: levelFor(check, revision),
    status: 'error',
    message: `not started: ${reason}`,
    refs: [...check.refs],
    requirement: check.requirement,
    remediation: check.remediation,
    exchanges: [],
    durationMs: 0,
    notes: [],
    data: {},
    authorizationFlows: 0,
  }));
}

async function runOne(
  check: Check,
  options: EngineOptions,
  runDeadline: number,
  serialized: boolean,
  shared: SharedProbes,
  guard: EscapeGuard,
): Promise<{ result: CheckResult; suspect?: FixtureName[] }> {
  const started = performance.now();
  const observations: Observation[] = [];
  const notes: string[] = serialized ? [SERIALIZED] : [];
  // The check's leased client goes back to the pool when the check ends, whenever the lease
  // arrives (a lease granted after the check already ended is returned at once).
  let release: (() => void) | undefined;
  let ended = false;
  /** The first of the check's own requests the target answered 429 (after the HTTP client's retries). */
  let rateLimited: Exchange | undefined;
  let flows = 0;
  const data: Record<string, unknown> = {};
  const exchanges = new Set<string>();
  // The level of the rule in this run's revision (its quotes decide; runner/check.ts levelFor).
  const level = levelFor(check, options.revision);
  const base = {
    id: check.id,
    title: check.title,
    level,
    refs: [...check.refs],
    ...(check.quotes
      ? { quotes: check.quotes.filter((q) => (quoteRevision(q) ?? options.revision) === options.revision) }
      : {}),
    ...(check.derived !== undefined ? { derived: check.derived } : {}),
    ...(check.conflict !== undefined ? { conflict: check.conflict } : {}),
    requirement: check.requirement,
    remediation: check.remediation,
  };
  const finish = (verdictStatus: Status, verdictMessage: string, verdictHowTo?: string) => {
    ended = true;
    release?.();
    // A rate limit is the target protecting itself, not a verdict on the rule (issue #12 §6):
    // a check whose requests met a 429 it could not wait out concludes nothing rather than
    // failing or erroring because of it. A pass stands (it concluded despite the 429).
    let status = verdictStatus;
    let message = verdictMessage;
    let howToProvide = verdictHowTo;
    if (rateLimited && (status === 'fail' || status === 'warn' || status === 'error')) {
      const retryAfter = rateLimited.response?.headers.find(([n]) => n.toLowerCase() === 'retry-after')?.[1];
      notes.push(`without the rate limit the result would have been ${status}: ${message}`);
      status = 'skip';
      message = `the target rate-limited this check's requests (HTTP 429 at ${rateLimited.id}${retryAfter ? `, Retry-After ${retryAfter}` : ''}), so it cannot conclude`;
      howToProvide =
        "re-run when the target's rate limit has reset, or raise the limit for the harness's client";
    }
    const suspect = [
      ...new Set(observations.flatMap((o) => (o.kind === 'inconclusive' && o.suspect ? [o.suspect] : []))),
    ];
    const result: CheckResult = {
      ...base,
      status,
      message,
      exchanges: [...exchanges].sort(byExchangeOrder),
      durationMs: Math.round(performance.now() - started),
      notes,
      data,
      ...(howToProvide ? { howToProvide } : {}),
      authorizationFlows: flows,
    };
    // Only an inconclusive result is worth re-running (a violation or a pass stands).
    return status === 'skip' && suspect.length > 0 ? { result, suspect } : { result };
  };

  if (options.embedded && options.embeddedAutoApproves !== false && check.expectedSkipInEmbedded) {
    return finish('skip', `not run against the embedded reference server: ${check.expectedSkipInEmbedded}`);
  }
  if (options.signal?.aborted) return finish('error', `not started: ${INTERRUPTED}`);
  if (Date.now() >= runDeadline) {
    return finish('error', `not started: the run's time bound of ${options.runTimeoutMs} ms was reached`);
  }

  // Phase 1: the declared fixtures, with their own bound (they may include a login step).
  const fixtureDeadline = Math.min(Date.now() + options.fixtureTimeoutMs, runDeadline);
  const resolved = new Map<FixtureName, unknown>();
  const linkFixture = (name: FixtureName) => {
    if (name === 'own-client') return; // its exchanges are the check's own
    for (const id of options.fixtures.exchangesOf(name)) exchanges.add(id);
  };
  // The check's own client is registered through the check's own client view, so its
  // registration exchange is the check's evidence.
  const ownHttp = options.http.scoped((ex) => exchanges.add(ex.id));
  const get = async (name: FixtureName): Promise<unknown> => {
    if (name !== 'own-client') return options.fixtures.get(name);
    if (!options.fixtures.leaseClient) return options.fixtures.get('client');
    const lease = await options.fixtures.leaseClient(ownHttp).then((l) => {
      if (ended) l.release();
      else release = l.release;
      return l;
    });
    return lease.client;
  };
  try {
    for (const name of check.needs) {
      resolved.set(
        name,
        await withDeadline(
          Promise.race([get(name), guard.escapedWhileRunning]),
          fixtureDeadline,
          `fixture "${name}"`,
          undefined,
          options.signal,
        ),
      );
      linkFixture(name);
    }
  } catch (err) {
    for (const name of check.needs) linkFixture(name);
    const reason = describeThrow(err);
    return finish(reason.status, reason.message, reason.howToProvide);
  }

  // Phase 2: the check itself, bounded by its own time and the run's.
  const checkDeadline = Math.min(Date.now() + options.checkTimeoutMs, runDeadline);
  let over: string | undefined;
  const abort = new AbortController();
  const http = boundedClient(
    options.http,
    checkDeadline,
    () => over,
    (ex) => {
      exchanges.add(ex.id);
      if (ex.response?.status === 429) rateLimited ??= ex;
    },
  );
  const fixture = async <K extends FixtureName>(name: K) => {
    if (resolved.has(name)) return resolved.get(name);
    if (name === 'own-client')
      // Serialization is decided before the check starts, from what it declares.
      throw new Error(`check ${check.id} uses the own-client fixture without declaring it in needs`);
    const value = await withDeadline(options.fixtures.get(name), checkDeadline, `fixture "${name}"`);
    linkFixture(name);
    return value;
  };
  const t: CheckContext = {
    http,
    target: options.target,
    revision: options.revision,
    options: Object.freeze<CheckOptions>({
      strict: options.strict,
      embedded: options.embedded,
      requestTimeoutMs: options.requestTimeoutMs,
      expectPublic: options.expectPublic ?? [],
      ...(options.privilegedTool ? { privilegedTool: options.privilegedTool } : {}),
      ...(options.scopeImplies && Object.keys(options.scopeImplies).length > 0
        ? { scopeImplies: options.scopeImplies }
        : {}),
      ...(options.stateTool ? { stateTool: options.stateTool } : {}),
      ...(options.allowRaces ? { allowRaces: true } : {}),
      ...(options.codeLifetimeWaitSeconds
        ? { codeLifetimeWaitSeconds: options.codeLifetimeWaitSeconds }
        : {}),
      ...(options.cimdPublishing ? { cimdPublishing: options.cimdPublishing } : {}),
      ...(options.cimdLoopbackFetch ? { cimdLoopbackFetch: true } : {}),
    }),
    signal: abort.signal,
    fixture: fixture as CheckContext['fixture'],
    optionalFixture: (async (name: FixtureName) => {
      try {
        return await fixture(name);
      } catch (err) {
        if (err instanceof FixtureUnavailable) {
          notes.push(`without ${name}: ${err.reason}`);
          return undefined;
        }
        throw err;
      }
    }) as CheckContext['optionalFixture'],
    freshGrant: async (opts) => {
      // A grant of the check's own, for its own client: no other check's authorization can
      // revoke it (issue #12 §2). Declaring the client lets the engine serialize when needed.
      const client = resolved.get('own-client') as RegisteredClient | undefined;
      if (!client)
        throw new Error(`check ${check.id} asks for a fresh grant without declaring own-client in needs`);
      flows++;
      return withDeadline(
        options.fixtures.freshGrant(http, { ...opts, ...(client ? { client } : {}) }),
        checkDeadline,
        'a fresh authorization grant',
      );
    },
    authorize: (url, opts) =>
      options.fixtures.loginAt && ++flows
        ? withDeadline(
            // A check that wants to see the login step's exchanges (AS-AUTHZ-11) gets a view of
            // its own client that also reports them; they stay linked to the check either way.
            options.fixtures.loginAt(opts?.onExchange ? http.scoped(opts.onExchange) : http, url),
            checkDeadline,
            'an authorization request',
          )
        : Promise.reject(
            new FixtureUnavailable('error', 'this run has no login driver for authorization requests'),
          ),
    shared: async <T>(key: string, create: (probe: ProbeContext) => Promise<T>) => {
      let entry = shared.get(key);
      if (!entry) {
        const ids: string[] = [];
        const probeHttp = options.http.scoped((ex) => ids.push(ex.id));
        // Several checks wait on a shared probe: its logins are not the first asker's own.
        const value = withLoginPurpose({ shared: `the shared probe "${key}"` }, () =>
          create({
            http: probeHttp,
            authorize: (url) =>
              options.fixtures.loginAt
                ? options.fixtures.loginAt(probeHttp, url)
                : Promise.reject(
                    new FixtureUnavailable(
                      'error',
                      'this run has no login driver for authorization requests',
                    ),
                  ),
          }),
        );
        value.catch(() => undefined);
        shared.set(key, (entry = { value, exchanges: ids }));
      }
      try {
        return (await withDeadline(entry.value, checkDeadline, `the shared probe "${key}"`)) as T;
      } finally {
        for (const id of entry.exchanges) exchanges.add(id);
      }
    },
    conforms: (message) => observations.push({ kind: 'conforms', message }),
    violated: (message, evidence) => {
      observations.push({ kind: 'violated', message, ...(evidence?.level ? { level: evidence.level } : {}) });
      for (const e of evidence?.exchanges ?? []) exchanges.add(typeof e === 'string' ? e : e.id);
    },
    notApplicable: (reason) => observations.push({ kind: 'notApplicable', message: reason }),
    prerequisiteMissing: (reason, howToProvide) =>
      observations.push({ kind: 'prerequisiteMissing', message: reason, howToProvide }),
    observe: (message) => observations.push({ kind: 'observe', message }),
    inconclusive: (reason, opts) =>
      observations.push({
        kind: 'inconclusive',
        message: reason,
        ...(opts?.suspect ? { suspect: opts.suspect } : {}),
      }),
    note: (text) => notes.push(text),
    data: (key, value) => {
      data[key] = value;
    },
  };

  try {
    await withDeadline(
      // The login drivers that involve a person name the check (runner/login/shared.ts LoginPurpose).
      Promise.race([
        withLoginPurpose({ check: { id: check.id, title: check.title }, signal: abort.signal }, () =>
          Promise.resolve().then(() => check.run(t)),
        ),
        guard.escapedWhileRunning,
      ]),
      checkDeadline,
      'the check',
      (why) => {
        over = why;
      },
      options.signal,
    );
  } catch (err) {
    over ??= 'the check ended';
    abort.abort(new CheckAborted(over));
    if (observations.length > 0)
      notes.push(`observed before it ended: ${deriveStatus(level, observations, options.strict).message}`);
    const reason = describeThrow(err);
    return finish(reason.status, reason.message, reason.howToProvide);
  }
  over = 'the check already finished';
  abort.abort(new CheckAborted(over));
  const verdict = deriveStatus(level, observations, options.strict);
  return finish(verdict.status, verdict.message, verdict.howToProvide);
}

/** What a throw inside a check (or a fixture it needs) becomes. */
function describeThrow(err: unknown): { status: Status; message: string; howToProvide?: string } {
  if (err instanceof FixtureUnavailable) {
    return {
      status: err.kind,
      message: err.reason,
      ...(err.howToProvide ? { howToProvide: err.howToProvide } : {}),
    };
  }
  if (err instanceof CheckAborted || err instanceof EscapedError)
    return { status: 'error', message: err.message };
  if (err instanceof HttpTransportError && err.kind === 'rate-limited') {
    // The target's rate limit, not a harness failure and not a verdict (issue #12 §6).
    return {
      status: 'skip',
      message: `${err.message}${err.exchangeId ? ` (exchange ${err.exchangeId})` : ''}`,
      howToProvide:
        "re-run when the target's rate limit has reset, or raise the limit for the harness's client",
    };
  }
  if (err instanceof HttpTransportError) {
    return {
      status: 'error',
      message: `${err.message}${err.exchangeId ? ` (exchange ${err.exchangeId})` : ''}`,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 'error', message: `harness error: ${message}` };
}

/** Rejects with CheckAborted when `deadline` passes first; `onTimeout` runs before the rejection. */
function withDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  what: string,
  onTimeout?: (why: string) => void,
  signal?: AbortSignal,
): Promise<T> {
  const remaining = deadline - Date.now();
  if (remaining <= 0 || signal?.aborted) {
    promise.catch(() => undefined);
    onTimeout?.(signal?.aborted ? INTERRUPTED : `the check's time bound was reached`);
    return Promise.reject(
      new CheckAborted(signal?.aborted ? INTERRUPTED : `${what} did not finish within its time bound`),
    );
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      promise.catch(() => undefined);
      onTimeout?.(INTERRUPTED);
      reject(new CheckAborted(INTERRUPTED));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      onTimeout?.(`the check's time bound was reached`);
      reject(new CheckAborted(`${what} did not finish within its time bound (${remaining} ms)`));
    }, remaining);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * The HttpClient a check sees: exchanges are linked to the check, no request outlives the check's
 * deadline (each request's own bound is cut to what remains), and once the check has ended
 * (timed out, thrown, finished) nothing more is sent on its behalf.
 */
function boundedClient(
  base: HttpClient,
  deadline: number,
  ended: () => string | undefined,
  onExchange: (exchange: Exchange) => void,
): HttpClient {
  const scoped = base.scoped(onExchange);
  const client: HttpClient = {
    async request(url, requestOptions: RequestOptions = {}) {
      const stop = ended();
      if (stop) throw new HttpTransportError('timeout', `request to ${String(url)} not sent: ${stop}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new HttpTransportError(
          'timeout',
          `request to ${String(url)} not sent: the check's time bound was reached`,
        );
      }
      const timeoutMs = Math.min(requestOptions.timeoutMs ?? Number.POSITIVE_INFINITY, remaining);
      return scoped.request(
        url,
        Number.isFinite(timeoutMs) ? { ...requestOptions, timeoutMs } : requestOptions,
      );
    },
    scoped(next) {
      // Both callbacks fire: `scoped` reports to this check, `next` to whoever asked.
      return boundedClient(scoped, deadline, ended, next);
    },
    ...(scoped.record ? { record: (observed: Omit<Exchange, 'id'>) => scoped.record!(observed) } : {}),
    ...(scoped.egress ? { egress: scoped.egress } : {}),
  };
  return client;
}

function byExchangeOrder(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1)) || a.localeCompare(b);
}

/** Counts per status, and per level and status. */
export function summarize(results: readonly CheckResult[]): {
  byStatus: Record<Status, number>;
  byLevel: Record<Level, Record<Status, number>>;
} {
  const empty = (): Record<Status, number> => ({ pass: 0, fail: 0, warn: 0, skip: 0, error: 0, info: 0 });
  const byStatus = empty();
  const byLevel: Record<Level, Record<Status, number>> = { MUST: empty(), SHOULD: empty(), MAY: empty() };
  for (const r of results) {
    byStatus[r.status]++;
    byLevel[r.level][r.status]++;
  }
  return { byStatus, byLevel };
}
