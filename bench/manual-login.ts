// `npx tsx bench/manual-login.ts`: how many times a person must act in a full run with
// `--login manual`, and how long the run takes, against the reference server with its consent page,
// in the configurations an identity provider can have:
//
//   trusted clients        the server asks no consent of a signed-in person (--skip-consent)
//   consent per client     the server's default: consent asked once per client, remembered
//   consent, --client-id   the same, with one client given to the harness (every check shares it)
//
// A scripted Chromium (Debian's /usr/bin/chromium through playwright-core) plays the person: it opens
// the printed URL and answers every page the tab stops on (sign in on the first, approve the
// others). Printed per configuration: authorization flows, human actions the run counted, pages the
// person acted on (the two must agree), checks that errored, wall time.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startReferenceServer } from '../reference-server/server.ts';
import { ReportSchema } from '../reports/json.ts';
import { main } from '../cli/main.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(`${CHROMIUM} is absent (apt-get install chromium): nothing measured`);
  process.exit(0);
}

interface Row {
  config: string;
  exit: number;
  flows: number;
  humanActions: number;
  acted: number;
  errors: number;
  wallS: number;
  /** What the authorizations after the first that needed the person were for (the terminal's lines). */
  neededFor: string[];
}

/** The person: opens the start URL, then answers every sign-in or consent page until the run ends. */
async function person(page: Page, startUrl: string, ended: () => boolean): Promise<number> {
  let acted = 0;
  await page.goto(startUrl);
  while (!ended()) {
    const shown = await page
      .locator('button[value="approve"]')
      .waitFor({ state: 'visible', timeout: 500 })
      .then(
        () => true,
        () => false,
      );
    if (!shown || ended()) continue;
    const before = page.url();
    if ((await page.locator('[name="password"]').count()) > 0) {
      await page.fill('[name="username"]', 'alice');
      await page.fill('[name="password"]', 'alice');
    }
    acted++;
    await page.click('button[value="approve"]').catch(() => undefined);
    await page.waitForURL((u) => u.href !== before, { timeout: 5_000 }).catch(() => undefined);
  }
  return acted;
}

async function measure(config: string, skipConsent: boolean, presetClient: boolean): Promise<Row> {
  const server = await startReferenceServer({ autoApprove: false, skipConsent, allowLoopbackCimd: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  const page = await (await browser.newContext()).newPage();
  const out = mkdtempSync(join(tmpdir(), 'bench-manual-'));
  try {
    const extra: string[] = [];
    if (presetClient) {
      // A loopback redirect URI without a port: the server accepts any port (RFC 8252 §7.3).
      const reg = await fetch(`${server.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          application_type: 'native',
          client_name: 'mcp-auth-conformance (given with --client-id)',
        }),
      });
      extra.push('--client-id', ((await reg.json()) as { client_id: string }).client_id);
    }
    let ended = false;
    let acting: Promise<number> = Promise.resolve(0);
    const neededFor: string[] = [];
    const started = performance.now();
    const exit = await main(
      ['run', '--target', server.url, '--login', 'manual', ...extra, '--out', out, '--format', 'json'],
      {
        out: (text) => {
          const url = /^\s+(http:\/\/127\.0\.0\.1:\d+\/)\s*$/m.exec(text)?.[1];
          if (url) acting = person(page, url, () => ended);
          const needed = /^manual login: authorization \d+ \((.*)\) needed you/m.exec(text)?.[1];
          if (needed) neededFor.push(needed);
        },
        err: (text) => process.stderr.write(text),
        isTTY: false,
        env: {},
        cwd: out,
      },
    );
    const wallS = (performance.now() - started) / 1000;
    ended = true;
    const acted = await acting;
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    return {
      config,
      exit,
      flows: report.authorizationFlows,
      humanActions: report.humanActions,
      acted,
      errors: report.results.filter((r) => r.status === 'error').length,
      wallS,
      neededFor,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
    await browser.close();
    await server.close();
  }
}

const rows = [
  await measure('trusted clients (--skip-consent)', true, false),
  await measure('consent per client (default)', false, false),
  await measure('consent per client, --client-id', false, true),
];
console.log('configuration                       exit  flows  human actions  pages acted on  errors  wall s');
for (const r of rows) {
  console.log(
    `${r.config.padEnd(36)}${String(r.exit).padEnd(6)}${String(r.flows).padStart(5)}  ${String(r.humanActions).padStart(13)}  ${String(r.acted).padStart(14)}  ${String(r.errors).padStart(6)}  ${r.wallS.toFixed(1).padStart(6)}`,
  );
}
for (const r of rows.filter((x) => x.neededFor.length > 0 && x.neededFor.length <= 5))
  console.log(`${r.config}: after the sign-in, needed for ${r.neededFor.join('; ')}`);
console.log(`node ${process.version}, ${CHROMIUM}`);
