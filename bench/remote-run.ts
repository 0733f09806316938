// `npx tsx bench/remote-run.ts [runs] [-- extra run flags]`: wall time, requests sent and
// authorization flows of a full run against the reference server deployed on a remote test host
// (its own network namespace, TLS from a test CA, 25 ms each way: test/helpers/remote-host.ts),
// next to the same run against the same server on loopback (plain http, no added latency). Both
// servers run as their own process with the consent page on, signed in through the form script,
// as a deployed server would be; the runner is the CLI's `main(['run', ...])` in this process.
//
// Where the time goes: the sum of the checks' own durations, the five slowest checks, the mean
// time of one request, and the CPU seconds of the runner (this process) and of the target's
// processes (the server, and the TLS edge on the remote host), so a slow run can be read as
// "sequential waits", "too little parallelism" or "out of CPU". Extra `run` flags after `--` (e.g. `-- --concurrency 8`) apply to both targets.
// Needs root for the namespace; without it only the loopback row is printed, with the reason.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '../runner/fixtures.ts';
import { REPO_ROOT, remoteHostUnavailable, startRemoteHost } from '../test/helpers/remote-host.ts';
import { type RemoteRun, runSuite, startRemoteReferenceServer } from '../test/remote/helpers.ts';

const dash = process.argv.indexOf('--');
const runs = Number(process.argv[2] && process.argv[2] !== '--' ? process.argv[2] : 3);
const extra = dash === -1 ? [] : process.argv.slice(dash + 1);
const LOGIN = [
  '--login',
  'form',
  '--login-script',
  join(REPO_ROOT, 'fixtures', 'login', 'reference-server.json'),
];

interface Row {
  where: string;
  run: number;
  exit: number;
  checks: number;
  wallMs: number;
  requests: number;
  flows: number;
  checkMs: number;
  meanRequestMs: number;
  slowest: string;
  runnerCpuS: number;
  targetCpuS: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where unreadable). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Runs the suite once, with the CPU the runner and the target processes spent on it. */
async function measured(
  where: string,
  run: number,
  args: readonly string[],
  targetPids: readonly (number | undefined)[],
): Promise<Row> {
  const cpuBefore = process.cpuUsage();
  const targetCpu = () => targetPids.map(cpuSecondsOf).reduce((a, b) => a + b, 0);
  const targetBefore = targetCpu();
  const result = await runSuite(args);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...rowOf(where, run, result),
    runnerCpuS: (cpu.user + cpu.system) / 1e6,
    targetCpuS: targetCpu() - targetBefore,
  };
}

function rowOf(where: string, run: number, r: RemoteRun): Omit<Row, 'runnerCpuS' | 'targetCpuS'> {
  const results = [...r.report.results].sort((a, b) => b.durationMs - a.durationMs);
  const exchanges = r.report.exchanges;
  return {
    where,
    run,
    exit: r.exitCode,
    checks: r.report.results.length,
    wallMs: r.wallMs,
    requests: exchanges.length,
    flows: r.report.authorizationFlows,
    checkMs: results.reduce((n, x) => n + x.durationMs, 0),
    meanRequestMs: exchanges.reduce((n, e) => n + e.durationMs, 0) / Math.max(1, exchanges.length),
    slowest: results
      .slice(0, 5)
      .map((x) => `${x.id} ${(x.durationMs / 1000).toFixed(1)}s`)
      .join(', '),
  };
}

async function loopbackServer(): Promise<{ target: string; child: ChildProcess }> {
  const port = await freeLoopbackPort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'serve', '--host', '127.0.0.1', '--port', String(port)],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  const target = `http://127.0.0.1:${port}/mcp`;
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
      await res.body?.cancel();
      if (res.ok) return { target, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('the loopback reference server did not start');
}

const rows: Row[] = [];

const loopback = await loopbackServer();
try {
  for (let i = 1; i <= runs; i++)
    rows.push(
      await measured('loopback', i, ['--target', loopback.target, ...LOGIN, ...extra], [loopback.child.pid]),
    );
} finally {
  loopback.child.kill('SIGTERM');
}

const why = remoteHostUnavailable();
if (why) {
  console.log(`remote host not measured: ${why}`);
} else {
  const host = await startRemoteHost({ latencyMs: 25 });
  try {
    const { target } = await startRemoteReferenceServer(host);
    const pids = host.processes.map((p) => p.child.pid);
    for (let i = 1; i <= runs; i++)
      rows.push(
        await measured('remote 25ms', i, ['--target', target, ...LOGIN, '--ca', host.caFile, ...extra], pids),
      );
  } finally {
    await host.close();
  }
}

console.log(`extra run flags: ${extra.join(' ') || '(none)'}`);
console.log(
  'where        run exit checks  wall s  requests flows  sum(check) s  mean request ms  runner CPU s  target CPU s',
);
for (const r of rows) {
  console.log(
    `${r.where.padEnd(12)} ${String(r.run).padStart(3)} ${String(r.exit).padStart(4)} ${String(r.checks).padStart(6)} ${(r.wallMs / 1000).toFixed(1).padStart(7)} ${String(r.requests).padStart(9)} ${String(r.flows).padStart(5)} ${(r.checkMs / 1000).toFixed(1).padStart(13)} ${r.meanRequestMs.toFixed(1).padStart(16)} ${r.runnerCpuS.toFixed(1).padStart(13)} ${r.targetCpuS.toFixed(1).padStart(13)}`,
  );
}
for (const where of [...new Set(rows.map((r) => r.where))]) {
  const mine = rows.filter((r) => r.where === where);
  const walls = mine.map((r) => r.wallMs).sort((a, b) => a - b);
  console.log(
    `${where}: median wall ${(walls[Math.floor(walls.length / 2)]! / 1000).toFixed(1)} s; slowest checks (last run): ${mine.at(-1)!.slowest}`,
  );
}
console.log(
  `node ${process.version}; load average ${(await import('node:os'))
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
);
