// The terminal: results in catalogue order, a status line cut to the terminal's width (none when
// not a TTY), a closing recap of every fail, warn and error; a reader that goes away (EPIPE) ends
// output quietly; --out is proven writable before the first request; a target that does not
// answer like an MCP endpoint ends the run with exit 3 and a hint.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../cli/main.ts';
import { startReferenceServer } from '../../reference-server/server.ts';
import type { Report } from '../../reports/json.ts';
import { defineCheck, type Level } from '../../runner/check.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], extra: Partial<CliIo> = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    isTTY: false,
    env: {},
    cwd: dir,
    ...extra,
  });
  return { code, out, err };
}

/** A check that waits `ms`, then ends as told: finishing order differs from catalogue order. */
const timed = (id: string, ms: number, outcome: 'pass' | 'fail' | 'warn' | 'error', level: Level = 'MUST') =>
  defineCheck({
    id,
    title: `${outcome} after ${ms} ms`,
    level: outcome === 'warn' ? 'SHOULD' : level,
    refs: ['test'],
    revisions: ['2026-07-28'],
    needs: [],
    faults: [],
    requirement: 'test',
    remediation: 'test',
    control: 'None: a test check.',
    async run(t) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (outcome === 'pass') t.conforms('fine');
      else if (outcome === 'error') throw new Error('the harness tripped over its own feet');
      else t.violated(`what was seen for ${id}, on\nseveral   lines`);
    },
  });

const CHECKS = [
  timed('T-ORD-01', 120, 'pass'),
  timed('T-ORD-02', 10, 'fail'),
  timed('T-ORD-03', 80, 'warn'),
  timed('T-ORD-04', 5, 'pass'),
  timed('T-ORD-05', 40, 'error'),
  timed('T-ORD-06', 1, 'pass'),
];
const resultIds = (out: string) =>
  [...out.matchAll(/^(?:PASS|FAIL|WARN|ERROR|SKIP|INFO)\s+(T-ORD-\d+)/gm)].map((m) => m[1]);

describe('results on the terminal', () => {
  it('are printed in catalogue order whatever order they finish in, the same on every run', async () => {
    const args = ['run', '--only', 'T-ORD', '--concurrency', '6', '--out', 'ord', '--format', 'json'];
    const first = await cli(args, { checks: CHECKS });
    const second = await cli(args, { checks: CHECKS });
    expect(resultIds(first.out)).toEqual(CHECKS.map((c) => c.id));
    expect(resultIds(second.out)).toEqual(resultIds(first.out));
  });

  it('end with a recap of every fail, error and warn, each with its one-line reason', async () => {
    const { out } = await cli(['run', '--only', 'T-ORD', '--out', 'recap', '--format', 'json'], {
      checks: CHECKS,
    });
    const recap = out.slice(out.indexOf('Needs attention:'));
    expect(recap.split('\n').slice(1, 4)).toEqual([
      '  FAIL  T-ORD-02     what was seen for T-ORD-02, on several lines',
      expect.stringMatching(/^ {2}ERROR T-ORD-05 {5}harness error: .*the harness tripped over its own feet/),
      '  WARN  T-ORD-03     what was seen for T-ORD-03, on several lines',
    ]);
    expect(recap).toMatch(/\nverdict: Not conformant: 1 check failed\n/);
  });

  it('show a status line that fits the terminal width on a TTY, and none otherwise', async () => {
    const run = (columns: number | undefined, isTTY: boolean) =>
      cli(['run', '--only', 'T-ORD', '--concurrency', '6', '--out', 'tty', '--format', 'json'], {
        checks: CHECKS,
        isTTY,
        env: { NO_COLOR: '1' },
        columns: () => columns,
      });
    for (const columns of [40, 120]) {
      const { out } = await run(columns, true);
      const statusLines = [...out.matchAll(/ {2}running \([^\r\n]*/g)].map((m) => m[0]);
      expect(statusLines.length).toBeGreaterThan(0);
      for (const line of statusLines) expect(line.length).toBeLessThan(columns);
      expect(statusLines.some((line) => line.endsWith('…'))).toBe(columns === 40);
    }
    const plain = await run(200, false);
    expect(plain.out).not.toMatch(/\r|\x1b|running \(/);
  });
});

describe('a reader that goes away', () => {
  it.each([['list'], ['list', '--json']])(
    '%j | head -1 ends quietly',
    async (...args) => {
      const command = `set -o pipefail; node bin/mcp-auth-conformance.js ${args.join(' ')} | head -1`;
      const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn('bash', ['-c', command], { cwd: ROOT });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(ran.stderr).toBe('');
      expect(ran.code).toBe(0);
      expect(ran.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    },
    30_000,
  );
});

/** A loopback HTTP server that answers every request with `handler` and counts them. */
async function fakeTarget(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('--out is proven writable before the first request', () => {
  it.each([
    ['a directory that cannot be created', '/proc/nope'],
    ['a file where the directory should be', 'a-file'],
  ])('%s: exit 2 at once, and the target is never contacted', async (_name, out) => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const target = await fakeTarget((_req, res) => res.writeHead(401).end());
    try {
      const started = Date.now();
      const r = await cli(['run', '--target', `${target.url}/mcp`, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`--out ${out}: the report directory cannot be created or written`));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(target.hits()).toBe(0);
    } finally {
      await target.close();
    }
  });
});

describe('a target that does not answer like an MCP endpoint', () => {
  it('a plain web server (HTML pages, 405 to POST): exit 3, the report says so and hints at /mcp', async () => {
    const site = await fakeTarget((req, res) => {
      if (req.method === 'POST')
        res
          .writeHead(405, { 'content-type': 'text/html' })
          .end('<html><body>Method Not Allowed</body></html>');
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Home</title>');
    });
    try {
      const r = await cli(['run', '--target', `${site.url}/`, '--out', 'site', '--format', 'json']);
      expect(r.code).toBe(3);
      expect(r.out).toContain('Is this the MCP endpoint?');
      expect(r.out).toContain(`try --target ${site.url}/mcp`);
      const report = JSON.parse(readFileSync(join(dir, 'site', 'report.json'), 'utf8')) as Report;
      expect(report.runError).toMatch(
        /does not answer like an MCP endpoint \(POST → 405 \(an HTML page\), POST → 405 \(an HTML page\)\)/,
      );
      expect(report.verdict.exitCode).toBe(3);
      // Every selected check is reported, as not started, with the reason (issue #14).
      expect(report.results.length).toBeGreaterThan(100);
      expect(report.results.every((r) => r.status === 'error' && /^not started: /.test(r.message))).toBe(
        true,
      );
    } finally {
      await site.close();
    }
  });

  it('the reference server without its /mcp path: exit 3 with the right URL to try', async () => {
    const server = await startReferenceServer({ autoApprove: true });
    try {
      const origin = new URL(server.url).origin;
      const r = await cli(['run', '--target', origin, '--out', 'origin', '--format', 'json']);
      expect(r.code).toBe(3);
      expect(r.out).toContain(`try --target ${server.url}`);
    } finally {
      await server.close();
    }
  });

  it('a redirect: the hint names where it points', async () => {
    const moved = await fakeTarget((_req, res) => res.writeHead(308, { location: '/v2/mcp' }).end());
    try {
      const r = await cli(['run', '--target', `${moved.url}/mcp`, '--out', 'moved', '--format', 'json']);
      expect(r.code).toBe(3);
      expect(r.out).toContain(`It redirects: try --target ${moved.url}/v2/mcp`);
    } finally {
      await moved.close();
    }
  });

  it('an endpoint answering JSON-RPC errors with 404 is MCP speaking: the run goes on', async () => {
    const rpc = await fakeTarget((_req, res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}'),
    );
    try {
      const r = await cli(
        ['run', '--target', `${rpc.url}/mcp`, '--only', 'T-ORD-06', '--out', 'rpc', '--format', 'json'],
        {
          checks: CHECKS,
        },
      );
      expect(r.out).not.toContain('Is this the MCP endpoint?');
      expect(r.code).toBe(0);
    } finally {
      await rpc.close();
    }
  });
});
