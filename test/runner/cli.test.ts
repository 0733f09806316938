// The CLI end to end: option parsing and config validation (exit 2), exit codes 0/1/3, list,
// reports, redaction of real secrets in report.json, and runs against the embedded reference
// server, a faulty one, and a separately started one (--target … --login auto).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceServer } from '../../reference-server/server.ts';
import { ReportSchema } from '../../reports/json.ts';
import { type Check, defineCheck } from '../../runner/check.ts';
import { type CliIo, main } from '../../cli/main.ts';
import { configJsonSchema, loadRunConfig, readSecrets } from '../../cli/config.ts';
import { mcpCall } from '../../runner/mcp.ts';
import { renderSchema, SCHEMA_FILES } from '../../cli/write-schemas.ts';
import { cleanProblem } from '../../scripts/matrix-plan.ts';
import { CHECKS } from '../../suites/index.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-auth-conformance-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], extra: Partial<CliIo> = {}): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTTY: false,
    env: {},
    cwd: dir,
    ...extra,
  });
  return { code, out, err };
}

function readReport(out: string) {
  return ReportSchema.parse(JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8')));
}

describe('usage and configuration errors exit 2 with a sentence that says what to do', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /no command given/],
    ['an unknown command', ['launch'], /unknown command "launch"/],
    ['an unknown flag', ['run', '--bogus'], /unknown option --bogus for run.*run --help/s],
    [
      'a mistyped flag',
      ['run', '--timout', '3'],
      /unknown option --timout for run \(did you mean --timeout\?\)/,
    ],
    ['a flag without its value', ['run', '--target'], /--target needs a value \(URL\)/],
    ['a value given to a switch', ['run', '--strict=yes'], /--strict takes no value/],
    ['a positional argument', ['run', 'http://x/mcp'], /unexpected argument "http:\/\/x\/mcp"/],
    [
      'a timeout that is not a number',
      ['run', '--timeout', 'soon'],
      /--timeout: must be a number of seconds/,
    ],
    [
      'a revision that does not exist',
      ['run', '--spec', '2024-11-05'],
      /--spec: must be one of auto, 2025-06-18, 2025-11-25, 2026-07-28/,
    ],
    [
      'a format that does not exist',
      ['run', '--format', 'pdf'],
      /--format \(item 0\): must be one of json, md, junit, html, sarif, har/,
    ],
    [
      'a --fail-on that does not exist',
      ['run', '--fail-on', 'sometimes'],
      /--fail-on: must be one of must, should, never/,
    ],
    [
      'a baseline that cannot be read',
      ['run', '--baseline', 'no-such-baseline.json'],
      /cannot read baseline/,
    ],
    [
      '--fault with --target',
      ['run', '--target', 'http://127.0.0.1:9/mcp', '--fault', 'rs-prm-missing'],
      /cannot be combined with --target/,
    ],
    ['an unknown fault', ['run', '--fault', 'rs-no-such-fault'], /--fault: unknown fault rs-no-such-fault/],
    [
      'a method that can never be public, under its old flag name',
      ['run', '--expect-public', 'tools/call'],
      /--expect-public \(item 0\): .*tools\/call can never be public/,
    ],
    [
      'an --out that cannot be created, before any request',
      ['run', '--out', '/proc/nope'],
      /--out \/proc\/nope: the report directory cannot be created or written/,
    ],
    [
      'a secret on the command line',
      ['run', '--token', 'abc'],
      /secrets never go on the command line.*--token-env/,
    ],
    [
      'a secret-env naming an unset variable',
      ['run', '--token-env', 'NOT_SET_ANYWHERE'],
      /NOT_SET_ANYWHERE is not set or empty/,
    ],
    [
      "the second user's token-env naming an unset variable",
      ['run', '--token-b-env', 'NOT_SET_ANYWHERE_B'],
      /--token-b-env NOT_SET_ANYWHERE_B: the environment variable NOT_SET_ANYWHERE_B is not set or empty/,
    ],
    ['--client-secret-env without --client-id', ['run', '--client-secret-env', 'X'], /needs --client-id/],
    [
      '--mint-key without --mint-issuer',
      ['run', '--target', 'http://127.0.0.1:9/mcp', '--mint-key', 'k.json'],
      /needs --mint-issuer/,
    ],
    ['a prefix that matches no check', ['run', '--only', 'RS-P'], /no check ID starts with "RS-P"/],
    ['--login form without a script', ['run', '--login', 'form'], /needs --login-script/],
    ['a bad list flag', ['list', '--spec', '1999-01-01'], /--spec: must be one of/],
    ['a bad serve flag', ['serve', '--port', '70000'], /--port: must be at most 65535/],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('refuses unknown keys and secrets in the config file, and names the file', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ timeOut: 3 }));
    let r = await cli(['run', '--config', 'bad.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option "timeOut" in bad\.json/);
    writeFileSync(join(dir, 'secret.json'), JSON.stringify({ clientSecret: 'abc' }));
    r = await cli(['run', '--config', 'secret.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"clientSecret": secrets never go in a config file/);
    expect(r.err).not.toContain('abc');
    writeFileSync(join(dir, 'broken.json'), '{ nope');
    r = await cli(['run', '--config', 'broken.json']);
    expect(r.err).toMatch(/is not valid JSON/);
    r = await cli(['run', '--config', 'missing.json']);
    expect(r.err).toMatch(/cannot read the config file .*missing\.json: ENOENT/);
  });

  it('reads mcp-auth-conformance.config.json from the working directory; flags override it', async () => {
    const sub = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(
      join(sub, 'mcp-auth-conformance.config.json'),
      JSON.stringify({
        $schema: '../schemas/config.schema.json',
        spec: '2025-06-18',
        only: ['RS-401'],
        format: ['json'],
      }),
    );
    const r = await cli(['run', '--spec', '2025-11-25', '--out', 'cfg-out'], { cwd: sub });
    expect(r.code).toBe(0);
    const report = ReportSchema.parse(JSON.parse(readFileSync(join(sub, 'cfg-out', 'report.json'), 'utf8')));
    expect(report.revision).toBe('2025-11-25');
    expect(report.options.only).toEqual(['RS-401']);
    expect(report.results.every((x) => x.id.startsWith('RS-401-'))).toBe(true);
  });

  it('validates the config file values with the same schema as flags', async () => {
    writeFileSync(join(dir, 'values.json'), JSON.stringify({ timeout: -1, login: 'magic' }));
    const r = await cli(['run', '--config', 'values.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"login" in values\.json: must be one of auto, form, browser, manual/);
    expect(r.err).toMatch(/"timeout" in values\.json: must be more than 0/);
  });
});

describe('help, version and list', () => {
  it('prints help and version with exit 0', async () => {
    expect((await cli(['--help'])).out).toMatch(/Commands:\n\s+run/);
    expect((await cli(['run', '--help'])).out).toMatch(/--token-env NAME/);
    expect((await cli(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('lists every check with its metadata as JSON, filtered by revision', async () => {
    const r = await cli(['list', '--json']);
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.out) as Record<string, unknown>[];
    expect(listing.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    for (const c of listing) {
      expect(Object.keys(c)).toEqual(
        expect.arrayContaining(['id', 'title', 'level', 'refs', 'revisions', 'needs', 'faults']),
      );
    }
    const old = JSON.parse((await cli(['list', '--json', '--spec', '2025-06-18'])).out) as { id: string }[];
    expect(old.map((c) => c.id)).not.toContain('AS-META-06');
    expect((await cli(['list'])).out).toMatch(/^RS-PRM-01\s+MUST\s+/);
  });

  it('lists the quotes, derived reasons and conflicts of each check, and its level per revision', async () => {
    const listing = JSON.parse((await cli(['list', '--json'])).out) as Record<string, unknown>[];
    const byId = new Map(listing.map((c) => [c.id, c]));
    expect(byId.get('RS-PRM-09')).toMatchObject({
      quotes: [
        {
          source: 'RFC 9728',
          section: '3.2',
          text: 'Parameters with zero values MUST be omitted from the response.',
          keyword: 'MUST',
          binds: 'resource-server',
        },
      ],
      levelByRevision: { '2025-06-18': 'MUST', '2025-11-25': 'MUST', '2026-07-28': 'MUST' },
    });
    expect(byId.get('RS-PUB-01')).toMatchObject({ level: 'SHOULD', derived: expect.any(String) });
    // Every check says which request is its control, or why it needs none.
    expect(byId.get('AS-PKCE-05')!.control).toMatch(/right code_verifier/);
    expect(byId.get('RS-PRM-09')!.control).toMatch(/^None: /);
    expect(listing.filter((c) => typeof c.control !== 'string' || c.control === '')).toEqual([]);
    expect(byId.get('RS-401-01')).toMatchObject({ level: 'SHOULD', conflict: expect.any(String) });
    // A rule of one MCP revision sets that revision's level only.
    expect(byId.get('RS-401-03')).toMatchObject({
      levelByRevision: { '2025-06-18': 'MUST', '2025-11-25': 'MUST', '2026-07-28': 'MUST' },
    });
  });
});

describe('serve', () => {
  it("is the reference server's own command: --list-faults names the checks each fault proves", async () => {
    const r = await cli(['serve', '--list-faults']);
    expect(r.code).toBe(0);
    const faults = JSON.parse(r.out) as { name: string; checks: string[] }[];
    expect(faults.find((f) => f.name === 'rs-auth-disabled')?.checks).toContain('RS-401-01');
    expect(faults.find((f) => f.name === 'as-metadata-missing')?.checks).toContain('AS-META-01');
    expect((await cli(['serve', '--port', 'x'])).code).toBe(2);
  });
});

describe('runs', () => {
  it('the embedded reference server is green: exit 0, report.json and summary.md written', async () => {
    const r = await cli(['run', '--out', 'green']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = readReport('green');
    expect(report.embedded).toBe(true);
    expect(report.revision).toBe('2026-07-28');
    const applicable = CHECKS.filter((c) => c.revisions.includes('2026-07-28'));
    expect(report.results.map((x) => x.id)).toEqual(applicable.map((c) => c.id));
    // Green: every result is acceptable on the clean reference server (the fault matrix's rule:
    // pass, info, or a not-applicable skip).
    const problems = applicable.flatMap((c) => {
      const problem = cleanProblem(
        c,
        report.results.find((x) => x.id === c.id),
      );
      return problem ? [`${c.id}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
    expect(report.exchanges.length).toBeGreaterThan(0);
    const linked = new Set(report.results.flatMap((x) => x.exchanges));
    for (const id of linked) expect(report.exchanges.some((e) => e.id === id)).toBe(true);
    const s = report.summary.byStatus;
    expect((s.fail ?? 0) + (s.warn ?? 0) + (s.error ?? 0)).toBe(0);
    expect(readFileSync(join(dir, 'green', 'summary.md'), 'utf8')).toContain(
      `| ${s.pass} | 0 | 0 | ${s.skip} | 0 | ${s.info} | ${applicable.length} |`,
    );
    expect(r.out).toMatch(/spec revision 2026-07-28/);
    expect(r.out).toMatch(/exit code 0/);
  });

  it.each(['2025-06-18', '2025-11-25'])('the embedded run is green for %s too', async (spec) => {
    const r = await cli(['run', '--spec', spec, '--out', `green-${spec}`, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(readReport(`green-${spec}`).revision).toBe(spec);
  });

  it('a fault turns its check red: exit 1, the others stay green', async () => {
    // RS-PUB-02 is a MUST (RS-401-01, whose sentences conflict, only warns: issue #13).
    const r = await cli(['run', '--fault', 'rs-auth-disabled', '--only', 'RS-401,RS-PUB-02', '--out', 'red']);
    expect(r.code).toBe(1);
    const report = readReport('red');
    expect(report.faults).toEqual(['rs-auth-disabled']);
    expect(report.results.find((x) => x.id === 'RS-PUB-02')).toMatchObject({ status: 'fail' });
    expect(report.results.find((x) => x.id === 'RS-401-01')).toMatchObject({ status: 'warn' });
    expect(r.out).toMatch(/FAIL\s+RS-PUB-02/);
  });

  it('a violated SHOULD warns (exit 0), and fails under --strict (exit 1)', async () => {
    const lax = await cli(['run', '--fault', 'rs-anonymous-error', '--only', 'RS-401-05', '--out', 'should']);
    expect(lax.code).toBe(0);
    expect(readReport('should').results[0]).toMatchObject({ id: 'RS-401-05', status: 'warn' });
    const strict = await cli([
      'run',
      '--strict',
      '--fault',
      'rs-anonymous-error',
      '--only',
      'RS-401-05',
      '--out',
      'should',
    ]);
    expect(strict.code).toBe(1);
    expect(readReport('should').results[0]).toMatchObject({ id: 'RS-401-05', status: 'fail' });
  });

  // Every (fault, check) pair is run by the fault matrix (test/matrix/fault-matrix.test.ts).

  it('an unreachable target exits 3, says so, and still writes report.json', async () => {
    const port = await closedPort();
    const r = await cli([
      'run',
      '--target',
      `http://127.0.0.1:${port}/mcp`,
      '--out',
      'unreachable',
      '--timeout',
      '2',
    ]);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/cannot be reached.*Check the URL/);
    const report = readReport('unreachable');
    expect(report.exitCode).toBe(3);
    expect(report.runError).toMatch(/cannot be reached/);
  });

  it('a separately started reference server: --target --login auto completes a flow, and no secret reaches the report', async () => {
    const server = await startReferenceServer({ autoApprove: true });
    const seen: string[] = [];
    const tokenCheck: Check = defineCheck({
      id: 'T-TOKEN-01',
      title: 'a token from a completed flow opens the MCP endpoint',
      level: 'MUST',
      refs: ['test'],
      revisions: ['2026-07-28'],
      needs: ['token', 'client'],
      faults: [],
      requirement: 'test',
      remediation: 'test',
      control: 'None: a test check.',
      async run(t) {
        const token = await t.fixture('token');
        seen.push(token.accessToken, ...(token.refreshToken ? [token.refreshToken] : []));
        const reply = await mcpCall(t.http, t.target, t.revision, {
          method: 'tools/list',
          params: {},
          token: token.accessToken,
        });
        t.data('echo', { access_token: token.accessToken, note: `token ${token.accessToken}` });
        if (reply.response.status === 200) t.conforms(`tools/list with ${token.accessToken} answered 200`);
        else t.violated(`tools/list with the token answered ${reply.response.status}`);
      },
    });
    try {
      // A focused selection: against a server run by hand (auto-approve, no loopback CIMD) other
      // checks rightly find what an auto-approving demo server does wrong (AS-AUTHZ-10).
      const r = await cli(
        [
          'run',
          '--target',
          server.url,
          '--login',
          'auto',
          '--only',
          'T-TOKEN,RS-PRM-01,RS-PRM-05',
          '--out',
          'separate',
        ],
        { checks: [...CHECKS, tokenCheck] },
      );
      expect(r.code).toBe(0);
      const report = readReport('separate');
      expect(report.embedded).toBe(false);
      expect(report.authorizationFlows).toBe(1);
      expect(report.results.find((x) => x.id === 'T-TOKEN-01')?.status).toBe('pass');
      expect(seen.length).toBeGreaterThan(0);
      const text = readFileSync(join(dir, 'separate', 'report.json'), 'utf8') + r.out;
      for (const secret of seen) expect(text).not.toContain(secret);
      expect(text).toMatch(/Bearer \[redacted /);
      // The authorization code and the PKCE verifier travelled in exchanges too.
      expect(text).not.toMatch(/code=[A-Za-z0-9_-]{10,}/);
      expect(text).not.toMatch(/code_verifier=[A-Za-z0-9_-]{10,}/);
    } finally {
      await server.close();
    }
  });
});

describe('progress output', () => {
  it('updates a running line in place on a TTY, in colour unless NO_COLOR', async () => {
    const tty = await cli(['run', '--only', 'RS-401-02', '--out', 'tty', '--format', 'json'], {
      isTTY: true,
    });
    expect(tty.out).toContain('\r\x1b[2K');
    expect(tty.out).toContain('\x1b[32m');
    const noColor = await cli(['run', '--only', 'RS-401-02', '--out', 'tty', '--format', 'json'], {
      isTTY: true,
      env: { NO_COLOR: '1' },
    });
    expect(noColor.out).not.toContain('\x1b[32m');
    const plain = await cli(['run', '--only', 'RS-401-02', '--out', 'tty', '--format', 'json']);
    expect(plain.out).not.toContain('\x1b');
    expect(plain.out).toMatch(/PASS\s+RS-401-02/);
    expect(plain.out).toMatch(/1 check\(s\): 1 pass/);
    expect(plain.out).toMatch(/MUST\s+1 pass/);
  });
});

describe('schemas', () => {
  it('schemas/config.schema.json is up to date (run "npm run schemas")', () => {
    const committed = readFileSync(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(renderSchema(configJsonSchema));
  });

  it.each(Object.keys(SCHEMA_FILES))('schemas/%s is up to date (run "npm run schemas")', (name) => {
    const committed = readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8');
    expect(committed).toBe(renderSchema(SCHEMA_FILES[name]!));
  });
});

/** A loopback port with nothing listening (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('an interrupted run (Ctrl-C)', () => {
  it('ends the running checks, marks the rest not started, still writes the report, exits 3', async () => {
    const interrupt = new AbortController();
    // AS-AUTHZ-12 waits 2.5 s for a code to age: interrupting 500 ms in catches it mid-wait.
    setTimeout(() => interrupt.abort(), 500).unref();
    const started = Date.now();
    const { code, out } = await cli(['run', '--format', 'json', '--out', 'interrupted'], {
      interrupt: interrupt.signal,
    });
    expect(code).toBe(3);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(out).toMatch(/interrupted: ending the running checks and writing the report/);
    const report = readReport('interrupted');
    expect(report.runError).toMatch(/interrupted \(SIGINT\)/);
    const interrupted = report.results.filter((r) => /interrupted \(SIGINT\)/.test(r.message));
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((r) => r.status === 'error')).toBe(true);
    expect(report.results.find((r) => r.id === 'AS-AUTHZ-12')?.status).toBe('error');
  });
});

describe('secrets from files (mounted CI secrets), never from argv', () => {
  it('reads --token-file, --token-b-file and --client-secret-file, trimmed; refuses env and file together', () => {
    writeFileSync(join(dir, 'token.txt'), 'file-token-value\n');
    writeFileSync(join(dir, 'token-b.txt'), '  second-user-token \n');
    writeFileSync(join(dir, 'secret.txt'), 'client-secret-value');
    const { config } = loadRunConfig(
      [
        '--token-file',
        'token.txt',
        '--token-b-file',
        'token-b.txt',
        '--client-id',
        'c1',
        '--client-secret-file',
        'secret.txt',
      ],
      dir,
    );
    expect(readSecrets(config, {}, dir)).toEqual({
      accessToken: 'file-token-value',
      accessTokenB: 'second-user-token',
      clientSecret: 'client-secret-value',
    });
    expect(() => loadRunConfig(['--token-env', 'T', '--token-file', 'token.txt'], dir)).toThrow(
      /--token-env and --token-file name the same secret twice/,
    );
    expect(() => loadRunConfig(['--client-secret-file', 'secret.txt'], dir)).toThrow(/needs --client-id/);
  });
  it('a missing or empty file is a usage error naming the flag and the file', async () => {
    writeFileSync(join(dir, 'empty.txt'), '\n');
    const { config } = loadRunConfig(['--token-file', 'empty.txt'], dir);
    expect(() => readSecrets(config, {}, dir)).toThrow(/--token-file empty.txt: the file is empty/);
    const missing = await cli(['run', '--token-file', 'no-such-file.txt']);
    expect(missing.code).toBe(2);
    expect(missing.err + missing.out).toMatch(
      /--token-file no-such-file.txt: the file cannot be read \(ENOENT\)/,
    );
  });
  it('a config file may name the files (tokenFile, clientSecretFile), but never hold a secret', () => {
    writeFileSync(
      join(dir, 'with-files.json'),
      JSON.stringify({ tokenFile: 'token.txt', clientId: 'c1', clientSecretFile: 'secret.txt' }),
    );
    expect(loadRunConfig(['--config', 'with-files.json'], dir).config).toMatchObject({
      tokenFile: 'token.txt',
      clientSecretFile: 'secret.txt',
    });
    writeFileSync(join(dir, 'with-secret.json'), JSON.stringify({ clientSecret: 'x' }));
    expect(() => loadRunConfig(['--config', 'with-secret.json'], dir)).toThrow(
      /secrets never go in a config file/,
    );
  });
});
