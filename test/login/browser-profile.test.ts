// `--login browser` keeps one Chromium profile for the whole run (issue #15 §3): the script signs in
// once, and every later authorization rides the identity provider's session, as in a person's
// browser. Against the reference server with its consent page (consent asked once per client),
// the credentials are posted once; a client the run registered later gets a consent page without
// password fields, which the script's second step approves. Skips, saying why, where Chromium is
// not installed (CI installs it: see .ci/run).

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startReferenceServer } from '../../reference-server/server.ts';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { main } from '../../cli/main.ts';
import { DEFAULT_CHROMIUM_PATH } from '../../runner/login/browser.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
const SCRIPT = new URL('../../fixtures/login/reference-server.json', import.meta.url).pathname;

/** The form POSTs Chromium made during the run's logins (recorded as exchanges). */
function browserPosts(report: Report) {
  return report.exchanges.filter((e) => e.label?.startsWith('browser login: POST'));
}

describe.skipIf(!existsSync(CHROMIUM))(`--login browser: one profile for the run (${CHROMIUM})`, () => {
  it('signs in once: one credential POST for the run, later clients only consented, no error', async () => {
    const server = await startReferenceServer({ autoApprove: false, allowLoopbackCimd: true });
    const out = mkdtempSync(join(tmpdir(), 'browser-profile-'));
    const lines: string[] = [];
    try {
      const exitCode = await main(
        [
          'run',
          '--target',
          server.url,
          '--login',
          'browser',
          '--login-script',
          SCRIPT,
          '--only',
          'AS-PKCE',
          '--out',
          out,
          '--format',
          'json',
        ],
        { out: (t) => lines.push(t), err: (t) => lines.push(t), isTTY: false, env: {}, cwd: out },
      );
      const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
      const errors = report.results.filter((r) => r.status === 'error' || r.status === 'fail');
      expect(
        errors.map((r) => `${r.id} ${r.status}: ${r.message}`),
        lines.join(''),
      ).toEqual([]);
      expect(exitCode).toBe(0);
      const posts = browserPosts(report);
      const withCredentials = posts.filter((e) => /(^|&)username=/.test(e.request.body ?? ''));
      // One sign-in for the whole run; every other POST is a consent for a client not seen before.
      expect(withCredentials).toHaveLength(1);
      expect(posts.length).toBeGreaterThan(1);
      expect(posts.length).toBeLessThan(report.authorizationFlows);
      expect(report.humanActions).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
      await server.close();
    }
  }, 90_000);
});

if (!existsSync(CHROMIUM)) {
  describe('--login browser: one profile for the run', () => {
    it.skip(`skipped: ${CHROMIUM} is absent (apt-get install chromium)`, () => {});
  });
}
