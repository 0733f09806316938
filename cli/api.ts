// The programmatic API, what `import … from 'mcp-auth-conformance'` gives:
//
//   const report = await run({ target: 'http://127.0.0.1:3000/mcp', only: ['RS'] });
//   report.verdict.exitCode   // 0 pass, 1 fail, 3 incomplete: the CLI's exit code for the same run
//
// run() takes the options of the config file (schemas/config.schema.json: the same names, checked
// by the same schema, so a mistake is a UsageError naming the option) and resolves with the
// report.json document. It writes report files only when `out` is given.

import { resolve } from 'node:path';
import { startReferenceServer } from '../reference-server/server.ts';
import type { Report } from '../reports/json.ts';
import { ensureWritableDir, writeReports } from '../reports/write.ts';
import type { Check } from '../runner/check.ts';
import type { CheckResult } from '../runner/engine.ts';
import type { Revision } from '../runner/revisions.ts';
import { CHECKS } from '../suites/index.ts';
import { type ConfigInput, UsageError, validateRunOptions } from './config.ts';
import { type CheckListing, checkListing } from './listing.ts';
import { executeRun, prepareRun } from './run.ts';

export type { ReferenceServerOptions } from '../reference-server/context.ts';
export type { RunningReferenceServer } from '../reference-server/server.ts';
export type { Level, Status } from '../runner/check.ts';
export type { CheckResult } from '../runner/engine.ts';
export type { Revision } from '../runner/revisions.ts';
export type { Verdict } from '../runner/verdict.ts';
export { REVISIONS } from '../runner/revisions.ts';
export { VERSION } from './version.ts';
export type { CheckListing, ConfigInput, Report };
export { startReferenceServer, UsageError };

export interface RunOptions extends Omit<ConfigInput, '$schema'> {
  /** Where tokenEnv, tokenBEnv and clientSecretEnv are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Base of relative paths: out, baseline, loginScript, token files (default process.cwd()). */
  cwd?: string;
  /** Aborting it ends the running checks as error; the report is still returned (verdict incomplete). */
  signal?: AbortSignal;
  /** Each check's result as it finishes (completion order). */
  onResult?: (result: CheckResult) => void;
  /** Lines for the operator (the URL to open with login 'manual'). Default: stderr. */
  log?: (line: string) => void;
  /** The checks to choose from (default: the whole catalogue). */
  checks?: readonly Check[];
}

/**
 * Runs the checks against `options.target` (or the embedded reference server) and resolves with
 * the report. Rejects only with a UsageError (bad options, unreadable files); anything that goes
 * wrong with the target is in the report (`runError`, verdict `incomplete`).
 */
export async function run(options: RunOptions = {}): Promise<Report> {
  const { env, cwd: cwdOption, signal, onResult, log, checks, ...input } = options;
  const cwd = cwdOption ?? process.cwd();
  const config = validateRunOptions(input);
  const setup = prepareRun(config, { env: env ?? process.env, cwd, checks: checks ?? CHECKS });
  const outDir = input.out !== undefined ? resolve(cwd, input.out) : undefined;
  if (outDir) {
    try {
      ensureWritableDir(outDir);
    } catch (err) {
      throw new UsageError(
        `out ${input.out}: the report directory cannot be created or written (${(err as Error).message}).`,
      );
    }
  }
  const { report } = await executeRun(setup, {
    ...(signal ? { signal } : {}),
    ...(onResult ? { onResult } : {}),
    log: log ?? ((line) => process.stderr.write(`${line}\n`)),
  });
  if (outDir) writeReports(outDir, report, config.format);
  return report;
}

/** The check catalogue (of one revision, or all), as `mcp-auth-conformance list --json` prints it. */
export function listChecks(options: { spec?: Revision } = {}): CheckListing[] {
  return checkListing(CHECKS, options.spec);
}
