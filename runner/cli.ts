// The `mcp-auth-conformance` command: run, list, serve.
//
// Exit codes (DESIGN.md §Contracts; issue #4 §Commands):
//   0 conformant: no check failed (and none errored)
//   1 at least one check failed
//   2 bad usage or configuration (the message says what to change)
//   3 the run could not happen or complete: target unreachable, a check the harness could not
//     finish (status error) with no failure, or an internal error
// report.json is written whatever the outcome once a run has started (also for exit code 3).

import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '../reference-server/main.ts';
import { type RunningReferenceServer, startReferenceServer } from '../reference-server/server.ts';
import { SCOPE_IMPLIES } from '../reference-server/rs/scopes.ts';
import { buildReport } from '../reports/json.ts';
import { writeReports } from '../reports/write.ts';
import { type Baseline, BaselineError, judge, loadBaseline } from './baseline.ts';
import { CHECKS } from '../suites/index.ts';
import { type Check, levelFor } from './check.ts';
import { type Config, loadRunConfig, readHeaders, readSecrets, UsageError } from './config.ts';
import { type CheckResult, runChecks, selectChecks } from './engine.ts';
import { freeLoopbackPort, protectedProbe, readMintKey, RunFixtures } from './fixtures.ts';
import { HttpRecorder, HttpTransportError } from './http.ts';
import { createLoginDriver, type FormScript, FormScriptSchema, type LoginDriver } from './login/index.ts';
import { mcpCall } from './mcp.ts';
import { EXIT_MEANING, Progress } from './progress.ts';
import { Redactor } from './redact.ts';
import { isRevision, REVISIONS } from './revisions.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface CliIo {
  /** Writes text as is (progress, reports to stdout). */
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Registry to use (tests pass their own checks). */
  checks?: readonly Check[];
  /** The redactor of the run (tests pass one that also records what it was given). */
  redactor?: Redactor;
  /**
   * Interrupts `run` as Ctrl-C does (tests). Without it, `run` listens for SIGINT itself: the
   * first stops the checks and still writes the report (exit 3), a second quits at once (130).
   */
  interrupt?: AbortSignal;
}

export const USAGE = `Usage: mcp-auth-conformance <command> [options]

Commands:
  run      check an MCP server and its authorization server (default target: the embedded
           reference server, started in process)
  list     list the checks, without touching the network
  serve    run the reference server (same flags as "npm run reference-server")

Options:
  -h, --help     this text ("mcp-auth-conformance run --help" for run's options)
  -v, --version  print the version

Exit codes: 0 conformant, 1 a check failed, 2 bad usage or configuration,
3 the run could not happen or complete (target unreachable, harness error).
`;

export const RUN_USAGE = `Usage: mcp-auth-conformance run [options]

  --target URL            MCP endpoint to check; without it the reference server is started
                          in process (auto-approve, its signing key lets the runner forge tokens)
  --fault NAME            switch on a fault of the embedded server (repeatable; not with --target;
                          list them with "mcp-auth-conformance serve --list-faults")
  --spec REV              ${REVISIONS.join(' | ')} (default ${REVISIONS[REVISIONS.length - 1]})
  --only P,Q              run only checks whose ID starts with a prefix (RS, RS-PRM, AS-PKCE-01)
  --skip P,Q              leave out checks by ID prefix
  --strict                a violated SHOULD fails the run
  --out DIR               report directory (default ./conformance-report)
  --format F,G            report formats (default all): json, md, junit, html, sarif, har;
                          report.json is always written
  --baseline FILE         expected failures (JSON or YAML): listed ones do not fail the run,
                          unexpected failures and stale entries do
  --fail-on LEVEL         must (default: a fail decides) | should (a warn too) | never
  --timeout SECONDS       bound of one HTTP request (default 10; a check gets 3x, a login 30x)
  --config FILE           options file (default ./mcp-auth-conformance.config.json if present)
  --login DRIVER          auto | form | browser | manual (default auto)
  --login-script FILE     JSON form steps for --login form / browser
  --token-env NAME        environment variable holding an access token for the target
  --token-b-env NAME      environment variable holding a second user's access token (RS-SESS-02/04)
  --token-file FILE, --token-b-file FILE, --client-secret-file FILE
                          the same secrets read from files (mounted CI secrets) instead
  --client-id ID          a client registered at the authorization server
  --client-secret-env NAME  environment variable holding that client's secret
  --mint-key FILE         private JWK the target trusts, to forge tokens (with --mint-issuer)
  --mint-issuer URL       issuer of forged tokens
  --allow-origin URL      extra origin the login step may visit (repeatable)
  --expect-public M,N     JSON-RPC methods answered without a token on purpose (RS-PUB reports
                          them without warning); tools/call cannot be declared public
  --privileged-tool NAME  a tool needing more scope than the default token (RS-403 step-up probes;
                          default against the embedded server: write_note)
  --scope-implies BROAD=NARROW[,NARROW]  the target's scope hierarchy (repeatable): a token of
                          BROAD may do what NARROW allows (RS-403-05; default against the
                          embedded server: its own, mcp:admin=mcp:write)
  --state-tool NAME       a tool whose first call answers input_required with a requestState
                          (2026-07-28; RS-SESS-04 replays the state; default against the embedded
                          server: read_my_notes)
  --allow-races           run the AS-RACE probes (20 parallel token requests) against a
                          non-loopback target too (loopback targets always get them)
  --code-lifetime-wait S  AS-AUTHZ-12: redeem a code S seconds after issue (max 600, the
                          RECOMMENDED maximum lifetime); still redeemable warns. Default:
                          skipped against a target; 1.5 against the embedded server (codes live 1 s)
  --ca FILE               PEM of a private CA to trust for https, in addition to the usual roots
  --header 'Name: value'  extra header on every request to the target's origin (repeatable; for a
                          gateway). 'Name: $env:VAR' reads the value from VAR; values are redacted
  --cimd-url-base URL     where --cimd-out is served for the authorization server to fetch: client
  --cimd-out DIR          metadata documents are written to DIR and named by their URL under URL
                          (without them, a loopback listener only an AS on this machine can reach)

Secrets are never accepted on the command line or in the config file: name an environment
variable or a file instead. The harness's redirect URI is http://127.0.0.1:<port>/callback.
`;

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'list':
        return listCommand(rest, io);
      case 'serve':
        return await serve(rest, {
          out: (line) => io.out(`${line}\n`),
          err: (line) => io.err(`${line}\n`),
          checks: io.checks ?? CHECKS,
        });
      case '-h':
      case '--help':
      case 'help':
        io.out(USAGE);
        return 0;
      case '-v':
      case '--version':
        io.out(`${VERSION}\n`);
        return 0;
      case undefined:
        io.err(`error: no command given.\n\n${USAGE}`);
        return 2;
      default:
        io.err(`error: unknown command "${command}": use run, list or serve.\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n`);
      return 2;
    }
    io.err(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 3;
  }
}

function listCommand(argv: readonly string[], io: CliIo): number {
  let values: { spec?: string; json?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      options: { spec: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message.replace(/\.$/, '')}. Usage: mcp-auth-conformance list [--spec REV] [--json]`,
    );
  }
  if (values.help) {
    io.out('Usage: mcp-auth-conformance list [--spec REV] [--json]\n');
    return 0;
  }
  if (values.spec !== undefined && !isRevision(values.spec)) {
    throw new UsageError(`--spec must be one of ${REVISIONS.join(', ')}, got "${values.spec}"`);
  }
  const spec = values.spec;
  const checks = (io.checks ?? CHECKS).filter(
    (c) => spec === undefined || (c.revisions as readonly string[]).includes(spec),
  );
  if (values.json) {
    const listing = checks.map((c) => ({
      id: c.id,
      title: c.title,
      level: c.level,
      refs: c.refs,
      // The level each revision's text gives the rule (an MCP sentence speaks for its own revision).
      levelByRevision: Object.fromEntries(c.revisions.map((r) => [r, levelFor(c, r)])),
      ...(c.quotes ? { quotes: c.quotes } : {}),
      ...(c.derived !== undefined ? { derived: c.derived } : {}),
      ...(c.conflict !== undefined ? { conflict: c.conflict } : {}),
      revisions: c.revisions,
      needs: c.needs,
      faults: c.faults,
      requirement: c.requirement,
      remediation: c.remediation,
      ...(c.probe ? { probe: c.probe } : {}),
      ...(c.expectedSkipInEmbedded ? { expectedSkipInEmbedded: c.expectedSkipInEmbedded } : {}),
    }));
    io.out(`${JSON.stringify(listing, null, 2)}\n`);
    return 0;
  }
  for (const c of checks) {
    io.out(`${c.id.padEnd(12)} ${c.level.padEnd(6)} ${c.title}\n`);
    io.out(
      `${''.padEnd(19)}${c.refs.join('; ')}${c.needs.length > 0 ? ` | needs ${c.needs.join(', ')}` : ''}\n`,
    );
  }
  io.out(`${checks.length} check(s)${spec ? ` for ${spec}` : ''}\n`);
  return 0;
}

async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const loaded = loadRunConfig(argv, io.cwd);
  if (loaded.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  const config = loaded.config;
  const secrets = readSecrets(config, io.env, io.cwd);
  const mintJwk = config.mintKey ? readMintKeyOrUsage(resolve(io.cwd, config.mintKey)) : undefined;
  const script = config.loginScript ? readLoginScript(resolve(io.cwd, config.loginScript)) : undefined;
  const baseline = config.baseline ? readBaselineOrUsage(resolve(io.cwd, config.baseline)) : undefined;
  const ca = config.ca ? readCaOrUsage(resolve(io.cwd, config.ca)) : undefined;
  const extraHeaders = readHeaders(config, io.env);
  const cimdPublishing =
    config.cimdUrlBase && config.cimdOut
      ? { urlBase: config.cimdUrlBase, dir: makeFolderOrUsage(resolve(io.cwd, config.cimdOut)) }
      : undefined;
  const registry = io.checks ?? CHECKS;
  const { selected, unmatched } = selectChecks(registry, {
    revision: config.spec,
    only: config.only,
    skip: config.skip,
  });
  if (unmatched.length > 0) {
    throw new UsageError(
      `no check ID starts with ${unmatched.map((p) => `"${p}"`).join(', ')}; list the checks with "mcp-auth-conformance list".`,
    );
  }
  if (selected.length === 0) {
    throw new UsageError(`no check applies to revision ${config.spec} with the given --only/--skip.`);
  }

  const redactor = io.redactor ?? new Redactor();
  const progress = new Progress({ write: io.out, tty: io.isTTY, env: io.env, redactor });
  const startedAt = new Date();
  const started = performance.now();
  let server: RunningReferenceServer | undefined;
  let recorder: HttpRecorder | undefined;
  let fixtures: RunFixtures | undefined;
  let login: LoginDriver | undefined;
  let results: CheckResult[] = [];
  let runError: string | undefined;
  let target: string | null = config.target ?? null;
  const interrupted = new AbortController();
  const onInterrupt = () => {
    if (interrupted.signal.aborted) process.exit(130);
    progress.line(
      'interrupted: ending the running checks and writing the report (Ctrl-C again quits at once)',
    );
    interrupted.abort();
  };
  if (io.interrupt) io.interrupt.addEventListener('abort', onInterrupt, { once: true });
  else process.on('SIGINT', onInterrupt);

  try {
    if (!config.target) {
      try {
        server = await startReferenceServer({
          autoApprove: true,
          faults: config.faults,
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
    recorder = new HttpRecorder({
      timeoutMs: requestTimeoutMs,
      // The login may pass through other origins (an identity provider): --allow-origin and the
      // script's own allowedOrigins name them; nothing else beyond what the target names.
      allowedOrigins: [
        targetUrl,
        ...config.allowOrigins,
        ...(script?.allowedOrigins ?? []),
        ...(server ? [server.issuer] : []),
        // The harness reads its published documents back before relying on them (as-cimd.ts).
        ...(cimdPublishing ? [cimdPublishing.urlBase] : []),
      ],
      ...(ca ? { ca } : {}),
      ...(extraHeaders.length > 0 ? { extraHeaders: { origins: [targetUrl], headers: extraHeaders } } : {}),
    });
    const interactiveLogin = config.login === 'manual' || config.login === 'browser';
    const loginTimeoutMs = (interactiveLogin ? 30 : 10) * requestTimeoutMs;
    const mintKey = server
      ? { privateJwk: server.signingKey, issuer: server.issuer }
      : mintJwk && config.mintIssuer
        ? { privateJwk: mintJwk, issuer: config.mintIssuer }
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
      revision: config.spec,
      login,
      redirectUri: `http://127.0.0.1:${await freeLoopbackPort()}/callback`,
      loginTimeoutMs,
      preset: {
        ...(secrets.accessToken ? { accessToken: secrets.accessToken } : {}),
        ...(secrets.accessTokenB ? { accessTokenB: secrets.accessTokenB } : {}),
        ...(config.clientId ? { clientId: config.clientId } : {}),
        ...(secrets.clientSecret ? { clientSecret: secrets.clientSecret } : {}),
      },
      ...(mintKey ? { mintKey } : {}),
      log: (line) => progress.line(line),
    });
    redactor.register(secrets.accessToken, 'access_token');
    redactor.register(secrets.accessTokenB, 'access_token');
    redactor.register(secrets.clientSecret, 'client_secret');
    for (const [, value] of extraHeaders) redactor.register(value, 'token');

    progress.header({
      version: VERSION,
      target: targetUrl,
      embedded: server !== undefined,
      faults: config.faults,
      revision: config.spec,
      total: selected.length,
      strict: config.strict,
    });
    await preflight(recorder, targetUrl, config);
    if (config.login === 'manual')
      await signInFirst(
        fixtures,
        selected,
        Math.min(loginTimeoutMs, config.runTimeout * 1000),
        interrupted.signal,
      );

    results = await runChecks(selected, {
      target: targetUrl,
      revision: config.spec,
      strict: config.strict,
      embedded: server !== undefined,
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
      expectPublic: config.expectPublic,
      allowRaces: config.allowRaces,
      codeLifetimeWaitSeconds,
      // The embedded reference server fetches the harness's loopback documents (allowLoopbackCimd).
      ...(server ? { cimdLoopbackFetch: true } : {}),
      ...(cimdPublishing ? { cimdPublishing } : {}),
      // The embedded reference server's step-up tool needs mcp:write on top of mcp:tools (rs/scopes.ts).
      ...(config.privilegedTool || server ? { privilegedTool: config.privilegedTool ?? 'write_note' } : {}),
      // The embedded reference server declares its own hierarchy (rs/scopes.ts SCOPE_IMPLIES).
      ...(Object.keys(config.scopeImplies).length > 0 || server
        ? { scopeImplies: Object.keys(config.scopeImplies).length > 0 ? config.scopeImplies : SCOPE_IMPLIES }
        : {}),
      // The embedded reference server's multi-round-trip tool (rs/mcp-server.ts).
      ...(config.stateTool || server ? { stateTool: config.stateTool ?? 'read_my_notes' } : {}),
      signal: interrupted.signal,
      onStart: (check) => progress.start(check),
      onResult: (result) => progress.result(result),
    });
    if (interrupted.signal.aborted)
      runError = 'the run was interrupted (SIGINT): checks that had not finished end as error';
  } catch (err) {
    // Whatever went wrong, the report below is still written (with runError) and the exit code is 3.
    runError =
      err instanceof RunCouldNotHappen
        ? err.message
        : `internal error: ${(err as Error)?.stack ?? String(err)}`;
    progress.line(`error: ${redactor.text(runError)}`);
  } finally {
    process.off('SIGINT', onInterrupt);
    io.interrupt?.removeEventListener('abort', onInterrupt);
    await login?.close?.().catch(() => undefined);
    await recorder?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  }

  const verdict = judge(results, { failOn: config.failOn, ...(baseline ? { baseline } : {}) });
  const exitCode = exitCodeOf(results, runError, verdict, config.failOn);
  if (baseline) for (const message of verdict.messages) progress.line(`baseline: ${redactor.text(message)}`);
  const report = buildReport(
    {
      version: VERSION,
      target,
      embedded: !config.target,
      faults: config.faults,
      revision: config.spec,
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
        mintKey: !config.target || mintJwk !== undefined,
      },
      authorizationFlows: fixtures?.authorizationFlows ?? 0,
      humanActions: login?.humanActions ?? 0,
      exitCode,
      ...(runError ? { runError } : {}),
      ...(baseline && config.baseline
        ? {
            baseline: {
              file: config.baseline,
              failOn: config.failOn,
              expected: verdict.expected.map((e) => e.result.id),
              unexpected: verdict.unexpected.map((r) => r.id),
              stale: verdict.stale.map((s) => s.entry.id),
              notRun: verdict.notRun.map((e) => e.id),
              messages: verdict.messages,
            },
          }
        : {}),
      results,
      exchanges: recorder?.exchanges ?? [],
    },
    redactor,
  );
  const outDir = resolve(io.cwd, config.out);
  const files = writeReports(outDir, report, config.format);
  progress.summary(results, {
    durationMs: report.durationMs,
    authorizationFlows: report.authorizationFlows,
    ...(config.login === 'manual' ? { humanActions: report.humanActions } : {}),
    files,
    exitCode,
  });
  return exitCode;
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
  signal: AbortSignal,
): Promise<void> {
  const authorizes = selected.some((c) =>
    c.needs.some((n) => n === 'token' || n === 'client' || n === 'own-client'),
  );
  if (!authorizes) return;
  const token = fixtures.get('token').catch(() => undefined);
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  await Promise.race([token, aborted, bound]);
  clearTimeout(timer);
}

/**
 * 1 if the verdict (results judged by --fail-on and the baseline) says so; else 3 if the run could
 * not happen, or a check could not finish and the baseline does not expect that; else 0.
 * `--fail-on never` leaves only the run that could not happen.
 */
export function exitCodeOf(
  results: readonly CheckResult[],
  runError?: string,
  verdict = judge(results),
  failOn: 'must' | 'should' | 'never' = 'must',
): number {
  if (verdict.exitCode === 1) return 1;
  if (runError) return 3;
  if (failOn === 'never') return 0;
  const expectedErrors = new Set(
    verdict.expected.filter((e) => e.result.status === 'error').map((e) => e.result.id),
  );
  if (results.some((r) => r.status === 'error' && !expectedErrors.has(r.id))) return 3;
  return 0;
}

/**
 * The embedded reference server's authorization codes live 2 s (instead of its usual 60 s) and
 * AS-AUTHZ-12 waits 2.5 s before redeeming one, so the full embedded run proves that check (and its
 * fault as-code-long-lived) in 2.5 s of one worker instead of a minute. The other checks redeem
 * their codes within milliseconds of getting them; 2 s (not 1 s) leaves room for a loaded CI
 * machine running many test workers at once.
 */
export const EMBEDDED_CODE_TTL_SECONDS = 2;
export const EMBEDDED_CODE_LIFETIME_WAIT_SECONDS = 2.5;

class RunCouldNotHappen extends Error {
  override name = 'RunCouldNotHappen';
}

/** One anonymous request: a target that cannot be reached at all ends the run early (exit 3). */
async function preflight(recorder: HttpRecorder, target: string, config: Config): Promise<void> {
  try {
    await mcpCall(
      recorder,
      target,
      config.spec,
      protectedProbe(config.spec, 'preflight: is the target reachable?'),
    );
  } catch (err) {
    if (err instanceof HttpTransportError) {
      throw new RunCouldNotHappen(
        `the target ${target} cannot be reached: ${err.message}. Check the URL and that the server is running.`,
      );
    }
    throw err;
  }
}

function readBaselineOrUsage(file: string): Baseline {
  try {
    return loadBaseline(file);
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(err.message);
    throw err;
  }
}

/** The PEM text of --ca FILE: at least one certificate, or a UsageError saying what is wrong. */
function readCaOrUsage(file: string): string {
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
function makeFolderOrUsage(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UsageError(
      `--cimd-out ${dir}: the folder cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  return dir;
}

function readMintKeyOrUsage(file: string) {
  try {
    return readMintKey(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
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

function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

export { EXIT_MEANING };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
