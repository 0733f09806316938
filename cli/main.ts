// The `mcp-auth-conformance` command: run, list, serve.
//
// Exit codes (DESIGN.md §Contracts; issue #4 §Commands), decided for a run by runner/verdict.ts:
//   0 the run passes (no check that counts failed)
//   1 a check that counts failed, or the baseline disagrees
//   2 bad usage or configuration (the message says what to change)
//   3 the run could not happen or complete: target unreachable or not an MCP endpoint, a check the
//     harness could not finish (status error) with no failure, or an internal error
// report.json is written whatever the outcome once a run has started (also for exit code 3).
//
// This module stays light: `--version` and `--help` load nothing else; each command imports what
// it needs when it runs (the suites, the reference server and zod take most of a start-up).

import { resolve } from 'node:path';
import { setMaxListeners } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { Check } from '../runner/check.ts';
import type { Redactor } from '../runner/redact.ts';
import { VERSION } from './version.ts';

export { VERSION };

export interface CliIo {
  /** Writes text as is (progress, reports to stdout). */
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** The terminal's width (the status line is cut to it); undefined when unknown. */
  columns?: () => number | undefined;
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
  serve    run the reference server (same as "npm run reference-server")

Options:
  -h, --help     this text ("mcp-auth-conformance run --help" for run's options)
  -v, --version  print the version

Exit codes: 0 the run passes, 1 a check failed (or the baseline disagrees), 2 bad usage or
configuration, 3 the run could not happen or complete (target unreachable or not an MCP
endpoint, harness error).
`;

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'list':
        return await listCommand(rest, io);
      case 'serve': {
        const { serve } = await import('./serve.ts');
        return await serve(rest, {
          out: (line) => io.out(`${line}\n`),
          err: (line) => io.err(`${line}\n`),
          checks: io.checks ?? (await import('../suites/index.ts')).CHECKS,
        });
      }
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
    // By name, not instanceof: importing config.ts here would load zod for --version too.
    if ((err as Error)?.name === 'UsageError') {
      io.err(`error: ${(err as Error).message}\n`);
      return 2;
    }
    io.err(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 3;
  }
}

async function listCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { listHelp, loadListConfig } = await import('./config.ts');
  const values = loadListConfig(argv);
  if (values.help) {
    io.out(listHelp());
    return 0;
  }
  // `list --spec auto` lists every revision's checks (auto is a run's choice).
  const spec = values.spec === 'auto' ? undefined : values.spec;
  const { checkListing } = await import('./listing.ts');
  const registry = io.checks ?? (await import('../suites/index.ts')).CHECKS;
  if (values.json) {
    io.out(`${JSON.stringify(checkListing(registry, spec), null, 2)}\n`);
    return 0;
  }
  const checks = registry.filter((c) => spec === undefined || c.revisions.includes(spec));
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
  // The escape guard first: nothing that fails unawaited while the run loads or runs may end it.
  const { installEscapeGuard } = await import('./escape-guard.ts');
  const lines: string[] = [];
  let say: (line: string) => void = (line) => {
    lines.push(line);
  };
  let redact = (text: string) => text;
  const guard = installEscapeGuard(
    (line) => say(line),
    (text) => redact(text),
  );
  try {
    return await guardedRunCommand(argv, io, guard.harnessErrors, (log, redactText) => {
      say = log;
      redact = redactText;
      for (const line of lines.splice(0)) log(line);
    });
  } finally {
    guard.dispose();
  }
}

async function guardedRunCommand(
  argv: readonly string[],
  io: CliIo,
  harnessErrors: string[],
  attach: (log: (line: string) => void, redact: (text: string) => string) => void,
): Promise<number> {
  const { loadRunConfig, runHelp, UsageError } = await import('./config.ts');
  const loaded = loadRunConfig(argv, io.cwd);
  if (loaded.help) {
    io.out(runHelp());
    return 0;
  }
  const config = loaded.config;
  const [{ prepareRun, executeRun }, { Progress }, { ensureWritableDir, writeReports }, { Redactor }] =
    await Promise.all([
      import('./run.ts'),
      import('./progress.ts'),
      import('../reports/write.ts'),
      import('../runner/redact.ts'),
    ]);
  const setup = prepareRun(config, {
    env: io.env,
    cwd: io.cwd,
    checks: io.checks ?? (await import('../suites/index.ts')).CHECKS,
    ...(loaded.configFile ? { configFile: loaded.configFile } : {}),
  });
  // The report directory is created and written to before the first request: a run that cannot
  // keep its evidence is not worth starting.
  const outDir = resolve(io.cwd, config.out);
  try {
    ensureWritableDir(outDir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `${loaded.nameOf('out')} ${config.out}: the report directory cannot be created or written (${e.message}).`,
    );
  }

  const redactor = io.redactor ?? new Redactor();
  const progress = new Progress({
    write: io.out,
    tty: io.isTTY,
    env: io.env,
    redactor,
    ...(io.columns ? { columns: io.columns } : {}),
  });
  attach(
    (line) => progress.line(line),
    (text) => redactor.text(text),
  );
  const interrupted = new AbortController();
  // Every running check listens to it (up to --concurrency, 32): not a leak.
  setMaxListeners(0, interrupted.signal);
  const onInterrupt = () => {
    if (interrupted.signal.aborted) process.exit(130);
    progress.line(
      'interrupted: ending the running checks and writing the report (Ctrl-C again quits at once)',
    );
    interrupted.abort();
  };
  if (io.interrupt) io.interrupt.addEventListener('abort', onInterrupt, { once: true });
  else process.on('SIGINT', onInterrupt);

  let outcome: Awaited<ReturnType<typeof executeRun>>;
  try {
    outcome = await executeRun(setup, {
      redactor,
      harnessErrors,
      signal: interrupted.signal,
      interruptedMessage: 'the run was interrupted (SIGINT): checks that had not finished end as error',
      log: (line) => progress.line(line),
      onHeader: (info) => progress.header(info),
      onStart: (check) => progress.start(check),
      onResult: (result) => progress.result(result),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    io.interrupt?.removeEventListener('abort', onInterrupt);
  }
  const { report, verdict, results } = outcome;
  let files: string[];
  try {
    files = writeReports(outDir, report, config.format);
  } catch (err) {
    progress.line(`error: the reports could not be written to ${outDir}: ${(err as Error).message}`);
    return 3;
  }
  progress.summary(results, verdict, {
    durationMs: report.durationMs,
    authorizationFlows: report.authorizationFlows,
    ...(config.login === 'manual' ? { humanActions: report.humanActions } : {}),
    files,
  });
  return verdict.exitCode;
}

/** The real process: stdout and stderr, and a reader that has gone away (`list | head -1`) ends output quietly. */
function processIo(): CliIo {
  const closed = { out: false, err: false };
  const quietOnEpipe = (stream: NodeJS.WriteStream, which: 'out' | 'err') =>
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closed[which] = true;
    });
  quietOnEpipe(process.stdout, 'out');
  quietOnEpipe(process.stderr, 'err');
  return {
    out: (text) => {
      if (!closed.out) process.stdout.write(text);
    },
    err: (text) => {
      if (!closed.err) process.stderr.write(text);
    },
    isTTY: process.stdout.isTTY === true,
    columns: () => process.stdout.columns,
    env: process.env,
    cwd: process.cwd(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
