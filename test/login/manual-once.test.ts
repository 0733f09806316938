// A person signs in once (issue #15 §3): the full suite with `--login manual` against the reference
// server with its consent page on. A scripted Chromium stands in for the person: it opens the
// printed URL, signs in as alice on the first page, and then does nothing else; every later
// authorization must ride the tab's sign-in session, forwarded by the manual driver's loopback
// listener. Skips, saying why, where Chromium is not installed (CI installs it: see .ci/run).
//
// The server trusts the clients it registers (`skipConsent`: no consent page for a signed-in
// person), as an identity provider configured for the harness does (Keycloak "Consent required"
// off, Okta consent_method TRUSTED): the run registers a client per check that consumes grants
// (issue #12), and an IdP that asks consent per new client asks once per such client. The second
// test measures exactly that: with consent per client the person approves each new client, and
// each approval counts.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { main } from '../../cli/main.ts';
import {
  approveEverything,
  type Browser,
  CHROMIUM,
  haveChromium,
  launchChromium,
  type Page,
  START_URL,
} from '../helpers/person.ts';

/** The whole run (every check, one sign-in) must finish within this. */
const RUN_BOUND_MS = 90_000;
/** The run's own bound (config file `runTimeout`, s): a tab that stalls ends the run, not the test. */
const RUN_TIMEOUT_S = 80;

interface ManualRun {
  exitCode: number;
  report: Report;
  console: string;
  wallMs: number;
  /** Pages the scripted person acted on (sign-in and consent forms). */
  acted: number;
}

/**
 * `run --target SERVER --login manual` in process; `person` plays the browser once the start URL
 * is printed. Resolves when the run has ended.
 */
async function runManual(
  target: string,
  extra: readonly string[],
  person: (page: Page, startUrl: string, runEnded: Promise<unknown>) => Promise<number>,
  browser: Browser,
): Promise<ManualRun> {
  const out = mkdtempSync(join(tmpdir(), 'manual-once-'));
  writeFileSync(join(out, 'mcp-auth-conformance.config.json'), JSON.stringify({ runTimeout: RUN_TIMEOUT_S }));
  const lines: string[] = [];
  let startUrl: ((url: string) => void) | undefined;
  const printed = new Promise<string>((resolve) => {
    startUrl = resolve;
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = performance.now();
  try {
    const run = main(
      ['run', '--target', target, '--login', 'manual', ...extra, '--out', out, '--format', 'json,md'],
      {
        out: (text) => {
          lines.push(text);
          const url = START_URL.exec(text)?.[1];
          if (url) startUrl?.(url);
        },
        err: (text) => lines.push(text),
        isTTY: false,
        env: {},
        cwd: out,
      },
    );
    // The person: as soon as the URL is printed (or never, if the run ends first).
    const acting = Promise.race([printed, run.then(() => undefined)]).then((url) =>
      url === undefined ? 0 : person(page, url, run),
    );
    const exitCode = await run;
    const wallMs = performance.now() - started;
    const acted = await acting;
    const file = join(out, 'report.json');
    if (!existsSync(file)) throw new Error(`no report.json (exit ${exitCode}):\n${lines.join('')}`);
    const report = ReportSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    return { exitCode, report, console: lines.join(''), wallMs, acted };
  } finally {
    await context.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** The person signs in once on the first page, then leaves the tab alone. */
async function signInOnce(page: Page, startUrl: string): Promise<number> {
  await page.goto(startUrl);
  await page.fill('[name="username"]', 'alice');
  await page.fill('[name="password"]', 'alice');
  await page.click('button[value="approve"]');
  return 1;
}

/** IDs and messages of the results that errored, for an assertion's failure. */
const errors = (report: Report) =>
  report.results.filter((r) => r.status === 'error').map((r) => `${r.id}: ${r.message}`);

describe.skipIf(!haveChromium)(`--login manual: a person signs in once (${CHROMIUM})`, () => {
  let browser: Browser;
  const servers: RunningReferenceServer[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
  });

  it(
    'the full suite: one sign-in, one human action, no error, every authorization through the one tab',
    async () => {
      const server = await startReferenceServer({
        autoApprove: false,
        skipConsent: true,
        allowLoopbackCimd: true,
      });
      servers.push(server);
      const run = await runManual(server.url, [], signInOnce, browser);
      const { report } = run;
      expect(report.options.login).toBe('manual');
      expect(errors(report), run.console).toEqual([]);
      expect(report.results.filter((r) => r.status === 'fail').map((r) => `${r.id}: ${r.message}`)).toEqual(
        [],
      );
      // Every authorization of the run went through the tab; the person acted on the first only.
      expect(report.authorizationFlows).toBeGreaterThan(15);
      expect(report.humanActions, run.console).toBe(1);
      expect(run.console).toMatch(/authorization flow\(s\), 1 of them needed you in the browser/);
      expect(run.console).not.toMatch(/needed you:/);
      expect(run.wallMs).toBeLessThan(RUN_BOUND_MS);
      console.log(
        `--login manual, full suite: ${report.authorizationFlows} flows, ${report.humanActions} human action(s), ${(run.wallMs / 1000).toFixed(1)} s`,
      );
    },
    RUN_BOUND_MS + 30_000,
  );

  it(
    'consent per client (the server default): every new client the run registers needs the person, and each counts, named in the terminal',
    async () => {
      const server = await startReferenceServer({ autoApprove: false, allowLoopbackCimd: true });
      servers.push(server);
      // The PKCE and token checks: several clients of their own, some authorizing twice.
      const run = await runManual(server.url, ['--only', 'AS-PKCE,AS-TOKEN'], approveEverything, browser);
      const { report } = run;
      expect(errors(report), run.console).toEqual([]);
      // What the person did, and what the run counted, agree: a sign-in and one consent per new client.
      expect(run.acted).toBeGreaterThan(3);
      expect(report.humanActions, run.console).toBe(run.acted);
      // Fewer than the flows: a client approved once is not asked again (the session remembers it).
      expect(report.humanActions).toBeLessThan(report.authorizationFlows);
      // Every one after the first sign-in is named, with the check that needed it.
      const named = run.console.match(
        /^manual login: authorization \d+ \((check [A-Z]|the shared).*needed you: the person acted in the browser\.$/gm,
      );
      expect(named?.length, run.console).toBe(run.acted - 1);
      expect(report.summary.total).toBeGreaterThan(10);
    },
    RUN_BOUND_MS + 30_000,
  );
});

if (!haveChromium) {
  describe('--login manual: a person signs in once', () => {
    it.skip(`skipped: ${CHROMIUM} is absent (apt-get install chromium)`, () => {});
  });
}
