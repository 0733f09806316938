// Deterministic verdicts (issue #12 §3): two consecutive runs against the same reference server
// give every check the same status, and results come in catalogue order, not completion order.
// (Each third-party target runs twice in test/targets.)

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../reports/json.ts';
import { type RunningReferenceServer, startReferenceServer } from '../../reference-server/server.ts';
import { main } from '../../cli/main.ts';
import { runEmbedded } from '../../scripts/embedded-run.ts';
import { CHECKS } from '../../suites/index.ts';

type Result = { id: string; status: string; message: string };

/** "ID: first → second (message)" for every check whose status differs. */
function changes(first: readonly Result[], second: readonly Result[]): string[] {
  const before = new Map(first.map((r) => [r.id, r.status]));
  return second
    .filter((r) => before.get(r.id) !== r.status)
    .map((r) => `${r.id}: ${before.get(r.id) ?? '(not run)'} → ${r.status} (${r.message})`);
}

describe('two runs agree exactly', () => {
  it('the embedded reference server: the same status for every check, in catalogue order', async () => {
    const first = await runEmbedded({ revision: '2026-07-28' });
    const second = await runEmbedded({ revision: '2026-07-28' });
    expect(changes(first.report.results, second.report.results)).toEqual([]);
    const catalogue = CHECKS.filter((c) => c.revisions.includes('2026-07-28')).map((c) => c.id);
    expect(first.report.results.map((r) => r.id)).toEqual(catalogue);
  }, 120_000);

  describe('one reference server with its consent page, run against twice (form login)', () => {
    let server: RunningReferenceServer;
    const out = mkdtempSync(join(tmpdir(), 'determinism-'));
    beforeAll(async () => {
      server = await startReferenceServer({ autoApprove: false });
    });
    afterAll(async () => {
      await server.close();
      rmSync(out, { recursive: true, force: true });
    });
    const run = async (n: number): Promise<Result[]> => {
      const dir = join(out, String(n));
      const script = join(process.cwd(), 'fixtures', 'login', 'reference-server.json');
      const argv = ['run', '--target', server.url, '--login', 'form', '--login-script', script];
      await main([...argv, '--out', dir, '--format', 'json'], {
        out: () => undefined,
        err: () => undefined,
        isTTY: false,
        env: {},
        cwd: process.cwd(),
      });
      return (JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report).results;
    };
    it('the same status for every check', async () => {
      const first = await run(1);
      const second = await run(2);
      expect(first.length).toBeGreaterThan(100);
      expect(changes(first, second)).toEqual([]);
    }, 120_000);
  });
});
