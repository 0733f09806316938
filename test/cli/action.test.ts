// The GitHub Action, run locally: action.yml's inputs and outputs match what its script reads and
// writes, and scripts/action/run.mjs, given a fake GITHUB_* environment, runs the CLI, appends
// summary.md to the job summary, emits annotations, sets the outputs and exits with the run's code.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'action', 'run.mjs');
const dir = mkdtempSync(join(tmpdir(), 'action-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ActionYml {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: {
    using: string;
    steps: { id?: string; uses?: string; run?: string; env?: Record<string, string>; if?: string }[];
  };
}
const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;

describe('action.yml', () => {
  it('is a composite action that sets up Node, runs the script, and can upload SARIF', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.runs.steps[0]?.uses).toMatch(/^actions\/setup-node@/);
    expect(action.runs.steps[1]).toMatchObject({
      id: 'run',
      run: 'node "$GITHUB_ACTION_PATH/scripts/action/run.mjs"',
    });
    expect(action.runs.steps[2]?.uses).toMatch(/^github\/codeql-action\/upload-sarif@/);
    expect(action.runs.steps[2]?.if).toMatch(/inputs\.upload-sarif == 'true'/);
  });

  it('passes every input the script reads, each under the name it reads it by', () => {
    const env = action.runs.steps[1]!.env!;
    const script = readFileSync(SCRIPT, 'utf8');
    const read = new Set([...script.matchAll(/input\('([a-z-]+)'\)/g)].map((m) => m[1]!));
    const flagList = /const FLAG_INPUTS = \[([\s\S]*?)\];/.exec(script)![1]!;
    for (const name of flagList.matchAll(/'([a-z-]+)'/g)) read.add(name[1]!);
    for (const name of read) {
      expect(Object.keys(action.inputs)).toContain(name);
      expect(env[`INPUT_${name.replace(/-/g, '_').toUpperCase()}`]).toBe(`\${{ inputs.${name} }}`);
    }
    // Inputs used by action.yml itself rather than the script.
    const own = ['upload-sarif', 'sarif-category', 'node-version'];
    expect(Object.keys(action.inputs).sort()).toEqual([...read, ...own].sort());
  });

  it('declares every output the script sets', () => {
    const script = readFileSync(SCRIPT, 'utf8');
    const set = new Set([...script.matchAll(/setOutput\('([a-z-]+)'/g)].map((m) => m[1]!));
    for (const status of ['pass', 'fail', 'warn', 'skip', 'error', 'info']) set.add(status);
    expect(Object.keys(action.outputs).sort()).toEqual([...set].sort());
    for (const [name, { value }] of Object.entries(action.outputs)) {
      expect(value).toBe(`\${{ steps.run.outputs.${name} }}`);
    }
  });
});

/** Runs the action's script as the runner would, with a fake GITHUB_* environment. */
async function runAction(
  inputs: Record<string, string>,
  name: string,
  extraEnv: Record<string, string> = {},
) {
  const workspace = mkdtempSync(join(dir, `${name}-`));
  const summary = join(workspace, 'step-summary.md');
  const output = join(workspace, 'github-output');
  writeFileSync(summary, '# earlier step\n');
  writeFileSync(output, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NO_COLOR: '1',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    GITHUB_ACTION_PATH: ROOT,
    // The checkout's own bin (it runs the sources through tsx) instead of npx from the registry.
    MCP_AUTH_CONFORMANCE_COMMAND: JSON.stringify([
      process.execPath,
      join(ROOT, 'bin', 'mcp-auth-conformance.js'),
    ]),
    ...extraEnv,
  };
  for (const [key, value] of Object.entries(inputs))
    env[`INPUT_${key.replace(/-/g, '_').toUpperCase()}`] = value;
  const ran = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], { cwd: workspace, env });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', () => undefined);
    child.on('close', (code) => resolve({ code, stdout }));
  });
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(output, 'utf8').matchAll(/^([a-z-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
    outputs[m[1]!] = m[3]!;
  return { ...ran, outputs, summary: readFileSync(summary, 'utf8'), workspace };
}

describe('scripts/action/run.mjs with a fake GitHub environment', () => {
  it('a failing run: annotations, job summary, outputs, and the step fails with exit 1', async () => {
    const r = await runAction({ only: 'RS-PUB-02,RS-401-05', args: '--fault rs-auth-disabled' }, 'fail');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error title=RS-PUB-02 fail \(MUST\)%3A [^\n]*::[^\n]*%0ASpec: /m);
    expect(r.stdout).toMatch(
      /^::error title=mcp-auth-conformance%3A exit 1::Not conformant: 1 check failed/m,
    );
    expect(r.summary).toMatch(
      /^# earlier step\n# MCP authorization conformance\n\n\*\*❌ Not conformant: 1 check failed\*\*/,
    );
    expect(r.outputs).toMatchObject({
      'exit-code': '1',
      outcome: 'fail',
      verdict: 'Not conformant: 1 check failed',
      certifiable: 'false',
      fail: '1',
      total: '2',
      'report-dir': join(r.workspace, 'conformance-report'),
      'sarif-file': join(r.workspace, 'conformance-report', 'report.sarif'),
    });
  }, 60_000);

  it('a baseline that accepts the failure: a notice, exit 0', async () => {
    const baseline = join(dir, 'known.yaml');
    writeFileSync(baseline, 'expected-failures:\n  - id: RS-PUB-02\n    reason: auth off on purpose\n');
    const r = await runAction(
      { only: 'RS-PUB-02', baseline, args: '--fault rs-auth-disabled --format json,md' },
      'accepted',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^::notice title=RS-PUB-02 fail \(MUST\)%3A [^\n]*::Accepted by the baseline: auth off on purpose/m,
    );
    expect(r.outputs).toMatchObject({ 'exit-code': '0', outcome: 'pass', 'sarif-file': '' });
    expect(r.outputs.verdict).toMatch(
      /^Passes, not certifiable: the baseline accepted 1 failure; \d+ MUST checks did not run$/,
    );
    expect(r.summary).toContain('Accepted by the baseline: auth off on purpose');
  }, 60_000);

  it('bad options: an error annotation with the reason, outputs, exit 2', async () => {
    const r = await runAction({ 'fail-on': 'sometimes' }, 'usage');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^::error title=mcp-auth-conformance could not run::.*--fail-on: must be one of must, should, never/m,
    );
    expect(r.outputs).toMatchObject({ 'exit-code': '2', outcome: 'usage-error', certifiable: 'false' });
  }, 60_000);

  it('escapes what it puts in a workflow command', async () => {
    // A token env name that is not set: the CLI's message carries the name; nothing breaks the line.
    const r = await runAction({ 'token-env': 'NOT_SET_FOR_ACTION' }, 'escape');
    expect(r.code).toBe(2);
    const line = r.stdout
      .split('\n')
      .find((l) => l.startsWith('::error title=mcp-auth-conformance could not run::'));
    expect(line).toContain('NOT_SET_FOR_ACTION');
    expect(line).not.toMatch(/\r/);
  }, 60_000);
});
