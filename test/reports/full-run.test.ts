// A full embedded run writes every format; each parses and agrees with report.json (same checks,
// same statuses); baselines decide the exit code as documented; and no secret the run handled
// appears in any file it wrote or any line it printed.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema, type Report } from '../../reports/json.ts';
import { type CliIo, main } from '../../cli/main.ts';
import type { Exchange } from '../../runner/http.ts';
import { Redactor, type SecretKind } from '../../runner/redact.ts';
import { sarifProblems } from '../helpers/sarif.ts';

/** A redactor that also remembers every secret it was given, so the test knows what must not leak. */
class RecordingRedactor extends Redactor {
  readonly seen: { secret: string; kind: SecretKind }[] = [];
  override register(secret: string | undefined | null, kind: SecretKind = 'token'): void {
    if (typeof secret === 'string' && secret.length > 0) this.seen.push({ secret, kind });
    super.register(secret, kind);
  }
}

/** Redaction switched off: proves the leak scan below detects what a broken redactor lets out. */
class LeakyRedactor extends RecordingRedactor {
  override text(input: string): string {
    return input;
  }
  override header(_name: string, value: string): string {
    return value;
  }
  override exchange(exchange: Exchange): Exchange {
    return exchange;
  }
  override value(input: unknown): unknown {
    return input;
  }
}

/** Every place a secret the run handled (or anything token-shaped) appears in clear. */
function leaks(
  outputs: readonly { name: string; text: string }[],
  seen: RecordingRedactor['seen'],
): string[] {
  const found: string[] = [];
  for (const { name, text } of outputs) {
    for (const { secret, kind } of seen) {
      if (secret.length < 8) continue;
      if (text.includes(secret)) found.push(`${kind} ${secret.slice(0, 4)}… in ${name}`);
      else if (text.includes(encodeURIComponent(secret))) found.push(`${kind} (URL-encoded) in ${name}`);
    }
    // Whatever was not registered: nothing JWT-shaped, no bearer credential, no token field in clear.
    if (/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/.test(text))
      found.push(`a JWT in ${name}`);
    if (/[Bb]earer [A-Za-z0-9._~+/-]{20,}/.test(text)) found.push(`a bearer credential in ${name}`);
    if (
      /"(access_token|refresh_token|client_secret|code_verifier)"\s*:\s*"(?!\[redacted)[^"]{8,}"/.test(text)
    ) {
      found.push(`a token field in ${name}`);
    }
  }
  return found;
}

function outputsOf(dir: string, consoleText: string) {
  return [
    ...readdirSync(dir).map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') })),
    { name: 'console', text: consoleText },
  ];
}

const root = mkdtempSync(join(tmpdir(), 'full-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[], redactor = new RecordingRedactor()) {
  const out: string[] = [];
  const io: CliIo = {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    isTTY: false,
    env: {},
    cwd: root,
    redactor,
  };
  const exitCode = await main(['run', ...argv], io);
  return { exitCode, console: out.join(''), redactor };
}

describe('a full embedded run', () => {
  let result: Awaited<ReturnType<typeof run>>;
  let report: Report;
  const dir = join(root, 'full');

  beforeAll(async () => {
    result = await run(['--out', dir]);
    report = ReportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  }, 120_000);

  it('is conformant and writes every format', () => {
    expect(result.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'exchanges.har',
      'junit.xml',
      'report.html',
      'report.json',
      'report.sarif',
      'summary.md',
    ]);
    expect(report.summary.byStatus.fail).toBe(0);
    expect(report.results.length).toBeGreaterThan(10);
  });

  it('every format shows the verdict of the exit code: conformant, not certifiable (sign-in checks skip here)', () => {
    expect(report.verdict.exitCode).toBe(result.exitCode);
    expect(report.verdict.certifiable).toBe(false);
    expect(report.verdict.mustNotRun.length).toBeGreaterThan(0);
    const headline = report.verdict.headline;
    expect(headline).toMatch(/^Conformant, not certifiable: \d+ MUST checks? did not run$/);
    expect(result.console).toContain(`verdict: ${headline}`);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain(headline);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(`data-testid="verdict">${headline}</p>`);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain(
      `<property name="verdict" value="${headline}"/>`,
    );
    expect(JSON.parse(readFileSync(join(dir, 'report.sarif'), 'utf8')).runs[0].properties.verdict).toBe(
      headline,
    );
  });

  it('junit.xml has the same checks with the same statuses', () => {
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    const cases = [...xml.matchAll(/<testcase [^>]*name="([A-Z0-9-]+) [^"]*"[^>]*>([\s\S]*?)<\/testcase>/g)];
    const statuses = new Map(
      cases.map((m) => [m[1], /<property name="status" value="([a-z]+)"\/>/.exec(m[2] ?? '')?.[1]]),
    );
    expect(statuses).toEqual(new Map(report.results.map((r) => [r.id, r.status])));
  });

  it('report.sarif has a rule per check and a result per fail and warn', () => {
    const sarif = JSON.parse(readFileSync(join(dir, 'report.sarif'), 'utf8'));
    const run0 = sarif.runs[0];
    expect(run0.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(report.results.map((r) => r.id));
    const findings = report.results
      .filter((r) => r.status === 'fail' || r.status === 'warn')
      .map((r) => r.id);
    expect(run0.results.map((r: { ruleId: string }) => r.ruleId)).toEqual(findings);
    expect(sarifProblems(sarif)).toEqual([]);
  });

  it('exchanges.har has every exchange of report.json', () => {
    const har = JSON.parse(readFileSync(join(dir, 'exchanges.har'), 'utf8'));
    expect(har.log.entries.map((e: { _id: string }) => e._id)).toEqual(report.exchanges.map((e) => e.id));
  });

  it('report.html shows every check with its status, and summary.md the same counts', () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const articles = [...html.matchAll(/<article class="check [^"]*" id="([^"]+)" data-status="([a-z]+)"/g)];
    expect(new Map(articles.map((m) => [m[1], m[2]]))).toEqual(
      new Map(report.results.map((r) => [r.id, r.status])),
    );
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    const s = report.summary.byStatus;
    expect(md).toContain(
      `| ${s.pass} | ${s.fail} | ${s.warn} | ${s.skip} | ${s.error} | ${s.info} | ${report.summary.total} |`,
    );
  });

  it('leaks no secret the run handled into any file or the console', () => {
    const seen = result.redactor.seen;
    const kinds = new Set(seen.map((s) => s.kind));
    // The run must really have handled secrets, or this test proves nothing.
    expect(report.authorizationFlows).toBeGreaterThan(0);
    expect(kinds.has('access_token')).toBe(true);
    expect(kinds.has('refresh_token')).toBe(true);
    expect(leaks(outputsOf(dir, result.console), seen)).toEqual([]);
  });

  it('the leak scan finds the secrets when redaction is switched off (the proof can fail)', async () => {
    const leakyDir = join(root, 'leaky');
    const leaky = await run(['--out', leakyDir, '--only', 'RS-401-17,AS-TOKEN-01'], new LeakyRedactor());
    expect(leaky.redactor.seen.length).toBeGreaterThan(0);
    expect(leaks(outputsOf(leakyDir, leaky.console), leaky.redactor.seen).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('baselines and --fail-on through the CLI', () => {
  // RS-PUB-02 is a MUST that rs-auth-disabled fails (RS-401-01 only warns since its sentences conflict).
  const fault = ['--fault', 'rs-auth-disabled', '--only', 'RS-PUB-02', '--format', 'json'];

  it('an unexpected failure fails the run; listing it makes the run pass; a stale entry fails it again', async () => {
    const plain = await run([...fault, '--out', join(root, 'b1')]);
    expect(plain.exitCode).toBe(1);

    const baseline = join(root, 'baseline.yaml');
    writeFileSync(
      baseline,
      'expected-failures:\n  - id: RS-PUB-02\n    reason: auth switched off on purpose\n',
    );
    const listed = await run([...fault, '--baseline', baseline, '--out', join(root, 'b2')]);
    expect(listed.exitCode).toBe(0);
    const listedReport = JSON.parse(readFileSync(join(root, 'b2', 'report.json'), 'utf8')) as Report;
    expect(listedReport.baseline?.expected).toEqual(['RS-PUB-02']);

    const stale = await run(['--only', 'RS-PUB-02', '--baseline', baseline, '--out', join(root, 'b3')]);
    expect(stale.exitCode).toBe(1);
    expect(stale.console).toMatch(
      /RS-PUB-02: the baseline expects fail but it is now pass; remove the stale entry/,
    );
  }, 60_000);

  it('--fail-on never keeps the exit code 0; a bad baseline file is a usage error', async () => {
    expect((await run([...fault, '--fail-on', 'never', '--out', join(root, 'b4')])).exitCode).toBe(0);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"expected-failures":[{"id":"RS-PUB-02"}]}');
    const r = await run([...fault, '--baseline', bad, '--out', join(root, 'b5')]);
    expect(r.exitCode).toBe(2);
    expect(r.console).toMatch(/reason/);
  }, 60_000);
});
