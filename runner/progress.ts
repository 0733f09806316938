// Progress while a run goes: a header saying what is checked against which revision, one line
// per finished check, and a summary with counts per status and per level.
//
// On a TTY the line of running checks is redrawn in place; otherwise (CI logs, pipes) only plain
// finished-check lines are printed. Colour only on a TTY and never when NO_COLOR is set
// (https://no-color.org: any non-empty value). Every line passes through the redactor.

import type { Check, Level, Status } from './check.ts';
import type { CheckResult } from './engine.ts';
import { summarize } from './engine.ts';
import type { Redactor } from './redact.ts';
import { groupCouldNotRun } from '../reports/could-not-run.ts';

export interface ProgressOptions {
  write: (text: string) => void;
  tty: boolean;
  env: NodeJS.ProcessEnv;
  redactor: Redactor;
}

const COLORS: Record<Status, number> = { pass: 32, fail: 31, warn: 33, skip: 90, error: 35, info: 36 };
const ERASE_LINE = '\r\x1b[2K';

export class Progress {
  private readonly color: boolean;
  private readonly running = new Map<string, Check>();
  private done = 0;
  private total = 0;
  private statusLineShown = false;

  constructor(private readonly opts: ProgressOptions) {
    this.color = opts.tty && !opts.env.NO_COLOR;
  }

  header(info: {
    version: string;
    target: string;
    embedded: boolean;
    faults: readonly string[];
    revision: string;
    total: number;
    strict: boolean;
  }): void {
    this.total = info.total;
    const where = info.embedded ? `embedded reference server at ${info.target}` : info.target;
    this.line(`mcp-auth-conformance ${info.version}: ${info.total} check(s) against ${where}`);
    this.line(`spec revision ${info.revision}${info.strict ? ', strict (a violated SHOULD fails)' : ''}`);
    if (info.faults.length > 0) this.line(`faults switched on: ${info.faults.join(', ')}`);
    this.line('');
  }

  start(check: Check): void {
    this.running.set(check.id, check);
    this.redrawStatus();
  }

  result(result: CheckResult): void {
    this.running.delete(result.id);
    this.done++;
    const status = this.paint(result.status, result.status.toUpperCase().padEnd(5));
    const message = this.opts.redactor.text(result.message.replace(/\s+/g, ' '));
    this.line(
      `${status} ${result.id.padEnd(12)} ${result.level.padEnd(6)} ${result.title}${result.status === 'pass' ? '' : `\n      ${message}`}`,
    );
  }

  summary(
    results: readonly CheckResult[],
    extra: {
      durationMs: number;
      authorizationFlows: number;
      /** With --login manual: authorizations that needed the person (reports/json.ts HUMAN_ACTIONS). */
      humanActions?: number;
      files: string[];
      exitCode: number;
    },
  ): void {
    const { byStatus, byLevel } = summarize(results);
    this.line('');
    const counts = (Object.keys(byStatus) as Status[])
      .map((s) => `${this.paint(s, `${byStatus[s]} ${s}`)}`)
      .join(', ');
    this.line(`${results.length} check(s): ${counts}`);
    for (const level of Object.keys(byLevel) as Level[]) {
      const row = byLevel[level];
      const total = Object.values(row).reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      const parts = (Object.keys(row) as Status[]).filter((s) => row[s] > 0).map((s) => `${row[s]} ${s}`);
      this.line(`  ${level.padEnd(6)} ${parts.join(', ')}`);
    }
    const couldNotRun = groupCouldNotRun(results);
    if (couldNotRun.length > 0) {
      this.line(
        `could not run ${couldNotRun.reduce((n, g) => n + g.checks.length, 0)} check(s); to run them:`,
      );
      for (const group of couldNotRun)
        this.line(`  - ${this.opts.redactor.text(group.howToProvide)} (${group.checks.join(', ')})`);
    }
    this.line(
      `${extra.authorizationFlows} authorization flow(s)${
        extra.humanActions !== undefined ? `, ${extra.humanActions} of them needed you in the browser` : ''
      }, ${(extra.durationMs / 1000).toFixed(1)} s`,
    );
    for (const file of extra.files) this.line(`wrote ${file}`);
    this.line(`exit code ${extra.exitCode}: ${EXIT_MEANING[extra.exitCode] ?? ''}`);
  }

  /** A line outside the check list (a login URL to open, a warning). */
  line(text: string): void {
    this.clearStatus();
    this.opts.write(`${text}\n`);
    this.redrawStatus();
  }

  private paint(status: Status, text: string): string {
    return this.color ? `\x1b[${COLORS[status]}m${text}\x1b[0m` : text;
  }

  private clearStatus(): void {
    if (this.statusLineShown) {
      this.opts.write(ERASE_LINE);
      this.statusLineShown = false;
    }
  }

  private redrawStatus(): void {
    if (!this.opts.tty || this.running.size === 0) return;
    this.clearStatus();
    const ids = [...this.running.keys()].join(', ');
    const text = `  running (${this.done}/${this.total} done): ${ids}`;
    const width = 120;
    this.opts.write(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    this.statusLineShown = true;
  }
}

export const EXIT_MEANING: Record<number, string> = {
  0: 'conformant (no check failed)',
  1: 'at least one check failed',
  2: 'bad usage or configuration',
  3: 'the run could not happen or complete (target unreachable, harness error)',
};
