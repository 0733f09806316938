// Runs checks in process, through the engine, against a fresh embedded reference server (the way
// `run` without --target does), then closes the server and the HTTP client. For suite tests:
// clean server → pass, server with a fault → fail/warn.

import { SCOPE_IMPLIES } from '../../reference-server/rs/scopes.ts';
import { type ReferenceServerOptions, startReferenceServer } from '../../reference-server/server.ts';
import type { Check } from '../../runner/check.ts';
import { EMBEDDED_CODE_LIFETIME_WAIT_SECONDS, EMBEDDED_CODE_TTL_SECONDS } from '../../cli/config.ts';
import { type CheckResult, runChecks } from '../../runner/engine.ts';
import { freeLoopbackPort, RunFixtures } from '../../runner/fixtures.ts';
import { HttpRecorder } from '../../runner/http.ts';
import { createLoginDriver } from '../../runner/login/index.ts';
import type { FormScript } from '../../runner/login/shared.ts';
import { Redactor } from '../../runner/redact.ts';
import type { Revision } from '../../runner/revisions.ts';

export interface EmbeddedRunOptions {
  faults?: readonly string[];
  revision?: Revision;
  strict?: boolean;
  /** Extra reference-server options (faults and autoApprove are set from here). */
  server?: ReferenceServerOptions;
  /** `--expect-public` (RS-PUB checks). */
  expectPublic?: readonly string[];
  /** `--privileged-tool`; default write_note, as `run` sets it for the embedded server. */
  privilegedTool?: string;
  /** `--scope-implies`; default the reference server's own hierarchy, as `run` sets it for the embedded server. */
  scopeImplies?: Readonly<Record<string, readonly string[]>>;
  /** `--state-tool`; default read_my_notes, as `run` sets it for the embedded server. */
  stateTool?: string;
  /** `--code-lifetime-wait` (AS-AUTHZ-12); default what `run` uses against its embedded server (whose codes live 1 s). */
  codeLifetimeWaitSeconds?: number;
  /** Default true. False: the consent page is on (AS-AUTHZ-10: no redirect before sign-in). */
  autoApprove?: boolean;
  /** Default true. False: the engine treats the server as a foreign target (expectedSkipInEmbedded is not applied). */
  embedded?: boolean;
  /** A form login script (with autoApprove: false, fixtures/login/reference-server.json); default: the auto driver. */
  loginScript?: FormScript;
  /** With `loginScript`: play it in headless Chromium (the browser driver) instead of the form driver. */
  loginDriver?: 'form' | 'browser';
}

/** The checks of `checks` that apply to the revision, run against a new embedded server. */
export async function runAgainstEmbedded(
  checks: readonly Check[],
  options: EmbeddedRunOptions = {},
): Promise<CheckResult[]> {
  const revision = options.revision ?? '2026-07-28';
  const serverOptions: ReferenceServerOptions = {
    allowLoopbackCimd: true,
    codeTtlSeconds: EMBEDDED_CODE_TTL_SECONDS,
    ...options.server,
    autoApprove: options.autoApprove ?? true,
    faults: [...(options.faults ?? [])],
  };
  const server = await startReferenceServer(serverOptions);
  const recorder = new HttpRecorder({ allowedOrigins: [server.url, server.issuer], timeoutMs: 5_000 });
  // The browser driver keeps one Chromium for the run: closed in `finally`.
  const login = options.loginScript
    ? createLoginDriver({ driver: options.loginDriver ?? 'form', script: options.loginScript })
    : createLoginDriver({ driver: 'auto' });
  try {
    const fixtures = new RunFixtures({
      recorder,
      redactor: new Redactor(),
      target: server.url,
      revision,
      login,
      redirectUri: `http://127.0.0.1:${await freeLoopbackPort()}/callback`,
      loginTimeoutMs: 5_000,
      mintKey: { privateJwk: server.signingKey, issuer: server.issuer },
    });
    return await runChecks(
      checks.filter((c) => c.revisions.includes(revision)),
      {
        target: server.url,
        revision,
        strict: options.strict ?? false,
        embedded: options.embedded ?? true,
        embeddedAutoApproves: server.autoApproves,
        http: recorder,
        fixtures,
        requestTimeoutMs: 5_000,
        checkTimeoutMs: 15_000,
        fixtureTimeoutMs: 15_000,
        runTimeoutMs: 30_000,
        concurrency: 4,
        expectPublic: options.expectPublic ?? [],
        privilegedTool: options.privilegedTool ?? 'write_note',
        codeLifetimeWaitSeconds: options.codeLifetimeWaitSeconds ?? EMBEDDED_CODE_LIFETIME_WAIT_SECONDS,
        scopeImplies: options.scopeImplies ?? SCOPE_IMPLIES,
        stateTool: options.stateTool ?? 'read_my_notes',
        // As `run` does for its embedded server: this AS is known to fetch loopback documents.
        cimdLoopbackFetch: server.fetchesLoopbackDocuments,
      },
    );
  } finally {
    await login.close?.();
    await recorder.close();
    await server.close();
  }
}

/** One line per result, for assertion messages. */
export function summarize(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.id} ${r.status}: ${r.message}`).join('\n');
}
