// Shared by the remote-host tests and bench/remote-run.ts: a full `run` in process against a target
// in a remote test host (test/helpers/remote-host.ts), and what "cannot reach the harness" means.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { main } from '../../cli/main.ts';
import { CIMD_URL_BASE_HOW } from '../../suites/as-cimd.ts';
import { REPO_ROOT, type RemoteHost, type RemoteProcess } from '../helpers/remote-host.ts';

/**
 * The checks whose probe needs the authorization server to fetch a document the harness hosts
 * (a client metadata document): against a server that cannot reach the harness, each must
 * conclude nothing (skip) and name the option that would let it run.
 */
export const NEEDS_AS_TO_REACH_HARNESS = [
  'AS-META-09-A',
  'AS-META-09-B',
  'AS-CIMD-01',
  'AS-CIMD-02',
  'AS-CIMD-03',
  'AS-CIMD-04',
  'AS-CIMD-05',
  'AS-CIMD-06',
  'AS-CIMD-08',
  'AS-CIMD-09',
  'AS-CIMD-10',
] as const;

/** AS-CIMD-07 watches a loopback port of the harness: it needs an AS on the harness's machine. */
export const NEEDS_AS_ON_THIS_MACHINE = ['AS-CIMD-07'] as const;

/** Does this result say it could not run because the AS cannot reach the harness's documents? */
export function cannotReachHarness(result: Report['results'][number]): boolean {
  return result.status === 'skip' && result.howToProvide === CIMD_URL_BASE_HOW;
}

/**
 * Starts the reference server in the remote host as a deployed one runs: on the namespace's
 * loopback behind the TLS edge, its consent page on (no --auto-approve), named by its public
 * origin (--public-url), and without loopback metadata-document fetches.
 */
export async function startRemoteReferenceServer(
  host: RemoteHost,
): Promise<{ target: string; proc: RemoteProcess }> {
  const port = 3000;
  const proc = host.spawn({
    name: 'reference server',
    command: [
      'node',
      '--import',
      'tsx',
      'cli/main.ts',
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--public-url',
      host.origin(),
    ],
  });
  const origin = await host.expose(443, port);
  await host.waitReady(`${origin}/.well-known/oauth-protected-resource/mcp`, proc);
  return { target: `${origin}/mcp`, proc };
}

export interface RemoteRun {
  exitCode: number;
  report: Report;
  summaryMd: string;
  console: string;
  wallMs: number;
}

/** `mcp-auth-conformance run ARGS --out TMP --format json,md` in process; the reports are read and removed. */
export async function runSuite(args: readonly string[], cwd = REPO_ROOT): Promise<RemoteRun> {
  const out = mkdtempSync(join(tmpdir(), 'remote-run-'));
  const lines: string[] = [];
  const started = performance.now();
  try {
    const exitCode = await main(['run', ...args, '--out', out, '--format', 'json,md'], {
      out: (t) => lines.push(t),
      err: (t) => lines.push(t),
      isTTY: false,
      env: {},
      cwd,
    });
    const wallMs = performance.now() - started;
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    return {
      exitCode,
      report,
      summaryMd: readFileSync(join(out, 'summary.md'), 'utf8'),
      console: lines.join(''),
      wallMs,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** `ID status: message` for results, to read in an assertion's failure. */
export function describeResults(results: readonly Report['results'][number][]): string[] {
  return results.map((r) => `${r.id} ${r.status}: ${r.message}`);
}
