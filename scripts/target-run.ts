// Runs the full suite against one third-party target (fixtures/targets/<name>/) and compares the
// result with that target's expected file, check by check (issue #9).
//
// A target folder holds target.json (how to start it, where its MCP endpoint is, how to log in, and
// one entry per variant), its own package.json + package-lock.json (exact versions, installed into
// the folder, never into the repository root), the glue, and one expected file per variant:
//
//   { "$comment": "...", "RS-401-08": { "status": "fail", "comment": "POST /mcp ... → 500 ..." }, ... }
//
// The comparison is exact per check ID: a status that differs fails (a new failure, and also an
// expected failure that now passes), a check that ran but is not listed fails (a finding nobody
// confirmed), and a listed check that did not run fails (a stale entry).
//
// Ports: target.json writes `{port:NAME}`; each NAME gets a free loopback port picked at start
// (bind 127.0.0.1:0, read it, release it), so runs never collide on the fixed ports of targets.md.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ReportSchema, type Report } from '../reports/json.ts';
import { main } from '../cli/main.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS_DIR = join(REPO_ROOT, 'fixtures', 'targets');

/** One process of a target. `cwd` is "target" (its folder, the default) or "repo" (the repository root). */
const ProcessSchema = z.strictObject({
  name: z.string().min(1),
  /** argv; the first element "node" is this Node (process.execPath). `{port:X}` is substituted. */
  command: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.enum(['target', 'repo']).default('target'),
  /** A URL that answers (any status below 500) once the process is ready. */
  ready: z.string().min(1),
});

const VariantSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().min(1),
  processes: z.array(ProcessSchema).min(1),
  /** The MCP endpoint the suite runs against. */
  target: z.string().min(1),
  /** Extra `run` flags; file arguments are relative to the target folder. */
  args: z.array(z.string()).default([]),
  /** The expected-results file of this variant, relative to the target folder. */
  expected: z.string().min(1),
});

export const TargetSchema = z.strictObject({
  $comment: z.string().optional(),
  variants: z.array(VariantSchema).min(1),
});

export type TargetVariant = z.infer<typeof VariantSchema>;

export const ExpectedEntrySchema = z.strictObject({
  status: z.enum(['pass', 'fail', 'warn', 'skip', 'error', 'info']),
  comment: z.string().min(1),
  /**
   * True when the verdict is caused by our glue (start.mjs, the target's wiring) rather than by
   * the product (issue #13 §6): the product's documentation leaves the behaviour to the
   * integrator, and our integration decided it. The comparison treats it like any entry.
   */
  glue: z.boolean().optional(),
});
export type ExpectedEntry = z.infer<typeof ExpectedEntrySchema>;

/** Time bounds: install, start, and the whole run of one variant. */
export const INSTALL_TIMEOUT_MS = 240_000;
const READY_TIMEOUT_MS = 30_000;
export const RUN_TIMEOUT_MS = 240_000;

export function listTargets(): string[] {
  return readdirSync(TARGETS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(TARGETS_DIR, d.name, 'target.json')))
    .map((d) => d.name)
    .sort();
}

export function loadTarget(name: string): TargetVariant[] {
  const file = join(TARGETS_DIR, name, 'target.json');
  return TargetSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).variants;
}

/** The IDs of the expected entries marked `glue: true`, sorted. */
export function glueEntries(expected: Record<string, ExpectedEntry>): string[] {
  return Object.entries(expected)
    .filter(([, entry]) => entry.glue === true)
    .map(([id]) => id)
    .sort();
}

export function loadExpected(name: string, variant: TargetVariant): Record<string, ExpectedEntry> {
  const raw = JSON.parse(readFileSync(join(TARGETS_DIR, name, variant.expected), 'utf8')) as Record<
    string,
    unknown
  >;
  const entries: Record<string, ExpectedEntry> = {};
  for (const [id, value] of Object.entries(raw)) {
    if (id === '$comment') continue;
    entries[id] = ExpectedEntrySchema.parse(value);
  }
  return entries;
}

/**
 * Installs the target's exact dependencies into its own folder (`npm ci --prefix`), once: an
 * existing node_modules is kept. Returns undefined when ready, or why it could not be installed.
 * Test files run in parallel workers and two of them may want the same target (test/targets and
 * test/remote): an exclusive lock file in the target folder makes the second wait for the first,
 * since two `npm ci` into one folder at once break each other.
 */
export function ensureInstalled(name: string): string | undefined {
  const dir = join(TARGETS_DIR, name);
  if (!existsSync(join(dir, 'package.json'))) return undefined;
  const lock = join(dir, '.install-lock');
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  while (!takeLock(lock)) {
    if (Date.now() > deadline) return `another process held ${lock} for ${INSTALL_TIMEOUT_MS} ms`;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  }
  try {
    if (existsSync(join(dir, 'node_modules'))) return undefined;
    const result = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
    });
    if (result.status === 0) return undefined;
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    const why = result.error?.message ?? `${result.stderr}`.trim().split('\n').slice(-3).join(' | ');
    return `npm ci --prefix fixtures/targets/${name} failed (no registry access?): ${why}`;
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Creates `lock` holding this pid; false while a live process holds it (a dead holder's lock is taken over). */
function takeLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let holder = 0;
  try {
    holder = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false; // released just now: try again
  }
  // An empty file is a holder between creating and writing it; only a dead pid's lock is taken over.
  if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) rmSync(lock, { force: true });
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function assignPorts(variant: TargetVariant): Promise<Map<string, number>> {
  const text = JSON.stringify(variant);
  const names = new Set([...text.matchAll(/\{port:([a-z0-9-]+)\}/g)].map((m) => m[1]!));
  const ports = new Map<string, number>();
  for (const n of names) ports.set(n, await freeLoopbackPort());
  return ports;
}

function substitute(text: string, ports: Map<string, number>): string {
  return text.replace(/\{port:([a-z0-9-]+)\}/g, (_, n: string) => String(ports.get(n)));
}

interface Started {
  name: string;
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

function startProcess(
  name: string,
  spec: z.infer<typeof ProcessSchema>,
  ports: Map<string, number>,
): Started {
  const [command, ...args] = spec.command.map((a) => substitute(a, ports));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' };
  for (const [k, v] of Object.entries(spec.env)) env[k] = substitute(v, ports);
  const child = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: spec.cwd === 'repo' ? REPO_ROOT : join(TARGETS_DIR, name),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString('utf8'));
    if (log.length > 200) log.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { name: spec.name, child, log, exited };
}

async function waitReady(url: string, proc: Started): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${proc.name} exited (code ${exitCode}) before it answered: ${proc.log.join('').slice(-800)}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${proc.name} did not answer ${url} within ${READY_TIMEOUT_MS} ms: ${proc.log.join('').slice(-800)}`,
  );
}

async function stopProcess(proc: Started): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const killed = setTimeout(() => proc.child.kill('SIGKILL'), 3000);
  await proc.exited;
  clearTimeout(killed);
}

export interface Difference {
  id: string;
  expected: string;
  actual: string;
  /** The harness's message for the check, to start confirming a new result by hand. */
  message?: string;
}

/** Exact comparison per check ID: differing status, unlisted result, and stale entry all count. */
export function compare(report: Report, expected: Record<string, ExpectedEntry>): Difference[] {
  const differences: Difference[] = [];
  const ran = new Set<string>();
  for (const result of report.results) {
    ran.add(result.id);
    const entry = expected[result.id];
    if (!entry) {
      differences.push({
        id: result.id,
        expected: '(not listed)',
        actual: result.status,
        message: result.message,
      });
    } else if (entry.status !== result.status) {
      differences.push({
        id: result.id,
        expected: entry.status,
        actual: result.status,
        message: result.message,
      });
    }
  }
  for (const [id, entry] of Object.entries(expected)) {
    if (!ran.has(id)) differences.push({ id, expected: entry.status, actual: '(did not run)' });
  }
  return differences;
}

export interface VariantOutcome {
  target: string;
  variant: string;
  report: Report;
  exitCode: number;
  differences: Difference[];
  /** The check IDs whose expected entry is marked glue (our wiring, not the product, decides them). */
  glue: string[];
  durationMs: number;
  /** The console output of the run (for a failing comparison). */
  console: string;
}

/**
 * Starts the variant's processes (in order, each ready before the next), runs the suite in process
 * against its MCP endpoint, stops everything it started, and compares with the expected file.
 * `keepReport` copies report.json there instead of deleting it (for confirming results by hand).
 */
export async function runVariant(
  name: string,
  variant: TargetVariant,
  options: { keepReport?: string } = {},
): Promise<VariantOutcome> {
  const started = performance.now();
  const ports = await assignPorts(variant);
  const procs: Started[] = [];
  const out = options.keepReport ?? mkdtempSync(join(tmpdir(), `target-${name}-`));
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const spec of variant.processes) {
      const proc = startProcess(name, spec, ports);
      procs.push(proc);
      await waitReady(substitute(spec.ready, ports), proc);
    }
    const folder = join(TARGETS_DIR, name);
    const args = variant.args.map((a) => substitute(a, ports));
    // Arguments naming a file of the target folder are made absolute (the CLI resolves against cwd).
    const resolved = args.map((a, i) =>
      i > 0 && /^--(login-script|config|baseline|mint-key)$/.test(args[i - 1]!) ? join(folder, a) : a,
    );
    const lines: string[] = [];
    const run = main(
      ['run', '--target', substitute(variant.target, ports), '--out', out, '--format', 'json', ...resolved],
      { out: (t) => lines.push(t), err: (t) => lines.push(t), isTTY: false, env: {}, cwd: folder },
    );
    const exitCode = await Promise.race([
      run,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`the run against ${name}/${variant.name} took more than ${RUN_TIMEOUT_MS} ms`)),
          RUN_TIMEOUT_MS,
        );
      }),
    ]);
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    const expected = loadExpected(name, variant);
    const differences = compare(report, expected);
    if (report.runError) {
      differences.unshift({
        id: '(run)',
        expected: 'a complete run',
        actual: 'run error',
        message: report.runError,
      });
    }
    return {
      target: name,
      variant: variant.name,
      report,
      exitCode,
      differences,
      glue: glueEntries(expected),
      durationMs: Math.round(performance.now() - started),
      console: lines.join(''),
    };
  } finally {
    clearTimeout(timer);
    for (const proc of procs.reverse()) await stopProcess(proc);
    if (!options.keepReport) rmSync(out, { recursive: true, force: true });
  }
}
