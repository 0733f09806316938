// The checks that need the authorization server to fetch a client metadata document the harness
// hosts (AS-META-09-A/-B, AS-CIMD-*), when the AS cannot or will not fetch it, and when the
// operator publishes the documents (--cimd-url-base URL --cimd-out DIR). All on loopback:
//
// - the reference server as `serve` runs it by default (loopback metadata-document fetches refused,
//   as a production AS must): nothing can be concluded, every such check skips and names
//   --cimd-url-base (issue #15: AS-META-09-A used to fail here);
// - the documents published in a folder a web server serves: the checks run and pass on a clean
//   server, still fail on the faults they name, and conclude nothing when the folder is not served.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ReferenceServerOptions, startReferenceServer } from '../../reference-server/server.ts';
import { checks as cimdChecks, CIMD_URL_BASE_HOW } from '../../suites/as-cimd.ts';
import { AS_META_09_A, AS_META_09_B } from '../../suites/as-metadata.ts';
import { runAgainstEmbedded, summarize } from '../helpers/run-checks.ts';
import { describeResults, NEEDS_AS_TO_REACH_HARNESS, runSuite } from './helpers.ts';

const CHECKS = [AS_META_09_A, AS_META_09_B, ...cimdChecks];
const ONLY = ['--only', 'AS-META-09,AS-CIMD', '--spec', '2025-11-25'];

describe('an AS that refuses to fetch loopback documents (serve without --allow-loopback-cimd)', () => {
  it('every check that needs it to fetch the harness document skips and names --cimd-url-base; none fails', async () => {
    const results = await runAgainstEmbedded(CHECKS, {
      revision: '2025-11-25',
      server: { allowLoopbackCimd: false },
    });
    const bad = results.filter((r) => r.status === 'fail' || r.status === 'warn' || r.status === 'error');
    expect(summarize(bad)).toBe(summarize([]));
    for (const id of NEEDS_AS_TO_REACH_HARNESS) {
      const r = results.find((x) => x.id === id)!;
      expect(r.status, summarize([r])).toBe('skip');
      expect(r.howToProvide, id).toBe(CIMD_URL_BASE_HOW);
    }
    // The SSRF check does not need a document: it still runs (and the guard holds).
    expect(results.find((r) => r.id === 'AS-CIMD-07')?.status).toBe('pass');
  });

  it('the same AS with loopback fetches allowed but metadata documents switched off still fails (the harness knows it may fetch)', async () => {
    const results = await runAgainstEmbedded([AS_META_09_A, cimdChecks[0]!], {
      revision: '2025-11-25',
      faults: ['as-cimd-disabled'],
    });
    expect(results.map((r) => `${r.id} ${r.status}`)).toEqual(['AS-META-09-A fail', 'AS-CIMD-01 warn']);
  });
});

/** A web server for the --cimd-out folder at <origin>/docs, as an operator would run behind a tunnel. */
async function serveFolder(dir: string): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = normalize(join(dir, path.replace(/^\/docs\//, '/')));
    if (!path.startsWith('/docs/') || !file.startsWith(dir)) return void res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}/docs`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('documents published with --cimd-url-base and --cimd-out', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** `run --target` against a reference server (loopback http documents admitted), documents in a served folder. */
  async function runPublished(server: ReferenceServerOptions, opts: { serve?: boolean } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-out-'));
    dirs.push(dir);
    const folder = opts.serve === false ? undefined : await serveFolder(dir);
    const ref = await startReferenceServer({ autoApprove: true, allowLoopbackCimd: true, ...server });
    try {
      const base = folder?.base ?? 'http://127.0.0.1:9/docs';
      return await runSuite(['--target', ref.url, ...ONLY, '--cimd-url-base', base, '--cimd-out', dir]);
    } finally {
      await ref.close();
      await folder?.close();
    }
  }

  it('clean server: every metadata-document check runs and passes (fetches are not observable, so none is needed)', async () => {
    const { report } = await runPublished({});
    const notPass = report.results.filter((r) => r.status !== 'pass');
    expect(describeResults(notPass)).toEqual([]);
    expect(report.results.map((r) => r.id)).toEqual(
      [...NEEDS_AS_TO_REACH_HARNESS, 'AS-CIMD-07'].sort(byCatalogue),
    );
    // The documents were read back through the base before the AS was asked to fetch them.
    expect(report.exchanges.some((e) => e.label === 'CIMD: is the document served at --cimd-url-base?')).toBe(
      true,
    );
  }, 60_000);

  it.each([
    ['as-cimd-client-id-mismatch-accepted', ['AS-CIMD-02 fail', 'AS-CIMD-04 fail']],
    ['as-cimd-caches-errors', ['AS-CIMD-08 fail']],
    ['as-cimd-secret-accepted', ['AS-CIMD-06 warn']], // SHOULD: derived, CIMD-00 §4.1 binds the document
    ['as-cimd-redirect-unchecked', ['AS-CIMD-03 fail']],
  ])(
    'the fault %s still turns its checks red (or amber)',
    async (fault, red) => {
      const { report } = await runPublished({ faults: [fault] });
      const notPass = report.results.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.status}`);
      expect(notPass).toEqual(red);
    },
    60_000,
  );

  it('an AS that never uses the published documents: nothing concluded (its trust policy may exclude the host)', async () => {
    const { report } = await runPublished({ faults: ['as-cimd-disabled'] });
    const r = report.results.find((x) => x.id === 'AS-META-09-A')!;
    expect(r.status).toBe('skip');
    expect(r.message).toMatch(/trust policy/);
    expect(r.howToProvide).toMatch(
      /let the authorization server fetch documents under http:\/\/127\.0\.0\.1:\d+\/docs/,
    );
  }, 60_000);

  it('a folder nobody serves: each check says the document is not served at its URL, and how to serve it', async () => {
    const { report } = await runPublished({}, { serve: false });
    const needing = report.results.filter((r) =>
      (NEEDS_AS_TO_REACH_HARNESS as readonly string[]).includes(r.id),
    );
    expect(needing.map((r) => r.status)).toEqual(needing.map(() => 'skip'));
    for (const r of needing) {
      expect(r.message, r.id).toMatch(/not served at its URL/);
      expect(r.howToProvide, r.id).toMatch(
        /serve the --cimd-out folder live at http:\/\/127\.0\.0\.1:9\/docs/,
      );
    }
  }, 60_000);
});

/** Catalogue order of the checks above (AS-META before AS-CIMD, then by number). */
function byCatalogue(a: string, b: string): number {
  const order = [...NEEDS_AS_TO_REACH_HARNESS, 'AS-CIMD-07'];
  const rank = (id: string) => (id === 'AS-CIMD-07' ? order.indexOf('AS-CIMD-06') + 0.5 : order.indexOf(id));
  return rank(a) - rank(b);
}
