// A run, shared by the `run` command and the programmatic API (`run(options)` in api.ts):
// prepareRun reads everything the options name (secrets, key, login script, baseline) and picks the
// checks, so every usage error surfaces before the first request; executeRun starts the embedded
// reference server when there is no target, checks the target answers like MCP, runs the checks,
// and builds the report with the run's one verdict (runner/verdict.ts). It never throws for the
// target's sake: whatever happens, a report comes back (runError says what went wrong).

import { mkdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { JWK } from 'jose';
import { type RunningReferenceServer, startReferenceServer } from '../reference-server/server.ts';
import { SCOPE_IMPLIES } from '../reference-server/rs/scopes.ts';
import { buildReport, type Report } from '../reports/json.ts';
import { type Baseline, BaselineError, loadBaseline } from '../runner/baseline.ts';
import { type Check, levelFor } from '../runner/check.ts';
import { type CheckResult, notStartedResults, runChecks, selectChecks } from '../runner/engine.ts';
import { EgressPolicy } from '../runner/egress.ts';
import { freeLoopbackPort, readMintKey, RunFixtures } from '../runner/fixtures.ts';
import { HttpRecorder, HttpTransportError } from '../runner/http.ts';
import { detectRevision, type RevisionDetection, RevisionUnknown } from '../runner/mcp.ts';
import { LATEST_REVISION, type Revision } from '../runner/revisions.ts';
import {
  createLoginDriver,
  type FormScript,
  FormScriptSchema,
  type LoginDriver,
} from '../runner/login/index.ts';
import { Redactor } from '../runner/redact.ts';
import { decideVerdict } from '../runner/verdict.ts';
import {
  CONFIG_FILE_NAME,
  type Config,
  EMBEDDED_CODE_LIFETIME_WAIT_SECONDS,
  EMBEDDED_CODE_TTL_SECONDS,
  readHeaders,
  readSecrets,
  UsageError,
} from './config.ts';
import { installEscapeGuard } from './escape-guard.ts';
import { preflight, RunCouldNotHappen } from './preflight.ts';
import { VERSION } from './version.ts';

export interface RunSetup {
  config: Config;
  secrets: ReturnType<typeof readSecrets>;
  /** PEM text of --ca. */
  ca?: string;
  /** --header lines as [name, value], env references resolved. */
  extraHeaders: [string, string][];
  /** --cimd-url-base with the --cimd-out folder (created). */
  cimdPublishing?: { urlBase: string; dir: string };
  mintJwk?: JWK;
  script?: FormScript;
  baseline?: Baseline;
  /**
   * The revision to check, when known before contacting the target: --spec REV, or the embedded
   * reference server's newest. Undefined: --spec auto against a target (executeRun asks it).
   */
  forcedRevision?: Revision;
  /** The whole catalogue, to select again once --spec auto has found the revision. */
  registry: readonly Check[];
  /** The checks of this run, in catalogue order (for --spec auto: of the newest revision, until detected). */
  selected: Check[];
  /** Every MUST check of the catalogue for the revision (selected or not), for certifiability. */
  mustChecks: string[];
  /** Repository-relative file report.sarif points at. */
  sarifArtifact: string;
}

/** Reads what the options name and selects the checks. Throws UsageError (exit 2). */
export function prepareRun(
  config: Config,
  context: { env: NodeJS.ProcessEnv; cwd: string; checks: readonly Check[]; configFile?: string },
): RunSetup {
  const { cwd } = context;
  const secrets = readSecrets(config, context.env, cwd);
  const mintJwk = config.mintKey ? usage(() => readMintKey(resolve(cwd, config.mintKey!))) : undefined;
  const script = config.loginScript ? readLoginScript(resolve(cwd, config.loginScript)) : undefined;
  const baseline = config.baseline ? readBaseline(resolve(cwd, config.baseline)) : undefined;
  const ca = config.ca ? readCa(resolve(cwd, config.ca)) : undefined;
  const extraHeaders = readHeaders(config, context.env);
  const cimdPublishing =
    config.cimdUrlBase && config.cimdOut
      ? { urlBase: config.cimdUrlBase, dir: makeFolder(resolve(cwd, config.cimdOut)) }
      : undefined;
  // --spec auto: against a target the revision is known only once the server was asked
  // (executeRun); the embedded reference server is checked in the newest revision.
  const forcedRevision: Revision | undefined =
    config.spec === 'auto' ? (config.target ? undefined : LATEST_REVISION) : config.spec;
  const { selected, unmatched } = selectChecks(context.checks, {
    revision: forcedRevision ?? LATEST_REVISION,
    only: config.only,
    skip: config.skip,
  });
  if (unmatched.length > 0) {
    throw new UsageError(
      `no check ID starts with ${unmatched.map((p) => `"${p}"`).join(', ')}; list the checks with "mcp-auth-conformance list".`,
    );
  }
  if (selected.length === 0 && forcedRevision) {
    throw new UsageError(`no check applies to revision ${forcedRevision} with the given --only/--skip.`);
  }
  const mustChecks = mustChecksOf(context.checks, forcedRevision ?? LATEST_REVISION);
  const sarifArtifact =
    config.sarifArtifact ??
    (context.configFile ? relative(cwd, context.configFile).split('\\').join('/') : CONFIG_FILE_NAME);
  return {
    config,
    secrets,
    ...(ca ? { ca } : {}),
    extraHeaders,
    ...(cimdPublishing ? { cimdPublishing } : {}),
    ...(forcedRevision ? { forcedRevision } : {}),
    registry: context.checks,
    ...(mintJwk ? { mintJwk } : {}),
    ...(script ? { script } : {}),
    ...(baseline ? { baseline } : {}),
    selected,
    mustChecks,
    sarifArtifact,
  };
}

export interface RunHooks {
  /** The redactor of the run (tests pass one that records what it was given). */
  redactor?: Redactor;
  /** Aborting it interrupts the run: running checks end as error, the rest are not started. */
  signal?: AbortSignal;
  /** What runError says when `signal` ended the run. */
  interruptedMessage?: string;
  /** Where escaped rejections outside any check are collected when the caller guards the process (the CLI). */
  harnessErrors?: string[];
  /** Lines for the operator: the login URL to open, the preflight's error. */
  log?: (line: string) => void;
  /** Once the target is known, before the first check. */
  onHeader?: (info: {
    version: string;
    target: string;
    embedded: boolean;
    faults: readonly string[];
    variants: readonly string[];
    revision: string;
    revisionNote?: string;
    order: readonly string[];
    strict: boolean;
  }) => void;
  onStart?: (check: Check) => void;
  onResult?: (result: CheckResult) => void;
}

export interface RunOutcome {
  report: Report;
  verdict: Report['verdict'];
  results: CheckResult[];
}

export async function executeRun(setup: RunSetup, hooks: RunHooks = {}): Promise<RunOutcome> {
  const { config, secrets, script } = setup;
  const redactor = hooks.redactor ?? new Redactor();
  const log = hooks.log ?? (() => undefined);
  // No rejection or exception may end a run (issue #14): the CLI installs the guard before it
  // loads anything (hooks.harnessErrors); an API caller gets one for the run here.
  const guard = hooks.harnessErrors ? undefined : installEscapeGuard(log, (text) => redactor.text(text));
  try {
    return await executeGuardedRun(setup, hooks, redactor, log, hooks.harnessErrors ?? guard!.harnessErrors);
  } finally {
    guard?.dispose();
  }
}

async function executeGuardedRun(
  setup: RunSetup,
  hooks: RunHooks,
  redactor: Redactor,
  log: (line: string) => void,
  harnessErrors: string[],
): Promise<RunOutcome> {
  const { config, secrets, script } = setup;
  let revision: Revision = setup.forcedRevision ?? LATEST_REVISION;
  let selected = setup.selected;
  let mustChecks = setup.mustChecks;
  let revisionDetection: RevisionDetection | undefined = setup.forcedRevision
    ? {
        revision: setup.forcedRevision,
        how: config.spec === 'auto' ? 'embedded' : 'forced',
        detail:
          config.spec === 'auto'
            ? 'the embedded reference server serves every revision; the newest is checked'
            : `forced with --spec ${setup.forcedRevision}`,
        exchanges: [],
      }
    : undefined;
  const startedAt = new Date();
  const started = performance.now();
  let server: RunningReferenceServer | undefined;
  let recorder: HttpRecorder | undefined;
  let fixtures: RunFixtures | undefined;
  let login: LoginDriver | undefined;
  let results: CheckResult[] = [];
  let runError: string | undefined;
  let target: string | null = config.target ?? null;

  try {
    if (!config.target) {
      try {
        server = await startReferenceServer({
          autoApprove: true,
          faults: config.faults,
          variants: config.variants,
          allowLoopbackCimd: true,
          codeTtlSeconds: EMBEDDED_CODE_TTL_SECONDS,
        });
      } catch (err) {
        throw new RunCouldNotHappen(
          `the embedded reference server could not start: ${(err as Error).message}`,
        );
      }
      target = server.url;
    }
    const targetUrl = target as string;
    const requestTimeoutMs = Math.round(config.timeout * 1000);
    const codeLifetimeWaitSeconds =
      config.codeLifetimeWait ?? (server ? EMBEDDED_CODE_LIFETIME_WAIT_SECONDS : 0);
    const operatorOrigins = [...config.allowOrigins, ...(script?.allowedOrigins ?? [])];
    recorder = new HttpRecorder({
      timeoutMs: requestTimeoutMs,
      // Which addresses (runner/egress.ts): the operator names hosts with --allow-host, and the
      // origins it lets the login visit are named hosts too.
      egress: new EgressPolicy({
        target: targetUrl,
        allowHosts: [...config.allowHosts, ...operatorOrigins.map((o) => new URL(o).hostname)],
      }),
      // The login may pass through other origins (an identity provider): --allow-origin and the
      // script's own allowedOrigins name them; nothing else beyond what the target names.
      allowedOrigins: [
        targetUrl,
        ...operatorOrigins,
        ...(server ? [server.issuer] : []),
        // The harness reads its published documents back before relying on them (as-cimd.ts).
        ...(setup.cimdPublishing ? [setup.cimdPublishing.urlBase] : []),
      ],
      ...(setup.ca ? { ca: setup.ca } : {}),
      ...(setup.extraHeaders.length > 0
        ? { extraHeaders: { origins: [targetUrl], headers: setup.extraHeaders } }
        : {}),
    });
    const interactiveLogin = config.login === 'manual' || config.login === 'browser';
    const loginTimeoutMs = (interactiveLogin ? 30 : 10) * requestTimeoutMs;
    // The embedded server's key forges tokens, unless its resource server accepts no signed token
    // (the variant opaque-tokens introspects instead).
    const mintKey = server?.tokensForgeable
      ? { privateJwk: server.signingKey, issuer: server.issuer }
      : setup.mintJwk && config.mintIssuer
        ? { privateJwk: setup.mintJwk, issuer: config.mintIssuer }
        : undefined;
    // The driver lives for the run (manual: one listener; browser: one Chromium); closed below.
    login = createLoginDriver({
      driver: config.login,
      ...(script ? { script } : {}),
      ...(config.chromiumPath ? { chromiumPath: config.chromiumPath } : {}),
    });
    fixtures = new RunFixtures({
      recorder,
      redactor,
      target: targetUrl,
      revision,
      login,
      redirectUri: `http://127.0.0.1:${await freeLoopbackPort()}/callback`,
      loginTimeoutMs,
      preset: {
        ...(secrets.accessToken ? { accessToken: secrets.accessToken } : {}),
        ...(secrets.accessTokenB ? { accessTokenB: secrets.accessTokenB } : {}),
        ...(config.clientId ? { clientId: config.clientId } : {}),
        ...(secrets.clientSecret ? { clientSecret: secrets.clientSecret } : {}),
        ...(secrets.foreignToken ? { foreignToken: secrets.foreignToken } : {}),
      },
      ...(mintKey ? { mintKey } : {}),
      ...(config.scope !== undefined ? { scope: config.scope } : {}),
      ...(config.otherResource ? { otherResource: config.otherResource } : {}),
      clientPoolSize: config.concurrency,
      log,
    });
    redactor.register(secrets.accessToken, 'access_token');
    redactor.register(secrets.accessTokenB, 'access_token');
    redactor.register(secrets.clientSecret, 'client_secret');
    redactor.register(secrets.foreignToken, 'access_token');
    for (const [, value] of setup.extraHeaders) redactor.register(value, 'token');

    if (!revisionDetection) {
      // --spec auto against a target: ask the server (runner/mcp.ts detectRevision); the token,
      // when one is needed, is the run's own token fixture (fixtures.setRevision then re-shapes the
      // revision-dependent fixtures).
      const runFixtures = fixtures;
      revisionDetection = await detectRevision(
        recorder,
        targetUrl,
        async () => (await runFixtures.get('token')).accessToken,
      ).catch((err: unknown): RevisionDetection => {
        // Nothing to read the revision from (a token could not be had, the answers are not MCP):
        // the newest revision is checked, and the report and the terminal say it was not detected.
        if (err instanceof RevisionUnknown)
          return {
            revision: LATEST_REVISION,
            how: 'undetected',
            detail: `not detected (${err.message}); checked as ${LATEST_REVISION}: force the revision the server speaks with --spec REV`,
            exchanges: [],
          };
        if (err instanceof HttpTransportError)
          throw new RunCouldNotHappen(
            `the target ${targetUrl} cannot be reached: ${err.message}. Check the URL and that the server is running.`,
          );
        throw err;
      });
      revision = revisionDetection.revision;
      fixtures.setRevision(revision);
      selected = selectChecks(setup.registry, { revision, only: config.only, skip: config.skip }).selected;
      mustChecks = mustChecksOf(setup.registry, revision);
      if (selected.length === 0)
        throw new RunCouldNotHappen(
          `no check applies to revision ${revision} (detected: ${revisionDetection.detail}) with the given --only/--skip`,
        );
    }

    hooks.onHeader?.({
      version: VERSION,
      target: targetUrl,
      embedded: server !== undefined,
      faults: config.faults,
      variants: config.variants,
      revision,
      revisionNote: revisionDetection.detail,
      order: selected.map((c) => c.id),
      strict: config.strict,
    });
    await preflight(recorder, targetUrl, revision);
    if (config.login === 'manual')
      await signInFirst(fixtures, selected, Math.min(loginTimeoutMs, config.runTimeout * 1000), hooks.signal);

    results = await runChecks(selected, {
      target: targetUrl,
      revision,
      strict: config.strict,
      embedded: server !== undefined,
      ...(server ? { embeddedAutoApproves: server.autoApproves } : {}),
      http: recorder,
      fixtures,
      requestTimeoutMs,
      // AS-AUTHZ-12 sleeps --code-lifetime-wait inside the check: its bound must cover the wait.
      // (The engine has one bound for all checks; the others finish early anyway.) With
      // --login manual a check's authorization may wait for the person (a consent for its own
      // client, behind others in the tab): the bound covers one login too.
      checkTimeoutMs:
        3 * requestTimeoutMs +
        codeLifetimeWaitSeconds * 1000 +
        (config.login === 'manual' ? loginTimeoutMs : 0),
      fixtureTimeoutMs: loginTimeoutMs + 3 * requestTimeoutMs,
      runTimeoutMs: Math.round(config.runTimeout * 1000),
      concurrency: config.concurrency,
      expectPublic: config.publicMethods,
      allowRaces: config.allowRaces,
      codeLifetimeWaitSeconds,
      // The embedded reference server fetches the harness's loopback documents (allowLoopbackCimd),
      // unless a variant makes it refuse them as a deployed server does (cimd-ssrf-guard).
      ...(server?.fetchesLoopbackDocuments ? { cimdLoopbackFetch: true } : {}),
      ...(setup.cimdPublishing ? { cimdPublishing: setup.cimdPublishing } : {}),
      // The embedded reference server's step-up tool needs mcp:write on top of mcp:tools (rs/scopes.ts).
      ...(config.privilegedTool || server ? { privilegedTool: config.privilegedTool ?? 'write_note' } : {}),
      // The embedded reference server declares its own hierarchy (rs/scopes.ts SCOPE_IMPLIES).
      ...(Object.keys(config.scopeImplies).length > 0 || server
        ? { scopeImplies: Object.keys(config.scopeImplies).length > 0 ? config.scopeImplies : SCOPE_IMPLIES }
        : {}),
      // The embedded reference server's multi-round-trip tool (rs/mcp-server.ts).
      ...(config.stateTool || server ? { stateTool: config.stateTool ?? 'read_my_notes' } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
      ...(hooks.onResult ? { onResult: hooks.onResult } : {}),
    });
    if (hooks.signal?.aborted) {
      runError =
        hooks.interruptedMessage ?? 'the run was interrupted: checks that had not finished end as error';
    }
  } catch (err) {
    // Whatever went wrong, the report is still built (with runError); the verdict says incomplete.
    runError =
      err instanceof RunCouldNotHappen
        ? err.message
        : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    log(`error: ${runError}`);
  } finally {
    await login?.close?.().catch(() => undefined);
    await recorder?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  }
  // A run that stopped before its checks (target unreachable, interrupted) still reports each one.
  if (results.length === 0 && runError)
    results = notStartedResults(selected, revision, runError.split('\n')[0]!);
  // A harness error outside any check means the run did not go as it should: reported as such.
  if (harnessErrors.length > 0 && !runError) runError = harnessErrors[0];
  const egress = recorder ? await recorder.egress.describe() : undefined;

  const verdict = decideVerdict({
    results,
    failOn: config.failOn,
    ...(setup.baseline ? { baseline: setup.baseline } : {}),
    ...(runError ? { runError } : {}),
    mustChecks,
  });
  const ran = new Set(results.map((r) => r.id));
  const report = buildReport(
    {
      version: VERSION,
      target,
      embedded: !config.target,
      faults: config.faults,
      variants: config.variants,
      revision,
      ...(revisionDetection
        ? {
            revisionDetection: {
              requested: config.spec,
              how: revisionDetection.how,
              detail: revisionDetection.detail,
              ...(revisionDetection.advertised ? { advertised: revisionDetection.advertised } : {}),
              ...(revisionDetection.withToken ? { withToken: true } : {}),
              exchanges: revisionDetection.exchanges,
            },
          }
        : {}),
      startedAt,
      durationMs: Math.round(performance.now() - started),
      options: {
        strict: config.strict,
        only: config.only,
        skip: config.skip,
        login: config.login,
        timeoutSeconds: config.timeout,
        concurrency: config.concurrency,
        presetToken: secrets.accessToken !== undefined,
        presetClient: config.clientId !== undefined,
        mintKey: (server?.tokensForgeable ?? false) || setup.mintJwk !== undefined,
        sarifArtifact: setup.sarifArtifact,
      },
      authorizationFlows: fixtures?.authorizationFlows ?? 0,
      humanActions: login?.humanActions ?? 0,
      verdict,
      ...(runError ? { runError } : {}),
      ...(setup.baseline && config.baseline
        ? {
            baseline: {
              file: config.baseline,
              failOn: config.failOn,
              expected: verdict.accepted.map((a) => a.id),
              unexpected: verdict.counted.map((c) => c.id),
              stale: verdict.stale.map((s) => s.id),
              notRun: setup.baseline['expected-failures'].filter((e) => !ran.has(e.id)).map((e) => e.id),
              messages: verdict.details,
            },
          }
        : {}),
      results,
      exchanges: recorder?.exchanges ?? [],
      ...(harnessErrors.length > 0 ? { harnessErrors } : {}),
      ...(egress ? { egress } : {}),
    },
    redactor,
  );
  for (const refusal of report.egress?.refused ?? [])
    log(`egress: ${refusal.message} (${refusal.exchanges.length} request(s) not sent)`);
  return { report, verdict: report.verdict, results };
}

function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function readBaseline(file: string): Baseline {
  try {
    return loadBaseline(file);
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(err.message);
    throw err;
  }
}

function readLoginScript(file: string): FormScript {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--login-script ${file}: cannot read it as JSON (${(err as Error).message})`);
  }
  const result = FormScriptSchema.safeParse(parsed);
  if (!result.success) {
    throw new UsageError(
      `--login-script ${file} is not a valid form script: ${result.error.issues.map((i) => `${i.path.join('.') || 'script'}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data as FormScript;
}

/** The PEM text of --ca FILE: at least one certificate, or a UsageError saying what is wrong. */
function readCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--ca ${file}: the file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new UsageError(`--ca ${file}: no PEM certificate in it (expected "-----BEGIN CERTIFICATE-----").`);
  return text;
}

/** Creates the --cimd-out folder if needed; a UsageError when it cannot be. */
function makeFolder(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UsageError(
      `--cimd-out ${dir}: the folder cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  return dir;
}

/** Every MUST check of the catalogue for `revision` (selected or not), for certifiability. */
function mustChecksOf(checks: readonly Check[], revision: Revision): string[] {
  return checks
    .filter((c) => c.revisions.includes(revision) && levelFor(c, revision) === 'MUST')
    .map((c) => c.id);
}

/**
 * --login manual: the person signs in before the checks start. Otherwise the first sign-in would
 * happen inside whichever checks ask first, each bounded by its own short time (a check's, not a
 * login's), and a person who takes a minute would see them end as errors. The run's shared token
 * is the first authorization every check that authorizes waits for (the scope comes from it), so
 * it is created here, bounded by the login's time (and the run's); a failure is reported by the
 * checks that need it.
 */
async function signInFirst(
  fixtures: RunFixtures,
  selected: readonly Check[],
  boundMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const authorizes = selected.some((c) =>
    c.needs.some((n) => n === 'token' || n === 'client' || n === 'own-client'),
  );
  if (!authorizes) return;
  const token = fixtures.get('token').catch(() => undefined);
  const aborted = new Promise<void>((resolve) =>
    signal?.addEventListener('abort', () => resolve(), { once: true }),
  );
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  await Promise.race([token, aborted, bound]);
  clearTimeout(timer);
}
