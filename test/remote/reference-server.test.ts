// The full suite against the reference server deployed the way a real one is (issue #15 §1): in a
// network namespace of its own (it cannot reach the runner's loopback), behind TLS signed by a
// test CA (`run --ca`), 25 ms each way, its consent page on and signed in through the form script.
// Expected: 0 fail, 0 error; every check that needs the server to fetch a document the harness
// hosts concludes nothing (skip) and names --cimd-url-base.
//
// Skips, saying why, where network namespaces cannot be made (not root, no `ip`); CI runs as root.

import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIMD_URL_BASE_HOW } from '../../suites/as-cimd.ts';
import {
  REPO_ROOT,
  type RemoteHost,
  remoteHostUnavailable,
  startRemoteHost,
} from '../helpers/remote-host.ts';
import {
  cannotReachHarness,
  describeResults,
  NEEDS_AS_ON_THIS_MACHINE,
  NEEDS_AS_TO_REACH_HARNESS,
  runSuite,
  startRemoteReferenceServer,
} from './helpers.ts';

const unavailable = remoteHostUnavailable();
const LOGIN_SCRIPT = join(REPO_ROOT, 'fixtures', 'login', 'reference-server.json');

describe('the reference server on a remote host (namespace, TLS with a test CA, 25 ms each way)', () => {
  let host: RemoteHost | undefined;
  let target = '';

  beforeAll(async () => {
    if (unavailable) return;
    host = await startRemoteHost({ latencyMs: 25 });
    ({ target } = await startRemoteReferenceServer(host));
  }, 60_000);
  afterAll(async () => {
    await host?.close();
  }, 30_000);

  it('cannot reach a listener on the runner loopback, while its own loopback answers (the control)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const listener: Server = createServer((_req, res) => res.end('harness')).listen(0, '127.0.0.1');
    await new Promise((r) => listener.once('listening', r));
    const port = (listener.address() as { port: number }).port;
    // A fetch from inside the namespace: exit 0 when it got an answer, 7 when it could not connect.
    const fetchFromInside = (url: string) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          host!.namespace,
          process.execPath,
          '-e',
          `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) }).then(() => process.exit(0), () => process.exit(7))`,
        ],
        { encoding: 'utf8', timeout: 10_000 },
      ).status;
    try {
      expect(fetchFromInside('http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp')).toBe(0);
      expect(fetchFromInside(`http://127.0.0.1:${port}/`)).toBe(7);
    } finally {
      listener.close();
    }
  });

  it('is refused without --ca: the test CA is trusted only when named, never by switching checks off', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const run = await runSuite(['--target', target, '--only', 'RS-PRM-01']);
    expect(run.exitCode).toBe(3);
    expect(run.report.runError).toMatch(/cannot be reached/);
    expect(run.report.runError).toMatch(/certificate|CERT/i);
  });

  it('the full suite with the consent page and form login: 0 fail, 0 error; what needs the server to reach the harness concludes nothing and names --cimd-url-base', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const run = await runSuite([
      '--target',
      target,
      '--login',
      'form',
      '--login-script',
      LOGIN_SCRIPT,
      '--ca',
      host!.caFile,
    ]);
    const { report } = run;
    expect(report.runError).toBeUndefined();
    const bad = report.results.filter((r) => r.status === 'fail' || r.status === 'error');
    expect(describeResults(bad), 'no check fails or errors on the remote reference server').toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(report.results.length).toBeGreaterThan(100);

    const byId = new Map(report.results.map((r) => [r.id, r]));
    for (const id of NEEDS_AS_TO_REACH_HARNESS) {
      const r = byId.get(id);
      expect(r, `${id} ran`).toBeDefined();
      expect(cannotReachHarness(r!), `${id}: ${r!.status} ${r!.message} (${r!.howToProvide})`).toBe(true);
    }
    for (const id of NEEDS_AS_ON_THIS_MACHINE) {
      expect(byId.get(id)?.status, id).toBe('skip');
      expect(byId.get(id)?.howToProvide, id).toMatch(/on the authorization server's machine/);
    }
    // No other check is put down to the harness's reach.
    const others = report.results.filter(
      (r) => cannotReachHarness(r) && !(NEEDS_AS_TO_REACH_HARNESS as readonly string[]).includes(r.id),
    );
    expect(describeResults(others)).toEqual([]);

    // The report says, once per option, what could not run and what would let it run.
    const group = report.couldNotRun?.find((g) => g.howToProvide === CIMD_URL_BASE_HOW);
    expect(group?.checks).toEqual([...NEEDS_AS_TO_REACH_HARNESS]);
    expect(run.summaryMd).toMatch(/## Could not run \(\d+\): what would let them run/);
    expect(run.summaryMd).toContain('--cimd-url-base');
    expect(run.console).toMatch(
      /could not run \d+ check\(s\); to run them:\n {2}- publish the harness's client metadata documents/,
    );

    // Every request went to the target's origin or to the harness's own login callback.
    const origins = new Set(report.exchanges.map((e) => new URL(e.request.url).origin));
    expect(
      [...origins].filter((o) => o !== new URL(target).origin && !/^http:\/\/127\.0\.0\.1:\d+$/.test(o)),
    ).toEqual([]);
  }, 180_000);
});
