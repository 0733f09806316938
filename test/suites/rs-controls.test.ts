// Controls of the RS negative probes (issue #12 item 1), the revision a target speaks (--spec auto,
// issue #13 item 2) and the audience checks with real tokens (issue #13 item 3), each through the
// whole CLI against a fake third-party target (test/helpers/fake-mcp-target.ts): an MCP endpoint
// and its authorization server with opaque, introspectable tokens, each behaviour a switch.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../../reports/json.ts';
import { defineCheck } from '../../runner/check.ts';
import { main } from '../../cli/main.ts';
import { judgeAllRefused, presentToken } from '../../suites/token-probes.ts';
import { runAgainstEmbedded } from '../helpers/run-checks.ts';
import { type FakeTarget, type FakeTargetOptions, startFakeTarget } from '../helpers/fake-mcp-target.ts';

let target: FakeTarget | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await target?.close();
  target = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  report: Report;
  out: string;
  summary: string;
  /** The environment the run was given (the secrets, to look for them in the report). */
  env: Record<string, string>;
  result(id: string): Report['results'][number];
}

/** `run --target` against a fake target; `token: true` presets a valid token (--token-env). */
async function run(
  options: FakeTargetOptions,
  args: string[],
  opts: { token?: boolean; foreignFor?: string } = {},
): Promise<Run> {
  target = await startFakeTarget(options);
  const dir = mkdtempSync(join(tmpdir(), 'rs-controls-'));
  dirs.push(dir);
  const env: Record<string, string> = {};
  const extra: string[] = [];
  if (opts.token) {
    env.RS_CONTROLS_TOKEN = target.issue(target.url);
    extra.push('--token-env', 'RS_CONTROLS_TOKEN');
  }
  if (opts.foreignFor) {
    env.RS_CONTROLS_FOREIGN = target.issue(opts.foreignFor);
    extra.push('--foreign-token-env', 'RS_CONTROLS_FOREIGN');
  }
  let out = '';
  const code = await main(
    [
      'run',
      '--target',
      target.url,
      '--login',
      'auto',
      '--out',
      dir,
      '--format',
      'json,md',
      '--timeout',
      '3',
      ...extra,
      ...args,
    ],
    { out: (t) => (out += t), err: (t) => (out += t), isTTY: false, env, cwd: dir },
  );
  const report = ReportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  return {
    code,
    report,
    out,
    summary: readFileSync(join(dir, 'summary.md'), 'utf8'),
    env,
    result: (id) => {
      const r = report.results.find((x) => x.id === id);
      if (!r) throw new Error(`${id} did not run: ${report.results.map((x) => x.id).join(', ')}`);
      return r;
    },
  };
}

const line = (r: Report['results'][number]) => `${r.id} ${r.status}: ${r.message}`;

/** The checks that judge a refusal and reach their control on a target that answers 401 to everything. */
const REACH_CONTROL: Record<string, string[]> = {
  '2026-07-28': [
    'RS-401-01',
    'RS-401-08',
    'RS-401-10',
    'RS-401-16',
    'RS-401-17',
    'RS-401-18',
    'RS-401-19',
    'RS-401-20',
    'RS-401-22',
    'RS-AUD-01',
    'RS-AUD-03',
    'RS-TRN-01',
    'RS-TRN-02',
    'RS-PUB-02',
    'RS-PUB-03',
  ],
  '2025-11-25': ['RS-401-01', 'RS-401-08', 'RS-401-10', 'RS-401-18', 'RS-401-19', 'RS-TRN-01', 'RS-PUB-02'],
};

describe('a target that refuses everything, valid tokens included: the refusals prove nothing', () => {
  for (const revision of ['2026-07-28', '2025-11-25'] as const) {
    it(`${revision}: every check that judges a refusal skips ("control failed"), none passes or fails`, async () => {
      const r = await run({ refuseEverything: true }, ['--spec', revision, '--only', 'RS'], { token: true });
      for (const id of REACH_CONTROL[revision]!) {
        const result = r.result(id);
        expect(line(result)).toMatch(new RegExp(`^${id} skip: control failed: `));
        expect(result.howToProvide, id).toBeTruthy();
      }
      // Nothing that rests on a refusal of the probe may pass or fail: the token is refused too.
      const judgedRefusals = r.report.results.filter(
        (x) =>
          /^RS-(401-(0[89]|1\d|2[02])|AUD|403|TRN-0[1235]|SESS|PUB-0[23])/.test(x.id) && x.status !== 'skip',
      );
      expect(judgedRefusals.map(line)).toEqual([]);
    });
  }

  it('a shared token revoked between the probes (the "after" control fails) also ends as skip, never pass', async () => {
    // The token works once: the "before" control uses it, the tampered probe is refused, the
    // "after" control is refused: the refusal of the probe may be the revocation's doing.
    const r = await run({ revokeAfterUses: 1 }, ['--spec', '2026-07-28', '--only', 'RS-401-10'], {
      token: true,
    });
    expect(line(r.result('RS-401-10'))).toMatch(
      /^RS-401-10 skip: control failed: the same request with the harness's access token was served before the probes but answered HTTP 401 error="invalid_token" after them/,
    );
    expect(r.result('RS-401-10').data.control).toMatchObject({
      before: { status: 200 },
      after: { status: 401 },
    });
  });

  it('the same target with working tokens: the same checks conclude (the control is what decided)', async () => {
    const r = await run({}, ['--spec', '2026-07-28', '--only', 'RS-401-08,RS-401-10,RS-401-18,RS-TRN-01'], {
      token: true,
    });
    expect(line(r.result('RS-401-08'))).toMatch(/^RS-401-08 pass/);
    expect(line(r.result('RS-401-10'))).toMatch(/^RS-401-10 pass/);
    expect(line(r.result('RS-401-18'))).toMatch(/^RS-401-18 pass/);
    // The fake does not check Origin: the control (no Origin) is served and so is the probe.
    expect(line(r.result('RS-TRN-01'))).toMatch(
      /^RS-TRN-01 fail: a request with Origin: https:\/\/evil\.example was served/,
    );
  });
});

describe('the mechanism is enforced: a new check cannot judge a refusal without a control', () => {
  it('judging a refusal outside underControl ends the check as a harness error', async () => {
    const careless = defineCheck({
      id: 'TEST-CONTROL-01',
      title: 'a check that forgets its control',
      level: 'MUST',
      refs: ['test'],
      revisions: ['2026-07-28'],
      needs: [],
      faults: [],
      untestable: 'a test check',
      requirement: 'A garbage token is refused.',
      remediation: 'none',
      control: 'MISSING: this test check forgets its control on purpose.',
      async run(t) {
        judgeAllRefused(t, [await presentToken(t, 'garbage', 'a garbage token')], 'garbage');
      },
    });
    const [r] = await runAgainstEmbedded([careless]);
    expect(`${r!.status}: ${r!.message}`).toMatch(
      /^error: harness error: a garbage token: a refusal judged without a control/,
    );
  });
});

describe('invalid tokens on a public method (issue #13 item 4)', () => {
  it('a garbage or tampered token served on the public initialize fails RS-401-08 and RS-401-10, though the fallback method refuses them', async () => {
    // As ttoss's router: initialize is public and its Authorization header is not read.
    const r = await run(
      { era: 'legacy', publicMethodsIgnoringTokens: ['initialize'] },
      ['--spec', '2025-11-25', '--only', 'RS-401-08,RS-401-10'],
      {
        token: true,
      },
    );
    expect(line(r.result('RS-401-08'))).toMatch(
      /^RS-401-08 fail: Bearer abc, on initialize: accepted \(HTTP 200\); it must be refused with 401/,
    );
    expect(line(r.result('RS-401-10'))).toMatch(
      /^RS-401-10 fail: the real token with one payload character changed, on initialize: accepted \(HTTP 200\)/,
    );
    // The fallback method (ping) refused them: that part conforms, and the note says where the probes ran.
    expect(r.result('RS-401-08').notes.join(' ')).toMatch(
      /initialize is answered without a token here .* the probes use ping/,
    );
  });
});

describe('invalid tokens on a public method when the token is refused elsewhere (ttoss requiredScopes)', () => {
  it('the probes on the public initialize still judge (their own control holds); the others are dropped with a note', async () => {
    const r = await run(
      { era: 'legacy', publicMethodsIgnoringTokens: ['initialize'], forbidValidTokens: true },
      ['--spec', '2025-11-25', '--only', 'RS-401-08,RS-401-22'],
      { token: true },
    );
    expect(line(r.result('RS-401-08'))).toMatch(/^RS-401-08 fail: Bearer abc, on initialize: accepted/);
    expect(r.result('RS-401-08').notes.join(' ')).toMatch(
      /the probes on the request that needs a token not judged: control failed: .*answered HTTP 403/,
    );
    // RS-401-22 has no public-request group: its control fails, nothing is concluded.
    expect(line(r.result('RS-401-22'))).toMatch(/^RS-401-22 skip: control failed: /);
  });
});

describe('RS-401-08: an invalid-token 401 without error="invalid_token" warns (OAuth 2.1 §5.3.1 / RFC 6750 §3.1 SHOULD)', () => {
  it('warns, naming the probes and the sentence; with the error code it passes', async () => {
    const bare = await run({ invalidTokenError: false }, ['--spec', '2026-07-28', '--only', 'RS-401-08'], {
      token: true,
    });
    expect(line(bare.result('RS-401-08'))).toMatch(
      /^RS-401-08 warn: 401 without error="invalid_token" in the Bearer challenge for: Bearer abc .*SHOULD include the error attribute/,
    );
  });
});

describe('RS-401-18: a 401 that challenges only with another scheme (DPoP) warns; one without any challenge fails', () => {
  it('warns, naming the scheme: RFC 6750 §3 "MUST use Bearer" covers only its own challenges', async () => {
    const dpop = await run(
      { dpopChallengeForNonBearer: true },
      ['--spec', '2026-07-28', '--only', 'RS-401-18'],
      {
        token: true,
      },
    );
    expect(line(dpop.result('RS-401-18'))).toMatch(
      /^RS-401-18 warn: Basic credentials: 401 with a dpop challenge but no Bearer challenge/,
    );
    const bearer = await run({}, ['--spec', '2026-07-28', '--only', 'RS-401-18'], { token: true });
    expect(line(bearer.result('RS-401-18'))).toMatch(/^RS-401-18 pass/);
  });
});

describe('--spec auto: the revision the target speaks', () => {
  it('a 2025-11-25-only target (SDK 1.32.2-like: 400 to a 2026-07-28 request) is checked in 2025-11-25, and the report says how', async () => {
    const r = await run({ era: 'legacy' }, ['--only', 'RS-401-08,RS-TRN-03,RS-TRN-05'], { token: true });
    expect(r.report.revision).toBe('2025-11-25');
    expect(r.report.revisionDetection).toMatchObject({
      requested: 'auto',
      how: 'negotiated',
      withToken: true,
      advertised: ['2025-11-25'],
    });
    expect(r.report.revisionDetection!.detail).toMatch(
      /anonymous negotiation was refused with 401; server\/discover was answered HTTP 400 .*initialize 2025-11-25 was answered protocolVersion "2025-11-25"/,
    );
    // Rules of 2026-07-28 do not judge it; the 2025 transport rule does.
    expect(r.report.results.map((x) => x.id).sort()).toEqual(['RS-401-08', 'RS-TRN-05']);
    expect(r.out).toMatch(/spec revision 2025-11-25\n {2}\(anonymous negotiation was refused with 401; /);
    expect(r.summary).toMatch(
      /- Spec revision: 2025-11-25\n {2}- Detected: anonymous negotiation was refused/,
    );
    // The negotiation exchanges are evidence in the report.
    const ids = new Set(r.report.exchanges.map((e) => e.id));
    for (const id of r.report.revisionDetection!.exchanges) expect(ids.has(id)).toBe(true);
  });

  it('a 2026-07-28 target is detected through server/discover', async () => {
    const r = await run({}, ['--only', 'RS-401-08'], { token: true });
    expect(r.report.revision).toBe('2026-07-28');
    expect(r.report.revisionDetection!.detail).toMatch(
      /server\/discover lists supportedVersions \["2026-07-28"\]/,
    );
  });

  it('an anonymous server/discover answer is enough (no token needed)', async () => {
    const r = await run({ publicRequests: true }, ['--only', 'RS-401-08']);
    expect(r.report.revisionDetection).toMatchObject({ how: 'negotiated' });
    expect(r.report.revisionDetection!.withToken).toBeUndefined();
    expect(r.report.revision).toBe('2026-07-28');
  });

  it('--spec REV still forces one', async () => {
    const r = await run({ era: 'legacy' }, ['--spec', '2026-07-28', '--only', 'RS-401-08'], { token: true });
    expect(r.report.revision).toBe('2026-07-28');
    expect(r.report.revisionDetection).toMatchObject({
      requested: '2026-07-28',
      how: 'forced',
      exchanges: [],
    });
  });
});

describe('RS-AUD-01 and RS-AUD-03 without a key: real tokens from the same authorization server', () => {
  const ONLY = ['--spec', '2026-07-28', '--only', 'RS-AUD-01,RS-AUD-03'];

  it('a resource server that does not check audience fails RS-AUD-01 (the token for another resource, introspected) and RS-AUD-03', async () => {
    const r = await run({ checksAudience: false }, ONLY);
    const aud01 = r.result('RS-AUD-01');
    expect(line(aud01)).toMatch(
      /^RS-AUD-01 fail: a token the authorization server issued for http:\/\/127\.0\.0\.1:\d+\/mcp-auth-conformance\/other-resource \(aud \["http:\/\/127\.0\.0\.1:\d+\/mcp-auth-conformance\/other-resource"\] \(introspection\)\) was accepted \(HTTP 200\)/,
    );
    expect(aud01.data.control).toMatchObject({ before: { status: 200 }, after: { status: 200 } });
    expect(line(r.result('RS-AUD-03'))).toMatch(
      /^RS-AUD-03 fail: the server accepts a token issued without resource whose no audience \(introspection\) does not name/,
    );
  });

  it('a resource server that checks audience passes both', async () => {
    const r = await run({}, ONLY);
    expect(line(r.result('RS-AUD-01'))).toMatch(
      /^RS-AUD-01 pass: a token the authorization server issued for .* was refused \(HTTP 401/,
    );
    expect(line(r.result('RS-AUD-03'))).toMatch(
      /^RS-AUD-03 pass: the token issued without resource \(no audience \(introspection\)\) is refused/,
    );
  });

  it('--other-resource is asked first', async () => {
    const r = await run({ checksAudience: false }, [...ONLY, '--other-resource', 'https://api.example/mcp']);
    expect(r.result('RS-AUD-01').data.otherResource).toMatchObject({ resource: 'https://api.example/mcp' });
    expect(line(r.result('RS-AUD-01'))).toMatch(
      /^RS-AUD-01 fail: a token the authorization server issued for https:\/\/api\.example\/mcp/,
    );
  });

  it('an authorization server that refuses every other resource (invalid_target): RS-AUD-01 skips, says so and names the options', async () => {
    const r = await run({ checksAudience: false, asAcceptsOtherResources: false }, ONLY);
    const aud01 = r.result('RS-AUD-01');
    expect(line(aud01)).toMatch(
      /^RS-AUD-01 skip: the authorization server refused a token for every other resource tried: .*invalid_target/,
    );
    expect(aud01.howToProvide).toMatch(/--foreign-token-env NAME.*--other-resource URL.*--mint-key FILE/);
  });

  it('an authorization server that ignores resource (the token names this server): RS-AUD-01 skips, RS-AUD-03 passes', async () => {
    const r = await run({ checksAudience: false, asIgnoresResource: true }, ONLY);
    expect(line(r.result('RS-AUD-01'))).toMatch(/^RS-AUD-01 skip: the authorization server ignores resource/);
    expect(line(r.result('RS-AUD-03'))).toMatch(
      /^RS-AUD-03 pass: the accepted token's audience names this server/,
    );
  });

  it("--foreign-token-env: the operator's token of another service, accepted → fail, refused → pass", async () => {
    const accepted = await run({ checksAudience: false }, ['--spec', '2026-07-28', '--only', 'RS-AUD-01'], {
      foreignFor: 'https://other-service.example/api',
    });
    expect(line(accepted.result('RS-AUD-01'))).toMatch(
      /^RS-AUD-01 fail: the token of another service given with --foreign-token-env \(aud \["https:\/\/other-service\.example\/api"\] \(introspection\)\) was accepted/,
    );
    await target?.close();
    const refused = await run({}, ['--spec', '2026-07-28', '--only', 'RS-AUD-01'], {
      foreignFor: 'https://other-service.example/api',
    });
    expect(line(refused.result('RS-AUD-01'))).toMatch(
      /^RS-AUD-01 pass: the token of another service .* was refused/,
    );
    // The foreign token is a secret like any other: never in the report in clear.
    expect(JSON.stringify(refused.report)).not.toContain(refused.env.RS_CONTROLS_FOREIGN!);
  });
});
