#!/usr/bin/env node
// The GitHub Action's step (action.yml): runs mcp-auth-conformance with the action's inputs, then
// hands the run to GitHub: summary.md appended to $GITHUB_STEP_SUMMARY, one annotation per finding
// (::error for what fails the run, ::warning for warnings, ::notice for what the baseline
// accepted), and step outputs (the verdict, the exit code, the counts, the report paths). It exits
// with the CLI's exit code, so the job fails exactly when the run does.
//
// Plain JavaScript on purpose: it runs right after actions/setup-node, before anything is built.
// Tested locally with a fake GITHUB_* environment (test/cli/action.test.ts).
//
// Environment: INPUT_<NAME> per input, dashes as underscores (action.yml passes them), GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
// GITHUB_ACTION_PATH; MCP_AUTH_CONFORMANCE_COMMAND (a JSON array, e.g. ["node", "bin/…"]) replaces
// `npx --yes <package>` (tests, or a checkout that built the package itself).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Inputs that become CLI flags, in this order. */
const FLAG_INPUTS = [
  'target',
  'spec',
  'only',
  'skip',
  'login',
  'login-script',
  'config',
  'fail-on',
  'baseline',
  'token-env',
  'token-b-env',
  'client-id',
  'client-secret-env',
  'sarif-artifact',
  'out',
];

/** An input as action.yml passes it: INPUT_LOGIN_SCRIPT for login-script. */
const input = (name) => (process.env[`INPUT_${name.replace(/[- ]/g, '_').toUpperCase()}`] ?? '').trim();

/** GitHub workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions */
const escapeData = (s) => String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
function annotation(kind, title, message) {
  return `::${kind} title=${escapeProperty(title)}::${escapeData(message)}`;
}

function setOutput(name, value) {
  const file = process.env.GITHUB_OUTPUT;
  if (!file) return;
  const delimiter = `EOF_${randomBytes(8).toString('hex')}`;
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

function command() {
  const override = process.env.MCP_AUTH_CONFORMANCE_COMMAND;
  if (override) return JSON.parse(override);
  let pkg = input('package');
  if (!pkg) {
    const own = join(process.env.GITHUB_ACTION_PATH ?? '.', 'package.json');
    const version = existsSync(own) ? JSON.parse(readFileSync(own, 'utf8')).version : 'latest';
    pkg = `mcp-auth-conformance@${version}`;
  }
  return ['npx', '--yes', pkg];
}

function cliArgs(out) {
  const args = ['run'];
  for (const name of FLAG_INPUTS) {
    const value = name === 'out' ? out : input(name);
    if (value) args.push(`--${name}`, value);
  }
  const extra = input('args');
  if (extra) args.push(...extra.split(/\s+/).filter(Boolean));
  return args;
}

/** Runs the CLI with its output shown live; keeps the end of stderr for the annotation of a usage error. */
function runCli(argv) {
  return new Promise((resolvePromise) => {
    const [cmd, ...rest] = argv;
    const child = spawn(cmd, rest, { stdio: ['ignore', 'inherit', 'pipe'], env: process.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => resolvePromise({ code: 3, stderr: `could not start ${cmd}: ${err.message}` }));
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 3 : 0), stderr }));
  });
}

async function main() {
  const out = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), input('out') || 'conformance-report');
  const argv = [...command(), ...cliArgs(out)];
  console.log(`mcp-auth-conformance: ${argv.join(' ')}`);
  const { code, stderr } = await runCli(argv);

  const reportFile = join(out, 'report.json');
  setOutput('exit-code', String(code));
  setOutput('report-dir', out);
  if (!existsSync(reportFile)) {
    // Exit 2 (bad usage or configuration) writes no report: say why where the run is looked at.
    const why = stderr.trim().split('\n').filter(Boolean).slice(-5).join('\n') || `exit code ${code}`;
    console.log(annotation('error', 'mcp-auth-conformance could not run', why));
    setOutput('verdict', code === 2 ? `Bad usage or configuration: ${why}` : why);
    setOutput('outcome', code === 2 ? 'usage-error' : 'incomplete');
    setOutput('certifiable', 'false');
    return code || 3;
  }

  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const verdict = report.verdict;
  const summary = join(out, 'summary.md');
  if (process.env.GITHUB_STEP_SUMMARY && existsSync(summary)) {
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${readFileSync(summary, 'utf8')}\n`);
  }

  const counted = new Set(verdict.counted.map((c) => c.id));
  const accepted = new Map(verdict.accepted.map((a) => [a.id, a.reason]));
  for (const r of report.results) {
    if (!['fail', 'warn', 'error'].includes(r.status)) continue;
    const title = `${r.id} ${r.status} (${r.level}): ${r.title}`;
    const text = `${r.message}\nSpec: ${r.refs.join('; ')}\nFix: ${r.remediation}`;
    if (accepted.has(r.id))
      console.log(annotation('notice', title, `Accepted by the baseline: ${accepted.get(r.id)}\n${text}`));
    else if (counted.has(r.id) || (r.status === 'error' && verdict.failOn !== 'never')) {
      console.log(annotation('error', title, text));
    } else console.log(annotation('warning', title, text));
  }
  for (const s of verdict.stale) {
    console.log(
      annotation(
        'error',
        `${s.id}: stale baseline entry`,
        `The baseline expects ${s.expected} but it is now ${s.now}; remove the entry ("${s.reason}").`,
      ),
    );
  }
  if (report.runError) console.log(annotation('error', 'The run could not complete', report.runError));
  console.log(
    annotation(
      verdict.exitCode === 0 ? 'notice' : 'error',
      `mcp-auth-conformance: exit ${verdict.exitCode}`,
      [verdict.headline, ...verdict.details].join('\n'),
    ),
  );

  setOutput('verdict', verdict.headline);
  setOutput('outcome', verdict.outcome);
  setOutput('certifiable', String(verdict.certifiable));
  for (const [status, n] of Object.entries(report.summary.byStatus)) setOutput(status, String(n));
  setOutput('total', String(report.summary.total));
  const sarif = join(out, 'report.sarif');
  setOutput('sarif-file', existsSync(sarif) ? sarif : '');
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.log(annotation('error', 'mcp-auth-conformance action failed', err?.stack ?? String(err)));
    process.exit(3);
  },
);
