// A third-party target deployed on a remote host (issue #15 §1): mcp-oauth-server 1.0.0
// (fixtures/targets/mcp-oauth-server, its own glue and expected file) in a network namespace of
// its own, behind TLS signed by a test CA, 25 ms each way, named by its public https origin
// (MCP_OAUTH_PUBLIC_URL). Its statuses must equal its expected file, check by check, except the
// checks that cannot run because the server cannot reach the harness (they must say so and name
// --cimd-url-base) and the one that watches a loopback port of the harness for the server's
// connections (AS-CIMD-07: it must say it needs the harness on the server's machine).
//
// The run is the target's own (target.json: --spec 2025-11-25, form login, run-config.json) with
// two changes the remote host needs: the login script matches the https origin, and --allow-races,
// since the race probes run by themselves only against loopback targets (the expected file was
// confirmed with them on loopback).
//
// Skips, saying why, without network namespaces or when the target's dependencies cannot be
// installed.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compare,
  ensureInstalled,
  INSTALL_TIMEOUT_MS,
  loadExpected,
  loadTarget,
  TARGETS_DIR,
} from '../../scripts/target-run.ts';
import { type RemoteHost, remoteHostUnavailable, startRemoteHost } from '../helpers/remote-host.ts';
import {
  cannotReachHarness,
  describeResults,
  NEEDS_AS_ON_THIS_MACHINE,
  NEEDS_AS_TO_REACH_HARNESS,
  runSuite,
} from './helpers.ts';

const NAME = 'mcp-oauth-server';
const FOLDER = join(TARGETS_DIR, NAME);
const unavailable = remoteHostUnavailable();

describe(`${NAME} on a remote host`, () => {
  let host: RemoteHost | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'remote-third-party-'));
  afterAll(async () => {
    await host?.close();
    rmSync(scratch, { recursive: true, force: true });
  }, 30_000);

  it(
    'matches its expected file, except the checks that cannot reach the harness',
    async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      const problem = ensureInstalled(NAME);
      if (problem) return ctx.skip(problem);
      const variant = loadTarget(NAME).find((v) => v.name === 'spec-2025-11-25')!;

      host = await startRemoteHost({ latencyMs: 25 });
      const port = 3200;
      const proc = host.spawn({
        name: NAME,
        command: ['node', 'start.mjs'],
        cwd: FOLDER,
        env: { MCP_OAUTH_PORT: String(port), MCP_OAUTH_PUBLIC_URL: host.origin() },
      });
      const origin = await host.expose(443, port);
      await host.waitReady(`${origin}/.well-known/oauth-authorization-server`, proc);

      // The target's own login script (fixtures/targets/mcp-oauth-server/login-script.json) with
      // the https origin of the remote host instead of http://localhost.
      const script = join(scratch, 'login-script.json');
      writeFileSync(script, JSON.stringify({ steps: [{ match: '^https://[^/]+/consent\\?', fill: {} }] }));
      const run = await runSuite(
        [
          '--target',
          `${origin}/mcp`,
          '--spec',
          '2025-11-25',
          '--login',
          'form',
          '--login-script',
          script,
          '--config',
          join(FOLDER, 'run-config.json'),
          '--ca',
          host.caFile,
          '--allow-races',
        ],
        FOLDER,
      );
      expect(run.report.runError).toBeUndefined();
      const unreachable = new Set(run.report.results.filter(cannotReachHarness).map((r) => r.id));
      // mcp-oauth-server has metadata documents on (its README Quick Start), so AS-CIMD-07 runs on
      // loopback (the expected file) and, against a server elsewhere, says what it needs instead.
      for (const id of NEEDS_AS_ON_THIS_MACHINE) {
        const r = run.report.results.find((x) => x.id === id);
        expect(r?.status, id).toBe('skip');
        expect(r?.howToProvide, id).toMatch(/on the authorization server's machine/);
        unreachable.add(id);
      }
      const differences = compare(run.report, loadExpected(NAME, variant)).filter(
        (d) => !unreachable.has(d.id),
      );
      expect(
        differences.map((d) => `${d.id}: expected ${d.expected}, got ${d.actual} (${d.message ?? ''})`),
        `${NAME} on the remote host differs from ${variant.expected}`,
      ).toEqual([]);
      // Only checks that need the server to fetch the harness's documents are put down to reach
      // (here AS-META-09-A/-B and the AS-CIMD checks: the server advertises metadata documents).
      expect(
        describeResults(
          run.report.results.filter(
            (r) => cannotReachHarness(r) && !(NEEDS_AS_TO_REACH_HARNESS as readonly string[]).includes(r.id),
          ),
        ),
      ).toEqual([]);
    },
    INSTALL_TIMEOUT_MS + 180_000,
  );
});
