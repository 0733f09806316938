// Refresh-token checks against two behaviours of real authorization servers that the reference
// server does not have, each through the whole CLI against a fake third-party target
// (test/helpers/fake-mcp-target.ts), found while re-confirming the third-party expected files
// (fixtures/targets/, issue #13 §6):
//
// - oidc-provider and better-auth issue refresh tokens only for offline_access (which they list in
//   scopes_supported), with prompt=consent. The harness asks again with it (offlineAccessRetry);
//   every check that needs a refresh token must then run, judge the grant it actually holds
//   (its scope includes offline_access), and report which request brought the refresh token.
// - The SDK example's demo AS answers 500 to an unknown code and to every refresh (its refresh
//   grant is "Not implemented"): a refused made-up refresh token proves nothing there.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { main } from '../../cli/main.ts';
import { type FakeTarget, type FakeTargetOptions, startFakeTarget } from '../helpers/fake-mcp-target.ts';

let target: FakeTarget | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await target?.close();
  target = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Result = Report['results'][number];

/** `run --target` against a fake target with `--only ids`; the results by check ID. */
async function run(options: FakeTargetOptions, ids: string[]): Promise<Map<string, Result>> {
  target = await startFakeTarget(options);
  const dir = mkdtempSync(join(tmpdir(), 'as-refresh-targets-'));
  dirs.push(dir);
  let out = '';
  await main(
    [
      'run',
      '--target',
      target.url,
      '--login',
      'auto',
      '--out',
      dir,
      '--format',
      'json',
      '--timeout',
      '3',
      '--spec',
      '2026-07-28',
      '--only',
      ids.join(','),
    ],
    { out: (t) => (out += t), err: (t) => (out += t), isTTY: false, env: {}, cwd: dir },
  );
  const report = ReportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  const results = new Map(report.results.map((r) => [r.id, r]));
  for (const id of ids) if (!results.has(id)) throw new Error(`${id} did not run:\n${out}`);
  return results;
}

const line = (r: Result | undefined) => (r ? `${r.id} ${r.status}: ${r.message}` : '(missing)');

describe('an AS that issues refresh tokens only for offline_access (and lists it)', () => {
  const OFFLINE: FakeTargetOptions = { refreshTokens: 'offline-access' };

  it('every check that needs a refresh token asks again with offline_access and runs', async () => {
    // Before: AS-TOKEN-05, AS-TOKEN-15, AS-REVOKE-03, AS-REVOKE-04 and AS-RACE-02 took a plain
    // grant and skipped with "no refresh token is issued".
    const ids = ['AS-TOKEN-05', 'AS-TOKEN-15', 'AS-REVOKE-03', 'AS-REVOKE-04', 'AS-RACE-02'];
    const results = await run(OFFLINE, ids);
    for (const id of ids) {
      const r = results.get(id);
      expect(r?.status, line(r)).toBe('pass');
    }
  });

  it('AS-REFRESH-06 compares an omitted scope with the scope granted (offline_access included)', async () => {
    // Before: "a refresh without scope got "mcp offline_access", not the original "mcp"" (fail).
    const r = (await run(OFFLINE, ['AS-REFRESH-06'])).get('AS-REFRESH-06');
    expect(r?.status, line(r)).toBe('pass');
    expect(r?.data).toMatchObject({
      grantedScope: 'mcp offline_access',
      scopeWithoutRequest: 'mcp offline_access',
    });
  });

  it('AS-META-15 says the refresh token came only with offline_access, which is listed', async () => {
    // Before: "a refresh token is issued without offline_access" (the pooled redemption that had
    // asked again with offline_access was read as the one without it).
    const r = (await run(OFFLINE, ['AS-META-15'])).get('AS-META-15');
    expect(r?.status, line(r)).toBe('pass');
    expect(r?.message).toBe('refresh tokens come only with offline_access, and scopes_supported lists it');
    expect(r?.data['refresh token']).toEqual({
      'scope mcp': 'not issued',
      'scope mcp offline_access': 'issued (asked with prompt=consent)',
    });
  });
});

describe("an AS that replays a rotation's answer to a reused refresh token (better-auth's MCP plugin, 30 s)", () => {
  it('AS-RACE-02 counts one issuance replayed, not 20 winners; AS-REFRESH-03 owns the reuse', async () => {
    // Before: "20 of 20 parallel refreshes with one refresh token got tokens (at most 1 may)",
    // or 1 of 20 when the others arrived before the replay was stored: a verdict by timing.
    const results = await run({ refreshTokens: 'offline-access', refreshReplay: true }, [
      'AS-RACE-02',
      'AS-REFRESH-03',
    ]);
    const race = results.get('AS-RACE-02');
    expect(race?.status, line(race)).toBe('pass');
    expect(race?.message).toMatch(/all with the same access token: one issuance, replayed/);
    const reuse = results.get('AS-REFRESH-03');
    expect(reuse?.status, line(reuse)).toBe('fail');
  });
});

describe('an AS whose refresh grant answers 500 to everything', () => {
  it('AS-REFRESH-08 concludes nothing from a refused made-up refresh token', async () => {
    // Before: pass, with the control "a made-up code" answered 500 counted as a success.
    const r = (await run({ tokenErrors500: true }, ['AS-REFRESH-08'])).get('AS-REFRESH-08');
    expect(r?.status, line(r)).toBe('skip');
    expect(r?.message).toMatch(/^control failed: a made-up refresh token was refused \(HTTP 500/);
  });
});
