// Runs the real CLI (a subprocess, as in CI) against a hostile target and collects what the
// hostile-target test asserts and the benchmark prints: exit code, wall time, peak memory, report
// sizes, every connection and DNS query of the runner's process (spy.ts), the report itself.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { type Behaviour, type HostileTarget, type Scope, startHostileTarget } from './server.ts';

export interface HostileRunOptions {
  /** --timeout of the run, in seconds (a check gets 3x, a login 10x). */
  timeoutSeconds: number;
  /** The run's time bound (config runTimeout), in seconds. */
  runTimeoutSeconds: number;
  concurrency: number;
  /** A directory of its own for this run's config, reports and spy output. */
  dir: string;
  /** The process is killed after this long (a hang of the runner itself), in ms. */
  killAfterMs: number;
}

export interface HostileRun {
  behaviour: Behaviour;
  scope: Scope;
  exitCode: number | null;
  /** Set when the runner was killed or died of a signal. */
  signal: string | null;
  wallMs: number;
  peakRssMb: number | undefined;
  /** Sum of every file in the report directory. */
  reportBytes: number;
  /** The largest file of the report directory. */
  largestReport: { file: string; bytes: number } | undefined;
  stdoutBytes: number;
  stderr: string;
  report: Report | undefined;
  /** Every TCP connection attempt of the runner process (host:port), and every DNS query. */
  connects: string[];
  lookups: string[];
  target: {
    url: string;
    credentialsOrigin: string;
    secrets: string[];
    counts: { requests: number; hostile: number };
  };
  /** Every file of the report directory and stdout, concatenated (for secret searches). */
  allOutput: () => string;
}

export async function runAgainstHostile(
  behaviour: Behaviour,
  scope: Scope,
  options: HostileRunOptions,
): Promise<HostileRun> {
  mkdirSync(options.dir, { recursive: true });
  const out = join(options.dir, 'report');
  const config = join(options.dir, 'config.json');
  const spyOut = join(options.dir, 'spy.json');
  writeFileSync(
    config,
    JSON.stringify({ runTimeout: options.runTimeoutSeconds, concurrency: options.concurrency }),
  );
  const target: HostileTarget = await startHostileTarget(behaviour, scope);
  try {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/hostile/spy.ts',
        'cli/main.ts',
        'run',
        '--target',
        target.url,
        '--out',
        out,
        '--config',
        config,
        '--timeout',
        String(options.timeoutSeconds),
      ],
      { env: { ...process.env, HOSTILE_SPY_OUT: spyOut, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdoutBytes = 0;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdoutBytes += c.length;
      if (stdout.length < 4 * 1024 * 1024) stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += c.toString('utf8');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('close', (code, sig) => resolve([code, sig])),
    );
    clearTimeout(killer);
    const wallMs = Math.round(performance.now() - started);
    const spy = existsSync(spyOut)
      ? (JSON.parse(readFileSync(spyOut, 'utf8')) as {
          maxRssKb: number;
          connects: string[];
          lookups: string[];
        })
      : undefined;
    const files = existsSync(out)
      ? readdirSync(out).map((f) => ({ file: f, bytes: statSync(join(out, f)).size }))
      : [];
    const reportFile = join(out, 'report.json');
    const report = existsSync(reportFile)
      ? ReportSchema.parse(JSON.parse(readFileSync(reportFile, 'utf8')))
      : undefined;
    return {
      behaviour,
      scope,
      exitCode,
      signal,
      wallMs,
      peakRssMb: spy ? Math.round(spy.maxRssKb / 1024) : undefined,
      reportBytes: files.reduce((n, f) => n + f.bytes, 0),
      largestReport: files.sort((a, b) => b.bytes - a.bytes)[0],
      stdoutBytes,
      stderr,
      report,
      connects: spy?.connects ?? [],
      lookups: spy?.lookups ?? [],
      target: {
        url: target.url,
        credentialsOrigin: target.credentials.origin,
        secrets: target.credentials.secrets,
        counts: target.counts(),
      },
      allOutput: () => [stdout, ...files.map((f) => readFileSync(join(out, f.file), 'utf8'))].join('\n'),
    };
  } finally {
    await target.close();
  }
}
