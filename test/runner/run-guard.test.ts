// A run always ends with its reports (issue #14): a rejection or exception that escapes a check
// becomes an `error` on that check (or a harness error of the run), never the end of the process;
// a run that stops at the preflight reports every selected check as not started.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../reports/json.ts';
import { main } from '../../cli/main.ts';
import { selectChecks } from '../../runner/engine.ts';
import { CHECKS } from '../../suites/index.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-guard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readReport = (out: string) =>
  ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));

describe('the process-level guard', () => {
  it('turns escaped rejections and exceptions into errors on their checks and writes the reports', () => {
    const out = join(dir, 'leaky');
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/runner/helpers/leaky-run.ts', out], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toMatch(/run exit code 3\n$/);
    const report = readReport(out);
    const byId = new Map(report.results.map((r) => [r.id, r]));
    expect(byId.get('T-LEAK-01')).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/after the check ended.*late rejection of T-LEAK-01/),
      notes: expect.arrayContaining([expect.stringMatching(/verdict before the escape: pass: looked fine/)]),
    });
    expect(byId.get('T-LEAK-02')).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/failed with nobody waiting for it.*thrown in a timer of T-LEAK-02/),
    });
    expect(byId.get('T-LEAK-02')!.durationMs).toBeLessThan(350);
    expect(byId.get('T-LEAK-03')?.status).toBe('pass');
    expect(report.harnessErrors).toEqual([expect.stringMatching(/rejection outside any check/)]);
    expect(report.exitCode).toBe(3);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('a run that stops at the preflight', () => {
  it('reports every selected check as an error that was not started, with the reason', async () => {
    const port = await closedPort();
    const out = join(dir, 'unreachable');
    let printed = '';
    const code = await main(
      [
        'run',
        '--target',
        `http://127.0.0.1:${port}/mcp`,
        '--only',
        'RS-PRM,AS-META',
        '--out',
        out,
        '--format',
        'json,md',
      ],
      { out: (t) => void (printed += t), err: (t) => void (printed += t), isTTY: false, env: {}, cwd: dir },
    );
    expect(code).toBe(3);
    const report = readReport(out);
    const { selected } = selectChecks(CHECKS, { revision: '2026-07-28', only: ['RS-PRM', 'AS-META'] });
    expect(selected.length).toBeGreaterThan(10);
    expect(report.results.map((r) => r.id)).toEqual(selected.map((c) => c.id));
    expect(report.summary.total).toBe(selected.length);
    for (const r of report.results) {
      expect(r.status).toBe('error');
      expect(r.message).toMatch(/^not started: the target .* cannot be reached/);
    }
    expect(printed).toMatch(new RegExp(`${selected.length} check\\(s\\): .*${selected.length} error`));
  });
});
